"""The backward pass: one short loop over the recorded graph.

Every recorded op carries a sequence number from a clock that ticks once per op (function.py), and
every input of an op was created before it. So visiting ops from the highest sequence number down is a
valid reverse topological order: when an op is visited, every op that consumed its output has already
passed its gradient back. Backward keeps the tensors still waiting for their gradient in a heap keyed
by that number, so ordering and propagation happen in the same single pass (no recursion, no separate
sort, O(n log w) for a graph of n ops and width w - linear for chains).

    1. Give the root its gradient (1 for a scalar loss).
    2. Pop the pending tensor with the highest sequence number; its gradient is now complete.
    3. Ask its op for the gradient of each input (op.backward), reduce each one to the input's shape
       and dtype (the one place broadcasting is undone), and add it to what that input has so far.
       Leaves keep their sum in .grad; intermediate tensors pass it on and forget it.

Backward is all or nothing: it computes every gradient first and changes nothing until all of them
exist; then it stores them with Ctrl-C held back, so an error or an interrupt never leaves some .grad
updated and others not. With create_graph=True the same walk runs on Tensors instead of arrays, so the
backward computation is itself recorded (and can be differentiated again).
"""
import _signal          # the C module behind `signal`: the same calls, without its enum conversions
import heapq
import threading
from dataclasses import dataclass, field

import numpy as np

from . import function as _fn
from .errors import DTypeError, GraphError, ShapeError
from .modes import modes, set_grad_enabled
from .tensor import Tensor, to_array

SIGINT = _signal.SIGINT
_MAIN = threading.main_thread().ident


def reduce_to(g, shape):
    """Sum a gradient over the axes that broadcasting added or stretched, so it has `shape`.
    This is the one place in the engine where broadcasting is undone."""
    if g.shape == shape:
        return g
    lead = len(g.shape) - len(shape)
    if lead < 0 or any(n != 1 and n != g.shape[lead + i] for i, n in enumerate(shape)):
        raise GraphError(f"internal: a gradient of shape {g.shape} cannot be reduced to shape {shape}")
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=tuple(range(lead)) + stretched).reshape(shape)


def toposort(roots):
    """Recorded tensors reachable from `roots`, in the order backward visits them: each one before
    the tensors it was computed from (highest op sequence number first)."""
    found, stack = {}, [r for r in roots if r._ctx is not None]
    while stack:
        t = stack.pop()
        if id(t) not in found:
            found[id(t)] = t
            stack.extend(p for p in t._ctx.inputs if isinstance(p, Tensor) and p._ctx is not None)
    return sorted(found.values(), key=lambda t: t._ctx.seq, reverse=True)


@dataclass
class Contribution:
    """What one op passed to one of its inputs during backward (for explain_backward and drawings)."""
    tensor: Tensor
    grad: np.ndarray                 # the gradient it passed on, already in the input's shape
    summed_from: tuple = None        # the broadcast shape it was summed back from, if any
    accumulated: bool = False        # True when the input already held gradient: from another path in
                                     # this backward, or (leaves) in .grad from an earlier backward


@dataclass
class BackwardStep:
    """One op visited by backward, in the order backward ran (index starts at 1)."""
    index: int
    op: object                       # the Function node (grad_fn)
    output: Tensor                   # the tensor whose gradient was propagated
    grad_output: np.ndarray          # g = dL/d(output), fully accumulated
    contributions: list = field(default_factory=list)


def _value(x):
    return x._data if isinstance(x, Tensor) else x


def _root_grad(root, grad, as_tensor):
    """The gradient backward starts from: 1 for a one-element root, else the given `grad`."""
    if not isinstance(root, Tensor):
        raise DTypeError(f"backward: expected a Tensor, got {type(root).__name__}")
    if not root._requires_grad:
        raise GraphError("backward: this tensor does not require grad and has no recorded graph; set "
                         "requires_grad=True on the inputs (and do not compute it under no_grad)")
    if grad is None:
        if root._data.size != 1:
            raise GraphError(f"backward: grad can be created implicitly only for a tensor with one element; "
                             f"this one has shape {root.shape}, so pass grad= with that shape")
        g = np.ones(root.shape, root.dtype)
    else:
        g = grad if isinstance(grad, Tensor) else to_array(grad, what="backward(grad=...)")
        if g.shape != root.shape:
            raise ShapeError(f"backward: grad has shape {g.shape} but the tensor has shape {root.shape}")
        g = g if g.dtype == root.dtype else g.astype(root.dtype)
    return (g if isinstance(g, Tensor) else Tensor(g)) if as_tensor else _value(g)


def _lift(fn, t):
    """For backward on Tensors: the op's inputs and output as Tensors, so its backward is recorded."""
    for p, arr in zip([*fn.inputs, t], [*fn.arrays, fn.out]):
        if isinstance(p, Tensor) and p._data is not arr:
            raise GraphError(f"{fn.name}: the .data of its output or of one of its inputs was replaced "
                             "after the op ran; its backward cannot be recorded (create_graph=True)")
    tracing = modes.tracer is not None       # a capture follows the caller's own constants
    return [p if tracing or isinstance(p, Tensor) else a for p, a in zip(fn.inputs, fn.arrays)] + [t]


class _HoldInterrupt:
    """Hold Ctrl-C (SIGINT) back while the block runs, then deliver it: so a commit is all or nothing.
    (Python delivers signals to the main thread only, so elsewhere there is nothing to hold.)"""

    def __enter__(self):
        self.caught = []
        self.main = threading.get_ident() == _MAIN
        if self.main:
            self.old = _signal.signal(SIGINT, lambda *sig: self.caught.append(sig))

    def __exit__(self, *exc):
        if self.main:
            _signal.signal(SIGINT, self.old)
            if self.caught:
                _signal.raise_signal(SIGINT)            # now delivered to the usual handler


def _store(t, g, taken):
    """Add a finished gradient to t.grad. A stored gradient is an array (or Tensor) nobody else holds:
    a view, or one already stored elsewhere or given by the caller, is copied. It is then only
    replaced, never mutated, so no two .grad share memory and nothing handed out changes later."""
    if isinstance(g, Tensor):                     # create_graph (or a compile capture, which sees t.grad)
        if id(g) in taken:
            g = g.clone()
        t._grad = g if t.grad is None else t.grad + g
    elif t._grad is not None:
        t._grad._data = t._grad._data + g
    else:                                         # (a view, or an array stored elsewhere: a copy)
        t._grad = Tensor._make(g.copy() if id(g) in taken or g.base is not None else g, None, False)
    taken.add(id(g))
    if modes.tracer is not None:
        modes.tracer.set_grad(t, t._grad)


def backward(roots, grads, retain_graph=False, create_graph=False, capture=None, trace=None):
    """Propagate `grads` (one per root; None means 1) from `roots` to every leaf that requires grad.

    capture: for grad(): a dict {id(tensor): None} of tensors whose gradient to collect instead of
        touching any .grad. trace: a list that receives one BackwardStep per op, in order.
    """
    tracer = modes.tracer                   # a te.compile capture (compile.py), or None
    if tracer is not None:
        trace = tracer.begin_backward(roots, create_graph, trace)
    as_tensors = create_graph or tracer is not None   # backward code runs on Tensors (and is recorded)
    pending = {}                # id(tensor) -> gradient received so far (summed over all paths)
    waiting = []                # heap of (-seq, tensor) for recorded tensors in `pending`
    leaves = {}                 # id(leaf) -> leaf, for leaves that received gradient
    taken = set()               # ids of arrays stored in some .grad (or given by the caller)

    def receive(p, g):
        key = id(p)
        if key in pending:
            pending[key] = pending[key] + g
        else:
            pending[key] = g
            if p._ctx is None:
                leaves[key] = p
            else:
                heapq.heappush(waiting, (-p._ctx.seq, p))     # (seqs are unique: tensors never compared)

    for r, g in zip(roots, grads):
        g = _root_grad(r, g, as_tensors)
        taken.add(id(g))
        receive(r, g)
    retained, visited = [], []              # stored / released only once every step succeeded
    last_write, anomaly = _fn._last_write, modes.anomaly   # (ops older than the last in-place write get checked)
    recording = set_grad_enabled(create_graph)   # the backward's own ops are recorded only for
    try:                                              # create_graph (a capture sees them anyway)
        while waiting:
            t = heapq.heappop(waiting)[1]
            g = pending.pop(id(t))              # complete: every consumer of t has been visited
            fn = t._ctx
            if fn.released:
                raise GraphError(f"{fn.name}: backward through a graph whose saved arrays were already "
                                 "freed by an earlier backward; pass retain_graph=True to the first one")
            if fn.seq < last_write:             # something was written in place after fn ran
                fn.check_not_modified()
            if tracer is not None:
                tracer.grad_of(t, g, fn)
            if capture is not None and id(t) in capture:
                capture[id(t)] = g
            elif t._retain and capture is None:
                retained.append((t, g))
            args = _lift(fn, t) if as_tensors else (*fn.arrays, fn.out)
            grads_in = fn.backward(g, *args)
            grads_in = grads_in if type(grads_in) is tuple else (grads_in,)
            if anomaly:
                _fn.check_finite(fn, [_value(x) for x in grads_in], "backward")
            if trace is not None:
                step = BackwardStep(len(trace) + 1, fn, t, _value(g))
                trace.append(step)
            for p, gp, arr, need in zip(fn.inputs, grads_in, fn.arrays, fn.needs):
                if not need or gp is None:
                    continue
                shape = gp.shape
                if shape != arr.shape:          # undo broadcasting, and the dtype NumPy promoted to
                    gp = reduce_to(gp, arr.shape)
                if gp.dtype != arr.dtype:
                    gp = gp.astype(arr.dtype)
                if trace is not None:
                    had = id(p) in pending or (p._ctx is None and p._grad is not None and capture is None)
                    summed = None if shape == arr.shape else shape
                    step.contributions.append(Contribution(p, _value(gp), summed, had))
                receive(p, gp)
            visited.append(fn)
    finally:
        set_grad_enabled(recording)
    with _HoldInterrupt():                  # every gradient exists: now store them, all at once
        for t, g in retained:
            _store(t, g, taken)
        for key, leaf in leaves.items():    # leaves get their gradient once, summed over paths
            if capture is None:
                _store(leaf, pending[key], taken)
            elif key in capture:
                capture[key] = pending[key]
        if not (retain_graph or create_graph):
            for fn in visited:
                fn.release()                # free what forward saved
    if tracer is not None:
        tracer.backward_done()
