"""micrograd's test/test_engine.py (karpathy/micrograd), ported to tinygrad_edu as a learner would port
it: Value(x) becomes a 0-d Tensor that requires grad, `.data`/`.grad` are read with .item(), and
PyTorch stays the oracle (float64).

Deliberate differences (README, "Coming from PyTorch / micrograd"):
- micrograd's Value has no in-place operators, so `c += c + 1` rebinds c. A Tensor has them, and an
  in-place update of a tensor that takes part in a recorded graph is refused (GraphError): the port
  writes `c = c + c + 1`, as micrograd's own PyTorch half of the test does.
"""
import numpy as np
import pytest

import tinygrad_edu as te
from tinygrad_edu import GraphError, Tensor

torch = pytest.importorskip("torch")


def Value(x):
    return Tensor(float(x), requires_grad=True)


def central_difference(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def sanity(x):
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    return h + q + q * x


def test_sanity_check():
    x = Value(-4.0)
    y = sanity(x)
    y.backward()
    xt = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    yt = sanity(xt)
    yt.backward()
    assert y.item() == yt.item()                                        # forward pass went well
    assert x.grad.item() == xt.grad.item()                              # backward pass went well
    with te.no_grad():                                                  # and a third opinion
        d = central_difference(lambda v: sanity(Tensor(v)).item(), -4.0)
    assert x.grad.item() == pytest.approx(d, rel=1e-6)


def more_ops(a, b):
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1                       # micrograd: c += c + 1 (see the module docstring)
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    return g


def test_more_ops():
    a, b = Value(-4.0), Value(2.0)
    g = more_ops(a, b)
    g.backward()
    at = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    bt = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    gt = more_ops(at, bt)
    gt.backward()
    tol = 1e-6
    assert abs(g.item() - gt.item()) < tol
    assert abs(a.grad.item() - at.grad.item()) < tol
    assert abs(b.grad.item() - bt.grad.item()) < tol


def test_in_place_updates_inside_a_graph_are_refused():
    """The deliberate difference: micrograd's `c += c + 1` would update a tensor backward needs."""
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    with pytest.raises(GraphError, match="in-place operation on a tensor that takes part in a recorded graph"):
        c += c + 1
    np.testing.assert_array_equal(c.data, -2.0)                         # nothing changed


@pytest.mark.parametrize("ours, theirs", [(Tensor.tanh, torch.Tensor.tanh), (Tensor.exp, torch.Tensor.exp)],
                         ids=["tanh", "exp"])
@pytest.mark.parametrize("x", [-1.0, 0.123, 2.0])
def test_unary_tensor_fns(ours, theirs, x):
    xv = Value(x)
    yv = ours(xv)
    yv.backward()
    xt = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    yt = theirs(xt)
    yt.backward()
    assert abs(yv.item() - yt.item()) < 1e-6
    assert abs(xv.grad.item() - xt.grad.item()) < 1e-6
