"""Gradient checks for your own tests: assertions whose failure message is the whole report, and
hypothesis strategies for tensors and shapes.

A learner's test suite, three lines (pytest; the fixture comes with the package's pytest plugin):

    from my_backprop import forward, backward, params, X, y

    def test_my_backprop(assert_backprop):
        assert_backprop(forward, backward, params, X, y)

or, without the fixture, `from tinygrad_edu.testing import assert_backprop_close` and call that.
A failing check shows check_backprop's report: each wrong gradient, its worst elements and what the
mistake most likely is.

    assert_backprop_close(forward, backward, params, *data, **options)   check_backprop, asserted
    assert_gradcheck(fn, *inputs, **options)                             gradcheck, asserted
    shapes(), arrays(), tensors(), params()                              hypothesis strategies

hypothesis is imported only when a strategy is asked for: the engine imports without it.
"""
import numpy as np

from .backprop_check import BackpropError, check_backprop
from .errors import ArgumentError, GradcheckError
from .gradcheck import gradcheck
from .tensor import Tensor

__all__ = ["assert_backprop_close", "assert_gradcheck", "shapes", "arrays", "tensors", "params"]


def assert_backprop_close(forward, backward=None, params=None, *data, **options):
    """Assert that hand-written gradients agree with autodiff (tinygrad_edu.check_backprop).

    Same arguments as check_backprop (step=, lr=, atol=, rtol=, ...). Raises BackpropError (an
    AssertionError) whose message is the report; returns the report when everything agrees.
    """
    __tracebackhide__ = True            # pytest shows the report, not this frame
    report = check_backprop(forward, backward, params, *data, **options)
    if not report.ok:
        error = BackpropError("\n" + str(report))
        error.report = report               # for drawing it (the pytest plugin's --backprop-graphs)
        raise error
    return report


def assert_gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Assert that autodiff of fn agrees with central differences (tinygrad_edu.gradcheck).

    fn(*inputs) -> Tensor may be written in plain NumPy (np.tanh, np.sum, ... record on Tensors).
    inputs: Tensors (checked where they require grad) or arrays: float arrays become float64
    Tensors that require grad, anything else (integer labels, ...) is passed as it is.
    Raises GradcheckError (an AssertionError) with the mismatching elements; returns the report.
    """
    __tracebackhide__ = True
    tensors = []
    for x in inputs:
        if isinstance(x, Tensor):
            tensors.append(x)
        elif isinstance(x, (np.ndarray, float, list)) and np.asarray(x).dtype.kind == "f":
            tensors.append(Tensor(np.array(x, dtype=np.float64), requires_grad=True, name=f"input {len(tensors)}"))
        else:
            tensors.append(x)
    if not any(isinstance(t, Tensor) and t.requires_grad for t in tensors):
        raise ArgumentError("assert_gradcheck: no input requires grad (give float arrays, or Tensors with "
                            "requires_grad=True)")
    report = gradcheck(fn, tensors, eps=eps, atol=atol, rtol=rtol, seed=seed, raise_exception=False)
    if not report.ok:
        name = getattr(fn, "__name__", "fn")
        raise GradcheckError(f"\nassert_gradcheck({name}): autodiff and central differences disagree\n{report}")
    return report


# ---------------------------------------------------------------------------------------------------
# hypothesis strategies (hypothesis is imported on first use)

def _hypothesis():
    try:
        from hypothesis import strategies as st
        from hypothesis.extra import numpy as hnp
    except ImportError:
        raise ImportError("tinygrad_edu.testing's strategies need hypothesis: pip install hypothesis "
                          "(or the test extra: pip install \"tinygrad-edu[test]\")") from None
    return st, hnp


def shapes(min_dims=1, max_dims=3, min_side=1, max_side=5):
    """Array shapes (tuples), e.g. (3,), (2, 4), (1, 5, 2)."""
    st, hnp = _hypothesis()
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape=None, dtype=np.float64, low=-3.0, high=3.0, **shape_options):
    """Float arrays with finite values in [low, high]; shape: a tuple, a strategy of shapes, or None
    (then shapes(**shape_options))."""
    st, hnp = _hypothesis()
    if shape is None:
        shape = shapes(**shape_options)
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False, width=np.dtype(dtype).itemsize * 8)
    return hnp.arrays(np.dtype(dtype), shape, elements=elements)


def tensors(shape=None, dtype=np.float64, requires_grad=False, low=-3.0, high=3.0, **shape_options):
    """Tensors with values from arrays(...), requiring grad if asked."""
    return arrays(shape, dtype, low, high, **shape_options).map(
        lambda a: Tensor(a, requires_grad=requires_grad))


def params(spec, low=-2.0, high=2.0):
    """Parameter dicts for check_backprop: spec maps each name to its shape, e.g.
    params({"W1": (2, 3), "b1": (1, 3)}) draws {"W1": (2, 3) array, "b1": (1, 3) array}."""
    st, _ = _hypothesis()
    return st.fixed_dictionaries({name: arrays(tuple(shape), np.float64, low, high) for name, shape in spec.items()})
