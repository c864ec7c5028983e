"""Checking gradients against central differences, in float64.

    numerical_gradient(f, x)       the documents' teaching tool: perturb each element, measure f
    gradcheck(fn, inputs)          autodiff vs central differences for every input element
    gradgradcheck(fn, inputs)      the same for the gradient itself (second order, create_graph)

For a function with a non-scalar output, gradcheck compares the vector-Jacobian product with a
fixed random upstream gradient v, i.e. it checks the scalar sum(fn(*inputs) * v), which is what
backward computes. A random v (not all ones) catches errors that a plain .sum() would hide.
"""
from dataclasses import dataclass, field

import numpy as np

from .functional import grad
from .errors import ArgumentError, DTypeError, GradcheckError
from .tensor import Tensor


def numerical_gradient(f, x, eps=1e-4):
    """Central differences (f(x + h) − f(x − h)) / 2h for every element of x, as in the documents.

    f: called as f(x) and returns a number (or a one-element Tensor); it may ignore its argument
       and read x through some other reference - x is perturbed in place and restored.
    x: a float ndarray or Tensor. Returns an ndarray of x's shape.
    """
    arr = x._data if isinstance(x, Tensor) else x
    if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
        raise DTypeError(f"numerical_gradient: x must be a float ndarray or Tensor, got "
                         f"{getattr(arr, 'dtype', type(arr).__name__)}")
    grads = np.zeros(arr.shape, dtype=np.float64)
    for idx in np.ndindex(arr.shape):
        saved = arr[idx]
        arr[idx] = saved + eps
        f_plus = float(f(x))
        arr[idx] = saved - eps
        f_minus = float(f(x))
        arr[idx] = saved
        grads[idx] = (f_plus - f_minus) / (2 * eps)
    return grads


@dataclass
class Mismatch:
    input: int                  # position of the input among fn's arguments
    name: str                   # its .name, or 'input <i>'
    index: tuple                # element index
    analytic: float             # autodiff
    numeric: float              # central differences
    error: float                # |analytic − numeric|


@dataclass
class GradcheckReport:
    """Result of gradcheck/gradgradcheck. Truthy when every element agreed."""
    checked: int = 0                             # number of input elements compared
    max_error: float = 0.0
    mismatches: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.mismatches

    def __bool__(self):
        return self.ok

    def __str__(self):
        if self.ok:
            return f"gradcheck passed: {self.checked} elements, max abs error {self.max_error:.3g}"
        lines = [f"gradcheck FAILED: {len(self.mismatches)} of {self.checked} elements disagree"]
        for m in self.mismatches[:10]:
            lines.append(f"  {m.name}{list(m.index)}: autodiff {m.analytic:.10g}, numerical "
                         f"{m.numeric:.10g}, error {m.error:.3g}")
        if len(self.mismatches) > 10:
            lines.append(f"  ... and {len(self.mismatches) - 10} more")
        return "\n".join(lines)


def _float64_inputs(inputs):
    """float64 leaf copies of the inputs that require grad; everything else (class labels, data)
    is passed through unchanged."""
    out = []
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad:
            out.append(Tensor(np.array(x._data, dtype=np.float64), requires_grad=True, name=x.name))
        else:
            out.append(x)
    return out


def _scalar(out, v):
    """sum(out * v) as a float (v: fixed random upstream gradient)."""
    return float(np.sum(np.asarray(out._data, dtype=np.float64) * v))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Compare autodiff with central differences for every element of every input that requires grad.

    fn: called as fn(*inputs), returns a Tensor. inputs: Tensors (and other arguments, passed as is).
    Everything runs on float64 copies. An element passes when |autodiff − numeric| <= atol + rtol·|numeric|.
    Raises GradcheckError naming the input, element, both values and the error (or, with
    raise_exception=False, returns the GradcheckReport).
    """
    xs = _float64_inputs(inputs)
    wrt = [i for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not wrt:
        raise ArgumentError("gradcheck: no input requires grad")
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise DTypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    v = np.random.default_rng(seed).standard_normal(out.shape)
    analytic = grad(out, [xs[i] for i in wrt], grad_outputs=v, allow_unused=True) if out.requires_grad \
        else [None] * len(wrt)
    report = GradcheckReport()
    for i, a in zip(wrt, analytic):
        x = xs[i]
        a = np.zeros(x.shape) if a is None else np.asarray(a._data, dtype=np.float64)
        data = x._data                      # perturbed in place; every call to fn builds a new graph
        for idx in np.ndindex(data.shape):
            saved = data[idx]
            data[idx] = saved + eps
            f_plus = _scalar(fn(*xs), v)
            data[idx] = saved - eps
            f_minus = _scalar(fn(*xs), v)
            data[idx] = saved
            numeric = (f_plus - f_minus) / (2 * eps)
            err = abs(a[idx] - numeric)
            report.checked += 1
            report.max_error = max(report.max_error, err)
            if not err <= atol + rtol * abs(numeric):         # also catches NaN
                report.mismatches.append(Mismatch(i, x.name or f"input {i}", idx, float(a[idx]), numeric, err))
    if raise_exception and not report.ok:
        raise GradcheckError(str(report))
    return report


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0, raise_exception=True):
    """Check second derivatives: gradcheck of x ↦ Σ_i <d(sum(fn(x)·v))/dx_i, u_i> (random v, u),
    whose autodiff gradient needs backward(create_graph=True) through every op involved."""
    xs0 = _float64_inputs(inputs)
    out0 = fn(*xs0)
    rng = np.random.default_rng(seed + 1)
    v = rng.standard_normal(out0.shape)
    us = [rng.standard_normal(x.shape) if isinstance(x, Tensor) and x.requires_grad else None for x in xs0]

    def first_order(*xs):
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        gs = grad(fn(*xs), wrt, grad_outputs=v, create_graph=True, allow_unused=True)
        total = Tensor(0.0)
        for g, u in zip(gs, [u for u in us if u is not None]):
            if g is not None:
                total = total + (g * u).sum()
        return total

    return gradcheck(first_order, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed,
                     raise_exception=raise_exception)
