"""Module-level functions: making tensors (te.zeros, te.randn, ...), joining and splitting them
(te.cat, te.stack, te.split), and the function forms of the ops (te.maximum, te.where, te.einsum,
te.sin(x), ...), spelled as in PyTorch and NumPy.

    import tinygrad_edu as te
    W = te.randn(2, 3, requires_grad=True)              # a leaf drawn from te's default generator
    h = te.cat([x, te.ones(4, 1)], dim=1)                # (4, 2) and (4, 1) -> (4, 3)
    y = te.einsum("ni,ij->nj", h, W)

NumPy's functions on Tensors find these by name (numpy_api.py): np.concatenate(ts) calls
te.concatenate, np.stack calls te.stack, np.maximum calls te.maximum, np.einsum calls te.einsum.

Factories follow NumPy's dtypes (float64 unless told otherwise; PyTorch's default is float32) and
take requires_grad= and dtype= as PyTorch's do. Random draws (rand, randn, dropout) come from a
np.random.Generator - te's default one (te.manual_seed(seed) resets it) or the one passed as
generator= - through an op, so a te.compile'd step draws fresh numbers at every replay.
"""
import numbers

import numpy as np

from . import ops as _ops
from .compile import capturing, guard
from .errors import ArgumentError, DTypeError, ShapeError
from .tensor import Tensor, numeric_dtype

# ---------------------------------------------------------------------------------------------------
# Making tensors


def _shape(size, what):
    """Sizes given as f(2, 3), f((2, 3)) or f([2, 3]) -> (2, 3)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in size):
        raise ArgumentError(f"{what}: sizes must be non-negative integers, got {size!r}")
    return tuple(int(n) for n in size)


def _made(data, requires_grad, what):
    t = Tensor(data)
    return t.requires_grad_(True) if requires_grad else t


def zeros(*size, dtype=np.float64, requires_grad=False):
    """A tensor of zeros: te.zeros(2, 3) or te.zeros((2, 3))."""
    return _made(np.zeros(_shape(size, "zeros"), numeric_dtype(dtype, "zeros")), requires_grad, "zeros")


def ones(*size, dtype=np.float64, requires_grad=False):
    """A tensor of ones: te.ones(2, 3) or te.ones((2, 3))."""
    return _made(np.ones(_shape(size, "ones"), numeric_dtype(dtype, "ones")), requires_grad, "ones")


def full(size, fill_value, dtype=None, requires_grad=False):
    """A tensor of `size` filled with fill_value (dtype: NumPy's for the value unless given)."""
    size = _shape((size,), "full")
    dtype = None if dtype is None else numeric_dtype(dtype, "full")
    return _made(np.full(size, fill_value, dtype), requires_grad, "full")


def zeros_like(t, dtype=None, requires_grad=False):
    """Zeros of t's shape and (unless given) dtype."""
    return _made(np.zeros(np.shape(t), _dtype_of(t) if dtype is None else dtype), requires_grad, "zeros_like")


def ones_like(t, dtype=None, requires_grad=False):
    """Ones of t's shape and (unless given) dtype."""
    return _made(np.ones(np.shape(t), _dtype_of(t) if dtype is None else dtype), requires_grad, "ones_like")


def full_like(t, fill_value, dtype=None, requires_grad=False):
    """A tensor of t's shape (and dtype, unless given) filled with fill_value."""
    return _made(np.full(np.shape(t), fill_value, _dtype_of(t) if dtype is None else dtype), requires_grad,
                 "full_like")


def _dtype_of(t):
    return t.dtype if isinstance(t, Tensor) else np.asarray(t).dtype


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in [start, end): te.arange(5), te.arange(1, 2, 0.25) (NumPy's dtypes:
    integers for integer arguments)."""
    values = np.arange(start, step=step) if end is None else np.arange(start, end, step)
    return _made(values if dtype is None else values.astype(numeric_dtype(dtype, "arange")), requires_grad,
                 "arange")


def linspace(start, end, steps=50, dtype=None, requires_grad=False):
    """`steps` evenly spaced values from start to end, both included."""
    values = np.linspace(start, end, steps)
    return _made(values if dtype is None else values.astype(numeric_dtype(dtype, "linspace")), requires_grad,
                 "linspace")


def eye(n, m=None, dtype=np.float64, requires_grad=False):
    """The identity matrix (n × m, m = n by default)."""
    return _made(np.eye(n, m, dtype=numeric_dtype(dtype, "eye")), requires_grad, "eye")


# ---------------------------------------------------------------------------------------------------
# Random tensors: drawn by an op (NoGrad), so te.compile records the draw and repeats it each replay


_default_generator = np.random.default_rng()


def manual_seed(seed):
    """Reset te's default generator (used by rand, randn and dropout when no generator is given);
    returns it. nn has its own, for weights: nn.manual_seed."""
    global _default_generator
    _default_generator = np.random.default_rng(seed)
    return _default_generator


def default_generator():
    """The np.random.Generator that rand, randn and dropout draw from when none is given."""
    return _default_generator


def _generator(generator, what):
    if generator is None:
        g = _default_generator
        if capturing():                    # a compiled step keeps drawing from this very generator
            guard(lambda: _default_generator is g, "te.manual_seed replaced the default generator")
        return g
    if not isinstance(generator, np.random.Generator):
        raise ArgumentError(f"{what}: generator must be a np.random.Generator (np.random.default_rng(seed)), "
                            f"got {type(generator).__name__}")
    return generator


def _draw(method, size, dtype, generator, requires_grad, what):
    dtype = numeric_dtype(dtype, what)
    if dtype not in (np.float32, np.float64):
        raise DTypeError(f"{what}: random values are drawn as float32 or float64, not {dtype}")
    fn = getattr(_generator(generator, what), method)          # a bound method: the op calls it
    t = _ops.NoGrad.apply(fn=fn, size=_shape(size, what), dtype=dtype)
    return t.requires_grad_(True) if requires_grad else t


def rand(*size, generator=None, dtype=np.float64, requires_grad=False):
    """Uniform values in [0, 1): te.rand(2, 3)."""
    return _draw("random", size, dtype, generator, requires_grad, "rand")


def randn(*size, generator=None, dtype=np.float64, requires_grad=False):
    """Standard normal values: te.randn(2, 3)."""
    return _draw("standard_normal", size, dtype, generator, requires_grad, "randn")


def dropout(x, p=0.5, training=True, generator=None):
    """Inverted dropout: each element is zeroed with probability p and the others are scaled by
    1 / (1 − p), so the expected value is x; the identity when training is False (or p = 0). The
    gradient passes through the kept elements, scaled the same way. A fresh mask at every call."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
        raise ArgumentError(f"dropout: p must be a probability in [0, 1], got {p!r}")
    x = x if isinstance(x, Tensor) else Tensor(x)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = rand(x.shape, generator=generator, dtype=x.dtype if x.dtype.kind == "f" else np.float64) >= p
    return x * keep * (1.0 / (1.0 - p))


# ---------------------------------------------------------------------------------------------------
# Joining and splitting


def _tensors(seq, what):
    if isinstance(seq, (Tensor, np.ndarray)) or not hasattr(seq, "__len__"):
        raise ArgumentError(f"{what}: expected a list or tuple of tensors, got {type(seq).__name__}")
    if len(seq) == 0:
        raise ArgumentError(f"{what}: needs at least one tensor")
    return list(seq)


def concatenate(arrays, axis=0, *, dim=None, _what="concatenate"):
    """Join tensors along an existing axis (np.concatenate; te.cat is PyTorch's name). The gradient
    of each input is the slice of the output's gradient where it went."""
    arrays = _tensors(arrays, _what)
    axis = axis if dim is None else dim
    if axis is None:
        arrays, axis = [Tensor.reshape(a if isinstance(a, Tensor) else Tensor(a), -1) for a in arrays], 0
    return _ops.Concatenate.apply(*arrays, axis=axis)


def cat(tensors, dim=0, *, axis=None):
    """Join tensors along an existing axis (PyTorch's torch.cat)."""
    return concatenate(tensors, dim if axis is None else axis, _what="cat")


def stack(arrays, axis=0, *, dim=None):
    """Join tensors of the same shape along a new axis (np.stack, torch.stack)."""
    arrays = [a if isinstance(a, Tensor) else Tensor(a) for a in _tensors(arrays, "stack")]
    if any(a.shape != arrays[0].shape for a in arrays):
        raise ShapeError("stack: every tensor must have the same shape, got "
                         + ", ".join(str(a.shape) for a in arrays))
    axis = axis if dim is None else dim
    return concatenate([a.expand_dims(axis) for a in arrays], axis)


def hstack(tensors):
    """Join along the columns (np.hstack: axis 1, or axis 0 for vectors)."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in _tensors(tensors, "hstack")]
    return concatenate(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along the rows (np.vstack: vectors become rows)."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in _tensors(tensors, "vstack")]
    return concatenate([t.reshape(1, -1) if t.ndim == 1 else t for t in tensors], 0)


def split(tensor, split_size_or_sections, dim=0):
    """PyTorch's torch.split: pieces of the given size (or sizes) along dim. (np.split on a Tensor
    keeps NumPy's meaning: a number of equal sections, or indices to cut at.)"""
    return _as_tensor(tensor).split(split_size_or_sections, dim)


def chunk(tensor, chunks, dim=0):
    """Split into `chunks` nearly equal pieces along dim (torch.chunk); see Tensor.chunk."""
    return _as_tensor(tensor).chunk(chunks, dim)


# ---------------------------------------------------------------------------------------------------
# Functions of several tensors


def where(cond, x, y):
    """x where cond is true, else y (np.where and torch.where; np.where on Tensors calls it).
    Gradients flow to x and y; cond is a constant."""
    return _ops.Where.apply(cond, x, y)


def maximum(x, y):
    """Elementwise maximum (np.maximum, torch.maximum); a tie splits the gradient equally."""
    return _ops.Maximum.apply(x, y)


def minimum(x, y):
    """Elementwise minimum (np.minimum, torch.minimum); a tie splits the gradient equally."""
    return _ops.Minimum.apply(x, y)


def einsum(subscripts, *operands):
    """Einstein summation: te.einsum('ij,jk->ik', a, b) is a @ b. The operands may also be given as
    one list (PyTorch's torch.einsum('ij,jk', [a, b])). Each operand's gradient is again an einsum."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise ArgumentError("einsum: needs at least one operand")
    return _ops.Einsum.apply(*operands, subscripts=subscripts)


def tensordot(a, b, axes=2):
    """np.tensordot: sum over the last `axes` axes of a and the first of b (or the axes listed in a
    pair of sequences), written as the einsum it is."""
    a, b = _as_tensor(a), _as_tensor(b)
    if isinstance(axes, numbers.Integral):
        axes = (list(range(a.ndim - axes, a.ndim)), list(range(axes)))
    ax_a, ax_b = ([x] if isinstance(x, numbers.Integral) else list(x) for x in axes)
    if len(ax_a) != len(ax_b):
        raise ShapeError(f"tensordot: {len(ax_a)} axes of a but {len(ax_b)} of b")
    ax_a = [x % a.ndim for x in ax_a]
    ax_b = [x % b.ndim for x in ax_b]
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    ta = [next(letters) for _ in range(a.ndim)]
    tb = [next(letters) for _ in range(b.ndim)]
    for i, j in zip(ax_a, ax_b):
        tb[j] = ta[i]                                # a summed pair shares its letter
    out = [c for i, c in enumerate(ta) if i not in ax_a] + [c for j, c in enumerate(tb) if j not in ax_b]
    return einsum(f"{''.join(ta)},{''.join(tb)}->{''.join(out)}", a, b)


def outer(a, b):
    """Outer product of two vectors (np.outer flattens them first)."""
    return _as_tensor(a).reshape(-1).outer(b)


def pad(array, pad_width, mode="constant", constant_values=0):
    """np.pad with a constant (the only mode with a simple gradient): pad_width as NumPy takes it."""
    if mode != "constant":
        raise ArgumentError(f"pad: only mode='constant' is supported, got {mode!r}")
    return _as_tensor(array).pad(pad_width, constant_values)


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


# The function forms of Tensor methods (te.sin(x) is x.sin(), as torch.sin(x) is x.sin()): the first
# argument may also be an array or a list (a constant Tensor is made of it).
_FUNCTION_FORMS = (
    "exp", "log", "log2", "log1p", "expm1", "sin", "cos", "tan", "erf", "tanh", "sigmoid", "relu",
    "leaky_relu", "elu", "softplus", "gelu", "silu", "abs", "sign", "sqrt", "rsqrt", "reciprocal",
    "square", "clip", "clamp", "sum", "mean", "max", "min", "prod", "var", "std", "cumsum", "argmax", "argmin",
    "amax", "amin", "softmax", "log_softmax", "logsumexp", "matmul", "dot", "reshape", "flatten",
    "transpose", "permute", "swapaxes", "squeeze", "unsqueeze", "expand_dims", "flip", "tril", "triu",
    "diag", "trace", "tile", "repeat_interleave", "broadcast_to",
)


def _function_form(name):
    def f(x, *args, **kwargs):
        return getattr(_as_tensor(x), name)(*args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"te.{name}(x, ...) is Tensor.{name}(x, ...)."
    return f


for _name in _FUNCTION_FORMS:
    globals()[_name] = _function_form(_name)       # (this module must not call the built-in sum/max/...)
del _name

# te.sum, te.max, te.min and te.abs exist, but are left out of __all__: `from tinygrad_edu import *`
# must not hide Python's built-ins of the same names.
_BUILTIN_NAMES = ("abs", "sum", "max", "min")
__all__ = ["zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "linspace",
           "eye", "rand", "randn", "manual_seed", "default_generator", "dropout", "concatenate", "cat",
           "stack", "hstack", "vstack", "split", "chunk", "where", "maximum", "minimum", "einsum",
           "tensordot", "outer", "pad", *(n for n in _FUNCTION_FORMS if n not in _BUILTIN_NAMES)]
