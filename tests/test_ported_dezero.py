"""DeZero's tests (oreilly-japan/deep-learning-from-scratch-3, tests/), ported to tinygrad_edu: basic math,
broadcasting, indexing, linear, losses, matmul, max, relu/leaky_relu, sigmoid, softmax, softmax
cross-entropy, sum, transpose, dropout and weight decay. DeZero's `gradient_check(f, x)` is
te.gradcheck (central differences in float64, with a random upstream gradient where DeZero sums);
its comparisons against Chainer are made against the NumPy formulas here.

What the port changes, and why (README, "Coming from PyTorch / micrograd"):
- Variable(x) -> Tensor(x); F.get_item(x, i) -> x[i]; F.softmax_simple / _simple losses -> the fused ops.
- DeZero's defaults differ: F.softmax and F.log_softmax take axis=1 (ours: the last axis), F.leaky_relu
  has slope 0.2 (ours 0.01, as PyTorch), F.mean_squared_error divides by len(x) (the rows; ours, as
  PyTorch's MSELoss, by every element). The port passes them explicitly.
- DeZero's F.linear(x, W, b) has our layout, W (in, out): it is x.linear(W, b). (nn.functional.linear is
  PyTorch's, W (out, in).)
- Dropout draws from a np.random.Generator passed to it, not from np.random's global state.
- F.sum_to has no spelling here: x.sum(axis=..., keepdims=True).
- Not ported: conv2d, deconv2d, pooling, im2col, batchnorm, ResNet, VGG16 (no convolutions here).
"""
import numpy as np
import pytest

import nn
import tinygrad_edu as te
from tinygrad_edu import Tensor


def gradient_check(f, x, *args):
    """DeZero's utility, on tinygrad_edu: autodiff against central differences for input x."""
    xt = Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    return te.gradcheck(lambda t: f(t, *args), [xt]).ok


RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape)


def rand(*shape):
    return RNG.random(shape)


# -- basic math -----------------------------------------------------------------------------------------

class TestAdd:
    def test_forward1(self):
        y = np.array([1, 2, 3]) + Tensor(np.array([1, 2, 3]))
        np.testing.assert_array_equal(y.data, [2, 4, 6])

    def test_datatype(self):
        """A 0-d result is an ndarray (a Tensor holding one), not a NumPy scalar."""
        y = Tensor(np.array(2.0)) ** 2
        assert not np.isscalar(y) and isinstance(y.data, np.ndarray) and y.data.shape == ()

    def test_backward1(self):
        y = randn(3, 3)
        assert gradient_check(lambda x: x + y, randn(3, 3))

    def test_backward2(self):
        y = randn(3, 1)
        assert gradient_check(lambda x: x + y, randn(3, 3))

    def test_backward3(self):
        assert gradient_check(lambda x, y: x + y, randn(3, 3), randn(3, 1))


class TestMul:
    def test_forward1(self):
        np.testing.assert_array_equal((np.array([1, 2, 3]) * Tensor(np.array([1, 2, 3]))).data, [1, 4, 9])

    @pytest.mark.parametrize("shape", [(3, 3), (3, 1)])
    def test_backward(self, shape):
        y = randn(*shape)
        assert gradient_check(lambda x: x * y, randn(3, 3))

    def test_backward3(self):
        x = randn(3, 3)
        assert gradient_check(lambda y: x * y, randn(3, 1))


class TestDiv:
    def test_forward1(self):
        np.testing.assert_array_equal((np.array([1, 2, 3]) / Tensor(np.array([1, 2, 3]))).data, [1, 1, 1])

    @pytest.mark.parametrize("shape", [(3, 3), (3, 1)])
    def test_backward(self, shape):
        y = randn(*shape)
        assert gradient_check(lambda x: x / y, randn(3, 3))


# -- broadcasting, indexing ----------------------------------------------------------------------------

def test_broadcast_shape_check():
    x = Tensor(randn(1, 10), requires_grad=True)
    b = Tensor(randn(10), requires_grad=True)
    (x + b).sum().backward()
    assert b.grad.shape == b.shape and x.grad.shape == x.shape


class TestGetitem:
    x_data = np.arange(12).reshape((2, 2, 3))

    def test_forward1(self):
        np.testing.assert_array_equal(Tensor(self.x_data)[0].data, self.x_data[0])

    def test_forward2(self):
        np.testing.assert_array_equal(Tensor(self.x_data)[0, 0, 0:2:1].data, self.x_data[0, 0, 0:2:1])

    def test_forward3(self):
        np.testing.assert_array_equal(Tensor(self.x_data)[..., 2].data, self.x_data[..., 2])

    def test_backward1(self):
        assert gradient_check(lambda x: x[1], np.array([[1, 2, 3], [4, 5, 6]]))

    def test_backward2(self):
        assert gradient_check(lambda x: x[1:3], np.arange(12).reshape(4, 3))


# -- linear, matmul, losses ------------------------------------------------------------------------------

class TestLinear:
    def test_forward1(self):
        x = Tensor(np.array([[1, 2, 3], [4, 5, 6]]))
        np.testing.assert_array_equal(x.matmul(x.data.T).data, [[14, 32], [32, 77]])

    def test_forward3(self):
        layer = nn.Linear(3, 2, rng=0)
        x = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float64)
        np.testing.assert_allclose(Tensor(x).linear(layer.weight, layer.bias).data, layer(x).data)
        np.testing.assert_allclose(layer(x).data, x @ layer.weight.data + layer.bias.data)

    def test_backward1(self):
        W, b = randn(2, 3), randn(3)
        assert gradient_check(lambda x: x.linear(Tensor(W), Tensor(b)), randn(3, 2))

    def test_backward2(self):
        W = Tensor(randn(20, 30))
        assert gradient_check(lambda x: x.linear(W), randn(10, 20))


class TestMatmul:
    def test_backward1(self):
        w = randn(2, 3)
        assert gradient_check(lambda x: x @ w, randn(3, 2))

    def test_backward2(self):
        x = randn(10, 1)
        assert gradient_check(lambda w: Tensor(x) @ w, randn(1, 5))


class TestMSE:
    def test_forward1(self):
        x0 = np.array([0.0, 1.0, 2.0])
        assert te.mse(x0, x0).item() == ((x0 - x0) ** 2).sum() / x0.size

    def test_rows_not_elements(self):
        """DeZero divides by len(x) (rows); ours by the number of elements, as PyTorch."""
        x0, x1 = rand(4, 3), rand(4, 3)
        assert np.isclose(te.mse(x0, x1).item(), ((x0 - x1) ** 2).sum() / x0.size)
        assert np.isclose(te.mse(x0, x1, "sum").item() / len(x0), ((x0 - x1) ** 2).sum() / len(x0))

    @pytest.mark.parametrize("n", [10, 100])
    def test_backward(self, n):
        x1 = rand(n)
        assert gradient_check(lambda x0: x0.mse(x1), rand(n))


# -- max, sum, transpose --------------------------------------------------------------------------------

class TestMax:
    def test_forward1(self):
        x = rand(10)
        assert Tensor(x).max().item() == np.max(x)

    @pytest.mark.parametrize("axis", [1, (0, 1)])
    @pytest.mark.parametrize("keepdims", [False, True])
    def test_forward(self, axis, keepdims):
        x = rand(10, 20, 30)
        np.testing.assert_array_equal(Tensor(x).max(axis=axis, keepdims=keepdims).data,
                                      np.max(x, axis=axis, keepdims=keepdims))

    def test_backward1(self):
        assert gradient_check(lambda x: x.max(), rand(10))

    def test_backward2(self):
        assert gradient_check(lambda x: x.max(axis=1), rand(10, 10) * 100)

    def test_backward3(self):
        assert gradient_check(lambda x: x.max(axis=(1, 2)), rand(5, 6, 7) * 100)


class TestSum:
    def test_datatype(self):
        assert not np.isscalar(Tensor(rand(10)).sum())

    def test_forward1(self):
        assert Tensor(np.array(2.0)).sum().item() == 2.0

    @pytest.mark.parametrize("keepdims", [False, True])
    def test_forward(self, keepdims):
        x = rand(10, 20, 30)
        np.testing.assert_allclose(Tensor(x).sum(axis=1, keepdims=keepdims).data, np.sum(x, 1, keepdims=keepdims))

    @pytest.mark.parametrize("axis, shape", [(None, (10,)), (1, (10, 10)), (2, (4, 5, 5)), (None, (4, 5, 5))])
    def test_backward(self, axis, shape):
        assert gradient_check(lambda x: x.sum(axis=axis), rand(*shape))

    def test_sum_to_is_a_keepdims_sum(self):
        x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        np.testing.assert_array_equal(Tensor(x).sum(axis=0, keepdims=True).data, [[5.0, 7.0, 9.0]])
        assert gradient_check(lambda t: t.sum(axis=(1, 2)), rand(4, 5, 5) * 100)


class TestTranspose:
    def test_forward1(self):
        assert Tensor(np.array([[1, 2, 3], [4, 5, 6]])).transpose().shape == (3, 2)

    @pytest.mark.parametrize("x", [np.array([[1, 2, 3], [4, 5, 6]]), np.array([1, 2, 3]), randn(10, 5)],
                             ids=["2x3", "vector", "10x5"])
    def test_backward(self, x):
        assert gradient_check(lambda t: t.transpose(), x)


# -- activations ---------------------------------------------------------------------------------------

class TestRelu:
    def test_forward1(self):
        x = np.array([[-1, 0], [2, -3], [-2, 1]], np.float32)
        np.testing.assert_array_equal(Tensor(x).relu().data, [[0, 0], [2, 0], [0, 1]])

    @pytest.mark.parametrize("x", [np.array([[-1, 1, 2], [-1, 2, 4]]), rand(10, 10) * 100, rand(4, 5, 6) * 100],
                             ids=["ints", "2-D", "3-D"])
    def test_backward(self, x):
        assert gradient_check(lambda t: t.relu(), x)


class TestLeakyRelu:
    def test_forward1(self):
        x = np.array([[-1, 0], [2, -3], [-2, 1]], np.float32)
        np.testing.assert_allclose(Tensor(x).leaky_relu(0.2).data, [[-0.2, 0.0], [2.0, -0.6], [-0.4, 1.0]])

    def test_forward2(self):
        x = randn(100)
        np.testing.assert_allclose(Tensor(x).leaky_relu(0.002).data, np.where(x > 0, x, 0.002 * x))

    @pytest.mark.parametrize("x", [np.array([[-1, 1, 2], [-1, 2, 4]]), rand(10, 10) * 100], ids=["ints", "2-D"])
    def test_backward(self, x):
        assert gradient_check(lambda t: t.leaky_relu(0.2), x)


class TestSigmoid:
    @pytest.mark.parametrize("x", [np.array([[0, 1, 2], [0, 2, 4]], np.float32), randn(10, 10).astype(np.float32)],
                             ids=["small", "random"])
    def test_forward(self, x):
        np.testing.assert_allclose(Tensor(x).sigmoid().data, 1 / (1 + np.exp(-x)), rtol=1e-6)

    @pytest.mark.parametrize("x", [np.array([[0, 1, 2], [0, 2, 4]]), rand(10, 10), rand(4, 5, 6)],
                             ids=["ints", "2-D", "3-D"])
    def test_backward(self, x):
        assert gradient_check(lambda t: t.sigmoid(), x)


def softmax_reference(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class TestSoftmax:
    @pytest.mark.parametrize("x", [np.array([[0, 1, 2], [0, 2, 4]], np.float32), rand(10, 10), rand(4, 5, 6)],
                             ids=["small", "2-D", "3-D"])
    def test_forward(self, x):
        np.testing.assert_allclose(Tensor(x).softmax(axis=1).data, softmax_reference(x, 1), rtol=1e-6)

    @pytest.mark.parametrize("x", [np.array([[0, 1, 2], [0, 2, 4]]), rand(10, 10), rand(4, 5, 6)],
                             ids=["ints", "2-D", "3-D"])
    def test_backward(self, x):
        assert gradient_check(lambda t: t.softmax(axis=1), x)


class TestLogSoftmax:
    def test_forward1(self):
        x = np.array([[-1, 0, 1, 2], [2, 0, 1, -1]], np.float32)
        np.testing.assert_allclose(Tensor(x).log_softmax(axis=1).data, np.log(softmax_reference(x, 1)), rtol=1e-6)

    @pytest.mark.parametrize("x", [np.array([[-1, 0, 1, 2], [2, 0, 1, -1]]), randn(10, 10)], ids=["ints", "random"])
    def test_backward(self, x):
        assert gradient_check(lambda t: t.log_softmax(axis=1), x)


class TestSoftmaxCrossEntropy:
    def test_forward1(self):
        x = np.array([[-1, 0, 1, 2], [2, 0, 1, -1]], np.float32)
        t = np.array([3, 0])
        expected = -np.log(softmax_reference(x.astype(np.float64), 1)[np.arange(2), t]).mean()
        np.testing.assert_allclose(Tensor(x).softmax_cross_entropy(t).item(), expected, rtol=1e-6)

    def test_backward1(self):
        t = np.array([3, 0])
        assert gradient_check(lambda x: x.softmax_cross_entropy(t), np.array([[-1, 0, 1, 2], [2, 0, 1, -1]]))

    @pytest.mark.parametrize("n", [10, 100])
    def test_backward(self, n):
        t = RNG.integers(0, 10, n)
        assert gradient_check(lambda x: x.softmax_cross_entropy(t), randn(n, 10))


# -- dropout, weight decay --------------------------------------------------------------------------------

class TestDropout:
    def test_forward1(self):
        x = randn(100, 100)
        np.testing.assert_array_equal(te.dropout(Tensor(x), 0.0).data, x)

    def test_forward2(self):
        """DeZero's test_mode(): here training=False (or nn.Dropout in model.eval())."""
        x = randn(100, 100)
        np.testing.assert_array_equal(te.dropout(x, training=False).data, x)
        layer = nn.Dropout().eval()
        np.testing.assert_array_equal(layer(x).data, x)

    @pytest.mark.parametrize("p, shape", [(0.5, (10, 10)), (0.99, (10, 20)), (0.0, (10, 10))])
    def test_backward(self, p, shape):
        # DeZero reseeds np.random inside f, so every evaluation draws the same mask: a fresh
        # generator with one seed does the same here
        assert gradient_check(lambda x: te.dropout(x, p, generator=np.random.default_rng(0)), randn(*shape))


def test_weight_decay_is_an_l2_term_in_the_loss():
    rate = 0.4
    x = rand(10, 2)
    t = np.zeros(10, dtype=int)

    def train(use_weight_decay):
        layer = nn.Linear(2, 3, bias=False, init="zeros")
        with te.no_grad():
            layer.weight.fill_(1.0)
        opt = nn.SGD(layer.parameters(), lr=0.01, weight_decay=rate if use_weight_decay else 0.0)
        loss = layer(x).softmax_cross_entropy(t)
        if not use_weight_decay:
            loss = loss + rate / 2 * (layer.weight ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return layer.weight.data.copy()
    np.testing.assert_allclose(train(True), train(False), rtol=1e-14)
