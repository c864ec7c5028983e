"""Regressions for the engine bugs that ported test suites found (issue 14), one test each.

Each test states what used to happen and checks the values that are right now: worked out by hand,
and against PyTorch where it is installed (CI installs it)."""
import warnings

import numpy as np
import pytest

import tinygrad_edu as te
from tinygrad_edu import DTypeError, Tensor, TinygradError


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------------------------------------------
# `Tensor ** ndarray` (or a list, or a 0-d array) raised DTypeError, though arrays may be on either side

@pytest.mark.parametrize("exponent", [np.array([2.0, 3.0, 0.5]), [2.0, 3.0, 0.5], [2, 3, 0.5]],
                         ids=["ndarray", "list of floats", "list of mixed numbers"])
def test_tensor_to_the_power_of_an_array_or_a_list(exponent):
    x = Tensor([1.5, 2.0, 4.0], requires_grad=True)
    y = x ** exponent
    np.testing.assert_allclose(y.data, [2.25, 8.0, 2.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [2 * 1.5, 3 * 4.0, 0.5 / 2.0])   # p · x^(p − 1)


def test_tensor_to_the_power_of_a_0d_array():
    x = Tensor([1.5, 2.0], requires_grad=True)
    y = x ** np.array(3.0)
    np.testing.assert_allclose(y.data, [3.375, 8.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [3 * 2.25, 12.0])


# ---------------------------------------------------------------------------------------------------
# Tensor([-2., 0., 3.]) ** Tensor([2., 2., 2.]) gave [nan, 0, 9] and gradient [nan, nan, 6]
# (it was computed as exp(y · log x))

def test_negative_base_with_a_tensor_exponent():
    x = Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    p = Tensor([2.0, 2.0, 2.0], requires_grad=True)
    y = x ** p
    np.testing.assert_array_equal(y.data, [4.0, 0.0, 9.0])
    with np.errstate(invalid="ignore"):
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-4.0, 0.0, 6.0])           # p · x^(p − 1)
    # d(x^p)/dp = x^p · ln x: no real value at x < 0 (NaN, as in PyTorch), 0 at x = 0 (p > 0)
    assert np.isnan(p.grad.data[0])
    np.testing.assert_allclose(p.grad.data[1:], [0.0, 9.0 * np.log(3.0)])


def test_negative_base_matches_pytorch():
    torch = _torch()
    xs, ps = [-2.0, -1.5, 0.0, 3.0, -3.0], [2.0, 3.0, 2.0, 0.5, 0.0]
    x, p = Tensor(xs, requires_grad=True), Tensor(ps, requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = x ** p
        y.backward(np.ones(5))
    tx = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    tp = torch.tensor(ps, dtype=torch.float64, requires_grad=True)
    ty = tx ** tp
    ty.backward(torch.ones(5, dtype=torch.float64))
    np.testing.assert_allclose(y.data, ty.detach().numpy(), equal_nan=True)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), equal_nan=True)
    np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), equal_nan=True)


# ---------------------------------------------------------------------------------------------------
# softmax / log_softmax / logsumexp / softmax-CE of uint8/int8/int16 data wrapped around
# ([[nan, nan, 0.]]) or came out in float16

@pytest.mark.parametrize("dtype, values", [("uint8", [[200, 100, 0]]), ("int8", [[100, 50, -100]]),
                                           ("int16", [[30000, 10, -30000]])])
def test_softmax_family_of_small_integer_data(dtype, values):
    z = np.array(values, dtype=dtype)
    exact = np.array(values, dtype=np.float64)
    shifted = exact - exact.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # no overflow, no invalid value
        outs = {"softmax": Tensor(z).softmax(), "log_softmax": Tensor(z).log_softmax(),
                "logsumexp": Tensor(z).logsumexp(), "ce": Tensor(z).softmax_cross_entropy(np.array([1])),
                "te.softmax_cross_entropy": te.softmax_cross_entropy(z, np.array([2]))}
    for name, out in outs.items():
        assert out.dtype == np.float64, name
        assert np.isfinite(out.data).all(), name
    np.testing.assert_allclose(outs["softmax"].data, np.exp(log_probs))
    np.testing.assert_allclose(outs["log_softmax"].data, log_probs)
    np.testing.assert_allclose(outs["logsumexp"].data, exact.max(axis=1) + np.log(np.exp(shifted).sum(axis=1)))
    np.testing.assert_allclose(outs["ce"].item(), -log_probs[0, 1])
    np.testing.assert_allclose(outs["te.softmax_cross_entropy"].item(), -log_probs[0, 2])


# ---------------------------------------------------------------------------------------------------
# Valid labels stored big-endian (dtype '>i4') crashed softmax_cross_entropy with a bogus IndexOutOfRange

@pytest.mark.parametrize("order", [">i4", ">i8", "<i2", ">u2"])
def test_cross_entropy_with_labels_of_any_byte_order(order):
    rng = np.random.default_rng(0)
    z_data = rng.standard_normal((4, 3))
    native, foreign = np.array([0, 2, 1, 2]), np.array([0, 2, 1, 2], dtype=order)
    z1, z2 = Tensor(z_data, requires_grad=True), Tensor(z_data, requires_grad=True)
    l1, l2 = z1.softmax_cross_entropy(native), z2.softmax_cross_entropy(foreign)
    assert l1.item() == l2.item()
    l1.backward()
    l2.backward()
    np.testing.assert_array_equal(z1.grad.data, z2.grad.data)


def test_big_endian_labels_in_a_compiled_step():
    """te.compile's fused cross-entropy checks the labels' range on their bytes: big-endian too."""
    rng = np.random.default_rng(1)
    W = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    X = rng.standard_normal((5, 2))

    @te.compile
    def step(x, y):
        loss = (Tensor(x) @ W).softmax_cross_entropy(y)
        W.grad = None
        loss.backward()
        return loss
    y = np.array([0, 2, 1, 1, 2], dtype=">i4")
    first, second = step(X, y), step(X, y)                 # a capture, then a replay
    expected = Tensor(X @ W.data).softmax_cross_entropy(y.astype(int)).item()
    assert first.item() == pytest.approx(expected, rel=1e-12) and second.item() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(te.LabelError, match="label 3"):
        step(X, np.array([0, 3, 1, 1, 2], dtype=">i4"))


# ---------------------------------------------------------------------------------------------------
# softmax over a zero-length axis raised instead of returning an empty result

def test_softmax_family_over_a_zero_length_axis():
    x = Tensor(np.ones((2, 0)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                      # log of an empty sum: no divide warning
        s, ls, lse = x.softmax(axis=1), x.log_softmax(axis=1), x.logsumexp(axis=1)
        assert s.shape == ls.shape == (2, 0)
        np.testing.assert_array_equal(lse.data, [-np.inf, -np.inf])     # log of an empty sum, as PyTorch
        (s.sum() + ls.sum()).backward()
    assert x.grad.shape == (2, 0)


def test_softmax_over_a_zero_length_axis_matches_pytorch():
    torch = _torch()
    t = torch.ones(3, 0, dtype=torch.float64)
    np.testing.assert_array_equal(Tensor(np.ones((3, 0))).logsumexp(axis=1).data, torch.logsumexp(t, 1).numpy())
    assert Tensor(np.ones((3, 0))).softmax(dim=1).shape == tuple(torch.softmax(t, 1).shape)


# ---------------------------------------------------------------------------------------------------
# te.grad(1.0, x) raised a bare TypeError outside the error hierarchy

@pytest.mark.parametrize("output", [1.0, np.float64(2.0), np.ones(3), [Tensor(1.0), 2.0]],
                         ids=["float", "numpy scalar", "ndarray", "list with a float"])
def test_grad_of_something_that_is_not_a_tensor(output):
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(DTypeError, match="grad: outputs must be Tensors") as info:
        te.grad(output, x)
    assert isinstance(info.value, TinygradError) and isinstance(info.value, TypeError)
    assert x.grad is None
