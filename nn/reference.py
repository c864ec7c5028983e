"""The reference documents' hand-derived backprop, written as plain NumPy: the independent oracle.

Each of the five reference documents derives the gradients of a small network by hand. The documents
themselves are not part of this repository: docs/documents.md tells, in our words, what each one
derives and runs and what this project reproduces of it. Docstrings here cite a document by the name
of our reference copy (000_7df5dfa3a221338a.txt ... 004_4294ce1bbe7cb7a4.txt; the number is what
matters). This module writes those formulas down once more, as our own code, one function per formula,
with the document and the formula in its docstring. `tests/test_reference.py` then checks, in float64, that the
engine's generic autodiff gives the same numbers (to 1e-10), that whole training runs end with the same
weights, and that the documents' bugs - kept here as named `*_buggy` variants - are caught.

Nothing here uses the engine: only NumPy computes (the error classes are the engine's, so a caller
catches one hierarchy). Functions are pure: they return new arrays and never modify their arguments
(numerical_gradient, like the book's, perturbs its x in place and restores it). Dtypes follow the
inputs; compare gradients in float64. Random initialisers take a seed (or a np.random.RandomState)
and draw exactly what the documents' `np.random.seed(seed)` followed by their calls draws.

Formula -> reference function (the tests of each are listed in the README / the task report)

  000_7df5dfa3a221338a.txt  moons, 2-H-2 tanh/softmax net
    make_moons(200, noise=0.20) after np.random.seed(0)             moons_data
    W1 = randn(2, H)/√2, W2 = randn(H, 2)/√H, b = 0                 moons_init
    z1 = xW1 + b1, a1 = tanh z1, z2 = a1W2 + b2, ŷ = softmax z2     moons_forward
    L = (Σn −log ŷ[n, yn] + λ/2 (‖W1‖² + ‖W2‖²)) / N                moons_loss
    δ3 = ŷ − y, δ2 = (1 − tanh² z1) ∘ δ3W2ᵀ,                        moons_gradients
      dW2 = a1ᵀδ3 + λW2, db2 = Σδ3, dW1 = xᵀδ2 + λW1, db1 = Σδ2
    W ← W − ε dW, annealed ε_t = ε / (1 + d·t) (the exercise)       moons_step
    20,000 passes and the printed loss table                        moons_train
    (a start moved by one ulp, to see what depends on rounding)     one_ulp
    class = argmax ŷ                                                moons_predict

  001_7e031f406447f680.txt  TwoLayerNet, sigmoid hidden layer, softmax, cross-entropy
    W = 0.01·randn, b = 0                                           two_layer_init
    y = softmax(σ(xW1 + b1) W2 + b2)                                two_layer_predict, softmax
    E = −Σn log(y[n, tn] + 1e-7) / N                                cross_entropy_error, two_layer_loss
    dy = (y − t)/N, dW2 = z1ᵀdy, db2 = Σdy,                         two_layer_gradient
      dz1 = σ'(a1) ∘ dy W2ᵀ, dW1 = xᵀdz1, db1 = Σdz1
    ∂f/∂x ≈ (f(x + h) − f(x − h)) / 2h, h = 1e-4                    numerical_gradient,
                                                                    two_layer_numerical_gradient
    W ← W − lr·grad on mini-batches drawn with np.random.choice     two_layer_sgd_step, sample_batches,
                                                                    two_layer_train

  002_5e80477a8f6992aa.txt  network2 (column vectors, w of shape (out, in))
    σ'(z) = σ(z)(1 − σ(z))                                          sigmoid_derivative
    C = ½‖a − y‖²,  δL = (a − y) ∘ σ'(z)                            QuadraticCost
    C = Σ −y ln a − (1 − y) ln(1 − a),  δL = a − y                  CrossEntropyCost
    δl = (w^(l+1)ᵀ δ^(l+1)) ∘ σ'(zl), ∇b = δl, ∇w = δl a^(l−1)ᵀ     network2_backprop
    L2: w ← (1 − ηλ/n) w − (η/m) Σ∇w                                network2_update_mini_batch
    L1: w ← w − (ηλ/n) sign(w) − (η/m) Σ∇w                          network2_update_mini_batch(penalty='L1')
    the notes' L1: w ← (1 − (ηλ/n) sign(w)) w − (η/m) Σ∇w  (bug)    network2_update_mini_batch_l1_buggy
    (1/n) Σ C + ½(λ/n) Σ‖w‖²  or  + (λ/n) Σ|w|                      network2_total_cost
    the notes' L1 cost (1/n) Σ C + (λ/n) Σ‖w‖_F  (bug)              network2_total_cost_l1_buggy
    w = randn(out, in)/√in (book), rand(out, in)/√in (notes)        network2_init, network2_init_notes
    the exercise: CE's cost_derivative ∂C/∂a = (a − y)/(a(1 − a))   cross_entropy_cost_derivative
      and network.py's δᴸ = cost_derivative ∘ σ'(z)                 quadratic_cost_derivative, output_delta
    one-hot column e_j                                              vectorized_result
    a^l = σ(w^l a^(l−1) + b^l)                                      network2_feedforward
    shuffled mini-batches, epoch after epoch                        epoch_batches, network2_train

  003_e7f486d18d6db934.txt  stacked fully connected layers (samples as (1, features) rows)
    f and f'(z) for identity, sigmoid, tanh, relu                   identity, sigmoid, tanh, relu,
                                                                    *_derivative, ACTIVATIONS
    relu = np.max(0, x)  (bug)                                      relu_buggy
    tan_derive = 1 − x², applied to z  (bug)                        tanh_derivative_buggy
    z = xW + b, a = f(z)                                            layer_forward
    dz = up ∘ f'(z), dW = xᵀdz, db = dz, up' = dz Wᵀ                layer_backward
    W = randn(in, out)·√(1/out), b = 0.1·randn(1, out)              mlp_init
    layers stacked; loss ½‖a − y‖², first upstream a − y            mlp_forward, mlp_gradients
    per-sample updates, epoch mse                                   mlp_step, mlp_train

  004_4294ce1bbe7cb7a4.txt  XOR question, 2-2-1 sigmoid net, column vectors, BCE
    uniform [−0.12, 0.12) after np.random.seed(565113221)           xor_init, xor_data
    a = W1x, z = σ(a + b1), b = W2z, ŷ = σ(b + b2)                  xor_forward
    −y ln ŷ − (1 − y) ln(1 − ŷ)                                     xor_loss
    dW2 = (ŷ − y) zᵀ, db2 = ŷ − y, db1 = W2ᵀ(ŷ − y) ∘ z(1 − z),     xor_gradients
      dW1 = db1 xᵀ
    every gradient first, then the update                           xor_step
    W2 updated before W1's gradient uses it  (bug)                  xor_step_buggy
    per-sample training, prediction                                 xor_train, xor_pred
    the answer's evolution strategy (no gradients)                  xor_evolution_strategy

KNOWN_BUGS maps each buggy variant's name to a one-paragraph explanation (tests quote it).

Conventions: 000, 001 and 003 put samples in rows (x: (N, features)); 002 and 004 use column vectors
(x: (features, 1)) and weights of shape (out, in), as their documents do. Parameters travel as dicts
{'W1': ..., 'b1': ..., ...} (000, 001, 004), as network2's (biases, weights) lists (002), or as a list
of (W, b) pairs (003); gradients use the same keys and shapes as the parameters.
"""
import numpy as np

from tinygrad_edu.errors import ArgumentError, LabelError, ShapeError

KNOWN_BUGS = {
    "relu_buggy": (
        "003_e7f486d18d6db934.txt writes relu(x) as np.max(0, x). np.max is a reduction, "
        "np.max(a, axis): it takes 0 as the array and x as the axis, so for any float array it raises "
        "TypeError ('only integer scalar arrays can be converted to a scalar index'). The elementwise "
        "rectifier is np.maximum(x, 0)."),
    "tanh_derivative_buggy": (
        "003_e7f486d18d6db934.txt writes tan_derive(x) = 1 − x², the derivative of tanh expressed in its "
        "output y = tanh(z), but Layer.backward passes it the pre-activation z. The derivative at z is "
        "1 − tanh²(z); 1 − z² is wrong everywhere except z = 0 (and negative for |z| > 1)."),
    "network2_update_mini_batch_l1_buggy": (
        "002_5e80477a8f6992aa.txt's L1 update is (1 − η(λ/n)·sign(w))·w, i.e. w − η(λ/n)·|w|: it shrinks "
        "by |w| and pushes negative weights further from zero. The derivative of (λ/n)Σ|w| is "
        "(λ/n)·sign(w), so the L1 step is w − η(λ/n)·sign(w)."),
    "network2_total_cost_l1_buggy": (
        "002_5e80477a8f6992aa.txt's L1 cost adds (λ/n)·Σ np.linalg.norm(w): np.linalg.norm of a matrix is "
        "the Frobenius norm √Σw², not the L1 norm Σ|w| whose derivative the L1 update uses."),
    "xor_step_buggy": (
        "004_4294ce1bbe7cb7a4.txt updates W2 and b2 first and then computes W1's and b1's gradients with "
        "the already updated W2. Backprop's gradients all belong to the same weights: compute every "
        "gradient first, then update."),
}


# ---------------------------------------------------------------------------------------------------
# Small shared pieces

def sigmoid(x):
    """σ(x) = 1 / (1 + e^−x), elementwise, as every document writes it (001, 002, 003, 004)."""
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_derivative(z):
    """σ'(z) = σ(z)(1 − σ(z)), evaluated at the pre-activation z.

    It is network2's `sigmoid_prime` (002_5e80477a8f6992aa.txt), the book's `sigmoid_grad`
    (001_7e031f406447f680.txt's TwoLayerNet) and 003_e7f486d18d6db934.txt's `sigmoid_derive`."""
    s = sigmoid(z)
    return s * (1.0 - s)


def _legacy_rng(seed):
    """A np.random.RandomState: `RandomState(s).randn(...)` draws exactly what the documents'
    `np.random.seed(s); np.random.randn(...)` draws, without touching NumPy's global state."""
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(seed)


def _expect(op, name, arr, shape):
    """Raise ShapeError unless arr is an array of `shape` (None entries match any size)."""
    actual = np.shape(arr)
    if len(actual) != len(shape) or any(s is not None and s != a for s, a in zip(shape, actual)):
        dims = ["any" if s is None else str(s) for s in shape]
        want = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
        raise ShapeError(f"{op}: {name} has shape {actual}, expected {want}")


def _labels(op, y, n, n_classes):
    """Integer labels (n,) in [0, n_classes), or LabelError naming the op."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise LabelError(f"{op}: labels y have shape {y.shape}, expected ({n},) (one per row of X)")
    if y.dtype.kind not in "iu":
        raise LabelError(f"{op}: labels y must be integers, got dtype {y.dtype}")
    if n and (y.min() < 0 or y.max() >= n_classes):
        raise LabelError(f"{op}: labels must lie in 0..{n_classes - 1}, got values {y.min()}..{y.max()}")
    return y


def _one_hot(op, t, n, n_classes):
    """t as (n, n_classes) one-hot rows: given as such, or built from integer labels (n,)."""
    t = np.asarray(t)
    if t.shape == (n, n_classes):
        return t
    labels = _labels(op, t, n, n_classes)
    rows = np.zeros((n, n_classes))
    rows[np.arange(n), labels] = 1.0
    return rows


def _copy(params):
    return {k: np.array(v, copy=True) for k, v in params.items()}


def one_ulp(a, index=0, direction=1):
    """A float64 copy of the array `a` with one element (flat `index`) moved to the next representable
    number up (direction=+1) or down (-1): np.nextafter, a change of one unit in the last place (ulp).

    Different CPUs - and NumPy's different SIMD code paths on one CPU - round sums differently by about
    this much. Long training runs of the documents are chaotic in places (000's ε = 0.01 run, the H = 2
    network), so a number that changes when a starting weight moves by one ulp depends on rounding and
    can differ from machine to machine; the tests assert only what survives such a nudge."""
    out = np.array(a, dtype=np.float64, copy=True)
    flat = out.reshape(-1)                                  # a view: writing it writes out
    flat[index] = np.nextafter(flat[index], np.inf if direction > 0 else -np.inf)
    return out


# ---------------------------------------------------------------------------------------------------
# 000_7df5dfa3a221338a.txt: the 2-H-2 tanh/softmax network on the moons data

def moons_data(n_samples=200, noise=0.2, seed=0):
    """The two interleaved half circles of 000_7df5dfa3a221338a.txt, point for point.

    The document runs `np.random.seed(0); X, y = sklearn.datasets.make_moons(200, noise=0.20)`. This
    follows the same recipe as scikit-learn's make_moons (upper half circle for class 0, lower shifted
    half circle for class 1, a random permutation, then Gaussian noise) with the same random stream,
    so it returns the same points without needing scikit-learn.

    Returns X (n_samples, 2) float64 and y (n_samples,) integer labels in {0, 1}.
    """
    rng = _legacy_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    # Written 1 − sin − 0.5 (not 0.5 − sin) to round exactly like scikit-learn.
    X = np.vstack([np.append(np.cos(t_out), 1 - np.cos(t_in)),
                   np.append(np.sin(t_out), 1 - np.sin(t_in) - 0.5)]).T       # (n, 2)
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    rng.shuffle(order)
    X, y = X[order], y[order]
    if noise:
        X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


def moons_init(nn_hdim, nn_input_dim=2, nn_output_dim=2, seed=0):
    """000_7df5dfa3a221338a.txt's build_model initialisation (after np.random.seed(0)):
    W1 = randn(D, H)/√D, b1 = 0 (1, H), W2 = randn(H, C)/√H, b2 = 0 (1, C)."""
    rng = _legacy_rng(seed)
    W1 = rng.randn(nn_input_dim, nn_hdim) / np.sqrt(nn_input_dim)
    b1 = np.zeros((1, nn_hdim))
    W2 = rng.randn(nn_hdim, nn_output_dim) / np.sqrt(nn_hdim)
    b2 = np.zeros((1, nn_output_dim))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def _check_moons(op, params, X):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    _expect(op, "X", X, (None, None))
    _expect(op, "W1", W1, (np.shape(X)[1], None))
    H = np.shape(W1)[1]
    _expect(op, "b1", b1, (1, H))
    _expect(op, "W2", W2, (H, None))
    _expect(op, "b2", b2, (1, np.shape(W2)[1]))
    return W1, b1, W2, b2


def moons_forward(params, X):
    """Forward pass of 000_7df5dfa3a221338a.txt:

        z1 = x W1 + b1,  a1 = tanh(z1),  z2 = a1 W2 + b2,  ŷ = softmax(z2) = e^z2 / Σ e^z2

    X (N, D); W1 (D, H), b1 (1, H), W2 (H, C), b2 (1, C). Returns z1, a1 (N, H), z2, probs (N, C).
    Like the document, the softmax does not subtract the row maximum first.
    """
    W1, b1, W2, b2 = _check_moons("moons_forward", params, X)
    z1 = X.dot(W1) + b1                                       # (N, H)
    a1 = np.tanh(z1)
    z2 = a1.dot(W2) + b2                                      # (N, C)
    exp_scores = np.exp(z2)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    return z1, a1, z2, probs


def moons_loss(params, X, y, reg_lambda=0.01):
    """000_7df5dfa3a221338a.txt's calculate_loss, the number it prints:

        L = ( Σn −log ŷ[n, yn]  +  λ/2 (‖W1‖² + ‖W2‖²) ) / N

    Note that the 1/N divides the L2 term too, and that moons_gradients (the document's backprop) is
    the gradient of N·L, the *summed* cross-entropy plus λ/2 (‖W1‖² + ‖W2‖²): the document prints a
    mean but descends along a sum. X (N, D), y (N,) integer labels. Returns a float.
    """
    _, _, _, probs = moons_forward(params, X)
    N = len(X)
    y = _labels("moons_loss", y, N, probs.shape[1])
    data_loss = np.sum(-np.log(probs[np.arange(N), y]))
    data_loss += reg_lambda / 2 * (np.sum(np.square(params["W1"])) + np.sum(np.square(params["W2"])))
    return float(data_loss / N)


def moons_gradients(params, X, y, reg_lambda=0.01):
    """000_7df5dfa3a221338a.txt's hand-written backprop, with its L2 terms:

        δ3 = ŷ − y                        (N, C)   y as one-hot rows
        dW2 = a1ᵀ δ3 + λ W2               (H, C)
        db2 = Σn δ3                       (1, C)
        δ2 = (1 − tanh² z1) ∘ δ3 W2ᵀ      (N, H)   with 1 − tanh² z1 = 1 − a1²
        dW1 = xᵀ δ2 + λ W1                (D, H)
        db1 = Σn δ2                       (1, H)

    These are the exact gradients of the summed loss Σn −log ŷ[n, yn] + λ/2 (‖W1‖² + ‖W2‖²), which
    is N times the loss moons_loss prints (no 1/N here, as in the document). The document computes db1
    with shape (H,) (np.sum without keepdims); it is returned here with b1's shape (1, H), which gives
    the same update. Returns {'W1', 'b1', 'W2', 'b2'} with the parameters' shapes.
    """
    _, a1, _, probs = moons_forward(params, X)
    N = len(X)
    y = _labels("moons_gradients", y, N, probs.shape[1])
    W1, W2 = params["W1"], params["W2"]
    delta3 = probs.copy()
    delta3[np.arange(N), y] -= 1                              # ŷ − y without building the one-hot
    dW2 = a1.T.dot(delta3) + reg_lambda * W2
    db2 = np.sum(delta3, axis=0, keepdims=True)
    delta2 = delta3.dot(W2.T) * (1 - np.power(a1, 2))
    dW1 = X.T.dot(delta2) + reg_lambda * W1
    db1 = np.sum(delta2, axis=0, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def moons_step(params, X, y, epsilon=0.01, reg_lambda=0.01, t=0, d=None):
    """One pass of 000_7df5dfa3a221338a.txt's full-batch gradient descent: W ← W − ε dW for W1, b1,
    W2, b2 with moons_gradients. With `d` (the exercise's annealing) the rate of pass t (from 0) is
    ε_t = ε / (1 + d·t). Returns the new parameters (the inputs are not modified)."""
    grads = moons_gradients(params, X, y, reg_lambda)
    rate = epsilon if d is None else epsilon / (1 + d * t)
    return {k: params[k] - rate * grads[k] for k in ("W1", "b1", "W2", "b2")}


def moons_train(X, y, nn_hdim, num_passes=20000, epsilon=0.01, reg_lambda=0.01, d=None, seed=0,
                print_every=1000, params=None):
    """000_7df5dfa3a221338a.txt's build_model: moons_init(nn_hdim, seed) (or the given `params`, e.g. a
    start nudged by one_ulp), then `num_passes` calls of moons_step (annealed when d is given, e.g.
    the exercise's d = 10e-3).

    Returns (params, losses) where losses maps pass i to moons_loss after that pass, for every i with
    i % print_every == 0: the document's "Loss after iteration i" table. For H = 3 on moons_data():
      * rows 0 and 1000 (0.432387, 0.068947) come out as printed on every machine;
      * from pass ~1,140 to ~2,000 the ε = 0.01 run has bursts of instability that magnify rounding
        differences, so row 2000 (printed 0.068926) depends on the CPU's rounding;
      * after them the run is a period-2 cycle: the loss alternates between two values, and the
        document's rows from 3000 on are one of the two (to their 6 decimals, ±1 in the last). Which
        one falls on even passes is decided by rounding during the bursts.
    With d = 10e-3 the run is stable and reproduces the exercise's table (0.081007 at 1000, 0.075384
    at 2000, ... 0.070509 at 19000) on every machine.
    """
    if params is None:
        params = moons_init(nn_hdim, X.shape[1], int(np.max(y)) + 1, seed)
    losses = {}
    for i in range(num_passes):
        params = moons_step(params, X, y, epsilon, reg_lambda, t=i, d=d)
        if print_every and i % print_every == 0:
            losses[i] = moons_loss(params, X, y, reg_lambda)
    return params, losses


def moons_predict(params, X):
    """000_7df5dfa3a221338a.txt's predict: argmax over classes of ŷ. X (N, D) -> (N,) labels."""
    return np.argmax(moons_forward(params, X)[3], axis=1)


# ---------------------------------------------------------------------------------------------------
# 001_7e031f406447f680.txt: TwoLayerNet (sigmoid hidden layer, softmax output, cross-entropy)

def two_layer_init(input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
    """001_7e031f406447f680.txt's TwoLayerNet.__init__: W1 = std·randn(in, H), b1 = 0 (H,),
    W2 = std·randn(H, out), b2 = 0 (out,). Biases are 1-D, as in the book."""
    rng = _legacy_rng(seed)
    return {"W1": weight_init_std * rng.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.randn(hidden_size, output_size),
            "b2": np.zeros(output_size)}


def softmax(a):
    """Row softmax of the book behind 001_7e031f406447f680.txt, stabilised by subtracting each row's
    maximum: y = e^(a − max a) / Σ e^(a − max a). a (N, C) or (C,)."""
    shifted = a - np.max(a, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def cross_entropy_error(y, t, delta=1e-7):
    """The book's batch cross-entropy used by 001_7e031f406447f680.txt:

        E = −(1/N) Σn log(y[n, tn] + delta)

    y (N, C) probabilities; t one-hot rows (N, C) or integer labels (N,). The book adds delta = 1e-7
    inside the log so that log(0) cannot happen; it shifts the derivative by a relative ~delta/y, which
    is why numerical gradients of this loss match backprop only to ~1e-7. delta=0 gives the exact loss
    whose gradient two_layer_gradient computes.
    """
    y, t = np.asarray(y), np.asarray(t)
    if y.ndim == 1:                                  # one sample: make it a batch of one
        y = y.reshape(1, -1)
        t = t.reshape(1, -1) if t.size == y.size else t.reshape(1)
    n = y.shape[0]
    labels = t.argmax(axis=1) if t.shape == y.shape else _labels("cross_entropy_error", t, n, y.shape[1])
    return float(-np.sum(np.log(y[np.arange(n), labels] + delta)) / n)


def _check_two_layer(op, params, x):
    _expect(op, "x", x, (None, None))
    _expect(op, "W1", params["W1"], (np.shape(x)[1], None))
    H = np.shape(params["W1"])[1]
    _expect(op, "b1", params["b1"], (H,))
    _expect(op, "W2", params["W2"], (H, None))
    _expect(op, "b2", params["b2"], (np.shape(params["W2"])[1],))


def two_layer_predict(params, x):
    """TwoLayerNet.predict of 001_7e031f406447f680.txt (the book's names, where a is a pre-activation):

        a1 = x W1 + b1,  z1 = σ(a1),  a2 = z1 W2 + b2,  y = softmax(a2)

    x (N, in); returns y (N, out)."""
    _check_two_layer("two_layer_predict", params, x)
    z1 = sigmoid(np.dot(x, params["W1"]) + params["b1"])         # (N, H)
    return softmax(np.dot(z1, params["W2"]) + params["b2"])      # (N, out)


def two_layer_loss(params, x, t, delta=1e-7):
    """TwoLayerNet.loss of 001_7e031f406447f680.txt: cross_entropy_error(predict(x), t)."""
    return cross_entropy_error(two_layer_predict(params, x), t, delta)


def two_layer_gradient(params, x, t):
    """The book's backprop TwoLayerNet.gradient (the cure 001_7e031f406447f680.txt announces for its
    slow numerical gradient), for the mean cross-entropy (delta = 0):

        dy  = (y − t) / N                 (N, out)   t as one-hot rows
        dW2 = z1ᵀ dy                      (H, out)
        db2 = Σn dy                       (out,)
        da1 = dy W2ᵀ                      (N, H)
        dz1 = σ'(a1) ∘ da1                (N, H)     σ'(a1) = σ(a1)(1 − σ(a1))
        dW1 = xᵀ dz1                      (in, H)
        db1 = Σn dz1                      (H,)

    x (N, in), t one-hot (N, out) or integer labels (N,). Returns {'W1', 'b1', 'W2', 'b2'}.
    """
    _check_two_layer("two_layer_gradient", params, x)
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    n = x.shape[0]
    t = _one_hot("two_layer_gradient", t, n, W2.shape[1])
    a1 = np.dot(x, W1) + b1
    z1 = sigmoid(a1)
    y = softmax(np.dot(z1, W2) + b2)
    dy = (y - t) / n
    da1 = np.dot(dy, W2.T)
    dz1 = sigmoid_derivative(a1) * da1
    return {"W1": np.dot(x.T, dz1), "b1": np.sum(dz1, axis=0),
            "W2": np.dot(z1.T, dy), "b2": np.sum(dy, axis=0)}


def numerical_gradient(f, x, h=1e-4):
    """Central differences, the way the book behind 001_7e031f406447f680.txt computes gradients:

        ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h,   h = 1e-4

    f: called as f(x), returns a number. Like the book, f may ignore its argument and read x through
    another reference: each element of x (a float ndarray) is changed in place, f is evaluated, and the
    element is restored. Returns an array of x's shape.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + h
        fxh1 = f(x)
        x[idx] = saved - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = saved
    return grad


def two_layer_numerical_gradient(params, x, t, delta=1e-7, h=1e-4):
    """TwoLayerNet.numerical_gradient of 001_7e031f406447f680.txt: numerical_gradient of
    two_layer_loss with respect to each of W1, b1, W2, b2 (two loss evaluations per element, hence
    its slowness). Works on a copy: `params` is left as it was."""
    work = _copy(params)
    loss_W = lambda W: two_layer_loss(work, x, t, delta)          # noqa: E731 (the book's idiom)
    return {k: numerical_gradient(loss_W, work[k], h) for k in ("W1", "b1", "W2", "b2")}


def two_layer_sgd_step(params, grads, learning_rate=0.1):
    """001_7e031f406447f680.txt's update: params[key] −= learning_rate · grad[key] for each key.
    Returns new parameters."""
    return {k: params[k] - learning_rate * grads[k] for k in params}


def sample_batches(train_size, batch_size, iters, seed=0):
    """The mini-batches of 001_7e031f406447f680.txt's loop: each iteration draws
    np.random.choice(train_size, batch_size) (with replacement). Returns a list of `iters` index
    arrays, so a hand-written run and an autodiff run can see the same batches."""
    rng = _legacy_rng(seed)
    return [rng.choice(train_size, batch_size) for _ in range(iters)]


def two_layer_train(params, x_train, t_train, batches, learning_rate=0.1, gradient=two_layer_gradient):
    """001_7e031f406447f680.txt's training loop over the given batches (see sample_batches): grad =
    gradient(params, x_batch, t_batch), then two_layer_sgd_step. `gradient` is two_layer_gradient
    (backprop) or two_layer_numerical_gradient (the document's, very slow).
    Returns (params, train_loss_list) with the batch loss after each update, as the document records."""
    losses = []
    for mask in batches:
        x_batch, t_batch = x_train[mask], t_train[mask]
        params = two_layer_sgd_step(params, gradient(params, x_batch, t_batch), learning_rate)
        losses.append(two_layer_loss(params, x_batch, t_batch))
    return params, losses


# ---------------------------------------------------------------------------------------------------
# 002_5e80477a8f6992aa.txt: network2.py (column vectors, weights[l] of shape (out, in))

class QuadraticCost:
    """002_5e80477a8f6992aa.txt's quadratic cost for one sample (a, y, z: (n_out, 1) columns):

        fn:    C = ½ ‖a − y‖²
        delta: δL = ∂C/∂z = (a − y) ∘ σ'(z)
    """

    @staticmethod
    def fn(a, y):
        """C = ½‖a − y‖² (a float)."""
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def delta(z, a, y):
        """δL = (a − y) ∘ σ'(z), shape (n_out, 1)."""
        return (a - y) * sigmoid_derivative(z)


class CrossEntropyCost:
    """002_5e80477a8f6992aa.txt's cross-entropy cost for one sample with sigmoid outputs a = σ(z):

        fn:    C = Σ −y ln a − (1 − y) ln(1 − a)      (np.nan_to_num turns the NaN of 0·ln 0 into 0)
        delta: δL = ∂C/∂z = a − y                      (the σ'(z) of ∂a/∂z cancels ∂C/∂a's denominator)
    """

    @staticmethod
    def fn(a, y):
        """C = Σ −y ln a − (1 − y) ln(1 − a) (a float)."""
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        """δL = a − y, shape (n_out, 1); z is unused (kept for QuadraticCost's signature)."""
        return a - y


def quadratic_cost_derivative(a, y):
    """network.py's Network.cost_derivative, which 002_5e80477a8f6992aa.txt's exercise starts from:
    ∂C/∂a = a − y for the quadratic cost C = ½‖a − y‖². network.py's output error is
    cost_derivative(a, y) ∘ σ'(z) (see output_delta)."""
    return a - y


def cross_entropy_cost_derivative(a, y):
    """The exercise of 002_5e80477a8f6992aa.txt: cost_derivative rewritten for the cross-entropy
    C = Σ −y ln a − (1 − y) ln(1 − a):

        ∂C/∂a = −(y/a − (1 − y)/(1 − a)) = (a − y) / (a (1 − a))

    The problem the exercise asks about: a = σ(z) rounds to exactly 1.0 for z ≳ 37 and to exactly 0
    for z ≲ −745 in float64, and a(1 − a) to 0 well before that, so this divides by zero (inf,
    then inf·0 = NaN in output_delta) just where a saturated unit most needs a gradient; short of
    that, 1 − a loses its digits to cancellation. network2 folds σ'(z) = a(1 − a) into the formula
    by hand: CrossEntropyCost.delta = a − y, with nothing left to divide."""
    return (a - y) / (a * (1 - a))


def output_delta(cost_derivative, z, a, y):
    """network.py's output error δᴸ = cost_derivative(a, y) ∘ σ'(z) (z, a, y: (n_out, 1) columns).
    With quadratic_cost_derivative it is QuadraticCost.delta; with cross_entropy_cost_derivative it
    is CrossEntropyCost.delta = a − y wherever a(1 − a) does not vanish, and NaN where it does."""
    return cost_derivative(a, y) * sigmoid_derivative(z)


def vectorized_result(j, n=10):
    """002_5e80477a8f6992aa.txt's vectorized_result: the one-hot column e_j of shape (n, 1)."""
    e = np.zeros((n, 1))
    e[j] = 1.0
    return e


def network2_init(sizes, seed=0):
    """network2's default_weight_initializer as the book writes it: biases randn(y, 1) and weights
    randn(y, x)/√x (standard normal, scaled by 1/√n_in), for consecutive sizes x -> y.
    Returns (biases, weights): lists of (out, 1) and (out, in) arrays."""
    rng = _legacy_rng(seed)
    biases = [rng.randn(y, 1) for y in sizes[1:]]
    weights = [rng.randn(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
    return biases, weights


def network2_init_notes(sizes, seed=0):
    """The initialiser as 002_5e80477a8f6992aa.txt's notes write it: np.random.rand instead of randn,
    so every bias lies in [0, 1) and every weight in [0, 1/√x): uniform and all positive, unlike the
    book's zero-mean normal draws (network2_init). Same shapes and draw order."""
    rng = _legacy_rng(seed)
    biases = [rng.rand(y, 1) for y in sizes[1:]]
    weights = [rng.rand(y, x) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
    return biases, weights


def network2_feedforward(biases, weights, a):
    """a^l = σ(w^l a^(l−1) + b^l) layer after layer. a (n_in, 1) (or (n_in, k) columns)."""
    for b, w in zip(biases, weights):
        a = sigmoid(np.dot(w, a) + b)
    return a


def network2_backprop(biases, weights, x, y, cost=CrossEntropyCost):
    """network2.backprop of 002_5e80477a8f6992aa.txt, for one sample in column-vector form:

        z^l = w^l a^(l−1) + b^l,  a^l = σ(z^l)                       forward, a^0 = x
        δ^L = cost.delta(z^L, a^L, y)                                output layer
        δ^l = (w^(l+1)ᵀ δ^(l+1)) ∘ σ'(z^l)                           hidden layers, backwards
        ∇b^l = δ^l   (out, 1);    ∇w^l = δ^l a^(l−1)ᵀ   (out, in)

    x (n_in, 1), y (n_out, 1). Returns (nabla_b, nabla_w), lists shaped like biases and weights: the
    gradient of cost.fn(a^L, y) for this one sample.
    """
    _expect("network2_backprop", "x", x, (np.shape(weights[0])[1], 1))
    _expect("network2_backprop", "y", y, (np.shape(weights[-1])[0], 1))
    activation = x
    activations = [x]
    zs = []
    for b, w in zip(biases, weights):
        z = np.dot(w, activation) + b
        zs.append(z)
        activation = sigmoid(z)
        activations.append(activation)
    nabla_b = [None] * len(biases)
    nabla_w = [None] * len(weights)
    delta = cost.delta(zs[-1], activations[-1], y)
    nabla_b[-1] = delta
    nabla_w[-1] = np.dot(delta, activations[-2].T)
    for layer in range(2, len(weights) + 1):                 # negative indices, as in the book
        delta = np.dot(weights[-layer + 1].T, delta) * sigmoid_derivative(zs[-layer])
        nabla_b[-layer] = delta
        nabla_w[-layer] = np.dot(delta, activations[-layer - 1].T)
    return nabla_b, nabla_w


def _summed_nablas(biases, weights, mini_batch, cost):
    nabla_b = [np.zeros(b.shape) for b in biases]
    nabla_w = [np.zeros(w.shape) for w in weights]
    for x, y in mini_batch:
        delta_b, delta_w = network2_backprop(biases, weights, x, y, cost)
        nabla_b = [nb + d for nb, d in zip(nabla_b, delta_b)]
        nabla_w = [nw + d for nw, d in zip(nabla_w, delta_w)]
    return nabla_b, nabla_w


def network2_update_mini_batch(biases, weights, mini_batch, eta, lmbda, n, cost=CrossEntropyCost,
                               penalty="L2"):
    """network2.update_mini_batch of 002_5e80477a8f6992aa.txt: sum the per-sample nablas over the
    mini-batch (m samples), then, for a training set of n samples,

        L2:  w ← (1 − ηλ/n) w − (η/m) Σ∇w                the notes' and the book's code
        L1:  w ← w − (ηλ/n) sign(w) − (η/m) Σ∇w          the correct L1 step (d|w|/dw = sign(w))
        b  ← b − (η/m) Σ∇b                               biases are not regularised

    Both are one gradient-descent step of size η on (1/m) Σ C_x plus the penalty (λ/2n) Σ‖w‖²
    (L2) or (λ/n) Σ|w| (L1). mini_batch: a list of (x, y) column pairs. Returns new (biases, weights).
    For the notes' own L1 line see network2_update_mini_batch_l1_buggy.
    """
    if penalty not in ("L2", "L1"):
        raise ArgumentError(f"network2_update_mini_batch: penalty={penalty!r} is not 'L2' or 'L1'")
    m = len(mini_batch)
    nabla_b, nabla_w = _summed_nablas(biases, weights, mini_batch, cost)
    if penalty == "L2":
        weights = [(1 - eta * (lmbda / n)) * w - (eta / m) * nw for w, nw in zip(weights, nabla_w)]
    else:
        weights = [w - eta * (lmbda / n) * np.sign(w) - (eta / m) * nw for w, nw in zip(weights, nabla_w)]
    biases = [b - (eta / m) * nb for b, nb in zip(biases, nabla_b)]
    return biases, weights


def network2_update_mini_batch_l1_buggy(biases, weights, mini_batch, eta, lmbda, n, cost=CrossEntropyCost):
    """The L1 update exactly as 002_5e80477a8f6992aa.txt's notes write it (a documented bug):

        w ← (1 − η(λ/n) sign(w)) ∘ w − (η/m) Σ∇w   =   w − η(λ/n)|w| − (η/m) Σ∇w

    It subtracts η(λ/n)|w| where the L1 penalty's gradient step subtracts η(λ/n) sign(w): it shrinks
    positive weights by an amount proportional to their size (like L2) and *grows* negative ones.
    See KNOWN_BUGS and network2_update_mini_batch(penalty='L1'). Returns new (biases, weights)."""
    m = len(mini_batch)
    nabla_b, nabla_w = _summed_nablas(biases, weights, mini_batch, cost)
    weights = [(1 - eta * (lmbda / n) * np.sign(w)) * w - (eta / m) * nw for w, nw in zip(weights, nabla_w)]
    biases = [b - (eta / m) * nb for b, nb in zip(biases, nabla_b)]
    return biases, weights


def _data_cost(biases, weights, data, cost, convert):
    total = 0.0
    for x, y in data:
        a = network2_feedforward(biases, weights, x)
        if convert:
            y = vectorized_result(y, a.shape[0])
        total += cost.fn(a, y) / len(data)
    return total


def network2_total_cost(biases, weights, data, lmbda, cost=CrossEntropyCost, penalty="L2", convert=False):
    """network2.total_cost of 002_5e80477a8f6992aa.txt, over n = len(data) samples:

        L2:  (1/n) Σx C_x + ½ (λ/n) Σl ‖w^l‖²           the notes' and the book's code
        L1:  (1/n) Σx C_x + (λ/n) Σl Σ |w^l|            the correct L1 norm
                                                        (the notes' line: network2_total_cost_l1_buggy)

    With a mini-batch equal to the whole data (m = n), network2_update_mini_batch is exactly one
    gradient step of size η on this cost. data: (x, y) column pairs; convert=True when y is an integer
    label (then vectorized_result(y) is used). Returns a float.
    """
    if penalty not in ("L2", "L1"):
        raise ArgumentError(f"network2_total_cost: penalty={penalty!r} is not 'L2' or 'L1'")
    total = _data_cost(biases, weights, data, cost, convert)
    n = len(data)
    if penalty == "L2":
        total += 0.5 * (lmbda / n) * sum(np.linalg.norm(w) ** 2 for w in weights)
    else:
        total += (lmbda / n) * sum(np.sum(np.abs(w)) for w in weights)
    return float(total)


def network2_total_cost_l1_buggy(biases, weights, data, lmbda, cost=CrossEntropyCost, convert=False):
    """The notes' L1 total cost of 002_5e80477a8f6992aa.txt (a documented bug):

        (1/n) Σx C_x + (λ/n) Σl ‖w^l‖_F,   ‖w‖_F = np.linalg.norm(w) = √(Σ w²)

    np.linalg.norm of a matrix is the Frobenius norm, not the L1 norm Σ|w| (that would be
    np.sum(np.abs(w))). See KNOWN_BUGS and network2_total_cost(penalty='L1')."""
    total = _data_cost(biases, weights, data, cost, convert)
    total += (lmbda / len(data)) * sum(np.linalg.norm(w) for w in weights)
    return float(total)


def epoch_batches(n, mini_batch_size, epochs, seed=0):
    """network2.SGD's mini-batches: every epoch shuffles the n training samples (here with a seeded
    permutation instead of random.shuffle) and cuts them into consecutive slices of mini_batch_size.
    Returns a list of index arrays, epoch after epoch."""
    rng = _legacy_rng(seed)
    batches = []
    for _ in range(epochs):
        order = rng.permutation(n)
        batches.extend(order[k:k + mini_batch_size] for k in range(0, n, mini_batch_size))
    return batches


def network2_train(biases, weights, training_data, batches, eta, lmbda=0.0, cost=CrossEntropyCost,
                   penalty="L2", update=None):
    """The training part of network2.SGD: for each mini-batch (a list of indices into training_data,
    see epoch_batches) apply network2_update_mini_batch with n = len(training_data). `update` replaces
    the update function (e.g. network2_update_mini_batch_l1_buggy, called without `penalty`).
    Returns the final (biases, weights)."""
    n = len(training_data)
    for idx in batches:
        mini_batch = [training_data[i] for i in idx]
        if update is None:
            biases, weights = network2_update_mini_batch(biases, weights, mini_batch, eta, lmbda, n, cost,
                                                         penalty)
        else:
            biases, weights = update(biases, weights, mini_batch, eta, lmbda, n, cost)
    return biases, weights


# ---------------------------------------------------------------------------------------------------
# 003_e7f486d18d6db934.txt: a fully connected network from stacked layers (samples as (1, features) rows)

def identity(x):
    """003_e7f486d18d6db934.txt's no_activate: f(x) = x."""
    return x


def identity_derivative(x):
    """f'(x) = 1 for the identity. The document returns the scalar 1; an array of ones of x's shape
    multiplies the same way and keeps shapes visible."""
    return np.ones_like(x)


def relu(x):
    """The rectifier 003_e7f486d18d6db934.txt means: max(x, 0) elementwise (np.maximum)."""
    return np.maximum(x, 0)


def relu_buggy(x):
    """relu exactly as 003_e7f486d18d6db934.txt writes it: np.max(0, x) (a documented bug).

    np.max(a, axis) is a reduction: this reduces the array 0 along axis x. For any float array x
    (every pre-activation) it raises TypeError: only integer scalar arrays can be converted to a
    scalar index. For x = 0 it returns 0, and for other integers it raises an AxisError. The
    elementwise maximum is relu (np.maximum). See KNOWN_BUGS."""
    return np.max(0, x)


def relu_derivative(x):
    """003_e7f486d18d6db934.txt's relu_derive: 1 where x > 0, else 0 (0 at exactly x = 0)."""
    result = np.zeros_like(x)
    result[x > 0] = 1
    return result


def tanh(x):
    """003_e7f486d18d6db934.txt's tan: tanh(x)."""
    return np.tanh(x)


def tanh_derivative(x):
    """The derivative of tanh at the pre-activation x: 1 − tanh²(x)."""
    return 1 - np.tanh(x) ** 2


def tanh_derivative_buggy(x):
    """tan_derive exactly as 003_e7f486d18d6db934.txt writes it: 1 − x² (a documented bug).

    1 − y² is tanh's derivative written in terms of its output y = tanh(z); Layer.backward passes the
    pre-activation z instead, so this computes 1 − z² where 1 − tanh²(z) is needed. See KNOWN_BUGS."""
    return 1 - x ** 2


ACTIVATIONS = {
    # name: (f, f') with f' evaluated at the pre-activation z, as Layer.backward calls it
    "identity": (identity, identity_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    # the document's two bugs
    "tanh_buggy": (tanh, tanh_derivative_buggy),
    "relu_buggy": (relu_buggy, relu_derivative),
}


def _activation(op, activation):
    """An ACTIVATIONS name or an (f, f') pair -> (f, f')."""
    if isinstance(activation, str):
        try:
            return ACTIVATIONS[activation]
        except KeyError:
            raise ArgumentError(f"{op}: unknown activation {activation!r}; choose one of "
                                f"{', '.join(ACTIVATIONS)} or pass an (f, f_derivative) pair") from None
    f, df = activation
    return f, df


def layer_forward(x, W, b, activation="sigmoid"):
    """Layer.foward of 003_e7f486d18d6db934.txt:  z = x W + b,  a = f(z).

    x (1, in) (or (N, in)), W (in, out), b (1, out). Returns (z, a), both (1, out)."""
    _expect("layer_forward", "W", W, (np.shape(x)[-1], None))
    _expect("layer_forward", "b", b, (1, np.shape(W)[1]))
    f, _ = _activation("layer_forward", activation)
    z = np.dot(x, W) + b
    return z, f(z)


def layer_backward(upstream, x, z, W, activation="sigmoid"):
    """Layer.backward of 003_e7f486d18d6db934.txt, given upstream = ∂L/∂a for this layer's output:

        dz = upstream ∘ f'(z)        (1, out)    f' evaluated at the pre-activation z, as in the document
        dW = xᵀ dz                   (in, out)
        db = dz                      (1, out)    for the document's single row; Σ over rows in general
        upstream' = dz Wᵀ            (1, in)     ∂L/∂x, handed to the layer below

    Returns (dW, db, upstream')."""
    _, df = _activation("layer_backward", activation)
    dz = upstream * df(z)
    dW = np.dot(x.T, dz)
    db = np.sum(dz, axis=0, keepdims=True)
    return dW, db, np.dot(dz, W.T)


def mlp_init(sizes, seed=0):
    """003_e7f486d18d6db934.txt's Layer initialisation for consecutive sizes in -> out:
    W = randn(in, out)·√(1/out) (note: scaled by the fan-*out*), b = randn(1, out)·0.1.
    Returns a list of (W, b) pairs. The document's 2-25-50-25-2 net is mlp_init([2, 25, 50, 25, 2])."""
    rng = _legacy_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = rng.randn(n_in, n_out) * np.sqrt(1 / n_out)
        b = rng.randn(1, n_out) * 0.1
        params.append((W, b))
    return params


def _activations_for(op, params, activations):
    if isinstance(activations, str) or isinstance(activations, tuple):
        activations = [activations] * len(params)
    if len(activations) != len(params):
        raise ArgumentError(f"{op}: {len(activations)} activations for {len(params)} layers")
    return activations


def mlp_forward(params, x, activations="sigmoid"):
    """NeuralNetwork.forwar_calcuate of 003_e7f486d18d6db934.txt: layer_forward layer after layer.
    activations: one name / (f, f') pair for every layer, or a list with one per layer.
    Returns (inputs, zs, output): each layer's input and pre-activation, and the network's output."""
    activations = _activations_for("mlp_forward", params, activations)
    inputs, zs = [], []
    for (W, b), act in zip(params, activations):
        inputs.append(x)
        z, x = layer_forward(x, W, b, act)
        zs.append(z)
    return inputs, zs, x


def mlp_gradients(params, x, y, activations="sigmoid"):
    """NeuralNetwork.backward_calculate of 003_e7f486d18d6db934.txt without its update: forward, then
    upstream = output − y (the gradient of the per-sample loss ½‖a − y‖²) handed through
    layer_backward from the last layer to the first.

    x (1, in), y (1, out) (one-hot). Returns a list of (dW, db) pairs, one per layer."""
    activations = _activations_for("mlp_gradients", params, activations)
    inputs, zs, out = mlp_forward(params, x, activations)
    _expect("mlp_gradients", "y", y, np.shape(out))
    upstream = out - y
    grads = [None] * len(params)
    for i in reversed(range(len(params))):
        dW, db, upstream = layer_backward(upstream, inputs[i], zs[i], params[i][0], activations[i])
        grads[i] = (dW, db)
    return grads


def mlp_step(params, x, y, learning_rate=0.01, activations="sigmoid"):
    """One per-sample update of 003_e7f486d18d6db934.txt: every layer's gradient from mlp_gradients
    first (the document's backward loop), then W ← W − lr·dW, b ← b − lr·db (its update loop).
    Returns the new list of (W, b)."""
    grads = mlp_gradients(params, x, y, activations)
    return [(W - learning_rate * dW, b - learning_rate * db) for (W, b), (dW, db) in zip(params, grads)]


def mlp_train(params, x_train, y_one_hot, learning_rate=0.01, epochs=1, activations="sigmoid"):
    """NeuralNetwork.train of 003_e7f486d18d6db934.txt: each epoch records
    mse = mean((y − ŷ)²) over the training set (the curve it plots), then runs mlp_step on every
    sample in order (x_train[j] as a (1, in) row). Returns (params, mses)."""
    mses = []
    for _ in range(epochs):
        out = mlp_forward(params, x_train, activations)[2]
        mses.append(float(np.mean(np.square(y_one_hot - out))))
        for j in range(len(x_train)):
            params = mlp_step(params, x_train[j:j + 1], y_one_hot[j:j + 1], learning_rate, activations)
    return params, mses


# ---------------------------------------------------------------------------------------------------
# 004_4294ce1bbe7cb7a4.txt: the XOR question (2-2-1 sigmoid net, column vectors, BCE, per sample)

def xor_data():
    """The question's data: X (4, 2) = [[0,0],[0,1],[1,0],[1,1]] as floats, Y (4, 1) = [[0],[1],[1],[0]]."""
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    Y = np.array([[0], [1], [1], [0]], dtype=np.float64)
    return X, Y


def xor_init(seed=565113221, epsilon=0.12):
    """004_4294ce1bbe7cb7a4.txt's initialisation after np.random.seed(565113221): W1 (2, 2), b1 (2, 1),
    W2 (1, 2), b2 (1, 1), drawn in that order uniformly from [−ε, ε) with ε = 0.12."""
    rng = _legacy_rng(seed)
    draw = lambda shape: rng.random_sample(shape) * epsilon * 2 - epsilon   # noqa: E731
    return {"W1": draw((2, 2)), "b1": draw((2, 1)), "W2": draw((1, 2)), "b2": draw((1, 1))}


def _check_xor(op, x, params):
    _expect(op, "x", x, (2, 1))
    for k, shape in (("W1", (2, 2)), ("b1", (2, 1)), ("W2", (1, 2)), ("b2", (1, 1))):
        _expect(op, k, params[k], shape)


def xor_forward(x, params):
    """The question's forward, for one column x (2, 1):

        a = W1 x (2, 1),  z = σ(a + b1) (2, 1),  b = W2 z (1, 1),  ŷ = σ(b + b2) (1, 1)

    Returns (a, z, b, y_pred), the question's names."""
    _check_xor("xor_forward", x, params)
    a = params["W1"].dot(x)
    z = sigmoid(a + params["b1"])
    b = params["W2"].dot(z)
    return a, z, b, sigmoid(b + params["b2"])


def xor_loss(x, y, params):
    """The question's binary cross-entropy for one sample: −y ln ŷ − (1 − y) ln(1 − ŷ). y (1, 1)."""
    y_pred = xor_forward(x, params)[3]
    return float(np.sum(-y * np.log(y_pred) - (1 - y) * np.log(1 - y_pred)))


def xor_gradients(x, y, params):
    """The question's per-sample gradients of xor_loss, all from the same (current) weights:

        e   = ŷ − y                          (1, 1)   BCE through the output sigmoid
        dW2 = e zᵀ                           (1, 2)   the question's (ŷ − y)·z_j
        db2 = e                              (1, 1)
        db1 = (W2ᵀ e) ∘ z (1 − z)            (2, 1)   (ŷ − y)·W2[0, j]·z_j(1 − z_j)
        dW1 = db1 xᵀ                         (2, 2)   ... · x_i

    Returns {'W1', 'b1', 'W2', 'b2'}."""
    _, z, _, y_pred = xor_forward(x, params)
    e = y_pred - y
    db1 = params["W2"].T.dot(e) * z * (1 - z)
    return {"W1": db1.dot(x.T), "b1": db1, "W2": e.dot(z.T), "b2": e}


def xor_step(x, y, params, alpha=0.01):
    """The corrected per-sample update of 004_4294ce1bbe7cb7a4.txt: every gradient from xor_gradients
    (one set of weights), then P ← P − α dP for all four. Returns new parameters."""
    grads = xor_gradients(x, y, params)
    return {k: params[k] - alpha * grads[k] for k in ("W1", "b1", "W2", "b2")}


def xor_step_buggy(x, y, params, alpha=0.01):
    """The question's update loops as written (a documented bug): W2 and b2 are updated first, and
    W1's and b1's gradients are then computed with the *new* W2. (b1's loop also reads W2[k, j] with
    the k left over from the W1 loop; k = 0 is the only row, so that part happens to work.)

    One change: the question multiplies (y_pred − y), a (1, 1) array, into scalar assignments, which
    current NumPy refuses (ValueError: setting an array element with a sequence); its single value
    is taken here. See KNOWN_BUGS. Returns new parameters."""
    _check_xor("xor_step_buggy", x, params)
    W1, b1, W2, b2 = (np.array(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    _, z, _, y_pred = xor_forward(x, params)
    e = (y_pred - y).item()
    for k in range(W2.shape[0]):                      # update W2
        for j in range(W2.shape[1]):
            W2[k, j] -= alpha * e * z[j, 0]
    for k in range(b2.shape[0]):                      # update b2
        b2[k, 0] -= alpha * e
    for j in range(W1.shape[0]):                      # update W1 - reads the W2 just updated
        for i in range(W1.shape[1]):
            for k in range(W2.shape[0]):
                W1[j, i] -= alpha * e * W2[k, j] * z[j, 0] * (1 - z[j, 0]) * x[i, 0]
    for j in range(b1.shape[0]):                      # update b1 - likewise, with the leftover k
        b1[j, 0] -= alpha * e * W2[k, j] * z[j, 0] * (1 - z[j, 0])
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def xor_train(X, Y, params, alpha=0.01, epochs=50, step=xor_step):
    """The question's training loop: for each epoch, each sample in order (x = X[i] as a (2, 1)
    column), add its cost (before the update) to the epoch cost, then apply `step` (xor_step, or
    xor_step_buggy to reproduce the question). Returns (params, epoch_costs)."""
    costs = []
    for _ in range(epochs):
        epoch_cost = 0.0
        for index in range(X.shape[0]):
            x = X[index, :].reshape((-1, 1))
            y = Y[index, :].reshape((-1, 1))
            epoch_cost += xor_loss(x, y, params)
            params = step(x, y, params, alpha)
        costs.append(epoch_cost)
    return params, costs


def xor_pred(X, params):
    """Predictions ŷ (N, 1) for the rows of X, each fed as a (2, 1) column.

    The question's pred() has a plain Python bug: its loop calls forward(x.reshape(...)) with `x`,
    which is not defined inside the function (the row is X[i]); Python then finds the global `x`
    left over from the training loop (the last sample), so all four predictions are that sample's.
    This version feeds X[i]."""
    out = np.zeros((X.shape[0], 1))
    for i in range(X.shape[0]):
        out[i] = xor_forward(X[i].reshape((-1, 1)), params)[3][0]
    return out


def xor_evolution_strategy(X, Y, turns=2000, epsilon=0.12, seed=565113221):
    """The answer's solution in 004_4294ce1bbe7cb7a4.txt: no gradients at all, a simple evolution
    strategy. The weights start at zero; every turn evaluates the epoch cost of the current weights
    (the sum of xor_loss over the four samples), keeps them as the best if the cost is lower than the
    best so far (or on turn 0), and then draws new weights as best + uniform[−ε, ε) noise, W1 (2, 2),
    b1 (2, 1), W2 (1, 2), b2 (1, 1) in that order, from the stream np.random.seed(seed) starts (the
    question seeds 565113221 at the top and draws nothing else before the loop).

    Returns (best, best_costs): the best parameters and the best epoch cost after each turn."""
    rng = _legacy_rng(seed)
    params = {"W1": np.zeros((2, 2)), "b1": np.zeros((2, 1)), "W2": np.zeros((1, 2)), "b2": np.zeros((1, 1))}
    best, best_cost, best_costs = None, None, []
    for turn in range(turns):
        cost = sum(xor_loss(X[i].reshape(-1, 1), Y[i].reshape(-1, 1), params) for i in range(X.shape[0]))
        if turn == 0 or cost < best_cost:
            best, best_cost = params, cost
        best_costs.append(best_cost)
        params = {k: best[k] + rng.random_sample(best[k].shape) * epsilon * 2 - epsilon
                  for k in ("W1", "b1", "W2", "b2")}
    return best, best_costs
