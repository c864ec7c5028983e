"""PyTorch as a second oracle: every row of the op table with a `torch` form gives the same forward
values and the same gradients (random upstream gradient, float64); plus second derivatives of a small
MLP and the conventions at kinks (relu/abs at 0, clip at its bounds, max ties)."""
import numpy as np
import pytest

from op_cases import CASES, make_inputs, run_case
from tinygrad_edu import Tensor, grad

torch = pytest.importorskip("torch")
torch.set_num_threads(1)            # the machine's cores are shared


def _torch_inputs(case, arrays):
    return [torch.tensor(a, requires_grad=i in case.wrt) if a.dtype.kind == "f" else torch.from_numpy(a.copy())
            for i, a in enumerate(arrays)]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if c.torch is not None])
def test_matches_pytorch(case):
    rng = np.random.default_rng(len(case.name))
    for shapes in case.shapes:
        arrays = make_inputs(case, shapes, rng)
        t_inputs = _torch_inputs(case, arrays)
        t_out = case.torch(*t_inputs)
        v = rng.standard_normal(tuple(t_out.shape))
        out, grads, _ = run_case(case, arrays, upstream=v)
        assert out.shape == tuple(t_out.shape)
        np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        t_out.backward(torch.from_numpy(v))
        for j, i in enumerate(case.wrt):
            np.testing.assert_allclose(grads[j].data, t_inputs[i].grad.numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"{case.name} {shapes}: gradient of input {i}")


def test_every_case_has_a_pytorch_form():
    assert [c.name for c in CASES if c.torch is None] == []


def test_hessian_vector_product_of_an_mlp_matches_pytorch():
    rng = np.random.default_rng(3)
    X, labels = rng.standard_normal((6, 3)), np.array([0, 1, 2, 2, 1, 0])
    values = [rng.standard_normal((3, 5)), rng.standard_normal(5), rng.standard_normal((5, 3)), rng.standard_normal(3)]
    vs = [rng.standard_normal(v.shape) for v in values]

    ours = [Tensor(v, requires_grad=True) for v in values]
    loss = ((Tensor(X) @ ours[0] + ours[1]).sigmoid() @ ours[2] + ours[3]).softmax_cross_entropy(labels)
    gs = grad(loss, ours, create_graph=True)
    hv = grad(sum((g * v).sum() for g, v in zip(gs, vs)), ours)

    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    t_loss = torch.nn.functional.cross_entropy(
        torch.sigmoid(torch.tensor(X) @ theirs[0] + theirs[1]) @ theirs[2] + theirs[3], torch.from_numpy(labels))
    t_gs = torch.autograd.grad(t_loss, theirs, create_graph=True)
    t_hv = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(t_gs, vs)), theirs)
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-12)
    for a, b in zip(gs, t_gs):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-9, atol=1e-12)
    for a, b in zip(hv, t_hv):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, ours, theirs, x", [
    ("relu at 0", lambda t: t.relu(), torch.relu, [0.0, -0.0, 1.0, -1.0]),
    ("abs at 0", lambda t: t.abs(), torch.abs, [0.0, 1.5, -1.5]),
    ("clip at its bounds", lambda t: t.clip(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5), [-0.5, 0.5, 0.0, 0.9]),
    ("max ties (amax)", lambda t: t.max(), torch.amax, [1.0, 3.0, 3.0, 2.0]),
    ("max ties per row", lambda t: t.reshape(2, 2).max(axis=1), lambda t: t.reshape(2, 2).amax(dim=1),
     [4.0, 4.0, 1.0, 2.0]),
    ("sigmoid at ±1000", lambda t: t.sigmoid(), torch.sigmoid, [-1000.0, 1000.0, 0.0]),
    ("tanh at ±1000", lambda t: t.tanh(), torch.tanh, [-1000.0, 1000.0]),
    ("log_softmax of equal logits", lambda t: t.log_softmax(), lambda t: t.log_softmax(-1), [5.0, 5.0, 5.0]),
    ("softmax [1000, -1000]", lambda t: t.softmax(), lambda t: t.softmax(-1), [1000.0, -1000.0]),
])
def test_conventions_at_kinks_and_extremes_match_pytorch(name, ours, theirs, x):
    v = np.linspace(0.5, 1.5, int(np.prod(theirs(torch.tensor(x, dtype=torch.float64)).shape)))
    t = Tensor(np.array(x), requires_grad=True)
    out = ours(t)
    out.backward(v.reshape(out.shape))
    tt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    t_out = theirs(tt)
    t_out.backward(torch.from_numpy(v.reshape(tuple(t_out.shape))))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-12, atol=1e-15)
