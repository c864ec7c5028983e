"""tinygrad_edu: a small reverse-mode autodiff engine over NumPy, written to be read.

Reading order: tensor.py (the Tensor) -> function.py (how an op records itself) -> ops.py (every
primitive with its derivative) -> autograd.py (the backward pass) -> gradcheck.py (checking it).

    >>> import numpy as np
    >>> from tinygrad_edu import Tensor
    >>> W = Tensor(np.ones((2, 3)), requires_grad=True)
    >>> loss = (Tensor([[1.0, 2.0]]) @ W).tanh().sum()
    >>> loss.backward()
    >>> W.grad.shape
    (2, 3)

This package never imports `nn` (the network library built on top of it).
"""
from .errors import (AnomalyError, ArgumentError, DTypeError, GradcheckError, GraphError,  # noqa: F401
                     IndexOutOfRange, LabelError, ShapeError, TinygradError, TraceError)
from .tensor import Tensor  # noqa: F401  (imported first: the other modules use it)
from .modes import (detect_anomaly, enable_grad, is_grad_enabled, name_scope, no_grad,  # noqa: F401
                    record_scopes, scopes_recording, set_grad_enabled)
from .function import Function  # noqa: F401
from .autograd import BackwardStep, Contribution, backward, toposort  # noqa: F401
from .functional import grad, hessian, hvp, jacobian, jvp, vhp, vjp  # noqa: F401
from .files import NotRegularFileError, atomic_write, open_regular  # noqa: F401
from .compile import CompiledStep, capturing, compile, guard, per_step  # noqa: F401
from .gradcheck import GradcheckReport, gradcheck, gradgradcheck, numerical_gradient  # noqa: F401
from .numpy_api import NotDifferentiableError  # noqa: F401
from .functions import *  # noqa: F401,F403  (te.zeros, te.cat, te.maximum, te.sin, ...: see functions.py)
from . import functions as _functions
from .backprop_check import BackpropError, BackpropReport, check_backprop  # noqa: F401
from .viz import (BackwardExplanation, ContributionRecord, GraphvizNotFound, StepRecord,  # noqa: F401
                  draw_graph, explain_backward, format_graph, print_graph, to_dot)

__version__ = "0.1.0"


def softmax_cross_entropy(logits, target, reduction="mean"):
    """Function form of Tensor.softmax_cross_entropy."""
    return _as_tensor(logits).softmax_cross_entropy(target, reduction)


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """Function form of Tensor.binary_cross_entropy_with_logits."""
    return _as_tensor(logits).binary_cross_entropy_with_logits(target, reduction)


def mse(prediction, target, reduction="mean"):
    """Function form of Tensor.mse: (prediction − target)², reduced."""
    return _as_tensor(prediction).mse(target, reduction)


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled", "detect_anomaly",
    "name_scope", "record_scopes", "scopes_recording",
    "backward", "grad", "toposort", "BackwardStep", "Contribution",
    "gradcheck", "gradgradcheck", "numerical_gradient", "GradcheckReport", "atomic_write",
    "check_backprop", "BackpropReport", "BackpropError",
    "softmax_cross_entropy", "binary_cross_entropy_with_logits", "mse",
    "open_regular", "NotRegularFileError",
    "to_dot", "draw_graph", "format_graph", "print_graph", "explain_backward",
    "BackwardExplanation", "StepRecord", "ContributionRecord", "GraphvizNotFound",
    "TinygradError", "ShapeError", "IndexOutOfRange", "DTypeError", "LabelError", "ArgumentError",
    "GraphError", "AnomalyError", "GradcheckError", "TraceError", "NotDifferentiableError", "__version__",
    "compile", "CompiledStep", "per_step", "guard", "capturing",
    "vjp", "jvp", "jacobian", "hessian", "hvp", "vhp", *_functions.__all__,
]


# te.sum(x), te.max(x), te.min(x), te.abs(x): function forms named like Python's built-ins, so they are
# not in __all__ (`from tinygrad_edu import *` keeps the built-ins). Imported last: nothing above calls them.
from .functions import abs, max, min, sum  # noqa: E402,F401
