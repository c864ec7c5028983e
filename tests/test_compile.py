"""te.compile: a captured step replays the same computation as eager mode.

- Agreement: compiled and eager steps end with the same weights and gradients (float64 to 1e-12
  relative after 100 steps, float32 to 1e-5) on the benchmark workloads, the documents' networks, nn
  models with every optimizer option and schedule, and every row of the op table (plus random ones).
- Both generated programs are checked: the fast one replays; the readable one (step.source) is run
  on copies of the arrays and must give the same numbers.
- Guards: each way a capture can go stale leads to a new capture (or a clear TraceError), never to a
  wrong number; each thing a capture cannot replay raises TraceError at the capture.
"""
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import tinygrad_edu as te
from op_cases import CASES, make_inputs
from tinygrad_edu import Tensor, TraceError


def close(a, b, rtol=1e-12, atol=1e-13):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol)


def _arrays(ps):
    return [p.data.copy() for p in ps]


def run_both(make, args_of, steps=100, rtol=1e-12, atol=1e-13):
    """make() -> (step, params) builds the same step twice (same starting weights); one is compiled.
    Runs `steps` steps of each on args_of(k) and checks params and their .grad agree after each."""
    eager, pe = make()
    comp_fn, pc = make()
    compiled = te.compile(comp_fn)
    for k in range(steps):
        args = args_of(k)
        out_e = eager(*args)
        out_c = compiled(*args)
        if isinstance(out_e, Tensor):
            close(out_c.data, out_e.data, rtol, atol)
    for a, b in zip(pe, pc):
        close(b.data, a.data, rtol, atol)
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            close(b.grad.data, a.grad.data, rtol, atol)
    return compiled, pe, pc


# ---------------------------------------------------------------------------------------------------
# The benchmark workloads and the documents' networks, written with Tensor ops

def moons(n=200, seed=0):
    return nn.data.make_moons(n, noise=0.2, seed=seed)


def doc000_step(lam=0.01, eps=0.01, H=3):
    """Document 000: 2-H-2 tanh, summed softmax cross-entropy, L2 added to the gradient, full batch."""
    rng = np.random.RandomState(0)
    W1, b1, W2, b2 = ps = [Tensor(rng.randn(2, H) / np.sqrt(2), requires_grad=True, name="W1"),
                           Tensor(np.zeros((1, H)), requires_grad=True, name="b1"),
                           Tensor(rng.randn(H, 2) / np.sqrt(H), requires_grad=True, name="W2"),
                           Tensor(np.zeros((1, 2)), requires_grad=True, name="b2")]

    def step(X, y):
        z1 = X @ W1 + b1
        a1 = z1.tanh()
        z2 = a1 @ W2 + b2
        loss = z2.softmax_cross_entropy(y, reduction="sum")
        for p in ps:
            p.grad = None
        loss.backward()
        with te.no_grad():
            W1.grad += lam * W1
            W2.grad += lam * W2
            for p in ps:
                p -= eps * p.grad
        return loss
    return step, ps


def test_document_000_network_agrees_with_eager_for_100_steps():
    X, y = moons()
    compiled, _, _ = run_both(doc000_step, lambda k: (X, y))
    assert len(compiled.captures) == 1


def test_document_000_source_reads_like_the_documents_backprop():
    """The key lines of the document's hand-written backprop, derived by the engine:
    delta3 = probs − y, dW2 = a1ᵀ delta3, db2 = Σ delta3, delta2 = delta3 W2ᵀ ∘ (1 − a1²), dW1 = xᵀ delta2,
    db1 = Σ delta2, dW += λW, W += −ε dW."""
    X, y = moons()
    step, ps = doc000_step()
    c = te.compile(step)
    c(X, y)
    src = c.source
    for line in ["z1 = X @ W1 + b1", "a1 = np.tanh(z1)", "z2 = a1 @ W2 + b2",
                 "loss = softmax_cross_entropy(z2, y, reduction='sum')",
                 "dz2 = softmax(z2, axis=-1) - one_hot(y, 2, np.float64)  # softmax-CE: ŷ − y",
                 "db2 = dz2.sum(axis=0, keepdims=True)", "dW2 = a1.T @ dz2", "da1 = dz2 @ W2.T",
                 "dz1 = da1 * (1 - a1 * a1)  # tanh: 1 − y²", "db1 = dz1.sum(axis=0, keepdims=True)",
                 "dW1 = X.T @ dz1", "dW1 += 0.01 * W1", "dW2 += 0.01 * W2", "W1 -= 0.01 * dW1"]:
        assert line in src, f"missing: {line}\n{src}"
    assert src.index("# forward") < src.index("# backward") < src.index("# update")


def test_the_readme_shows_the_source_its_step_really_generates():
    import pathlib
    import re
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Two speeds"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr
    printed = result.stdout.split("\n", 1)
    assert printed[0] == "True"
    assert printed[1].rstrip() == shown.rstrip()


def _run_readable(compiled, args, externals):
    """Run the readable program on copies: returns (outputs, grads, the updated copies)."""
    prog = compiled.last.program
    ns = prog.namespace(copy_externals=True)
    fn = prog.compile_readable(ns)
    arrays = [a.data if isinstance(a, Tensor) else a for a in args]
    outs, grads = fn(*arrays)
    updated = {name: ns[name] for name in externals}
    return outs, grads, updated


def test_the_readable_program_runs_and_gives_the_same_numbers():
    X, y = moons()
    step, ps = doc000_step()
    c = te.compile(step)
    c(X, y)
    names = {p.name: p for p in ps}
    before = {n: p.data.copy() for n, p in names.items()}
    outs, grads, updated = _run_readable(c, (X, y), list(names))   # on copies of the weights
    loss = c(X, y)                                                  # the fast program, for real
    close(outs[0], loss.data)
    for (target, _), g in zip(c.last.grad_binds, grads):
        close(g, target.grad.data)
    for n, p in names.items():
        close(updated[n], p.data)
        assert not np.array_equal(before[n], p.data)


def test_two_layer_net_of_document_001_float32():
    """784-50-10 sigmoid, softmax-CE (mean), SGD lr 0.1, mini-batches of 100, float32: to 1e-5."""
    rng = np.random.default_rng(1)
    xs = [rng.random((100, 784), dtype=np.float32) for _ in range(5)]
    ys = [rng.integers(0, 10, 100) for _ in range(5)]

    def make():
        r = np.random.default_rng(2)
        W1, b1 = Tensor((0.01 * r.standard_normal((784, 50))).astype(np.float32), requires_grad=True), \
            Tensor(np.zeros(50, np.float32), requires_grad=True)
        W2, b2 = Tensor((0.01 * r.standard_normal((50, 10))).astype(np.float32), requires_grad=True), \
            Tensor(np.zeros(10, np.float32), requires_grad=True)
        ps = [W1, b1, W2, b2]

        def step(x, t):
            loss = ((x @ W1 + b1).sigmoid() @ W2 + b2).softmax_cross_entropy(t)
            for p in ps:
                p.grad = None
            loss.backward()
            with te.no_grad():
                for p in ps:
                    p.add_(p.grad, alpha=-0.1)
            return loss
        return step, ps
    compiled, pe, _ = run_both(make, lambda k: (xs[k % 5], ys[k % 5]), steps=30, rtol=1e-5, atol=1e-6)
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in pe)


def test_network2_of_document_002_cross_entropy_cost_with_l2():
    X, y = moons(60, seed=3)
    Y = np.eye(2)[y]

    def make():
        model = nn.MLP([2, 6, 2], activation="sigmoid", rng=4)
        opt = nn.SGD(model.parameters(), lr=0.5, weight_decay=0.01)
        cost = nn.CrossEntropyCost()

        def step(x, t):
            loss = cost(model(x), t)                       # logits in, σ inside the cost
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step, list(model.parameters())
    run_both(make, lambda k: (X[(k % 6) * 10:(k % 6) * 10 + 10], Y[(k % 6) * 10:(k % 6) * 10 + 10]))


def test_deep_sigmoid_net_of_document_003_one_sample_per_step():
    X, y = moons(40, seed=5)
    Y = np.eye(2)[y]

    def make():
        rng = np.random.RandomState(3)
        ps, sizes = [], [2, 25, 50, 25, 2]
        for i, o in zip(sizes[:-1], sizes[1:]):
            ps += [Tensor(rng.randn(i, o) * np.sqrt(1 / o), requires_grad=True),
                   Tensor(rng.randn(1, o) * 0.1, requires_grad=True)]

        def step(x, t):
            for W, b in zip(ps[::2], ps[1::2]):
                x = (x @ W + b).sigmoid()
            loss = 0.5 * x.mse(t, reduction="sum")
            for p in ps:
                p.grad = None
            loss.backward()
            with te.no_grad():
                for p in ps:
                    p.add_(p.grad, alpha=-0.01)
        return step, ps
    run_both(make, lambda k: (X[k % 40:k % 40 + 1], Y[k % 40:k % 40 + 1]))


def test_xor_network_of_document_004():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])

    def make():
        model = nn.MLP([2, 2, 1], activation="sigmoid", rng=1)
        opt = nn.SGD(model.parameters(), lr=2.0)
        loss_fn = nn.BCEWithLogits()

        def step(x, t):
            loss = loss_fn(model(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step, list(model.parameters())
    run_both(make, lambda k: (X[k % 4:k % 4 + 1], y[k % 4:k % 4 + 1]))


# ---------------------------------------------------------------------------------------------------
# nn models, every optimizer option, schedules

OPTIMIZERS = {
    "sgd": lambda ps: nn.SGD(ps, lr=0.1),
    "momentum": lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9),
    "nesterov": lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "weight decay": lambda ps: nn.SGD(ps, lr=0.1, weight_decay=0.01),
    "l1": lambda ps: nn.SGD(ps, lr=0.1, l1=0.001),
    "momentum + wd + l1, biases too": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.5, weight_decay=0.01, l1=0.001,
                                                       regularize_bias=True),
    "adam": lambda ps: nn.Adam(ps, lr=0.01),
    "adam + wd": lambda ps: nn.Adam(ps, lr=0.01, weight_decay=0.01),
    "annealing": lambda ps: nn.SGD(ps, lr=0.1, schedule=nn.Annealing(0.01)),
    "step decay": lambda ps: nn.SGD(ps, lr=0.1, schedule=nn.StepDecay(7, gamma=0.5)),
    "exponential, momentum": lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9, schedule=nn.ExponentialDecay(0.97)),
    "adam + annealing": lambda ps: nn.Adam(ps, lr=0.01, schedule=nn.Annealing(0.1, every=3)),
    "custom schedule function": lambda ps: nn.SGD(ps, lr=0.1, schedule=lambda t: 1.0 / (1 + t) ** 0.5),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_nn_model_with_each_optimizer_agrees_with_eager(name):
    X, y = moons(64, seed=1)

    def make():
        nn.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))
        opt = OPTIMIZERS[name](model.parameters())
        loss_fn = nn.SoftmaxCrossEntropy()

        def step(x, t):
            loss = loss_fn(model(x), t)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        step.opt = opt
        return step, list(model.parameters())
    compiled, pe, pc = run_both(make, lambda k: (X[(k % 4) * 16:(k % 4) * 16 + 16], y[(k % 4) * 16:(k % 4) * 16 + 16]))
    assert len(compiled.captures) == 1                        # the schedule never forced a new capture
    opt_c = compiled.fn.opt
    assert opt_c.t == 100 and opt_c.last_lr == pytest.approx(OPTIMIZERS[name]([Tensor(np.ones(1), requires_grad=True)]).lr
                                                             * (opt_c.schedule(99) if opt_c.schedule else 1))


def test_fit_compiles_by_default_and_matches_eager_fit():
    X, y = moons(100, seed=2)
    runs = []
    for compiled in (False, None):
        nn.manual_seed(3)
        model = nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 2))
        opt = nn.SGD(model.parameters(), lr=0.3, momentum=0.5, schedule=nn.Annealing(0.01))
        h = nn.fit(model, nn.SoftmaxCrossEntropy(), opt, (X, y), epochs=5, batch_size=32, seed=1,
                   compile=compiled, progress=False)
        runs.append((h, [p.data.copy() for p in model.parameters()], opt.t))
    (he, we, te_), (hc, wc, tc) = runs
    close(hc.step_loss, he.step_loss)
    for a, b in zip(wc, we):
        close(a, b)
    assert te_ == tc == 5 * 4


def test_fit_runs_a_users_own_module_eagerly_by_default():
    class Scaled(nn.Module):
        def forward(self, x):
            return x * 2.0
    from nn.train import _traceable
    model = nn.Sequential(nn.Linear(2, 2), Scaled())
    assert not _traceable(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1))
    assert _traceable(nn.Sequential(nn.Linear(2, 2)), nn.MSE(), nn.Adam(nn.Linear(2, 2).parameters()))


# ---------------------------------------------------------------------------------------------------
# Every row of the op table, compiled inside a training step


def _op_step(case, arrays, weights):
    """A step that applies `case` to trainable inputs, weights the output and takes an SGD step."""
    params = [Tensor(a.copy(), requires_grad=True) if i in case.wrt else None for i, a in enumerate(arrays)]
    trainable = [p for p in params if p is not None]

    def step(*constants):
        it = iter(constants)
        inputs = [p if p is not None else next(it) for p in params]
        out = case.fn(*inputs)
        loss = (out * weights).sum()
        for p in trainable:
            p.grad = None
        loss.backward()
        with te.no_grad():
            for p in trainable:
                p -= 0.01 * p.grad
        return loss
    constants = [Tensor(a) if a.dtype.kind == "f" else a for i, a in enumerate(arrays) if i not in case.wrt]
    return step, trainable, constants


def check_case_compiles(case, shapes, seed=0, steps=3):
    rng = np.random.default_rng(seed)
    arrays = make_inputs(case, shapes, rng)
    with te.no_grad():
        probe = case.fn(*[Tensor(a) if a.dtype.kind == "f" else a for a in arrays])
    weights = rng.standard_normal(probe.shape)
    se, pe, ce = _op_step(case, arrays, weights)
    sc, pc, cc = _op_step(case, arrays, weights)
    compiled = te.compile(sc)
    for _ in range(steps):
        le, lc = se(*ce), compiled(*cc)
        close(lc.data, le.data, 1e-10, 1e-12)
    for a, b in zip(pe, pc):
        close(b.data, a.data, 1e-10, 1e-12)
        close(b.grad.data, a.grad.data, 1e-10, 1e-12)
    return compiled


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_op_of_the_table_compiles_and_agrees_with_eager(case):
    for shapes in case.shapes:
        check_case_compiles(case, shapes)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_rows_and_shapes_compile(data):
    case = data.draw(st.sampled_from(CASES))
    shapes = data.draw(case.shape_st)
    check_case_compiles(case, shapes, seed=data.draw(st.integers(0, 2 ** 16)))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_chains_of_ops_compile(data):
    """A random graph: a chain of elementwise ops and reductions on two parameters."""
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    ops = data.draw(st.lists(st.sampled_from(["tanh", "sigmoid", "exp_small", "mul", "add", "square", "relu",
                                               "abs", "softmax", "sum0", "mean", "max"]), min_size=1, max_size=6))
    a0, b0 = rng.standard_normal(shape), rng.standard_normal(shape)

    def make():
        a, b = Tensor(a0.copy(), requires_grad=True), Tensor(b0.copy(), requires_grad=True)

        def step():
            x = a
            for op in ops:
                if op == "tanh":
                    x = x.tanh()
                elif op == "sigmoid":
                    x = x.sigmoid()
                elif op == "exp_small":
                    x = (x * 0.1).exp()
                elif op == "mul":
                    x = x * b if x.shape == b.shape else x * 2.0
                elif op == "add":
                    x = x + b if x.shape == b.shape else x + 1.0
                elif op == "square":
                    x = x ** 2
                elif op == "relu":
                    x = (x + 0.3).relu()
                elif op == "abs":
                    x = (x + 0.3).abs()
                elif op == "softmax":
                    x = x.softmax(axis=-1) if x.ndim else x
                elif op == "sum0":
                    x = x.sum(axis=0, keepdims=True) if x.ndim else x
                elif op == "mean":
                    x = x.mean(axis=-1) if x.ndim else x
                elif op == "max":
                    x = x.max(axis=0) if x.ndim else x
            loss = x.sum()
            a.grad = b.grad = None
            loss.backward()
            with te.no_grad():
                for p in (a, b):
                    if p.grad is not None:
                        p -= 0.05 * p.grad
            return loss
        return step, [a, b]
    run_both(make, lambda k: (), steps=5)


# ---------------------------------------------------------------------------------------------------
# What the replay returns and keeps

def test_returns_fresh_copies_and_grads_are_tensors():
    X, y = moons()
    step, ps = doc000_step()
    c = te.compile(step)
    first = c(X, y)
    second = c(X, y)
    third = c(X, y)
    assert isinstance(second, Tensor) and second.grad_fn is None
    assert not np.shares_memory(second.data, third.data)
    assert second.item() != third.item()                       # each call's own loss, kept
    assert all(isinstance(p.grad, Tensor) and p.grad.shape == p.shape for p in ps)
    assert first.item() > second.item() > third.item()


def test_two_threads_can_call_one_compiled_step():
    import threading
    W = Tensor(np.arange(6.0).reshape(3, 2))
    c = te.compile(lambda x: (x @ W).tanh().sum())
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((4, 3)) for _ in range(200)]
    wrong = []

    def run():
        for x in inputs:
            if not np.isclose(c(x).item(), np.tanh(x @ W.data).sum(), rtol=1e-12):
                wrong.append(x)
    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == [] and len(c.captures) == 1


def test_the_replay_allocates_nothing_per_step():
    X, y = moons()
    step, ps = doc000_step()

    def no_return(X, y):
        step(X, y)
    c = te.compile(no_return)
    for _ in range(3):
        c(X, y)
    tracemalloc.start()
    c(X, y)
    base = tracemalloc.get_traced_memory()[0]
    for _ in range(200):
        c(X, y)
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 2048, grown


def test_a_float_argument_is_a_replay_input():
    """A learning rate passed as a float changes every call without a new capture."""
    X, y = moons(50)
    lrs = [0.1 / (1 + 0.5 * k) for k in range(20)]

    def make():
        W = Tensor(np.random.default_rng(0).standard_normal((2, 2)), requires_grad=True)

        def step(x, t, lr):
            loss = (x @ W).softmax_cross_entropy(t)
            W.grad = None
            loss.backward()
            with te.no_grad():
                W.sub_(W.grad, alpha=lr)
                W.sub_((lr * 0.5) * W.grad)                    # arithmetic on the traced number too
        return step, [W]
    compiled, _, _ = run_both(make, lambda k: (X, y, lrs[k]), steps=20)
    assert len(compiled.captures) == 1
    assert "lr" in compiled.source


# ---------------------------------------------------------------------------------------------------
# Guards: a stale capture is never replayed

def _simple(scale_holder=None):
    W = Tensor(np.ones((2, 2)), requires_grad=True, name="W")

    def step(x):
        loss = (x @ W).sum()
        W.grad = None
        loss.backward()
        with te.no_grad():
            W.sub_(0.1 * W.grad)
        return loss
    return step, W


def test_a_new_shape_or_dtype_is_captured_anew():
    step, W = _simple()
    c = te.compile(step)
    c(np.ones((3, 2)))
    c(np.ones((3, 2)))
    c(np.ones((5, 2)))
    c(np.ones((5, 2), dtype=np.float32))
    assert len(c.captures) == 3 and len(c.misses) == 3
    assert "new signature" in c.misses[1]


def test_replacing_a_parameters_data_is_captured_anew():
    step, W = _simple()
    c = te.compile(step)
    x = np.ones((3, 2))
    c(x)
    W.data = np.zeros((2, 2))                     # a new array: the old capture wrote the old one
    c(x)
    expected = np.zeros((2, 2)) - 0.1 * (x.T @ np.ones((3, 2)))
    close(W.data, expected)
    assert "replaced" in c.misses[-1]


def test_a_changed_global_number_is_captured_anew():
    global RATE
    RATE = 0.1
    W = Tensor(np.ones(2), requires_grad=True)

    def step():
        loss = (W * W).sum()
        W.grad = None
        loss.backward()
        with te.no_grad():
            W.sub_(W.grad, alpha=RATE)
    c = te.compile(step)
    c()
    RATE = 0.5
    c()
    close(W.data, np.ones(2) * 0.8 * (1 - 2 * 0.5))
    assert "RATE" in c.misses[-1]


def test_a_closure_number_is_guarded():
    rate = 0.1
    W = Tensor(np.ones(2), requires_grad=True)

    def step():
        loss = (W * W).sum()
        W.grad = None
        loss.backward()
        with te.no_grad():
            W.sub_(W.grad, alpha=rate)
    c = te.compile(step)
    c()
    rate = 0.5  # noqa: F841 (read through the closure)
    c()
    close(W.data, np.ones(2) * 0.8 * (1 - 2 * 0.5))


def test_a_tensor_rebound_in_the_closure_is_captured_anew():
    W = Tensor(np.ones(2), requires_grad=True)
    shift = Tensor(np.zeros(2))

    def step(x):
        return (x * W + shift).sum()
    c = te.compile(step)
    assert c(np.ones(2)).item() == 2.0
    shift = Tensor(np.full(2, 10.0))  # noqa: F841 (read through the closure)
    assert c(np.ones(2)).item() == 22.0
    assert "shift" in c.misses[-1]


def test_grad_mode_is_part_of_the_signature():
    W = Tensor(np.ones(2), requires_grad=True)
    c = te.compile(lambda x: (x * W).sum())
    a = c(np.ones(2))
    with te.no_grad():
        b = c(np.ones(2))
    assert len(c.captures) == 2 and a.item() == b.item() == 2.0
    assert a.requires_grad is False


def test_a_grad_accumulated_across_calls_is_read_each_call():
    W = Tensor(np.ones(2), requires_grad=True)

    def step(x):                                    # no zero_grad: gradients add up, as in eager
        (W * x).sum().backward()
    c = te.compile(step)
    for k in range(3):
        c(np.full(2, 1.0 + k))
    close(W.grad.data, np.full(2, 1.0 + 2.0 + 3.0))
    assert len(c.misses) == 2                       # W.grad was None at the first call only
    W.grad = None
    c(np.ones(2))
    close(W.grad.data, np.ones(2))


def test_changing_a_model_recaptures():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    c = te.compile(lambda x: model(x).sum())
    c(np.ones((1, 2)))
    model.extra = nn.Linear(3, 3)
    model[0].weight = nn.Parameter(np.zeros((2, 3)))
    out = c(np.ones((1, 2)))
    assert out.item() == pytest.approx(float(np.tanh(model[0].bias.data).sum()))
    assert len(c.misses) == 2


def test_too_many_captures_is_a_clear_error():
    step, W = _simple()
    c = te.compile(step, cache_size=3)
    for n in range(1, 4):
        c(np.ones((n, 2)))
    with pytest.raises(TraceError, match="captured 3 times"):
        c(np.ones((4, 2)))


def test_detect_anomaly_runs_the_step_eagerly():
    W = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    c = te.compile(lambda x: (W * x).log().sum().backward())
    with te.detect_anomaly(), np.errstate(invalid="ignore"), pytest.raises(te.AnomalyError, match="log"):
        c(np.array([1.0, 1.0]))
    assert c.captures == {}


def test_the_label_check_stays_in_the_replay_and_runs_before_any_update():
    X, y = moons()
    step, ps = doc000_step()
    c = te.compile(step)
    c(X, y)
    before = [p.data.copy() for p in ps]
    bad = y.copy()
    bad[-1] = 2                                             # a class the 2-way net does not have
    with pytest.raises(te.LabelError, match="label 2 at position 199"):
        c(X, bad)
    for p, b in zip(ps, before):
        np.testing.assert_array_equal(p.data, b)
    bad[-1] = -1
    with pytest.raises(te.LabelError, match="label -1"):
        c(X, bad)


# ---------------------------------------------------------------------------------------------------
# What cannot be captured: TraceError at the capture, naming the line and the fix


def _traced_error(body):
    W = Tensor(np.ones(2), requires_grad=True)

    def step(x):
        return body(x * W)
    with pytest.raises(TraceError) as info:
        te.compile(step)(np.ones(2))
    return str(info.value)


@pytest.mark.parametrize("what, body", [
    ("bool()", lambda t: t.sum() if bool(t.sum() > 0) else t),
    (".item()", lambda t: t.sum().item()),
    ("float", lambda t: float(t.sum())),
    (".numpy()", lambda t: t.numpy()),
    (".data", lambda t: t.data + 1),
    ("np.asarray", lambda t: np.asarray(t)),
    (".tolist()", lambda t: t.tolist()),
])
def test_reading_a_traced_value_is_refused(what, body):
    message = _traced_error(body)
    assert "test_compile.py" in message and "Fix:" in message


def test_numpy_random_inside_a_step_is_refused():
    message = _traced_error(lambda t: t * np.random.rand(2))
    assert "np.random.rand" in message
    assert callable(np.random.rand) and np.random.rand(1).shape == (1,)        # restored afterwards


def test_setitem_and_create_graph_are_refused():
    assert "x[index] = value" in _traced_error(lambda t: t.detach().__setitem__(0, 1.0))
    W = Tensor(np.ones(2), requires_grad=True)

    def step(x):
        te.grad((W * x).sum(), W, create_graph=True)
    with pytest.raises(TraceError, match="create_graph"):
        te.compile(step)(np.ones(2))


def test_an_argument_aliasing_a_parameter_is_refused():
    W = Tensor(np.ones(2), requires_grad=True)

    def step(x):
        return (Tensor(x) * W).sum()
    with pytest.raises(TraceError, match="pass a copy"):
        te.compile(step)(W.data)
    assert te.compile(step)(np.array(W.data)).item() == 2.0


def test_decisions_on_a_traced_float_are_refused():
    W = Tensor(np.ones(2), requires_grad=True)

    def step(x, lr):
        if lr > 0.05:
            return (W * x).sum()
    with pytest.raises(TraceError, match="decision"):
        te.compile(step)(np.ones(2), 0.1)

    def step2(x, lr):
        return Tensor(np.ones(2)) * float(lr)
    with pytest.raises(TraceError):
        te.compile(step2)(np.ones(2), 0.1)


def test_a_failed_capture_leaves_the_tracer_off():
    _traced_error(lambda t: t.sum().item())
    assert not te.capturing()
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert (x * 2).sum().item() == 6.0


# ---------------------------------------------------------------------------------------------------
# Seeing it

def test_print_lists_the_tape_with_phases_and_shapes():
    X, y = moons()
    step, ps = doc000_step()
    c = te.compile(step)
    assert "not captured yet" in str(c)
    c(X, y)
    text = str(c)
    assert "-- forward" in text and "-- backward" in text and "-- update" in text
    assert "(200, 3) float64" in text and "softmax_cross_entropy" in text


def test_draw_graph_of_a_compiled_step():
    X, y = moons()
    step, ps = doc000_step()
    c = te.compile(step)
    c(X, y)
    dot = te.to_dot(c)
    assert "W1" in dot and "tanh" in dot and "softmax_cross_entropy" in dot
