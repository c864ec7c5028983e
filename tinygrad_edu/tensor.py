"""Tensor: a NumPy array that remembers how it was computed.

    x = Tensor([[1.0, 2.0]])                          # data only
    W = Tensor(np.random.randn(2, 3), requires_grad=True)
    loss = (x @ W).tanh().sum()                         # each op records its inputs (grad_fn)
    loss.backward()                                     # W.grad: same shape and dtype as W

Dtypes follow NumPy: nested lists of floats give float64, float32 stays float32 end to end (a Python
scalar never upcasts it), float32 combined with float64 gives float64 (NumPy's promotion) and each
gradient is cast back to its tensor's dtype. Only floating-point tensors can require grad: asking an
integer tensor raises DTypeError (convert first: `Tensor(x, dtype=np.float64)`).

Everything that differentiates lives elsewhere: ops.py (the primitive ops), function.py (recording),
autograd.py (the backward pass). This file is the user-facing sugar over them.
"""
import collections

import numpy as np

from .errors import ArgumentError, DTypeError, GraphError, IndexOutOfRange, ShapeError
from .modes import modes


def to_array(data, dtype=None, what="Tensor()"):
    """Convert user data (ndarray, nested list, scalar, Tensor) to a numeric ndarray, or raise."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
        if type(data) is not np.ndarray:        # a subclass: its operators mean other maths
            if isinstance(data, np.ma.MaskedArray):
                raise DTypeError(f"{what}: masked arrays are not supported (the mask would be ignored); "
                                 "pass np.ma.filled(x, value) or x.compressed()")
            arr = np.asarray(data)              # np.matrix, np.memmap, ... -> a plain ndarray view
    else:
        try:
            arr = np.asarray(data)
        except ValueError as e:  # NumPy refuses ragged nested sequences
            raise ShapeError(f"{what}: nested sequences are ragged, not a rectangular array ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{what}: expected numbers (bool, int or float), got {type(data).__name__} "
                         f"with dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(numeric_dtype(dtype, what), copy=False)
    return arr


def numeric_dtype(dtype, what):
    """np.dtype(dtype), refused with a DTypeError unless it is a bool, int or float dtype."""
    try:
        target = np.dtype(dtype)
    except TypeError as e:                      # np.dtype('flaot32'): "data type not understood"
        raise DTypeError(f"{what}: {e}") from None
    if target.kind not in "biuf":
        raise DTypeError(f"{what}: unsupported dtype {target}; use a bool, int or float dtype")
    return target


def _axis(axis):
    """Reduction axes as NumPy takes them: None, an int, or a tuple (a list is accepted too)."""
    return tuple(axis) if isinstance(axis, list) else axis


def _pick(what, axis, dim, keepdims=False, keepdim=None):
    """(axis, keepdims) from NumPy's axis=/keepdims= or PyTorch's dim=/keepdim= (either spelling)."""
    if dim is not None:
        if axis is not None:
            raise ArgumentError(f"{what}: give axis= (NumPy's name) or dim= (PyTorch's), not both")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    return _axis(axis), bool(keepdims)


def _sizes(args, what):
    """Sizes given as f(2, 3), f((2, 3)) or f([2, 3]) -> (2, 3)."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in args):
        raise ArgumentError(f"{what}: expected integer sizes, got {args!r}")
    return tuple(int(n) for n in args)


def _count(shape, axis):
    """How many elements a reduction over `axis` (None, an int or a tuple) combines."""
    if axis is None:
        return int(np.prod(shape, dtype=np.int64))
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _one_axis(axis, ndim, what):
    """An axis as a non-negative int (negative counts from the end), or IndexOutOfRange."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ArgumentError(f"{what}: axis must be an integer, got {axis!r}")
    if not -ndim <= axis < max(ndim, 1):
        raise IndexOutOfRange(f"{what}: axis {axis} is out of range for a tensor with {ndim} dimension(s)")
    return int(axis) % max(ndim, 1)


def _check_float(arr, what):
    if arr.dtype.kind != "f":
        raise DTypeError(f"{what}: only floating-point tensors can require grad, this one is {arr.dtype}; "
                         "convert it first, e.g. Tensor(x, dtype=np.float64)")


MinMax = collections.namedtuple("MinMax", ["values", "indices"])
MinMax.__doc__ = "What x.max(dim=d) and x.min(dim=d) return, as in PyTorch: (values, indices)."


class Tensor:
    """An n-dimensional array with an optional recorded history for reverse-mode autodiff.

    Tensor(data, requires_grad=False, dtype=None, name=None)
        data: ndarray (not copied when the dtype already matches), nested list or Python scalar.
        name: optional label shown by graph drawings.
    """
    __slots__ = ("_data", "_grad", "_requires_grad", "_ctx", "_retain", "name", "__weakref__")
    __hash__ = object.__hash__  # identity hash (== is elementwise, as in NumPy and PyTorch)

    # NumPy's dispatch protocols: np.exp(t), ndarray + t, np.sum(t, axis=1) ... call the Tensor ops and
    # are recorded; what cannot be differentiated raises instead of dropping the graph (numpy_api.py).
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _np_api.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _np_api.array_function(func, types, args, kwargs)

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self._data = to_array(data, dtype)
        self._grad = None
        self._requires_grad = False
        self._ctx = None
        self._retain = False
        self.name = name
        if requires_grad:
            self.requires_grad_(True)
        if modes.tracer is not None:
            modes.tracer.new_tensor(self, data)

    @staticmethod
    def _make(data, ctx, requires_grad):
        """The engine's constructor: `data` is already a valid ndarray, no checks."""
        t = object.__new__(Tensor)
        t._data = data
        t._grad = None
        t._requires_grad = requires_grad
        t._ctx = ctx
        t._retain = False
        t.name = None
        return t

    # -- array-like attributes ---------------------------------------------------------------------
    def _read(self, what):
        """Hand out values: refused inside a te.compile capture, where they would be baked in."""
        if modes.tracer is not None:
            modes.tracer.read(self, what)
        return self._data

    @property
    def data(self):
        """The underlying ndarray. Assigning replaces it (the recorded graph keeps the old one);
        modifying it with raw NumPy bypasses the in-place check, as `.data` does in PyTorch."""
        return self._read(".data")

    @data.setter
    def data(self, value):
        self._read(".data = ...")
        arr = to_array(value, what="Tensor.data")
        if self._requires_grad:
            _check_float(arr, "Tensor.data")
        self._data = arr

    shape = property(lambda self: self._data.shape, doc="Tuple of dimensions, as in NumPy.")
    ndim = property(lambda self: self._data.ndim, doc="Number of dimensions.")
    dtype = property(lambda self: self._data.dtype, doc="NumPy dtype.")
    size = property(lambda self: self._data.size, doc="Number of elements (NumPy's meaning).")

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self._read(".numpy()")

    def item(self):
        """The single element as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"item(): only a tensor with one element can be converted to a Python "
                             f"number, this one has shape {self.shape}")
        return self._read(".item()").item()

    def tolist(self):
        """The values as nested Python lists (numbers), like ndarray.tolist()."""
        return self._read(".tolist()").tolist()

    def __array__(self, dtype=None, copy=None):
        arr = self._read("np.asarray()")
        arr = arr if dtype is None else arr.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __bool__(self):
        if self._data.size != 1:
            raise ShapeError(f"the truth value of a tensor with shape {self.shape} is ambiguous; "
                             "use .any() or .all() on .data")
        return bool(self._read("bool()").item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        extras = []
        if self._data.dtype not in (np.float64, np.int64, np.bool_):
            extras.append(f"dtype={self._data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        if self.name:
            extras.append(f"name={self.name!r}")
        return "Tensor(" + ", ".join([body] + extras) + ")"

    def _repr_html_(self):
        """Jupyter's display: name, shape, dtype, how it was made, then its values and its .grad as
        small tables (the first 8 rows and columns; '…' marks what is cut)."""
        import html
        made = (f"made by {self._ctx.name}" if self._ctx is not None
                else "requires grad" if self._requires_grad else "constant")
        head = f"<b>{html.escape(self.name or 'Tensor')}</b> {self.shape} {self.dtype}, {made}"
        tables = [_html_table("data", self._data)]
        if self._grad is not None:
            tables.append(_html_table("grad", self._grad._data))
        return f"<div>{head}<div style='display:flex;gap:1em'>{''.join(tables)}</div></div>"

    # -- autograd attributes -----------------------------------------------------------------------
    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded so a gradient can reach it."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self.requires_grad_(flag)

    def requires_grad_(self, flag=True):
        """Set requires_grad in place (leaves only) and return self."""
        flag = bool(flag)
        if self._ctx is not None and not flag:
            raise GraphError("requires_grad_(False) on a tensor computed by an op; use .detach() instead")
        if flag:
            _check_float(self._data, "requires_grad_()")
        self._requires_grad = flag
        return self

    @property
    def is_leaf(self):
        """True unless this tensor was computed by a recorded op."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The op that produced this tensor (None for leaves and untracked results)."""
        return self._ctx

    @property
    def grad(self):
        """Accumulated gradient: None until a backward reaches this tensor, then a Tensor of the same
        shape and dtype. Leaves keep it; intermediate tensors only after retain_grad()."""
        if modes.tracer is not None:
            modes.tracer.read_grad(self)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                value = Tensor(value)
            if value.shape != self.shape:
                raise ShapeError(f"grad: assigned gradient has shape {value.shape}, tensor has shape {self.shape}")
            if value.dtype != self.dtype:
                raise DTypeError(f"grad: assigned gradient has dtype {value.dtype}, tensor has dtype {self.dtype}")
        self._grad = value
        if modes.tracer is not None:
            modes.tracer.set_grad(self, value)

    @property
    def _version(self):
        """Counter value at the last in-place change of this tensor's buffer (0: never changed)."""
        return _fn.version_of(self._data)

    def retain_grad(self):
        """Keep .grad on this intermediate tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise GraphError("retain_grad() on a tensor that does not require grad")
        if self._ctx is not None:
            self._retain = True
        return self

    def zero_grad(self, set_to_none=True):
        """Forget the accumulated gradient (set it to None, or fill it with zeros)."""
        self.grad = None if set_to_none or self._grad is None else Tensor(np.zeros_like(self._data))

    def clone(self):
        """A copy with its own data that stays in the graph (its gradient flows back to self)."""
        return _ops.Cast.apply(self, dtype=self._data.dtype)

    def detach(self):
        """A new leaf sharing this tensor's data, outside any graph."""
        t = Tensor._make(self._data, None, False)
        t.name = self.name
        return t

    def backward(self, grad=None, retain_graph=False, create_graph=False, trace=False):
        """Accumulate d(self)/d(leaf) into every leaf's .grad, by reverse-mode autodiff.

        grad: upstream gradient, required unless self has exactly one element; same shape as self.
        retain_graph: keep the saved arrays so backward can run through this graph again.
        create_graph: record the backward pass itself, so gradients can be differentiated again.
        trace: return a list of BackwardStep records (see explain_backward) describing each step.
        """
        steps = [] if trace else None
        _ag.backward([self], [grad], retain_graph=retain_graph, create_graph=create_graph, trace=steps)
        return steps

    # -- arithmetic (NumPy broadcasting; Python scalars, lists and ndarrays on either side) ---------
    def __add__(self, other):
        return _ops.Add.apply(self, other)

    def __radd__(self, other):
        return _ops.Add.apply(other, self)

    def __sub__(self, other):
        return _ops.Sub.apply(self, other)

    def __rsub__(self, other):
        return _ops.Sub.apply(other, self)

    def __mul__(self, other):
        return _ops.Mul.apply(self, other)

    def __rmul__(self, other):
        return _ops.Mul.apply(other, self)

    def __truediv__(self, other):
        return _ops.Div.apply(self, other)

    def __rtruediv__(self, other):
        return _ops.Div.apply(other, self)

    def __neg__(self):
        return _ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        """self ** exponent: a number (Pow), or an array/list/Tensor, elementwise (Power)."""
        if isinstance(exponent, (int, float, np.integer, np.floating)) and not isinstance(exponent, bool):
            return _ops.Pow.apply(self, p=exponent)
        return _ops.Power.apply(self, exponent)

    def __rpow__(self, base):
        """base ** self for a positive base (a number, list or ndarray)."""
        arr = _fn.as_constant(base, "pow")
        if not np.all(np.asarray(arr) > 0):
            raise ArgumentError(f"pow: base ** tensor needs a positive base (its derivative is "
                                f"base ** tensor · ln base), got {_fn.describe([arr])} with values <= 0")
        return _ops.Power.apply(base, self)

    def __matmul__(self, other):
        return _ops.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return _ops.MatMul.apply(other, self)

    def matmul(self, other):
        """Matrix product self @ other (NumPy's matmul: 1-D operands promoted, batch axes broadcast); da = g @ bᵀ, db = aᵀ @ g."""
        return _ops.MatMul.apply(self, other)

    def dot(self, other):
        """np.dot for 1-D and 2-D operands (the documents' `X.dot(W1)`): the matrix product; with a
        0-d operand, the product. Beyond 2-D np.dot is not matmul: use matmul (or @) there."""
        if self.ndim > 2 or np.ndim(other) > 2:
            raise ShapeError(f"dot: operands of shapes {self.shape} and {np.shape(other)}: beyond 2-D "
                             "np.dot is not the matrix product; use matmul (or @)")
        if self.ndim == 0 or np.ndim(other) == 0:
            return self * other
        return _ops.MatMul.apply(self, other)

    def linear(self, weight, bias=None):
        """self @ weight + bias as one fused op (the affine map of a dense layer): self (N, in),
        weight (in, out), bias (out,) or None. Same numbers as `x @ W + b`, one graph node."""
        if bias is None:
            return _ops.MatMul.apply(self, weight)
        return _ops.Linear.apply(self, weight, bias)

    # comparisons and logical operators give bool tensors, without a graph
    def _compare(self, other, ufunc):
        return _ops.NoGrad.apply(self, other, fn=ufunc)

    def __and__(self, other):
        return self._compare(other, np.logical_and)

    def __or__(self, other):
        return self._compare(other, np.logical_or)

    def __invert__(self):
        return _ops.NoGrad.apply(self, fn=np.logical_not)

    def isnan(self):
        """Boolean tensor: where the values are NaN (no gradient)."""
        return _ops.NoGrad.apply(self, fn=np.isnan)

    def where(self, cond, other):
        """self where cond is true, else other (PyTorch's x.where(cond, y)); gradients flow to both."""
        return _ops.Where.apply(cond, self, other)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    # -- in-place updates ----------------------------------------------------------------------------
    # They modify the data and stamp its buffer (see function.py), so a graph that saved the old values
    # refuses to backpropagate. While recording, they are refused on tensors that require grad:
    # optimizers update parameters inside `with no_grad():`.
    def _inplace(self, ufunc, other, op, alpha=1):
        """self = ufunc(self, alpha·other) in place (ufunc None: assignment). Checks, then writes once."""
        if modes.grad_enabled and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
            self._refuse_inplace(op)
        value = other._data if isinstance(other, Tensor) else _fn.as_constant(other, op)
        if type(alpha) is not int or alpha != 1:
            value = value * alpha
        try:
            if ufunc is None:
                self._data[...] = value
            else:
                ufunc(self._data, value, out=self._data)
        except (ValueError, TypeError) as e:
            raise self._inplace_error(op, value, e) from None
        _fn.note_inplace(self._data)
        if modes.tracer is not None:
            modes.tracer.inplace(self, ufunc, other, alpha)
        return self

    def _refuse_inplace(self, op):
        if self._ctx is None and self._requires_grad:
            raise GraphError(f"{op}: in-place update of a leaf tensor that requires grad while gradients "
                             "are being recorded; do it inside `with no_grad():` (optimizers do)")
        raise GraphError(f"{op}: in-place operation on a tensor that takes part in a recorded graph; "
                         "use the out-of-place form (x = x + y) instead")

    def _inplace_error(self, op, value, exc):
        if not self._data.flags.writeable:
            return GraphError(f"{op}: this tensor's data is read-only (for example a broadcast view)")
        kind = DTypeError if isinstance(exc, TypeError) else ShapeError
        return kind(f"{op}: cannot update a tensor of shape {self.shape} {self.dtype} in place with "
                    f"{_fn.describe([np.asarray(value)])}: {exc}")

    def __iadd__(self, other):
        return self._inplace(np.add, other, "add_")

    def __isub__(self, other):
        return self._inplace(np.subtract, other, "sub_")

    def __imul__(self, other):
        return self._inplace(np.multiply, other, "mul_")

    def __itruediv__(self, other):
        return self._inplace(np.true_divide, other, "div_")

    def add_(self, other, alpha=1):
        """self += alpha * other, in place (alpha as in PyTorch's add_)."""
        return self._inplace(np.add, other, "add_", alpha)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place."""
        return self._inplace(np.subtract, other, "sub_", alpha)

    def mul_(self, other):
        """self *= other, in place (not recorded: use it inside no_grad() on tensors that require grad)."""
        return self._inplace(np.multiply, other, "mul_")

    def copy_(self, src):
        """Copy src's values into this tensor (broadcasting), in place."""
        return self._inplace(None, src, "copy_")

    def fill_(self, value):
        """Set every element to `value`, in place."""
        return self._inplace(None, value, "fill_")

    def zero_(self):
        """Set every element to 0, in place (PyTorch's zero_; optimizers use p.grad = None instead)."""
        return self._inplace(None, 0, "zero_")

    def __setitem__(self, index, value):
        if modes.grad_enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
            self._refuse_inplace("setitem")
        if modes.tracer is not None:
            modes.tracer.refuse("x[index] = value", "use an out-of-place form such as te.where(mask, value, x)")
        data = value._data if isinstance(value, Tensor) else _fn.as_constant(value, "setitem")
        index = _ops.normalize_index(index, "setitem")
        try:
            self._data[index] = data
        except IndexError as e:
            raise IndexOutOfRange(f"setitem: {e} (tensor shape {self.shape})") from None
        except (ValueError, TypeError) as e:
            raise ShapeError(f"setitem: {e} (tensor shape {self.shape})") from None
        _fn.note_inplace(self._data)

    # -- reductions ----------------------------------------------------------------------------------
    # NumPy's axis=/keepdims= and PyTorch's dim=/keepdim= are both accepted.
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Σ over axis (None: everything); the gradient spreads g back over the summed axes."""
        axis, keepdims = _pick("sum", axis, dim, keepdims, keepdim)
        return _ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """The average over axis (None: everything)."""
        axis, keepdims = _pick("mean", axis, dim, keepdims, keepdim)
        return _ops.Mean.apply(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Maximum over axis (NumPy: the values); where several elements tie for it, the gradient is
        split equally among them (also what central differences measure). PyTorch's spellings:
        x.max(dim=1) gives the pair (values, indices), and x.max(other_tensor) is te.maximum."""
        if isinstance(axis, Tensor):
            return self.maximum(axis)
        if dim is not None:
            _pick("max", axis, dim)                  # (refuses axis= and dim= together)
            return self._with_indices("max", dim, keepdims if keepdim is None else keepdim)
        axis, keepdims = _pick("max", axis, dim, keepdims, keepdim)
        return _ops.Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Minimum (ties share the gradient equally, like max; dim= gives (values, indices))."""
        if isinstance(axis, Tensor):
            return self.minimum(axis)
        if dim is not None:
            _pick("min", axis, dim)                  # (refuses axis= and dim= together)
            return self._with_indices("min", dim, keepdims if keepdim is None else keepdim)
        return -((-self).max(*_pick("min", axis, dim, keepdims, keepdim)))

    def amax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """The maximum values (PyTorch's amax: values only, also with dim=)."""
        return self.max(*_pick("amax", axis, dim, keepdims, keepdim))

    def amin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """The minimum values (PyTorch's amin)."""
        return self.min(*_pick("amin", axis, dim, keepdims, keepdim))

    def _with_indices(self, kind, dim, keepdim):
        """PyTorch's x.max(dim=d): (values, indices) along one axis."""
        values = getattr(self, kind)(axis=dim, keepdims=keepdim)
        indices = getattr(self, "arg" + kind)(axis=dim, keepdims=keepdim)
        return MinMax(values, indices)

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Indices of the maxima (int64, not differentiable; the first one where several tie)."""
        axis, keepdims = _pick("argmax", axis, dim, keepdims, keepdim)
        return _ops.NoGrad.apply(self, fn=np.argmax, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Indices of the minima (not differentiable)."""
        axis, keepdims = _pick("argmin", axis, dim, keepdims, keepdim)
        return _ops.NoGrad.apply(self, fn=np.argmin, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        """Product over axis; its gradient is the product of the other elements (exact at zeros)."""
        axis, keepdims = _pick("prod", axis, dim, keepdims, keepdim)
        if not isinstance(axis, tuple):
            return _ops.Prod.apply(self, axis=axis, keepdims=keepdims)
        out = self                                  # several axes: one after the other
        for a in sorted((_one_axis(a, self.ndim, "prod") for a in axis), reverse=True):
            out = _ops.Prod.apply(out, axis=a, keepdims=True)
        gone = {a % self.ndim for a in axis}
        return out if keepdims else out.reshape(tuple(n for i, n in enumerate(self.shape) if i not in gone))

    def var(self, axis=None, ddof=None, keepdims=False, *, dim=None, keepdim=None, correction=None,
            unbiased=None):
        """Variance Σ(x − mean)² / (n − ddof), built from mean, subtraction and sum (so its gradient
        2(x − mean)/(n − ddof) comes from the chain rule). The default follows the spelling:
        x.var() and x.var(axis=...) divide by n (NumPy's ddof=0); x.var(dim=...) divides by n − 1
        (PyTorch's correction=1). ddof=, correction= or unbiased= choose explicitly."""
        axis, keepdims = _pick("var", axis, dim, keepdims, keepdim)
        if correction is not None:
            ddof = correction
        elif unbiased is not None:
            ddof = int(bool(unbiased))
        elif ddof is None:
            ddof = 1 if dim is not None else 0
        d = self - self.mean(axis=axis, keepdims=True)
        return (d * d).sum(axis=axis, keepdims=keepdims) / (_count(self.shape, axis) - ddof)

    def std(self, axis=None, ddof=None, keepdims=False, *, dim=None, keepdim=None, correction=None,
            unbiased=None):
        """Standard deviation: √var (same defaults as var)."""
        return self.var(axis, ddof, keepdims, dim=dim, keepdim=keepdim, correction=correction,
                        unbiased=unbiased).sqrt()

    def cumsum(self, axis=None, *, dim=None):
        """Running sum along axis (None: of the flattened tensor, as NumPy); its gradient is the
        running sum of g taken from the other end."""
        axis, _ = _pick("cumsum", axis, dim)
        if axis is None:
            return _ops.Cumsum.apply(self.reshape(-1), axis=0)
        return _ops.Cumsum.apply(self, axis=_one_axis(axis, self.ndim, "cumsum"))

    # -- elementwise -------------------------------------------------------------------------------
    def exp(self):
        """eˣ elementwise; derivative eˣ (the output itself)."""
        return _ops.Exp.apply(self)

    def log(self):
        """Natural logarithm elementwise; derivative 1/x. log of 0 is -inf and of a negative number NaN, as in NumPy."""
        return _ops.Log.apply(self)

    def log2(self):
        """log₂ x = ln x / ln 2."""
        return _ops.Log.apply(self) * float(1 / np.log(2.0))     # (a Python float never upcasts float32)

    def log1p(self):
        """ln(1 + x), accurate for small x."""
        return _ops.Log1p.apply(self)

    def expm1(self):
        """eˣ − 1, accurate for small x."""
        return _ops.Expm1.apply(self)

    def sin(self):
        """sin x; derivative cos x."""
        return _ops.Sin.apply(self)

    def cos(self):
        """cos x; derivative −sin x."""
        return _ops.Cos.apply(self)

    def tan(self):
        """tan x; derivative 1 + tan² x."""
        return _ops.Tan.apply(self)

    def erf(self):
        """The Gaussian error function (GELU uses it)."""
        return _ops.Erf.apply(self)

    def tanh(self):
        """tanh x elementwise; derivative 1 − tanh²(x), computed from the output."""
        return _ops.Tanh.apply(self)

    def sigmoid(self):
        """σ(x) = 1 / (1 + e⁻ˣ) elementwise, finite for every x; derivative σ(x)(1 − σ(x))."""
        return _ops.Sigmoid.apply(self)

    def relu(self):
        """max(x, 0); the gradient at exactly 0 is 0 (as in PyTorch and JAX)."""
        return _ops.ReLU.apply(self)

    def leaky_relu(self, negative_slope=0.01):
        """x for x > 0, negative_slope · x otherwise."""
        return _ops.LeakyReLU.apply(self, slope=negative_slope)

    def elu(self, alpha=1.0):
        """x for x > 0, α(eˣ − 1) otherwise."""
        return _ops.ELU.apply(self, alpha=alpha)

    def softplus(self, beta=1.0):
        """ln(1 + e^(βx)) / β, a smooth relu (PyTorch's, without its threshold: the two differ by
        less than e⁻²⁰ where PyTorch switches to x)."""
        if beta == 1:
            return _ops.Softplus.apply(self)
        return _ops.Softplus.apply(self * beta) / beta

    def gelu(self, approximate="none"):
        """x · Φ(x) with Φ the standard normal CDF, ½(1 + erf(x/√2)) (PyTorch's default);
        approximate='tanh': ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
        if approximate == "tanh":
            inner = (self + 0.044715 * self * self * self) * float(np.sqrt(2 / np.pi))
            return 0.5 * self * (1 + inner.tanh())
        if approximate != "none":
            raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return 0.5 * self * (1 + (self * float(1 / np.sqrt(2))).erf())

    def silu(self):
        """x · σ(x) (also called swish)."""
        return self * self.sigmoid()

    def abs(self):
        """|x| elementwise; derivative sign(x), 0 at x = 0 (as PyTorch)."""
        return _ops.Abs.apply(self)

    def sign(self):
        """−1, 0 or 1 elementwise; its gradient is 0."""
        return _ops.Sign.apply(self)

    def sqrt(self):
        """√x elementwise; derivative 1 / (2√x)."""
        return _ops.Sqrt.apply(self)

    def rsqrt(self):
        """1 / √x elementwise (PyTorch's rsqrt), as x ** -0.5."""
        return _ops.Pow.apply(self, p=-0.5)

    def reciprocal(self):
        """1 / x elementwise; derivative −1 / x²."""
        return _ops.Div.apply(1.0, self)

    def square(self):
        """x² elementwise; derivative 2x."""
        return _ops.Pow.apply(self, p=2)

    def maximum(self, other):
        """Elementwise maximum with other (ties split the gradient equally)."""
        return _ops.Maximum.apply(self, other)

    def minimum(self, other):
        """Elementwise minimum with other (ties split the gradient equally)."""
        return _ops.Minimum.apply(self, other)

    def clip(self, min=None, max=None):
        """Limit values to [min, max] (numbers, arrays or Tensors, broadcasting; the bounds are
        constants: no gradient flows to them); the gradient passes where min <= x <= max."""
        lo = min._data if isinstance(min, Tensor) else (None if min is None else _fn.as_constant(min, "clip"))
        hi = max._data if isinstance(max, Tensor) else (None if max is None else _fn.as_constant(max, "clip"))
        return _ops.Clip.apply(self, lo=lo, hi=hi)

    clamp = clip

    def astype(self, dtype):
        """Convert to another dtype: differentiable between float dtypes; a cast to an int or bool
        dtype ends the graph (such tensors cannot carry gradients, as in PyTorch)."""
        dtype = numeric_dtype(dtype, "astype")
        if dtype.kind != "f":
            return _ops.NoGrad.apply(self, fn=np.ndarray.astype, dtype=dtype)
        return _ops.Cast.apply(self, dtype=dtype)

    # PyTorch's conversions and method spellings of the operators
    def float(self):
        """As float32 (PyTorch's .float(); differentiable). float(t) is still the Python number."""
        return self.astype(np.float32)

    def double(self):
        """As float64 (PyTorch's .double())."""
        return self.astype(np.float64)

    def long(self):
        """As int64 (PyTorch's .long(); ends the graph)."""
        return self.astype(np.int64)

    def to(self, target):
        """PyTorch's .to(): a dtype (as astype), 'cpu' (the tensor itself: there is no other device)
        or another Tensor (its dtype)."""
        if isinstance(target, Tensor):
            target = target.dtype
        if isinstance(target, str) and target in ("cpu", "cpu:0"):
            return self
        if isinstance(target, str) and target.split(":")[0] in ("cuda", "mps", "xpu", "meta"):
            raise ArgumentError(f"to: tinygrad_edu computes with NumPy, on the CPU only; got device {target!r}")
        return self if np.dtype(numeric_dtype(target, "to")) == self.dtype else self.astype(target)

    def numel(self):
        """Number of elements (PyTorch's name for .size)."""
        return self._data.size

    def dim(self):
        """Number of dimensions (PyTorch's name for .ndim)."""
        return self._data.ndim

    def add(self, other, alpha=1):
        """self + alpha · other."""
        return self + (other if type(alpha) is int and alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        """self − alpha · other."""
        return self - (other if type(alpha) is int and alpha == 1 else other * alpha)

    def mul(self, other):
        """self * other (the method spellings of PyTorch and early tinygrad)."""
        return self * other

    def div(self, other):
        """self / other."""
        return self / other

    def pow(self, exponent):
        """self ** exponent."""
        return self ** exponent

    def neg(self):
        """−x (the same as -x; PyTorch's method form)."""
        return -self

    # comparisons as methods: boolean tensors without a graph, like the operators
    def eq(self, other):
        """self == other elementwise, a bool Tensor without a graph (PyTorch's method form)."""
        return self == other

    def ne(self, other):
        """self != other elementwise, a bool Tensor without a graph."""
        return self != other

    def lt(self, other):
        """self < other elementwise, a bool Tensor without a graph."""
        return self < other

    def le(self, other):
        """self <= other elementwise, a bool Tensor without a graph."""
        return self <= other

    def gt(self, other):
        """self > other elementwise, a bool Tensor without a graph."""
        return self > other

    def ge(self, other):
        """self >= other elementwise, a bool Tensor without a graph."""
        return self >= other

    # -- shape -------------------------------------------------------------------------------------
    def reshape(self, *shape):
        """The same values in a new shape (`x.reshape(2, 3)` or `x.reshape((2, 3))`, one -1 allowed); the gradient is reshaped back."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=shape)

    def view(self, *shape):
        """PyTorch's name for reshape (here always a reshape: there are no strides to share)."""
        return self.reshape(*shape)

    def view_as(self, other):
        """Reshaped to other's shape."""
        return self.reshape(other.shape)

    reshape_as = view_as

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge the axes start_dim..end_dim into one (all of them by default, as NumPy's flatten)."""
        if self.ndim == 0:
            return self.reshape(1)
        start = _one_axis(start_dim, self.ndim, "flatten")
        end = _one_axis(end_dim, self.ndim, "flatten")
        if start > end:
            raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        return self.reshape(self.shape[:start] + (-1,) + self.shape[end + 1:])

    def transpose(self, *axes):
        """Two axes given: swap them, as PyTorch's x.transpose(0, 1) - so on a matrix this is its
        transpose. NOT NumPy's meaning, where two numbers are a full permutation of a 2-D array and
        x.transpose(0, 1) leaves it as it is; for a permutation use permute(...) or pass the
        axes as one tuple, x.transpose((1, 2, 0)). No axes (or None): reverse them, as .T."""
        if len(axes) == 2 and all(isinstance(a, (int, np.integer)) for a in axes):
            return self.swapaxes(*axes)
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = None if axes[0] is None else tuple(axes[0])   # Transpose.backward passes a tuple
        return _ops.Transpose.apply(self, axes=axes or None)

    def permute(self, *dims):
        """Reorder all the axes: x.permute(2, 0, 1) or x.permute((2, 0, 1)) (PyTorch; NumPy's
        transpose with axes)."""
        dims = _sizes(dims, "permute")
        if len(dims) != self.ndim:
            raise ShapeError(f"permute: {len(dims)} axes given for a tensor of shape {self.shape}")
        return _ops.Transpose.apply(self, axes=dims)

    @property
    def T(self):
        """The axes in reverse order (a matrix transposed), as ndarray.T."""
        return _ops.Transpose.apply(self, axes=None)

    def t(self):
        """The transpose of a matrix (PyTorch's .t(): tensors of at most 2 dimensions)."""
        if self.ndim > 2:
            raise ShapeError(f"t(): expects a tensor of at most 2 dimensions, got shape {self.shape}; "
                             "use transpose(d0, d1) or permute(...)")
        return self.T

    def swapaxes(self, a, b):
        """Swap two axes (NumPy's swapaxes; PyTorch's transpose(d0, d1) and swapdims); the gradient is swapped back."""
        axes = list(range(self._data.ndim))
        try:
            axes[a], axes[b] = axes[b], axes[a]
        except IndexError:
            raise IndexOutOfRange(f"swapaxes: axes {a}, {b} out of range for shape {self.shape}") from None
        return _ops.Transpose.apply(self, axes=tuple(axes))

    swapdims = swapaxes

    def broadcast_to(self, shape):
        """The values repeated along new or size-1 axes to `shape` (NumPy's rule); the gradient is summed back."""
        return _ops.BroadcastTo.apply(self, shape=tuple(shape))

    def expand(self, *sizes):
        """PyTorch's expand: broadcast_to, where -1 keeps that axis's size."""
        sizes = _sizes(sizes, "expand")
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ShapeError(f"expand: {len(sizes)} sizes given for a tensor of shape {self.shape}")
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
        return self.broadcast_to(shape)

    def expand_as(self, other):
        """Broadcast to other's shape."""
        return self.broadcast_to(other.shape)

    def squeeze(self, axis=None, *, dim=None):
        """Remove axes of size 1: all of them, or the ones named. With axis= (NumPy) naming an axis
        whose size is not 1 is an error; with dim= (PyTorch) such an axis is left as it is."""
        torch_style = dim is not None
        axis, _ = _pick("squeeze", axis, dim)
        if axis is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = {_one_axis(a, self.ndim, "squeeze") for a in (axis if isinstance(axis, tuple) else (axis,))}
        bad = [a for a in sorted(axes) if self.shape[a] != 1]
        if bad and not torch_style:
            raise ShapeError(f"squeeze: axis {bad[0]} has size {self.shape[bad[0]]}, not 1 (shape {self.shape})")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes or n != 1))

    def unsqueeze(self, dim):
        """Insert an axis of size 1 at position dim (negative: counted from the end of the result)."""
        return self.expand_dims(dim, _what="unsqueeze")

    def expand_dims(self, axis, _what="expand_dims"):
        """NumPy's expand_dims: insert axes of size 1 (axis: an int or a tuple)."""
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        ndim = self.ndim + len(axes)
        axes = {_one_axis(a, ndim, _what) for a in axes}
        sizes = iter(self.shape)
        return self.reshape(tuple(1 if i in axes else next(sizes) for i in range(ndim)))

    def flip(self, *axes, dims=None):
        """Reverse the order along the given axes (all of them when none is given, as np.flip)."""
        if dims is not None:
            axes = (dims,)
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = () if axes[0] is None else tuple(axes[0])
        chosen = {_one_axis(a, self.ndim, "flip") for a in axes} if axes else set(range(self.ndim))
        return self[tuple(slice(None, None, -1) if i in chosen else slice(None) for i in range(self.ndim))]

    def pad(self, pad_width, value=0.0):
        """Surround with a constant: pad_width as NumPy's np.pad takes it - one (before, after) pair per
        axis, one pair for every axis, or one number. (PyTorch's F.pad lists the LAST axis first:
        nn.functional.pad takes that form.)"""
        widths = np.asarray(pad_width)
        if widths.dtype.kind not in "iu" or (widths < 0).any():
            raise ArgumentError(f"pad: pad_width must hold non-negative integers, got {pad_width!r}")
        if self.ndim == 0:
            return self.clone()                         # a number has no sides to pad
        try:
            widths = np.broadcast_to(widths, (self.ndim, 2))
        except ValueError:
            raise ShapeError(f"pad: pad_width {pad_width!r} does not give a (before, after) pair for each axis of "
                             f"a tensor of shape {self.shape}") from None
        return _ops.Pad.apply(self, pad_width=tuple((int(a), int(b)) for a, b in widths), value=value)

    def tril(self, k=0, *, diagonal=None):
        """The lower triangle of the last two axes (elements above diagonal k set to 0)."""
        k = k if diagonal is None else diagonal
        keep = np.tri(*self.shape[-2:], k=k, dtype=bool)
        return _ops.Where.apply(keep, self, 0.0)

    def triu(self, k=0, *, diagonal=None):
        """The upper triangle of the last two axes (elements below diagonal k set to 0)."""
        k = k if diagonal is None else diagonal
        keep = ~np.tri(*self.shape[-2:], k=k - 1, dtype=bool)
        return _ops.Where.apply(keep, self, 0.0)

    def diag(self, k=0):
        """np.diag: of a vector, the square matrix with it on diagonal k; of a matrix, its diagonal k."""
        if self.ndim == 1:
            n = self.shape[0] + abs(k)
            rows, cols = np.arange(self.shape[0]) + max(-k, 0), np.arange(self.shape[0]) + max(k, 0)
            return _ops.ScatterAdd.apply(self, shape=(n, n), index=(rows, cols))
        if self.ndim != 2:
            raise ShapeError(f"diag: expects a vector or a matrix, got shape {self.shape}")
        n = max(min(self.shape[0] + min(k, 0), self.shape[1] - max(k, 0)), 0)
        return self[np.arange(n) + max(-k, 0), np.arange(n) + max(k, 0)]

    def trace(self):
        """Sum of the diagonal of a matrix."""
        return self.diag().sum()

    def outer(self, other):
        """Outer product of two vectors: out[i, j] = self[i] · other[j]."""
        other = other if isinstance(other, Tensor) else Tensor(other)
        return self.reshape(-1, 1) * other.reshape(1, -1)

    def tile(self, reps):
        """np.tile: repeat the whole tensor reps[i] times along axis i (= PyTorch's x.repeat(*reps))."""
        reps = _sizes(reps if isinstance(reps, (tuple, list)) else (reps,), "tile")
        x = self.reshape((1,) * (len(reps) - self.ndim) + self.shape) if len(reps) > self.ndim else self
        reps = (1,) * (x.ndim - len(reps)) + reps
        # (a, b) tiled (r, s): view as (1, a, 1, b), broadcast to (r, a, s, b), merge the pairs
        spread = x.reshape(tuple(v for n in x.shape for v in (1, n)))
        wide = spread.broadcast_to(tuple(v for r, n in zip(reps, x.shape) for v in (r, n)))
        return wide.reshape(tuple(r * n for r, n in zip(reps, x.shape)))

    def repeat(self, *sizes, **numpy_style):
        """PyTorch's repeat: x.repeat(2, 1) tiles the whole tensor (np.tile). NOT ndarray.repeat,
        which repeats each element: that is repeat_interleave (np.repeat on a Tensor calls it)."""
        if numpy_style:
            raise ArgumentError("repeat: x.repeat(*sizes) is PyTorch's (it tiles); for NumPy's "
                                "element-wise x.repeat(n, axis=...) use x.repeat_interleave(n, dim=...)")
        return self.tile(_sizes(sizes, "repeat"))

    def repeat_interleave(self, repeats, dim=None):
        """Repeat each element `repeats` times (a number, or one count per element) along dim
        (None: of the flattened tensor) - NumPy's np.repeat."""
        x, dim = (self.reshape(-1), 0) if dim is None else (self, _one_axis(dim, self.ndim, "repeat_interleave"))
        if isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool):
            wide = x.expand_dims(dim + 1)
            wide = wide.broadcast_to(wide.shape[:dim + 1] + (int(repeats),) + wide.shape[dim + 2:])
            return wide.reshape(x.shape[:dim] + (-1,) + x.shape[dim + 1:])
        index = np.repeat(np.arange(x.shape[dim]), np.asarray(repeats._data if isinstance(repeats, Tensor)
                                                              else repeats))
        return x[(slice(None),) * dim + (index,)]

    def split(self, split_size_or_sections, dim=0):
        """PyTorch's split: pieces of split_size_or_sections along dim (the last one may be shorter),
        or pieces of the listed sizes. (np.split on a Tensor keeps NumPy's meaning: a number of
        equal sections, or the indices to cut at.)"""
        dim = _one_axis(dim, self.ndim, "split")
        n = self.shape[dim]
        if isinstance(split_size_or_sections, (int, np.integer)):
            size = int(split_size_or_sections)
            if size <= 0:
                raise ArgumentError(f"split: the piece size must be positive, got {size}")
            sizes = [min(size, n - start) for start in range(0, n, size)] or [0]
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise ShapeError(f"split: sizes {sizes} add up to {sum(sizes)}, axis {dim} has {n} elements")
        return self._cut(sizes, dim)

    def chunk(self, chunks, dim=0):
        """PyTorch's chunk: `chunks` pieces of equal size (the last may be smaller) along dim."""
        n = self.shape[_one_axis(dim, self.ndim, "chunk")]
        return self.split(max(-(-n // chunks), 1), dim)

    def _cut(self, sizes, dim):
        pieces, start = [], 0
        for size in sizes:
            pieces.append(self[(slice(None),) * dim + (slice(start, start + size),)])
            start += size
        return tuple(pieces)

    def __getitem__(self, index):
        """NumPy indexing: ints, slices, None, ..., bool masks and integer arrays. The gradient is
        scattered back; repeated integer indices accumulate."""
        return _ops.GetItem.apply(self, index=_ops.normalize_index(index))

    # -- softmax family and losses -------------------------------------------------------------------
    def softmax(self, axis=-1, *, dim=None):
        """eˣ / Σ eˣ along axis (default: the last; dim= is PyTorch's name)."""
        return _ops.Softmax.apply(self, axis=_axis(axis if dim is None else dim))

    def log_softmax(self, axis=-1, *, dim=None):
        """log softmax along `axis` (dim=), computed stably as x − logsumexp(x); derivative g − softmax(x) · Σg."""
        return _ops.LogSoftmax.apply(self, axis=_axis(axis if dim is None else dim))

    def logsumexp(self, axis=-1, keepdims=False, *, dim=None, keepdim=None):
        """log Σ eˣ along axis (default: the last; None: over everything)."""
        axis, keepdims = _pick("logsumexp", None if dim is not None else axis, dim, keepdims, keepdim)
        return _ops.LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def softmax_cross_entropy(self, target, reduction="mean"):
        """Cross-entropy of softmax(self) against `target`, fused and numerically stable.

        self: logits (N, C) (or (C,), or (..., C): classes on the last axis).
        target: integer class labels of shape self.shape[:-1], or probability / one-hot rows of
            the same shape as self.
        reduction: 'mean' (over the N rows), 'sum' or 'none'.
        The gradient is the documents' δ = softmax(z) − y, scaled by the reduction.
        """
        return _ops.SoftmaxCrossEntropy.apply(self, target, reduction=reduction)

    def binary_cross_entropy_with_logits(self, target, reduction="mean"):
        """Binary cross-entropy of sigmoid(self) against targets in [0, 1], computed from the logits
        so it stays finite (gradient: sigmoid(z) − y)."""
        return _ops.BCEWithLogits.apply(self, target, reduction=reduction)

    def mse(self, target, reduction="mean"):
        """Squared error (self − target)², averaged ('mean'), summed ('sum') or not ('none').
        The documents' quadratic cost ½‖a − y‖² is 0.5 * a.mse(y, 'sum'). Shapes must match exactly
        (no silent broadcasting of (N, 1) against (N,))."""
        return _ops.MSE.apply(self, target, reduction=reduction)


def _html_table(title, a, limit=8):
    """An HTML table of a 0-, 1- or 2-D array's values (4 significant digits), at most limit × limit;
    other arrays as NumPy prints them."""
    import html
    if a.ndim > 2:
        text = np.array2string(a, threshold=limit * limit, edgeitems=2)
        return f"<div><i>{title}</i><pre>{html.escape(text)}</pre></div>"
    rows = np.atleast_2d(a)
    cell = (lambda v: f"{v:.4g}") if a.dtype.kind in "fc" else str
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(v))}</td>" for v in row[:limit])
                   + ("<td>…</td>" if rows.shape[1] > limit else "") + "</tr>" for row in rows[:limit])
    more = "<tr><td>…</td></tr>" if len(rows) > limit else ""
    return f"<table><caption><i>{title}</i></caption>{body}{more}</table>"


# Imported last: these modules use Tensor.
from . import autograd as _ag        # noqa: E402
from . import function as _fn        # noqa: E402
from . import ops as _ops            # noqa: E402
from . import numpy_api as _np_api   # noqa: E402
