"""How fast is tinygrad_edu? Per-step time against hand-written NumPy (and PyTorch eager, if installed).

    python examples/benchmark.py            # full run (a minute or two)
    python examples/benchmark.py --quick    # a rough run in well under a minute
    python examples/benchmark.py --json results.json

Every workload is run by each contestant, interleaved in one process, several repeats; the table shows
the median time per step, its spread over the repeats, and its ratio to the first contestant (the best
hand-written NumPy of the same step) measured in the same repeat.

  W1  document 000's network: 2-3-2 tanh, summed softmax cross-entropy + L2 (λ = 0.01), full batch of
      200 moons points, gradient descent ε = 0.01, float64.
  W2  an MNIST-sized MLP: 784-100-10 sigmoid, mean softmax cross-entropy, SGD lr 0.1, batch 100,
      float32, synthetic data of MNIST's shape.
  W3  document 003's network: 2-25-50-25-2 sigmoid, quadratic cost ½‖a − y‖², one sample per update
      (pure per-op overhead), lr 0.01, float64.
  add        forward + backward of one `+` of two (3, 2) arrays, against the bare NumPy add.
  inference  W2's forward pass under no_grad, against the NumPy forward pass.
  capture    the first call of each compiled step: capture, code generation, compilation.
  memory     tracemalloc: eager W1's traced memory after 10,000 steps vs after 100 (the graph is freed
      every step); a compiled replay allocates nothing; W2's peak per step for each contestant.

Contestants:
  numpy-lean   hand-written NumPy without recomputation, in place where it reads naturally: the
               reference of every ratio.
  numpy (doc)  hand-written backprop in the documents' style (000's build_model loop, the TwoLayerNet of
               001's book with its sigmoid_grad, 003's Layer.backward).
  engine       tinygrad_edu used as a user would: Tensor ops, loss.backward(), in-place updates under
               no_grad; engine+nn: the same network with nn.Sequential/nn.Linear and nn.SGD.
  compiled     engine's step under te.compile; compiled+nn: nn's training step under te.compile (what
               nn.fit runs by default).
  torch        PyTorch eager on the CPU with one thread, the same ops and updates (when installed).
All contestants start from the same weights and do the same arithmetic; the script checks that they end
with the same weights, so no one is timed doing less work.
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # one BLAS thread for everyone: stable, comparable
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import nn  # noqa: E402
import tinygrad_edu as te  # noqa: E402
from tinygrad_edu import Tensor  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except ImportError:
    torch = None


# ---------------------------------------------------------------------------------------------------
# Data and initial weights shared by every contestant

def moons(n=200, noise=0.2, seed=0):
    """Two interleaved half circles (the same construction as scikit-learn's make_moons)."""
    rng = np.random.RandomState(seed)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack([np.r_[np.cos(t_out), 1 - np.cos(t_in)], np.r_[np.sin(t_out), 1 - np.sin(t_in) - 0.5]]).T
    y = np.r_[np.zeros(n_out, np.int64), np.ones(n_in, np.int64)]
    perm = rng.permutation(n)
    return X[perm] + rng.normal(scale=noise, size=(n, 2)), y[perm]


def init_w1(H=3):
    rng = np.random.RandomState(0)
    return [rng.randn(2, H) / np.sqrt(2), np.zeros((1, H)), rng.randn(H, 2) / np.sqrt(H), np.zeros((1, 2))]


def init_w2():
    rng = np.random.RandomState(1)
    f = np.float32
    return [(0.01 * rng.randn(784, 100)).astype(f), np.zeros(100, f),
            (0.01 * rng.randn(100, 10)).astype(f), np.zeros(10, f)]


def data_w2(n_batches=20, batch=100):
    rng = np.random.RandomState(2)
    xs = [rng.rand(batch, 784).astype(np.float32) for _ in range(n_batches)]
    ys = [rng.randint(0, 10, batch) for _ in range(n_batches)]
    ts = [np.eye(10, dtype=np.float32)[y] for y in ys]          # one-hot, as the book's loader gives
    return xs, ys, ts


def init_w3():
    rng = np.random.RandomState(3)
    sizes = [2, 25, 50, 25, 2]
    params = []
    for i, o in zip(sizes[:-1], sizes[1:]):       # document 003's Layer initialisation
        params += [rng.randn(i, o) * np.sqrt(1 / o), rng.randn(1, o) * 0.1]
    return params


def data_w3(n=64):
    X, y = moons(n, seed=4)
    Y = np.eye(2)[y]
    return [(X[i:i + 1], Y[i:i + 1]) for i in range(n)]


# ---------------------------------------------------------------------------------------------------
# W1 — document 000

def w1_numpy(params, X, y, eps=0.01, lam=0.01):
    W1, b1, W2, b2 = params
    N = len(X)

    def step():
        nonlocal W1, b1, W2, b2                 # updated in place, as in the document's loop
        z1 = X.dot(W1) + b1
        a1 = np.tanh(z1)
        z2 = a1.dot(W2) + b2
        exp_scores = np.exp(z2)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        delta3 = probs
        delta3[range(N), y] -= 1
        dW2 = (a1.T).dot(delta3)
        db2 = np.sum(delta3, axis=0, keepdims=True)
        delta2 = delta3.dot(W2.T) * (1 - np.power(a1, 2))
        dW1 = np.dot(X.T, delta2)
        db1 = np.sum(delta2, axis=0)
        dW2 += lam * W2
        dW1 += lam * W1
        W1 += -eps * dW1
        b1 += -eps * db1
        W2 += -eps * dW2
        b2 += -eps * db2
    step.params = params
    return step


def w1_numpy_lean(params, X, y, eps=0.01, lam=0.01):
    """The same step as lean hand-written NumPy: no recomputation, in-place where it reads naturally."""
    W1, b1, W2, b2 = params
    rows = np.arange(len(X))

    def step():
        a1 = np.tanh(X @ W1 + b1)
        z2 = a1 @ W2 + b2
        p = np.exp(z2 - z2.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[rows, y] -= 1                          # δ3 = ŷ − y
        d1 = (p @ W2.T) * (1 - a1 * a1)
        dW2 = a1.T @ p + lam * W2
        dW1 = X.T @ d1 + lam * W1
        W1[...] -= eps * dW1                     # (in place: the weights are the caller's arrays)
        b1[...] -= eps * d1.sum(axis=0)
        W2[...] -= eps * dW2
        b2[...] -= eps * p.sum(axis=0)
    step.params = params
    return step


def w1_engine(params, X, y, eps=0.01, lam=0.01):
    W1, b1, W2, b2 = ps = [Tensor(p, requires_grad=True) for p in params]
    x = Tensor(X)

    def step():
        loss = ((x @ W1 + b1).tanh() @ W2 + b2).softmax_cross_entropy(y, reduction="sum")
        for p in ps:
            p.grad = None
        loss.backward()
        with te.no_grad():
            W1.grad += lam * W1                 # the document's L2 term dW += λW (SGD's weight_decay)
            W2.grad += lam * W2
            for p in ps:
                p.add_(p.grad, alpha=-eps)
    step.params = ps
    return step


def w1_compiled(params, X, y, eps=0.01, lam=0.01):
    """w1_engine's step, compiled with te.compile (captured at the first call, replayed after)."""
    W1, b1, W2, b2 = ps = [Tensor(p, requires_grad=True) for p in params]

    @te.compile
    def train(x, labels):
        loss = ((x @ W1 + b1).tanh() @ W2 + b2).softmax_cross_entropy(labels, reduction="sum")
        for p in ps:
            p.grad = None
        loss.backward()
        with te.no_grad():
            W1.grad += lam * W1
            W2.grad += lam * W2
            for p in ps:
                p.add_(p.grad, alpha=-eps)

    def step():
        train(X, y)
    step.params, step.compiled = ps, train
    return step


def _set_linear(layer, W, b):
    """Give an nn.Linear the benchmark's starting weights (the documents' biases are (1, H) rows)."""
    layer.weight.data = np.array(W)
    layer.bias.data = np.array(b).reshape(-1)


def _nn_params(model):
    """The model's parameters as the plain (W, b) list the other contestants use, for the check."""
    return [p for layer in model if isinstance(layer, nn.Linear) for p in (layer.weight, layer.bias)]


def w1_nn(params, X, y, eps=0.01, lam=0.01):
    """The same network declared with nn: Linear layers (one fused op each), SGD's weight decay on the
    weights (the document's dW += λW), summed softmax cross-entropy."""
    H = params[0].shape[1]
    model = nn.Sequential(nn.Linear(2, H), nn.Tanh(), nn.Linear(H, 2))
    _set_linear(model[0], *params[:2])
    _set_linear(model[2], *params[2:])
    loss_fn = nn.SoftmaxCrossEntropy(reduction="sum")
    opt = nn.SGD(model.parameters(), lr=eps, weight_decay=lam)
    x = Tensor(X)

    def step():
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    step.params = _nn_params(model)
    return step


def w1_nn_compiled(params, X, y, eps=0.01, lam=0.01):
    """w1_nn's network and optimizer, its training step compiled (what nn.fit runs by default)."""
    H = params[0].shape[1]
    model = nn.Sequential(nn.Linear(2, H), nn.Tanh(), nn.Linear(H, 2))
    _set_linear(model[0], *params[:2])
    _set_linear(model[2], *params[2:])
    opt = nn.SGD(model.parameters(), lr=eps, weight_decay=lam)
    train = nn.train.training_step(model, nn.SoftmaxCrossEntropy(reduction="sum"), opt, compile=True)

    def step():
        train(X, y)
    step.params, step.compiled = _nn_params(model), train
    return step


def w1_torch(params, X, y, eps=0.01, lam=0.01):
    W1, b1, W2, b2 = ps = [torch.tensor(p, requires_grad=True) for p in params]
    x, t = torch.tensor(X), torch.tensor(y)
    ce = torch.nn.functional.cross_entropy

    def step():
        loss = ce(torch.tanh(x @ W1 + b1) @ W2 + b2, t, reduction="sum")
        for p in ps:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            W1.grad += lam * W1
            W2.grad += lam * W2
            for p in ps:
                p.add_(p.grad, alpha=-eps)
    step.params = ps
    return step


# ---------------------------------------------------------------------------------------------------
# W2 — MNIST-sized MLP (document 001's network with backprop, as in its book's next chapter)

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def w2_numpy(params, xs, ys, ts, lr=0.1):
    W1, b1, W2, b2 = params
    k = [0]

    def sigmoid_grad(x):
        return (1.0 - _sigmoid(x)) * _sigmoid(x)

    def step():
        i = k[0] = (k[0] + 1) % len(xs)
        x, t = xs[i], ts[i]
        a1 = np.dot(x, W1) + b1
        z1 = _sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        yy = _softmax(a2)
        dy = (yy - t) / x.shape[0]
        gW2 = np.dot(z1.T, dy)
        gb2 = np.sum(dy, axis=0)
        da1 = np.dot(dy, W2.T)
        dz1 = sigmoid_grad(a1) * da1
        gW1 = np.dot(x.T, dz1)
        gb1 = np.sum(dz1, axis=0)
        for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            p -= lr * g
    step.params = params
    return step


def w2_numpy_lean(params, xs, ys, ts, lr=0.1):
    W1, b1, W2, b2 = params
    k = [0]

    def step():
        i = k[0] = (k[0] + 1) % len(xs)
        x, t = xs[i], ts[i]
        z1 = _sigmoid(x @ W1 + b1)
        yy = _softmax(z1 @ W2 + b2)
        dy = (yy - t) / x.shape[0]
        dz1 = (dy @ W2.T) * z1 * (1 - z1)
        gW1, gb1, gW2, gb2 = x.T @ dz1, dz1.sum(0), z1.T @ dy, dy.sum(0)
        for p, g in ((W1, gW1), (b1, gb1), (W2, gW2), (b2, gb2)):
            p -= lr * g
    step.params = params
    return step


def w2_engine(params, xs, ys, ts, lr=0.1):
    W1, b1, W2, b2 = ps = [Tensor(p, requires_grad=True) for p in params]
    xts = [Tensor(x) for x in xs]
    k = [0]

    def step():
        i = k[0] = (k[0] + 1) % len(xs)
        loss = ((xts[i] @ W1 + b1).sigmoid() @ W2 + b2).softmax_cross_entropy(ys[i])
        for p in ps:
            p.grad = None
        loss.backward()
        with te.no_grad():
            for p in ps:
                p.add_(p.grad, alpha=-lr)
    step.params = ps
    return step


def w2_compiled(params, xs, ys, ts, lr=0.1):
    W1, b1, W2, b2 = ps = [Tensor(p, requires_grad=True) for p in params]
    k = [0]

    @te.compile
    def train(x, labels):
        loss = ((x @ W1 + b1).sigmoid() @ W2 + b2).softmax_cross_entropy(labels)
        for p in ps:
            p.grad = None
        loss.backward()
        with te.no_grad():
            for p in ps:
                p.add_(p.grad, alpha=-lr)

    def step():
        i = k[0] = (k[0] + 1) % len(xs)
        train(xs[i], ys[i])
    step.params, step.compiled = ps, train
    return step


def w2_nn_compiled(params, xs, ys, ts, lr=0.1):
    model = nn.Sequential(nn.Linear(784, 100, dtype=np.float32), nn.Sigmoid(), nn.Linear(100, 10, dtype=np.float32))
    _set_linear(model[0], *params[:2])
    _set_linear(model[2], *params[2:])
    train = nn.train.training_step(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=lr), compile=True)
    k = [0]

    def step():
        i = k[0] = (k[0] + 1) % len(xs)
        train(xs[i], ys[i])
    step.params, step.compiled = _nn_params(model), train
    return step


def w2_nn(params, xs, ys, ts, lr=0.1):
    model = nn.Sequential(nn.Linear(784, 100, dtype=np.float32), nn.Sigmoid(), nn.Linear(100, 10, dtype=np.float32))
    _set_linear(model[0], *params[:2])
    _set_linear(model[2], *params[2:])
    loss_fn = nn.SoftmaxCrossEntropy()
    opt = nn.SGD(model.parameters(), lr=lr)
    xts = [Tensor(x) for x in xs]
    k = [0]

    def step():
        i = k[0] = (k[0] + 1) % len(xs)
        loss = loss_fn(model(xts[i]), ys[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    step.params = _nn_params(model)
    return step


def w2_torch(params, xs, ys, ts, lr=0.1):
    W1, b1, W2, b2 = ps = [torch.tensor(p, requires_grad=True) for p in params]
    xts, yts = [torch.tensor(x) for x in xs], [torch.tensor(y) for y in ys]
    ce = torch.nn.functional.cross_entropy
    k = [0]

    def step():
        i = k[0] = (k[0] + 1) % len(xs)
        loss = ce(torch.sigmoid(xts[i] @ W1 + b1) @ W2 + b2, yts[i])
        for p in ps:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p.add_(p.grad, alpha=-lr)
    step.params = ps
    return step


def w2_infer_numpy(params, xs, ys, ts):
    W1, b1, W2, b2 = params
    k = [0]

    def step():
        i = k[0] = (k[0] + 1) % len(xs)
        return _softmax(_sigmoid(xs[i] @ W1 + b1) @ W2 + b2)
    return step


def w2_infer_engine(params, xs, ys, ts):
    W1, b1, W2, b2 = [Tensor(p, requires_grad=True) for p in params]
    xts = [Tensor(x) for x in xs]
    k = [0]

    @te.no_grad()
    def step():
        i = k[0] = (k[0] + 1) % len(xs)
        return ((xts[i] @ W1 + b1).sigmoid() @ W2 + b2).softmax()
    return step


# ---------------------------------------------------------------------------------------------------
# W3 — document 003, one sample per update

def w3_numpy(params, samples, lr=0.01):
    """Document 003's Layer forward/backward/update, one sample at a time."""
    layers = [params[i:i + 2] for i in range(0, len(params), 2)]
    k = [0]

    def sigmoid_derive(x):
        return _sigmoid(x) * (1 - _sigmoid(x))

    def step():
        x, y = samples[k[0] % len(samples)]
        k[0] += 1
        cache = []
        for W, b in layers:                     # forward: keep x and z of every layer
            z = np.dot(x, W) + b
            cache.append((x, z))
            x = _sigmoid(z)
        upstream = x - y                        # d(½‖a − y‖²)/da
        grads = []
        for (W, b), (xin, z) in zip(reversed(layers), reversed(cache)):
            dz = upstream * sigmoid_derive(z)
            grads.append((np.dot(xin.T, dz), dz))
            upstream = np.dot(dz, W.T)
        for (W, b), (dw, db) in zip(layers, reversed(grads)):
            W -= lr * dw
            b -= lr * db
    step.params = params
    return step


def w3_numpy_lean(params, samples, lr=0.01):
    """Document 003's network as lean NumPy: the sigmoid's derivative from its output a(1 − a)."""
    layers = [params[i:i + 2] for i in range(0, len(params), 2)]
    k = [0]

    def step():
        x, y = samples[k[0] % len(samples)]
        k[0] += 1
        acts = [x]
        for W, b in layers:
            acts.append(_sigmoid(acts[-1] @ W + b))
        up = acts[-1] - y
        for j in range(len(layers) - 1, -1, -1):
            W, b = layers[j]
            a = acts[j + 1]
            dz = up * a * (1 - a)
            if j:
                up = dz @ W.T
            W -= lr * (acts[j].T @ dz)
            b -= lr * dz
    step.params = params
    return step


def w3_engine(params, samples, lr=0.01):
    ps = [Tensor(p, requires_grad=True) for p in params]
    layers = [ps[i:i + 2] for i in range(0, len(ps), 2)]
    data = [(Tensor(x), y) for x, y in samples]
    k = [0]

    def step():
        x, y = data[k[0] % len(data)]
        k[0] += 1
        for W, b in layers:
            x = (x @ W + b).sigmoid()
        loss = 0.5 * x.mse(y, reduction="sum")
        for p in ps:
            p.grad = None
        loss.backward()
        with te.no_grad():
            for p in ps:
                p.add_(p.grad, alpha=-lr)
    step.params = ps
    return step


def w3_nn(params, samples, lr=0.01):
    sizes = [2, 25, 50, 25, 2]
    layers = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(i, o), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    for j, layer in enumerate(model[::2]):
        _set_linear(layer, params[2 * j], params[2 * j + 1])
    loss_fn = nn.QuadraticCost()                        # ½‖a − y‖², summed (the documents' cost)
    opt = nn.SGD(model.parameters(), lr=lr)
    data = [(Tensor(x), y) for x, y in samples]
    k = [0]

    def step():
        x, y = data[k[0] % len(data)]
        k[0] += 1
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    step.params = _nn_params(model)
    return step


def w3_compiled(params, samples, lr=0.01):
    ps = [Tensor(p, requires_grad=True) for p in params]
    layers = [ps[i:i + 2] for i in range(0, len(ps), 2)]
    k = [0]

    @te.compile
    def train(x, y):
        for W, b in layers:
            x = (x @ W + b).sigmoid()
        loss = 0.5 * x.mse(y, reduction="sum")
        for p in ps:
            p.grad = None
        loss.backward()
        with te.no_grad():
            for p in ps:
                p.add_(p.grad, alpha=-lr)

    def step():
        x, y = samples[k[0] % len(samples)]
        k[0] += 1
        train(x, y)
    step.params, step.compiled = ps, train
    return step


def w3_nn_compiled(params, samples, lr=0.01):
    sizes = [2, 25, 50, 25, 2]
    layers = []
    for i, o in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(i, o), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    for j, layer in enumerate(model[::2]):
        _set_linear(layer, params[2 * j], params[2 * j + 1])
    train = nn.train.training_step(model, nn.QuadraticCost(), nn.SGD(model.parameters(), lr=lr), compile=True)
    k = [0]

    def step():
        x, y = samples[k[0] % len(samples)]
        k[0] += 1
        train(x, y)
    step.params, step.compiled = _nn_params(model), train
    return step


def w3_torch(params, samples, lr=0.01):
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    layers = [ps[i:i + 2] for i in range(0, len(ps), 2)]
    data = [(torch.tensor(x), torch.tensor(y)) for x, y in samples]
    k = [0]

    def step():
        x, y = data[k[0] % len(data)]
        k[0] += 1
        for W, b in layers:
            x = torch.sigmoid(x @ W + b)
        loss = 0.5 * ((x - y) ** 2).sum()
        for p in ps:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in ps:
                p.add_(p.grad, alpha=-lr)
    step.params = ps
    return step


# ---------------------------------------------------------------------------------------------------
# One add

def add_numpy():
    a, b = np.random.RandomState(5).randn(2, 3, 2)
    return lambda: a + b


def add_engine():
    a, b = np.random.RandomState(5).randn(2, 3, 2)
    A, B = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    g = np.ones((3, 2))

    def step():
        (A + B).backward(g)
    return step


def add_torch():
    a, b = np.random.RandomState(5).randn(2, 3, 2)
    A, B = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    g = torch.ones(3, 2, dtype=torch.float64)

    def step():
        (A + B).backward(g)
    return step


# ---------------------------------------------------------------------------------------------------

def time_steps(step, n):
    t0 = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - t0) / n


def run_workload(name, makers, steps, repeats, warmup=20):
    """makers: {contestant: zero-arg function returning a step function}. Interleaved repeats: every
    repeat times each contestant once, in turn. Returns {contestant: [seconds per step, per repeat]}."""
    fns = {c: make() for c, make in makers.items()}
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {c: [] for c in fns}
    for _ in range(repeats):
        for c, fn in fns.items():
            samples[c].append(time_steps(fn, steps))
    return samples


def _arrays(params):
    return [p.detach().numpy() if torch is not None and isinstance(p, torch.Tensor) else np.asarray(p)
            for p in params]


WORKLOADS = {   # name -> (contestants, the reference of the ratios first)
    "W1": {"numpy-lean": w1_numpy_lean, "numpy (doc)": w1_numpy, "engine": w1_engine, "engine+nn": w1_nn,
           "compiled": w1_compiled, "compiled+nn": w1_nn_compiled, "torch": w1_torch},
    "W2": {"numpy-lean": w2_numpy_lean, "numpy (doc)": w2_numpy, "engine": w2_engine, "engine+nn": w2_nn,
           "compiled": w2_compiled, "compiled+nn": w2_nn_compiled, "torch": w2_torch},
    "W3": {"numpy-lean": w3_numpy_lean, "numpy (doc)": w3_numpy, "engine": w3_engine, "engine+nn": w3_nn,
           "compiled": w3_compiled, "compiled+nn": w3_nn_compiled, "torch": w3_torch},
}


def verify_same_work(X, y, xs, ys, ts, samples, n=30):
    """Every contestant starts from the same weights; after n steps all must hold the same weights
    (so nobody is timed doing less work). Not timed."""
    data = {"W1": (init_w1, (X, y), 1e-9), "W2": (init_w2, (xs, ys, ts), 1e-4), "W3": (init_w3, (samples,), 1e-9)}
    for label, contestants in WORKLOADS.items():
        init, args, tol = data[label]
        finals = []
        for name, make in contestants.items():
            if name == "torch" and torch is None:
                continue
            step = make(init(), *args)
            for _ in range(n):
                step()
            finals.append((name, _arrays(step.params)))
        ref_name, ref = finals[0]
        for name, arrays in finals[1:]:
            for a, b in zip(ref, arrays):
                if not np.allclose(a, b, rtol=tol, atol=tol):
                    raise SystemExit(f"{label}: {name} ended with weights different from {ref_name} "
                                     f"(max difference {np.abs(a - b).max():.3g})")


def capture_costs(X, y, xs, ys, ts, samples):
    """Milliseconds of the first call of each compiled step: the capture (an eager step with the tracer
    on), writing both programs and compiling the fast one."""
    out = {}
    for label, make, init, args in (("W1", w1_compiled, init_w1, (X, y)), ("W2", w2_compiled, init_w2, (xs, ys, ts)),
                                    ("W3", w3_compiled, init_w3, (samples,))):
        step = make(init(), *args)
        t0 = time.perf_counter()
        step()
        out[label] = (time.perf_counter() - t0) * 1e3
    return out


def memory_checks(quick):
    """Traced memory (tracemalloc): eager W1 after many steps equals that after a few (the graph is freed
    every step); a compiled replay allocates nothing (W1, W3); W2's peak per step for each contestant."""
    X, y = moons()
    n = 2000 if quick else 10000
    growth = {}
    for label, make, args, init in (("W1 engine", w1_engine, (X, y), init_w1),
                                    ("W1 compiled", w1_compiled, (X, y), init_w1),
                                    ("W3 compiled", w3_compiled, (data_w3(),), init_w3)):
        step = make(init(), *args)
        for _ in range(20):
            step()
        tracemalloc.start()
        for _ in range(100):
            step()
        after_100 = tracemalloc.get_traced_memory()[0]
        for _ in range(n - 100):
            step()
        growth[label] = (after_100, tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
    xs, ys, ts = data_w2()
    peaks = {}
    for name, make in (("numpy (doc)", w2_numpy), ("numpy-lean", w2_numpy_lean), ("engine", w2_engine),
                       ("compiled", w2_compiled)):
        fn = make(init_w2(), xs, ys, ts)
        fn()
        fn()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            fn()
        peaks[name] = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        del fn
    return {"steps": n, "growth": growth, "w2_peak": peaks}


def _spread(values):
    """'median (min–max)' of per-repeat times, in µs."""
    us = sorted(v * 1e6 for v in values)
    return statistics.median(us), us[0], us[-1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats (rough figures)")
    ap.add_argument("--repeats", type=int, default=None, help="repeats per contestant (default 7, quick 3)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--only", nargs="*", help="run only these workloads (W1 W2 W3 add inference memory capture)")
    args = ap.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 7)
    scale = 0.2 if args.quick else 1.0
    only = set(args.only or ["W1", "W2", "W3", "add", "inference", "memory", "capture"])

    X, y = moons()
    xs, ys, ts = data_w2()
    samples = data_w3()
    verify_same_work(X, y, xs, ys, ts, samples)
    data = {"W1": (init_w1, (X, y), 1000), "W2": (init_w2, (xs, ys, ts), 200), "W3": (init_w3, (samples,), 1000)}
    workloads = []
    for label, contestants in WORKLOADS.items():
        if label in only:
            init, wargs, steps = data[label]
            makers = {c: (lambda make=make, init=init, wargs=wargs: make(init(), *wargs))
                      for c, make in contestants.items() if c != "torch" or torch is not None}
            workloads.append((label, makers, int(steps * scale)))
    if "add" in only:
        makers = {"numpy": add_numpy, "engine": add_engine}
        if torch:
            makers["torch"] = add_torch
        workloads.append(("add", makers, int(20000 * scale)))
    if "inference" in only:
        makers = {"numpy": lambda: w2_infer_numpy(init_w2(), xs, ys, ts),
                  "engine": lambda: w2_infer_engine(init_w2(), xs, ys, ts)}
        workloads.append(("inference", makers, int(300 * scale)))

    print(f"tinygrad_edu {te.__version__} | Python {platform.python_version()} | NumPy {np.__version__}"
          + (f" | PyTorch {torch.__version__} (1 thread)" if torch else " | PyTorch not installed")
          + f" | {platform.machine()} {os.cpu_count()} cores | {repeats} interleaved repeats")
    results = {"meta": {"python": platform.python_version(), "numpy": np.__version__,
                        "torch": torch.__version__ if torch else None, "machine": platform.machine(),
                        "repeats": repeats, "quick": args.quick, "date": time.strftime("%Y-%m-%d")},
               "workloads": {}}
    header = f"{'workload':<10} {'contestant':<12} {'µs/step':>9} {'(min–max)':>16} {'× ref':>7}"
    print(header + "    (ref: the first contestant, measured in the same run)")
    print("-" * len(header))
    for name, makers, steps in workloads:
        samples_ = run_workload(name, makers, steps, repeats)
        ref_name = next(iter(makers))
        res = results["workloads"][name] = {}
        for c, v in samples_.items():
            med, lo, hi = _spread(v)
            ratios = sorted(a / b for a, b in zip(v, samples_[ref_name]))      # per repeat, paired
            res[c] = {"us_per_step": med, "us_min": lo, "us_max": hi, "ratio": statistics.median(ratios),
                      "ratio_min": ratios[0], "ratio_max": ratios[-1], "reference": ref_name}
            print(f"{name:<10} {c:<12} {med:>9.1f} {f'({lo:.1f}–{hi:.1f})':>16} {res[c]['ratio']:>7.2f}")
        if "torch" in samples_:
            for c in ("engine", "engine+nn") if "engine+nn" in samples_ else ("engine",):
                r = statistics.median(a / b for a, b in zip(samples_[c], samples_["torch"]))
                res[c]["ratio_to_torch"] = r
                print(f"{name:<10} {c + '/torch':<12} {'':>9} {'':>16} {r:>7.2f}")
    if "capture" in only:
        costs = capture_costs(X, y, xs, ys, ts, samples)
        results["capture_ms"] = costs
        print("capture    first call of the compiled step (capture + code generation): "
              + ", ".join(f"{k} {v:.0f} ms" for k, v in costs.items()))
    if "memory" in only:
        mem = memory_checks(args.quick)
        results["memory"] = mem
        for label, (a, b) in mem["growth"].items():
            print(f"memory     {label}: traced {a / 1024:.1f} KiB after 100 steps, {b / 1024:.1f} KiB after "
                  f"{mem['steps']} (growth {(b - a) / 1024:+.1f} KiB)")
        p = mem["w2_peak"]
        print("memory     W2 peak per step: " + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in p.items())
              + f" (compiled/engine {p['compiled'] / p['engine']:.2f})")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return results


if __name__ == "__main__":
    main()
