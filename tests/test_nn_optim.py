"""Optimizers and schedules: updates equal hand computations of the documents' rules, known values
for momentum and Adam, and PyTorch parity (when torch is installed)."""
import math

import numpy as np
import pytest

import nn
from tinygrad_edu import ArgumentError, GraphError, Tensor


def param(values):
    return nn.Parameter(np.array(values, dtype=np.float64))


def set_grad(p, g):
    p.grad = Tensor(np.array(g, dtype=np.float64))


# -- SGD ------------------------------------------------------------------------------------------------

def test_plain_sgd_step():
    w = param([[1.0, -2.0], [0.5, 0.0]])
    opt = nn.SGD([w], lr=0.1)
    set_grad(w, [[1.0, 1.0], [-2.0, 4.0]])
    opt.step()
    np.testing.assert_allclose(w.data, [[0.9, -2.1], [0.7, -0.4]], rtol=1e-15)
    assert w.is_leaf and w.grad_fn is None and opt.t == 1 and opt.last_lr == 0.1


def test_momentum_known_values():
    # constant gradient 1, μ = 0.9, lr = 0.1: velocity 1, 1.9, 2.71 -> w = −0.1, −0.29, −0.561
    w = param([0.0])
    opt = nn.SGD([w], lr=0.1, momentum=0.9)
    for want in (-0.1, -0.29, -0.561):
        set_grad(w, [1.0])
        opt.step()
        assert w.data[0] == pytest.approx(want, rel=1e-14)


def test_nesterov_known_values():
    # constant gradient 1, μ = 0.9: v = 1, 1.9; step g + μv = 1.9, 2.71 -> w = −0.19, −0.461
    w = param([0.0])
    opt = nn.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    for want in (-0.19, -0.461):
        set_grad(w, [1.0])
        opt.step()
        assert w.data[0] == pytest.approx(want, rel=1e-14)


def test_network2_l2_rule():
    """w ← (1 − ηλ/n) w − (η/m) Σ∇w, with SGD(weight_decay=λ/n) on a loss averaged over the m
    examples of the batch; biases follow b ← b − (η/m) Σ∇b."""
    eta, lam, n, m = 0.5, 5.0, 1000, 4
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((m, 3)), rng.random((m, 2))
    model = nn.Sequential(nn.Linear(3, 2, rng=1, bias_init={"type": "normal", "std": 1.0}), nn.Sigmoid())
    W, b = model[0].weight.data.copy(), model[0].bias.data.copy()
    opt = nn.SGD(model.parameters(), lr=eta, weight_decay=lam / n)
    nn.QuadraticCost("mean")(model(X), Y).backward()
    opt.step()
    # network2's backprop for a sigmoid layer and the quadratic cost, summed over the batch by hand
    a = 1 / (1 + np.exp(-(X @ W + b)))
    delta = (a - Y) * a * (1 - a)
    np.testing.assert_allclose(model[0].weight.data, (1 - eta * lam / n) * W - (eta / m) * (X.T @ delta), rtol=1e-13)
    np.testing.assert_allclose(model[0].bias.data, b - (eta / m) * delta.sum(axis=0), rtol=1e-13)


def test_network2_l1_rule():
    """w ← w − (ηλ/n) sign(w) − (η/m) Σ∇w with SGD(l1=λ/n); both terms together with L2 use the sign
    and the value of w before the step."""
    w = param([[0.5, -0.25], [0.0, 2.0]])
    g = np.array([[0.1, 0.2], [-0.3, 0.4]])
    start = w.data.copy()
    opt = nn.SGD([w], lr=0.1, l1=0.5)
    set_grad(w, g)
    opt.step()
    np.testing.assert_allclose(w.data, start - 0.1 * 0.5 * np.sign(start) - 0.1 * g, rtol=1e-15)
    v = param(start)
    both = nn.SGD([v], lr=0.1, l1=0.5, weight_decay=0.2)
    set_grad(v, g)
    both.step()
    np.testing.assert_allclose(v.data, (1 - 0.1 * 0.2) * start - 0.1 * 0.5 * np.sign(start) - 0.1 * g, rtol=1e-15)


def test_biases_are_not_regularised_unless_asked():
    w, b = param([[1.0]]), param([1.0])
    for regularize_bias, b_after in ((False, 1.0), (True, 0.9)):
        w.data[...] = 1.0
        b.data[...] = 1.0
        opt = nn.SGD([w, b], lr=0.1, weight_decay=1.0, regularize_bias=regularize_bias)
        set_grad(w, [[0.0]])
        set_grad(b, [0.0])
        opt.step()
        assert w.data[0, 0] == pytest.approx(0.9) and b.data[0] == pytest.approx(b_after)


def test_weight_decay_equals_the_l2_penalty_in_the_loss():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((8, 2)), rng.integers(0, 2, 8)
    a, b = nn.MLP([2, 4, 2], rng=2), nn.MLP([2, 4, 2], rng=2)
    opt_a = nn.SGD(a.parameters(), lr=0.3, weight_decay=0.05, momentum=0.5)
    opt_b = nn.SGD(b.parameters(), lr=0.3, momentum=0.5)
    for _ in range(5):
        for model, opt, extra in ((a, opt_a, None), (b, opt_b, 0.05)):
            loss = nn.SoftmaxCrossEntropy()(model(X), y)
            if extra:
                loss = loss + nn.l2_penalty(model, extra)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pa.data, pb.data, rtol=1e-12)


def test_parameters_without_gradient_are_skipped_and_zero_grad_clears():
    w, u = param([1.0]), param([2.0])
    opt = nn.SGD([w, u], lr=1.0, momentum=0.9)
    set_grad(w, [1.0])
    opt.step()
    assert u.data[0] == 2.0 and w.data[0] == 0.0
    opt.zero_grad()
    assert w.grad is None and u.grad is None


def test_updating_a_weight_before_backward_has_used_it_is_refused():
    """Doc 004's bug: W2 updated before W1's gradient (which needs the old W2) was computed.
    The engine notices the in-place change and refuses to return a silently wrong gradient."""
    model = nn.MLP([2, 2, 1], activation="sigmoid", rng=0)
    loss = nn.BCEWithLogits()(model(np.ones((1, 2))), np.ones((1, 1)))
    opt = nn.SGD([model[2].weight], lr=0.1)
    set_grad(model[2].weight, [[1.0], [1.0]])
    opt.step()
    with pytest.raises(GraphError, match="modified in place"):
        loss.backward()


# -- Adam -------------------------------------------------------------------------------------------------

def test_adam_known_values():
    # the first step moves each weight by lr · g/(|g| + eps'), i.e. about lr against the gradient sign
    w = param([1.0, -1.0, 0.5])
    opt = nn.Adam([w], lr=0.01)
    set_grad(w, [3.0, -0.5, 1e-3])
    opt.step()
    np.testing.assert_allclose(w.data, [0.99, -0.99, 0.49], rtol=1e-6)
    # two steps, written out by hand
    w = param([0.0])
    opt = nn.Adam([w], lr=0.1, betas=(0.5, 0.75), eps=0.0)
    set_grad(w, [2.0])
    opt.step()                    # m = 1, v = 1; m̂ = 2, v̂ = 4 -> w = −0.1 · 2/2
    assert w.data[0] == pytest.approx(-0.1, rel=1e-14)
    set_grad(w, [-1.0])
    opt.step()                    # m = 0, v = 1; m̂ = 0 -> no move
    assert w.data[0] == pytest.approx(-0.1, rel=1e-14)
    set_grad(w, [1.0])
    opt.step()                    # m = 0.5, v = 1; m̂ = 0.5/0.875, v̂ = 1/(1−0.421875)
    m_hat, v_hat = 0.5 / 0.875, 1 / (1 - 0.75 ** 3)
    assert w.data[0] == pytest.approx(-0.1 - 0.1 * m_hat / math.sqrt(v_hat), rel=1e-14)


# -- PyTorch parity ----------------------------------------------------------------------------------------

def _torch_parity(make_ours, make_theirs, steps=6):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 3)), rng.integers(0, 3, 16)
    model = nn.MLP([3, 5, 3], rng=1)
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3)).double()
    with torch.no_grad():
        for tp, p in zip(tmodel.parameters(), model.parameters()):
            tp.copy_(torch.from_numpy(p.data.T.copy() if p.ndim == 2 else p.data))
    opt, topt = make_ours(model.parameters()), make_theirs(tmodel.parameters())
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for step in range(steps):
        batch = slice(4 * (step % 4), 4 * (step % 4) + 4)
        loss = nn.SoftmaxCrossEntropy()(model(X[batch]), y[batch])
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = torch.nn.functional.cross_entropy(tmodel(Xt[batch]), yt[batch])
        topt.zero_grad()
        tloss.backward()
        topt.step()
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-10)
    for tp, p in zip(tmodel.parameters(), model.parameters()):
        theirs = tp.detach().numpy()
        np.testing.assert_allclose(p.data, theirs.T if p.ndim == 2 else theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_matches_torch(momentum, nesterov):
    torch = pytest.importorskip("torch")
    _torch_parity(lambda ps: nn.SGD(ps, lr=0.2, momentum=momentum, nesterov=nesterov, weight_decay=0.01,
                                    regularize_bias=True),
                  lambda ps: torch.optim.SGD(ps, lr=0.2, momentum=momentum, nesterov=nesterov, weight_decay=0.01))


def test_adam_matches_torch():
    torch = pytest.importorskip("torch")
    _torch_parity(lambda ps: nn.Adam(ps, lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.01, regularize_bias=True),
                  lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.01), steps=8)


# -- schedules ----------------------------------------------------------------------------------------------

def test_schedules_follow_their_formulas():
    assert [nn.Annealing(0.5)(t) for t in range(3)] == [1.0, 1 / 1.5, 1 / 2.0]
    assert [nn.Annealing(1.0, every=2)(t) for t in range(4)] == [1.0, 1.0, 0.5, 0.5]
    assert [nn.StepDecay(2, gamma=0.5)(t) for t in range(5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    assert [nn.ExponentialDecay(0.9)(t) for t in range(3)] == [1.0, 0.9, 0.9 ** 2]
    w = param([0.0])
    opt = nn.SGD([w], lr=0.1, schedule=nn.Annealing(1.0))
    used = []
    for _ in range(3):
        assert opt.current_lr == pytest.approx(0.1 / (1 + opt.t))
        set_grad(w, [1.0])
        opt.step()
        used.append(opt.last_lr)
    assert used == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert w.data[0] == pytest.approx(-(0.1 + 0.05 + 0.1 / 3))
    assert opt.to_spec()["schedule"] == {"type": "annealing", "decay": 1.0, "every": 1}


def _doc000_numpy(X, y, W1, b1, W2, b2, passes, epsilon=0.01, reg_lambda=0.01, d=None):
    """Doc 000's build_model loop, transcribed: full-batch descent on the summed loss + λW."""
    W1, b1, W2, b2 = (a.copy() for a in (W1, b1, W2, b2))
    for i in range(passes):
        a1 = np.tanh(X.dot(W1) + b1)
        exp_scores = np.exp(a1.dot(W2) + b2)
        delta3 = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        delta3[range(len(X)), y] -= 1
        dW2 = a1.T.dot(delta3)
        db2 = np.sum(delta3, axis=0)
        delta2 = delta3.dot(W2.T) * (1 - np.power(a1, 2))
        dW1 = np.dot(X.T, delta2)
        db1 = np.sum(delta2, axis=0)
        dW2 += reg_lambda * W2
        dW1 += reg_lambda * W1
        eps = epsilon if d is None else epsilon / (1 + d * i)
        W1 += -eps * dW1
        b1 += -eps * db1
        W2 += -eps * dW2
        b2 += -eps * db2
    return W1, b1, W2, b2


@pytest.mark.parametrize("decay", [None, 0.01])
def test_doc000_training_is_reproduced_step_for_step(decay):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    model = nn.MLP([2, 3, 2], rng=1)
    start = [p.data.copy() for p in model.parameters()]
    schedule = None if decay is None else nn.Annealing(decay)
    opt = nn.SGD(model.parameters(), lr=0.01, weight_decay=0.01, schedule=schedule)
    nn.fit(model, nn.SoftmaxCrossEntropy(reduction="sum"), opt, (X, y), epochs=300, metrics=None)
    want = _doc000_numpy(X, y, *start, passes=300, d=decay)
    for p, w in zip(model.parameters(), want):
        np.testing.assert_allclose(p.data, w, rtol=1e-10, atol=1e-12)


# -- validation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"lr": float("nan")}, "lr"), ({"lr": -0.1}, "lr"), ({"lr": float("inf")}, "lr"), ({"lr": True}, "lr"),
    ({"lr": 0.1, "momentum": -0.5}, "momentum"), ({"lr": 0.1, "nesterov": True}, "nesterov"),
    ({"lr": 0.1, "weight_decay": -1}, "weight_decay"), ({"lr": 0.1, "l1": float("nan")}, "l1"),
    ({"lr": 0.1, "schedule": 3}, "schedule"), ({"lr": 0.1, "regularize_bias": "yes"}, "regularize_bias"),
])
def test_sgd_refuses_impossible_options(kwargs, match):
    with pytest.raises(ArgumentError, match=match):
        nn.SGD([param([1.0])], **kwargs)


def test_adam_and_schedules_refuse_impossible_options():
    for kwargs, match in (({"betas": (0.9,)}, "betas"), ({"betas": (1.0, 0.9)}, r"betas\[0\]"),
                          ({"eps": -1.0}, "eps"), ({"lr": float("nan")}, "lr")):
        with pytest.raises(ArgumentError, match=match):
            nn.Adam([param([1.0])], **kwargs)
    for make, match in ((lambda: nn.Annealing(-1.0), "decay"), (lambda: nn.StepDecay(0), "step_size"),
                        (lambda: nn.ExponentialDecay(0.0), "gamma"), (lambda: nn.Annealing(0.1, every=0), "every")):
        with pytest.raises(ArgumentError, match=match):
            make()


def test_parameter_lists_are_checked():
    w = param([1.0])
    with pytest.raises(ArgumentError, match="empty"):
        nn.SGD([], lr=0.1)
    with pytest.warns(UserWarning, match="parameter 1 appears more than once in params; it is kept once"):
        params = nn.SGD([w, w], lr=0.1).params
    assert len(params) == 1 and params[0] is w                       # de-duplicated (issue 14)
    with pytest.raises(ArgumentError, match="leaf tensor that requires grad"):
        nn.SGD([Tensor([1.0])], lr=0.1)
    with pytest.raises(ArgumentError, match="leaf"):
        nn.SGD([w * 2], lr=0.1)
    with pytest.raises(ArgumentError, match="single Tensor"):
        nn.SGD(w, lr=0.1)
    with pytest.raises(ArgumentError, match="not a Tensor"):
        nn.SGD([np.zeros(2)], lr=0.1)
    model = nn.MLP([2, 2], rng=0)
    assert len(nn.SGD(model, lr=0.1).params) == 2                 # a Module stands for its parameters
    assert repr(nn.SGD(model.parameters(), lr=0.1)).startswith("SGD(2 parameters, lr=0.1")
