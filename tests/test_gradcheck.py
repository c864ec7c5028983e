"""Testing the checker itself: gradcheck must fail on a deliberately wrong backward (factor 2.001), on a
backward that is right only for an all-ones upstream gradient, on NaN and at kinks; gradgradcheck must
fail on a wrong second derivative that first-order checks cannot see; numerical_gradient must be the
documents' central differences. Reports must name the input, the element and both values."""
import numpy as np
import pytest

from tinygrad_edu import (ArgumentError, DTypeError, Function, GradcheckError, Tensor, gradcheck, gradgradcheck,
                          numerical_gradient)


class GoodTanh(Function):
    """tanh with the right derivative, written as a user would write a new op."""
    rule = "tanh: 1 − y²"
    saves_inputs, saves_output = False, True

    def forward(self, x):
        return np.tanh(x)

    def backward(self, g, x, out):
        return g * (1 - out * out)


class WrongTanh(GoodTanh):
    """The derivative off by a factor 2.001."""

    def backward(self, g, x, out):
        return g * (1 - out * out) * 2.001


class IgnoresUpstream(GoodTanh):
    """Right only when the upstream gradient is all ones (what a check through .sum() would use)."""

    def backward(self, g, x, out):
        return np.ones_like(g) * (1 - out * out)


class NaNBackward(GoodTanh):
    def backward(self, g, x, out):
        return g * np.nan


def value(v):
    """The array behind v (a Tensor's data, detached from any graph)."""
    return v.detach().data if isinstance(v, Tensor) else v


class DetachedTanh(GoodTanh):
    """First derivative right, but computed from a constant copy of the output: with create_graph the
    dependence of 1 − y² on x is lost, so the second derivative comes out as 0."""

    def backward(self, g, x, out):
        return g * (1 - value(out) ** 2)


def _x(shape=(2, 3), seed=0, name=None):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True, name=name)


def test_correct_custom_op_passes():
    report = gradcheck(lambda x: GoodTanh.apply(x), [_x()])
    assert report.ok and bool(report) and report.checked == 6
    assert "passed" in str(report) and report.max_error < 1e-8


def test_wrong_backward_by_factor_2001_fails_and_is_reported():
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: WrongTanh.apply(x), [_x(name="W")])
    message = str(info.value)
    assert "6 of 6 elements disagree" in message
    assert "W[0, 0]" in message and "autodiff" in message and "numerical" in message


def test_report_holds_every_mismatch_with_both_values():
    x = _x((3,), seed=1)
    report = gradcheck(lambda x: WrongTanh.apply(x), [x], raise_exception=False)
    assert not report.ok and not bool(report) and len(report.mismatches) == 3
    v = np.random.default_rng(0).standard_normal(3)           # gradcheck's upstream gradient (seed 0)
    true = v * (1 - np.tanh(x.data) ** 2)
    for m in report.mismatches:
        (i,) = m.index
        assert m.input == 0 and m.name == "input 0"
        assert m.numeric == pytest.approx(true[i], rel=1e-6)
        assert m.analytic == pytest.approx(2.001 * true[i], rel=1e-12)
        assert m.error == pytest.approx(abs(m.analytic - m.numeric))


def test_a_backward_that_ignores_the_upstream_gradient_fails():
    """gradcheck uses a random upstream gradient, so a bug hidden by .sum() is found."""
    assert not gradcheck(lambda x: IgnoresUpstream.apply(x), [_x()], raise_exception=False).ok
    # Even through .sum() the upstream gradient is a random scalar, not 1, so the bug still shows
    assert not gradcheck(lambda x: IgnoresUpstream.apply(x).sum(), [_x()], raise_exception=False).ok


def test_nan_gradient_fails():
    assert not gradcheck(lambda x: NaNBackward.apply(x), [_x()], raise_exception=False).ok


def test_kink_is_caught_relu_at_zero():
    """At exactly 0, relu's gradient is 0 by convention and central differences measure 1/2."""
    report = gradcheck(lambda x: x.relu(), [Tensor([0.0, 1.0], requires_grad=True)], raise_exception=False)
    assert [m.index for m in report.mismatches] == [(0,)]
    assert report.mismatches[0].numeric == pytest.approx(0.5 * np.random.default_rng(0).standard_normal(2)[0])


def test_tolerances_decide_what_passes():
    class SlightlyOff(GoodTanh):
        def backward(self, g, x, out):
            return g * (1 - out * out) * 1.0001
    assert gradcheck(lambda x: SlightlyOff.apply(x), [_x()]).ok               # within rtol=1e-3
    assert not gradcheck(lambda x: SlightlyOff.apply(x), [_x()], rtol=1e-6, atol=1e-9, raise_exception=False).ok


def test_several_inputs_only_those_requiring_grad_are_checked():
    a, b = _x((2,), 1, name="a"), _x((2,), 2, name="b")
    c = Tensor([0.5, 0.25])
    report = gradcheck(lambda a, b, c: WrongTanh.apply(a) * b + c, [a, b, c], raise_exception=False)
    assert report.checked == 4
    assert {m.name for m in report.mismatches} == {"a"}


def test_float32_inputs_are_checked_in_float64_and_left_untouched():
    x32 = Tensor(np.array([0.3, -0.7], np.float32), requires_grad=True)
    before = x32.data.copy()
    assert gradcheck(lambda x: (x * x).tanh(), [x32]).ok
    assert x32.data.dtype == np.float32 and np.array_equal(x32.data, before) and x32.grad is None


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = _x((3,), 4)
    assert gradcheck(lambda x: DetachedTanh.apply(x), [x]).ok                 # first order is right
    with pytest.raises(GradcheckError):
        gradgradcheck(lambda x: DetachedTanh.apply(x), [x])
    assert gradgradcheck(lambda x: GoodTanh.apply(x), [x]).ok


def test_numerical_gradient_is_central_differences():
    x = np.array([1.0, -2.0, 0.5])
    g = numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-7)
    np.testing.assert_array_equal(x, [1.0, -2.0, 0.5])                        # restored


def test_numerical_gradient_of_the_documents_two_layer_net_equals_backprop():
    """Doc 001's TwoLayerNet check: numerical gradient (slow) and backprop (fast) agree."""
    rng = np.random.default_rng(7)
    x = Tensor(rng.standard_normal((5, 4)))
    t = np.array([0, 2, 1, 1, 0])
    W1 = Tensor(rng.standard_normal((4, 3)) * 0.5, requires_grad=True)
    W2 = Tensor(rng.standard_normal((3, 3)) * 0.5, requires_grad=True)

    def loss(_):                                     # reads W1, W2 from outside, as the document does
        return ((x @ W1).sigmoid() @ W2).softmax_cross_entropy(t)

    loss(None).backward()
    for W in (W1, W2):
        np.testing.assert_allclose(numerical_gradient(loss, W), W.grad.data, rtol=1e-6, atol=1e-9)


def test_gradcheck_passes_integer_label_tensors_through_unchanged():
    """Only inputs that require grad are copied to float64; class labels must stay integers."""
    z = _x((3, 4))
    labels = Tensor([0, 3, 1])
    assert gradcheck(lambda z, y: z.softmax_cross_entropy(y), [z, labels]).ok


def test_gradcheck_bad_arguments_use_the_library_errors():
    with pytest.raises(ArgumentError, match="no input requires grad"):
        gradcheck(lambda x: x * 2, [Tensor([1.0])])
    with pytest.raises(DTypeError, match="Tensor"):
        gradcheck(lambda x: 3.0, [_x()])
    with pytest.raises(DTypeError, match="float"):
        numerical_gradient(lambda v: 0.0, np.arange(3))
