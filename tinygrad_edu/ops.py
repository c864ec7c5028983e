"""Primitive ops: a derivative table. Each class is one row: its forward and its local derivative side
by side, the math in the docstring.

    forward(self, x, ...)          NumPy arrays in (plus options such as axis), one array out
    backward(self, g, x, ..., out) the upstream gradient g = dL/d(out), the op's inputs and its output
                                   as they were during forward; returns dL/d(input) for each input,
                                   or None where nobody needs it (self.needs[i] is False)

Backward is written as plain NumPy math - operators, `.T`, `.reshape`, `.sum`, `np.sign`, ... - so the
same line runs on ndarrays (the ordinary backward pass) and on Tensors, whose operators and NumPy
functions record ops too (backward(create_graph=True) for higher derivatives; te.compile, which turns
a whole training step into generated NumPy code). So a backward formula never branches on values.

Gradients may come back with a broadcast shape or a promoted dtype: autograd.py reduces them to each
input's shape and dtype in one place (reduce_to), so binary ops never unbroadcast themselves.
Composite ops (min, square, ...) are written in tensor.py in terms of these.
"""
import math
import string

import numpy as np

from .errors import ArgumentError, DTypeError, LabelError, ShapeError
from .function import Function
from .tensor import Tensor

# ---------------------------------------------------------------------------------------------------
# The few formulas that are not NumPy functions, for arrays and Tensors alike.


def softmax(v, axis):
    return v.softmax(axis) if isinstance(v, Tensor) else softmax_np(v, axis)


def log_softmax(v, axis):
    return v.log_softmax(axis) if isinstance(v, Tensor) else log_softmax_np(v, axis)


def sigmoid(v):
    return v.sigmoid() if isinstance(v, Tensor) else sigmoid_np(v)


def one_hot(labels, n, dtype):
    """Rows of length n with a 1 at each label (no gradient)."""
    if isinstance(labels, Tensor):
        return NoGrad.apply(labels, fn=one_hot_np, n=n, dtype=dtype)
    return one_hot_np(labels, n, dtype)


def scatter_add(g, shape, index):
    """zeros(shape) with g added at index (the backward of indexing)."""
    if isinstance(g, Tensor):
        return ScatterAdd.apply(g, shape=shape, index=index)
    return scatter_add_np(g, shape, index)


def others_product(x, axis):
    """For each element, the product of the OTHER elements along `axis` (the derivative of a product
    with respect to one factor). Written without dividing by x, so it is exact where x has zeros: the
    running products from the left and from the right, multiplied. On Tensors (second derivatives,
    te.compile) it is spelled with one slice per position, so every step is a recorded op."""
    n = x.shape[axis]
    if not isinstance(x, Tensor):
        ones = np.ones_like(np.take(x, [0], axis=axis)) if n else np.take(x, [], axis=axis)
        before = np.take(x, range(n - 1), axis=axis)          # x₀ .. xₙ₋₂
        after = np.flip(np.take(x, range(1, n), axis=axis), axis)
        left = np.cumprod(np.concatenate([ones, before], axis), axis)          # Π_{j<i} x_j
        right = np.flip(np.cumprod(np.concatenate([ones, after], axis), axis), axis)   # Π_{j>i} x_j
        return left * right
    at = (slice(None),) * (axis % x.ndim)
    parts = [x[at + (slice(i, i + 1),)] for i in range(n)]
    one = Tensor(np.ones(parts[0].shape, x.dtype)) if n else None
    left, right = [one], [one]
    for i in range(1, n):
        left.append(left[-1] * parts[i - 1])
        right.append(right[-1] * parts[n - i])
    return Concatenate.apply(*[a * b for a, b in zip(left, right[::-1])], axis=axis) if n else x * 0


# NumPy kernels ----------------------------------------------------------------------------------

def as_float(x):
    """Integer or bool data as float64 (an exp of int8 data would wrap around or give float16)."""
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def sigmoid_np(x):
    """1 / (1 + e^−x), accurate for every x. e^−x overflows (with a warning) for x below about −709
    in float64 (−88 in float32), so −x is capped just below that: there sigmoid gives the smallest
    normal number (1e-308, 1e-38) instead of a denormal or 0 - far below what a gradient notices."""
    x = as_float(x)
    return 1 / (1 + np.exp(np.minimum(-x, EXP_CAP[x.dtype.type])))


# The largest exponent e^t can take in each float type without overflowing (ln of its max, less 1).
EXP_CAP = {t: np.log(np.finfo(t).max) - 1 for t in (np.float16, np.float32, np.float64, np.longdouble)}


def softmax_np(x, axis):
    x = as_float(x)
    e = np.exp(x - x.max(axis=axis, keepdims=True, initial=-np.inf))   # shifted: exp never overflows
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_np(x, axis):
    x = as_float(x)
    shifted = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
    if shifted.size == 0:                   # an empty axis (its log Σ would be log 0): nothing to do
        return shifted
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def one_hot_np(labels, n, dtype):
    return (np.asarray(labels)[..., None] == np.arange(n)).astype(dtype)


_erf = np.frompyfunc(math.erf, 1, 1)     # NumPy has no erf; math.erf is exact to the last bit


def erf_np(x):
    x = as_float(x)
    return np.asarray(_erf(x), dtype=x.dtype)


def einsum_terms(subscripts, shapes):
    """Parse einsum subscripts into one letter string per operand and one for the output, with '...'
    spelled out as letters (the same letters, right-aligned, in every operand) and the implicit output
    (no '->') made explicit: the letters that appear once, in alphabetical order, after the '...' ones.
    'ij,jk' -> (['ij', 'jk'], 'ik')."""
    if not isinstance(subscripts, str):
        raise ArgumentError(f"einsum: subscripts must be a string such as 'ij,jk->ik', got {subscripts!r}")
    text = subscripts.replace(" ", "")
    ins, arrow, out = text.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum: {subscripts!r} names {len(terms)} operand(s), {len(shapes)} given")
    if any(c not in string.ascii_letters + ".," for c in ins + out):
        raise ArgumentError(f"einsum: subscripts may hold only letters, ',', '->' and '...': {subscripts!r}")
    free = [c for c in string.ascii_letters if c not in text]
    extra = [len(shape) - (len(t) - 3) for t, shape in zip(terms, shapes) if "..." in t]
    ell = "".join(free[:max(extra, default=0)])
    spelled = []
    for t, shape in zip(terms, shapes):
        if "..." in t:
            k = len(shape) - (len(t) - 3)
            t = t.replace("...", ell[len(ell) - k:] if k > 0 else "")
        if len(t) != len(shape) or "." in t:
            raise ShapeError(f"einsum: subscripts {t!r} do not fit an operand of shape {tuple(shape)}")
        spelled.append(t)
    if arrow:
        out = out.replace("...", ell)
    else:
        letters = "".join(spelled)
        out = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    return spelled, out


def scatter_add_np(g, shape, index):
    out = np.zeros(shape, dtype=g.dtype)
    np.add.at(out, index, g)           # integer arrays may repeat an index: contributions add up
    return out


def keep_shape(shape, axis):
    """The shape of a reduction over `axis` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def normalize_index(index, op="getitem"):
    """Turn Tensors and lists inside an index into integer/bool ndarrays (and check them); `op`
    names the caller in errors (getitem or setitem)."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i, op) for i in index)
    if isinstance(index, Tensor):
        index = index._data
    elif isinstance(index, (list, range)):
        index = np.asarray(index)
    if isinstance(index, np.ndarray) and index.dtype.kind not in "biu":
        if index.size == 0:
            return index.astype(np.intp)
        raise DTypeError(f"{op}: index arrays must hold integers or booleans, got dtype {index.dtype}")
    return index


# ---------------------------------------------------------------------------------------------------
# Elementwise arithmetic. Gradients come back broadcast; autograd reduces them (reduce_to).


class Add(Function):
    """out = x + y;   dx = g,  dy = g"""
    rule = "+: 1, 1"
    saves_inputs = False

    def forward(self, x, y):
        return x + y

    def backward(self, g, x, y, out):
        return g, g


class Sub(Function):
    """out = x − y;   dx = g,  dy = −g"""
    rule = "−: 1, −1"
    saves_inputs = False

    def forward(self, x, y):
        return x - y

    def backward(self, g, x, y, out):
        return g, -g


class Mul(Function):
    """out = x · y;   dx = g · y,  dy = g · x"""
    rule = "×: y, x"

    def forward(self, x, y):
        return x * y

    def backward(self, g, x, y, out):
        return g * y, g * x


class Div(Function):
    """out = x / y;   dx = g / y,  dy = −g · x / y² = −(g / y) · out"""
    rule = "/: 1/y, −x/y²"
    saves_output = True

    def forward(self, x, y):
        return x / y

    def backward(self, g, x, y, out):
        return g / y, -(g / y) * out


class Neg(Function):
    """out = −x;   dx = −g"""
    rule = "neg: −1"
    saves_inputs = False

    def forward(self, x):
        return -x

    def backward(self, g, x, out):
        return -g


class Pow(Function):
    """out = xᵖ (p a number);   dx = g · p · xᵖ⁻¹"""
    __slots__ = ("p",)
    rule = "pow: p·xᵖ⁻¹"

    def forward(self, x, p):
        self.p = p
        return x ** p

    def backward(self, g, x, out):
        if self.p == 0:                     # x⁰ = 1 is flat, also at x = 0 (where p·xᵖ⁻¹ is 0·inf)
            return g * 0
        return g * (self.p * x ** (self.p - 1))


class Power(Function):
    """out = xʸ elementwise (y an array or a Tensor);   dx = g · y · xʸ⁻¹,  dy = g · out · ln x
    Where y = 0 the derivative in x is 0, and at x = 0 the one in y is 0 (as in PyTorch)."""
    rule = "power: y·xʸ⁻¹, xʸ·ln x"
    saves_output = True

    def forward(self, x, y):
        return x ** y

    def backward(self, g, x, y, out):
        dx = g * np.where(y == 0, 0, y * x ** (y - 1)) if self.needs[0] else None
        dy = g * out * np.log(np.where(x == 0, 1, x)) if self.needs[1] else None
        return dx, dy


class Exp(Function):
    """out = eˣ;   dx = g · out"""
    rule = "exp: eˣ"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return np.exp(x)

    def backward(self, g, x, out):
        return g * out


class Log(Function):
    """out = ln x;   dx = g / x"""
    rule = "log: 1/x"

    def forward(self, x):
        return np.log(x)

    def backward(self, g, x, out):
        return g / x


class Sqrt(Function):
    """out = √x;   dx = g / (2 · out)"""
    rule = "sqrt: 1/(2√x)"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, g, x, out):
        return g / (2 * out)


class Tanh(Function):
    """out = tanh x;   dx = g · (1 − out²)"""
    rule = "tanh: 1 − y²"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return np.tanh(x)

    def backward(self, g, x, out):
        return g * (1 - out * out)


class Sigmoid(Function):
    """out = σ(x) = 1 / (1 + e⁻ˣ);   dx = g · out · (1 − out)
    Fused (rather than built from exp and division) so it cannot overflow and needs one pass back."""
    rule = "σ: y(1 − y)"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return sigmoid_np(x)

    def backward(self, g, x, out):
        return g * out * (1 - out)


class ReLU(Function):
    """out = max(x, 0);   dx = g · [x > 0]   (0 at exactly x = 0, as in PyTorch and JAX)"""
    rule = "relu: [x > 0]"

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, g, x, out):
        return g * (x > 0)


class LeakyReLU(Function):
    """out = x if x > 0 else slope · x;   dx = g if x > 0 else slope · g   (slope at exactly 0, as in PyTorch)"""
    __slots__ = ("slope",)
    name = "leaky_relu"
    rule = "leaky_relu: 1 or slope"

    def forward(self, x, slope=0.01):
        self.slope = slope
        return np.where(x > 0, x, x * slope)

    def backward(self, g, x, out):
        return np.where(x > 0, g, g * self.slope)


class ELU(Function):
    """out = x if x > 0 else α(eˣ − 1);   dx = g if x > 0 else g · (out + α)   (α eˣ, from the output)"""
    __slots__ = ("alpha",)
    rule = "elu: 1 or y + α"
    saves_output = True

    def forward(self, x, alpha=1.0):
        self.alpha = alpha
        x = as_float(x)
        return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))   # (no overflow for big x)

    def backward(self, g, x, out):
        return np.where(x > 0, g, g * (out + self.alpha))


class Softplus(Function):
    """out = ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|) (finite for every x);   dx = g · σ(x)"""
    rule = "softplus: σ(x)"

    def forward(self, x):
        x = as_float(x)
        return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))

    def backward(self, g, x, out):
        return g * sigmoid(x)


class Abs(Function):
    """out = |x|;   dx = g · sign(x)   (0 at x = 0)"""
    rule = "abs: sign(x)"

    def forward(self, x):
        return np.abs(x)

    def backward(self, g, x, out):
        return g * np.sign(x)


class Sign(Function):
    """out = sign(x) ∈ {−1, 0, 1};   dx = 0 (flat everywhere it is defined)"""
    rule = "sign: 0"
    saves_inputs = False

    def forward(self, x):
        return np.sign(x)

    def backward(self, g, x, out):
        return g * 0


class Sin(Function):
    """out = sin x;   dx = g · cos x"""
    rule = "sin: cos x"

    def forward(self, x):
        return np.sin(x)

    def backward(self, g, x, out):
        return g * np.cos(x)


class Cos(Function):
    """out = cos x;   dx = −g · sin x"""
    rule = "cos: −sin x"

    def forward(self, x):
        return np.cos(x)

    def backward(self, g, x, out):
        return -g * np.sin(x)


class Tan(Function):
    """out = tan x;   dx = g · (1 + out²)   (1 / cos² x, from the output)"""
    rule = "tan: 1 + y²"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return np.tan(x)

    def backward(self, g, x, out):
        return g * (1 + out * out)


class Log1p(Function):
    """out = ln(1 + x), accurate for tiny x;   dx = g / (1 + x)"""
    rule = "log1p: 1/(1 + x)"

    def forward(self, x):
        return np.log1p(x)

    def backward(self, g, x, out):
        return g / (1 + x)


class Expm1(Function):
    """out = eˣ − 1, accurate for tiny x;   dx = g · (out + 1)"""
    rule = "expm1: eˣ"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return np.expm1(x)

    def backward(self, g, x, out):
        return g * (out + 1)


class Erf(Function):
    """out = erf x = (2/√π) ∫₀ˣ e^(−t²) dt;   dx = g · (2/√π) e^(−x²)
    (the Gaussian error function: GELU is x · ½(1 + erf(x/√2)))"""
    rule = "erf: 2/√π · e^(−x²)"

    def forward(self, x):
        return erf_np(x)

    def backward(self, g, x, out):
        return g * (2 / math.sqrt(math.pi)) * np.exp(-(x * x))


class Clip(Function):
    """out = min(max(x, lo), hi);   dx = g · [lo ≤ x ≤ hi]   (the bounds are constants)"""
    __slots__ = ("lo", "hi")
    rule = "clip: [lo ≤ x ≤ hi]"

    def forward(self, x, lo=None, hi=None):
        if lo is None and hi is None:
            raise ArgumentError("clip: give min, max or both")
        self.lo, self.hi = lo, hi
        return np.clip(x, lo, hi)

    def backward(self, g, x, out):
        if self.lo is not None:
            g = g * (x >= self.lo)
        if self.hi is not None:
            g = g * (x <= self.hi)
        return g


class Cast(Function):
    """out = x as another float dtype;   dx = g (autograd casts it back to x's dtype)"""
    rule = "cast: 1"
    saves_inputs = False

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, g, x, out):
        return g


class Where(Function):
    """out = x where cond else y;   dx = g where cond else 0,  dy = 0 where cond else g
    (cond is a boolean constant: no gradient flows to it)"""
    rule = "where: [c], [¬c]"

    def forward(self, cond, x, y):
        return np.where(cond, x, y)

    def backward(self, g, cond, x, y, out):
        return None, np.where(cond, g, 0), np.where(cond, 0, g)


class Maximum(Function):
    """out = max(x, y) elementwise;   dx = g · [x > y],  dy = g · [y > x];  where x = y each gets g/2
    (a tie splits the gradient equally, as Tensor.max and PyTorch's maximum do)"""
    rule = "maximum: [x > y], [y > x] (ties ½)"

    def forward(self, x, y):
        return np.maximum(x, y)

    def backward(self, g, x, y, out):
        tie = (x == y) * 0.5
        dx = g * ((x > y) + tie) if self.needs[0] else None
        dy = g * ((y > x) + tie) if self.needs[1] else None
        return dx, dy


class Minimum(Function):
    """out = min(x, y) elementwise;   dx = g · [x < y],  dy = g · [y < x];  ties split g equally"""
    rule = "minimum: [x < y], [y < x] (ties ½)"

    def forward(self, x, y):
        return np.minimum(x, y)

    def backward(self, g, x, y, out):
        tie = (x == y) * 0.5
        dx = g * ((x < y) + tie) if self.needs[0] else None
        dy = g * ((y < x) + tie) if self.needs[1] else None
        return dx, dy


class NoGrad(Function):
    """out = fn(x, ...) for a function whose answer carries no gradient: comparisons, isnan, logical
    and/or/not, argmax, one-hot rows of labels. Never part of the autograd graph (te.compile still
    records it: it is part of the computation)."""
    __slots__ = ("fn",)
    rule = "no gradient"
    differentiable = False

    def forward(self, *xs, fn, **options):
        self.fn = fn
        return fn(*xs, **options)

    def error(self, arrays, exc):
        err = super().error(arrays, exc)
        return type(err)(f"{getattr(self.fn, '__name__', self.fn)}{str(err)[len(self.name):]}")


# ---------------------------------------------------------------------------------------------------
# Matrix products


class MatMul(Function):
    """out = a @ b (NumPy semantics: 1-D operands are promoted, leading axes broadcast);
    da = g @ bᵀ,  db = aᵀ @ g"""
    rule = "@: g·bᵀ, aᵀ·g"

    def forward(self, a, b):
        return np.matmul(a, b)

    def backward(self, g, a, b, out):
        if a.ndim == 1 and b.ndim == 1:              # a dot product: out and g are scalars
            return g * b, g * a
        # A 1-D a acts as a row (1, k) and a 1-D b as a column (k, 1); g gets back the axis each lost.
        a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
        b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
        g2 = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:]) if a.ndim == 1 else g
        g2 = g2.reshape(g2.shape + (1,)) if b.ndim == 1 else g2
        ga = gb = None
        if self.needs[0]:
            ga = g2 @ b2.swapaxes(-1, -2)                  # (..., n, k); batch axes summed by autograd
            ga = ga.reshape(ga.shape[:-2] + ga.shape[-1:]) if a.ndim == 1 else ga
        if self.needs[1]:
            gb = a2.swapaxes(-1, -2) @ g2                  # (..., k, m)
            gb = gb.reshape(gb.shape[:-1]) if b.ndim == 1 else gb
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
    dx = g @ Wᵀ,  dW = xᵀ @ g,  db = Σ_rows g   (autograd sums g over the rows)
    The affine map of a dense layer as one node (PyTorch's addmm): one graph node fewer than
    `x @ W + b`, with exactly the same numbers."""
    rule = "linear: g·Wᵀ, xᵀ·g, Σg"

    def forward(self, x, W, b):
        if x.ndim != 2 or W.ndim != 2:
            raise ShapeError(f"linear: x and W must be 2-D, got shapes {x.shape} and {W.shape}")
        if x.shape[1] != W.shape[0]:
            raise ShapeError(f"linear: inner dimensions do not match: x {x.shape} @ W {W.shape} "
                             f"({x.shape[1]} != {W.shape[0]})")
        return x @ W + b

    def saved_arrays(self):
        """Backward reads x and W, never b: changing b in place after forward is harmless, as it is
        for the `x @ W + b` this op fuses."""
        return [a for a in self.arrays[:2] if isinstance(a, np.ndarray)]

    def backward(self, g, x, W, b, out):
        need_x, need_W, need_b = self.needs
        return (g @ W.T if need_x else None), (x.T @ g if need_W else None), (g if need_b else None)


class Einsum(Function):
    """out = einsum(subscripts, a, b, ...): multiply the operands, sum the letters the output lacks.
    The gradient of each operand is again an einsum: g and the OTHER operands, back to its letters.

        'ij,jk->ik' (a @ b):   da = einsum('ik,jk->ij', g, b) = g bᵀ,   db = einsum('ik,ij->jk', g, a) = aᵀ g

    A letter repeated in one operand ('ii->i', the diagonal) sends g back onto the diagonal (an
    identity joins the einsum); a letter only that operand has ('ij->i', a sum) spreads g over it
    (a vector of ones joins)."""
    __slots__ = ("terms", "output")
    rule = "einsum: einsum(g, others)"

    def forward(self, *xs, subscripts):
        self.terms, self.output = einsum_terms(subscripts, [np.shape(x) for x in xs])
        return np.einsum(",".join(self.terms) + "->" + self.output, *xs)

    def backward(self, g, *xs_and_out):
        xs = xs_and_out[:-1]
        grads = []
        for k, x in enumerate(xs):
            if not self.needs[k]:
                grads.append(None)
                continue
            terms = [self.output] + [t for j, t in enumerate(self.terms) if j != k]
            operands = [g] + [y for j, y in enumerate(xs) if j != k]
            sizes = {}                                  # the largest size each letter has there
            for t, y in zip(terms, operands):
                for c, n in zip(t, np.shape(y)):
                    sizes[c] = max(sizes.get(c, 0), n)
            fresh = (c for c in string.ascii_letters if c not in "".join(self.terms) + self.output)
            target = ""
            for c, n in zip(self.terms[k], np.shape(x)):
                if c in target:                         # repeated: the diagonal, via an identity
                    d = next(fresh)
                    terms.append(c + d)
                    operands.append(np.eye(n, dtype=x.dtype))
                    c = d
                elif c not in sizes or sizes[c] < n:    # no other term has the letter at this size
                    terms.append(c)
                    operands.append(np.ones(n, dtype=x.dtype))
                target += c
            grads.append(np.einsum(",".join(terms) + "->" + target, *operands))
        return tuple(grads)


# ---------------------------------------------------------------------------------------------------
# Reductions. Their backward spreads g back over the reduced axes (g.reshape(kept) broadcast to x).


class Sum(Function):
    """out = Σ x over axis;   dx = g broadcast back to x's shape"""
    __slots__ = ("kept",)
    rule = "sum: 1"
    saves_inputs = False

    def forward(self, x, axis=None, keepdims=False):
        self.kept = keep_shape(x.shape, axis)
        return x.sum(axis=axis, keepdims=keepdims)

    def backward(self, g, x, out):
        return np.broadcast_to(g.reshape(self.kept), x.shape)


class Mean(Function):
    """out = (1/n) Σ x over axis;   dx = g / n broadcast back"""
    __slots__ = ("kept", "n")
    rule = "mean: 1/n"
    saves_inputs = False

    def forward(self, x, axis=None, keepdims=False):
        self.kept = keep_shape(x.shape, axis)
        self.n = max(x.size // max(math.prod(self.kept), 1), 1)
        return x.mean(axis=axis, keepdims=keepdims)        # (the mean of nothing is NaN, as in NumPy)

    def backward(self, g, x, out):
        return np.broadcast_to(g.reshape(self.kept) / self.n, x.shape)


class Max(Function):
    """out = max x over axis;   dx = g at the maximum. Ties split g equally among the tied elements
    (deterministic, symmetric, and what central differences measure); a NaN maximum sends g to the NaN."""
    __slots__ = ("kept", "axis")
    rule = "max: [x = max] / #ties"

    def forward(self, x, axis=None, keepdims=False):
        self.axis, self.kept = axis, keep_shape(x.shape, axis)
        return x.max(axis=axis, keepdims=keepdims)

    def backward(self, g, x, out):
        top = out.reshape(self.kept)
        hit = ((x == top) | (np.isnan(x) & np.isnan(top))).astype(x.dtype)
        return g.reshape(self.kept) * hit / hit.sum(axis=self.axis, keepdims=True)


class Prod(Function):
    """out = Π x over axis (None: all);   dx = g · (the product of the other elements)
    Not g · out / x: that divides by zero where some x is 0 (see others_product)."""
    __slots__ = ("kept", "axis")
    rule = "prod: Π others"

    def forward(self, x, axis=None, keepdims=False):
        self.axis, self.kept = axis, keep_shape(x.shape, axis)
        return x.prod(axis=axis, keepdims=keepdims)

    def backward(self, g, x, out):
        if self.axis is None:
            others = others_product(x.reshape(-1), 0).reshape(x.shape)
        else:
            others = others_product(x, self.axis)
        return g.reshape(self.kept) * others


class Cumsum(Function):
    """out_i = Σ_{j ≤ i} x_j along axis;   dx_j = Σ_{i ≥ j} g_i (a cumulative sum from the other end)"""
    __slots__ = ("axis",)
    rule = "cumsum: reversed cumsum"
    saves_inputs = False

    def forward(self, x, axis):
        self.axis = axis
        return np.cumsum(x, axis=axis)

    def backward(self, g, x, out):
        return np.flip(np.cumsum(np.flip(g, self.axis), axis=self.axis), self.axis)


# ---------------------------------------------------------------------------------------------------
# Shape ops


class Reshape(Function):
    """out = x viewed with a new shape;   dx = g reshaped back"""
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
        out = x.transpose(axes)
        self.axes = None if axes is None else tuple(a % x.ndim for a in axes)   # (−1: the last axis)
        return out

    def backward(self, g, x, out):
        return g.transpose(None if self.axes is None else tuple(np.argsort(self.axes)))


class BroadcastTo(Function):
    """out = x repeated along new or size-1 axes;   dx = g summed back (done by autograd)"""
    name = "broadcast_to"
    rule = "broadcast: Σ"
    saves_inputs = False

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, g, x, out):
        return g


class GetItem(Function):
    """out = x[index];   dx = zeros with g added at index (repeated integer indices accumulate)"""
    __slots__ = ("index",)
    name = "getitem"
    rule = "index: scatter"
    saves_inputs = False

    def forward(self, x, index):
        self.index = index
        return x[index]

    def backward(self, g, x, out):
        return scatter_add(g, x.shape, self.index)


class ScatterAdd(Function):
    """out = zeros(shape) with g added at index (the backward of indexing);   dg = dout[index]"""
    __slots__ = ("index",)
    name = "scatter_add"
    rule = "scatter: gather"
    saves_inputs = False

    def forward(self, g, shape, index):
        self.index = index
        return scatter_add_np(g, shape, index)

    def backward(self, gout, g, out):
        return gout[self.index]


class Concatenate(Function):
    """out = x₁, x₂, ... joined along axis;   dxᵢ = the slice of g where xᵢ went"""
    __slots__ = ("slices",)
    name = "concatenate"
    rule = "concatenate: slices"
    saves_inputs = False

    def forward(self, *xs, axis=0):
        out = np.concatenate(xs, axis=axis)
        ax, end, self.slices = axis % out.ndim, 0, []
        for x in xs:
            self.slices.append((slice(None),) * ax + (slice(end, end + x.shape[ax]),))
            end += x.shape[ax]
        return out

    def backward(self, g, *xs_and_out):
        return tuple(g[s] if need else None for s, need in zip(self.slices, self.needs))


class Pad(Function):
    """out = x surrounded by a constant (pad_width: a (before, after) pair per axis);
    dx = the middle of g, where x went"""
    __slots__ = ("middle",)
    rule = "pad: middle slice"
    saves_inputs = False

    def forward(self, x, pad_width, value=0.0):
        self.middle = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape))
        return np.pad(x, pad_width, constant_values=value)

    def backward(self, g, x, out):
        return g[self.middle]


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
        return g - np.exp(out) * g.sum(axis=self.axis, keepdims=True)


class LogSumExp(Function):
    """out = log Σ eˣ along axis;   dx = g · softmax(x)"""
    __slots__ = ("kept", "axis")
    name = "logsumexp"
    rule = "logsumexp: softmax(x)"

    def forward(self, x, axis=-1, keepdims=False):
        x = as_float(x)
        self.axis, self.kept = axis, keep_shape(x.shape, axis)
        m = x.max(axis=axis, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)           # rows of -inf (or inf) must not give NaN here
        with np.errstate(divide="ignore"):  # log 0 = −inf: the answer for an empty axis or −inf rows
            out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
        return out if keepdims else out.squeeze(axis)

    def backward(self, g, x, out):
        return g.reshape(self.kept) * softmax(x, self.axis)


# ---------------------------------------------------------------------------------------------------
# Losses, fused so their gradient is the simple one the documents derive by hand.

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ArgumentError(f"{op}: reduction={reduction!r} is not one of 'mean', 'sum', 'none'")


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / max(losses.size, 1)


def _spread(g, reduction, n):
    """The upstream gradient of each of the n loss terms: g, or g / n for a mean."""
    return g / max(n, 1) if reduction == "mean" else g


def _same_shape(op, x, target):
    if np.shape(target) != x.shape:
        raise ShapeError(f"{op}: target shape {np.shape(target)} does not match input shape {x.shape} "
                         "(shapes must match exactly; reshape one of them)")


def check_labels(op, labels, n_classes):
    """Integer class labels in [0, n_classes): never NumPy's silent wrap-around of negative indices."""
    if labels.dtype.kind not in "iu":
        raise LabelError(f"{op}: class labels must be integers, got dtype {labels.dtype}; pass integer "
                         "labels, or one-hot/probability rows with the same shape as the logits")
    flat = labels.reshape(-1)
    if flat.size and (flat.min() < 0 or flat.max() >= n_classes):
        bad = np.flatnonzero((flat < 0) | (flat >= n_classes))[0]
        raise LabelError(f"{op}: label {flat[bad]} at position {bad} is out of range for "
                         f"{n_classes} classes (valid labels are 0..{n_classes - 1})")


class SoftmaxCrossEntropy(Function):
    """loss = −Σ_c y_c log softmax(z)_c per row, then the reduction.
    dz = (softmax(z) − y) · g / N   - the documents' δ = ŷ − y;   dy (soft targets) = −log softmax(z) · g / N

    Targets are integer labels of shape z.shape[:-1] (y is then their one-hot rows) or probability
    rows of z's shape. Fused: one stable pass forward (log_softmax subtracts the row maximum)."""
    __slots__ = ("reduction", "labels", "n", "probs")
    name = "softmax_cross_entropy"
    rule = "softmax-CE: ŷ − y"

    def forward(self, z, target, reduction="mean"):
        op = "softmax_cross_entropy"
        _check_reduction(op, reduction)
        if z.ndim == 0 or z.shape[-1] == 0:
            raise ShapeError(f"{op}: logits must have a class axis (last axis) with at least one class, "
                             f"got shape {z.shape}")
        target = np.asarray(target)
        logp = log_softmax_np(z, -1)
        self.probs = np.exp(logp)                        # ŷ, kept for backward (the documents' probs)
        self.labels = target.shape == z.shape[:-1]
        if self.labels:
            check_labels(op, target, z.shape[-1])
            rows = logp.reshape(-1, z.shape[-1])                       # −log ŷ[label], row by row
            losses = -rows[np.arange(len(rows)), target.reshape(-1)].reshape(target.shape)
        elif target.shape == z.shape:
            losses = -(target * logp).sum(axis=-1)
        else:
            raise LabelError(f"{op}: target shape {target.shape} does not fit logits of shape {z.shape}: "
                             f"expected integer labels of shape {z.shape[:-1]} or probability rows of "
                             f"shape {z.shape}")
        self.reduction, self.n = reduction, losses.size
        return _reduce(losses, reduction)

    def release(self):
        super().release()
        self.probs = None

    def backward(self, g, z, target, out):
        g = _spread(g, self.reduction, self.n)
        if self.reduction == "none":
            g = g.reshape(g.shape + (1,))                # one g per row, for every class
        y = one_hot(target, z.shape[-1], z.dtype) if self.labels else target
        # ŷ: the probabilities forward computed (the documents' delta3 = probs); on Tensors (create_graph,
        # te.compile) recomputed, so that the computation is recorded too
        probs = softmax(z, -1) if isinstance(z, Tensor) else self.probs
        gz = (probs - y) * g if self.needs[0] else None
        gt = -log_softmax(z, -1) * g if self.needs[1] else None
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
        return _reduce(np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z))), reduction)

    def backward(self, g, z, target, out):
        g = _spread(g, self.reduction, z.size)
        return (sigmoid(z) - target) * g, (-z * g if self.needs[1] else None)


class MSE(Function):
    """loss = (x − y)², reduced;   dx = 2 (x − y) · g / N,   dy = −dx"""
    __slots__ = ("reduction",)
    rule = "MSE: 2(x − y)"

    def forward(self, x, target, reduction="mean"):
        _check_reduction("mse", reduction)
        _same_shape("mse", x, target)
        self.reduction = reduction
        return _reduce((x - target) ** 2, reduction)

    def backward(self, g, x, target, out):
        dx = 2 * (x - target) * _spread(g, self.reduction, x.size)
        return dx, -dx
