"""check_backprop: is a hand-derived backward pass right - and if not, which mistake is it?

The five documents teach backprop by hand: a forward pass in plain NumPy, then every gradient derived
and written out. This checks a learner's pair of functions against two oracles and names the mistake:

    def forward(p, X, y):                                   # plain NumPy, returns the loss
        a1 = np.tanh(X.dot(p["W1"]) + p["b1"])
        ...
        return np.sum(-np.log(probs[range(len(X)), y])) / len(X)

    def backward(p, X, y):                                  # by hand, returns {name: gradient}
        ...
        return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    report = te.check_backprop(forward, backward, params, X, y)     # params: {name: ndarray}
    print(report)                 # per parameter: errors, worst elements, a diagnosis
    report.ok                     # True when every gradient agrees

How. The forward runs once on Tensors - the parameters require grad, the data become constant
Tensors, so `X.dot(W1)`, `np.tanh(z)` and `probs[range(N), y]` all record (numpy_api.py) - and
autodiff gives the true gradients; central differences of the plain-NumPy forward confirm them. Where
the learner's gradient differs, the checker tries explanations, each a model of one classic mistake,
and names the ones that reproduce the learner's numbers exactly:

    scaled by a constant        sum vs mean ("off by a factor of N = 200"), a sign flip, a lost ½
    transposed / swapped        dW laid out as (out, in), or W1's gradient returned as W2's
    regularisation              λW missing or extra, L1's λ·sign(w) written as λ|w| (document 002),
                                a Frobenius-norm penalty against an L1 gradient (document 002)
    activation derivative       taken at the pre-activation (1 − z² for tanh: document 003), applied
                                to the output (σ'(a)), or left out - found by re-running our own
                                backward over the recorded graph with that mistake planted in it
    stale weight                in a training step, a gradient computed with a weight that was
                                already updated (document 004) - also planted and replayed
    batch and broadcasting      a bias gradient not summed over the batch, summed over the wrong
                                axis or over everything, shapes that broadcast to (N, N)
    shape                       a gradient of another shape than its parameter

`step=` checks a training step instead of a backward (`step(params, *data) -> new params`): the
update is turned back into the gradient it used, (old − new) / lr.
`report.to_dot()` draws the forward graph with the parameters whose gradient is wrong in red, and
`report.explain()` walks the true backward pass step by step, next to the arrays of the learner's
backward that match each step.

Running the learner's functions executes their code; that is the point. Their backward is run a
second time (only when something is wrong) with ndarrays of a subclass that notes where each array
was made, to point at lines; nothing else changes for their code. This module never imports nn.
"""
import inspect
import linecache
import math
import os
import sys
import textwrap
import traceback
from dataclasses import dataclass, field

import numpy as np

from .autograd import toposort
from .functional import grad as _grad
from .errors import ArgumentError, GradcheckError, TinygradError
from .modes import no_grad
from .tensor import Tensor

__all__ = ["check_backprop", "BackpropReport", "ParamResult", "Diagnosis", "BackpropError"]


class BackpropError(GradcheckError):
    """assert_backprop_close: a hand-written gradient disagrees; the message is the whole report."""


# ---------------------------------------------------------------------------------------------------
# The report

@dataclass
class Diagnosis:
    """One named mistake that reproduces the learner's numbers (kind is a short code for tests)."""
    kind: str           # 'scaled', 'sign', 'transposed', 'swapped', 'regularisation', 'activation', ...
    message: str
    factor: float = None                 # the constant it fits, where there is one
    highlight: list = None               # tensors of the graph it points at (drawn in red)


@dataclass
class ParamResult:
    """The check of one parameter's gradient."""
    name: str
    shape: tuple
    ok: bool
    yours: np.ndarray = None             # the learner's gradient (None if missing or unusable)
    true: np.ndarray = None              # autodiff of the forward
    numeric: dict = None                 # {index: central difference} for the elements checked
    max_abs_error: float = None
    max_rel_error: float = None
    worst: list = field(default_factory=list)       # [(index, yours, true, numeric or None)]
    diagnoses: list = field(default_factory=list)   # Diagnosis, most specific first
    problem: str = None                  # why there is no comparison (missing, wrong shape, ...)


class BackpropReport:
    """What check_backprop found. Truthy when every hand-written gradient agrees.

    params: {name: ParamResult}; wrong: the names that disagree; notes: findings about the whole run
    (the two oracles, suspicious broadcasts, an inferred learning rate); error: the learner's code
    raised (then nothing was compared). str(report) is the printable report; to_dot(), draw() and
    explain() show where the mistake is."""

    def __init__(self):
        self.params = {}
        self.notes = []
        self.error = None               # (stage, exception text, hint)
        self.loss = None
        self.data_names = []
        self.mode = "backward"
        self.lr = None
        self._graph = None              # the recorded forward (_Walker), for drawings
        self._learner_arrays = []       # arrays the learner's backward made (traced run)

    @property
    def ok(self):
        return self.error is None and all(r.ok for r in self.params.values())

    def __bool__(self):
        return self.ok

    @property
    def wrong(self):
        return [name for name, r in self.params.items() if not r.ok]

    @property
    def diagnoses(self):
        """{name: [Diagnosis]} for the wrong parameters."""
        return {name: r.diagnoses for name, r in self.params.items() if not r.ok}

    def __repr__(self):
        state = "ok" if self.ok else f"wrong: {', '.join(self.wrong) or 'error'}"
        return f"<BackpropReport {state}; print() it to read it>"

    def __str__(self):
        return _format_report(self)

    def _repr_pretty_(self, p, cycle):              # IPython / Jupyter
        p.text(str(self))

    def to_dot(self, **options):
        """The forward graph as DOT text (tinygrad_edu.to_dot), the parameters whose hand gradient is
        wrong drawn in red with a note saying what is wrong, and the ops a diagnosis points at (an
        activation whose derivative is wrong) outlined in red. Options go to to_dot."""
        if self._graph is None:
            raise TinygradError("check_backprop: there is no recorded graph to draw (the forward failed)")
        return _highlighted_dot(self, options)

    def draw(self, path=None, format=None, **options):
        """Render to_dot() with Graphviz: written to `path` (format from its suffix, default svg) and
        the path returned; without a path, a graphviz.Source (shows inline in Jupyter)."""
        from .viz import GraphvizNotFound
        try:
            import graphviz
        except ImportError:
            raise GraphvizNotFound("drawing needs the graphviz Python package (pip install graphviz); "
                                   "report.to_dot() gives the DOT text without it") from None
        source = graphviz.Source(self.to_dot(**options))
        if path is None:
            return source
        fmt = format or (os.path.splitext(str(path))[1].lstrip(".") or "svg")
        if fmt == "dot":
            data = source.source.encode("utf-8")
        else:
            try:
                data = source.pipe(format=fmt)
            except graphviz.ExecutableNotFound:
                raise GraphvizNotFound("rendering needs Graphviz's dot program (e.g. apt-get install "
                                       "graphviz); report.to_dot() gives the DOT text without it") from None
        from .files import atomic_write
        atomic_write(path, lambda f: f.write(data))
        return path

    def explain(self, max_values=6):
        """The true backward pass, step by step (explain_backward's style), with each true gradient
        next to the array of the learner's backward that equals it, where one does."""
        if self._graph is None:
            raise TinygradError("check_backprop: there is no recorded graph to explain (the forward failed)")
        return _explain(self, max_values)


# ---------------------------------------------------------------------------------------------------
# check_backprop

def check_backprop(forward, backward=None, params=None, *data, step=None, lr=None, atol=1e-7, rtol=1e-5,
                   numeric=True, max_numeric=64, seed=0, trace=True):
    """Check hand-derived gradients against autodiff and central differences; diagnose mistakes.

    forward(params, *data) -> loss: the learner's forward pass in plain NumPy, params a dict
        name -> ndarray. It runs on Tensors (parameters requiring grad, data as constant Tensors) for
        the true gradients, and on plain arrays for central differences.
    backward(params, *data) -> {name: gradient}: the hand-derived gradients, run on plain arrays.
    params: {name: array}; each is copied to float64, so the learner's functions cannot change it.
    data: the other arguments of forward and backward (inputs, labels, ...).
    step(params, *data) -> {name: new value}: check one training step instead of a backward: its
        update gives the gradient it used, (old − new) / lr. lr: the step's learning rate (inferred
        from the update of a parameter that is exactly right, when not given).
    atol, rtol: an element agrees when |yours − true| <= atol + rtol·|true|.
    numeric: also compute central differences (on at most max_numeric elements per parameter, a
        fixed sample drawn with `seed`) as a second oracle.
    trace: when something is wrong, re-run the backward with arrays that note where they were made,
        to point at lines of the learner's code (report.explain, broadcasting notes).
    Returns a BackpropReport (truthy when every gradient agrees).
    """
    if not callable(forward):
        raise ArgumentError(f"check_backprop: forward must be a function, got {type(forward).__name__}")
    if (backward is None) == (step is None):
        raise ArgumentError("check_backprop: give either backward (hand-written gradients) or step= (a training "
                            "step), not " + ("neither" if backward is None else "both"))
    for what, f in (("backward", backward), ("step", step)):
        if f is not None and not callable(f):
            raise ArgumentError(f"check_backprop: {what} must be a function, got {type(f).__name__}")
    if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ArgumentError(f"check_backprop: lr must be a positive number, got {lr!r}")
    params = _as_params(params)
    report = BackpropReport()
    report.data_names = _data_names(forward, len(data))
    report.mode = "backward" if backward is not None else "step"

    # 1. The truth: autodiff of the learner's forward, run on Tensors.
    try:
        graph = _Walker.record(forward, params, data)
    except _LearnerError as e:
        report.error = e.args
        return report
    report._graph = graph
    report.loss = graph.loss_value

    # 2. The learner's gradients (or the step's update turned back into gradients).
    learner = backward if report.mode == "backward" else step
    try:
        out = _call_learner(learner, params, data, report.mode)
    except _LearnerError as e:
        report.error = e.args
        traced = _traced_run(learner, params, data, failing=True) if trace else None
        if traced is not None and traced.broadcasts:     # the usual cause of a shape error in a backward
            stage, text, hint = report.error
            report.error = (stage, text, " ".join(traced.broadcast_notes()) + (f" {hint}" if hint else ""))
        return report
    yours, problems = _read_gradients(out, params, report.mode)
    if isinstance(out, dict) and set(map(str, out)) - set(params):
        report.notes.append(f"your {report.mode} returned entries that are not parameters, ignored: "
                            f"{', '.join(sorted(set(map(str, out)) - set(params)))}")
    if report.mode == "step":
        yours, report.lr = _step_gradients(yours, params, graph.true, lr, report)

    # 3. The second oracle.
    numerics = {}
    if numeric:
        numerics = _central_differences(forward, params, data, graph, max_numeric, seed, report)

    # 4. Compare, then diagnose what disagrees.
    sizes = _batch_sizes(data, report.data_names)
    for name, value in params.items():
        report.params[name] = _compare(name, value, yours.get(name), graph.true[name], numerics.get(name),
                                       problems.get(name), atol, rtol)
    if not report.ok:
        traced = _traced_run(learner, params, data) if trace else None
        if traced is not None:
            report._learner_arrays = traced.arrays
            report.notes.extend(traced.broadcast_notes())
        _Diagnose(report, params, graph, sizes, step_mode=report.mode == "step").run()
    report.notes.extend(graph.broadcast_notes())
    return report


# ---------------------------------------------------------------------------------------------------
# Running the learner's code

class _LearnerError(Exception):
    """The learner's forward, backward or step raised: args = (stage, text, hint)."""


def _as_params(params):
    if not isinstance(params, dict) or not params:
        raise ArgumentError("check_backprop: params must be a non-empty dict name -> array, got "
                            f"{type(params).__name__}")
    out = {}
    for name, value in params.items():
        arr = value.data if isinstance(value, Tensor) else value
        try:
            arr = np.array(arr, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise ArgumentError(f"check_backprop: params[{name!r}] is not an array of numbers ({e})") from None
        if not np.isfinite(arr).all():
            raise ArgumentError(f"check_backprop: params[{name!r}] holds NaN or inf")
        out[str(name)] = arr
    return out


def _data_names(forward, n):
    """The names of forward's data arguments (X, y, ...), for messages."""
    try:
        names = [p.name for p in inspect.signature(forward).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
    except (TypeError, ValueError):
        names = []
    return [names[i] if i < len(names) else f"data[{i}]" for i in range(n)]


def _copy(obj):
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, (list, tuple)):
        return type(obj)(_copy(x) for x in obj)
    return obj


def _as_tensor_data(d):
    """Data as constant Tensors where it is a numeric array (so `X.dot(W)` and indexing record),
    also inside lists and tuples (network2's [(x, y), ...]); anything else as it is."""
    if isinstance(d, Tensor):
        return Tensor(d.data)
    if isinstance(d, np.ndarray) and d.dtype.kind in "biuf":
        return Tensor(d.copy())
    if isinstance(d, (list, tuple)):
        return type(d)(_as_tensor_data(x) for x in d)
    return d


def _learner_frame_hint(exc):
    """'file:line: code' of the innermost frame of the learner's code in exc's traceback, and a hint
    for mistakes we recognise there."""
    here = os.path.dirname(os.path.abspath(__file__))
    numpy_dir = os.path.dirname(np.__file__)
    where, code = None, ""
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.abspath(frame.filename)
        if not path.startswith(here) and not path.startswith(numpy_dir):
            where, code = f"{frame.filename}:{frame.lineno}", (frame.line or "").strip()
    hint = None
    compact = code.replace(" ", "")
    if "max(0," in compact or "amax(0," in compact:
        hint = ("np.max(0, x) is a reduction, np.max(array, axis): it takes 0 as the array and x as the "
                "axis, which fails. The elementwise rectifier is np.maximum(x, 0) (document 003's relu bug).")
    elif isinstance(exc, AttributeError) and "Tensor" in str(exc):
        hint = ("the forward runs on Tensors here: use NumPy's functions (np.tanh(z), np.sum(z, axis=1)) "
                "or the Tensor methods; ndarray-only methods and attributes are not all available.")
    elif isinstance(exc, TinygradError) and "NotDifferentiable" in type(exc).__name__:
        hint = "write this step with a function tinygrad_edu can differentiate (see the message)."
    return where, code, hint


def _learner_error(stage, exc):
    where, code, hint = _learner_frame_hint(exc)
    text = f"{type(exc).__name__}: {exc}"
    if where:
        text += f"\n    at {where}: {code}"
    return _LearnerError(stage, text, hint)


def _call_learner(f, params, data, mode):
    try:
        return f({k: v.copy() for k, v in params.items()}, *_copy(list(data)))
    except Exception as e:      # the learner's code: anything can happen, and the report says what
        raise _learner_error(mode, e) from None


def _read_gradients(out, params, mode):
    """The learner's result as {name: float64 array}, and {name: problem} for unusable entries."""
    what = "backward" if mode == "backward" else "step"
    if not isinstance(out, dict):
        raise_text = (f"{what} must return a dict name -> array (like params), got {type(out).__name__}")
        return {}, {name: raise_text for name in params}
    grads, problems = {}, {}
    for name in params:
        if name not in out:
            problems[name] = f"{what} returned no entry {name!r} (it returned {sorted(map(str, out))})"
            continue
        g = out[name]
        if g is None:
            problems[name] = f"{what} returned None for {name!r}"
            continue
        try:
            g = np.array(g.data if isinstance(g, Tensor) else g, dtype=np.float64)
        except (TypeError, ValueError) as e:
            problems[name] = f"{what} returned something that is not an array of numbers for {name!r} ({e})"
            continue
        grads[name] = g
    return grads, problems


def _step_gradients(new_values, params, true, lr, report):
    """A training step's update turned back into the gradient it used: (old − new) / lr. Without lr,
    lr is read off a parameter whose update is exactly a multiple of its true gradient."""
    if lr is None:
        best = None
        for name, new in new_values.items():
            if new.shape != params[name].shape or not np.any(true[name]):
                continue
            delta = params[name] - new
            c, resid = _fit(delta, true[name])
            if c > 0 and resid <= 1e-8 and (best is None or resid < best[2]):
                best = (name, c, resid)
        if best is None:
            report.notes.append("lr was not given and no parameter's update is exactly a multiple of its "
                                "true gradient, so it could not be inferred: the step's gradients are "
                                "taken with lr = 1 (pass lr= to check_backprop)")
            lr = 1.0
        else:
            lr = best[1]
            report.notes.append(f"learning rate inferred from the update of {best[0]}: lr = {lr:.6g}")
    grads = {}
    for name, new in new_values.items():
        grads[name] = (params[name] - new) / lr if new.shape == params[name].shape else new
    return grads, lr


# ---------------------------------------------------------------------------------------------------
# The recorded forward, and our own backward over it (where mistakes can be planted)

class _Walker:
    """The learner's forward recorded on Tensors, and reverse-mode over that graph.

    The true gradients come from the engine's backward (tinygrad_edu.grad). backprop() walks the
    same graph with our own short loop, so that one mistake can be planted in it - a different local
    derivative for an activation, another value for a weight - and its gradients compared with the
    learner's. It calls each op's backward as autograd does: op.backward(g, *saved inputs, output)."""

    def __init__(self, loss, params, data):
        self.loss = loss
        self.loss_value = float(loss.data)
        self.params = params                    # {name: Tensor}
        self.data = data                        # [Tensor or other]
        self.order = toposort([loss])           # recorded tensors, each before its inputs
        self.true = {}                          # {name: true gradient}, from the engine's backward
        self.names = {}                         # id(tensor) -> the learner's variable name
        self.replays = False                    # backprop() reproduces the engine's gradients
        self.unused = []                        # parameters the loss does not depend on
        self.activations = _find_activations(self.order)

    @classmethod
    def record(cls, forward, params, data):
        tensors = {k: Tensor(v.copy(), requires_grad=True, name=k) for k, v in params.items()}
        data_t = [_as_tensor_data(d) for d in data]
        names = _VariableNames(forward)
        try:
            with _augmented_assignment_rebinds(), names:
                loss = forward(dict(tensors), *data_t)
        except Exception as e:      # the learner's code
            raise _learner_error("forward (on Tensors)", e) from None
        if isinstance(loss, tuple) and loss and isinstance(loss[0], Tensor):
            loss = loss[0]
        if not isinstance(loss, Tensor) or loss.grad_fn is None:
            raise _LearnerError(
                "forward (on Tensors)",
                f"forward returned {type(loss).__name__} {_short(loss)}, not a recorded Tensor: the "
                "parameters do not reach the loss through operations that record.",
                "something turned a Tensor into a plain array or number: float(...), .item(), "
                "np.asarray(...), np.array(...), or ndarray.dot(tensor) (write np.dot(a, b) or "
                "tensor.dot(a) instead).")
        if loss.size != 1:
            raise _LearnerError("forward (on Tensors)",
                                f"forward must return the scalar loss; it returned shape {loss.shape}",
                                "sum or average the per-sample losses")
        walker = cls(loss, tensors, data_t)
        walker.names = names.found
        grads = _grad(loss, list(tensors.values()), retain_graph=True, allow_unused=True)
        for (name, t), g in zip(tensors.items(), grads):
            walker.true[name] = np.zeros(t.shape) if g is None else np.asarray(g.data, dtype=np.float64)
            if g is None:
                walker.unused.append(name)
        walker.replays = walker._replay_matches()
        return walker

    def _replay_matches(self):
        """Whether our own walk gives the engine's gradients: planted mistakes are only meaningful
        if replaying the graph without one reproduces the truth."""
        try:
            replayed, _ = self.backprop()
        except Exception:           # an op whose backward our walk cannot call: no planted diagnoses
            return False
        return all(_close(replayed[name], self.true[name], 1e-9) for name in self.true)

    def backprop(self, local=None, values=None, steps=None):
        """Gradients of every parameter by our own reverse walk.

        local: {id(a): (z, d)} - at activation output a, send g·d to its pre-activation z instead
            of running the ops between them (a planted local derivative d).
        values: {id(tensor): array} - use these values for those tensors inside every op's
            backward (a weight already updated when this gradient is computed).
        steps: a list that receives (tensor, op, g, [(input, contribution, summed_from)]).
        Returns ({name: gradient}, {name: [unreduced contributions]})."""
        grads = {id(self.loss): np.ones(self.loss.shape)}
        unreduced = {}
        for t in self.order:
            g = grads.pop(id(t), None)
            if g is None:
                continue
            if local and id(t) in local:
                z, d = local[id(t)]
                _accumulate(grads, unreduced, z, g * d, None)
                continue
            fn = t.grad_fn
            arrays = fn.arrays
            if values:
                arrays = [values.get(id(p), a) if isinstance(p, Tensor) else a for p, a in zip(fn.inputs, arrays)]
            out = fn.backward(g, *arrays, fn.out)
            out = out if isinstance(out, tuple) else (out,)
            record = []
            for p, gp, need in zip(fn.inputs, out, fn.needs):
                if need and gp is not None:
                    _accumulate(grads, unreduced, p, np.asarray(gp, dtype=np.float64), record)
            if steps is not None:
                steps.append((t, fn, g, record))
        result = {name: grads.get(id(t), np.zeros(t.shape)) for name, t in self.params.items()}
        return result, {name: unreduced.get(id(t), []) for name, t in self.params.items()}

    def broadcast_notes(self):
        """Ops of the forward that combined (N, 1) with (N,) or the like into (N, N): an outer product
        made by broadcasting, which is rarely what a loss means."""
        notes = []
        for t in self.order:
            shapes = [p.shape for p in t.grad_fn.inputs if isinstance(p, Tensor)]
            if len(shapes) == 2 and _outer_broadcast(shapes[0], shapes[1], t.shape):
                notes.append(f"your forward's {t.grad_fn.name} combined shapes {shapes[0]} and {shapes[1]} "
                             f"into {t.shape}: both were stretched by broadcasting (an outer product). "
                             "If one of them is a column of per-sample values, reshape the other to match.")
        return notes


class _VariableNames:
    """While the learner's forward runs: the names its functions gave to the Tensors they made
    (`a1 = np.tanh(z1)` names that tensor a1), read from each function's local variables as it
    returns, so drawings and explanations say a1 where they would say t20. The forward's own names
    win over those of the helpers it calls. Uses sys.setprofile for the duration of the call."""

    def __init__(self, forward):
        self.forward_code = getattr(forward, "__code__", None)
        self.found = {}                     # id(tensor) -> name
        self._inner = {}
        self._skip = (os.path.dirname(os.path.abspath(__file__)), os.path.dirname(np.__file__))

    def _profile(self, frame, event, arg):
        if event != "return" or os.path.abspath(frame.f_code.co_filename).startswith(self._skip):
            return
        target = self.found if frame.f_code is self.forward_code else self._inner
        for name, value in frame.f_locals.items():
            if isinstance(value, Tensor) and not name.startswith("_"):
                target.setdefault(id(value), name)

    def __enter__(self):
        self._saved = sys.getprofile()
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(self._saved)
        for key, name in self._inner.items():
            self.found.setdefault(key, name)
        return False


class _augmented_assignment_rebinds:
    """While the learner's forward runs on Tensors: `total += term` on a tensor computed by an op
    rebinds `total` to `total + term`, which is what += does for Python numbers, instead of the
    engine's refusal to change a recorded tensor in place. The documents accumulate losses this way
    (document 000: `data_loss += reg_lambda/2 * ...`). Leaves keep the engine's rules. The Tensor
    class is patched only inside this block (one check at a time)."""
    names = ("__iadd__", "__isub__", "__imul__", "__itruediv__")
    out_of_place = {"__iadd__": "__add__", "__isub__": "__sub__", "__imul__": "__mul__",
                    "__itruediv__": "__truediv__"}

    def __enter__(self):
        self.saved = {n: Tensor.__dict__[n] for n in self.names if n in Tensor.__dict__}
        for n, f in self.saved.items():
            setattr(Tensor, n, self._rebinding(f, self.out_of_place[n]))
        return self

    def __exit__(self, *exc):
        for n, f in self.saved.items():
            setattr(Tensor, n, f)
        return False

    @staticmethod
    def _rebinding(inplace, out_of_place):
        def op(self, other):
            if self.grad_fn is not None or (not self.requires_grad and isinstance(other, Tensor)
                                            and other.requires_grad):
                return getattr(self, out_of_place)(other)
            return inplace(self, other)
        return op


def _accumulate(grads, unreduced, p, gp, record):
    """Add gp to p's gradient, summed back to p's shape; returns the shape it was summed from."""
    summed = None
    if gp.shape != p.shape:
        if p.grad_fn is None:
            unreduced.setdefault(id(p), []).append(gp)
        summed = gp.shape
        gp = _sum_to(gp, p.shape)
    if record is not None:
        record.append((p, gp, summed))
    prev = grads.get(id(p))
    grads[id(p)] = gp if prev is None else prev + gp
    return summed


def _sum_to(g, shape):
    """Sum g over the axes broadcasting added or stretched, so it has `shape`."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes).reshape(shape) if axes else g.reshape(shape)


def _outer_broadcast(a, b, out):
    """True for an elementwise op whose two operands (each of size > 1) both had to be stretched by
    broadcasting to make `out`, as (N, 1) and (N,) make (N, N)."""
    try:
        if tuple(np.broadcast_shapes(a, b)) != tuple(out):
            return False                    # not elementwise (a matrix product, ...)
    except ValueError:
        return False
    if len(out) < 2 or math.prod(a) <= 1 or math.prod(b) <= 1:
        return False
    return math.prod(a) < math.prod(out) and math.prod(b) < math.prod(out)


# ---------------------------------------------------------------------------------------------------
# Activations in the recorded graph, and the mistakes one makes with their derivatives

def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))        # σ(x), without overflow


# kind -> (test that a = f(z), true local derivative, {mistake: (its local derivative, explanation)})
ACTIVATIONS = {
    "tanh": (lambda z, a: np.allclose(a, np.tanh(z), rtol=1e-9, atol=1e-12),
             lambda z, a: 1 - a * a,
             {"pre-activation": (lambda z, a: 1 - z * z,
                                 "the derivative of tanh is taken at the pre-activation: your backward uses "
                                 "1 − z² where tanh'(z) = 1 − tanh²(z) = 1 − a², with a = tanh(z) the "
                                 "layer's output. 1 − y² is the derivative written in terms of the OUTPUT y: "
                                 "give it a, not z (document 003's tan_derive bug)"),
              "output": (lambda z, a: 1 - np.tanh(a) ** 2,
                         "the derivative of tanh is evaluated at the output: your backward uses 1 − tanh²(a) "
                         "with a = tanh(z), where tanh'(z) = 1 − tanh²(z) = 1 − a²: apply tanh' to z, or "
                         "write 1 − a²"),
              "missing": (lambda z, a: np.ones_like(z),
                          "the derivative of tanh is missing: the gradient passes through the tanh "
                          "unchanged; multiply it by 1 − a² (a = tanh(z))")}),
    "sigmoid": (lambda z, a: np.allclose(a, _sigmoid(z), rtol=1e-9, atol=1e-12),
                lambda z, a: a * (1 - a),
                {"pre-activation": (lambda z, a: z * (1 - z),
                                    "the derivative of the sigmoid is taken at the pre-activation: your "
                                    "backward uses z(1 − z) where σ'(z) = σ(z)(1 − σ(z)) = a(1 − a), with "
                                    "a = σ(z) the layer's output: the form a(1 − a) needs the output, not z"),
                 "output": (lambda z, a: _sigmoid(a) * (1 - _sigmoid(a)),
                            "the derivative of the sigmoid is evaluated at the output: your backward uses "
                            "σ'(a) = σ(a)(1 − σ(a)) with a = σ(z), where σ'(z) = σ(z)(1 − σ(z)) = a(1 − a) "
                            "is needed: give σ' the pre-activation z (sigmoid_prime(z), not of the "
                            "activation)"),
                 "missing": (lambda z, a: np.ones_like(z),
                             "the derivative of the sigmoid is missing: the gradient passes through it "
                             "unchanged; multiply it by a(1 − a) (a = σ(z))")}),
    "relu": (lambda z, a: (z < 0).any() and np.allclose(a, np.maximum(z, 0), rtol=1e-12, atol=0),
             lambda z, a: (z > 0).astype(np.float64),
             {"missing": (lambda z, a: np.ones_like(z),
                          "the derivative of the relu is missing: the gradient passes through it "
                          "unchanged; multiply it by (z > 0)"),
              "output-of-derivative": (lambda z, a: a,
                                       "the relu's derivative is written as the relu itself: your backward "
                                       "multiplies by max(z, 0) where the derivative is 1 for z > 0 and 0 "
                                       "otherwise, (z > 0)")}),
}


@dataclass
class _Activation:
    kind: str
    z: Tensor               # pre-activation
    a: Tensor               # output
    number: int             # 1 for the first of its kind in the forward (nearest the input)


def _find_activations(order, depth=6):
    """Tensors a = f(z) for f in ACTIVATIONS, with z an ancestor reached through at most `depth` ops
    of one differentiable input each (so the sigmoid written as 1 / (1 + np.exp(-z)) is found too).
    A chain that passes through another activation's output is not one (1 − σ(z) is σ(−z), but the
    learner's activation is σ(z))."""
    found = []
    for a in order:
        z, between = a, []
        for _ in range(depth):
            fn = z.grad_fn
            if fn is None:
                break
            inputs = [p for p in fn.inputs if isinstance(p, Tensor) and p.requires_grad]
            if len(inputs) != 1 or inputs[0].shape != a.shape:
                break
            if z is not a:
                between.append(z)
            z = inputs[0]
            kind = next((k for k, (test, _, _) in ACTIVATIONS.items() if test(z.data, a.data)), None)
            if kind is not None:
                found.append((_Activation(kind, z, a, 0), between))
                break
    outputs = {id(act.a) for act, _ in found}
    found = [act for act, between in found if not any(id(t) in outputs for t in between)]
    found.reverse()                     # `order` lists consumers first: reversed, nearest the input first
    counts = {}
    for act in found:
        counts[act.kind] = counts.get(act.kind, 0) + 1
        act.number = counts[act.kind]
    return found


def _ordinal(n):
    return {1: "first", 2: "second", 3: "third", 4: "fourth"}.get(n, f"{n}th")


# ---------------------------------------------------------------------------------------------------
# Central differences, the second oracle

def _central_differences(forward, params, data, graph, max_numeric, seed, report):
    """{name: {index: numeric gradient}} on a fixed sample of elements; notes where it disagrees with
    autodiff. The forward runs on plain arrays (the learner's NumPy), or on Tensors if it cannot."""
    work = {k: v.copy() for k, v in params.items()}
    data_plain = _copy(list(data))
    data_tensors = graph.data

    def plain():
        return float(np.asarray(forward(work, *data_plain)))

    def on_tensors():
        with no_grad():
            out = forward({k: Tensor(v) for k, v in work.items()}, *data_tensors)
        return float(out.data)

    loss = None
    for f in (plain, on_tensors):
        try:
            value = f()
        except Exception:           # the learner's plain forward may only run on Tensors, or fail
            continue
        if abs(value - graph.loss_value) <= 1e-9 * max(1.0, abs(value)):
            loss = f
            break
    if loss is None:
        report.notes.append("central differences were skipped: the forward, run again on the same "
                            "values, did not give the same loss (is it random, e.g. dropout?)")
        return {}
    rng = np.random.default_rng(seed)
    result, worst = {}, (0.0, None)
    for name, x in work.items():
        indices = list(np.ndindex(x.shape))
        if len(indices) > max_numeric:
            pick = rng.choice(len(indices), max_numeric, replace=False)
            indices = [indices[i] for i in sorted(pick)]
        values = {}
        for idx in indices:
            saved = x[idx]
            h = 1e-6 * max(1.0, abs(saved))
            x[idx] = saved + h
            plus = loss()
            x[idx] = saved - h
            minus = loss()
            x[idx] = saved
            values[idx] = (plus - minus) / (2 * h)
        result[name] = values
        true = graph.true[name]
        scale = max(1e-8, float(np.max(np.abs(true))) if true.size else 0.0)
        for idx, v in values.items():
            diff = abs(v - true[idx])
            if diff > 1e-5 * scale + 1e-7 and diff > worst[0]:
                worst = (diff, (name, idx, v, true[idx]))
    if worst[1] is not None:
        name, idx, v, t = worst[1]
        report.notes.append(
            f"the two oracles disagree: for {name}{list(idx)} autodiff gives {t:.6g} and central differences "
            f"{v:.6g}. The forward may have a kink there (relu at 0, max with ties, abs at 0) or lose "
            "precision; the comparison uses autodiff.")
    else:
        n = sum(len(v) for v in result.values())
        report.notes.append(f"autodiff confirmed by central differences on {n} elements")
    return result


# ---------------------------------------------------------------------------------------------------
# Comparing one parameter

def _compare(name, value, yours, true, numeric, problem, atol, rtol):
    r = ParamResult(name, value.shape, ok=False, yours=yours, true=true, numeric=numeric or {})
    if problem is not None:
        r.problem = problem
        return r
    if yours.shape != value.shape:
        r.problem = f"your gradient has shape {yours.shape}, {name} has shape {value.shape}"
        return r
    with np.errstate(invalid="ignore", over="ignore"):      # NaN and inf stay NaN and inf, silently
        err = np.abs(yours - true)
        rel = err / np.maximum(np.maximum(np.abs(yours), np.abs(true)), 1e-300)
    rel[err == 0] = 0.0
    r.max_abs_error = float(np.max(err)) if err.size else 0.0
    r.max_rel_error = float(np.max(rel)) if rel.size else 0.0
    bad = ~(err <= atol + rtol * np.abs(true))
    r.ok = not bad.any()
    order = np.argsort(-np.nan_to_num(err, nan=np.inf), axis=None)[:3]
    for flat in order:
        idx = np.unravel_index(flat, value.shape) if value.ndim else ()
        idx = tuple(int(i) for i in idx)
        if not err[idx] > 0 and not np.isnan(err[idx]):
            break
        r.worst.append((idx, float(yours[idx]), float(true[idx]), r.numeric.get(idx)))
    return r


def _fit(y, x):
    """Least squares y ≈ c·x: (c, relative residual ‖y − c·x‖ / max(‖y‖, ‖c·x‖))."""
    xx = float(np.sum(x * x))
    if xx == 0:
        return 0.0, 1.0
    c = float(np.sum(x * y)) / xx
    scale = max(float(np.linalg.norm(y)), float(np.linalg.norm(c * x)), 1e-300)
    return c, float(np.linalg.norm(y - c * x)) / scale


def _close(a, b, tol=1e-6):
    """a equals b up to a relative tolerance on the whole array."""
    if a.shape != b.shape:
        return False
    scale = max(float(np.max(np.abs(a))) if a.size else 0.0, float(np.max(np.abs(b))) if b.size else 0.0)
    return bool(np.all(np.abs(a - b) <= tol * scale + 1e-12))


# ---------------------------------------------------------------------------------------------------
# Diagnosis

def _batch_sizes(data, names):
    """Candidate batch sizes N with a phrase each: the lengths (>= 2) of the data arrays' first axis."""
    sizes = {}
    for d, name in zip(data, names):
        if isinstance(d, Tensor):
            d = d.data
        if isinstance(d, np.ndarray) and d.ndim >= 1 and len(d) >= 2 and len(d) not in sizes:
            sizes[len(d)] = f"{name} has {len(d)} {'rows' if d.ndim > 1 else 'entries'}"
        elif isinstance(d, (list, tuple)) and len(d) >= 2 and len(d) not in sizes:
            sizes[len(d)] = f"{name} has {len(d)} entries"
    return sizes


def _named_factor(c, sizes):
    """A short account of the factor c, or None if c is not one of the usual suspects."""
    def near(x):
        return abs(c - x) <= 1e-6 * max(1.0, abs(x))
    if near(1):
        return None
    if near(-1):
        return ("sign", "sign flipped: your gradient is the negative of the true one, so a step along it goes "
                        "uphill (ŷ − y written as y − ŷ, or a minus sign of −log lost?)")
    also = " (or, with N = 2 samples, a sum where the loss takes the mean)" if 2 in sizes else ""
    if near(2) or near(-2):
        return ("scaled", f"off by a factor of {c:.0f}: the derivative of ½x² is x - a ½ (of ½‖a − y‖² or "
                          f"(λ/2)‖W‖²) is missing from the loss, or counted twice in the backward{also}")
    if near(0.5) or near(-0.5):
        return ("scaled", f"off by a factor of {c:g}: a ½ in your backward that the loss does not have "
                          f"(the derivative of ½x² is x){also}")
    for n, phrase in sizes.items():
        for value, sign in ((n, ""), (-n, "−")):
            if near(value):
                text = (f"off by a factor of {sign}N = {sign}{n} ({phrase}): your gradient is {sign}{n} times the "
                        f"true one. The loss takes the mean over the N samples while your backward sums over "
                        f"them: divide by N (e.g. δ = (ŷ − y) / N), or make the loss a sum")
                if sign:
                    text += ", and the sign is flipped too"
                return ("scaled", text)
            if near(1 / value):
                text = (f"off by a factor of {sign}1/N = {sign}1/{n} ({phrase}): your gradient is the true one "
                        f"divided by {sign}{n}. The loss sums over the N samples while your backward averages: "
                        "drop the / N, or make the loss a mean")
                if sign:
                    text += ", and the sign is flipped too"
                return ("scaled", text)
    return None


class _Diagnose:
    """Try the explanations of module docstring on every wrong parameter, simplest first."""

    def __init__(self, report, params, graph, sizes, step_mode):
        self.report, self.params, self.graph, self.sizes = report, params, graph, sizes
        self.tol = 1e-6
        self.step_mode = step_mode
        self._unreduced = None

    def run(self):
        wrong = [r for r in self.report.params.values() if not r.ok]
        for r in wrong:
            r.diagnoses.extend(self.per_parameter(r))
        pending = [r for r in wrong if not r.diagnoses and r.yours is not None and r.yours.shape == r.true.shape]
        if pending and not self.graph.replays:
            self.report.notes.append("the activation and stale-weight diagnoses are off: replaying this graph "
                                     "did not reproduce the engine's gradients")
        elif pending:
            for hypothesis in self.planted():
                for r in list(pending):
                    d = self.matches(hypothesis, r)
                    if d is not None:
                        r.diagnoses.append(d)
                        pending.remove(r)
                if not pending:
                    break
        for r in wrong:
            if not r.diagnoses:
                r.diagnoses.append(self.unexplained(r))

    # -- one parameter at a time -------------------------------------------------------------------
    def per_parameter(self, r):
        name, L, T = r.name, r.yours, r.true
        W = self.params[name]
        if L is None:
            return [Diagnosis("missing", r.problem)]
        if L.shape != T.shape:
            return self.shape_mistakes(r)
        if not np.isfinite(L).all():
            return [Diagnosis("nan", "your gradient holds NaN or inf (a log of 0, an exp that overflowed, "
                                     "or a division by zero in your backward?)")]
        if not L.any():
            return [Diagnosis("zero", "your gradient is all zeros: it is never computed, or overwritten")]
        if not T.any():
            return [Diagnosis("unused", f"the true gradient is zero: the loss does not depend on {name}, "
                                        "but your gradient is not")]
        c, resid = _fit(L, T)
        if resid <= self.tol:
            named = _named_factor(c, self.sizes)
            if named is not None:
                return [Diagnosis(named[0], named[1], c)]
            return [Diagnosis("scaled", f"scaled by a constant: your gradient is {c:.6g} times the true one "
                                        "(a factor in the loss that your backward does not have, or the reverse)", c)]
        if L.ndim == 2 and L.shape[0] == L.shape[1] and _close(L.T, T, self.tol):
            return [Diagnosis("transposed", f"transposed: your gradient is the true one's transpose. "
                                            f"d{name} has {name}'s layout: for z = x·W it is xᵀ·δ (in, out), "
                                            "for z = W·x it is δ·xᵀ (out, in)")]
        for other, o in self.report.params.items():
            if other != name and o.true is not None and o.true.shape == L.shape and _close(L, o.true, self.tol):
                return [Diagnosis("swapped", f"this is the true gradient of {other}: the gradients of "
                                             f"{name} and {other} are swapped or mislabelled")]
        d = self.regularisation(name, L, T, W)
        if d is not None:
            return [d]
        return []

    def shape_mistakes(self, r):
        name, L, T = r.name, r.yours, r.true
        msgs = []
        if L.ndim == T.ndim == 2 and L.shape == T.shape[::-1] and _close(L.T, T, self.tol):
            return [Diagnosis("transposed", f"transposed: your gradient has shape {L.shape}, the transpose of "
                                            f"{name}'s {T.shape}, and its transpose is right. d{name} has "
                                            f"{name}'s layout: for z = x·W it is xᵀ·δ")]
        if L.size == T.size and _close(L.reshape(T.shape), T, self.tol):
            return [Diagnosis("shape", f"the values are right but the shape is {L.shape} where {name} is "
                                       f"{T.shape}: reshape it (an update W -= lr·dW with these shapes would "
                                       "broadcast, or fail)")]
        unreduced = self.unreduced(name)
        if unreduced is not None:
            G = unreduced
            if L.shape == G.shape and _close(L, G, self.tol):
                return [Diagnosis("not-summed", f"not summed over the batch: your gradient has shape {L.shape}, "
                                                f"one row per sample, where {name} ({T.shape}) is broadcast over "
                                                "the batch; sum it over the samples: np.sum(delta, axis=0, "
                                                "keepdims=True)")]
            for axis in range(G.ndim):
                S = G.sum(axis=axis)
                if axis != 0 and L.size == S.size and _close(L.reshape(S.shape), S, self.tol):
                    return [Diagnosis("wrong-axis", f"summed over the wrong axis: your gradient (shape {L.shape}) "
                                                    f"is the per-sample gradient {G.shape} summed over axis "
                                                    f"{axis}; sum over axis 0 (the samples) to get {T.shape}")]
            if L.size == 1 and abs(float(L.reshape(())) - float(G.sum())) <= self.tol * max(1.0, abs(G.sum())):
                return [Diagnosis("summed-all", "summed over every axis: your gradient is one number, the sum "
                                                f"of all elements of the per-sample gradient {G.shape}; use "
                                                "np.sum(delta, axis=0) (keepdims=True for a (1, n) bias)")]
        for n, phrase in self.sizes.items():
            if n in L.shape and n not in T.shape:
                msgs.append(Diagnosis("broadcast", f"wrong shape {L.shape} (expected {T.shape}): it has an axis of "
                                                   f"length N = {n} ({phrase}), so a per-sample array was not "
                                                   "summed over the batch, or an (N, 1) and an (N,) array "
                                                   "broadcast to (N, N) somewhere in your backward"))
                break
        if not msgs:
            msgs.append(Diagnosis("shape", f"wrong shape: your gradient has shape {L.shape}, {name} has shape "
                                           f"{T.shape}"))
        return msgs

    def unreduced(self, name):
        """The true gradient of `name` before it was summed back over broadcast axes (a bias's (N, n)
        per-sample gradient), or None if it was never broadcast."""
        if not self.graph.replays:
            return None
        if self._unreduced is None:
            _, self._unreduced = self.graph.backprop()
        parts = self._unreduced.get(name) or []
        shapes = {p.shape for p in parts}
        if len(shapes) != 1:
            return None
        return sum(parts[1:], parts[0])

    def regularisation(self, name, L, T, W):
        D = L - T
        norm = float(np.linalg.norm(W))
        bases = [("W", W)]
        if W.size > 1:
            bases += [("sign", np.sign(W)), ("abs-sign", np.abs(W) - np.sign(W))]
            if norm > 0:
                bases.append(("frobenius", np.sign(W) - W / norm))
        for kind, B in bases:
            if not B.any():
                continue
            c, resid = _fit(D, B)
            if resid > self.tol or abs(c) * float(np.linalg.norm(B)) <= 1e-12:
                continue
            lam = self.lam_text(abs(c))
            if kind == "W":
                if c < 0:
                    text = (f"the regularisation term is missing: the true gradient has an extra {lam}·{name} "
                            f"(the gradient of ({lam}/2)‖{name}‖² in the loss); add it")
                else:
                    text = (f"an extra regularisation term {lam}·{name}: your gradient has it, the loss has no "
                            f"penalty (λ/2)‖{name}‖² with this λ (or its gradient is counted twice: the "
                            "derivative of (λ/2)‖W‖² is λW, not 2λW)")
                    if W.ndim == 1 or 1 in W.shape:
                        text += "; biases are usually not regularised"
                return Diagnosis("regularisation", text, c)
            if kind == "sign":
                if c < 0:
                    text = (f"the L1 term is missing: the true gradient has an extra {lam}·sign({name}), the "
                            f"gradient of {lam}·Σ|{name}|; add it")
                else:
                    text = (f"an extra L1 term {lam}·sign({name}): the loss has no penalty {lam}·Σ|{name}|")
                return Diagnosis("regularisation", text, c)
            if kind == "abs-sign" and c > 0:
                return Diagnosis("regularisation",
                                 f"the L1 term uses |w| where its gradient is sign(w): your gradient has "
                                 f"{lam}·|{name}| where the penalty {lam}·Σ|{name}| gives {lam}·sign({name}) "
                                 "(document 002's L1 update (1 − ηλ/n·sign(w))·w shrinks by η(λ/n)|w|; the L1 "
                                 "step is w − η(λ/n)·sign(w))", c)
            if kind == "frobenius" and c > 0:
                return Diagnosis("regularisation",
                                 f"the forward's penalty is the Frobenius norm {lam}·‖{name}‖_F (np.linalg.norm "
                                 f"of a matrix is √Σw²), whose gradient is {lam}·{name}/‖{name}‖_F, while your "
                                 f"gradient uses {lam}·sign({name}), the gradient of the L1 norm Σ|{name}|: for L1, "
                                 "the cost needs np.sum(np.abs(w)) (document 002's L1 cost)", c)
        return None

    def lam_text(self, value):
        """λ as a number, and also as λ/N when λ·N is a round number of at most 1 and λ itself does
        not look like a λ someone wrote (a penalty inside a mean: 5e-05 = 0.01/N for N = 200)."""
        def round_number(x):
            return abs(x - float(f"{x:.1g}")) <= 1e-9 * x
        text = f"{value:.6g}"
        if round_number(value) and value >= 1e-3:
            return text
        for n in self.sizes:
            scaled = value * n
            if scaled <= 1 and round_number(scaled):
                return f"{text} (= {scaled:.1g}/N, N = {n})"
        return text

    # -- planted mistakes: our backward with one mistake in it ----------------------------------------
    def planted(self):
        """Hypotheses: (label, predicted gradients, ops to highlight). Activation mistakes first (at
        every activation of a kind at once - a helper used everywhere - then one at a time), then
        stale weights in a training step."""
        acts = self.graph.activations
        by_kind = {}
        for act in acts:
            by_kind.setdefault(act.kind, []).append(act)
        for kind, group in by_kind.items():
            _, _, mistakes = ACTIVATIONS[kind]
            for mistake, (local, text) in mistakes.items():
                subsets = [group] + ([[act] for act in group] if len(group) > 1 else [])
                for subset in subsets:
                    plant = {id(act.a): (act.z, local(act.z.data, act.a.data)) for act in subset}
                    predicted, _ = self.graph.backprop(local=plant)
                    where = (f"at every {kind} ({len(subset)} in your forward)" if len(subset) > 1 else
                             f"at the {_ordinal(subset[0].number)} {kind} (output shape {subset[0].a.shape})"
                             if len(group) > 1 else "")
                    label = text + (f" - {where}" if where else "")
                    yield ("activation", label, predicted, [act.a for act in subset])
        if self.step_mode:
            right = [n for n, r in self.report.params.items() if r.ok]
            groups = [[n] for n in right] + ([right] if len(right) > 1 else [])
            for group in groups:
                values = {}
                for n in group:
                    r = self.report.params[n]
                    values[id(self.graph.params[n])] = self.params[n] - self.report.lr * r.yours
                predicted, _ = self.graph.backprop(values=values)
                names = " and ".join(group)
                text = (f"computed with {names} after {'their' if len(group) > 1 else 'its'} update: this "
                        f"gradient used the new {names} (already moved by −lr·d{group[0]}) where backprop "
                        "needs the values of the forward pass. Compute every gradient first, then update "
                        "(document 004's bug)")
                yield ("stale-weight", text, predicted, [self.graph.params[n] for n in group])

    def matches(self, hypothesis, r):
        kind, text, predicted, highlight = hypothesis
        M, L = predicted[r.name], r.yours
        if _close(M, r.true, self.tol):
            return None                                   # this mistake does not touch this parameter
        if _close(L, M, self.tol):
            return Diagnosis(kind, text, highlight=highlight)
        c, resid = _fit(L, M)
        if resid <= self.tol:
            named = _named_factor(c, self.sizes)
            if named is not None:
                return Diagnosis(kind, f"{text}; and it is {named[1]}", c, highlight)
        return None

    # -- nothing fits --------------------------------------------------------------------------------
    def unexplained(self, r):
        L, T = r.yours, r.true
        if L is None or L.shape != T.shape:
            return Diagnosis("shape", r.problem or "wrong shape")
        bad = ~np.isclose(L, T, rtol=1e-5, atol=1e-9)
        parts = [f"no single classic mistake reproduces it: {int(bad.sum())} of {bad.size} elements differ"]
        if L.ndim == 2 and bad.any():
            rows, cols = np.where(bad.any(axis=1))[0], np.where(bad.any(axis=0))[0]
            if len(rows) < L.shape[0]:
                parts.append(f"only row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))} "
                             f"(of {L.shape[0]})")
            elif len(cols) < L.shape[1]:
                parts.append(f"only column{'s' if len(cols) > 1 else ''} {', '.join(map(str, cols))} "
                             f"(of {L.shape[1]})")
        c, resid = _fit(L, T)
        if resid < 0.1 and abs(c - 1) > 1e-3:
            parts.append(f"it is roughly {c:.3g} times the true one (to {resid:.0%})")
        text = "; ".join(parts)
        return Diagnosis("unexplained", text + ". Compare your backward with report.explain(), step by step")


# ---------------------------------------------------------------------------------------------------
# The learner's backward, run again with arrays that remember where they were made

_LOG = None          # the _Trace being recorded (one at a time)


class _Traced(np.ndarray):
    """An ndarray that tells the current _Trace where each new array was made, and notices binary
    ufuncs whose two operands both had to be stretched (an (N, 1) meeting an (N,))."""

    def __array_finalize__(self, obj):
        if _LOG is not None:
            _LOG.made(self)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args = [x.view(np.ndarray) if isinstance(x, _Traced) else x for x in inputs]
        out = kwargs.get("out")
        if out:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, _Traced) else o for o in out)
        result = getattr(ufunc, method)(*args, **kwargs)
        if _LOG is not None and method == "__call__" and len(args) == 2 and isinstance(result, np.ndarray):
            a, b = (np.shape(x) for x in args)
            if _outer_broadcast(a, b, result.shape):
                _LOG.broadcast(ufunc.__name__, a, b, result.shape)
        if out:
            if _LOG is not None:
                for o in out:
                    _LOG.wrote(o)
            return out[0] if len(out) == 1 else out
        if isinstance(result, tuple):
            return tuple(r.view(_Traced) if isinstance(r, np.ndarray) else r for r in result)
        return result.view(_Traced) if isinstance(result, np.ndarray) else result


class _Trace:
    def __init__(self):
        self.arrays = []            # (array, 'file:line', code line)
        self.broadcasts = []        # (ufunc name, shape a, shape b, result shape, where, code)
        self._seen = {}             # id(array) -> its index in self.arrays
        self._skip = (os.path.dirname(os.path.abspath(__file__)), os.path.dirname(np.__file__))

    def _where(self):
        frame = sys._getframe(2)
        while frame is not None:
            path = os.path.abspath(frame.f_code.co_filename)
            if not path.startswith(self._skip):
                line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
                return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}", line
            frame = frame.f_back
        return None, ""

    def made(self, arr):
        where, code = self._where()
        if where is not None and id(arr) not in self._seen:
            self._seen[id(arr)] = len(self.arrays)
            self.arrays.append((arr, where, code))

    def wrote(self, arr):
        """arr was changed in place (delta3 /= N): its final value comes from this line."""
        i = self._seen.get(id(arr))
        if i is not None:
            where, code = self._where()
            if where is not None:
                self.arrays[i] = (self.arrays[i][0], where, code)

    def broadcast(self, name, a, b, shape):
        where, code = self._where()
        self.broadcasts.append((name, a, b, shape, where, code))

    def broadcast_notes(self):
        notes = []
        for name, a, b, shape, where, code in self.broadcasts[:3]:
            notes.append(f"your backward's {name} at {where} (`{code}`) combined shapes {a} and {b} into "
                         f"{shape}: both were stretched by broadcasting (an outer product). If one is a column "
                         "of per-sample values, reshape the other (e.g. y.reshape(-1, 1)).")
        return notes


def _traced_run(learner, params, data, failing=False):
    """Run the learner's function again on _Traced arrays; None if that fails (unless it is expected
    to fail: then what was noted until the failure)."""
    global _LOG

    def wrap(obj):
        if isinstance(obj, np.ndarray):
            return obj.copy().view(_Traced)
        if isinstance(obj, (list, tuple)):
            return type(obj)(wrap(x) for x in obj)
        return obj
    trace = _Trace()
    args = ({k: v.copy().view(_Traced) for k, v in params.items()}, *[wrap(d) for d in data])
    _LOG = trace
    try:
        learner(*args)
    except Exception:               # the traced run is only a help for the report
        if not failing:
            return None
    finally:
        _LOG = None
    trace.arrays = [(np.array(a, dtype=np.float64) if a.dtype.kind in "biuf" else None, w, c)
                    for a, w, c in trace.arrays]
    trace.arrays = [t for t in trace.arrays if t[0] is not None]
    return trace


# ---------------------------------------------------------------------------------------------------
# Text

def _short(x):
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _num(x):
    return "None" if x is None else f"{x: .6g}"


def _format_report(report):
    out = []
    if report.error is not None:
        stage, text, hint = report.error
        out.append(f"check_backprop: your {stage} raised, so nothing could be compared.")
        out.append("  " + text.replace("\n", "\n  "))
        if hint:
            out.append(f"  Hint: {hint}")
        return "\n".join(out) + "\n"
    names = list(report.params)
    what = "hand-written gradients" if report.mode == "backward" else "gradients used by your step"
    if report.ok:
        out.append(f"check_backprop: all {len(names)} {what} agree with autodiff ({', '.join(names)}).")
    else:
        wrong = report.wrong
        right = [n for n in names if n not in wrong]
        line = f"check_backprop: {len(wrong)} of {len(names)} {what} are WRONG ({', '.join(wrong)})"
        out.append(line + (f"; {', '.join(right)} agree." if right else "."))
    shapes = ", ".join(f"{n} {tuple(r.shape)}" for n, r in report.params.items())
    out.append(f"  loss {report.loss:.6g} · {shapes}")
    for note in report.notes:
        out.append(textwrap.fill(f"note: {note}", width=100, initial_indent="  ", subsequent_indent="    ",
                                 break_on_hyphens=False))
    for name, r in report.params.items():
        out.append("")
        if r.ok:
            out.append(f"{name} {tuple(r.shape)}  ok     max abs error {r.max_abs_error:.2g}")
            continue
        if r.max_abs_error is not None:
            out.append(f"{name} {tuple(r.shape)}  WRONG  max abs error {r.max_abs_error:.3g}, max rel error "
                       f"{r.max_rel_error:.3g}")
            out.append(f"    {'element':<12} {'yours':>14} {'true':>14} {'central diff.':>14}")
            for idx, y, t, n in r.worst:
                out.append(f"    {str(list(idx)):<12} {_num(y):>14} {_num(t):>14} {_num(n):>14}")
        else:
            out.append(f"{name} {tuple(r.shape)}  WRONG  {r.problem}")
        for d in r.diagnoses:
            out.append(textwrap.fill(f"diagnosis: {d.message}.", width=100, initial_indent="  ",
                                     subsequent_indent="    ", break_on_hyphens=False))
    if not report.ok:
        out.append("")
        out.append("report.explain() walks the true backward pass next to your arrays; report.to_dot() / "
                   "report.draw('graph.svg') show where in the graph.")
    return "\n".join(out) + "\n"


def _numbering(root):
    """Tensor -> breadth-first number from the root, the numbering of to_dot's node ids (t<k>)."""
    tensors, index = [root], {id(root): 0}
    i = 0
    while i < len(tensors):
        fn = tensors[i].grad_fn
        i += 1
        if fn is None:
            continue
        for p in fn.inputs:
            if isinstance(p, Tensor) and id(p) not in index:
                index[id(p)] = len(tensors)
                tensors.append(p)
    return index


def _tensor_names(report):
    """{name: Tensor} for drawings: the parameters, the data (by forward's argument names) and the
    intermediates the learner's forward named (a1, probs, ...)."""
    graph = report._graph
    names = {}
    by_id = {id(t): t for t in toposort([graph.loss])}
    for key, name in graph.names.items():
        if key in by_id and name not in names and by_id[key] is not graph.loss:
            names[name] = by_id[key]
    for t, name in zip(graph.data, report.data_names):
        if isinstance(t, Tensor):
            names[name] = t
    names.update(graph.params)
    return names


def _dot_text(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _highlighted_dot(report, options):
    from .viz import to_dot
    graph = report._graph
    names = _tensor_names(report)
    options.setdefault("title", "check_backprop: parameters with a wrong hand gradient in red "
                                "(the gradients shown are the true ones)")
    if "steps" not in options:          # the true backward's gradients on every node
        from .viz import explain_backward
        options["steps"] = explain_backward(graph.loss, accumulate=False)
    text = to_dot(graph.loss, params=names, **options)
    index = _numbering(graph.loss)
    extra = []
    for name, r in report.params.items():
        t = graph.params[name]
        if r.ok or id(t) not in index:
            continue
        k = index[id(t)]
        first = r.diagnoses[0].message.split(":")[0] if r.diagnoses else (r.problem or "")
        note = f"your d{name} is wrong:\n" + _wrap(first, 40)
        extra.append(f'\tt{k} [color="#dc2626" fillcolor="#fecaca" penwidth=3]')
        extra.append(f'\twrong_{k} [shape=note fontsize=9 label={_dot_text(note)} color="#dc2626" '
                     f'fillcolor="#fef2f2" style=filled]')
        extra.append(f'\twrong_{k} -> t{k} [style=dashed color="#dc2626" arrowhead=none]')
        for d in r.diagnoses:
            for a in d.highlight or []:
                if id(a) not in index:
                    continue
                if a.grad_fn is not None:       # the op a diagnosis points at (an activation)
                    extra.append(f'\tf{index[id(a)]} [color="#dc2626" penwidth=3]')
                else:                           # a weight used after its update
                    extra.append(f'\tt{index[id(a)]} [color="#d97706" penwidth=3 style="filled,dashed"]')
    extra = list(dict.fromkeys(extra))              # an op named by two parameters: once
    head, _, _ = text.rpartition("}")
    return head + "".join(line + "\n" for line in extra) + "}\n"


def _wrap(text, width):
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines[:6]) + ("\n…" if len(lines) > 6 else "")


def _explain(report, max_values):
    graph = report._graph
    steps = []
    graph.backprop(steps=steps)
    index = _numbering(graph.loss)
    names = {id(t): n for n, t in _tensor_names(report).items()}
    sizes = _batch_sizes(graph.data, report.data_names)
    arrays = report._learner_arrays

    def name(t):
        return names.get(id(t)) or t.name or f"t{index.get(id(t), '?')}"

    def show(a):
        a = np.asarray(a)
        if a.size <= max_values:
            return f"{a.shape} {np.array2string(a.ravel(), precision=4, separator=', ')}"
        return f"{a.shape} ‖·‖ = {np.linalg.norm(a):.4g}"

    def match(g):
        """The learner's array equal to g (or to g times a usual factor), as text."""
        for arr, where, code in arrays:
            if arr.shape == g.shape and _close(arr, g, 1e-6) and np.any(g):
                return f"= your {where}  {code}"
        for arr, where, code in arrays:
            if arr.shape == g.shape and np.any(g) and np.any(arr):
                c, resid = _fit(arr, g)
                named = _named_factor(c, sizes) if resid <= 1e-6 else None
                if named is not None:
                    return f"= your {where}  {code}   divided by {c:.6g}"
        return None

    uses = {}
    for _, _, _, contributions in steps:
        for p, _, _ in contributions:
            if p.grad_fn is None:
                uses[id(p)] = uses.get(id(p), 0) + 1
    remaining = dict(uses)
    graph_total = graph.true
    out = [f"The true backward pass of your forward (loss {graph.loss_value:.6g}), step by step."]
    if not arrays:
        out.append("(Your backward's arrays were not traced: they are shown only when something is wrong.)")
    matched = flagged = False
    for k, (t, fn, g, contributions) in enumerate(steps, 1):
        out.append("")
        out.append(f"Step {k}: {fn.name} → {name(t)}" + (f"    local derivative {fn.rule}" if fn.rule else ""))
        out.append(f"  ∂L/∂{name(t)} = {show(g)}")
        m = match(g) if arrays and np.ndim(g) > 0 else None
        if m:
            out.append(f"      {m}")
            matched = True
        elif arrays and np.ndim(g) > 0:
            if matched and not flagged:
                out.append("      ← no array of your backward equals this: the first step after one that "
                           "matched; look here")
                flagged = True
            else:
                out.append("      (no array of your backward equals this)")
        for p, gp, summed in contributions:
            if p.grad_fn is not None:
                continue
            line = f"  → to {name(p)}: {show(gp)}"
            if summed is not None:
                line += f"   (summed back from {summed})"
            out.append(line)
            remaining[id(p)] -= 1
            r = report.params.get(names.get(id(p), ""))
            if r is not None and remaining[id(p)] == 0:
                total = graph_total[r.name]
                if uses[id(p)] > 1:
                    out.append(f"      total ∂L/∂{r.name} over its {uses[id(p)]} uses: {show(total)}")
                if r.yours is not None:
                    out.append(f"      your d{r.name}: {show(r.yours)}  {'ok' if r.ok else 'WRONG'}")
    return "\n".join(out) + "\n"
