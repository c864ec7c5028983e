"""Primitive ops. Each class is one row of a derivative table: its forward and its local derivative
side by side, the math in the docstring.

    forward(self, x, ...)          NumPy arrays in (plus options such as axis), one array out
    backward(self, g, x, ..., out) the upstream gradient g = dL/d(out), the op's inputs and its output
                                   as they were during forward; returns dL/d(input) for each input,
                                   or None where nobody needs it (self.needs[i] is False)

Backward code only uses operators, .T/.reshape/.sum/.swapaxes and the helpers defined below, so the
same code runs on ndarrays (the fast, first-order path) and on Tensors (backward(create_graph=True),
where the backward pass is itself recorded and can be differentiated again).

Gradients may come back with a broadcast shape or a promoted dtype: autograd.py reduces them to each
input's shape and dtype in one place (reduce_to below), so binary ops never unbroadcast themselves.
Composite ops (min, square, x ** tensor, ...) are written in tensor.py in terms of these.
"""
import functools
import math

import numpy as np

from .errors import ArgumentError, DTypeError, GraphError, LabelError, ShapeError
from .function import Function
from .tensor import Tensor

# ---------------------------------------------------------------------------------------------------
# Helpers usable on ndarrays and Tensors alike (for backward code).


def value(v):
    """The array behind v: for masks and other constants of a backward formula."""
    return v._data if isinstance(v, Tensor) else v


def exp(v):
    return v.exp() if isinstance(v, Tensor) else np.exp(v)


def broadcast_to(v, shape):
    """v repeated to `shape` (a reduction's backward spreading g back over the reduced axes). On arrays
    a small result is written out: np.broadcast_to costs about 3 µs of Python, more than filling a few
    thousand numbers; a large one stays a read-only view, so it costs no memory."""
    if isinstance(v, Tensor):
        return BroadcastTo.apply(v, shape=shape)
    if math.prod(shape) > 4096:
        return np.broadcast_to(v, shape)
    out = np.empty(shape, dtype=v.dtype)
    out[...] = v
    return out


def softmax(v, axis):
    return v.softmax(axis) if isinstance(v, Tensor) else softmax_np(v, axis)


def log_softmax(v, axis):
    return v.log_softmax(axis) if isinstance(v, Tensor) else log_softmax_np(v, axis)


def sigmoid(v):
    return v.sigmoid() if isinstance(v, Tensor) else sigmoid_np(v)


def scatter_add(g, shape, index, repeats):
    if isinstance(g, Tensor):
        return ScatterAdd.apply(g, shape=shape, index=index, repeats=repeats)
    return scatter_add_np(g, shape, index, repeats)


def mT(v):
    """Swap the last two axes (the matrix transpose of a stack of matrices)."""
    return v.T if v.ndim == 2 else v.swapaxes(-1, -2)


def reduce_to(g, shape):
    """Sum a gradient over the axes that broadcasting added or stretched, so it has `shape`.
    This is the one place in the engine where broadcasting is undone."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if type(g) is np.ndarray and len(gshape) == 2 and lead < 2 and shape[-1] == gshape[1] \
            and (lead == 1 or shape[0] == 1) and g.dtype.kind == "f":
        # Summing the rows of a matrix (a bias gradient, (N, K) -> (K,) or (1, K)): a BLAS product with
        # ones is ~5-10x faster than g.sum(axis=0) for the small batches of teaching nets, and gives
        # an array of exactly the target shape. One row (a single sample) needs no sum, only a reshape.
        if gshape[0] == 1:
            return g.reshape(shape)
        return ones(gshape[:1] if lead else (1, gshape[0]), g.dtype).dot(g)
    if lead < 0 or any(n != 1 and n != gshape[lead + i] for i, n in enumerate(shape)):
        raise GraphError(f"internal: a gradient of shape {gshape} cannot be reduced to shape {shape}")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    return g.sum(axis=axes).reshape(shape)


# NumPy kernels ----------------------------------------------------------------------------------

@functools.lru_cache(maxsize=128)
def ones(shape, dtype):
    """A cached read-only array of ones (row sums as BLAS dot products; the implicit dL/dL = 1)."""
    v = np.ones(shape, dtype=dtype)
    v.setflags(write=False)
    return v


@functools.lru_cache(maxsize=128)
def row_starts(n_rows, n_cols):
    """Cached read-only flat index of the first element of each row of an (n_rows, n_cols) array:
    `m.take(row_starts(N, C) + j)` gathers m[i, j[i]] for every row i in one pass."""
    v = np.arange(0, n_rows * n_cols, n_cols)
    v.setflags(write=False)
    return v


@functools.lru_cache(maxsize=256)
def const(number, dtype):
    """A cached read-only 0-d array holding `number` in `dtype`. With a Python scalar operand NumPy
    works out the result type on every call (about 0.3 µs, as much as a small ufunc's own work); a 0-d
    array of the other operand's dtype skips that and gives exactly the same result."""
    v = np.array(number, dtype=dtype)
    v.setflags(write=False)
    return v


def one_minus(v):
    """1 − v (an array or a Tensor), with the 1 in v's dtype (see const)."""
    return const(1, v.dtype) - v


@functools.lru_cache(maxsize=16)
def _sigmoid_consts(dtype):
    """The cap on -x (exp overflows just above it) and 1, as 0-d arrays of `dtype` (see const)."""
    return const(float(np.log(np.finfo(dtype).max)) - 1.0, dtype), const(1, dtype)


def sigmoid_np(x):
    """1 / (1 + exp(-x)), accurate for every x. exp(-x) would overflow (with a warning) for x below
    about -709 in float64 (-88 in float32), so -x is capped there: below it sigmoid returns the
    smallest normal-range value (about 1e-308 in float64, 1e-38 in float32) instead of a denormal or 0
    - an absolute error far below anything a gradient can notice."""
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    hi, one = _sigmoid_consts(x.dtype)
    t = np.negative(x)
    if type(t) is not np.ndarray:                # a 0-d input gives a NumPy scalar
        t = np.asarray(t)
    # Big arrays: one max() is cheaper than capping always ("not <=" is also true for a NaN max).
    if t.size <= 256 or not t.max() <= hi:
        np.minimum(t, hi, out=t)
    np.exp(t, out=t)
    np.add(t, one, out=t)
    return np.reciprocal(t, out=t)


def exp_rows(rows):
    """The stable core of every softmax over the rows of a 2-D (M, C) array: (shifted, e, sums) with
    shifted = rows − each row's maximum, e = exp(shifted) and sums = e's row sums. (argmax + take is
    2-4x faster than rows.max(axis=1) on the short rows of classifiers; the sums are BLAS products.)"""
    m, c = rows.shape
    shifted = rows - rows.take(row_starts(m, c) + rows.argmax(axis=1))[:, None]
    e = np.exp(shifted)
    return shifted, e, e.dot(ones(c, e.dtype))


def _last_axis_rows(x, axis):
    """x as (M, C) rows when `axis` is its last axis (and there is a row to take), else None."""
    if (axis == -1 or axis == x.ndim - 1) and x.ndim and x.shape[-1]:
        return x.reshape(-1, x.shape[-1])
    return None


def softmax_np(x, axis):
    rows = _last_axis_rows(x, axis)
    if rows is not None:                       # the classifier case: exp_rows' fast path
        _, e, sums = exp_rows(rows)
        e /= sums[:, None]
        return e.reshape(x.shape)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    e /= e.sum(axis=axis, keepdims=True)
    return e


def log_softmax_np(x, axis):
    rows = _last_axis_rows(x, axis)
    if rows is not None:
        shifted, _, sums = exp_rows(rows)
        return (shifted - np.log(sums)[:, None]).reshape(x.shape)
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def scatter_add_np(g, shape, index, repeats):
    out = np.zeros(shape, dtype=g.dtype)
    if repeats:
        np.add.at(out, index, g)       # integer arrays may repeat an index: accumulate
    else:
        out[index] = g
    return out


def keep_shape(shape, axis):
    """The shape of a reduction over `axis` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = {a % len(shape) for a in axes}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def normalize_index(index, op="getitem"):
    """Turn Tensors and lists inside an index into integer/bool ndarrays (and check them); `op`
    names the caller in errors (getitem or setitem)."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i, op) for i in index)
    if isinstance(index, Tensor):
        index = index._data
    elif isinstance(index, list):
        index = np.asarray(index)
    if isinstance(index, np.ndarray) and index.dtype.kind not in "biu":
        if index.size == 0:
            return index.astype(np.intp)
        raise DTypeError(f"{op}: index arrays must hold integers or booleans, got dtype {index.dtype}")
    return index


def _has_int_array(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, np.ndarray) and i.dtype.kind in "iu" for i in items)


# ---------------------------------------------------------------------------------------------------
# Elementwise arithmetic. Gradients come back broadcast; autograd reduces them (reduce_to).


class Add(Function):
    """out = x + y;   dx = g,  dy = g"""
    __slots__ = ()
    rule = "+: 1, 1"
    saves_inputs = False

    def forward(self, x, y):
        return x + y

    def backward(self, g, x, y, out):
        return g, g


class Sub(Function):
    """out = x − y;   dx = g,  dy = −g"""
    __slots__ = ()
    rule = "−: 1, −1"
    saves_inputs = False

    def forward(self, x, y):
        return x - y

    def backward(self, g, x, y, out):
        return g, (-g if self.needs[1] else None)


class Mul(Function):
    """out = x · y;   dx = g · y,  dy = g · x"""
    __slots__ = ()
    rule = "×: y, x"

    def forward(self, x, y):
        return x * y

    def backward(self, g, x, y, out):
        return (g * y if self.needs[0] else None), (g * x if self.needs[1] else None)


class Div(Function):
    """out = x / y;   dx = g / y,  dy = −g · x / y² = −(g / y) · out"""
    __slots__ = ()
    rule = "/: 1/y, −x/y²"
    saves_output = True

    def forward(self, x, y):
        return x / y

    def backward(self, g, x, y, out):
        gx = g / y
        return (gx if self.needs[0] else None), (-gx * out if self.needs[1] else None)


class Neg(Function):
    """out = −x;   dx = −g"""
    __slots__ = ()
    rule = "neg: −1"
    saves_inputs = False

    def forward(self, x):
        return -x

    def backward(self, g, x, out):
        return -g


class Pow(Function):
    """out = x ** p (p a number);   dx = g · p · x^(p−1)"""
    __slots__ = ("p",)
    rule = "pow: p·x^(p−1)"

    def forward(self, x, p):
        self.p = p
        return x ** p

    def backward(self, g, x, out):
        p = self.p
        if p == 2:
            return g * (2 * x)
        if p == 0:                                   # x⁰ = 1: derivative 0 everywhere, also at x = 0,
            return g * 0.0                           # where p · x^(p−1) would be 0 · inf = NaN
        return g * (p * x ** (p - 1))


class Exp(Function):
    """out = eˣ;   dx = g · out"""
    __slots__ = ()
    rule = "exp: eˣ"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return np.exp(x)

    def backward(self, g, x, out):
        return g * out


class Log(Function):
    """out = ln x;   dx = g / x"""
    __slots__ = ()
    rule = "log: 1/x"

    def forward(self, x):
        return np.log(x)

    def backward(self, g, x, out):
        return g / x


class Sqrt(Function):
    """out = √x;   dx = g / (2 · out)"""
    __slots__ = ()
    rule = "sqrt: 1/(2√x)"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, g, x, out):
        return g / (2 * out)


class Tanh(Function):
    """out = tanh x;   dx = g · (1 − out²)"""
    __slots__ = ()
    rule = "tanh: 1 − y²"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return np.tanh(x)

    def backward(self, g, x, out):
        return g * one_minus(out * out)


class Sigmoid(Function):
    """out = σ(x) = 1 / (1 + e⁻ˣ);   dx = g · out · (1 − out)
    Fused (rather than built from exp and division) so it cannot overflow and needs one pass back."""
    __slots__ = ()
    rule = "σ: y(1 − y)"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return sigmoid_np(x)

    def backward(self, g, x, out):
        return g * out * one_minus(out)


class ReLU(Function):
    """out = max(x, 0);   dx = g · [x > 0]   (0 at exactly x = 0, as in PyTorch and JAX)"""
    __slots__ = ()
    rule = "relu: [x > 0]"

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, g, x, out):
        return g * (value(x) > 0)


class Abs(Function):
    """out = |x|;   dx = g · sign(x)   (0 at x = 0)"""
    __slots__ = ()
    rule = "abs: sign(x)"

    def forward(self, x):
        return np.abs(x)

    def backward(self, g, x, out):
        return g * np.sign(value(x))


class Clip(Function):
    """out = min(max(x, lo), hi);   dx = g · [lo ≤ x ≤ hi]"""
    __slots__ = ("lo", "hi")
    rule = "clip: [lo ≤ x ≤ hi]"

    def forward(self, x, lo=None, hi=None):
        if lo is None and hi is None:
            raise ArgumentError("clip: give min, max or both")
        self.lo, self.hi = lo, hi
        out = x if lo is None else np.maximum(x, lo)
        return out if hi is None else np.minimum(out, hi)

    def backward(self, g, x, out):
        xv = value(x)
        inside = np.ones(xv.shape, dtype=bool)
        if self.lo is not None:
            inside &= xv >= self.lo
        if self.hi is not None:
            inside &= xv <= self.hi
        return g * inside


class Cast(Function):
    """out = x as another float dtype;   dx = g (autograd casts it back to x's dtype)"""
    __slots__ = ()
    rule = "cast: 1"
    saves_inputs = False

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, g, x, out):
        return g


# ---------------------------------------------------------------------------------------------------
# Matrix product


class MatMul(Function):
    """out = a @ b (NumPy semantics: 1-D operands are promoted, leading axes broadcast);
    da = g @ bᵀ,  db = aᵀ @ g"""
    __slots__ = ()
    rule = "@: g·bᵀ, aᵀ·g"

    def forward(self, a, b):
        if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2:
            return a.dot(b)                          # same result, less call overhead for small matrices
        return np.matmul(a, b)

    def backward(self, g, a, b, out):
        need_a, need_b = self.needs
        if a.ndim == 2 and b.ndim == 2:              # the common case, no reshaping
            if type(g) is np.ndarray:                # first order: ndarray.dot is the fastest 2-D product
                return (g.dot(b.T) if need_a else None), (a.T.dot(g) if need_b else None)
            return (g @ b.T if need_a else None), (a.T @ g if need_b else None)
        if a.ndim == 1 and b.ndim == 1:              # dot product: out is a scalar
            return (g * b if need_a else None), (g * a if need_b else None)
        # Promote 1-D operands to matrices as NumPy does, and g with them.
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
        if b.ndim == 1:
            g2 = g2.reshape(g2.shape + (1,))
        ga = gb = None
        if need_a:
            ga = g2 @ mT(b2)                         # (..., n, k); batch axes reduced by autograd
            if a.ndim == 1:
                ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:])
        if need_b:
            gb = mT(a2) @ g2                         # (..., k, m)
            if b.ndim == 1:
                gb = gb.reshape(gb.shape[:-1])
        return ga, gb

    def error(self, arrays, exc):
        sa, sb = np.shape(arrays[0]), np.shape(arrays[1])
        if not sa or not sb:
            return ShapeError(f"matmul: 0-d operands are not allowed (shapes {sa} and {sb}); use * to scale")
        ka, kb = sa[-1], (sb[-2] if len(sb) > 1 else sb[0])
        if ka != kb:
            return ShapeError(f"matmul: inner dimensions do not match: {sa} @ {sb} ({ka} != {kb})")
        return super().error(arrays, exc)


class Linear(Function):
    """out = x @ W + b (x: (N, in), W: (in, out), b: (out,) or (1, out)); Tensor.linear(W, b)
    dx = g @ Wᵀ,  dW = xᵀ @ g,  db = Σ_rows g
    The affine map of a dense layer as one node (PyTorch's addmm): one pass and one graph node fewer
    than `x @ W + b`, which computes exactly the same numbers."""
    __slots__ = ()
    rule = "linear: g·Wᵀ, xᵀ·g, Σg"

    def forward(self, x, W, b):
        if x.ndim != 2 or W.ndim != 2:
            raise ShapeError(f"linear: x and W must be 2-D, got shapes {x.shape} and {W.shape}")
        if x.shape[1] != W.shape[0]:
            raise ShapeError(f"linear: inner dimensions do not match: x {x.shape} @ W {W.shape} "
                             f"({x.shape[1]} != {W.shape[0]})")
        out = x.dot(W)                               # (N, out), a fresh array: add b in place...
        if type(b) is np.ndarray and b.dtype != out.dtype and np.result_type(out, b) != out.dtype:
            return out + b                           # ...unless b promotes it (float32 + float64)
        out += b
        return out

    def saved_arrays(self):
        """Backward reads x and W, never b: changing b in place after forward is harmless, as it is
        for the `x @ W + b` this op fuses."""
        return [a for a in self.arrays[:2] if isinstance(a, np.ndarray)]

    def backward(self, g, x, W, b, out):
        need_x, need_W, need_b = self.needs
        if type(g) is np.ndarray:
            return (g.dot(W.T) if need_x else None), (x.T.dot(g) if need_W else None), (g if need_b else None)
        return (g @ W.T if need_x else None), (x.T @ g if need_W else None), (g if need_b else None)


# ---------------------------------------------------------------------------------------------------
# Reductions


class Sum(Function):
    """out = Σ x over axis;   dx = g broadcast back to x's shape"""
    __slots__ = ("kshape",)
    rule = "sum: 1"
    saves_inputs = False

    def forward(self, x, axis=None, keepdims=False):
        out = x.sum(axis=axis, keepdims=keepdims)
        self.kshape = keep_shape(x.shape, axis)
        return out

    def backward(self, g, x, out):
        return broadcast_to(g.reshape(self.kshape), x.shape)


class Mean(Function):
    """out = (1/n) Σ x over axis;   dx = g / n broadcast back"""
    __slots__ = ("kshape", "n")
    rule = "mean: 1/n"
    saves_inputs = False

    def forward(self, x, axis=None, keepdims=False):
        self.kshape = keep_shape(x.shape, axis)
        self.n = max(x.size // max(math.prod(self.kshape), 1), 1)
        if x.dtype.kind != "f" or x.size == 0:     # (the mean of nothing is NaN, as in NumPy)
            return x.mean(axis=axis, keepdims=keepdims)
        return x.sum(axis=axis, keepdims=keepdims) * (1.0 / self.n)   # as x.mean, with less overhead

    def backward(self, g, x, out):
        return broadcast_to(g.reshape(self.kshape), x.shape) * (1.0 / self.n)


class Max(Function):
    """out = max x over axis;   dx = g at the maximum. Ties split g equally among the tied
    elements: deterministic, symmetric, and what central differences measure."""
    __slots__ = ("kshape", "axis")
    rule = "max: [x = max] / #ties"

    def forward(self, x, axis=None, keepdims=False):
        self.axis = axis
        self.kshape = keep_shape(x.shape, axis)
        return x.max(axis=axis, keepdims=keepdims)

    def backward(self, g, x, out):
        xv, top = value(x), value(out).reshape(self.kshape)
        hit = xv == top
        if np.isnan(top).any():                      # a NaN maximum: the gradient goes to the NaN(s)
            hit |= np.isnan(xv) & np.isnan(top)
        hit = hit.astype(xv.dtype)
        hit /= hit.sum(axis=self.axis, keepdims=True)
        return broadcast_to(g.reshape(self.kshape), xv.shape) * hit


# ---------------------------------------------------------------------------------------------------
# Shape ops


class Reshape(Function):
    """out = x viewed with a new shape;   dx = g reshaped back"""
    __slots__ = ()
    rule = "reshape"
    saves_inputs = False

    def forward(self, x, shape):
        return x.reshape(shape)

    def backward(self, g, x, out):
        return g.reshape(x.shape)


class Transpose(Function):
    """out = x with axes permuted;   dx = g with the inverse permutation"""
    __slots__ = ("axes",)
    rule = "transpose"
    saves_inputs = False

    def forward(self, x, axes=None):
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g, x, out):
        return g.transpose(None if self.axes is None else tuple(np.argsort(self.axes)))


class BroadcastTo(Function):
    """out = x repeated along new or size-1 axes;   dx = g summed back (done by autograd)"""
    __slots__ = ()
    name = "broadcast_to"
    rule = "broadcast: Σ"
    saves_inputs = False

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, g, x, out):
        return g


class GetItem(Function):
    """out = x[index];   dx = zeros with g added at index (repeated integer indices accumulate)"""
    __slots__ = ("index", "repeats")
    name = "getitem"
    rule = "index: scatter"
    saves_inputs = False

    def forward(self, x, index):
        self.index = index
        self.repeats = _has_int_array(index)
        return x[index]

    def backward(self, g, x, out):
        return scatter_add(g, x.shape, self.index, self.repeats)


class ScatterAdd(Function):
    """out = zeros(shape) with g added at index (the backward of indexing);   dg = out-grad[index]"""
    __slots__ = ("index",)
    name = "scatter_add"
    rule = "scatter: gather"
    saves_inputs = False

    def forward(self, g, shape, index, repeats):
        self.index = index
        return scatter_add_np(g, shape, index, repeats)

    def backward(self, gout, g, out):
        return gout[self.index]


# ---------------------------------------------------------------------------------------------------
# Softmax family: fused for numerical stability (they subtract the row maximum before exp).


class Softmax(Function):
    """out = eˣ / Σ eˣ along axis;   dx = out · (g − Σ g·out)"""
    __slots__ = ("axis",)
    rule = "softmax: y(g − Σgy)"
    saves_inputs, saves_output = False, True

    def forward(self, x, axis=-1):
        self.axis = axis
        return softmax_np(x, axis)

    def backward(self, g, x, out):
        return out * (g - (g * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """out = x − log Σ eˣ along axis;   dx = g − softmax(x) · Σ g,  with softmax(x) = e^out"""
    __slots__ = ("axis",)
    name = "log_softmax"
    rule = "log_softmax: g − eʸΣg"
    saves_inputs, saves_output = False, True

    def forward(self, x, axis=-1):
        self.axis = axis
        return log_softmax_np(x, axis)

    def backward(self, g, x, out):
        return g - exp(out) * g.sum(axis=self.axis, keepdims=True)


class LogSumExp(Function):
    """out = log Σ eˣ along axis;   dx = g · softmax(x)  (= g · e^(x − out), computed stably)"""
    __slots__ = ("kshape", "axis")
    name = "logsumexp"
    rule = "logsumexp: softmax(x)"

    def forward(self, x, axis=-1, keepdims=False):
        self.axis = axis
        self.kshape = keep_shape(x.shape, axis)
        m = x.max(axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)           # rows of -inf (or inf) must not give NaN here
        out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
        return out if keepdims else _squeeze(out, x.shape, axis)

    def backward(self, g, x, out):
        return broadcast_to(g.reshape(self.kshape), x.shape) * softmax(x, self.axis)


def _squeeze(out, shape, axis):
    """Drop the reduced axes of a keepdims=True result."""
    if axis is None:
        return out.reshape(())
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = {a % len(shape) for a in axes}
    return out.reshape(tuple(n for i, n in enumerate(shape) if i not in axes))


# ---------------------------------------------------------------------------------------------------
# Losses, fused so their gradient is the simple one the documents derive by hand.

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ArgumentError(f"{op}: reduction={reduction!r} is not one of 'mean', 'sum', 'none'")


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    total = losses.sum()
    return total if reduction == "sum" else total * (1.0 / max(losses.size, 1))


def _scale(g, reduction, n):
    """Upstream gradient of a reduced loss, spread back over its n terms."""
    return g * (1.0 / max(n, 1)) if reduction == "mean" else g


def _same_shape(op, x, target):
    if np.shape(target) != x.shape:
        raise ShapeError(f"{op}: target shape {np.shape(target)} does not match input shape {x.shape} "
                         "(shapes must match exactly; reshape one of them)")


_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def check_labels(op, labels, n_classes):
    """Integer class labels in [0, n_classes): never NumPy's silent wrap-around of negative indices."""
    if labels.dtype.kind not in "iu":
        raise LabelError(f"{op}: class labels must be integers, got dtype {labels.dtype}; pass integer "
                         "labels, or one-hot/probability rows with the same shape as the logits")
    if labels.size and labels.view(_UNSIGNED[labels.itemsize]).max() >= n_classes:  # negatives wrap to huge
        bad = np.flatnonzero((labels.reshape(-1) < 0) | (labels.reshape(-1) >= n_classes))[0]
        raise LabelError(f"{op}: label {labels.reshape(-1)[bad]} at position {bad} is out of range for "
                         f"{n_classes} classes (valid labels are 0..{n_classes - 1})")


class SoftmaxCrossEntropy(Function):
    """loss = −Σ_c y_c log softmax(z)_c per row, then the reduction.
    dz = (softmax(z) − y) · g / N   - the documents' δ = ŷ − y;   dy (soft targets) = −log softmax(z) · g / N

    Targets are integer labels of shape z.shape[:-1] (y is then their one-hot rows) or probability
    rows of z's shape. Fused: one stable pass forward (the row maximum is subtracted before exp), and
    the backward above, which reuses exp(z − max) and its row sums from the forward pass."""
    __slots__ = ("reduction", "labels", "flat", "e", "s", "n")
    name = "softmax_cross_entropy"
    rule = "softmax-CE: ŷ − y"

    def forward(self, z, target, reduction="mean"):
        op = "softmax_cross_entropy"
        if reduction not in _REDUCTIONS:
            _check_reduction(op, reduction)
        self.reduction = reduction
        if z.ndim == 0 or z.shape[-1] == 0:
            raise ShapeError(f"{op}: logits must have a class axis (last axis) with at least one class, "
                             f"got shape {z.shape}")
        if type(target) is not np.ndarray:
            target = np.asarray(target)
        n_classes = z.shape[-1]
        zz = z.reshape(-1, n_classes)                    # (M, C): one row per prediction
        m = len(zz)
        shifted, e, s = exp_rows(zz)                     # z − row max, its exp, (M,) row sums
        if target.shape == z.shape[:-1]:
            check_labels(op, target, n_classes)
            self.labels = target.reshape(-1)
            self.flat = row_starts(m, n_classes) + self.labels   # flat index of each row's label
            losses = np.log(s) - shifted.take(self.flat)
        elif target.shape == z.shape:
            self.labels = None
            logp = shifted - np.log(s)[:, None]
            losses = -(target.reshape(zz.shape) * logp).dot(ones(n_classes, logp.dtype))
        else:
            raise LabelError(f"{op}: target shape {target.shape} does not fit logits of shape {z.shape}: "
                             f"expected integer labels of shape {z.shape[:-1]} or probability rows of "
                             f"shape {z.shape}")
        self.e, self.s, self.n = e, s, m
        return _reduce(losses.reshape(z.shape[:-1]), reduction)

    def _rows(self, target, like):
        """Target as (..., C) rows: the one-hot of integer labels, or the given rows."""
        if self.labels is None:
            return target
        like = value(like)
        onehot = np.zeros(like.size, dtype=like.dtype)
        onehot[self.flat] = 1
        return onehot.reshape(like.shape)

    def release(self):
        super().release()
        self.e = self.s = None                           # forward's exp and row sums, kept for backward

    def backward(self, g, z, target, out):
        if self.reduction == "none":
            g = g.reshape(g.shape + (1,))
        scale = _scale(g, self.reduction, self.n)
        if not isinstance(g, Tensor) and not self.needs[1]:
            # Fast path: p = softmax(z) from forward's exp and row sums, then p − onehot, scaled.
            p = self.e / self.s[:, None]
            if self.labels is not None:
                p.reshape(-1)[self.flat] -= 1
                p = p.reshape(z.shape)
            else:
                p = p.reshape(z.shape) - target
            p *= scale
            return p, None
        gz = (softmax(z, -1) - self._rows(target, z)) * scale if self.needs[0] else None
        gt = -log_softmax(z, -1) * scale if self.needs[1] else None
        return gz, gt


class BCEWithLogits(Function):
    """loss = −[y log σ(z) + (1 − y) log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^−|z|), reduced.
    dz = (σ(z) − y) · g / N;   dy = −z · g / N.   Computed from logits so it stays finite."""
    __slots__ = ("reduction",)
    name = "binary_cross_entropy_with_logits"
    rule = "BCE: σ(z) − y"

    def forward(self, z, target, reduction="mean"):
        op = "binary_cross_entropy_with_logits"
        _check_reduction(op, reduction)
        _same_shape(op, z, target)
        self.reduction = reduction
        losses = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
        return _reduce(losses, reduction)

    def backward(self, g, z, target, out):
        scale = _scale(g, self.reduction, z.size)
        gz = (sigmoid(z) - target) * scale if self.needs[0] else None
        gt = -z * scale if self.needs[1] else None
        return gz, gt


class MSE(Function):
    """loss = (x − y)², reduced;   dx = 2 (x − y) · g / N,   dy = −dx"""
    __slots__ = ("reduction",)
    rule = "MSE: 2(x − y)"

    def forward(self, x, target, reduction="mean"):
        if reduction not in _REDUCTIONS:
            _check_reduction("mse", reduction)
        if np.shape(target) != x.shape:
            _same_shape("mse", x, target)
        self.reduction = reduction
        d = x - target
        d *= d
        return _reduce(d, reduction)

    def backward(self, g, x, target, out):
        gx = (x - target) * (2 * _scale(g, self.reduction, x.size))
        return (gx if self.needs[0] else None), (-gx if self.needs[1] else None)
