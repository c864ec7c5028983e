"""The backward pass: `toposort` orders the graph, `backward` walks it once. The whole algorithm:

    1. List every recorded tensor reachable from the root, each before the tensors it was computed
       from (an iterative depth-first search: no recursion limit, linear time).
    2. Give the root its gradient (1 for a scalar loss).
    3. Walk the list: pop the tensor's fully accumulated gradient g, ask its op for the gradient of
       each input (op.backward), reduce each one to the input's shape and dtype (the one place
       broadcasting is undone), and add it to what that input has received so far.
       Leaves keep their sum in .grad; intermediate tensors pass it on and forget it.

With create_graph=True the same walk runs on Tensors instead of arrays, so it is recorded too.
"""
from dataclasses import dataclass, field

import numpy as np

from . import function as _fn
from .errors import GraphError, ShapeError
from .ops import reduce_to
from .tensor import Tensor, to_array


def toposort(roots):
    """Recorded tensors reachable from `roots`, each listed before the tensors it was computed from."""
    order, seen = [], set()
    for root in roots:
        stack = [(root, False)] if root._ctx is not None else []
        while stack:
            t, inputs_done = stack.pop()
            if inputs_done:
                order.append(t)
                continue
            if id(t) in seen:
                continue
            seen.add(id(t))
            stack.append((t, True))
            for p in t._ctx.inputs:
                if isinstance(p, Tensor) and p._ctx is not None and id(p) not in seen:
                    stack.append((p, False))
    order.reverse()
    return order


@dataclass
class Contribution:
    """What one op passed to one of its inputs during backward (for explain_backward and drawings)."""
    tensor: Tensor
    grad: np.ndarray                 # the gradient it passed on, already in the input's shape
    summed_from: tuple = None        # the broadcast shape it was summed back from, if any
    accumulated: bool = False        # True when the input already held gradient from another path


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
        g = np.ones(root.shape, dtype=root.dtype)
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
    return args, t


class _Sink:
    """Where finished gradients go: leaves' (and retained tensors') .grad, or, for grad(), a dict."""

    def __init__(self, create_graph, capture, taken):
        self.graph = create_graph
        self.capture = capture       # None, or {id(tensor): gradient-so-far} for grad()
        self.taken = taken           # ids of arrays already stored: never store one array twice

    def store(self, t, g):
        if self.capture is not None:
            key = id(t)
            if key in self.capture:
                prev = self.capture[key]
                self.capture[key] = g if prev is None else prev + g
            return
        prev = t._grad
        if self.graph:
            t._grad = g if prev is None else prev + g
        elif prev is None:
            if g.base is not None or id(g) in self.taken:     # a view, or already someone's gradient
                g = g.copy()
            self.taken.add(id(g))
            t._grad = Tensor._make(g, None, False)
        else:
            prev._data = prev._data + g                    # out of place: nothing handed out is mutated


def backward(roots, grads, retain_graph=False, create_graph=False, capture=None, trace=None):
    """Propagate `grads` (one per root; None means 1) from `roots` to every leaf that requires grad.

    capture: for grad(): a dict {id(tensor): None} of tensors whose gradient to collect instead of
        touching any .grad. trace: a list that receives one BackwardStep per op, in order.
    """
    retain_graph = retain_graph or create_graph
    root_grads = [_root_grad(r, g, create_graph) for r, g in zip(roots, grads)]
    sink = _Sink(create_graph, capture, {id(g) for g in root_grads})
    pending = {}                                # id(tensor) -> gradient received so far
    for r, g in zip(roots, root_grads):
        if r._ctx is None:
            sink.store(r, g)
        else:
            prev = pending.get(id(r))
            pending[id(r)] = g if prev is None else prev + g
    order = toposort(roots)
    epoch = _fn.current_epoch()
    anomaly = _fn._anomaly
    mode = _fn.enable_grad() if create_graph else _fn.no_grad()
    with mode:
        for t in order:
            g = pending.pop(id(t), None)
            if g is None:                       # no gradient flows into t (e.g. only via labels)
                continue
            fn = t._ctx
            if t._retain or (capture is not None and id(t) in capture):
                sink.store(t, g)
            if fn.arrays is None:
                raise GraphError(f"{fn.name}: backward through a graph whose saved arrays were already "
                                 "freed by an earlier backward; pass retain_graph=True to the first one")
            if fn.epoch != epoch:               # something was modified in place since fn ran
                fn.check_not_modified()
            if create_graph:
                args, out = _lift(fn, t)
                input_grads = fn.backward(g, *args, out)
            else:
                input_grads = fn.backward(g, *fn.arrays, fn.out)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            if anomaly:
                _fn.check_finite(fn, [_value(x) for x in input_grads], "backward")
            step = None
            if trace is not None:
                step = BackwardStep(len(trace) + 1, fn, t, _value(g))
                trace.append(step)
            for p, gp, arr, need in zip(fn.inputs, input_grads, fn.arrays, fn.needs):
                if not need or gp is None:
                    continue
                if not create_graph and type(gp) is not np.ndarray:
                    gp = np.asarray(gp)
                summed_from = None
                if gp.shape != arr.shape:
                    summed_from = gp.shape
                    gp = reduce_to(gp, arr.shape)
                if gp.dtype != arr.dtype:
                    gp = gp.astype(arr.dtype)
                key = id(p)
                if step is not None:
                    had = key in pending or (p._ctx is None and p._grad is not None)
                    step.contributions.append(Contribution(p, _value(gp), summed_from, had))
                if p._ctx is None:
                    sink.store(p, gp)
                else:
                    prev = pending.get(key)
                    pending[key] = gp if prev is None else prev + gp
            if not retain_graph:
                fn.release()


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
