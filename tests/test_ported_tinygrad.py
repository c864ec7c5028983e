"""Early tinygrad's test/test_ops.py (tinygrad/tinygrad, January 2021), ported to tinygrad_edu: every op
against PyTorch, forward values and the gradients of out.mean(). The port runs in float64 (tinygrad's
ran float32 with loose tolerances), so the tolerances are tight.

What the port changes, and why (README, "Coming from PyTorch / micrograd"):
- tinygrad's names: leakyrelu -> leaky_relu, logsoftmax -> log_softmax, transpose(order=...) ->
  permute(...), reshape(shape=...) -> reshape(...), pad2d(padding=...) -> nn.functional.pad,
  relu6 -> clip(0, 6); hardswish and mish are written out from their formulas.
- tinygrad's Tensor.dot is matmul, also for batches; ours is NumPy's dot (at most 2-D): batches use @.
- Not ported: conv2d, strided conv2d, max_pool2d, avg_pool2d - tinygrad_edu has no convolutions.
"""
import numpy as np
import pytest

import nn.functional as F
from tinygrad_edu import Tensor

torch = pytest.importorskip("torch")


def helper_test_op(shapes, torch_fn, our_fn, a=-0.5, b=20, vals=None, forward_only=False, rtol=1e-10, atol=1e-10):
    """Inputs (uniform in [a, b·(1 + a)) as tinygrad drew them, or `vals`), the op in both libraries,
    then out.mean().backward() in both: values and every input's gradient must agree."""
    rng = np.random.default_rng(0)
    arrays = [np.array(v, dtype=np.float64) for v in vals] if vals is not None else \
        [(rng.random(s) + a) * b for s in shapes]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    ours = [Tensor(x.copy(), requires_grad=True) for x in arrays]
    out, ret = torch_fn(*theirs), our_fn(*ours)
    np.testing.assert_allclose(ret.data, out.detach().numpy(), rtol=rtol, atol=atol)
    if forward_only:
        return
    out.mean().backward()
    ret.mean().backward()
    for t, o in zip(theirs, ours):
        np.testing.assert_allclose(o.grad.data, t.grad.numpy(), rtol=rtol, atol=atol)


def test_add():
    helper_test_op([(45, 65), (45, 65)], lambda x, y: x + y, Tensor.add)


def test_sub():
    helper_test_op([(45, 65), (45, 65)], lambda x, y: x - y, Tensor.sub)


def test_mul():
    helper_test_op([(45, 65), (45, 65)], lambda x, y: x * y, Tensor.mul)


def test_div():
    helper_test_op([(45, 65), (45, 65)], lambda x, y: x / y, Tensor.div, rtol=1e-9)


def test_pow():
    helper_test_op([(45, 65), (45, 65)], lambda x, y: x ** y, Tensor.pow, a=0)


def test_sqrt():
    helper_test_op([(45, 65)], lambda x: x.sqrt(), Tensor.sqrt, a=0)


def test_relu():
    helper_test_op([(45, 65)], lambda x: x.relu(), Tensor.relu)


def test_leakyrelu():
    helper_test_op([(45, 65)], lambda x: torch.nn.functional.leaky_relu(x, 0.01), Tensor.leaky_relu)


def test_abs():
    helper_test_op([(45, 65)], torch.abs, Tensor.abs)


def test_log():
    helper_test_op([(45, 65)], torch.log, Tensor.log, a=0)


def test_exp():
    helper_test_op([(45, 65)], torch.exp, Tensor.exp)


def test_sign():
    helper_test_op([(45, 65)], torch.sign, Tensor.sign)


def test_sigmoid():
    helper_test_op([(45, 65)], lambda x: x.sigmoid(), Tensor.sigmoid)


def test_softplus():
    helper_test_op([(45, 65)], torch.nn.functional.softplus, Tensor.softplus)


def test_relu6():
    helper_test_op([(45, 65)], torch.nn.functional.relu6, lambda x: x.clip(0, 6))


def test_hardswish():
    helper_test_op([(45, 65)], torch.nn.functional.hardswish, lambda x: x * (x + 3).clip(0, 6) / 6)


def test_mish():
    helper_test_op([(45, 65)], lambda x: x * torch.tanh(torch.nn.functional.softplus(x)),
                   lambda x: x * x.softplus().tanh())


def test_dot():
    helper_test_op([(45, 65), (65, 100)], lambda x, y: x.matmul(y), Tensor.dot)


def test_multidot():
    helper_test_op([(10, 45, 65), (10, 65, 45)], lambda x, y: x @ y, Tensor.matmul)
    helper_test_op([(3, 3, 45, 65), (3, 3, 65, 45)], lambda x, y: x @ y, lambda x, y: x @ y)


def test_sum():
    helper_test_op([(45, 3)], lambda x: x.sum(), Tensor.sum)
    helper_test_op([(3, 4, 5, 6)], lambda x: x.sum(axis=(1, 2)), lambda x: Tensor.sum(x, axis=(1, 2)))
    helper_test_op([(3, 4, 5, 6)], lambda x: x.sum(axis=1), lambda x: Tensor.sum(x, axis=1))


def test_max():
    helper_test_op([(45, 3)], lambda x: x.max(), Tensor.max)
    helper_test_op([(45, 3)], lambda x: x.max().mul(0.5), lambda x: Tensor.max(x).mul(0.5))
    helper_test_op(None, lambda x: x.max().mul(0.5), lambda x: Tensor.max(x).mul(0.5),   # a three-way tie
                   vals=[[[1.0, 1.0, 0.0, 1.0]]])
    helper_test_op([(3, 4, 5, 6)], lambda x: x.max(axis=1)[0], lambda x: Tensor.max(x, axis=1))
    helper_test_op([(3, 4, 5, 6)], lambda x: x.max(dim=1)[0], lambda x: x.max(dim=1)[0])   # PyTorch's spelling


def test_mean_axis():
    helper_test_op([(3, 4, 5, 6)], lambda x: x.mean(axis=(1, 2)), lambda x: Tensor.mean(x, axis=(1, 2)))


def test_logsoftmax():
    helper_test_op([(45, 65)], lambda x: torch.nn.LogSoftmax(dim=1)(x), Tensor.log_softmax)


def test_tanh():
    helper_test_op([(45, 65)], lambda x: x.tanh(), Tensor.tanh)


def test_topo_sort():
    helper_test_op([(45, 65)], lambda x: (x + x) * x, lambda x: x.add(x).mul(x))


def test_scalar_mul():
    helper_test_op([(45, 65)], lambda x: x * 2, lambda x: x * 2)


def test_scalar_rmul():
    helper_test_op([(45, 65)], lambda x: 2 * x, lambda x: 2 * x)


def test_scalar_sub():
    helper_test_op([(45, 65)], lambda x: x - 2, lambda x: x - 2)


def test_scalar_rsub():
    helper_test_op([(45, 65)], lambda x: 2 - x, lambda x: 2 - x)


BINARY = [(torch.add, Tensor.add), (torch.sub, Tensor.sub), (torch.mul, Tensor.mul), (torch.div, Tensor.div),
          (torch.pow, Tensor.pow)]


@pytest.mark.parametrize("torch_op, our_op", BINARY, ids=[t.__name__ for t, _ in BINARY])
@pytest.mark.parametrize("shapes", [((5, 13, 24, 16), (5, 1, 24, 1)), ((1, 3, 1, 7, 1), (2, 1, 5, 1, 8))])
def test_broadcast_full(torch_op, our_op, shapes):
    helper_test_op(shapes, torch_op, our_op, a=0.0 if our_op is Tensor.pow else -0.5, rtol=1e-9)


@pytest.mark.parametrize("torch_op, our_op", BINARY, ids=[t.__name__ for t, _ in BINARY])
@pytest.mark.parametrize("shapes", [((1, 32, 32, 32), (1, 32, 1, 1)), ((5, 13, 24, 16, 2), (1, 13, 24, 1, 1)),
                                    ((4, 1), (4, 5)), ((1, 4), (5, 4))])
def test_broadcast_partial(torch_op, our_op, shapes):
    helper_test_op(shapes, torch_op, our_op, a=0.0 if our_op is Tensor.pow else -0.5, rtol=1e-9)


def test_slice():
    helper_test_op([(3, 3, 3, 3)], lambda x: x[1:2], lambda x: x[1:2])
    helper_test_op([(3, 3, 3, 3)], lambda x: x[1:2, 1:2], lambda x: x[1:2, 1:2])
    helper_test_op([(3, 3, 3, 3)], lambda x: x[1:2, 1:2, 0:-1], lambda x: x[1:2, 1:2, 0:-1])


def test_pad2d():
    helper_test_op([(3, 3, 3, 3)], lambda x: torch.nn.functional.pad(x, (1, 2, 3, 4)), lambda x: F.pad(x, (1, 2, 3, 4)))


def test_transpose():
    helper_test_op([(3, 3, 3)], lambda x: x.transpose(1, 2), lambda x: x.permute(0, 2, 1))
    helper_test_op([(3, 3, 3)], lambda x: x.transpose(1, 2), lambda x: x.transpose(1, 2))      # PyTorch's spelling
    helper_test_op([(3, 4, 5, 6)], lambda x: x.movedim((3, 2, 1, 0), (0, 1, 2, 3)), lambda x: x.permute(3, 2, 1, 0))


def test_reshape():
    helper_test_op([(4, 3, 6, 6)], lambda x: torch.reshape(x, (-1, 3, 6, 6)), lambda x: x.reshape((-1, 3, 6, 6)))
    helper_test_op([(4, 3, 6, 6)], lambda x: torch.reshape(x, (-1, 1, 6, 6)), lambda x: x.reshape(-1, 1, 6, 6))


def test_detach():
    helper_test_op([(4, 3, 6, 6)], lambda x: x.detach(), lambda x: x.detach(), forward_only=True)
