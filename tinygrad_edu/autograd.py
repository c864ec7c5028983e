"""The backward pass: one short loop over the recorded graph.

Every recorded op carries a sequence number from a clock that ticks once per op (function.py), and
every input of an op was created before it. So visiting ops from the highest sequence number down is a
valid reverse topological order: when an op is visited, every op that consumed its output has already
passed its gradient back. Backward keeps the tensors still waiting for their gradient in a heap keyed
by that number, so ordering and propagation happen in the same single pass (no recursion, no separate
sort, O(n log w) for a graph of n ops and width w — linear for chains).

    1. Give the root its gradient (1 for a scalar loss).
    2. Pop the pending tensor with the highest sequence number; its gradient is now complete.
    3. Ask its op for the gradient of each input (op.backward), reduce each one to the input's shape
       and dtype (the one place broadcasting is undone), and add it to what that input has so far.
       Leaves keep their sum in .grad; intermediate tensors pass it on and forget it.

With create_graph=True the same walk runs on Tensors instead of arrays, so it is recorded too.
`toposort(roots)` lists the recorded tensors in exactly the order backward visits them.
"""
import heapq
from dataclasses import dataclass, field

import numpy as np

from . import function as _fn
from .errors import GraphError, ShapeError
from .ops import ones, reduce_to
from .tensor import Tensor, to_array


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


def _root_grad(root, grad, create_graph):
    if not isinstance(root, Tensor):
        raise TypeError(f"backward: expected a Tensor, got {type(root).__name__}")
    if not root._requires_grad:
        raise GraphError("backward: this tensor does not require grad and has no recorded graph; set "
                         "requires_grad=True on the inputs (and do not compute it under no_grad)")
    if grad is None:
        if root._data.size != 1:
            raise GraphError(f"backward: grad can be created implicitly only for a tensor with one element; "
                             f"this one has shape {root.shape}, so pass grad= with that shape")
        g = ones(root._data.shape, root._data.dtype)   # cached and read-only; _store copies what it keeps
    else:
        g = grad if isinstance(grad, Tensor) else to_array(grad, what="backward(grad=...)")
        if g.shape != root.shape:
            raise ShapeError(f"backward: grad has shape {g.shape} but the tensor has shape {root.shape}")
        if g.dtype != root.dtype:
            g = g.astype(root.dtype)
    if create_graph and not isinstance(g, Tensor):
        g = Tensor._make(g, None, False)
    if not create_graph and isinstance(g, Tensor):
        g = g._data
    return g


def _lift(fn, t):
    """For create_graph: the op's inputs and output as Tensors, so its backward is recorded."""
    args = []
    for p, arr in zip(fn.inputs, fn.arrays):
        if isinstance(p, Tensor) and p._data is not arr:
            raise GraphError(f"{fn.name}: the .data of one of its inputs was replaced after the op ran; "
                             "its backward cannot be recorded (create_graph=True)")
        args.append(p if isinstance(p, Tensor) else arr)
    if t._data is not fn.out:
        raise GraphError(f"{fn.name}: the .data of its output was replaced after the op ran")
    args.append(t)
    return args


def _store(t, g, create_graph, taken):
    """Add a finished gradient to t.grad. Gradients are stored as arrays (or Tensors) nobody else
    holds (a view, or one already stored elsewhere or given by the caller, is copied), then only
    replaced, never mutated: so no two .grad share memory and nothing handed out changes behind
    one's back."""
    prev = t._grad
    if create_graph:
        if id(g) in taken:
            g = g.clone()
        taken.add(id(g))
        t._grad = g if prev is None else prev + g
    elif prev is None:
        if type(g) is not np.ndarray:           # a NumPy scalar from a 0-d result
            g = np.asarray(g)
        elif g.base is not None or id(g) in taken:
            g = g.copy()
        taken.add(id(g))
        t._grad = Tensor._make(g, None, False)
    else:
        prev._data = prev._data + g


def backward(roots, grads, retain_graph=False, create_graph=False, capture=None, trace=None):
    """Propagate `grads` (one per root; None means 1) from `roots` to every leaf that requires grad.

    capture: for grad(): a dict {id(tensor): None} of tensors whose gradient to collect instead of
        touching any .grad. trace: a list that receives one BackwardStep per op, in order.
    """
    retain_graph = retain_graph or create_graph
    pending = {}                # id(tensor) -> gradient received so far (summed over all paths)
    waiting = []                # heap of (-seq, tensor) for recorded tensors in `pending`
    leaves = {}                 # id(leaf) -> leaf, for leaves that received gradient
    taken = set()               # ids of arrays stored in some .grad (or given by the caller)
    for r, g in zip(roots, grads):
        g = _root_grad(r, g, create_graph)
        taken.add(id(g))
        key = id(r)
        if key in pending:
            pending[key] = pending[key] + g
        else:
            pending[key] = g
            if r._ctx is None:
                leaves[key] = r
            else:
                heapq.heappush(waiting, (-r._ctx.seq, r))
    retained = []               # (tensor, grad) for retain_grad() tensors: stored once all succeeded
    visited = []                # ops visited: their saved arrays are freed once all succeeded
    last_write = _fn.last_write()
    anomaly = _fn._anomaly
    push, pop, received = heapq.heappush, heapq.heappop, pending.get   # (local names: a hot loop)
    if create_graph:            # the backward computations below are Tensor ops: record them
        was_enabled = _fn.set_grad_enabled(True)
    try:
        while waiting:
            t = pop(waiting)[1]
            g = pending.pop(id(t))              # complete: every consumer of t has been visited
            fn = t._ctx
            if fn.arrays is None:
                raise GraphError(f"{fn.name}: backward through a graph whose saved arrays were already "
                                 "freed by an earlier backward; pass retain_graph=True to the first one")
            if fn.seq < last_write:             # something was written in place after fn ran
                fn.check_not_modified()
            if t._retain and capture is None:
                retained.append((t, g))
            elif capture is not None and id(t) in capture:
                capture[id(t)] = g
            if create_graph:
                input_grads = fn.backward(g, *_lift(fn, t))
            else:
                input_grads = fn.backward(g, *fn.arrays, fn.out)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if anomaly:
                _fn.check_finite(fn, [_value(x) for x in input_grads], "backward")
            if trace is not None:
                step = BackwardStep(len(trace) + 1, fn, t, _value(g))
                trace.append(step)
            for p, gp, arr, need in zip(fn.inputs, input_grads, fn.arrays, fn.needs):
                if not need or gp is None:
                    continue
                shape = gp.shape                # (NumPy scalars from 0-d results have shape and dtype too)
                if shape != arr.shape:          # undo broadcasting: the one place it happens
                    gp = reduce_to(gp, arr.shape)
                if gp.dtype is not arr.dtype and gp.dtype != arr.dtype:
                    gp = gp.astype(arr.dtype)
                key = id(p)
                prev = received(key)
                if trace is not None:
                    had = prev is not None or (p._ctx is None and p._grad is not None and capture is None)
                    step.contributions.append(Contribution(p, _value(gp), None if shape == arr.shape else shape, had))
                if prev is not None:
                    pending[key] = prev + gp
                else:
                    pending[key] = gp
                    if p._ctx is None:
                        leaves[key] = p
                    else:
                        push(waiting, (-p._ctx.seq, p))
            visited.append(fn)
    finally:
        if create_graph:
            _fn.set_grad_enabled(was_enabled)
    # Only now that every step succeeded does anything change (an error above leaves no trace).
    for t, g in retained:
        _store(t, g, create_graph, taken)
    for key, leaf in leaves.items():            # leaves get their gradient once, summed over paths
        g = pending[key]
        if capture is None:
            _store(leaf, g, create_graph, taken)
        elif key in capture:
            capture[key] = g
    if not retain_graph:
        for fn in visited:
            fn.release()                        # free what forward saved


def _value(x):
    return x._data if isinstance(x, Tensor) else x


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned instead of accumulated into .grad.

    outputs: a Tensor or a sequence of Tensors; grad_outputs: matching upstream gradients (None: 1).
    inputs: a Tensor (one gradient is returned) or a sequence (a tuple is returned). Inputs may be
        intermediate tensors. An input the outputs do not depend on raises GraphError unless
        allow_unused=True, which gives None for it.
    create_graph: record the computation, so the result can be differentiated again (Hessian-vector
        products, gradgradcheck).
    """
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)) or not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ShapeError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    for x in inputs:
        if not isinstance(x, Tensor) or not x._requires_grad:
            raise GraphError("grad: every input must be a Tensor that requires grad")
    capture = {id(x): None for x in inputs}
    keep = create_graph if retain_graph is None else retain_graph
    backward(outputs, grad_outputs, retain_graph=keep, create_graph=create_graph, capture=capture)
    results = []
    for x in inputs:
        g = capture[id(x)]
        if g is None and not allow_unused:
            raise GraphError("grad: one of the inputs was not used to compute the outputs; "
                             "pass allow_unused=True to get None for it")
        if g is not None and not isinstance(g, Tensor):
            g = Tensor._make(np.array(g, copy=True), None, False)   # never alias grad_outputs or each other
        results.append(g)
    return results[0] if single_in else tuple(results)
