"""The documents' hand-derived backprop against nn's autodiff, on the documents' own settings.

    from nn.checks import run
    for row in run():
        print(row.name, row.document, row.max_abs_diff, "OK" if row.ok else "FAIL")

(`tinygrad-edu check` prints these rows after the per-op table of tinygrad_edu.selfcheck.)

Each check takes a formula of one reference document, as written down in plain NumPy in
nn/reference.py (the independent oracle: it never touches the engine), and computes the same
quantity with nn - layers, losses, optimizers and backward() - at the document's sizes, data and
hyper-parameters. A row passes when the largest absolute difference is at most TOLERANCE (1e-10):
only floating-point rounding may separate the two. The same comparisons, with more variations, are
the tests in tests/test_reference.py.

Conventions bridged here: nn's Linear holds W as (in, out) and b as (out,) and takes samples as rows;
documents 002 and 004 use column vectors with weights of shape (out, in) and biases (out, 1), so their
weights are transposed on the way in and their gradients compared with the transposes.
"""
from dataclasses import dataclass

import numpy as np

from tinygrad_edu import Tensor, no_grad

from . import reference as R
from .layers import Linear, ReLU, Sequential, Sigmoid, Tanh, Identity
from .losses import BCEWithLogits, CrossEntropyCost, QuadraticCost, SoftmaxCrossEntropy, l2_penalty
from .optim import SGD, Annealing

__all__ = ["FormulaCheck", "CHECKS", "TOLERANCE", "run"]

TOLERANCE = 1e-10


@dataclass
class FormulaCheck:
    """One row: the formula, its document, max |reference − autodiff| and whether that is within
    TOLERANCE. `error` holds the message when the comparison could not run at all (a failure)."""
    name: str
    document: str
    max_abs_diff: float
    ok: bool
    error: str = None


# ---------------------------------------------------------------------------------------------------
# Helpers: nn networks holding given weights, and differences

def _net(weights, biases, activations):
    """Sequential(Linear, activation, Linear, ...) holding the given weights (in, out) and biases (any
    shape with `out` elements); activations: one Module class (or None) after each Linear."""
    layers, linears = [], []
    for W, b, act in zip(weights, biases, activations):
        lin = Linear(W.shape[0], W.shape[1], init="zeros")
        with no_grad():
            lin.weight.copy_(W)
            lin.bias.copy_(np.reshape(b, -1))
        layers.append(lin)
        linears.append(lin)
        if act is not None:
            layers.append(act())
    return Sequential(*layers), linears


def _diff(reference, autodiff):
    """max |reference − autodiff| over matching arrays (same number of elements; autodiff is
    reshaped to the reference's shape, e.g. a bias (H,) against the document's (1, H))."""
    worst = 0.0
    for ref, auto in zip(reference, autodiff, strict=True):
        ref = np.asarray(ref, dtype=np.float64)
        auto = np.asarray(auto.data if isinstance(auto, Tensor) else auto, dtype=np.float64)
        if ref.size != auto.size:
            raise ValueError(f"shapes differ: reference {ref.shape}, autodiff {auto.shape}")
        worst = max(worst, float(np.max(np.abs(ref - auto.reshape(ref.shape)), initial=0.0)))
    return worst


def _grads(linears, transpose=False):
    """[dW, db, ...] of the Linear layers after a backward (dW transposed to (out, in) if asked)."""
    out = []
    for lin in linears:
        out.append(lin.weight.grad.data.T if transpose else lin.weight.grad.data)
        out.append(lin.bias.grad.data)
    return out


def _values(linears, transpose=False):
    out = []
    for lin in linears:
        out.append(lin.weight.data.T if transpose else lin.weight.data)
        out.append(lin.bias.data)
    return out


# ---------------------------------------------------------------------------------------------------
# 000: the 2-3-2 tanh/softmax network on the moons, L2 λ = 0.01, ε = 0.01, summed cross-entropy

H_000, LAMBDA_000, EPSILON_000 = 3, 0.01, 0.01


def _moons():
    return R.moons_data(200, noise=0.2, seed=0)


def _moons_net(P):
    return _net([P["W1"], P["W2"]], [P["b1"], P["b2"]], [Tanh, None])


def _moons_objective(model, X, y):
    """The sum the document descends: Σ cross-entropy + λ/2 (‖W1‖² + ‖W2‖²)."""
    return SoftmaxCrossEntropy("sum")(model(Tensor(X)), y) + l2_penalty(model, LAMBDA_000)


def _moons_points(X, y):
    """The document's initial weights, and the weights after 100 of its steps."""
    P = R.moons_init(H_000, seed=0)
    points = [P]
    for _ in range(100):
        P = R.moons_step(P, X, y, EPSILON_000, LAMBDA_000)
    return points + [P]


def check_moons_gradients():
    """moons_gradients (δ3 = ŷ − y, δ2 = (1 − a1²) ∘ δ3W2ᵀ, dW = aᵀδ + λW, db = Σδ) against backward of
    SoftmaxCrossEntropy('sum') + l2_penalty, at the document's init and after 100 passes."""
    X, y = _moons()
    worst = 0.0
    for P in _moons_points(X, y):
        model, linears = _moons_net(P)
        _moons_objective(model, X, y).backward()
        ref = R.moons_gradients(P, X, y, LAMBDA_000)
        worst = max(worst, _diff([ref["W1"], ref["b1"], ref["W2"], ref["b2"]], _grads(linears)))
    return worst


def check_moons_loss():
    """calculate_loss, (Σ −log ŷ + λ/2 ‖W‖²) / N, against the same expression in nn (no graph)."""
    X, y = _moons()
    worst = 0.0
    for P in _moons_points(X, y):
        model, _ = _moons_net(P)
        with no_grad():
            value = _moons_objective(model, X, y).item() / len(X)
        worst = max(worst, abs(R.moons_loss(P, X, y, LAMBDA_000) - value))
    return worst


def _moons_descent(decay, steps=100):
    X, y = _moons()
    P = R.moons_init(H_000, seed=0)
    model, linears = _moons_net(P)
    schedule = None if decay is None else Annealing(decay)
    opt = SGD(model.parameters(), lr=EPSILON_000, weight_decay=LAMBDA_000, schedule=schedule)
    loss_fn = SoftmaxCrossEntropy("sum")
    for t in range(steps):
        P = R.moons_step(P, X, y, EPSILON_000, LAMBDA_000, t=t, d=decay)
        opt.zero_grad()
        loss_fn(model(Tensor(X)), y).backward()
        opt.step()
    return _diff([P["W1"], P["b1"], P["W2"], P["b2"]], _values(linears))


def check_moons_descent():
    """100 passes of W ← W − ε(dW + λW) against nn.SGD(lr=ε, weight_decay=λ) on the summed loss."""
    return _moons_descent(None)


def check_moons_annealed():
    """The exercise's annealed rate ε / (1 + d·t), d = 10e-3, against nn.Annealing."""
    return _moons_descent(10e-3)


# ---------------------------------------------------------------------------------------------------
# 001: TwoLayerNet 784-50-10, sigmoid hidden layer, softmax cross-entropy averaged over a batch of 100

def check_two_layer_gradient():
    """two_layer_gradient (dy = (y − t)/N, dz1 = σ'(a1) ∘ dy W2ᵀ, ...) against backward of
    SoftmaxCrossEntropy('mean'), at the book's init (std 0.01) on a batch of 100 random images."""
    sizes, batch = (784, 50, 10), 100
    P = R.two_layer_init(*sizes, weight_init_std=0.01, seed=0)
    rng = np.random.default_rng(1)
    x = rng.random((batch, sizes[0]))                        # pixels in [0, 1), as MNIST's
    t = np.eye(sizes[2])[rng.integers(0, sizes[2], batch)]  # one-hot labels, as the book's
    model, linears = _net([P["W1"], P["W2"]], [P["b1"], P["b2"]], [Sigmoid, None])
    SoftmaxCrossEntropy("mean")(model(Tensor(x)), t).backward()
    ref = R.two_layer_gradient(P, x, t)
    return _diff([ref["W1"], ref["b1"], ref["W2"], ref["b2"]], _grads(linears))


# ---------------------------------------------------------------------------------------------------
# 002: network2 [784, 30, 10] (column vectors), quadratic and cross-entropy costs, L2 and L1 updates

def _network2_problem(samples):
    sizes = [784, 30, 10]
    biases, weights = R.network2_init(sizes, seed=0)
    rng = np.random.default_rng(2)
    X = rng.random((samples, sizes[0]))                                  # (m, in): rows for nn
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], samples)]           # (m, out) one-hot rows
    data = [(X[j][:, None], Y[j][:, None]) for j in range(samples)]      # the book's column pairs
    return biases, weights, X, Y, data


def _network2_net(biases, weights, cost):
    # CrossEntropyCost takes the logits (it applies σ itself); the quadratic cost takes a = σ(z).
    last = Sigmoid if cost is R.QuadraticCost else None
    activations = [Sigmoid] * (len(weights) - 1) + [last]
    return _net([w.T for w in weights], biases, activations)


def _network2_backprop(cost):
    biases, weights, X, Y, data = _network2_problem(3)
    loss_fn = QuadraticCost("sum") if cost is R.QuadraticCost else CrossEntropyCost("sum")
    worst = 0.0
    for j, (x, y) in enumerate(data):
        model, linears = _network2_net(biases, weights, cost)
        loss_fn(model(Tensor(X[j:j + 1])), Y[j:j + 1]).backward()
        nabla_b, nabla_w = R.network2_backprop(biases, weights, x, y, cost)
        ref = [a for pair in zip(nabla_w, nabla_b) for a in pair]
        worst = max(worst, _diff(ref, _grads(linears, transpose=True)))
    return worst


def check_network2_cross_entropy():
    """network2 backprop with CrossEntropyCost (δL = a − y) against CrossEntropyCost('sum')."""
    return _network2_backprop(R.CrossEntropyCost)


def check_network2_quadratic():
    """network2 backprop with QuadraticCost (δL = (a − y) ∘ σ'(z)) against QuadraticCost('sum')."""
    return _network2_backprop(R.QuadraticCost)


def _network2_update(penalty):
    """One update_mini_batch (m = 10 of n = 50,000, η = 0.5, λ = 5.0: the book's chapter-3 run)
    against one nn.SGD step on CrossEntropyCost('mean')."""
    eta, lmbda, n = 0.5, 5.0, 50_000
    biases, weights, X, Y, data = _network2_problem(10)
    model, linears = _network2_net(biases, weights, R.CrossEntropyCost)
    regular = {"weight_decay": lmbda / n} if penalty == "L2" else {"l1": lmbda / n}
    opt = SGD(model.parameters(), lr=eta, **regular)
    CrossEntropyCost("mean")(model(Tensor(X)), Y).backward()
    opt.step()
    new_b, new_w = R.network2_update_mini_batch(biases, weights, data, eta, lmbda, n, R.CrossEntropyCost,
                                                penalty)
    return _diff([a for pair in zip(new_w, new_b) for a in pair], _values(linears, transpose=True))


def check_network2_l2():
    """L2: w ← (1 − ηλ/n) w − (η/m) Σ∇w against nn.SGD(lr=η, weight_decay=λ/n)."""
    return _network2_update("L2")


def check_network2_l1():
    """L1: w ← w − (ηλ/n) sign(w) − (η/m) Σ∇w against nn.SGD(lr=η, l1=λ/n)."""
    return _network2_update("L1")


# ---------------------------------------------------------------------------------------------------
# 003: one layer's backward for each activation; the 2-25-50-25-2 sigmoid network

_ACTIVATION_MODULES = {"identity": Identity, "sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}


def _layer_backward(name):
    rng = np.random.default_rng(3)
    x, W, b, upstream = (rng.standard_normal(s) for s in ((1, 4), (4, 3), (1, 3), (1, 3)))
    z, _ = R.layer_forward(x, W, b, name)
    dW, db, dx = R.layer_backward(upstream, x, z, W, name)
    model, linears = _net([W], [b], [_ACTIVATION_MODULES[name]])
    xt = Tensor(x, requires_grad=True)
    model(xt).backward(upstream)
    return _diff([dW, db, dx], _grads(linears) + [xt.grad])


def _layer_check(name):
    def check():
        return _layer_backward(name)
    check.__doc__ = (f"Layer.backward with {name}: dz = up ∘ f'(z), dW = xᵀdz, db = dz, up' = dz Wᵀ, "
                     f"against backward through Linear and {_ACTIVATION_MODULES[name].__name__}.")
    return check


def check_mlp_gradients():
    """The 2-25-50-25-2 sigmoid network's per-sample gradients of ½‖a − y‖² (upstream a − y through
    each layer) against QuadraticCost('sum'), on three of the document's 3000 moons points."""
    sizes = [2, 25, 50, 25, 2]
    params = R.mlp_init(sizes, seed=0)
    X, y = R.moons_data(3000, noise=0.2, seed=1)
    Y = np.eye(2)[y]
    worst = 0.0
    for j in range(3):
        model, linears = _net([W for W, _ in params], [b for _, b in params], [Sigmoid] * 4)
        QuadraticCost("sum")(model(Tensor(X[j:j + 1])), Y[j:j + 1]).backward()
        ref = [a for pair in R.mlp_gradients(params, X[j:j + 1], Y[j:j + 1]) for a in pair]
        worst = max(worst, _diff(ref, _grads(linears)))
    return worst


# ---------------------------------------------------------------------------------------------------
# 004: the XOR question, 2-2-1 sigmoid network, binary cross-entropy, per-sample updates

def _xor_net(P):
    return _net([P["W1"].T, P["W2"].T], [P["b1"], P["b2"]], [Sigmoid, None])


def check_xor_gradients():
    """The question's gradients (e = ŷ − y, dW2 = e zᵀ, db1 = W2ᵀe ∘ z(1 − z), dW1 = db1 xᵀ) against
    backward of BCEWithLogits('sum'), for each of the four samples at the question's init."""
    X, Y = R.xor_data()
    P = R.xor_init()
    worst = 0.0
    for i in range(4):
        model, linears = _xor_net(P)
        BCEWithLogits("sum")(model(Tensor(X[i:i + 1])), Y[i:i + 1]).backward()
        g = R.xor_gradients(X[i].reshape(-1, 1), Y[i].reshape(-1, 1), P)
        worst = max(worst, _diff([g["W1"], g["b1"], g["W2"], g["b2"]], _grads(linears, transpose=True)))
    return worst


def check_xor_training(epochs=50):
    """50 epochs of the corrected per-sample updates (every gradient first, α = 0.01) against nn.SGD."""
    X, Y = R.xor_data()
    P = R.xor_init()
    ref, _ = R.xor_train(X, Y, P, alpha=0.01, epochs=epochs)
    model, linears = _xor_net(P)
    opt = SGD(model.parameters(), lr=0.01)
    loss_fn = BCEWithLogits("sum")
    for _ in range(epochs):
        for i in range(4):
            opt.zero_grad()
            loss_fn(model(Tensor(X[i:i + 1])), Y[i:i + 1]).backward()
            opt.step()
    return _diff([ref["W1"], ref["b1"], ref["W2"], ref["b2"]], _values(linears, transpose=True))


# ---------------------------------------------------------------------------------------------------

CHECKS = [
    # (name, document, check() -> max abs difference)
    ("moons gradients incl. L2 (2-3-2 tanh)", "000 moons", check_moons_gradients),
    ("moons loss as printed (calculate_loss)", "000 moons", check_moons_loss),
    ("100 descent passes, nn.SGD weight_decay", "000 moons", check_moons_descent),
    ("annealed rate ε/(1+d·t), nn.Annealing", "000 moons", check_moons_annealed),
    ("TwoLayerNet gradient (784-50-10)", "001 TwoLayerNet", check_two_layer_gradient),
    ("backprop, cross-entropy cost", "002 network2", check_network2_cross_entropy),
    ("backprop, quadratic cost", "002 network2", check_network2_quadratic),
    ("L2 update (1 − ηλ/n)w − (η/m)Σ∇w", "002 network2", check_network2_l2),
    ("L1 update w − (ηλ/n)sign(w) − (η/m)Σ∇w", "002 network2", check_network2_l1),
    ("layer backward, identity", "003 layers", _layer_check("identity")),
    ("layer backward, sigmoid", "003 layers", _layer_check("sigmoid")),
    ("layer backward, tanh", "003 layers", _layer_check("tanh")),
    ("layer backward, relu", "003 layers", _layer_check("relu")),
    ("2-25-50-25-2 sigmoid net, ½‖a − y‖²", "003 layers", check_mlp_gradients),
    ("XOR gradients (2-2-1 sigmoid, BCE)", "004 XOR", check_xor_gradients),
    ("XOR per-sample training, 50 epochs", "004 XOR", check_xor_training),
]


def run(checks=None):
    """Run every check (or the given (name, document, check) triples) and return FormulaCheck rows,
    in order. Takes about a quarter of a second."""
    rows = []
    for name, document, check in CHECKS if checks is None else checks:
        try:
            diff = float(check())
        except Exception as e:  # noqa: BLE001 - a comparison that crashes is a failed row, reported
            rows.append(FormulaCheck(name, document, float("nan"), False, f"{type(e).__name__}: {e}"))
            continue
        rows.append(FormulaCheck(name, document, diff, diff <= TOLERANCE))
    return rows
