"""te.vjp, te.jvp, te.jacobian, te.hessian, te.hvp: derivatives of functions, built on the one backward
pass (create_graph), checked against central differences (float64) and against
torch.autograd.functional where PyTorch is installed."""
import numpy as np
import pytest

import tinygrad_edu as te
from tinygrad_edu import DTypeError, ShapeError, Tensor

RNG = np.random.default_rng(11)
A = RNG.standard_normal((3, 2))
X = RNG.standard_normal(3)
Y = RNG.standard_normal(2)


def f_vec(x):                                   # R³ -> R²
    return (x @ A).tanh() * x.sum()


def f_two(x, y):                                # (R³, R²) -> (R³, R²)
    return x.sin() * y.sum(), (x @ A) * y.exp()


def f_scalar(x, y):                             # (R³, R²) -> R
    return (x ** 3).sum() + (x[0] * y[1]).exp() + (x @ A @ y) ** 2


def numeric_jacobian(f, arrays, k, eps=1e-6):
    """d f(arrays)/d arrays[k] by central differences: shape f.shape + arrays[k].shape (NumPy only)."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    x = arrays[k]
    out0 = np.asarray(f(*arrays))
    J = np.zeros(out0.shape + x.shape)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        plus = np.asarray(f(*arrays))
        x[idx] = saved - eps
        minus = np.asarray(f(*arrays))
        x[idx] = saved
        J[(Ellipsis,) + idx] = (plus - minus) / (2 * eps)
    return J


def as_numpy(f, i=None):
    """f on plain arrays (through Tensors, no recording), optionally picking output i."""
    def g(*arrays):
        with te.no_grad():
            out = f(*[Tensor(a) for a in arrays])
        out = out if i is None else out[i]
        return out.data
    return g


def test_vjp_is_v_times_the_jacobian():
    v = RNG.standard_normal(2)
    out, g = te.vjp(f_vec, Tensor(X), Tensor(v))
    np.testing.assert_allclose(out.data, as_numpy(f_vec)(X), rtol=1e-14)
    np.testing.assert_allclose(g.data, v @ numeric_jacobian(as_numpy(f_vec), [X], 0), rtol=1e-7, atol=1e-9)
    assert not out.requires_grad and not g.requires_grad


def test_vjp_of_several_inputs_and_outputs():
    v = (Tensor(RNG.standard_normal(3)), Tensor(RNG.standard_normal(2)))
    outs, (gx, gy) = te.vjp(f_two, (X, Y), v)
    assert isinstance(outs, tuple) and len(outs) == 2
    for k, arr in ((0, X), (1, Y)):
        expected = sum(v[i].data @ numeric_jacobian(as_numpy(f_two, i), [X, Y], k) for i in range(2))
        np.testing.assert_allclose((gx, gy)[k].data, expected, rtol=1e-7, atol=1e-9)


def test_jvp_is_the_jacobian_times_v_by_the_double_vjp_trick():
    v = RNG.standard_normal(3)
    out, jv = te.jvp(f_vec, Tensor(X), Tensor(v))
    np.testing.assert_allclose(out.data, as_numpy(f_vec)(X))
    np.testing.assert_allclose(jv.data, numeric_jacobian(as_numpy(f_vec), [X], 0) @ v, rtol=1e-7, atol=1e-9)
    # the directional derivative, measured directly
    h = 1e-6
    np.testing.assert_allclose(jv.data, (as_numpy(f_vec)(X + h * v) - as_numpy(f_vec)(X - h * v)) / (2 * h),
                               rtol=1e-6, atol=1e-8)


def test_jvp_of_several_inputs_and_outputs():
    vx, vy = RNG.standard_normal(3), RNG.standard_normal(2)
    _, (j0, j1) = te.jvp(f_two, (X, Y), (vx, vy))
    for i, ji in ((0, j0), (1, j1)):
        expected = numeric_jacobian(as_numpy(f_two, i), [X, Y], 0) @ vx + \
            numeric_jacobian(as_numpy(f_two, i), [X, Y], 1) @ vy
        np.testing.assert_allclose(ji.data, expected, rtol=1e-7, atol=1e-9)


def test_jacobian_shapes_and_values():
    J = te.jacobian(f_vec, Tensor(X))
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J.data, numeric_jacobian(as_numpy(f_vec), [X], 0), rtol=1e-7, atol=1e-9)
    table = te.jacobian(f_two, (Tensor(X), Tensor(Y)))
    assert [[b.shape for b in row] for row in table] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    for i in range(2):
        for k in range(2):
            np.testing.assert_allclose(table[i][k].data, numeric_jacobian(as_numpy(f_two, i), [X, Y], k),
                                       rtol=1e-7, atol=1e-9)
    M = RNG.standard_normal((2, 2))
    Jm = te.jacobian(lambda m: m @ m, Tensor(M))                        # a matrix function: (2, 2, 2, 2)
    np.testing.assert_allclose(Jm.data, numeric_jacobian(lambda m: m @ m, [M], 0), rtol=1e-7, atol=1e-9)


def test_hessian_and_hvp_agree_with_central_differences():
    def grad_x(x, y):
        xt = Tensor(x, requires_grad=True)
        return te.grad(f_scalar(xt, Tensor(y)), xt).data
    H = te.hessian(lambda x: f_scalar(x, Tensor(Y)), Tensor(X))
    assert H.shape == (3, 3)
    H_num = numeric_jacobian(grad_x, [X, Y], 0)
    np.testing.assert_allclose(H.data, H_num, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(H.data, H.data.T, rtol=1e-12)                     # symmetric
    v = RNG.standard_normal(3)
    out, hv = te.hvp(lambda x: f_scalar(x, Tensor(Y)), Tensor(X), Tensor(v))
    np.testing.assert_allclose(out.item(), as_numpy(f_scalar)(X, Y))
    np.testing.assert_allclose(hv.data, H_num @ v, rtol=1e-6, atol=1e-8)
    _, vh = te.vhp(lambda x: f_scalar(x, Tensor(Y)), Tensor(X), Tensor(v))
    np.testing.assert_allclose(vh.data, hv.data, rtol=1e-12)
    blocks = te.hessian(f_scalar, (Tensor(X), Tensor(Y)))
    assert [[b.shape for b in row] for row in blocks] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    np.testing.assert_allclose(blocks[0][1].data, blocks[1][0].data.T, rtol=1e-10)


def test_the_callers_tensors_are_left_alone():
    x = Tensor(X.copy(), requires_grad=True)
    te.jacobian(f_vec, x)
    te.hvp(lambda t: (t * t * t).sum(), x, Tensor(np.ones(3)))
    assert x.grad is None and x.is_leaf
    np.testing.assert_array_equal(x.data, X)


def test_create_graph_keeps_the_results_differentiable():
    x = Tensor(X.copy(), requires_grad=True)
    _, jv = te.jvp(lambda t: (t * t * t).sum(), x, Tensor(np.ones(3)), create_graph=True)   # Σ 3x²
    assert jv.requires_grad
    jv.backward()                                                        # d/dx Σ 3x² = 6x
    np.testing.assert_allclose(x.grad.data, 6 * X, rtol=1e-12)
    x2 = Tensor(X.copy(), requires_grad=True)
    J = te.jacobian(lambda t: t.sin(), x2, create_graph=True)           # diag(cos x)
    J.sum().backward()
    np.testing.assert_allclose(x2.grad.data, -np.sin(X), rtol=1e-12)


def test_unused_inputs_and_constant_outputs_give_zeros():
    out, (gx, gy) = te.vjp(lambda x, y: x.sum() * 2, (X, Y))
    np.testing.assert_array_equal(gx.data, [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(gy.data, [0.0, 0.0])
    _, jv = te.jvp(lambda x: Tensor(np.ones(2)), Tensor(X), Tensor(np.ones(3)))
    np.testing.assert_array_equal(jv.data, [0.0, 0.0])
    np.testing.assert_array_equal(te.hessian(lambda x: x.sum(), Tensor(X)).data, np.zeros((3, 3)))


@pytest.mark.parametrize("error, fragment, action", [
    (DTypeError, "vjp: the function must return a Tensor", lambda: te.vjp(lambda x: 1.0, Tensor(X))),
    (DTypeError, "jacobian: inputs must hold floating-point values", lambda: te.jacobian(f_vec, np.arange(3))),
    (ShapeError, "vjp: v (one vector per output) can be left out only when every output has one element",
     lambda: te.vjp(f_vec, Tensor(X))),
    (ShapeError, "jvp: v (one vector per input) has shapes [(2,)], expected [(3,)]",
     lambda: te.jvp(f_vec, Tensor(X), np.ones(2))),
    (ShapeError, "hessian: the function must return a Tensor with one element, got (2,)",
     lambda: te.hessian(f_vec, Tensor(X))),
    (ShapeError, "hvp: the function must return a Tensor with one element", lambda: te.hvp(f_vec, X, X)),
])
def test_bad_input(error, fragment, action):
    with pytest.raises(error, match=fragment.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        action()


# ---------------------------------------------------------------------------------------------------
# PyTorch's torch.autograd.functional as a second oracle


def test_every_transform_matches_torch_autograd_functional():
    torch = pytest.importorskip("torch")
    F = torch.autograd.functional
    tA = torch.from_numpy(A)

    def t_two(x, y):
        return torch.sin(x) * y.sum(), (x @ tA) * torch.exp(y)

    def t_scalar(x, y):
        return (x ** 3).sum() + torch.exp(x[0] * y[1]) + (x @ tA @ y) ** 2

    tX, tY = torch.from_numpy(X), torch.from_numpy(Y)
    vx, vy, v3 = RNG.standard_normal(3), RNG.standard_normal(2), RNG.standard_normal(3)
    tv = (torch.from_numpy(vx), torch.from_numpy(RNG.standard_normal(2)))

    ours = te.vjp(f_two, (X, Y), (vx, tv[1].numpy()))[1]
    theirs = F.vjp(t_two, (tX, tY), (tv[0], tv[1]))[1]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12, atol=1e-14)

    ours = te.jvp(f_two, (X, Y), (vx, vy))[1]
    theirs = F.jvp(t_two, (tX, tY), (torch.from_numpy(vx), torch.from_numpy(vy)))[1]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12, atol=1e-14)

    ours = te.jacobian(f_two, (X, Y))
    theirs = F.jacobian(t_two, (tX, tY))
    for row_a, row_b in zip(ours, theirs):
        for a, b in zip(row_a, row_b):
            np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-12, atol=1e-14)

    ours = te.hessian(f_scalar, (X, Y))
    theirs = F.hessian(t_scalar, (tX, tY))
    for row_a, row_b in zip(ours, theirs):
        for a, b in zip(row_a, row_b):
            np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-11, atol=1e-13)

    out, hv = te.hvp(lambda x: f_scalar(x, Tensor(Y)), X, v3)
    t_out, t_hv = F.hvp(lambda x: t_scalar(x, tY), tX, torch.from_numpy(v3))
    np.testing.assert_allclose(out.item(), t_out.item(), rtol=1e-14)
    np.testing.assert_allclose(hv.data, t_hv.numpy(), rtol=1e-11, atol=1e-13)
