"""The table of op cases: one row per differentiable op (and per option that changes its math).

Every row says how to call the op on the engine (`fn`, on Tensors), what it must compute (`ref`, plain
NumPy written independently of the engine), how to draw valid inputs (`domains`), which shapes to try
(fixed `shapes`, plus a hypothesis strategy `shape_st` for random shapes with broadcasting pairs and
0-d tensors) and, optionally, the same op in PyTorch (`torch`, a second oracle).

Tests import this module (tests/ is on sys.path under pytest):

    from op_cases import CASES, make_inputs, run_case, numeric_vjp

test_ops.py drives forward / backward / gradcheck checks from it, test_properties.py its hypothesis
properties, test_torch_parity.py the PyTorch comparison. A bug found by any of them becomes a new
entry in the row's `shapes` list (a pinned example), so it is re-checked on every run.
"""
import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as te
from tinygrad_edu import Tensor
from tinygrad_edu.selfcheck import DOMAINS

# ---------------------------------------------------------------------------------------------------
# Input domains: how to draw values where an op is defined and smooth. Each is called as
# domain(rng, shape, shapes) -> ndarray (float64 unless it is a label array); `shapes` are the shapes
# of all the op's inputs, for domains that depend on another input (labels depend on the class count).


# The plain generators are the package's (tinygrad_edu/selfcheck.py, used by `tinygrad-edu check`);
# DISTINCT and avoid() below are this table's own.
REAL = DOMAINS["real"]                  # standard normal
POSITIVE = DOMAINS["positive"]          # [0.5, 2]: log, sqrt, fractional powers, bases of x ** y
AWAY0 = DOMAINS["away from 0"]          # |x| in [0.5, 2], random sign: divisors, relu/abs off their kink
UNIT = DOMAINS["(0, 1)"]                # BCE targets
PROBS = DOMAINS["probability rows"]     # soft cross-entropy targets
ONEHOT = DOMAINS["one-hot rows"]
LABELS = DOMAINS["labels"]              # integer labels for logits of shape shapes[0]


def DISTINCT(rng, shape, shapes):
    """Values at least 0.15 apart (no ties for max/min, so the derivative exists)."""
    n = int(np.prod(shape, dtype=np.int64))
    vals = rng.permutation(n) * 0.25 + rng.uniform(-0.05, 0.05, n)
    return (vals - vals.mean() if n else vals).reshape(shape)


def SMALL(rng, shape, shapes):
    """Uniform in [−1.2, 1.2]: tan stays away from its poles at ±π/2."""
    return rng.uniform(-1.2, 1.2, shape)


def WITH_ZEROS(rng, shape, shapes):
    """Normal values with about a third of them exactly 0 (a product's gradient there must not divide
    by zero)."""
    x = rng.standard_normal(shape)
    return np.where(rng.random(shape) < 0.35, 0.0, x)


def avoid(*points, gap=0.1):
    """Normal values kept at least `gap` away from the given points (kinks of clip and the like)."""
    def domain(rng, shape, shapes):
        x = rng.standard_normal(shape)
        for p in points:
            close = np.abs(x - p) < gap
            x = np.where(close, p + np.where(x >= p, gap, -gap) * 1.5, x)
        return x
    domain.__name__ = f"avoid{points}"
    return domain


# ---------------------------------------------------------------------------------------------------
# Shape strategies (hypothesis). Each returns a strategy of tuples: one shape per input.


def unary(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side).map(lambda s: (s,))


def binary(min_dims=0, max_dims=3, max_side=4):
    """Pairs of mutually broadcastable shapes, 0-d included ((), (3, 1) with (2, 1, 4), ...)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                             min_side=1, max_side=max_side).map(lambda b: b.input_shapes)


def with_constant(shape):
    """A tensor shape that broadcasts with a constant of `shape` (for `np.ones(3) + t` rows)."""
    return hnp.broadcastable_shapes(shape, min_dims=0, max_dims=3, min_side=1, max_side=4).map(lambda s: (s,))


def same_pair(min_dims=0, max_dims=3):
    """Two inputs of the same shape (losses whose target must match the prediction)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4).map(lambda s: (s, s))


def logits_labels(min_dims=1, max_dims=3):
    """Logits (..., C) and integer labels (...)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4).map(
        lambda s: (s, s[:-1]))


@st.composite
def matmul_shapes(draw, a_dims, b_dims):
    """Shapes for a @ b. a_dims/b_dims: 1 (vector), 2 (matrix) or 'batch' (matrices with leading
    batch axes that broadcast against each other)."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    ba, bb = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2,
                                                    max_side=3)).input_shapes
    shape_a = {1: (k,), 2: (n, k), "batch": ba + (n, k)}[a_dims]
    shape_b = {1: (k,), 2: (k, m), "batch": bb + (k, m)}[b_dims]
    return shape_a, shape_b


def min_dims(n, max_dims=3, min_side=1, max_side=4):
    """One shape of at least n dimensions."""
    return unary(n, max(n, max_dims), min_side, max_side)


@st.composite
def cat_shapes(draw, axis=1, parts=2):
    """Shapes that differ only along `axis` (for concatenate)."""
    base = list(draw(hnp.array_shapes(min_dims=axis + 1 if axis >= 0 else -axis, max_dims=3, min_side=1,
                                      max_side=3)))
    out = []
    for _ in range(parts):
        base[axis] = draw(st.integers(0 if parts > 2 else 1, 3))
        out.append(tuple(base))
    return tuple(out)


@st.composite
def same_shapes(draw, n=2, min_dims=0):
    s = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=3))
    return (s,) * n


@st.composite
def matrix_shapes(draw, square=False):
    n = draw(st.integers(1, 4))
    return ((n, n if square else draw(st.integers(1, 4))),)


@st.composite
def linear_shapes(draw):
    """x (N, in), W (in, out), b (out,) or (1, out)."""
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    return (n, k), (k, m), draw(st.sampled_from([(m,), (1, m)]))


# ---------------------------------------------------------------------------------------------------
# Plain NumPy references (independent of the engine's kernels).


def np_logsumexp(x, axis=-1, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else tuple(range(x.ndim)))


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    return x - np_logsumexp(x, axis=axis, keepdims=True)


def np_reduce(losses, reduction):
    if reduction == "mean":
        return np.mean(losses)
    if reduction == "sum":
        return np.sum(losses)
    return losses


def np_ce_labels(z, labels, reduction):
    """−log softmax(z)[label] per row."""
    logp = np_log_softmax(z)
    picked = np.take_along_axis(logp, np.asarray(labels)[..., None].astype(np.intp), axis=-1)[..., 0]
    return np_reduce(-picked, reduction)


def np_ce_probs(z, target, reduction):
    return np_reduce(-(target * np_log_softmax(z)).sum(axis=-1), reduction)


def np_bce_logits(z, y, reduction):
    """−[y log σ(z) + (1 − y) log(1 − σ(z))], with log σ(z) = −log(1 + e^−z) via logaddexp."""
    log_sig = -np.logaddexp(0.0, -z)
    log_one_minus = -np.logaddexp(0.0, z)
    return np_reduce(-(y * log_sig + (1 - y) * log_one_minus), reduction)


_erf = np.vectorize(math.erf, otypes=[np.float64])


def np_gelu(x):
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def np_softplus(x, beta=1.0):
    return np.logaddexp(0.0, beta * x) / beta


def np_tril_mask(shape, k=0):
    return np.tri(shape[-2], shape[-1], k, dtype=bool)


def np_mask(shape):
    """A deterministic boolean mask of `shape` (every third element, counting in C order)."""
    return (np.arange(int(np.prod(shape, dtype=np.int64))) % 3 == 0).reshape(shape)


# ---------------------------------------------------------------------------------------------------
# The row type.


@dataclass
class OpCase:
    """One op (with fixed options) checked against NumPy, central differences and PyTorch.

    fn: engine call, fn(*inputs) -> Tensor (inputs: Tensors where differentiable, ndarrays otherwise)
    ref: NumPy call with the same signature on ndarrays
    shapes: fixed examples (one shape per input) run on every test run; pinned regressions go here
    shape_st: hypothesis strategy of input shapes (random shapes, broadcasting pairs, 0-d)
    domains: one domain per input (how values are drawn)
    wrt: indices of the differentiable inputs (the others are constant Tensors, or ndarrays for labels)
    torch: the same op in PyTorch, torch(*torch_tensors) -> tensor, or None
    keeps_dtype: float32 inputs give a float32 output (False where a float64 constant promotes it)
    note: why a pinned shape is there (the bug it caught)
    """
    name: str
    fn: Callable
    ref: Callable
    shapes: list
    shape_st: object
    domains: tuple = (REAL,)
    wrt: Optional[tuple] = None
    torch: Optional[Callable] = None
    keeps_dtype: bool = True
    note: str = ""

    def __post_init__(self):
        if self.wrt is None:
            self.wrt = tuple(range(len(self.domains)))

    def __repr__(self):
        return f"OpCase({self.name})"


def _t():
    """PyTorch, imported lazily so this module works without it."""
    import torch
    return torch


def _F():
    import torch.nn.functional as F
    return F


C = OpCase
U = unary()
B = binary()

CASES = [
    # -- unary elementwise ---------------------------------------------------------------------------
    C("neg", lambda x: -x, lambda x: -x, [((2, 3),), ((),)], U, torch=lambda x: -x),
    C("exp", lambda x: x.exp(), np.exp, [((2, 3),), ((),)], U, torch=lambda x: x.exp()),
    C("log", lambda x: x.log(), np.log, [((2, 3),), ((),)], U, (POSITIVE,), torch=lambda x: x.log()),
    C("sqrt", lambda x: x.sqrt(), np.sqrt, [((2, 3),), ((),)], U, (POSITIVE,), torch=lambda x: x.sqrt()),
    C("tanh", lambda x: x.tanh(), np.tanh, [((2, 3),), ((),)], U, torch=lambda x: x.tanh()),
    C("sigmoid", lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), [((2, 3),), ((),)], U,
      torch=lambda x: x.sigmoid()),
    C("relu", lambda x: x.relu(), lambda x: np.where(x > 0, x, 0.0), [((2, 3),), ((),)], U, (AWAY0,),
      torch=lambda x: x.relu()),
    C("abs", lambda x: x.abs(), np.abs, [((2, 3),), ((),)], U, (AWAY0,), torch=lambda x: x.abs()),
    C("square", lambda x: x.square(), lambda x: x * x, [((2, 3),), ((),)], U, torch=lambda x: x.square()),
    C("pow 3", lambda x: x ** 3, lambda x: x * x * x, [((2, 3),), ((),)], U, torch=lambda x: x ** 3),
    C("pow 2.0", lambda x: x ** 2.0, lambda x: x * x, [((4,),)], U, torch=lambda x: x ** 2.0),
    C("pow 0.5", lambda x: x ** 0.5, np.sqrt, [((2, 3),)], U, (POSITIVE,), torch=lambda x: x ** 0.5),
    C("pow -1.5", lambda x: x ** -1.5, lambda x: 1 / (x * np.sqrt(x)), [((2, 3),)], U, (POSITIVE,),
      torch=lambda x: x ** -1.5),
    C("pow -2", lambda x: x ** -2, lambda x: 1 / (x * x), [((2, 3),)], U, (AWAY0,), torch=lambda x: x ** -2),
    C("pow 1", lambda x: x ** 1, lambda x: x + 0.0, [((3,),)], U, torch=lambda x: x ** 1),
    C("clip(-0.5, 0.5)", lambda x: x.clip(-0.5, 0.5), lambda x: np.minimum(np.maximum(x, -0.5), 0.5),
      [((3, 4),), ((),)], U, (avoid(-0.5, 0.5),), torch=lambda x: x.clamp(-0.5, 0.5)),
    C("clip(min=0.2)", lambda x: x.clip(min=0.2), lambda x: np.maximum(x, 0.2), [((3, 4),)], U,
      (avoid(0.2),), torch=lambda x: x.clamp(min=0.2)),
    C("clip(max=-0.1)", lambda x: x.clip(max=-0.1), lambda x: np.minimum(x, -0.1), [((3, 4),)], U,
      (avoid(-0.1),), torch=lambda x: x.clamp(max=-0.1)),
    C("2 ** x", lambda x: 2.0 ** x, lambda x: np.power(2.0, x), [((2, 3),), ((),)], U,
      torch=lambda x: 2.0 ** x),
    C("ndarray ** x", lambda x: np.array([0.5, 2.0, 3.0]) ** x, lambda x: np.power(np.array([0.5, 2.0, 3.0]), x),
      [((2, 3),), ((),)], with_constant((3,)), keeps_dtype=False,
      torch=lambda x: _t().tensor([0.5, 2.0, 3.0], dtype=x.dtype) ** x,
      note="pinned: `ndarray ** tensor` raised a bare TypeError before the tensor.py fix"),
    # -- scalars, lists and ndarrays on either side (NumPy broadcasting) -----------------------------
    C("2 * x", lambda x: 2 * x, lambda x: 2 * x, [((2, 3),), ((),)], U, torch=lambda x: 2 * x),
    C("x * 2.5", lambda x: x * 2.5, lambda x: x * 2.5, [((2, 3),)], U, torch=lambda x: x * 2.5),
    C("1 - x", lambda x: 1 - x, lambda x: 1 - x, [((2, 3),), ((),)], U, torch=lambda x: 1 - x),
    C("x - 2", lambda x: x - 2, lambda x: x - 2, [((2, 3),)], U, torch=lambda x: x - 2),
    C("x + 0.5", lambda x: x + 0.5, lambda x: x + 0.5, [((2, 3),)], U, torch=lambda x: x + 0.5),
    C("0.5 + x", lambda x: 0.5 + x, lambda x: 0.5 + x, [((2, 3),)], U, torch=lambda x: 0.5 + x),
    C("x / 3", lambda x: x / 3, lambda x: x / 3, [((2, 3),)], U, torch=lambda x: x / 3),
    C("3 / x", lambda x: 3 / x, lambda x: 3 / x, [((2, 3),), ((),)], U, (AWAY0,), torch=lambda x: 3 / x),
    C("ones(3) + x", lambda x: np.ones(3) + x, lambda x: np.ones(3) + x, [((2, 3),), ((),), ((2, 1),)],
      with_constant((3,)), keeps_dtype=False, torch=lambda x: _t().ones(3, dtype=x.dtype) + x),
    C("x + ones(3)", lambda x: x + np.ones(3), lambda x: x + np.ones(3), [((2, 3),), ((1,),)],
      with_constant((3,)), keeps_dtype=False, torch=lambda x: x + _t().ones(3, dtype=x.dtype)),
    C("arange(3) - x", lambda x: np.arange(3.0) - x, lambda x: np.arange(3.0) - x, [((2, 3),), ((),)],
      with_constant((3,)), keeps_dtype=False, torch=lambda x: _t().arange(3.0, dtype=x.dtype) - x),
    C("x * arange(1, 4)", lambda x: x * np.arange(1.0, 4.0), lambda x: x * np.arange(1.0, 4.0),
      [((4, 3),), ((4, 1),)], with_constant((3,)), keeps_dtype=False,
      torch=lambda x: x * _t().arange(1.0, 4.0, dtype=x.dtype)),
    C("list + x", lambda x: [1.0, -2.0, 3.0] + x, lambda x: np.array([1.0, -2.0, 3.0]) + x,
      [((2, 3),), ((),)], with_constant((3,)),
      keeps_dtype=False, torch=lambda x: _t().tensor([1.0, -2.0, 3.0], dtype=x.dtype) + x),
    C("x * list", lambda x: x * [[1.0], [2.0]], lambda x: x * np.array([[1.0], [2.0]]),
      [((2, 3),), ((3,),)], with_constant((2, 1)),
      keeps_dtype=False, torch=lambda x: x * _t().tensor([[1.0], [2.0]], dtype=x.dtype)),
    C("ones(3) / x", lambda x: np.ones(3) / x, lambda x: np.ones(3) / x, [((2, 3),)], with_constant((3,)),
      (AWAY0,), keeps_dtype=False, torch=lambda x: _t().ones(3, dtype=x.dtype) / x),
    # -- binary, broadcasting on both sides -----------------------------------------------------------
    C("add", lambda x, y: x + y, np.add, [((2, 3), (2, 3)), ((2, 1), (1, 3)), ((), (3,)), ((4, 1, 3), (2, 1)),
                                         ((), ()), ((3, 2), ()), ((), (4, 2)), ((5, 2), (1, 2)), ((5, 2), (2,)),
                                         ((1, 2), (2,))],
      B, (REAL, REAL), torch=lambda x, y: x + y,
      note="pinned: a (N, K) gradient reduced to a 0-d input crashed reduce_to's bias fast path"),
    C("sub", lambda x, y: x - y, np.subtract, [((2, 3), (3,)), ((3, 1), ()), ((), ())], B, (REAL, REAL),
      torch=lambda x, y: x - y),
    C("mul", lambda x, y: x * y, np.multiply, [((2, 3), (2, 3)), ((2, 1), (1, 3)), ((), (2, 2))], B,
      (REAL, REAL), torch=lambda x, y: x * y),
    C("div", lambda x, y: x / y, np.divide, [((2, 3), (2, 3)), ((3,), (2, 1)), ((), (3,)), ((2, 2), ())], B,
      (REAL, AWAY0), torch=lambda x, y: x / y),
    C("x ** y (tensor exponent)", lambda x, y: x ** y, np.power, [((2, 3), (2, 3)), ((3,), ())], B,
      (POSITIVE, REAL), torch=lambda x, y: x ** y),
    C("mul, only x differentiable", lambda x, y: x * y, np.multiply, [((2, 3), (3,))], B, (REAL, REAL),
      wrt=(0,), torch=lambda x, y: x * y),
    C("div, only y differentiable", lambda x, y: x / y, np.divide, [((2, 3), (3,))], B, (REAL, AWAY0),
      wrt=(1,), torch=lambda x, y: x / y),
    # -- matmul: 1-D, 2-D, batched, broadcast batches -------------------------------------------------
    C("matmul 2D@2D", lambda a, b: a @ b, np.matmul, [((2, 3), (3, 4)), ((1, 1), (1, 1))],
      matmul_shapes(2, 2), (REAL, REAL), torch=lambda a, b: a @ b),
    C("matmul 2D@1D", lambda a, b: a @ b, np.matmul, [((2, 3), (3,))], matmul_shapes(2, 1), (REAL, REAL),
      torch=lambda a, b: a @ b),
    C("matmul 1D@2D", lambda a, b: a @ b, np.matmul, [((3,), (3, 4))], matmul_shapes(1, 2), (REAL, REAL),
      torch=lambda a, b: a @ b),
    C("matmul 1D@1D", lambda a, b: a @ b, np.matmul, [((3,), (3,)), ((1,), (1,))], matmul_shapes(1, 1),
      (REAL, REAL), torch=lambda a, b: a @ b),
    C("matmul batched", lambda a, b: a @ b, np.matmul, [((2, 2, 3), (2, 3, 4)), ((3, 1, 2, 3), (2, 3, 1)),
                                                       ((2, 3, 4), (4, 2))],
      matmul_shapes("batch", "batch"), (REAL, REAL), torch=lambda a, b: a @ b),
    C("matmul batched@2D", lambda a, b: a @ b, np.matmul, [((2, 2, 3), (3, 4))], matmul_shapes("batch", 2),
      (REAL, REAL), torch=lambda a, b: a @ b),
    C("matmul 2D@batched", lambda a, b: a @ b, np.matmul, [((2, 3), (4, 3, 2))], matmul_shapes(2, "batch"),
      (REAL, REAL), torch=lambda a, b: a @ b),
    C("matmul batched@1D", lambda a, b: a @ b, np.matmul, [((2, 2, 3), (3,))], matmul_shapes("batch", 1),
      (REAL, REAL), torch=lambda a, b: a @ b),
    C("matmul 1D@batched", lambda a, b: a @ b, np.matmul, [((3,), (2, 3, 4))], matmul_shapes(1, "batch"),
      (REAL, REAL), torch=lambda a, b: a @ b),
    C("x @ ndarray", lambda a: a @ np.arange(6.0).reshape(3, 2), lambda a: a @ np.arange(6.0).reshape(3, 2),
      [((2, 3),), ((3,),)], st.just(((4, 3),)),
      keeps_dtype=False, torch=lambda a: a @ _t().arange(6.0, dtype=a.dtype).reshape(3, 2)),
    C("ndarray @ x", lambda b: np.arange(6.0).reshape(2, 3) @ b, lambda b: np.arange(6.0).reshape(2, 3) @ b,
      [((3, 4),), ((3,),)], st.just(((3, 1),)),
      keeps_dtype=False, torch=lambda b: _t().arange(6.0, dtype=b.dtype).reshape(2, 3) @ b),
    # -- fused affine map x @ W + b (a dense layer) -------------------------------------------------
    C("linear x.linear(W, b)", lambda x, W, b: x.linear(W, b), lambda x, W, b: x @ W + b,
      [((4, 3), (3, 2), (2,)), ((1, 1), (1, 1), (1,)), ((2, 3), (3, 2), (1, 2)), ((1, 3), (3, 2), (2,))],
      linear_shapes(),
      (REAL, REAL, REAL), torch=lambda x, W, b: x @ W + b),
    C("linear, only W and b differentiable", lambda x, W, b: x.linear(W, b), lambda x, W, b: x @ W + b,
      [((4, 3), (3, 2), (2,))], linear_shapes(), (REAL, REAL, REAL), wrt=(1, 2),
      torch=lambda x, W, b: x @ W + b),
    C("linear without bias", lambda x, W: x.linear(W), np.matmul, [((4, 3), (3, 2))], matmul_shapes(2, 2),
      (REAL, REAL), torch=lambda x, W: x @ W),
    # -- reductions ----------------------------------------------------------------------------------
    C("sum", lambda x: x.sum(), np.sum, [((2, 3),), ((),)], U, torch=lambda x: x.sum()),
    C("sum axis=0", lambda x: x.sum(axis=0), lambda x: np.sum(x, axis=0), [((2, 3),), ((4,),)], unary(1),
      torch=lambda x: x.sum(dim=0)),
    C("sum axis=-1 keepdims", lambda x: x.sum(axis=-1, keepdims=True), lambda x: np.sum(x, -1, keepdims=True),
      [((2, 3),)], unary(1), torch=lambda x: x.sum(dim=-1, keepdim=True)),
    C("sum axis=(0, -1)", lambda x: x.sum(axis=(0, -1)), lambda x: np.sum(x, axis=(0, -1)),
      [((2, 3, 4),), ((2, 3),)], unary(2), torch=lambda x: x.sum(dim=(0, -1))),
    C("sum keepdims all", lambda x: x.sum(keepdims=True), lambda x: np.sum(x, keepdims=True),
      [((2, 3),)], U, torch=lambda x: x.sum().reshape((1,) * x.ndim)),
    C("mean", lambda x: x.mean(), np.mean, [((2, 3),), ((),)], U, torch=lambda x: x.mean()),
    C("mean axis=0", lambda x: x.mean(axis=0), lambda x: np.mean(x, axis=0), [((2, 3),)], unary(1),
      torch=lambda x: x.mean(dim=0)),
    C("mean axis=-1 keepdims", lambda x: x.mean(axis=-1, keepdims=True),
      lambda x: np.mean(x, -1, keepdims=True), [((2, 3),)], unary(1),
      torch=lambda x: x.mean(dim=-1, keepdim=True)),
    C("mean axis=(0, -1)", lambda x: x.mean(axis=(0, -1)), lambda x: np.mean(x, axis=(0, -1)),
      [((2, 3, 4),)], unary(2), torch=lambda x: x.mean(dim=(0, -1))),
    C("max", lambda x: x.max(), np.max, [((2, 3),), ((),)], U, (DISTINCT,), torch=lambda x: x.amax()),
    C("max axis=0", lambda x: x.max(axis=0), lambda x: np.max(x, axis=0), [((2, 3),)], unary(1), (DISTINCT,),
      torch=lambda x: x.amax(dim=0)),
    C("max axis=-1 keepdims", lambda x: x.max(axis=-1, keepdims=True), lambda x: np.max(x, -1, keepdims=True),
      [((2, 3),)], unary(1), (DISTINCT,), torch=lambda x: x.amax(dim=-1, keepdim=True)),
    C("max axis=(0, 1)", lambda x: x.max(axis=(0, 1)), lambda x: np.max(x, axis=(0, 1)), [((2, 3, 2),)],
      unary(2), (DISTINCT,), torch=lambda x: x.amax(dim=(0, 1))),
    C("min", lambda x: x.min(), np.min, [((2, 3),), ((),)], U, (DISTINCT,), torch=lambda x: x.amin()),
    C("min axis=-1", lambda x: x.min(axis=-1), lambda x: np.min(x, axis=-1), [((2, 3),)], unary(1),
      (DISTINCT,), torch=lambda x: x.amin(dim=-1)),
    # -- softmax family ------------------------------------------------------------------------------
    C("softmax", lambda x: x.softmax(), np_softmax, [((2, 3),), ((4,),)], unary(1),
      torch=lambda x: x.softmax(-1)),
    C("softmax axis=0", lambda x: x.softmax(axis=0), lambda x: np_softmax(x, 0), [((3, 2),)], unary(1),
      torch=lambda x: x.softmax(0)),
    C("log_softmax", lambda x: x.log_softmax(), np_log_softmax, [((2, 3),), ((4,),)], unary(1),
      torch=lambda x: x.log_softmax(-1)),
    C("log_softmax axis=0", lambda x: x.log_softmax(axis=0), lambda x: np_log_softmax(x, 0), [((3, 2),)],
      unary(1), torch=lambda x: x.log_softmax(0)),
    C("logsumexp", lambda x: x.logsumexp(), np_logsumexp, [((2, 3),), ((4,),)], unary(1),
      torch=lambda x: x.logsumexp(-1)),
    C("logsumexp axis=0 keepdims", lambda x: x.logsumexp(axis=0, keepdims=True),
      lambda x: np_logsumexp(x, 0, keepdims=True), [((3, 2),)], unary(1),
      torch=lambda x: x.logsumexp(0, keepdim=True)),
    C("logsumexp axis=None", lambda x: x.logsumexp(axis=None), lambda x: np_logsumexp(x, None),
      [((2, 3),), ((),)], U, torch=lambda x: x.reshape(-1).logsumexp(0)),
    # -- shape ops -----------------------------------------------------------------------------------
    C("reshape (reversed shape)", lambda x: x.reshape(x.shape[::-1]), lambda x: x.reshape(x.shape[::-1]),
      [((2, 3),), ((),)], U, torch=lambda x: x.reshape(x.shape[::-1])),
    C("reshape(-1, 2)", lambda x: x.reshape(-1, 2), lambda x: x.reshape(-1, 2), [((2, 3),), ((4,),)],
      unary(1).filter(lambda s: np.prod(s[0]) % 2 == 0), torch=lambda x: x.reshape(-1, 2)),
    C("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), [((2, 3),), ((),)], U,
      torch=lambda x: x.reshape(-1)),
    C(".T", lambda x: x.T, lambda x: x.T, [((2, 3),), ((2, 3, 4),), ((),)], U,
      torch=lambda x: x.permute(tuple(reversed(range(x.ndim)))),
      note="pinned: its backward with create_graph called Tensor.transpose(None), which failed"),
    C("transpose() (no axes)", lambda x: x.transpose(), lambda x: x.transpose(), [((2, 3, 4),)], U,
      torch=lambda x: x.permute(tuple(reversed(range(x.ndim))))),
    C("transpose(1, 2, 0)", lambda x: x.transpose(1, 2, 0), lambda x: x.transpose(1, 2, 0), [((2, 3, 4),)],
      unary(3, 3), torch=lambda x: x.permute(1, 2, 0)),
    C("swapaxes(0, -1)", lambda x: x.swapaxes(0, -1), lambda x: x.swapaxes(0, -1), [((2, 3, 4),)], unary(1),
      torch=lambda x: x.transpose(0, -1)),
    C("broadcast_to", lambda x: x.broadcast_to((2,) + x.shape), lambda x: np.broadcast_to(x, (2,) + x.shape),
      [((3,),), ((),), ((2, 1),)], U, torch=lambda x: x.expand((2,) + tuple(x.shape))),
    C("broadcast_to (stretch size-1 axes)", lambda x: x.broadcast_to((3, 2, 4)),
      lambda x: np.broadcast_to(x, (3, 2, 4)), [((2, 1),), ((1, 4),), ((),)],
      hnp.broadcastable_shapes((3, 2, 4), min_dims=0, max_dims=3).map(lambda s: (s,)),
      torch=lambda x: x.expand(3, 2, 4)),
    # -- indexing ------------------------------------------------------------------------------------
    C("x[1]", lambda x: x[1], lambda x: x[1], [((3, 2),), ((2,),)], unary(1, min_side=2),
      torch=lambda x: x[1]),
    C("x[-1]", lambda x: x[-1], lambda x: x[-1], [((3, 2),)], unary(1), torch=lambda x: x[-1]),
    C("x[1:]", lambda x: x[1:], lambda x: x[1:], [((3, 2),)], unary(1), torch=lambda x: x[1:]),
    C("x[::-1]", lambda x: x[::-1], lambda x: x[::-1], [((3, 2),)], unary(1), torch=lambda x: x.flip(0)),
    C("x[..., ::2]", lambda x: x[..., ::2], lambda x: x[..., ::2], [((2, 5),)], unary(1),
      torch=lambda x: x[..., ::2]),
    C("x[None]", lambda x: x[None], lambda x: x[None], [((2, 3),), ((),)], U, torch=lambda x: x[None]),
    C("x[0, 1]", lambda x: x[0, 1], lambda x: x[0, 1], [((2, 3),)], unary(2, min_side=2),
      torch=lambda x: x[0, 1]),
    C("x[[0, 2, 0, 0]] (repeats accumulate)", lambda x: x[[0, 2, 0, 0]], lambda x: x[[0, 2, 0, 0]],
      [((3, 2),), ((3,),)], unary(1, min_side=3), torch=lambda x: x[[0, 2, 0, 0]]),
    C("x[int ndarray 2-D]", lambda x: x[np.array([[1, 1], [0, 1]])], lambda x: x[np.array([[1, 1], [0, 1]])],
      [((2, 3),)], unary(1, min_side=2), torch=lambda x: x[_t().tensor([[1, 1], [0, 1]])]),
    C("x[Tensor index]", lambda x: x[Tensor([1, 0, 1])], lambda x: x[np.array([1, 0, 1])], [((2, 3),)],
      unary(1, min_side=2), torch=lambda x: x[_t().tensor([1, 0, 1])]),
    C("x[[0, 1, 0], [1, 1, 1]]", lambda x: x[[0, 1, 0], [1, 1, 1]], lambda x: x[[0, 1, 0], [1, 1, 1]],
      [((2, 3),)], unary(2, min_side=2), torch=lambda x: x[[0, 1, 0], [1, 1, 1]]),
    C("x[1:, [0, 0]]", lambda x: x[1:, [0, 0]], lambda x: x[1:, [0, 0]], [((3, 2),)], unary(2),
      torch=lambda x: x[1:, [0, 0]]),
    C("x[bool mask]", lambda x: x[np_mask(x.shape)], lambda x: x[np_mask(x.shape)], [((2, 3),), ((),)], U,
      torch=lambda x: x[_t().from_numpy(np_mask(tuple(x.shape)))]),
    C("x[bool row mask]", lambda x: x[np.arange(x.shape[0]) % 2 == 0], lambda x: x[np.arange(x.shape[0]) % 2 == 0],
      [((3, 2),)], unary(1), torch=lambda x: x[_t().from_numpy(np.arange(x.shape[0]) % 2 == 0)]),
    # -- losses --------------------------------------------------------------------------------------
    *[C(f"softmax_cross_entropy labels {r}", (lambda r: lambda z, y: z.softmax_cross_entropy(y, r))(r),
        (lambda r: lambda z, y: np_ce_labels(z, y, r))(r),
        [((4, 3), (4,)), ((3,), ()), ((2, 2, 3), (2, 2)), ((1, 1), (1,))], logits_labels(), (REAL, LABELS),
        wrt=(0,), torch=(lambda r: lambda z, y: _F().cross_entropy(z.reshape(-1, z.shape[-1]), y.reshape(-1),
                                                                  reduction=r).reshape(y.shape if r == "none"
                                                                                       else ()))(r))
      for r in ("mean", "sum", "none")],
    *[C(f"softmax_cross_entropy probs {r}", (lambda r: lambda z, t: z.softmax_cross_entropy(t, r))(r),
        (lambda r: lambda z, t: np_ce_probs(z, t, r))(r),
        [((4, 3), (4, 3)), ((3,), (3,)), ((2, 2, 3), (2, 2, 3))], same_pair(1), (REAL, PROBS),
        torch=(lambda r: lambda z, t: _F().cross_entropy(z.reshape(-1, z.shape[-1]), t.reshape(-1, t.shape[-1]),
                                                         reduction=r).reshape(t.shape[:-1] if r == "none"
                                                                              else ()))(r))
      for r in ("mean", "sum", "none")],
    C("softmax_cross_entropy one-hot", lambda z, t: z.softmax_cross_entropy(t),
      lambda z, t: np_ce_probs(z, t, "mean"), [((4, 3), (4, 3))], same_pair(1), (REAL, ONEHOT), wrt=(0,),
      torch=lambda z, t: _F().cross_entropy(z.reshape(-1, z.shape[-1]), t.reshape(-1, t.shape[-1]))),
    *[C(f"binary_cross_entropy_with_logits {r}",
        (lambda r: lambda z, y: z.binary_cross_entropy_with_logits(y, r))(r),
        (lambda r: lambda z, y: np_bce_logits(z, y, r))(r),
        [((4, 1), (4, 1)), ((), ()), ((3,), (3,))], same_pair(0), (REAL, UNIT),
        torch=(lambda r: lambda z, y: _F().binary_cross_entropy_with_logits(z, y, reduction=r))(r))
      for r in ("mean", "sum", "none")],
    *[C(f"mse {r}", (lambda r: lambda x, y: x.mse(y, r))(r),
        (lambda r: lambda x, y: np_reduce((x - y) ** 2, r))(r),
        [((4, 2), (4, 2)), ((), ()), ((3,), (3,))], same_pair(0), (REAL, REAL),
        torch=(lambda r: lambda x, y: _F().mse_loss(x, y, reduction=r))(r))
      for r in ("mean", "sum", "none")],
    C("mse, constant target", lambda x, y: x.mse(y), lambda x, y: np.mean((x - y) ** 2), [((4, 2), (4, 2))],
      same_pair(0), (REAL, REAL), wrt=(0,), torch=lambda x, y: _F().mse_loss(x, y)),

    # -- elementwise functions added for PyTorch-shaped breadth (issue 14) ------------------------------
    C("sin", lambda x: x.sin(), np.sin, [((2, 3),), ((),)], U, torch=lambda x: x.sin()),
    C("cos", lambda x: x.cos(), np.cos, [((2, 3),), ((),)], U, torch=lambda x: x.cos()),
    C("tan", lambda x: x.tan(), np.tan, [((2, 3),), ((),)], U, (SMALL,), torch=lambda x: x.tan()),
    C("log2", lambda x: x.log2(), np.log2, [((2, 3),)], U, (POSITIVE,), torch=lambda x: x.log2()),
    C("log1p", lambda x: x.log1p(), np.log1p, [((2, 3),), ((),)], U, (POSITIVE,), torch=lambda x: x.log1p()),
    C("expm1", lambda x: x.expm1(), np.expm1, [((2, 3),), ((),)], U, torch=lambda x: x.expm1()),
    C("erf", lambda x: x.erf(), _erf, [((2, 3),), ((),)], U, torch=lambda x: x.erf()),
    C("sign (gradient 0)", lambda x: x.sign(), np.sign, [((2, 3),), ((),)], U, (AWAY0,), torch=lambda x: x.sign()),
    C("rsqrt", lambda x: x.rsqrt(), lambda x: 1 / np.sqrt(x), [((2, 3),)], U, (POSITIVE,), torch=lambda x: x.rsqrt()),
    C("reciprocal", lambda x: x.reciprocal(), lambda x: 1 / x, [((2, 3),)], U, (AWAY0,),
      torch=lambda x: x.reciprocal()),
    C("leaky_relu", lambda x: x.leaky_relu(), lambda x: np.where(x > 0, x, 0.01 * x), [((2, 3),), ((),)], U,
      (AWAY0,), torch=lambda x: _F().leaky_relu(x)),
    C("leaky_relu 0.2", lambda x: x.leaky_relu(0.2), lambda x: np.where(x > 0, x, 0.2 * x), [((2, 3),)], U,
      (AWAY0,), torch=lambda x: _F().leaky_relu(x, 0.2)),
    C("elu", lambda x: x.elu(), lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))), [((2, 3),), ((),)], U,
      (AWAY0,), torch=lambda x: _F().elu(x)),
    C("elu alpha=0.5", lambda x: x.elu(0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(np.minimum(x, 0))),
      [((2, 3),)], U, (AWAY0,), torch=lambda x: _F().elu(x, 0.5)),
    C("gelu", lambda x: x.gelu(), np_gelu, [((2, 3),), ((),)], U, torch=lambda x: _F().gelu(x)),
    C("gelu tanh", lambda x: x.gelu("tanh"), np_gelu_tanh, [((2, 3),)], U,
      torch=lambda x: _F().gelu(x, approximate="tanh")),
    C("softplus", lambda x: x.softplus(), np_softplus, [((2, 3),), ((),)], U, torch=lambda x: _F().softplus(x)),
    C("softplus beta=2", lambda x: x.softplus(2.0), lambda x: np_softplus(x, 2.0), [((2, 3),)], U,
      torch=lambda x: _F().softplus(x, beta=2.0)),
    C("silu", lambda x: x.silu(), lambda x: x / (1 + np.exp(-x)), [((2, 3),), ((),)], U,
      torch=lambda x: _F().silu(x)),
    C("maximum", lambda x, y: te.maximum(x, y), np.maximum, [((2, 3), (2, 3)), ((3, 1), (2,)), ((), (3,))], B,
      (REAL, REAL), torch=lambda x, y: _t().maximum(x, y)),
    C("minimum", lambda x, y: te.minimum(x, y), np.minimum, [((2, 3), (3,)), ((), ())], B, (REAL, REAL),
      torch=lambda x, y: _t().minimum(x, y)),
    C("np.maximum(x, 0.5)", lambda x: np.maximum(x, 0.5), lambda x: np.maximum(x, 0.5), [((2, 3),)], U,
      (avoid(0.5),), torch=lambda x: _t().clamp(x, min=0.5)),
    C("where(mask, x, y)", lambda x, y: te.where(np_mask(np.broadcast_shapes(x.shape, y.shape)), x, y),
      lambda x, y: np.where(np_mask(np.broadcast_shapes(x.shape, y.shape)), x, y),
      [((2, 3), (2, 3)), ((3, 1), (3,))], B, (REAL, REAL),
      torch=lambda x, y: _t().where(_t().from_numpy(np_mask(_t().broadcast_shapes(x.shape, y.shape))), x, y)),
    # -- method and dim= spellings ---------------------------------------------------------------------
    C("x.add(y, alpha=2)", lambda x, y: x.add(y, alpha=2), lambda x, y: x + 2 * y, [((2, 3), (3,))], B,
      (REAL, REAL), torch=lambda x, y: x.add(y, alpha=2)),
    C("x.sub(y).mul(y).div(3).pow(2)", lambda x, y: x.sub(y).mul(y).div(3).pow(2),
      lambda x, y: ((x - y) * y / 3) ** 2, [((2, 3), (2, 3))], B, (REAL, REAL),
      torch=lambda x, y: x.sub(y).mul(y).div(3).pow(2)),
    C("sum dim=1 keepdim", lambda x: x.sum(dim=1, keepdim=True), lambda x: np.sum(x, 1, keepdims=True),
      [((2, 3),)], min_dims(2), torch=lambda x: x.sum(dim=1, keepdim=True)),
    C("mean dim=(0, 1)", lambda x: x.mean(dim=(0, 1)), lambda x: np.mean(x, axis=(0, 1)), [((2, 3, 2),)],
      min_dims(2), torch=lambda x: x.mean(dim=(0, 1))),
    C("max(dim=1).values", lambda x: x.max(dim=1).values, lambda x: np.max(x, axis=1), [((2, 3),)], min_dims(2),
      (DISTINCT,), torch=lambda x: x.max(dim=1).values),
    C("min(dim=0, keepdim).values", lambda x: x.min(dim=0, keepdim=True)[0], lambda x: np.min(x, 0, keepdims=True),
      [((2, 3),)], unary(1), (DISTINCT,), torch=lambda x: x.min(dim=0, keepdim=True)[0]),
    C("amax dim=-1", lambda x: x.amax(dim=-1), lambda x: np.max(x, axis=-1), [((2, 3),)], unary(1), (DISTINCT,),
      torch=lambda x: x.amax(dim=-1)),
    C("softmax dim=0", lambda x: x.softmax(dim=0), lambda x: np_softmax(x, 0), [((3, 2),)], unary(1),
      torch=lambda x: x.softmax(dim=0)),
    C("logsumexp dim=1 keepdim", lambda x: x.logsumexp(dim=1, keepdim=True),
      lambda x: np_logsumexp(x, 1, keepdims=True), [((3, 2),)], min_dims(2),
      torch=lambda x: x.logsumexp(dim=1, keepdim=True)),
    # -- var, std, prod, cumsum --------------------------------------------------------------------------
    C("var", lambda x: x.var(), np.var, [((2, 3),), ((4,),)], unary(1, min_side=2), torch=lambda x: x.var(correction=0)),
    C("var axis=1 ddof=1", lambda x: x.var(axis=1, ddof=1), lambda x: np.var(x, axis=1, ddof=1), [((2, 3),)],
      min_dims(2, min_side=2), torch=lambda x: x.var(dim=1)),
    C("var dim=0 keepdim (PyTorch: n − 1)", lambda x: x.var(dim=0, keepdim=True),
      lambda x: np.var(x, axis=0, ddof=1, keepdims=True), [((3, 2),)], unary(1, min_side=2),
      torch=lambda x: x.var(dim=0, keepdim=True)),
    C("std", lambda x: x.std(), np.std, [((2, 3),)], unary(1, min_side=2), torch=lambda x: x.std(correction=0)),
    C("std dim=1", lambda x: x.std(dim=1), lambda x: np.std(x, axis=1, ddof=1), [((2, 3),)],
      min_dims(2, min_side=2), torch=lambda x: x.std(dim=1)),
    C("prod", lambda x: x.prod(), np.prod, [((2, 3),), ((),), ((3,),)], U, torch=lambda x: x.prod()),
    C("prod axis=1", lambda x: x.prod(axis=1), lambda x: np.prod(x, axis=1), [((2, 3),), ((2, 1),)], min_dims(2),
      torch=lambda x: x.prod(dim=1)),
    C("prod axis=0 keepdims", lambda x: x.prod(axis=0, keepdims=True), lambda x: np.prod(x, 0, keepdims=True),
      [((3, 2),)], unary(1), torch=lambda x: x.prod(dim=0, keepdim=True)),
    C("prod axis=(0, 2)", lambda x: x.prod(axis=(0, 2)), lambda x: np.prod(x, axis=(0, 2)), [((2, 3, 2),)],
      min_dims(3), torch=lambda x: x.prod(dim=2).prod(dim=0)),
    C("prod with zeros", lambda x: x.prod(axis=-1), lambda x: np.prod(x, axis=-1), [((4, 3),), ((6,),)], unary(1),
      (WITH_ZEROS,), torch=lambda x: x.prod(dim=-1),
      note="a zero factor: the gradient is the product of the others, never out / x"),
    C("cumsum axis=1", lambda x: x.cumsum(axis=1), lambda x: np.cumsum(x, axis=1), [((2, 3),)], min_dims(2),
      torch=lambda x: x.cumsum(dim=1)),
    C("cumsum dim=0", lambda x: x.cumsum(dim=0), lambda x: np.cumsum(x, axis=0), [((3, 2),), ((4,),)], unary(1),
      torch=lambda x: x.cumsum(dim=0)),
    C("cumsum (flattened)", lambda x: x.cumsum(), np.cumsum, [((2, 3),), ((),)], U,
      torch=lambda x: x.reshape(-1).cumsum(0)),
    # -- joining, splitting, repeating -----------------------------------------------------------------
    C("cat dim=1", lambda x, y: te.cat([x, y], dim=1), lambda x, y: np.concatenate([x, y], axis=1),
      [((2, 3), (2, 1)), ((1, 2, 2), (1, 1, 2))], cat_shapes(1), (REAL, REAL),
      torch=lambda x, y: _t().cat([x, y], dim=1)),
    C("concatenate axis=0, three parts", lambda x, y, z: te.concatenate([x, y, z]),
      lambda x, y, z: np.concatenate([x, y, z]), [((2, 3), (1, 3), (0, 3))], cat_shapes(0, 3), (REAL, REAL, REAL),
      torch=lambda x, y, z: _t().cat([x, y, z])),
    C("concatenate, only the second differentiable", lambda x, y: te.concatenate([x, y], axis=-1),
      lambda x, y: np.concatenate([x, y], axis=-1), [((2, 2), (2, 3))], cat_shapes(-1), (REAL, REAL), wrt=(1,),
      torch=lambda x, y: _t().cat([x, y], dim=-1)),
    C("stack", lambda x, y: te.stack([x, y]), lambda x, y: np.stack([x, y]), [((2, 3), (2, 3)), ((), ())],
      same_shapes(), (REAL, REAL), torch=lambda x, y: _t().stack([x, y])),
    C("stack dim=-1", lambda x, y: te.stack([x, y], dim=-1), lambda x, y: np.stack([x, y], axis=-1),
      [((2, 3), (2, 3))], same_shapes(), (REAL, REAL), torch=lambda x, y: _t().stack([x, y], dim=-1)),
    C("split into 2s, joined reversed", lambda x: te.cat(x.split(2, dim=1)[::-1], dim=1),
      lambda x: np.concatenate(np.split(x, [2, 4], axis=1)[::-1], axis=1), [((2, 5),), ((1, 2),)],
      st.just(((3, 5),)), torch=lambda x: _t().cat(x.split(2, dim=1)[::-1], dim=1)),
    C("chunk(2)[1]", lambda x: x.chunk(2)[1], lambda x: x[2:], [((4, 3),), ((3,),)], st.just(((4, 2),)),
      torch=lambda x: x.chunk(2)[1]),
    C("repeat(2, 1) (tiles)", lambda x: x.repeat(2, 1), lambda x: np.tile(x, (2, 1)), [((2, 3),)], matrix_shapes(),
      torch=lambda x: x.repeat(2, 1)),
    C("tile (2, 1, 3)", lambda x: x.tile((2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), [((2, 3),), ((3,),)],
      unary(0, 3), torch=lambda x: x.repeat(2, 1, 3)),
    C("repeat_interleave(2, dim=0)", lambda x: x.repeat_interleave(2, dim=0), lambda x: np.repeat(x, 2, axis=0),
      [((2, 3),)], unary(1), torch=lambda x: x.repeat_interleave(2, dim=0)),
    C("repeat_interleave([1, 0, 2], dim=1)", lambda x: x.repeat_interleave([1, 0, 2], dim=1),
      lambda x: np.repeat(x, [1, 0, 2], axis=1), [((2, 3),)], st.just(((1, 3),)),
      torch=lambda x: x.repeat_interleave(_t().tensor([1, 0, 2]), dim=1)),
    # -- shape ---------------------------------------------------------------------------------------
    C("transpose(0, 1) of a matrix (PyTorch: swaps)", lambda x: x.transpose(0, 1), lambda x: x.T, [((2, 3),)],
      matrix_shapes(), torch=lambda x: x.transpose(0, 1),
      note="NumPy's x.transpose(0, 1) is the identity on a matrix; ours swaps, as PyTorch"),
    C("transpose(0, 2)", lambda x: x.transpose(0, 2), lambda x: np.swapaxes(x, 0, 2), [((2, 3, 4),)], min_dims(3),
      torch=lambda x: x.transpose(0, 2)),
    C("permute(2, 0, 1)", lambda x: x.permute(2, 0, 1), lambda x: np.transpose(x, (2, 0, 1)), [((2, 3, 4),)],
      unary(3, 3), torch=lambda x: x.permute(2, 0, 1)),
    C("permute(-1, 0, 1)", lambda x: x.permute(-1, 0, 1), lambda x: np.transpose(x, (-1, 0, 1)), [((2, 3, 4),)],
      unary(3, 3), torch=lambda x: x.permute(-1, 0, 1),
      note="pinned: negative axes gave backward the wrong inverse permutation"),
    C(".t()", lambda x: x.t(), lambda x: x.T, [((2, 3),), ((3,),)], unary(0, 2), torch=lambda x: x.t()),
    C("view(-1, 2)", lambda x: x.view(-1, 2), lambda x: x.reshape(-1, 2), [((2, 3),)],
      unary(1).filter(lambda s: np.prod(s[0]) % 2 == 0), torch=lambda x: x.view(-1, 2)),
    C("flatten(1)", lambda x: x.flatten(1), lambda x: x.reshape(x.shape[0], -1), [((2, 3, 4),), ((2, 3),)],
      min_dims(2), torch=lambda x: x.flatten(1)),
    C("squeeze", lambda x: x.squeeze(), np.squeeze, [((1, 3, 1),), ((2, 1),)], U, torch=lambda x: x.squeeze()),
    C("squeeze(dim=1) of a size-3 axis (PyTorch: no-op)", lambda x: x.squeeze(dim=1), lambda x: x + 0.0,
      [((2, 3),)], st.just(((4, 3),)), torch=lambda x: x.squeeze(dim=1)),
    C("unsqueeze(-1)", lambda x: x.unsqueeze(-1), lambda x: np.expand_dims(x, -1), [((2, 3),), ((),)], U,
      torch=lambda x: x.unsqueeze(-1)),
    C("expand(2, -1, 3)", lambda x: x.expand(2, -1, 3), lambda x: np.broadcast_to(x, (2, x.shape[0], 3)),
      [((4, 1),), ((1, 3),)], st.sampled_from([((2, 1),), ((3, 3),)]), torch=lambda x: x.expand(2, -1, 3)),
    C("flip(0)", lambda x: x.flip(0), lambda x: np.flip(x, 0), [((3, 2),)], unary(1), torch=lambda x: x.flip(0)),
    C("flip() (all axes)", lambda x: x.flip(), np.flip, [((2, 3),), ((),)], U,
      torch=lambda x: x.flip(tuple(range(x.ndim)))),
    C("pad ((1, 0), (2, 1))", lambda x: x.pad(((1, 0), (2, 1))), lambda x: np.pad(x, ((1, 0), (2, 1))),
      [((2, 3),)], matrix_shapes(), torch=lambda x: _F().pad(x, (2, 1, 1, 0))),
    C("pad 1, value 0.5", lambda x: x.pad(1, 0.5), lambda x: np.pad(x, 1, constant_values=0.5), [((2, 3),), ((2,),)],
      unary(1), torch=lambda x: _F().pad(x, (1, 1) * x.ndim, value=0.5)),
    C("tril", lambda x: x.tril(), np.tril, [((3, 3),), ((2, 4),), ((2, 3, 3),)], min_dims(2),
      torch=lambda x: x.tril()),
    C("triu(1)", lambda x: x.triu(1), lambda x: np.triu(x, 1), [((3, 4),)], min_dims(2), torch=lambda x: x.triu(1)),
    C("tril(diagonal=-1)", lambda x: x.tril(diagonal=-1), lambda x: np.tril(x, -1), [((4, 3),)], min_dims(2),
      torch=lambda x: x.tril(diagonal=-1)),
    # -- products: einsum, tensordot, outer, diagonals ------------------------------------------------------
    C("einsum ij,jk->ik", lambda a, b: te.einsum("ij,jk->ik", a, b), lambda a, b: np.einsum("ij,jk->ik", a, b),
      [((2, 3), (3, 4))], matmul_shapes(2, 2), (REAL, REAL), torch=lambda a, b: _t().einsum("ij,jk->ik", a, b)),
    C("einsum bij,bjk->bik", lambda a, b: te.einsum("bij,bjk->bik", a, b),
      lambda a, b: np.einsum("bij,bjk->bik", a, b), [((2, 2, 3), (2, 3, 4))], st.just(((3, 1, 2), (3, 2, 2))),
      (REAL, REAL), torch=lambda a, b: _t().einsum("bij,bjk->bik", a, b)),
    C("einsum ii->i (diagonal)", lambda a: te.einsum("ii->i", a), lambda a: np.einsum("ii->i", a), [((3, 3),)],
      matrix_shapes(square=True), torch=lambda a: _t().einsum("ii->i", a)),
    C("einsum ii (trace, implicit)", lambda a: te.einsum("ii", a), lambda a: np.einsum("ii", a), [((3, 3),)],
      matrix_shapes(square=True), torch=lambda a: _t().einsum("ii", a)),
    C("einsum ij-> (sum)", lambda a: te.einsum("ij->", a), lambda a: np.einsum("ij->", a), [((2, 3),)],
      matrix_shapes(), torch=lambda a: _t().einsum("ij->", a)),
    C("einsum ij->ji", lambda a: te.einsum("ij->ji", a), lambda a: np.einsum("ij->ji", a), [((2, 3),)],
      matrix_shapes(), torch=lambda a: _t().einsum("ij->ji", a)),
    C("einsum i,j (outer, implicit)", lambda a, b: te.einsum("i,j", a, b), lambda a, b: np.einsum("i,j", a, b),
      [((2,), (3,))], st.just(((4,), (1,))), (REAL, REAL), torch=lambda a, b: _t().einsum("i,j", a, b)),
    C("einsum ...ij,...jk->...ik (broadcast batch)", lambda a, b: te.einsum("...ij,...jk->...ik", a, b),
      lambda a, b: np.einsum("...ij,...jk->...ik", a, b), [((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2))],
      st.just(((1, 2, 3), (2, 3, 2))), (REAL, REAL), torch=lambda a, b: _t().einsum("...ij,...jk->...ik", a, b)),
    C("einsum ij,ij,j->i (three operands)", lambda a, b, c: te.einsum("ij,ij,j->i", a, b, c),
      lambda a, b, c: np.einsum("ij,ij,j->i", a, b, c), [((2, 3), (2, 3), (3,))], st.just(((3, 2), (3, 2), (2,))),
      (REAL, REAL, REAL), torch=lambda a, b, c: _t().einsum("ij,ij,j->i", a, b, c)),
    C("tensordot axes=1", lambda a, b: te.tensordot(a, b, axes=1), lambda a, b: np.tensordot(a, b, axes=1),
      [((2, 3), (3, 4))], matmul_shapes(2, 2), (REAL, REAL), torch=lambda a, b: _t().tensordot(a, b, dims=1)),
    C("tensordot axes=([1, 0], [0, 2])", lambda a, b: te.tensordot(a, b, axes=([1, 0], [0, 2])),
      lambda a, b: np.tensordot(a, b, axes=([1, 0], [0, 2])), [((3, 2, 4), (2, 5, 3))],
      st.just(((2, 2, 1), (2, 3, 2))), (REAL, REAL),
      torch=lambda a, b: _t().tensordot(a, b, dims=([1, 0], [0, 2]))),
    C("outer", lambda a, b: te.outer(a, b), np.outer, [((2,), (3,))], st.just(((4,), (1,))), (REAL, REAL),
      torch=lambda a, b: _t().outer(a, b)),
    C("diag of a matrix", lambda a: a.diag(), np.diag, [((3, 3),), ((2, 4),)], matrix_shapes(),
      torch=lambda a: a.diag()),
    C("diag(1) of a matrix", lambda a: a.diag(1), lambda a: np.diag(a, 1), [((3, 3),)], matrix_shapes(),
      torch=lambda a: a.diag(1)),
    C("diag of a vector", lambda v: v.diag(), np.diag, [((3,),)], st.just(((1,),)), torch=lambda v: v.diag()),
    C("diag(-1) of a vector", lambda v: v.diag(-1), lambda v: np.diag(v, -1), [((3,),)], unary(1, 1),
      torch=lambda v: v.diag(-1)),
    C("trace", lambda a: a.trace(), np.trace, [((3, 3),), ((2, 3),)], matrix_shapes(), torch=lambda a: a.trace()),
]

CASE_BY_NAME = {c.name: c for c in CASES}
assert len(CASE_BY_NAME) == len(CASES), "op case names must be unique"


# ---------------------------------------------------------------------------------------------------
# Running a case.


def make_inputs(case, shapes, rng, dtype=np.float64):
    """Draw one value array per input of `case`; float inputs are cast to `dtype`."""
    arrays = []
    for dom, shape in zip(case.domains, shapes):
        a = np.asarray(dom(rng, tuple(shape), shapes))
        if a.dtype.kind == "f":
            a = a.astype(dtype)
        arrays.append(a)
    return arrays


def engine_inputs(case, arrays):
    """Fresh leaf Tensors (requiring grad for the differentiable inputs, constant otherwise); integer
    inputs (class labels) stay plain ndarrays."""
    return [Tensor(a.copy(), requires_grad=i in case.wrt) if a.dtype.kind == "f" else a.copy()
            for i, a in enumerate(arrays)]


def run_case(case, arrays, upstream=None):
    """Run the engine on `arrays`: returns (output Tensor, [grad of each wrt input]) after
    backward with `upstream` (a random upstream gradient; None: no backward)."""
    inputs = engine_inputs(case, arrays)
    out = case.fn(*inputs)
    grads = None
    if upstream is not None:
        out.backward(upstream)
        grads = [inputs[i].grad for i in case.wrt]
    return out, grads, inputs


def numeric_vjp(f, arrays, v, i, eps=1e-6):
    """Central differences of Σ f(*arrays) · v with respect to arrays[i] (all float64, plain NumPy):
    the vector-Jacobian product that backward with upstream gradient v must compute."""
    arrays = [np.array(a, dtype=np.float64) if a.dtype.kind == "f" else a for a in arrays]
    x = arrays[i]
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        plus = np.sum(np.asarray(f(*arrays)) * v)
        x[idx] = saved - eps
        minus = np.sum(np.asarray(f(*arrays)) * v)
        x[idx] = saved
        out[idx] = (plus - minus) / (2 * eps)
    return out
