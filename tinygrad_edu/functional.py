"""Derivatives as functions: te.grad returns gradients instead of accumulating them into .grad, and
the transforms of torch.autograd.functional take a function and give its derivatives.

    te.grad(loss, [W, b])             dL/dW, dL/db                          (reverse mode: one backward)
    te.vjp(f, x, v)                   vᵀ J  - what backward computes        (f(x), vᵀJ)
    te.jvp(f, x, v)                   J v   - a directional derivative      (f(x), Jv)
    te.jacobian(f, x)                 J, of shape f(x).shape + x.shape      (one backward per output)
    te.hessian(f, x)                  the Jacobian of the gradient          (f: one number)
    te.hvp(f, x, v)                   H v without forming H                 (f(x), Hv)

Everything here is built on the one backward pass (autograd.backward): `grad` collects the gradients
backward computes for chosen tensors; with create_graph=True they are recorded Tensors, so they can be
differentiated again. There is no second (forward-mode) engine: jvp uses the double-vjp trick. The
vjp u ↦ Jᵀu is linear in a dummy vector u, and its own vjp with upstream gradient v is
d(vᵀJᵀu)/du = Jv: two backward passes give the forward-mode derivative.
"""
import numpy as np

from .autograd import backward
from .errors import DTypeError, GraphError, ShapeError
from .tensor import Tensor


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned instead of accumulated into .grad.

    outputs: a Tensor or a sequence of Tensors; grad_outputs: matching upstream gradients (None: 1).
    inputs: a Tensor (one gradient is returned) or a sequence (a tuple is returned). Inputs may be
        intermediate tensors. An input the outputs do not depend on raises GraphError unless
        allow_unused=True, which gives None for it.
    create_graph: record the computation, so the result can be differentiated again (Hessian-vector
        products, gradgradcheck).
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs) \
        if isinstance(outputs, (list, tuple)) else [outputs]
    for o in outputs:
        if not isinstance(o, Tensor):
            raise DTypeError(f"grad: outputs must be Tensors (the result of ops on tensors that require "
                             f"grad), got {type(o).__name__}")
    if not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [None] * len(outputs) if grad_outputs is None else [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise ShapeError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if not all(isinstance(x, Tensor) and x._requires_grad for x in inputs):
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
    return results[0] if single else tuple(results)


# ---------------------------------------------------------------------------------------------------
# torch.autograd.functional: derivatives of a function


def _tensors(values, what, name):
    """(was it a single Tensor?, list of float Tensors) for the inputs or the vectors of a transform."""
    single = not isinstance(values, (tuple, list))
    out = []
    for x in ([values] if single else list(values)):
        t = x if isinstance(x, Tensor) else Tensor(x)
        if t.dtype.kind != "f":
            raise DTypeError(f"{what}: {name} must hold floating-point values, got dtype {t.dtype}")
        out.append(t)
    return single, out


def _call(func, inputs, create_graph, what):
    """Run func on the inputs, made into leaves that require grad (sharing their data): nothing of
    the caller's graph is touched - except with create_graph=True, where an input that requires grad
    enters through a recorded copy, so the result stays differentiable with respect to it."""
    xs = [x.clone() if create_graph and x.requires_grad else Tensor._make(x._data, None, True) for x in inputs]
    result = func(*xs)
    single = not isinstance(result, (tuple, list))
    outs = [result] if single else list(result)
    for o in outs:
        if not isinstance(o, Tensor):
            raise DTypeError(f"{what}: the function must return a Tensor or a tuple of Tensors, "
                             f"got {type(o).__name__}")
    return xs, single, outs


def _grads(outputs, inputs, grad_outputs, create_graph):
    """grad() of the outputs that depend on anything, with zeros where nothing flows (never None)."""
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    found = [None] * len(inputs)
    if pairs:
        found = grad([o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=True,
                     create_graph=create_graph, allow_unused=True)
    return [g if g is not None else Tensor(np.zeros_like(x._data)) for g, x in zip(found, inputs)]


def _vectors(v, like, what, of):
    """One vector per tensor of `like` (the function's outputs or inputs: `of`), with their shapes;
    None is allowed when each has one element."""
    if v is None:
        if any(t.size != 1 for t in like):
            raise ShapeError(f"{what}: v (one vector per {of}) can be left out only when every {of} has one "
                             f"element; the {of}s have shapes {[t.shape for t in like]}")
        return [Tensor(np.ones(t.shape, t.dtype)) for t in like]
    _, vs = _tensors(v, what, "v")
    if len(vs) != len(like) or any(a.shape != b.shape for a, b in zip(vs, like)):
        raise ShapeError(f"{what}: v (one vector per {of}) has shapes {[a.shape for a in vs]}, expected "
                         f"{[b.shape for b in like]}")
    return vs


def _out(values, single, create_graph):
    values = [t if create_graph else t.detach() for t in values]
    return values[0] if single else tuple(values)


def vjp(func, inputs, v=None, create_graph=False):
    """(func(inputs), vᵀ J): the vector-Jacobian product, what backward computes. inputs: a Tensor
    (or array) or a tuple of them; v: one vector per output of func (None if func returns one number).
    The results are detached unless create_graph=True. As torch.autograd.functional.vjp."""
    single_in, inputs = _tensors(inputs, "vjp", "inputs")
    xs, single_out, outs = _call(func, inputs, create_graph, "vjp")
    vs = _vectors(v, outs, "vjp", "output")
    return _out(outs, single_out, create_graph), _out(_grads(outs, xs, vs, create_graph), single_in, create_graph)


def jvp(func, inputs, v=None, create_graph=False):
    """(func(inputs), J v): the Jacobian-vector product, the derivative of func in the direction v
    (forward mode), by the double-vjp trick: u -> Jᵀu is linear, so its own vjp with v is Jv.
    v: one vector per input (None if the input has one element). As torch.autograd.functional.jvp."""
    single_in, inputs = _tensors(inputs, "jvp", "inputs")
    vs = _vectors(v, inputs, "jvp", "input")
    xs, single_out, outs = _call(func, inputs, create_graph, "jvp")
    us = [Tensor(np.zeros(o.shape, o.dtype if o.dtype.kind == "f" else np.float64), requires_grad=True)
          for o in outs]
    jtu = _grads(outs, xs, us, create_graph=True)              # Jᵀu: linear in the dummy u
    jv = _grads(jtu, us, vs, create_graph)                     # d(Jᵀu · v)/du = Jv
    return _out(outs, single_out, create_graph), _out(jv, single_out, create_graph)


def jacobian(func, inputs, create_graph=False):
    """The Jacobian of func at inputs: for an output of shape S and an input of shape I, a Tensor of
    shape S + I with J[s][i] = d out[s] / d in[i], one backward per output element. A tuple over the
    inputs if inputs is a tuple; over the outputs (then of tuples over the inputs) if func returns a
    tuple - as torch.autograd.functional.jacobian."""
    single_in, inputs = _tensors(inputs, "jacobian", "inputs")
    xs, single_out, outs = _call(func, inputs, create_graph, "jacobian")
    table = []
    for o in outs:
        rows = []                               # one row (a gradient per input) per element of o
        for k in range(o.size):
            e = np.zeros(o.size, o.dtype if o.dtype.kind == "f" else np.float64)
            e[k] = 1
            rows.append(_grads([o], xs, [Tensor(e.reshape(o.shape))], create_graph))
        blocks = []
        for i, x in enumerate(xs):
            parts = [row[i].reshape((1,) + x.shape) for row in rows]
            if not parts:
                block = Tensor(np.zeros(o.shape + x.shape, x.dtype))
            elif create_graph:                 # (on Tensors NumPy's concatenate is te.concatenate: recorded)
                block = np.concatenate(parts, axis=0).reshape(o.shape + x.shape)
            else:
                block = Tensor(np.concatenate([p._data for p in parts]).reshape(o.shape + x.shape))
            blocks.append(block)
        table.append(_out(blocks, single_in, create_graph))
    return table[0] if single_out else tuple(table)


def hessian(func, inputs, create_graph=False):
    """The Hessian (second derivatives) of a function with one number as output: the Jacobian of its
    gradient, shape x.shape + x.shape (a tuple of tuples for several inputs), as
    torch.autograd.functional.hessian."""
    single_in, _ = _tensors(inputs, "hessian", "inputs")

    def gradient(*xs):
        out = _one_number(func(*xs), "hessian")
        gs = _grads([out], list(xs), [None], create_graph=True)
        return gs[0] if single_in else tuple(gs)
    return jacobian(gradient, inputs, create_graph)


def hvp(func, inputs, v, create_graph=False):
    """(func(inputs), H v): a Hessian-vector product without forming H, as the gradient of
    (∇f · v) - two backward passes. func returns one number; v: one vector per input."""
    single_in, inputs = _tensors(inputs, "hvp", "inputs")
    vs = _vectors(v, inputs, "hvp", "input")
    xs, _, outs = _call(func, inputs, create_graph, "hvp")
    out = _one_number(outs[0] if len(outs) == 1 else outs, "hvp")
    gs = _grads([out], xs, [None], create_graph=True)
    dot = sum(((g * u).sum() for g, u in zip(gs, vs)), Tensor(0.0))
    hv = _grads([dot], xs, [None], create_graph)
    return _out([out], True, create_graph), _out(hv, single_in, create_graph)


def vhp(func, inputs, v, create_graph=False):
    """(func(inputs), vᵀ H). A Hessian is symmetric, so this is hvp (torch.autograd.functional.vhp)."""
    return hvp(func, inputs, v, create_graph)


def _one_number(out, what):
    if not isinstance(out, Tensor) or out.size != 1:
        raise ShapeError(f"{what}: the function must return a Tensor with one element, got "
                         f"{out.shape if isinstance(out, Tensor) else type(out).__name__}")
    return out
