"""Function.apply: the ONLY place where a graph edge is created.

An op (see ops.py) is a subclass of Function with two methods side by side:

    forward(self, *arrays, **options) -> ndarray     plain NumPy in, plain NumPy out
    backward(self, g, *inputs, out) -> gradients     one per input (None where not needed)

`apply` unwraps Tensors to arrays, runs forward, and - if gradients are wanted - keeps what backward
will need on the op object, which becomes the output's `grad_fn`. Nothing else records graph edges, so
this is where the modes of modes.py (no_grad, detect_anomaly, name_scope) take effect.

One logical clock ticks for every recorded op and every in-place write. An op's tick (`seq`) orders
the graph: every input was created before the op, so processing ops from the highest seq down is a
valid backward order (autograd.py does exactly that). The same clock dates in-place writes: every
in-place Tensor operation (`t += 1`, `t.add_(...)`, `t[i] = v`) stamps the *buffer* it wrote (views
share their base's stamp, as in PyTorch); backward refuses an op whose saved arrays were stamped after
it ran, instead of computing a silently wrong gradient. A NumPy array given to an op as a constant is
copied when the op keeps it for backward, so changing your array later cannot change a gradient.
Writing to `.data` with raw NumPy (`t.data[0] = 1`) bypasses the check, as it does in PyTorch.
"""
import itertools
import threading
import traceback
import weakref

import numpy as np

from .errors import AnomalyError, DTypeError, GraphError, IndexOutOfRange, ShapeError, TinygradError
from .modes import modes
from .tensor import Tensor, to_array


def _creation_site():
    """'file:line in function' of the innermost stack frame outside this package."""
    here = __file__.rsplit("/", 1)[0]
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(here):
            return f"{frame.filename}:{frame.lineno} in {frame.name}"
    return "<unknown>"


def nonfinite(a):
    """'NaN' or 'inf' if a float array holds one (NaN wins), else None."""
    a = np.asarray(a)
    if a.dtype.kind not in "fc" or np.isfinite(a).all():
        return None
    return "NaN" if np.isnan(a).any() else "inf"


def check_finite(fn, arrays, stage):
    """detect_anomaly(): raise if any float array among `arrays` holds NaN or inf."""
    for i, a in enumerate(arrays):
        if a is not None and (bad := nonfinite(a)):
            what = "output" if stage == "forward" else f"gradient for input {i}"
            raise AnomalyError(f"{fn.name} {stage} produced {bad} in its {what} (shape {np.shape(a)}); "
                               f"the op was created at {getattr(fn, 'where', '<unknown>')}")


# ---------------------------------------------------------------------------------------------
# The clock, and the in-place stamps of memory buffers (see the module docstring).

tick = itertools.count(1).__next__     # thread-safe: each call returns a new, larger number
_stamps = {}                            # id(root buffer) -> [tick of its last in-place write, weakref]
_last_write = 0                         # tick of the most recent in-place write anywhere
_stamp_lock = threading.Lock()
_purge_at = [64]                        # drop the entries of dead buffers when there are this many


def _root(arr):
    """The array that owns the memory `arr` looks at (itself, or the base of a view)."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def note_inplace(arr):
    """Record that the buffer behind `arr` was just modified in place. (No weakref callbacks: Python
    loses a Ctrl-C that arrives while one runs, so dead buffers' entries are dropped here instead.)"""
    global _last_write, _stamps
    root = _root(arr)
    with _stamp_lock:
        _last_write = now = tick()
        entry = _stamps.get(id(root))
        if entry is not None and entry[1]() is root:
            entry[0] = now
        else:                           # a new buffer (or a dead one's id, reused)
            _stamps[id(root)] = [now, weakref.ref(root)]
            if len(_stamps) >= _purge_at[0]:
                _stamps = {k: e for k, e in _stamps.items() if e[1]() is not None}
                _purge_at[0] = max(64, 2 * len(_stamps))


def version_of(arr):
    """The clock value when the buffer behind `arr` was last modified in place (0: never)."""
    entry = _stamps.get(id(root := _root(arr)))
    return entry[0] if entry is not None and entry[1]() is root else 0


# ---------------------------------------------------------------------------------------------

def describe(arrays):
    """'(2, 3) float64 and (4,) float32' - used in error messages."""
    return " and ".join(f"{a.shape} {a.dtype}" if isinstance(a, np.ndarray) else repr(a) for a in arrays)


def as_constant(value, op):
    """A non-Tensor operand of `op`: Python/NumPy numbers pass through (so a Python float never
    upcasts float32); anything else must convert to a numeric array (to_array's checks)."""
    if isinstance(value, (int, float, np.integer, np.floating, np.bool_)):
        return value
    return to_array(value, what=op)


class Function:
    """Base class of every primitive op. An instance is one node of the recorded graph: it is the
    `grad_fn` of the tensor it produced and remembers that tensor's inputs.

    Class attributes an op may set:
        rule            its local derivative as a short label, shown by drawings (`tanh: 1 − y²`)
        saves_inputs    backward reads the input values (default True)
        saves_output    backward reads the output value (default False)
        differentiable  False for ops whose result carries no gradient (comparisons, argmax)
    """
    __slots__ = ("seq", "inputs", "arrays", "out", "needs", "scope", "where")
    rule = ""
    saves_inputs = True
    saves_output = False
    differentiable = True

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, g, *inputs_and_output):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **options):
        """Run the op on Tensors/constants and return a Tensor; record the edge if grads are wanted."""
        fn = cls.__new__(cls)
        arrays, needs, constants = [], [], False
        for a in args:
            if isinstance(a, Tensor):
                arrays.append(a._data)
                needs.append(a._requires_grad)
            else:
                c = as_constant(a, fn.name)
                arrays.append(c)
                needs.append(False)
                constants = constants or type(c) is np.ndarray
        try:
            out = np.asarray(fn.forward(*arrays, **options))   # (NumPy gives scalars for 0-d results)
        except TinygradError:
            raise
        except (ValueError, TypeError, IndexError) as e:
            raise fn.error(arrays, e) from None
        if modes.anomaly:
            fn.where = _creation_site()
            check_finite(fn, (out,), "forward")
        record = modes.grad_enabled and cls.differentiable and True in needs
        if record:                              # this is the only place edges are made
            fn.seq = tick()
            fn.inputs = args
            fn.arrays = arrays                  # (a plain NumPy array it keeps is copied: the caller may change it)
            if constants and fn.saves_inputs:
                fn.arrays = [a.copy() if type(a) is np.ndarray and not isinstance(p, Tensor) else a
                             for a, p in zip(arrays, args)]
            fn.out, fn.needs, fn.scope = out, needs, modes.scope
        result = Tensor._make(out, fn if record else None, record)
        if modes.tracer is not None:
            modes.tracer.op(fn, args, options, result)
        return result

    def error(self, arrays, exc):
        """Turn a NumPy error from forward into one that names the op and its operands."""
        msg = f"{self.name}: {exc} (operands: {describe(arrays)})"
        kind = IndexOutOfRange if isinstance(exc, IndexError) else DTypeError if isinstance(exc, TypeError) \
            else ShapeError
        return kind(msg)

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
