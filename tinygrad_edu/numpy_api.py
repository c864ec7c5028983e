"""NumPy's own functions on Tensors: `np.tanh(t)`, `np.sum(t, axis=1)`, `ndarray @ t` record like the
Tensor methods they stand for.

    W = Tensor(np.random.randn(2, 3), requires_grad=True)
    h = np.tanh(X.dot(W) + b)                 # X, b: Tensors or ndarrays; h is a Tensor with a grad_fn
    loss = np.sum(np.square(h)) / len(X)      # plain NumPy spelling, recorded all the same
    loss.backward()
    W.data -= 0.1 * W.grad                    # the update habit: writes into the ndarray W.data

Tensor implements NumPy's two dispatch protocols (`__array_ufunc__` for ufuncs such as np.exp and the
operators of an ndarray, `__array_function__` for functions such as np.sum and np.dot) by calling the
two functions at the end of this file. The decision, and the rules they follow:

1. A NumPy function with a differentiable Tensor spelling calls it and returns a Tensor, recorded when
   an operand requires grad. The spellings are found BY NAME when the call happens (the tables below
   map `np.absolute -> abs`, `np.concatenate -> te.concatenate or te.cat`, ...; a ufunc not listed is
   looked up under its own name, so np.sin finds Tensor.sin). An op added to Tensor or to tinygrad_edu
   later starts working here without editing this file.
2. Functions whose derivative is zero wherever it exists - comparisons, logical ops, np.isnan,
   np.sign, np.floor, np.argmax, np.any, ... - compute on the data and record nothing, which is their
   true derivative. A ufunc among them gives a constant Tensor (`ndarray > t` is a bool Tensor, like
   `t < ndarray`); other functions give NumPy's own result (np.any(t) is a NumPy bool).
3. Anything else - a function we have no spelling for (yet), or an option we cannot follow (dtype=,
   where=, ...) - is "not differentiable here": if an operand requires grad while gradients are being
   recorded, it raises NotDifferentiableError naming the function (and the Tensor method to use, if
   there is one), because computing it on the data would silently drop the graph. With nothing to
   record (no operand requires grad, or inside no_grad()), it computes on the data and returns NumPy's
   own result.
4. `out=` writes into what it names. An ndarray (`p.data -= lr * p.grad`, `p.data += -lr * p.grad`):
   NumPy on the data, written into the array - refused like rule 3 if an operand requires grad while
   recording, since a plain array cannot carry a graph. A Tensor: computed on the data and written
   with the Tensor's own in-place rules (`copy_`: refused on tensors that take part in a graph).

Not covered, because NumPy does not ask us: `np.array(t)`, `np.asarray(t)` and `ndarray.dot(t)` convert
a Tensor to its data (through `__array__`), as `.data` does. That is why tinygrad_edu.check_backprop
turns the data as well as the parameters into Tensors: `X.dot(W1)` then calls Tensor.dot.
"""
import inspect

import numpy as np

from .errors import ShapeError, TinygradError
from .modes import is_grad_enabled
from .tensor import Tensor


class NotDifferentiableError(TinygradError, TypeError):
    """A NumPy function was applied to a Tensor that requires grad, while gradients are recorded, and
    tinygrad_edu has no differentiable spelling of it: computing it on the data would drop the graph.
    The message names the function and, where there is one, the Tensor method to use."""


class _NoSpelling(Exception):
    """Raised by an adapter below when no differentiable spelling fits this call (the reason says why)."""


class _Constant(Exception):
    """Raised by an adapter for a call that has no derivative (np.where with one argument)."""


# ---------------------------------------------------------------------------------------------------
# Finding a spelling by name, when the call happens

def _package():
    import tinygrad_edu                       # already imported: this module is part of it
    return tinygrad_edu


def _tensor(x):
    """The receiver of a method spelling: a Tensor as it is, anything else as a constant Tensor."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _spelling(spellings, receiver=None):
    """The first of `spellings` that exists now: 'te.name' is a function of tinygrad_edu, any other
    name a method of `receiver` (a Tensor). None if none exists."""
    for s in spellings:
        if s.startswith("te."):
            f = getattr(_package(), s[3:], None)
        else:
            f = None if receiver is None else getattr(receiver, s, None)
        if callable(f):
            return f
    return None


def _call(spellings, receiver, *args, **kwargs):
    f = _spelling(spellings, receiver)
    if f is None:
        names = " or ".join(s if s.startswith("te.") else f"Tensor.{s}" for s in spellings)
        raise _NoSpelling(f"this version has no {names}")
    result = f(*args, **kwargs)
    if result is NotImplemented:
        raise _NoSpelling("the Tensor operator refused these operands")
    return result


# ---------------------------------------------------------------------------------------------------
# Helpers: operands, data, the fallback of rule 3

def _tensors(obj):
    """Every Tensor inside obj (nested lists, tuples and dicts)."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            yield from _tensors(x)
    elif isinstance(obj, dict):
        for x in obj.values():
            yield from _tensors(x)


def _data(obj):
    """obj with every Tensor replaced by its ndarray (nested lists, tuples and dicts)."""
    if isinstance(obj, Tensor):
        return obj._data
    if isinstance(obj, (list, tuple)):
        return type(obj)(_data(x) for x in obj)
    if isinstance(obj, dict):
        return {k: _data(v) for k, v in obj.items()}
    return obj


def _would_drop_graph(operands):
    return is_grad_enabled() and any(t._requires_grad for t in _tensors(operands))


def _np_name(func):
    """'np.sum', 'np.linalg.norm', 'np.add.reduce' for messages."""
    parts = [p for p in getattr(func, "__module__", "numpy").split(".") if not p.startswith("_")]
    return ".".join(["np"] + parts[1:] + [func.__name__])


def _refuse(what, reason, hint):
    text = (f"{what} is not differentiable in tinygrad_edu ({reason}): applied to a Tensor that requires "
            "grad while gradients are recorded, it would drop the graph and no gradient would flow back "
            "through it. ")
    if hint:
        text += hint + " "
    text += "If no gradient should flow through it, apply it to `.data`, or call it inside `no_grad()`."
    return NotDifferentiableError(text)


def _constant(result):
    """A zero-derivative ufunc's result as a constant Tensor (a tuple of them for several outputs)."""
    if isinstance(result, tuple):
        return tuple(_constant(r) for r in result)
    return Tensor._make(np.asarray(result), None, False)


# ---------------------------------------------------------------------------------------------------
# Ufuncs: np.exp(t), ndarray + t, np.maximum(t, 0), np.add(a, t, out=a), np.add.reduce(t), ...

# Operators: (method when the Tensor is on the left, method when it is on the right)
_OPERATORS = {
    "add": ("__add__", "__radd__"), "subtract": ("__sub__", "__rsub__"),
    "multiply": ("__mul__", "__rmul__"), "divide": ("__truediv__", "__rtruediv__"),
    "true_divide": ("__truediv__", "__rtruediv__"), "power": ("__pow__", "__rpow__"),
    "matmul": ("__matmul__", "__rmatmul__"),
}

# Ufuncs whose Tensor method has another name (any other ufunc is looked up under its own name:
# np.exp -> Tensor.exp, np.sin -> Tensor.sin, np.maximum -> Tensor.maximum or te.maximum, ...)
_UFUNC_NAMES = {
    "negative": ("__neg__",), "positive": ("__pos__",), "absolute": ("abs",), "fabs": ("abs",),
    "arcsin": ("arcsin", "asin"), "arccos": ("arccos", "acos"), "arctan": ("arctan", "atan"),
    "arcsinh": ("arcsinh", "asinh"), "arccosh": ("arccosh", "acosh"), "arctanh": ("arctanh", "atanh"),
}

# Ufuncs whose derivative is zero wherever it exists (rule 2): computed on the data, never recorded.
_CONSTANT_UFUNCS = {
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "isnan", "isinf", "isfinite", "signbit", "sign", "floor", "ceil", "trunc", "rint", "floor_divide",
    "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift", "heaviside",
}

# What to use instead, for the messages of rule 3
_HINTS = {
    "sum": "Use t.sum(axis, keepdims) without dtype/out/initial/where.",
    "mean": "Use t.mean(axis, keepdims).", "max": "Use t.max(axis, keepdims).",
    "min": "Use t.min(axis, keepdims).", "amax": "Use t.max(axis, keepdims).",
    "amin": "Use t.min(axis, keepdims).", "average": "Use t.mean(axis), or (t * w).sum() / w.sum().",
    "exp": "Use t.exp().",
    "reciprocal": "Use 1 / t.", "cbrt": "Use t ** (1 / 3) for positive t.",
    "fmax": "Use np.maximum.", "fmin": "Use np.minimum.", "matmul": "Use t @ other.",
    "dot": "Use t @ other.", "norm": "np.linalg.norm(x) with ord=None is supported; else write the norm out.",
}


def _ufunc_call(ufunc, inputs):
    """The differentiable spelling of ufunc(*inputs) (no keyword arguments), or _NoSpelling."""
    name = ufunc.__name__
    if name == "reciprocal":
        return 1 / _tensor(inputs[0])
    spellings = _UFUNC_NAMES.get(name, (name,))
    if ufunc.nin == 1:
        return _call(spellings, _tensor(inputs[0]))
    a, b = inputs
    receiver = _tensor(a)                   # the method of the left operand (a constant if not a Tensor)
    f = _spelling(spellings + ("te." + name,), receiver)
    if f is not None:
        return f(b) if getattr(f, "__self__", None) is receiver else f(a, b)
    raise _NoSpelling(f"this version has no Tensor.{name} or te.{name}")


def _ufunc_method(ufunc, method, inputs, kwargs):
    """np.add.reduce(t, axis), np.maximum.reduce, np.minimum.reduce, np.multiply.reduce,
    np.add.accumulate, np.multiply.outer: the Tensor spellings of a ufunc's methods."""
    name = ufunc.__name__
    spelled = {("reduce", "add"): "sum", ("reduce", "maximum"): "max", ("reduce", "minimum"): "min",
               ("reduce", "multiply"): "prod", ("accumulate", "add"): "cumsum"}
    if method == "outer" and name == "multiply" and not kwargs:
        a, b = inputs
        return _tensor(a).reshape(-1, 1) * _tensor(b).reshape(1, -1)
    if (method, name) not in spelled or len(inputs) != 1 or set(kwargs) - {"axis", "keepdims"}:
        raise _NoSpelling(f"no Tensor spelling of {method} with these arguments")
    options = {"axis": kwargs.get("axis", 0)}          # a ufunc's reduce runs along axis 0 by default
    if kwargs.get("keepdims"):
        options["keepdims"] = True
    return _call((spelled[method, name],), _tensor(inputs[0]), **options)


def array_ufunc(ufunc, method, inputs, kwargs):
    """Tensor.__array_ufunc__: NumPy calls this for a ufunc with a Tensor among its operands."""
    name = ufunc.__name__
    if method == "__call__" and not kwargs:
        if name in _OPERATORS and len(inputs) == 2:        # ndarray + t, ndarray @ t, np.multiply(t, 2)
            a, b = inputs
            if isinstance(a, Tensor):
                return getattr(a, _OPERATORS[name][0])(b)
            return getattr(b, _OPERATORS[name][1])(a)
    what = f"np.{name}" + ("" if method == "__call__" else f".{method}")
    if "out" in kwargs:
        return _into_out(ufunc, method, inputs, kwargs, what)
    if method == "__call__" and name in _CONSTANT_UFUNCS:
        return _constant(ufunc(*_data(inputs), **_data(kwargs)))
    try:
        if method != "__call__":
            return _ufunc_method(ufunc, method, inputs, kwargs)
        if kwargs:
            raise _NoSpelling(f"the option{'s' if len(kwargs) > 1 else ''} "
                              f"{', '.join(k + '=' for k in kwargs)} cannot be followed on Tensors")
        return _ufunc_call(ufunc, inputs)
    except _NoSpelling as e:
        if _would_drop_graph((inputs, kwargs)):
            raise _refuse(what, e, _HINTS.get(name)) from None
    return getattr(ufunc, method)(*_data(inputs), **_data(kwargs))


def _into_out(ufunc, method, inputs, kwargs, what):
    """Rule 4: `out=` names an ndarray (write NumPy's result into it) or a Tensor (in-place rules)."""
    outs = kwargs["out"]
    outs = outs if isinstance(outs, tuple) else (outs,)
    others = {k: v for k, v in kwargs.items() if k != "out"}
    if _would_drop_graph((inputs, others)):
        raise NotDifferentiableError(
            f"{what}(..., out=...): an operand requires grad while gradients are recorded, and writing the "
            "result into an existing array cannot record it (the graph would be dropped). Update "
            "parameters inside `no_grad()` or through `.data` with `.grad` (p.data -= lr * p.grad), or "
            "write the out-of-place form (x = x + y).")
    if not any(isinstance(o, Tensor) for o in outs):
        return getattr(ufunc, method)(*_data(inputs), out=outs, **_data(others))
    value = getattr(ufunc, method)(*_data(inputs), **_data(others))
    values = value if isinstance(value, tuple) else (value,)
    written = []
    for o, v in zip(outs, values):
        if isinstance(o, Tensor):
            o.copy_(v)                          # the Tensor's in-place checks and version stamp
        elif o is not None:
            o[...] = v
        written.append(o)
    return tuple(written) if len(written) > 1 else written[0]


# ---------------------------------------------------------------------------------------------------
# Functions: np.sum(t, axis=1), np.dot(X, t), np.concatenate([a, t]), np.where(c, t, 0), ...
#
# Each adapter receives the NumPy function and the arguments the caller gave (bound to NumPy's own
# signature, by parameter name) and calls the Tensor spelling, or raises _NoSpelling.

_FUNCTIONS = {}
_SIGNATURES = {}


def _numpy(*names):
    """Register an adapter for the NumPy functions `names` ('sum', 'linalg.norm', ...) that exist in
    the installed NumPy."""
    def register(adapter):
        for name in names:
            obj = np
            for part in name.split("."):
                obj = getattr(obj, part, None)
            if obj is not None:
                _FUNCTIONS[obj] = adapter
        return adapter
    return register


def _only(given, allowed, defaults=None):
    """Refuse arguments this adapter cannot follow: those given with a value other than None or the
    default listed in `defaults` (a dict name -> value)."""
    for k, v in given.items():
        if k in allowed or v is None or v is np._NoValue:
            continue
        d = (defaults or {}).get(k, np._NoValue)
        if not (v is d or (isinstance(v, (str, bool, int, float)) and type(v) is type(d) and v == d)):
            raise _NoSpelling(f"its argument {k}= cannot be followed on Tensors")


def _options(given, *names):
    """The keyword arguments among `names` that the caller gave (defaults stay the method's own)."""
    return {k: given[k] for k in names if k in given and given[k] is not np._NoValue}


@_numpy("sum", "mean", "max", "amax", "min", "amin", "prod", "var", "std")
def _reduction(func, given):
    _only(given, {"a", "axis", "keepdims", "ddof"}, defaults={"ddof": 0})
    name = {"amax": "max", "amin": "min"}.get(func.__name__, func.__name__)
    options = _options(given, "axis", "keepdims")
    if given.get("ddof", 0) != 0:
        options["ddof"] = given["ddof"]
    return _call((name,), _tensor(given["a"]), **options)


@_numpy("cumsum")
def _cumsum(func, given):
    _only(given, {"a", "axis"})
    a = _tensor(given["a"])
    if given.get("axis") is None:                       # NumPy runs along the flattened array
        return _call(("cumsum",), a.reshape(-1), axis=0)
    return _call(("cumsum",), a, axis=given["axis"])


@_numpy("dot")
def _dot(func, given):
    _only(given, {"a", "b"})
    return _call(("dot",), _tensor(given["a"]), given["b"])


@_numpy("outer")
def _outer(func, given):
    _only(given, {"a", "b"})
    return _tensor(given["a"]).reshape(-1, 1) * _tensor(given["b"]).reshape(1, -1)


@_numpy("tensordot")
def _tensordot(func, given):
    _only(given, {"a", "b", "axes"})
    return _call(("te.tensordot",), None, given["a"], given["b"], **_options(given, "axes"))


@_numpy("einsum")
def _einsum(func, given):
    operands = given.get("operands", ())
    _only(given, {"operands", "optimize"})             # optimize= only changes NumPy's evaluation order
    if not operands or not isinstance(operands[0], str):
        raise _NoSpelling("only the subscripts-string form np.einsum('ij,jk->ik', a, b) is supported")
    return _call(("te.einsum",), None, *operands)


@_numpy("where")
def _where(func, given):
    if "x" not in given or "y" not in given:            # np.where(condition): indices, no derivative
        raise _Constant
    return _call(("te.where",), None, given["condition"], given["x"], given["y"])


@_numpy("concatenate", "stack")
def _join(func, given):
    _only(given, {"arrays", "axis"}, defaults={"casting": "same_kind"})
    spellings = ("te.concatenate", "te.cat") if func.__name__ == "concatenate" else ("te.stack",)
    return _call(spellings, None, list(given["arrays"]), **_options(given, "axis"))


@_numpy("hstack", "vstack")
def _join_sides(func, given):
    _only(given, {"tup"}, defaults={"casting": "same_kind"})
    return _call(("te." + func.__name__,), None, list(given["tup"]))


@_numpy("split", "array_split")
def _split(func, given):
    """NumPy's meaning: a number of (equal, for np.split) sections, or the indices to cut at."""
    a = _tensor(given["ary"])
    axis = given.get("axis", 0)
    n = a.shape[axis]
    cuts = given["indices_or_sections"]
    if isinstance(cuts, (int, np.integer)):
        if func.__name__ == "split" and n % cuts:
            raise ShapeError(f"np.split: {n} elements along axis {axis} do not split into {cuts} equal sections "
                             "(np.array_split allows unequal ones)")
        size, extra = divmod(n, cuts)
        sizes = [size + 1] * extra + [size] * (cuts - extra)
    else:
        bounds = [min(max(int(c), 0), n) for c in cuts]
        sizes = [max(b - a_, 0) for a_, b in zip([0] + bounds, bounds + [n])]
    return list(_call(("split",), a, sizes, axis))


@_numpy("repeat")
def _repeat(func, given):
    """np.repeat repeats each element: Tensor.repeat_interleave (Tensor.repeat is PyTorch's tiling)."""
    return _call(("repeat_interleave",), _tensor(given["a"]), given["repeats"], given.get("axis"))


@_numpy("pad")
def _pad(func, given):
    _only(given, {"array", "pad_width", "mode", "constant_values"})
    return _call(("te.pad",), None, given["array"], given["pad_width"], **_options(given, "mode", "constant_values"))


@_numpy("diff")
def _diff(func, given):
    """x[1:] − x[:-1] along axis (n times)."""
    _only(given, {"a", "n", "axis"})
    a, axis = _tensor(given["a"]), given.get("axis", -1)
    for _ in range(given.get("n", 1)):
        ax = axis % a.ndim
        head = (slice(None),) * ax
        a = a[head + (slice(1, None),)] - a[head + (slice(None, -1),)]
    return a


@_numpy("trace")
def _trace(func, given):
    _only(given, {"a"}, defaults={"offset": 0, "axis1": 0, "axis2": 1})
    return _call(("trace",), _tensor(given["a"]))


@_numpy("transpose")
def _transpose(func, given):
    _only(given, {"a", "axes"})
    a = _tensor(given["a"])
    if given.get("axes") is None:
        return a.T
    return _call(("permute", "transpose"), a, tuple(given["axes"]))


@_numpy("swapaxes")
def _swapaxes(func, given):
    return _call(("swapaxes",), _tensor(given["a"]), given["axis1"], given["axis2"])


@_numpy("reshape")
def _reshape(func, given):
    _only(given, {"a", "shape", "newshape"}, defaults={"order": "C"})
    shape = given.get("shape", given.get("newshape"))
    return _call(("reshape",), _tensor(given["a"]), shape)


@_numpy("ravel")
def _ravel(func, given):
    _only(given, {"a"}, defaults={"order": "C"})
    return _call(("reshape",), _tensor(given["a"]), -1)


@_numpy("squeeze")
def _squeeze(func, given):
    _only(given, {"a", "axis"})
    return _call(("squeeze",), _tensor(given["a"]), **_options(given, "axis"))


@_numpy("expand_dims")
def _expand_dims(func, given):
    return _call(("expand_dims", "unsqueeze"), _tensor(given["a"]), given["axis"])


@_numpy("broadcast_to")
def _broadcast_to(func, given):
    _only(given, {"array", "shape"}, defaults={"subok": False})
    return _call(("broadcast_to",), _tensor(given["array"]), given["shape"])


@_numpy("clip")
def _clip(func, given):
    _only(given, {"a", "a_min", "a_max", "min", "max"})
    lo = given.get("a_min", given.get("min", np._NoValue))
    hi = given.get("a_max", given.get("max", np._NoValue))
    lo, hi = (None if v is np._NoValue else v for v in (lo, hi))
    return _call(("clip",), _tensor(given["a"]), lo, hi)


@_numpy("flip", "tril", "triu", "diag", "tile")
def _shape_method(func, given):
    """np.flip(m, axis), np.tril(m, k), np.triu(m, k), np.diag(v, k), np.tile(A, reps)."""
    first, *rest = given.values()
    return _call((func.__name__,), _tensor(first), *rest)


@_numpy("copy")
def _copy(func, given):
    _only(given, {"a"}, defaults={"order": "K", "subok": False})
    return _call(("clone",), _tensor(given["a"]))


@_numpy("average")
def _average(func, given):
    _only(given, {"a", "axis", "keepdims"}, defaults={"returned": False})
    return _call(("mean",), _tensor(given["a"]), **_options(given, "axis", "keepdims"))


@_numpy("linalg.norm")
def _norm(func, given):
    """The default norm (Frobenius for a matrix, Euclidean for a vector), written out: √Σx²."""
    _only(given, {"x", "axis", "keepdims"}, defaults={"keepdims": False})
    x = _tensor(given["x"])
    return (x * x).sum(**_options(given, "axis", "keepdims")).sqrt()


@_numpy("nan_to_num")
def _nan_to_num(func, given):
    """On finite values nan_to_num is the identity (derivative 1); a copy stays in the graph."""
    x = _tensor(given["x"])
    if not np.isfinite(x._data).all():
        raise _NoSpelling("it replaces NaN or inf values, which have no derivative")
    return x.clone()


# Functions whose derivative is zero wherever it exists, or that do not depend on the values (rule 2)
_CONSTANT_FUNCTIONS = set()
for _name in ("any", "all", "argmax", "argmin", "argsort", "argpartition", "argwhere", "nonzero",
              "flatnonzero", "count_nonzero", "shape", "ndim", "size", "isclose", "allclose",
              "array_equal", "array_equiv", "searchsorted", "digitize", "round", "around", "isin",
              "zeros_like", "ones_like", "empty_like", "result_type", "may_share_memory",
              "shares_memory", "iscomplexobj", "isrealobj", "isreal", "iscomplex"):
    if hasattr(np, _name):
        _CONSTANT_FUNCTIONS.add(getattr(np, _name))
del _name


def _bind(func, args, kwargs):
    """The caller's arguments by NumPy's parameter names (only those given), like
    inspect.Signature.bind but a few times cheaper; raises TypeError where the call does not fit."""
    params = _SIGNATURES.get(func)
    if params is None:
        params = _SIGNATURES[func] = [(p.name, p.kind) for p in inspect.signature(func).parameters.values()]
    given, i, var_keyword = {}, 0, False
    for name, kind in params:
        if kind is inspect.Parameter.VAR_POSITIONAL:
            given[name] = tuple(args[i:])
            i = len(args)
        elif kind is inspect.Parameter.VAR_KEYWORD:
            var_keyword = True
        elif i < len(args) and kind is not inspect.Parameter.KEYWORD_ONLY:
            given[name] = args[i]
            i += 1
    if i < len(args):
        raise TypeError(f"{func.__name__}() takes {i} positional arguments but {len(args)} were given")
    names = {name for name, _ in params}
    for k, v in kwargs.items():
        if k in given or (k not in names and not var_keyword):
            raise TypeError(f"{func.__name__}() got an unexpected or repeated argument {k!r}")
        given[k] = v
    return given


def array_function(func, types, args, kwargs):
    """Tensor.__array_function__: NumPy calls this for a function with a Tensor among its arguments."""
    if not all(issubclass(t, (Tensor, np.ndarray)) for t in types):
        return NotImplemented
    if func in _CONSTANT_FUNCTIONS:
        return func(*_data(args), **_data(kwargs))
    adapter = _FUNCTIONS.get(func)
    reason = "there is no Tensor spelling of it"
    if adapter is not None:
        try:
            return adapter(func, _bind(func, args, kwargs))
        except _Constant:
            return func(*_data(args), **_data(kwargs))
        except _NoSpelling as e:
            reason = str(e)
        except TypeError as e:                          # arguments NumPy's signature does not take
            if isinstance(e, TinygradError):
                raise
            reason = f"the arguments do not fit its signature ({e})"
    if _would_drop_graph((args, kwargs)):
        raise _refuse(_np_name(func), reason, _HINTS.get(func.__name__))
    return func(*_data(args), **_data(kwargs))
