"""Function.apply: the ONLY place where a graph edge is created.

An op (see ops.py) is a subclass of Function with two methods side by side:

    forward(self, *arrays, **options) -> ndarray     plain NumPy in, plain NumPy out
    backward(self, g, *inputs, out) -> gradients     one per input (None where not needed)

`apply` unwraps Tensors to arrays, runs forward, and - if gradients are wanted - keeps what backward
will need on the op object, which becomes the output's `grad_fn`. Nothing else in the engine records
graph edges, so `no_grad` and `detect_anomaly` live here too.

One logical clock ticks for every recorded op and every in-place write. An op's tick (`seq`) orders
the graph: every input was created before the op, so processing ops from the highest seq down is a
valid backward order (autograd.py uses exactly that). The same clock dates in-place writes: every
in-place Tensor operation (`t += 1`, `t.add_(...)`, `t[i] = v`, ...) stamps the *buffer* it wrote
(views share their base's stamp, as in PyTorch). If no write happened after an op ran (one integer
comparison), nothing it saved can have changed; otherwise backward compares the stamps of the arrays
that op saved with its seq and refuses to compute a silently wrong gradient.
Writing to `.data` with raw NumPy (`t.data[0] = 1`) bypasses the counter, as it does in PyTorch.
"""
import functools
import traceback
import weakref

import numpy as np

from .errors import AnomalyError, DTypeError, GraphError, IndexOutOfRange, ShapeError, TinygradError
from .tensor import Tensor, to_array

# ---------------------------------------------------------------------------------------------
# Modes. Plain module globals: reading one costs a dictionary lookup, which keeps apply() lean.
# (They are process-wide, not per-thread; this is a teaching library, not a server.)

_grad_enabled = True
_anomaly = False
_clock = 0            # ticks once per recorded op and once per in-place write (a logical clock)
_last_write = 0       # clock value of the most recent in-place write
_stamps = {}          # id(root buffer) -> [clock of its last in-place write, weakref to the buffer]
_scope = None         # label of the innermost active name_scope (drawings group ops by it)
_scopes_on = False    # whether callers (nn's Module.__call__) should open name scopes at all


def is_grad_enabled():
    """True when operations are being recorded for backward."""
    return _grad_enabled


def set_grad_enabled(flag):
    """Turn recording on or off; returns the previous setting (prefer the no_grad context manager)."""
    global _grad_enabled
    prev, _grad_enabled = _grad_enabled, bool(flag)
    return prev


class _Setting:
    """Base of the context managers below: set one module-level setting on entry, restore it on exit
    (so they nest). `name` is the global's name, `value()` what to set it to."""
    name = ""

    def value(self, previous):
        raise NotImplementedError

    def __enter__(self):
        self._prev = globals()[self.name]
        globals()[self.name] = self.value(self._prev)
        return self

    def __exit__(self, *exc):
        globals()[self.name] = self._prev
        return False


class _GradMode(_Setting):
    """Base of no_grad / enable_grad: a context manager that is also a decorator."""
    name = "_grad_enabled"
    mode = True

    def __new__(cls, fn=None):
        if fn is None:
            return super().__new__(cls)
        if not callable(fn):
            raise TypeError(f"{cls.__name__}() takes no arguments, or a function to decorate")

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with cls():
                return fn(*args, **kwargs)
        return wrapper

    def value(self, previous):
        return self.mode

    def __call__(self, fn):               # @no_grad() with parentheses
        return type(self)(fn)


class no_grad(_GradMode):
    """Record nothing: `with no_grad(): ...`, `@no_grad` or `@no_grad()`.
    Results of operations inside do not require grad; nothing is saved for backward."""
    mode = False


class enable_grad(_GradMode):
    """Turn recording back on inside a no_grad block."""
    mode = True


class detect_anomaly(_Setting):
    """Debug mode: raise AnomalyError at the first op whose forward or backward produces NaN/inf,
    naming the op and the line of user code that created it. Slower; for hunting bugs.

        with tinygrad_edu.detect_anomaly():
            loss = model(x).softmax_cross_entropy(y)
            loss.backward()
    """
    name = "_anomaly"

    def value(self, previous):
        return True


class name_scope(_Setting):
    """Label the ops recorded inside (nested scopes join with '/'). Drawings group ops by label;
    `nn` opens one scope per module call while record_scopes() is active.

        with record_scopes():
            with name_scope("encoder"):
                h = (x @ W).tanh()            # h.grad_fn.scope == "encoder"
    """
    name = "_scope"

    def __init__(self, label):
        self.label = str(label)

    def value(self, previous):
        return self.label if previous is None else f"{previous}/{self.label}"


class record_scopes(_Setting):
    """Ask libraries built on the engine (nn) to label their ops with name_scope while active.
    Off by default so training loops pay nothing for it."""
    name = "_scopes_on"

    def __init__(self, enabled=True):
        self.enabled = enabled

    def value(self, previous):
        return self.enabled


def scopes_recording():
    """True inside record_scopes(): callers should open name_scope()s for drawings."""
    return _scopes_on


def _creation_site():
    """'file:line in function' of the innermost stack frame outside this package."""
    here = __file__.rsplit("/", 1)[0]
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(here):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "<unknown>"


def nonfinite(a):
    """'NaN' or 'inf' if a float array holds one (NaN wins), else None."""
    if a is None:
        return None
    a = np.asarray(a)
    if a.dtype.kind not in "fc" or np.isfinite(a).all():
        return None
    return "NaN" if np.isnan(a).any() else "inf"


def check_finite(fn, arrays, stage):
    """detect_anomaly(): raise if any float array among `arrays` holds NaN or inf."""
    for i, a in enumerate(arrays):
        bad = nonfinite(a)
        if bad:
            what = "output" if stage == "forward" else f"gradient for input {i}"
            raise AnomalyError(f"{fn.name} {stage} produced {bad} in its {what} (shape {np.shape(a)}); "
                               f"the op was created at {getattr(fn, 'where', '<unknown>')}")


# ---------------------------------------------------------------------------------------------
# In-place version stamps (see the module docstring).

def _root(arr):
    """The array that owns the memory `arr` looks at (itself, or the base of a view)."""
    base = arr.base
    while isinstance(base, np.ndarray):
        arr, base = base, base.base
    return arr


def note_inplace(arr):
    """Record that the buffer behind `arr` was just modified in place."""
    global _clock, _last_write
    _clock += 1
    _last_write = _clock
    root = arr if arr.base is None else _root(arr)
    key = id(root)
    entry = _stamps.get(key)             # an entry is dropped when its buffer dies (the weakref's
    if entry is not None:                 # callback), so a live entry for id(root) is root's own
        entry[0] = _clock
    else:
        _stamps[key] = [_clock, weakref.ref(root, lambda _, key=key: _stamps.pop(key, None))]


def version_of(arr):
    """The clock value when the buffer behind `arr` was last modified in place (0: never)."""
    root = _root(arr)
    entry = _stamps.get(id(root))
    return entry[0] if entry is not None else 0


def last_write():
    """Clock value of the most recent in-place write (ops recorded after it need no check)."""
    return _last_write


# ---------------------------------------------------------------------------------------------

def describe(arrays):
    """'(2, 3) float64 and (4,) float32' - used in error messages."""
    parts = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            parts.append(f"{a.shape} {a.dtype}")
        else:
            parts.append(repr(a))
    return " and ".join(parts)


def as_constant(value, op):
    """A non-Tensor operand of `op`: Python/NumPy numeric scalars pass through (so a Python float
    never upcasts float32); anything else must convert to a numeric array (to_array's checks)."""
    if type(value) is float or type(value) is int:
        return value
    if type(value) is np.ndarray and value.dtype.kind in "biuf":
        return value
    if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
        return value
    return to_array(value, what=op)


class Function:
    """Base class of every primitive op. An instance is one node of the recorded graph: it is the
    `grad_fn` of the tensor it produced and remembers that tensor's inputs.

    Class attributes an op may set:
        rule           its local derivative as a short label, shown by drawings (`tanh: 1 − y²`)
        saves_inputs   backward reads the input values (default True)
        saves_output   backward reads the output value (default False)
    """
    __slots__ = ("seq", "inputs", "arrays", "out", "needs", "scope", "where")
    rule = ""
    saves_inputs = True
    saves_output = False

    # -- the two methods an op defines -----------------------------------------------------------
    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, g, *inputs_and_output):
        raise NotImplementedError

    # -- graph recording -------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args, **options):
        """Run the op on Tensors/constants and return a Tensor; record the edge if grads are wanted."""
        global _clock
        arrays = []                             # what forward sees: plain arrays and constants
        needs = []                              # which inputs want a gradient
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                needs.append(a._requires_grad)
            else:
                arrays.append(as_constant(a, cls.name))
                needs.append(False)
        fn = object.__new__(cls)
        try:
            out = fn.forward(*arrays, **options) if options else fn.forward(*arrays)
        except TinygradError:
            raise
        except (ValueError, TypeError, IndexError) as e:
            raise fn.error(arrays, e) from None
        if type(out) is not np.ndarray:         # NumPy returns scalars for 0-d results
            out = np.asarray(out)
        if _anomaly:
            fn.where = _creation_site()
            check_finite(fn, (out,), "forward")
        if _grad_enabled and True in needs:     # record: this is the only place edges are made
            _clock += 1
            fn.seq = _clock
            fn.inputs = args
            fn.arrays = arrays
            fn.out = out
            fn.needs = needs
            fn.scope = _scope
            return Tensor._make(out, fn, True)
        return Tensor._make(out, None, False)

    def error(self, arrays, exc):
        """Turn a NumPy error from forward into one that names the op and its operands."""
        msg = f"{self.name}: {exc} (operands: {describe(arrays)})"
        if isinstance(exc, IndexError):
            return IndexOutOfRange(msg)
        if isinstance(exc, TypeError):
            return DTypeError(msg)
        return ShapeError(msg)

    # -- presentation ----------------------------------------------------------------------------
    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"

    @property
    def released(self):
        """True once backward has freed what this op saved (backward without retain_graph)."""
        return self.arrays is None

    def release(self):
        """Free what forward saved for backward (an op that keeps more extends this)."""
        self.arrays = None
        self.out = None

    def saved_arrays(self):
        """The arrays backward will read (for the in-place check)."""
        saved = list(self.arrays) if self.saves_inputs else []
        if self.saves_output:
            saved.append(self.out)
        return [a for a in saved if isinstance(a, np.ndarray)]

    def check_not_modified(self):
        """Raise if an array this op saved was modified in place after the op ran."""
        for a in self.saved_arrays():
            if version_of(a) > self.seq:
                raise GraphError(
                    f"{self.name}: an array it saved for backward (shape {a.shape}, {a.dtype}) was "
                    "modified in place after the op ran, so its gradient would be wrong. Use an "
                    "out-of-place operation (x = x + 1 instead of x += 1), or call backward before "
                    "modifying it.")


Function.name = "function"
