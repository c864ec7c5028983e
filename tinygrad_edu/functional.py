"""Derivatives as functions: te.grad returns gradients instead of accumulating them into .grad.

Everything here is built on the one backward pass (autograd.backward): `grad` collects the gradients
backward computes for chosen tensors; with create_graph=True they are recorded Tensors, so they can be
differentiated again (Hessian-vector products, gradgradcheck).
"""
import numpy as np

from .autograd import backward
from .errors import GraphError, ShapeError
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
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
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
