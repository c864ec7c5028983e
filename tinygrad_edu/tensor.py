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


def _check_float(arr, what):
    if arr.dtype.kind != "f":
        raise DTypeError(f"{what}: only floating-point tensors can require grad, this one is {arr.dtype}; "
                         "convert it first, e.g. Tensor(x, dtype=np.float64)")


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
        return self._inplace(np.multiply, other, "mul_")

    def copy_(self, src):
        """Copy src's values into this tensor (broadcasting), in place."""
        return self._inplace(None, src, "copy_")

    def fill_(self, value):
        return self._inplace(None, value, "fill_")

    def zero_(self):
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
    def sum(self, axis=None, keepdims=False):
        return _ops.Sum.apply(self, axis=_axis(axis), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _ops.Mean.apply(self, axis=_axis(axis), keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        """Maximum; where several elements tie for it, the gradient is split equally among them
        (which is also what central differences measure)."""
        return _ops.Max.apply(self, axis=_axis(axis), keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        """Minimum (ties share the gradient equally, like max)."""
        return -((-self).max(axis=axis, keepdims=keepdims))

    def argmax(self, axis=None):
        """Indices of the maxima (not differentiable)."""
        return _ops.NoGrad.apply(self, fn=np.argmax, axis=axis)

    # -- elementwise -------------------------------------------------------------------------------
    def exp(self):
        return _ops.Exp.apply(self)

    def log(self):
        return _ops.Log.apply(self)

    def tanh(self):
        return _ops.Tanh.apply(self)

    def sigmoid(self):
        return _ops.Sigmoid.apply(self)

    def relu(self):
        """max(x, 0); the gradient at exactly 0 is 0 (as in PyTorch and JAX)."""
        return _ops.ReLU.apply(self)

    def abs(self):
        return _ops.Abs.apply(self)

    def sign(self):
        """−1, 0 or 1 elementwise; its gradient is 0."""
        return _ops.Sign.apply(self)

    def sqrt(self):
        return _ops.Sqrt.apply(self)

    def square(self):
        return _ops.Pow.apply(self, p=2)

    def clip(self, min=None, max=None):
        """Limit values to [min, max] (numbers, arrays or Tensors, broadcasting; the bounds are
        constants: no gradient flows to them); the gradient passes where min <= x <= max."""
        lo = min._data if isinstance(min, Tensor) else (None if min is None else _fn.as_constant(min, "clip"))
        hi = max._data if isinstance(max, Tensor) else (None if max is None else _fn.as_constant(max, "clip"))
        return _ops.Clip.apply(self, lo=lo, hi=hi)

    def astype(self, dtype):
        """Convert to another dtype: differentiable between float dtypes; a cast to an int or bool
        dtype ends the graph (such tensors cannot carry gradients, as in PyTorch)."""
        dtype = numeric_dtype(dtype, "astype")
        if dtype.kind != "f":
            return _ops.NoGrad.apply(self, fn=np.ndarray.astype, dtype=dtype)
        return _ops.Cast.apply(self, dtype=dtype)

    # -- shape -------------------------------------------------------------------------------------
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.Reshape.apply(self, shape=shape)

    def flatten(self):
        return self.reshape(-1)

    def transpose(self, *axes):
        """Permute the axes (none given, or None: reverse them), as ndarray.transpose does."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = None if axes[0] is None else tuple(axes[0])   # Transpose.backward passes None
        return _ops.Transpose.apply(self, axes=axes or None)

    @property
    def T(self):
        return _ops.Transpose.apply(self, axes=None)

    def swapaxes(self, a, b):
        axes = list(range(self._data.ndim))
        try:
            axes[a], axes[b] = axes[b], axes[a]
        except IndexError:
            raise IndexOutOfRange(f"swapaxes: axes {a}, {b} out of range for shape {self.shape}") from None
        return _ops.Transpose.apply(self, axes=tuple(axes))

    def broadcast_to(self, shape):
        return _ops.BroadcastTo.apply(self, shape=tuple(shape))

    def __getitem__(self, index):
        """NumPy indexing: ints, slices, None, ..., bool masks and integer arrays. The gradient is
        scattered back; repeated integer indices accumulate."""
        return _ops.GetItem.apply(self, index=_ops.normalize_index(index))

    # -- softmax family and losses -------------------------------------------------------------------
    def softmax(self, axis=-1):
        return _ops.Softmax.apply(self, axis=_axis(axis))

    def log_softmax(self, axis=-1):
        return _ops.LogSoftmax.apply(self, axis=_axis(axis))

    def logsumexp(self, axis=-1, keepdims=False):
        return _ops.LogSumExp.apply(self, axis=_axis(axis), keepdims=keepdims)

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
