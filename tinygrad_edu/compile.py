"""te.compile: capture a whole training step once, then replay it as generated NumPy code.

    @te.compile
    def step(X, y):
        loss = model(X).softmax_cross_entropy(y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for epoch in range(1000):
        loss = step(X, y)       # the first call runs eagerly and records every op; later calls replay
    print(step.source)          # the step as readable NumPy: forward, backward (derived), update

Two speeds, one engine. Eager mode is the code to read and debug; a compiled step is the same
computation with the Python bookkeeping taken out. The first call (the *capture*) runs the step as
usual, with real values, while a tracer notes every op - the forward ops, the ops that backward itself
runs (its formulas from ops.py, run on Tensors, exactly as for create_graph=True), and the in-place
updates of the optimizer - into a tape. From the tape, codegen.py writes two programs: a readable one
(`step.source`, one NumPy statement per op, each backward line commented with its local rule) and a
fast one that actually runs (preallocated buffers, the cheapest NumPy call for each shape).

What a capture depends on, and is checked (guarded) on every call, as jax.jit, TinyJit and
torch.compile do: each argument's kind, shape and dtype (a new signature is captured anew, up to
`cache_size` of them); the identity of every array the step read from outside (a parameter's .data
replaced means a new capture) and whether a .grad read before it was set existed; grad mode; the
values of Python numbers the step's code reads from its globals and closure; checks that libraries
register (nn: a model's structure, train/eval). Values that may change each call without a new
capture: array arguments, float arguments (they become traced scalars), and numbers computed by
`per_step(fn)` (nn's optimizers use it for their step count and learning-rate schedule).

What cannot be captured raises TraceError at the capture, naming the line and the fix: Python that
depends on a traced value (`bool(t)`, `float(t)`, `.item()`, `.numpy()`, `.data`), in-place indexing,
create_graph inside the step, NumPy's global random functions. Under detect_anomaly() a compiled step
runs eagerly (so the anomaly is caught at its op).
"""
import builtins
import functools
import inspect
import numbers
import operator
import os
import re
import sys
import threading

import numpy as np

from . import function as _fn
from . import ops as _ops
from .errors import ArgumentError, TraceError
from .modes import modes
from .tensor import Tensor

# ---------------------------------------------------------------------------------------------------
# The tape: values and instructions


class Value:
    """One value of the tape: an array (shape and dtype known from the capture) or a scalar.

    kind: 'input' (argument `source`), 'scalar' (a float argument `source`, or made by an instruction),
          'external' (an array from outside the step, `source`, read by reference: parameters, data,
          optimizer state), 'grad' (the .grad of tensor `source` as it was before the step set it),
          'tmp' (made by an instruction)."""
    __slots__ = ("n", "kind", "shape", "dtype", "source", "name", "hint", "one")

    def __init__(self, n, kind, shape=None, dtype=None, source=None, hint=None):
        self.n, self.kind, self.shape, self.dtype, self.source, self.hint = n, kind, shape, dtype, source, hint
        self.name, self.one = None, False

    @property
    def scalar(self):
        return self.shape is None

    def __repr__(self):
        return self.name or f"v{self.n}"


class Instr:
    """One step of the tape.

    kind 'op':      out = op.forward(*ins, **opts)           (op: a Function subclass; fn: the instance)
    kind 'inplace': ins[0] = ufunc(ins[0], ins[2] · ins[1])   (ufunc None: ins[0][...] = ins[1])
    kind 'scalar':  out = fn(*ins)                            (Python arithmetic on traced scalars)
    phase: 'forward', 'backward' or 'update'; group: the forward op whose backward made it."""
    __slots__ = ("kind", "op", "fn", "ins", "opts", "out", "phase", "group")

    def __init__(self, kind, op, fn, ins, opts, out, phase, group):
        self.kind, self.op, self.fn, self.ins, self.opts, self.out = kind, op, fn, ins, opts, out
        self.phase, self.group = phase, group


_HERE = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def _engine_file(filename):
    return os.path.abspath(filename).startswith(_HERE + os.sep)


def _in_engine(frame):
    """True when `frame` runs this package's code (not the step's own)."""
    return _engine_file(frame.f_code.co_filename)


class TracedScalar(float):
    """A float argument (or per_step result) inside a capture: arithmetic on it is recorded, so the
    replay computes it from the new value; Python decisions on it (`if lr > 0.1`) are refused."""

    def __new__(cls, value, tracer, v):
        self = super().__new__(cls, value)
        self._tracer, self._value = tracer, v
        return self

    def _op(self, fn, *operands):
        """Record fn(*operands) (self among them, in the order of the expression). The engine's own
        arithmetic with it (an op's forward: an array times the number) just computes."""
        values = [_raw(o) for o in operands]
        if _in_engine(sys._getframe(2)):
            return fn(*values)
        if any(isinstance(o, np.ndarray) for o in operands):
            raise self._tracer.error("a traced number mixed with a raw NumPy array",
                                     "wrap the array in a Tensor (te.Tensor(array)) so the product is recorded")
        if any(isinstance(o, Tensor) for o in operands):
            return NotImplemented           # the Tensor's reflected operator records it
        return self._tracer.scalar_op(fn, operands, fn(*values))

    def _refuse(self, *args):
        raise self._tracer.error("a Python decision on a traced number",
                                 "compute it outside the compiled step and pass the result in")

    __add__ = lambda self, o: self._op(operator.add, self, o)
    __radd__ = lambda self, o: self._op(operator.add, o, self)
    __sub__ = lambda self, o: self._op(operator.sub, self, o)
    __rsub__ = lambda self, o: self._op(operator.sub, o, self)
    __mul__ = lambda self, o: self._op(operator.mul, self, o)
    __rmul__ = lambda self, o: self._op(operator.mul, o, self)
    __truediv__ = lambda self, o: self._op(operator.truediv, self, o)
    __rtruediv__ = lambda self, o: self._op(operator.truediv, o, self)
    __pow__ = lambda self, o: self._op(operator.pow, self, o)
    __rpow__ = lambda self, o: self._op(operator.pow, o, self)
    __neg__ = lambda self: self._op(operator.neg, self)
    __pos__ = lambda self: self
    def __float__(self):
        # NumPy asks for the number when the engine computes with it (an op's forward, an in-place
        # update): allowed there. From the step's own code, float(lr) or raw NumPy would bake it.
        if _in_engine(sys._getframe(1)):
            return float.__float__(self)
        self._refuse()

    __int__ = __index__ = __bool__ = __round__ = __trunc__ = __abs__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _refuse
    __hash__ = _refuse

    def __reduce__(self):
        self._refuse()


def _raw(x):
    """The plain float behind a TracedScalar (float() itself is refused on one)."""
    return float.__float__(x) if isinstance(x, TracedScalar) else x


def _user_line():
    """'file:line' of the innermost frame outside this package (where the user's step did it)."""
    return _fn._creation_site()


class Tracer:
    """Sees every op, in-place update and .grad change while a step is captured (function.py,
    tensor.py and autograd.py call it through modes.tracer) and writes them on a tape."""

    def __init__(self, arg_names):
        self.values, self.instrs = [], []
        self.by_tensor = {}             # id(Tensor) -> Value  (self.keep holds them alive: ids stay valid)
        self.by_array = {}              # id(ndarray) -> Value
        self.keep = []
        self.externals = []             # (tensor or None, array): arrays read by reference, guarded
        self.grads = {}                 # id(tensor) -> (tensor, Value or None): .grad when the step ends
        self.grad_reads = {}            # id(tensor) -> (tensor, was_none): .grad read before it was set
        self.guards = {}                # why -> check (registered by libraries: te.compile.guard)
        self.calls = []                 # per_step functions, in order
        self.phase, self.group = "forward", None
        self.arg_names = arg_names
        self.steps = []                 # BackwardStep records of each backward (for drawings)
        self.root = None                # the first root backward started from (for drawings)
        self.roots = ()
        self.now = {}                   # Value.n -> its array (or number) as the capture goes

    # -- values -------------------------------------------------------------------------------------
    def new_value(self, kind, shape=None, dtype=None, source=None, hint=None):
        v = Value(len(self.values), kind, shape, dtype, source, hint)
        self.values.append(v)
        return v

    def register(self, t, v):
        """`t` (a Tensor or ndarray) now stands for Value v."""
        self.keep.append(t)
        self.now[v.n] = t._data if isinstance(t, Tensor) else t
        if isinstance(t, Tensor):
            self.by_tensor[id(t)] = v
            self.keep.append(t._data)
            self.by_array[id(t._data)] = v
        else:
            self.by_array[id(t)] = v

    def value_of(self, a):
        """The Value behind an op operand, or the operand itself (a Python number: baked in)."""
        if isinstance(a, TracedScalar):
            return a._value
        if isinstance(a, Tensor):
            v = self.by_tensor.get(id(a)) or self.by_array.get(id(a._data))
            if v is not None and v.kind == "input" and id(a) not in self.by_tensor and a._requires_grad:
                raise self.error("an argument that is the data of a tensor the step also uses",
                                 "pass a copy of the array (np.array(x)), or use the tensor itself")
            if v is None:
                v = self.new_value("external", a.shape, a.dtype, a._data, hint=a.name)
                self.externals.append((a, a._data))
                self.register(a, v)
            elif id(a) not in self.by_tensor:
                self.by_tensor[id(a)] = v
                self.keep.append(a)
            return v
        if isinstance(a, np.ndarray):
            v = self.by_array.get(id(a))
            if v is None:
                v = self.new_value("external", a.shape, a.dtype, a)
                self.externals.append((None, a))
                self.register(a, v)
            return v
        if isinstance(a, (list, tuple)) and not isinstance(a, TracedScalar):
            arr = np.asarray(a)
            if arr.dtype.kind in "biuf":
                return self.value_of(arr)
        return a

    def map_options(self, options):
        def walk(o):
            if isinstance(o, tuple):
                return tuple(walk(i) for i in o)
            if isinstance(o, np.ndarray):
                return self.value_of(o)
            return o
        return {k: walk(o) for k, o in options.items()}

    def error(self, what, fix):
        return TraceError(f"te.compile: {what} at {_user_line()} cannot be captured: it would be fixed "
                          f"at its value from the first call. Fix: {fix}.")

    # -- hooks the engine calls ---------------------------------------------------------------------
    def op(self, fn, args, options, result):
        ins = [self.value_of(a) for a in args]
        out = self.new_value("tmp", result.shape, result.dtype, hint=result.name)
        self.register(result, out)
        self.instrs.append(Instr("op", type(fn), fn, ins, self.map_options(options), out, self.phase,
                                 self.group))

    def inplace(self, target, ufunc, other, alpha):
        v = self.value_of(target)
        ins = [v, self.value_of(other), self.value_of(alpha)]
        self.instrs.append(Instr("inplace", ufunc, None, ins, {}, v, self.phase, self.group))

    def scalar_op(self, fn, args, result):
        ins = [self.value_of(a) for a in args]
        out = self.new_value("scalar")
        self.now[out.n] = result
        self.instrs.append(Instr("scalar", fn, None, ins, {}, out, self.phase, self.group))
        return TracedScalar(result, self, out)

    def per_step(self, fn, result, name):
        if isinstance(result, tuple):
            return tuple(self.per_step(lambda i=i: fn()[i], r, f"{name}{i}") for i, r in enumerate(result))
        if not isinstance(result, numbers.Real) or isinstance(result, bool):
            raise self.error(f"per_step({getattr(fn, '__name__', fn)}) returned {type(result).__name__}",
                             "return a number (or a tuple of numbers)")
        out = self.new_value("scalar", hint=name)
        self.now[out.n] = result
        self.calls.append(fn)
        self.instrs.append(Instr("scalar", fn, None, [], {"call": len(self.calls) - 1}, out, self.phase,
                                 self.group))
        return TracedScalar(result, self, out)

    def new_tensor(self, t, data):
        """Tensor(data) inside the step, from a traced value: an alias of it, or a cast (dtype=)."""
        base = data._data if isinstance(data, Tensor) else data
        if not isinstance(base, np.ndarray):
            return
        v = (self.by_tensor.get(id(data)) if isinstance(data, Tensor) else None) or self.by_array.get(id(base))
        if v is None:
            return
        if t._data is not base:
            out = self.new_value("tmp", t.shape, t.dtype)
            self.instrs.append(Instr("op", _ops.Cast, None, [v], {"dtype": t.dtype}, out, self.phase, self.group))
            v = out
        self.register(t, v)

    def read(self, t, what):
        raise self.error(f"reading a tensor's values ({what})",
                         "keep values in Tensors inside the step (use Tensor ops, or return the tensor "
                         "and read it after the call)")

    def refuse(self, what, fix):
        raise self.error(what, fix)

    def read_grad(self, t):
        """t.grad is read inside the step: before the step set it, it is a replay input."""
        if id(t) in self.grads or id(t) in self.grad_reads:
            return
        self.grad_reads[id(t)] = (t, t._grad is None)
        self.keep.append(t)
        if t._grad is not None:
            v = self.new_value("grad", t._grad.shape, t._grad.dtype, t)
            self.register(t._grad, v)

    def set_grad(self, t, g):
        self.keep.append(t)
        v = None if g is None else self.value_of(g)
        if isinstance(v, Value) and v.kind == "tmp" and v.hint is None:
            v.hint = ("grad", self.value_of(t))       # name it after the tensor: dW1
        self.grads[id(t)] = (t, v)

    def begin_backward(self, roots, create_graph, trace):
        """backward starts inside the capture: returns the trace list to fill (for drawings)."""
        if create_graph:
            raise self.error("backward(create_graph=True)", "differentiate twice outside a compiled step")
        if self.root is None:
            self.root = roots[0]
        self.roots = roots
        return self.steps if trace is None else trace

    def grad_of(self, t, g, fn):
        """backward is about to run fn's local rule with g = dL/dt: name g after t, group the ops."""
        self.phase, self.group = "backward", fn
        v = self.value_of(g)
        if isinstance(v, Value) and v.kind == "tmp" and v.hint is None:
            v.hint = ("grad", self.value_of(t))
        elif isinstance(v, Value) and v.kind == "external" and any(t is r for r in self.roots) \
                and v.shape == () and np.all(v.source == 1):
            v.hint, v.one = "dL", True                # the implicit dL/dL = 1 of a scalar loss

    def backward_done(self):
        self.phase, self.group = "update", None


# ---------------------------------------------------------------------------------------------------
# Capturing a step, guarding it, replaying it


def _signature(args):
    """What a capture is specialised on, per argument: arrays by shape and dtype (and Tensors by
    requires_grad); floats are dynamic; other Python values (ints, bools, None, strings) by value."""
    key = []
    for a in args:
        kind = type(a)
        if kind is Tensor:
            key.append((a._data.shape, a._data.dtype, a._requires_grad))
        elif kind is np.ndarray:
            key.append((a.shape, a.dtype))
        elif kind is float:
            key.append(float)
        elif isinstance(a, np.floating):
            key.append((np.floating, a.dtype))
        elif a is None or isinstance(a, (bool, int, str, np.integer, np.bool_)):
            key.append((kind, a))
        elif isinstance(a, np.ndarray):
            raise ArgumentError(f"te.compile: a {kind.__name__} argument; pass a plain ndarray (np.asarray(x))")
        else:
            raise ArgumentError(f"te.compile: cannot capture an argument of type {kind.__name__}; "
                                "pass arrays, Tensors, numbers, strings or None (read other objects "
                                "from the step's closure)")
    return (tuple(key), modes.grad_enabled)


def _free_values(fn):
    """(name, value) of the globals and closure variables fn's code reads that are Python numbers,
    strings, arrays or Tensors: baked into a capture, so guarded by value (numbers, strings) or by
    identity (arrays, Tensors: `x = other_tensor` between calls means a new capture)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    found = []
    names = set(code.co_names)
    for name in names:
        if name in fn.__globals__:
            found.append((name, lambda g=fn.__globals__, n=name: g.get(n)))
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        found.append((name, lambda c=cell: c.cell_contents))
    out = []
    for name, get in found:
        try:
            value = get()
        except ValueError:                   # an empty cell
            continue
        if isinstance(value, (bool, int, float, str, np.ndarray, Tensor)):
            out.append((name, get, value))
    return out


MISS = object()          # what a capture's guard code returns when it does not apply


class Capture:
    """One captured signature of a step: its tape, guards, generated programs and replay."""

    def __init__(self, tracer, fn, args, outputs):
        self.tracer, self.fn_name = tracer, getattr(fn, "__name__", "step")
        self.values, self.instrs = tracer.values, tracer.instrs
        self.input_meta = [(a.shape, a.dtype) if isinstance(a, (Tensor, np.ndarray)) else None for a in args]
        self.outputs = outputs
        self.externals = [(t, arr) for t, arr in tracer.externals]
        self.free = _free_values(fn)
        self.grad_reads = list(tracer.grad_reads.values())
        self.guards = list(tracer.guards.items())
        self.calls = tracer.calls
        self.root, self.steps = getattr(tracer, "root", None), tracer.steps
        # .grad of persistent tensors when the step ends (tensors made inside the step are gone)
        inputs = {id(a): i for i, a in enumerate(args) if isinstance(a, Tensor)}
        self.grad_binds = []            # (tensor or input index, Value or None)
        for t, v in tracer.grads.values():
            own = tracer.by_tensor.get(id(t))
            if id(t) in inputs:
                self.grad_binds.append((inputs[id(t)], v))
            elif own is None or own.kind != "tmp":   # (tensors made inside the step are gone)
                self.grad_binds.append((t, v))
        from . import codegen
        self.program = codegen.Program(self)
        self.source = self.program.readable
        self.run = self.program.compile_fast()
        self.wrappers = [None if b is None else Tensor._make(b, None, False) for b in self.program.grad_buffers]
        self.fast = self._fast_call(args)

    def _fast_call(self, args):
        """Generated code: every guard of this capture, then the replay - fast(args) returns the step's
        result, or MISS when a guard does not hold (then the general path decides what to do)."""
        env = {"MISS": MISS, "Tensor": Tensor, "ndarray": np.ndarray, "modes": modes, "run": self.run,
               "make": Tensor._make, "wrappers": self.wrappers, "rebuild": _rebuild, "spec": self.outputs}
        lines = [f"if len(args) != {len(args)}: return MISS"]
        if args:
            lines.append(", ".join(f"a{i}" for i in range(len(args))) + (", = args" if len(args) == 1 else " = args"))
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                env[f"dt{i}"] = a._data.dtype
                lines += [f"if type(a{i}) is not Tensor or a{i}._requires_grad is not {a._requires_grad}: return MISS",
                          f"d{i} = a{i}._data",
                          f"if d{i}.shape != {a._data.shape!r} or d{i}.dtype is not dt{i}: return MISS"]
            elif isinstance(a, np.ndarray):
                env[f"dt{i}"] = a.dtype
                lines += [f"if type(a{i}) is not ndarray or a{i}.shape != {a.shape!r} or a{i}.dtype is not dt{i}: "
                          "return MISS", f"d{i} = a{i}"]
            else:
                env[f"ty{i}"], env[f"val{i}"] = type(a), a
                check = "" if isinstance(a, float) and type(a) is float else f" or a{i} != val{i}"
                lines += [f"if type(a{i}) is not ty{i}{check}: return MISS", f"d{i} = a{i}"]
        lines.append(f"if modes.grad_enabled is not {modes.grad_enabled}: return MISS")
        for k, (t, arr) in enumerate(self.externals):
            if t is not None:
                env[f"t{k}"], env[f"x{k}"] = t, arr
                lines.append(f"if t{k}._data is not x{k}: return MISS")
        for k, (t, was_none) in enumerate(self.grad_reads):
            env[f"r{k}"] = t
            lines.append(f"if (r{k}._grad is None) is not {was_none}: return MISS")
        for k, (name, get, value) in enumerate(self.free):
            env[f"get{k}"], env[f"fv{k}"], env[f"ft{k}"] = get, value, type(value)
            if isinstance(value, (np.ndarray, Tensor)):
                lines.append(f"if get{k}() is not fv{k}: return MISS")
            else:
                lines += [f"v = get{k}()", f"if type(v) is not ft{k} or v != fv{k}: return MISS"]
        for k, (why, check) in enumerate(self.guards):
            env[f"check{k}"] = check
            lines.append(f"if not check{k}(): return MISS")
        extra = [f"gi{k}._grad._data" for k, _ in enumerate(self.program.grad_inputs)]
        for k, t in enumerate(self.program.grad_inputs):
            env[f"gi{k}"] = t
        lines.append(f"outs, grads = run({', '.join([f'd{i}' for i in range(len(args))] + extra)})")
        for k, (target, v) in enumerate(self.grad_binds):
            holder = f"a{target}" if type(target) is int else f"gt{k}"
            if type(target) is not int:
                env[f"gt{k}"] = target
            if v is None:
                lines.append(f"{holder}._grad = None")
            elif self.wrappers[k] is not None:      # the step's gradient buffer, in a Tensor made once
                env[f"wrap{k}"] = self.wrappers[k]
                lines.append(f"{holder}._grad = wrap{k}")
            else:
                lines.append(f"{holder}._grad = make(grads[{k}], None, False)")
        if self.outputs[0] == "T":
            lines.append(f"return make(outs[{self.outputs[1]}].copy(), None, False)")
        else:
            lines.append("return rebuild(spec, outs)")
        source = "def fast(args):\n" + "".join(f"    {line}\n" for line in lines)
        exec(builtins.compile(source, f"<te.compile {self.fn_name} (guards)>", "exec"), env)
        self.guard_source = source
        return env["fast"]

    def guards_hold(self):
        for t, arr in self.externals:
            if t is not None and t._data is not arr:
                return "the data of a tensor the step reads was replaced (.data = ...)"
        for t, was_none in self.grad_reads:
            if (t._grad is None) != was_none:
                return "a .grad the step reads was None at the capture and is not now (or the reverse)"
        for name, get, value in self.free:
            now = get()
            if now is not value and not (type(now) is type(value) and not isinstance(now, (np.ndarray, Tensor))
                                         and now == value):
                return f"the value of {name!r}, which the step reads, changed"
        for why, check in self.guards:
            if not check():
                return why
        return None

    def replay(self, args):
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        for t in self.program.grad_inputs:
            arrays.append(t._grad._data)
        outs, grads = self.run(*arrays)
        wrappers = self.wrappers
        for k, g in enumerate(grads):                   # .grad: the step's gradient buffers, in Tensors
            target = self.grad_binds[k][0]               # made once (like PyTorch's .grad kept between
            t = args[target] if type(target) is int else target     # steps, overwritten by the next)
            if g is None:
                t._grad = None
            else:
                w = wrappers[k]
                if w is None or w._data is not g:
                    w = wrappers[k] = Tensor._make(g, None, False)
                t._grad = w
        return _rebuild(self.outputs, outs)


def _flatten(obj, tracer, found):
    """The structure of what a step returns, with each traced Tensor replaced by its Value."""
    if isinstance(obj, Tensor):
        found.append(tracer.value_of(obj))
        return ("T", len(found) - 1)
    if isinstance(obj, TracedScalar):
        found.append(obj._value)
        return ("S", len(found) - 1)
    if isinstance(obj, (list, tuple)):
        return (type(obj), [_flatten(o, tracer, found) for o in obj])
    if isinstance(obj, dict):
        return (dict, [(k, _flatten(o, tracer, found)) for k, o in obj.items()])
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return ("C", obj)
    raise tracer.error(f"returning a {type(obj).__name__}", "return Tensors, numbers, or tuples/lists/dicts of them")


def _rebuild(spec, outs):
    kind = spec[0]
    if kind == "T":
        return Tensor._make(np.array(outs[spec[1]], copy=True), None, False)   # a copy: never a buffer
    if kind == "S":
        return float(outs[spec[1]])
    if kind == "C":
        return spec[1]
    if kind is dict:
        return {k: _rebuild(s, outs) for k, s in spec[1]}
    return kind(_rebuild(s, outs) for s in spec[1])


class CompiledStep:
    """What te.compile(fn) returns: call it like fn. See the module docstring."""

    def __init__(self, fn, cache_size=8):
        if not callable(fn):
            raise ArgumentError(f"te.compile: expected a function, got {type(fn).__name__}")
        self.fn, self.cache_size = fn, cache_size
        self.lock = threading.Lock()    # a replay writes its own buffers: one call at a time
        self.captures = {}              # signature -> [Capture] (differing in their guards)
        self.misses = []                # why each capture after the first was made
        self.last = None
        functools.update_wrapper(self, fn)
        try:
            params = inspect.signature(fn).parameters.values()
            self.arg_names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            self.arg_names = []

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise ArgumentError("te.compile: pass the step's arguments by position")
        if modes.anomaly or modes.tracer is not None:
            return self.fn(*args)                       # anomaly hunting, or called from a capture
        with self.lock:
            return self._call(args)

    def _call(self, args):
        last = self.last
        if last is not None:                            # the capture used last time, if it still holds
            out = last.fast(args)
            if out is not MISS:
                return out
        key = _signature(args)
        why = None
        for cap in self.captures.get(key, ()):
            why = cap.guards_hold()
            if why is None:
                self.last = cap
                return cap.replay(args)
        if why is None:                                 # (described only when a capture is made)
            why = "first call" if not self.captures else "a new signature: " + _describe_key(key)
        return self._capture(key, args, why)

    def _capture(self, key, args, why):
        if len(self.misses) >= self.cache_size:
            raise TraceError(f"te.compile: {self.__name__} was captured {len(self.misses)} times "
                             f"(cache_size={self.cache_size}); the last reason: {why}. Earlier: "
                             + "; ".join(self.misses[-3:]) + ". Pass values that change every call as "
                             "arguments (floats and arrays are replay inputs), or make cache_size larger.")
        self.misses.append(why)
        tracer = Tracer(self.arg_names)
        wrapped = []
        for i, a in enumerate(args):
            name = self.arg_names[i] if i < len(self.arg_names) else f"arg{i}"
            if isinstance(a, (Tensor, np.ndarray)) or isinstance(a, np.floating):
                arr = a._data if isinstance(a, Tensor) else np.asarray(a)
                v = tracer.new_value("input", arr.shape, arr.dtype, i, hint=name)
                t = a if isinstance(a, Tensor) else Tensor(arr)
                tracer.register(t, v)
                wrapped.append(t)
            elif isinstance(a, float):
                v = tracer.new_value("scalar", source=i, hint=name)
                wrapped.append(TracedScalar(a, tracer, v))
            else:
                wrapped.append(a)
        saved_random = _block_numpy_random(tracer)
        prev, modes.tracer = modes.tracer, tracer
        try:
            result = self.fn(*wrapped)
            found = []
            spec = _flatten(result, tracer, found)
        finally:
            modes.tracer = prev
            _restore_numpy_random(saved_random)
        tracer.output_values = found
        cap = Capture(tracer, self.fn, args, spec)
        self.captures.setdefault(key, []).insert(0, cap)          # the newest is tried first
        self.last = cap
        return _rebuild(spec, [tracer.now[v.n] for v in found])

    # -- seeing it ----------------------------------------------------------------------------------
    def _latest(self):
        if self.last is None:
            raise TraceError("te.compile: nothing captured yet; call the step once first")
        return self.last

    @property
    def source(self):
        """The latest capture as readable NumPy (what the step computes, one statement per op)."""
        return self._latest().source

    @property
    def fast_source(self):
        """The code that actually runs: preallocated buffers, chosen kernels."""
        return self._latest().program.fast

    @property
    def tape(self):
        return self._latest().instrs

    def __str__(self):
        return self._latest().program.listing() if self.last is not None else \
            f"<compiled {self.__name__}: not captured yet>"

    def graph(self, steps=None):
        """(root, backward steps) of the latest capture, for te.draw_graph / to_dot / print_graph."""
        cap = self._latest()
        if cap.root is None:
            raise TraceError("te.compile: the captured step ran no backward; there is no graph to draw")
        return cap.root, (cap.steps if steps is None else steps)

    def reset(self):
        """Forget every capture (the next call captures again)."""
        self.captures, self.misses, self.last = {}, [], None

    def __repr__(self):
        n = sum(len(c) for c in self.captures.values())
        return f"<compiled {getattr(self, '__name__', 'step')}: {n} capture(s)>"


def _describe_key(key):
    parts = []
    for k in key[0]:
        if k is float:
            parts.append("a float")
        elif isinstance(k[0], tuple):
            parts.append(f"{k[0]} {k[1]}")
        else:
            parts.append(repr(k[1]))
    return "(" + ", ".join(parts) + ")" + ("" if key[1] else " under no_grad")


_RANDOM = ("rand", "randn", "randint", "random", "random_sample", "uniform", "normal", "choice",
           "permutation", "shuffle", "binomial", "standard_normal")


def _block_numpy_random(tracer):
    """NumPy's global random functions would be drawn once and baked in: refuse them in a capture."""
    saved = {}
    for name in _RANDOM:
        f = getattr(np.random, name, None)
        if f is None:
            continue
        saved[name] = f

        def refuse(*a, _name=name, **k):
            raise tracer.error(f"np.random.{_name}() inside the step",
                               "draw random numbers outside and pass them as an argument")
        setattr(np.random, name, refuse)
    return saved


def _restore_numpy_random(saved):
    for name, f in saved.items():
        setattr(np.random, name, f)


def compile(fn=None, *, cache_size=8):
    """Capture fn (a training step) once, replay it as generated NumPy code: `te.compile(step)` or
    `@te.compile`. See the module docstring for what is guarded, what may change, what is refused."""
    if fn is None:
        return lambda f: CompiledStep(f, cache_size)
    return CompiledStep(fn, cache_size)


def capturing():
    """True while a te.compile capture is recording (in this thread)."""
    return modes.tracer is not None


def per_step(fn, name=None):
    """fn() now - and, inside a capture, again at this point of every replay. For Python bookkeeping
    a step must redo each time (a step counter, a learning-rate schedule). Returns fn()'s number (or
    tuple of numbers); inside a capture they are traced scalars."""
    result = fn()
    if modes.tracer is None:
        return result
    return modes.tracer.per_step(fn, result, name or re.sub(r"\W", "", getattr(fn, "__name__", "s")).strip("_"))


def guard(check, why):
    """Inside a capture: re-capture whenever check() - a cheap function, true now - turns false (a
    library's state the step depends on: nn guards a model's structure and train/eval mode)."""
    if modes.tracer is not None:
        modes.tracer.guards.setdefault(why, check)
