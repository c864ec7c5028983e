"""Whole training runs agree: N steps of the documents' hand-written updates (nn/reference.py, plain
NumPy) and N steps of nn models trained with nn.SGD (and nn.fit) end with the same weights, to 1e-10.

tests/test_reference.py checks the engine against the references with hand-built Tensor graphs; here
the networks are nn modules (Linear, Sigmoid, Tanh, Sequential), the losses nn's loss modules and the
updates nn.SGD with its weight_decay / l1 / schedule options - the pieces the examples use.

Layout mapping. nn.Linear keeps W as (in, out) and b as (out,). Documents 000 and 003 use the same W
with a (1, out) bias; documents 002 and 004 compute w·x on columns, so their w (out, in) is our W.T and
their (out, 1) bias our b. Biases are mapped to 1-D nn parameters (not kept 2-D) because nn.SGD
regularises only parameters with ndim >= 2 - the documents' weights, never their biases.
"""
import numpy as np
import pytest

import nn
import nn.reference as R
from tinygrad_edu import Tensor, no_grad

TOL = 1e-10

# Training runs start from the documents' weights as drawn and from the same weights with one entry moved
# by one ulp (np.nextafter): rounding differs between CPUs by about that much, so what these tests assert
# must hold from every start (see tests/test_reference.py).
ULP_NUDGES = [None, ("W1", 0, -1), ("W2", 1, +1)]
ULP_IDS = ["as drawn", "W1[0,0] -1 ulp", "W2 entry 1 +1 ulp"]


def nudged(params, nudge):
    """params, or a copy with one entry moved by one ulp (nudge = (name, flat index, ±1))."""
    if nudge is None:
        return params
    name, index, direction = nudge
    return {**params, name: R.one_ulp(params[name], index, direction)}


def rel_error(a, b):
    """max |a − b| relative to the larger magnitude of the two arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    scale = max(np.abs(a).max(initial=0), np.abs(b).max(initial=0), 1e-12)
    return float(np.abs(a - b).max(initial=0) / scale)


def assert_same_weights(hand, model_weights, what):
    for k in hand:
        err = rel_error(hand[k], model_weights[k])
        assert err <= TOL, f"{what}: {k} differs by {err:.3g} (relative) between the hand-written run and nn"


def linear(W, b):
    """nn.Linear holding W (in, out) and b, given in any shape with out entries."""
    layer = nn.Linear(W.shape[0], W.shape[1], init="zeros")
    with no_grad():
        layer.weight.copy_(W)
        layer.bias.copy_(np.reshape(b, -1))
    return layer


# ---------------------------------------------------------------------------------------------------
# 000: the 2-H-2 tanh network, full-batch gradient descent on the summed cross-entropy + λW

@pytest.fixture(scope="module")
def moons():
    return R.moons_data(200, noise=0.2, seed=0)


def moons_model(params):
    return nn.Sequential(linear(params["W1"], params["b1"]), nn.Tanh(), linear(params["W2"], params["b2"]))


def moons_weights(model):
    """The model's parameters under the document's names and shapes."""
    return {"W1": model[0].weight.data, "b1": model[0].bias.data.reshape(1, -1),
            "W2": model[2].weight.data, "b2": model[2].bias.data.reshape(1, -1)}


@pytest.mark.parametrize("nudge", ULP_NUDGES, ids=ULP_IDS)
@pytest.mark.parametrize("hidden", [3, 5])
def test_moons_training_run_with_nn_sgd(moons, hidden, nudge):
    """build_model's loop: nn.SoftmaxCrossEntropy('sum') + nn.SGD(weight_decay=λ) is dW += λW."""
    X, y = moons
    start = nudged(R.moons_init(hidden), nudge)
    hand = start
    for _ in range(150):
        hand = R.moons_step(hand, X, y, epsilon=0.01, reg_lambda=0.01)
    model = moons_model(start)
    opt = nn.SGD(model.parameters(), lr=0.01, weight_decay=0.01)
    loss_fn = nn.SoftmaxCrossEntropy(reduction="sum")
    for _ in range(150):
        loss = loss_fn(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert_same_weights(hand, moons_weights(model), f"150 passes, H = {hidden}")
    # and the printed loss agrees with the document's calculate_loss
    with no_grad():
        printed = (loss_fn(model(X), y).item() + nn.l2_penalty(model, 0.01).item()) / len(X)
    assert abs(printed - R.moons_loss(hand, X, y, 0.01)) <= 1e-12


def test_moons_annealed_training_run_with_fit(moons):
    """The exercise ε_t = ε/(1 + d·t), d = 10e-3, as nn.SGD(schedule=nn.Annealing(d)) inside nn.fit."""
    X, y = moons
    start, d = R.moons_init(3), 10e-3
    hand = start
    for t in range(150):
        hand = R.moons_step(hand, X, y, epsilon=0.01, reg_lambda=0.01, t=t, d=d)
    model = moons_model(start)
    opt = nn.SGD(model.parameters(), lr=0.01, weight_decay=0.01, schedule=nn.Annealing(d))
    nn.fit(model, nn.SoftmaxCrossEntropy(reduction="sum"), opt, (X, y), epochs=150, batch_size=None,
           metrics=(), progress=False)
    assert opt.last_lr == pytest.approx(0.01 / (1 + d * 149), rel=1e-15)
    assert_same_weights(hand, moons_weights(model), "150 annealed passes (fit)")


def test_moons_weight_decay_spares_the_biases(moons):
    """With λ huge and ε tiny one step shows where the decay went: weights shrink, biases only move
    by their gradient (compared with the hand-written step, whose db has no λ term)."""
    X, y = moons
    start = R.moons_init(3)
    hand = R.moons_step(start, X, y, epsilon=1e-3, reg_lambda=50.0)
    model = moons_model(start)
    opt = nn.SGD(model.parameters(), lr=1e-3, weight_decay=50.0)
    nn.SoftmaxCrossEntropy(reduction="sum")(model(X), y).backward()
    opt.step()
    assert_same_weights(hand, moons_weights(model), "one step with λ = 50")


# ---------------------------------------------------------------------------------------------------
# 001: TwoLayerNet, mini-batches drawn with replacement, mean cross-entropy, lr 0.1

def test_two_layer_training_run_with_nn():
    rng = np.random.default_rng(0)
    x, t = rng.random((60, 20)), rng.integers(0, 10, 60)
    start = R.two_layer_init(20, 8, 10, weight_init_std=0.5, seed=1)
    batches = R.sample_batches(60, 10, 40, seed=2)
    hand, _ = R.two_layer_train(start, x, t, batches, learning_rate=0.1)
    model = nn.Sequential(linear(start["W1"], start["b1"]), nn.Sigmoid(), linear(start["W2"], start["b2"]))
    opt = nn.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.SoftmaxCrossEntropy()
    for mask in batches:
        loss = loss_fn(model(x[mask]), t[mask])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert_same_weights(hand, {"W1": model[0].weight.data, "b1": model[0].bias.data,
                               "W2": model[2].weight.data, "b2": model[2].bias.data}, "40 mini-batches")


# ---------------------------------------------------------------------------------------------------
# 002: network2, shuffled mini-batches, L2 / L1 through nn.SGD(weight_decay=λ/n, l1=λ/n)

def network2_model(biases, weights, cost):
    """network2's (out, in) weights as nn layers; the quadratic cost sees σ(z), cross-entropy the logits."""
    layers = []
    for i, (b, w) in enumerate(zip(biases, weights)):
        layers.append(linear(w.T, b))
        if i < len(weights) - 1 or cost is R.QuadraticCost:
            layers.append(nn.Sigmoid())
    return nn.Sequential(*layers)


@pytest.mark.parametrize("penalty", ["L2", "L1"])
@pytest.mark.parametrize("cost", [R.CrossEntropyCost, R.QuadraticCost], ids=["cross-entropy", "quadratic"])
def test_network2_training_run_with_nn(cost, penalty):
    rng = np.random.default_rng(3)
    sizes, n, m, eta, lmbda = (4, 6, 3), 14, 4, 0.5, 2.0
    X = rng.random((n, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]                    # one-hot rows
    training_data = [(X[i].reshape(-1, 1), Y[i].reshape(-1, 1)) for i in range(n)]
    biases, weights = R.network2_init(sizes, seed=4)
    batches = R.epoch_batches(n, m, epochs=3, seed=5)                     # 4 batches per epoch, the last of 2
    hand_b, hand_w = R.network2_train(biases, weights, training_data, batches, eta, lmbda, cost, penalty)

    model = network2_model(biases, weights, cost)
    cost_fn = nn.QuadraticCost("mean") if cost is R.QuadraticCost else nn.CrossEntropyCost("mean")
    regulariser = {"weight_decay": lmbda / n} if penalty == "L2" else {"l1": lmbda / n}
    opt = nn.SGD(model.parameters(), lr=eta, **regulariser)
    for idx in batches:
        loss = cost_fn(model(X[idx]), Y[idx])                            # (1/m) Σ C_x over the batch
        opt.zero_grad()
        loss.backward()
        opt.step()
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    hand = {f"w{i}": w for i, w in enumerate(hand_w)} | {f"b{i}": b for i, b in enumerate(hand_b)}
    ours = {f"w{i}": layer.weight.data.T for i, layer in enumerate(linears)} | \
           {f"b{i}": layer.bias.data.reshape(-1, 1) for i, layer in enumerate(linears)}
    assert_same_weights(hand, ours, f"network2, {cost.__name__} + {penalty}")


# ---------------------------------------------------------------------------------------------------
# 003: 2-25-50-25-2 sigmoid layers, one update per sample, ½‖a − y‖², lr 0.01

def mlp_model(params):
    layers = []
    for W, b in params:
        layers += [linear(W, b), nn.Sigmoid()]
    return nn.Sequential(*layers)


def test_mlp_training_run_with_fit_per_sample():
    X, y = R.moons_data(3000, noise=0.2, seed=1)
    X, Y = X[:150], np.eye(2)[y[:150]]
    start = R.mlp_init([2, 25, 50, 25, 2], seed=0)
    hand, mses = R.mlp_train(start, X, Y, learning_rate=0.01, epochs=2)   # 300 per-sample updates
    model = mlp_model(start)

    def mse(output, target):
        return float(np.mean(np.square(target - output)))

    history = nn.fit(model, nn.QuadraticCost(reduction="sum"), nn.SGD(model.parameters(), lr=0.01), (X, Y),
                     epochs=2, batch_size=1, shuffle=False, metrics=(mse,), progress=False)
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    hand_flat = {f"{k}{i}": v for i, (W, b) in enumerate(hand) for k, v in (("W", W), ("b", b))}
    ours = {f"{k}{i}": v for i, layer in enumerate(linears)
            for k, v in (("W", layer.weight.data), ("b", layer.bias.data.reshape(1, -1)))}
    assert_same_weights(hand_flat, ours, "300 per-sample steps")
    # the document records the mse before each epoch; fit measures after: epoch 1's is the run's mses[1]
    assert history.extra["train_mse"][0] == pytest.approx(mses[1], rel=1e-12)
    assert len(history.step_loss) == 300


# ---------------------------------------------------------------------------------------------------
# 004: XOR, 2-2-1 sigmoid net, BCE, one update per sample in the question's order

def xor_model(params):
    """The question's column-vector weights as nn layers; the output is a logit (BCEWithLogits)."""
    return nn.Sequential(linear(params["W1"].T, params["b1"]), nn.Sigmoid(), linear(params["W2"].T, params["b2"]))


@pytest.mark.parametrize("nudge", ULP_NUDGES, ids=ULP_IDS)
@pytest.mark.parametrize("init, alpha, epochs", [(0.12, 0.01, 50), (0.5, 2.0, 150)],
                         ids=["question's settings", "alpha 2"])
def test_xor_training_run_with_fit_per_sample(init, alpha, epochs, nudge):
    X, Y = R.xor_data()
    start = nudged(R.xor_init(epsilon=init), nudge)
    hand, costs = R.xor_train(X, Y, start, alpha=alpha, epochs=epochs)
    model = xor_model(start)
    history = nn.fit(model, nn.BCEWithLogits(reduction="sum"), nn.SGD(model.parameters(), lr=alpha), (X, Y),
                     epochs=epochs, batch_size=1, shuffle=False, metrics=(), progress=False)
    ours = {"W1": model[0].weight.data.T, "b1": model[0].bias.data.reshape(2, 1),
            "W2": model[2].weight.data.T, "b2": model[2].bias.data.reshape(1, 1)}
    assert_same_weights(hand, ours, f"{4 * epochs} XOR steps")
    # the question's epoch cost: the four per-sample costs, each before its update
    epoch_costs = np.asarray(history.step_loss).reshape(epochs, 4).sum(axis=1)
    np.testing.assert_allclose(epoch_costs, costs, rtol=1e-10)
    with no_grad():
        ours_pred = model(Tensor(X)).sigmoid().data
    np.testing.assert_allclose(ours_pred, R.xor_pred(X, hand), rtol=1e-9)


def test_xor_buggy_order_is_not_what_nn_does():
    """nn computes every gradient before any update; the question's order ends somewhere else."""
    X, Y = R.xor_data()
    start = R.xor_init(epsilon=0.5)
    buggy, _ = R.xor_train(X, Y, start, alpha=2.0, epochs=20, step=R.xor_step_buggy)
    model = xor_model(start)
    nn.fit(model, nn.BCEWithLogits(reduction="sum"), nn.SGD(model.parameters(), lr=2.0), (X, Y), epochs=20,
           batch_size=1, shuffle=False, metrics=(), progress=False)
    assert rel_error(buggy["W1"], model[0].weight.data.T) > 1e-2, R.KNOWN_BUGS["xor_step_buggy"]
