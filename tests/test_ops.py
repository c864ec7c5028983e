"""Every op, driven by the table in op_cases.py: forward against plain NumPy, backward (with a random
upstream gradient) against central differences of the NumPy reference, the engine's own gradcheck and
gradgradcheck, the float32 path, and random shapes (hypothesis). Then the behaviours the engine issue
names one by one, each with values worked out by hand."""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from op_cases import CASES, engine_inputs, make_inputs, numeric_vjp, run_case
from tinygrad_edu import Tensor, grad, gradcheck, gradgradcheck, no_grad

FIXED = [pytest.param(case, shapes, id=f"{case.name}-{shapes}") for case in CASES for shapes in case.shapes]
BY_CASE = [pytest.param(case, id=case.name) for case in CASES]


def _seed(*key):
    """A seed derived from a test's parameters (stable across runs, unlike hash() of a str)."""
    return zlib.crc32(repr(key).encode())


def _rng(*key):
    """A generator seeded from a test's parameters, so each example is reproducible on its own."""
    return np.random.default_rng(_seed(*key))


def check_forward_backward(case, shapes, seed):
    """Forward equals the NumPy reference; each gradient equals central differences of the reference
    for a random upstream gradient, with the input's shape and dtype."""
    rng = np.random.default_rng(seed)
    arrays = make_inputs(case, shapes, rng)
    expected = np.asarray(case.ref(*arrays))
    v = rng.standard_normal(expected.shape)
    out, grads, inputs = run_case(case, arrays, upstream=v)
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    for j, i in enumerate(case.wrt):
        g = grads[j]
        assert g is not None, f"input {i} received no gradient"
        assert g.shape == arrays[i].shape and g.dtype == np.float64
        np.testing.assert_allclose(g.data, numeric_vjp(case.ref, arrays, v, i), rtol=1e-5, atol=1e-6,
                                   err_msg=f"{case.name}: gradient of input {i}")


@pytest.mark.parametrize("case, shapes", FIXED)
def test_forward_and_backward_match_numpy_and_central_differences(case, shapes):
    check_forward_backward(case, shapes, seed=_seed(case.name, shapes))


@pytest.mark.parametrize("case", BY_CASE)
@settings(max_examples=5)
@given(data=st.data())
def test_random_shapes(case, data):
    """Random shapes from the row's strategy: broadcasting pairs, 0-d tensors, batches."""
    shapes = data.draw(case.shape_st, label="shapes")
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    check_forward_backward(case, shapes, seed)


@pytest.mark.parametrize("case", BY_CASE)
def test_engine_gradcheck_passes(case):
    rng = _rng(case.name, "gradcheck")
    arrays = make_inputs(case, case.shapes[0], rng)
    inputs = engine_inputs(case, arrays)
    report = gradcheck(case.fn, inputs)
    assert report.ok and report.checked == sum(arrays[i].size for i in case.wrt)


@pytest.mark.parametrize("case", BY_CASE)
def test_engine_gradgradcheck_passes(case):
    """Second order through every op (create_graph): its backward is itself differentiable."""
    rng = _rng(case.name, "gradgradcheck")
    arrays = make_inputs(case, case.shapes[0], rng)
    inputs = engine_inputs(case, arrays)
    assert gradgradcheck(case.fn, inputs).ok


@pytest.mark.parametrize("case", BY_CASE)
def test_float32_stays_float32(case):
    """float32 in, float32 out and float32 gradients, close to the float64 results."""
    rng = _rng(case.name, "float32")
    shapes = case.shapes[0]
    arrays64 = make_inputs(case, shapes, rng)
    arrays32 = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in arrays64]
    v = rng.standard_normal(np.shape(case.ref(*arrays64)))
    out64, grads64, _ = run_case(case, arrays64, upstream=v)
    out32, grads32, _ = run_case(case, arrays32, upstream=v.astype(np.float32))
    # A float64 ndarray or list constant promotes the result to float64 (NumPy's rule, documented);
    # a Python scalar never does. Gradients always keep their tensor's dtype.
    assert out32.dtype == (np.float32 if case.keeps_dtype else np.float64)
    np.testing.assert_allclose(out32.data, out64.data, rtol=1e-4, atol=1e-5)
    for g32, g64 in zip(grads32, grads64):
        assert g32.dtype == np.float32
        np.testing.assert_allclose(g32.data, g64.data, rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------------------------------------------
# Broadcasting with Python scalars, lists and ndarrays on either side


def test_scalars_lists_and_arrays_on_either_side():
    t = Tensor([1.0, 2.0, 4.0], requires_grad=True)
    np.testing.assert_array_equal((2 * t).data, [2.0, 4.0, 8.0])
    np.testing.assert_array_equal((1 - t).data, [0.0, -1.0, -3.0])
    np.testing.assert_array_equal((np.ones(3) + t).data, [2.0, 3.0, 5.0])
    np.testing.assert_array_equal(([1.0, 1.0, 1.0] - t).data, [0.0, -1.0, -3.0])
    np.testing.assert_array_equal((8 / t).data, [8.0, 4.0, 2.0])
    np.testing.assert_array_equal((t / 2).data, [0.5, 1.0, 2.0])
    # The result of `ndarray + Tensor` is a Tensor (NumPy must not unwrap the tensor into an array)
    assert isinstance(np.ones(3) + t, Tensor) and isinstance(np.ones(3) * t, Tensor)
    assert isinstance(np.ones((2, 3)) @ Tensor(np.ones(3)), Tensor)
    loss = (2 * t + (1 - t) * np.array([1.0, 2.0, 3.0]) + [0.0, 1.0, 0.0] / t).sum()
    loss.backward()
    # d/dt [2t + (1 − t)·c + k/t] = 2 − c − k/t²
    np.testing.assert_allclose(t.grad.data, 2 - np.array([1.0, 2.0, 3.0]) - np.array([0.0, 1.0, 0.0]) / [1, 4, 16])


def test_broadcasting_on_both_sides_sums_gradients_back():
    a = Tensor(np.arange(3.0).reshape(3, 1), requires_grad=True)      # (3, 1)
    b = Tensor(np.arange(4.0), requires_grad=True)                      # (4,)
    out = a * b                                                         # (3, 4)
    assert out.shape == (3, 4)
    out.backward(np.ones((3, 4)))
    np.testing.assert_array_equal(a.grad.data, np.full((3, 1), 0 + 1 + 2 + 3.0))
    np.testing.assert_array_equal(b.grad.data, np.full(4, 0 + 1 + 2.0))


def test_scalar_tensor_broadcast_against_matrix():
    s = Tensor(2.0, requires_grad=True)                                 # 0-d
    m = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (s * m).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 15.0
    np.testing.assert_array_equal(m.grad.data, np.full((2, 3), 2.0))


# ---------------------------------------------------------------------------------------------------
# matmul


def test_matmul_1d_2d_and_batched_by_hand():
    A = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = Tensor([1.0, -1.0], requires_grad=True)
    np.testing.assert_array_equal((A @ v).data, [-1.0, -1.0])
    np.testing.assert_array_equal((v @ A).data, [-2.0, -2.0])
    assert (v @ v).shape == () and (v @ v).item() == 2.0
    (A @ v).sum().backward()
    np.testing.assert_array_equal(A.grad.data, [[1.0, -1.0], [1.0, -1.0]])  # outer(1, v)
    np.testing.assert_array_equal(v.grad.data, [4.0, 6.0])                  # column sums of A
    batch = Tensor(np.stack([np.eye(2), 2 * np.eye(2)]), requires_grad=True)  # (2, 2, 2)
    out = batch @ A                                                       # (2, 2, 2)
    np.testing.assert_array_equal(out.data, [A.data, 2 * A.data])
    A.zero_grad()
    out.sum().backward()
    # dL/dA = Σ_batch Bᵀ·1 = (I + 2I)ᵀ·ones: A is shared by the batch, so its gradient sums over it
    np.testing.assert_array_equal(A.grad.data, np.full((2, 2), 3.0))


# ---------------------------------------------------------------------------------------------------
# Reductions, max ties


@pytest.mark.parametrize("axis, keepdims, shape", [
    (None, False, ()), (None, True, (1, 1, 1)), (0, False, (3, 4)), (-1, True, (2, 3, 1)),
    ((0, 2), False, (3,)), ((0, 2), True, (1, 3, 1)),
])
def test_reduction_shapes(axis, keepdims, shape):
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    for name in ("sum", "mean", "max", "min"):
        out = getattr(x, name)(axis=axis, keepdims=keepdims)
        assert out.shape == shape, name
        np.testing.assert_allclose(out.data, getattr(np, name)(x.data, axis=axis, keepdims=keepdims))


def test_max_ties_split_the_gradient_equally():
    x = Tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.5, 0.5, 0.0])
    # For a tie of two, the split is also what central differences measure: ((3 + h) − 3) / 2h = 1/2
    h = 1e-6
    for i in (1, 2):
        up, down = x.data.copy(), x.data.copy()
        up[i] += h
        down[i] -= h
        assert abs((up.max() - down.max()) / (2 * h) - 0.5) < 1e-9


def test_max_three_way_tie_and_ties_per_row():
    x = Tensor([[5.0, 5.0, 5.0], [1.0, 7.0, 7.0]], requires_grad=True)
    x.max(axis=1).backward(np.array([3.0, 1.0]))
    np.testing.assert_allclose(x.grad.data, [[1.0, 1.0, 1.0], [0.0, 0.5, 0.5]])
    y = Tensor([[2.0, -1.0], [2.0, -1.0]], requires_grad=True)
    y.min(axis=0).backward(np.array([1.0, 4.0]))
    np.testing.assert_allclose(y.grad.data, [[0.5, 2.0], [0.5, 2.0]])


def test_mean_gradient_is_one_over_n_per_axis():
    x = Tensor(np.ones((2, 5)), requires_grad=True)
    x.mean(axis=1).backward(np.array([1.0, 2.0]))
    np.testing.assert_allclose(x.grad.data, [[0.2] * 5, [0.4] * 5])


# ---------------------------------------------------------------------------------------------------
# Indexing


def test_repeated_integer_indices_accumulate():
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True)
    y = x[[0, 0, 2, 0]]
    np.testing.assert_array_equal(y.data, [10.0, 10.0, 30.0, 10.0])
    y.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad.data, [1.0 + 2.0 + 4.0, 0.0, 3.0])


def test_int_slice_and_mask_indexing_by_hand():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    parts = [x[1], x[:, 1:], x[x.data > 2.5], x[-1, ::-1], x[Tensor([1, 1])]]
    np.testing.assert_array_equal(parts[0].data, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(parts[2].data, [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(parts[3].data, [5.0, 4.0, 3.0])
    sum(p.sum() for p in parts).backward()
    # x[1] + x[:,1:] + x[mask] + x[-1,::-1] + 2·x[1]:
    np.testing.assert_array_equal(x.grad.data, [[0.0, 1.0, 1.0], [5.0, 6.0, 6.0]])


def test_indexing_with_tensor_bool_mask():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x[x > 0]                                   # a bool Tensor as index
    np.testing.assert_array_equal(y.data, [1.0, 3.0])
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 0.0, 6.0])


# ---------------------------------------------------------------------------------------------------
# Softmax family and losses


def test_softmax_family_by_hand():
    z = Tensor([[0.0, np.log(3.0)], [5.0, 5.0]])
    np.testing.assert_allclose(z.softmax().data, [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_allclose(z.log_softmax().data, np.log([[0.25, 0.75], [0.5, 0.5]]))
    np.testing.assert_allclose(z.logsumexp().data, [np.log(4.0), 5 + np.log(2.0)])
    np.testing.assert_allclose(z.logsumexp(axis=-1, keepdims=True).data, [[np.log(4.0)], [5 + np.log(2.0)]])


def _onehot(labels, c):
    return np.eye(c)[labels]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradient_is_softmax_minus_onehot(reduction):
    """The documents' δ3 = ŷ − y, divided by N for 'mean', per row times the upstream for 'none'."""
    rng = np.random.default_rng(3)
    z_data = rng.standard_normal((5, 4))
    labels = np.array([0, 3, 3, 1, 2])
    z = Tensor(z_data, requires_grad=True)
    loss = z.softmax_cross_entropy(labels, reduction=reduction)
    e = np.exp(z_data)
    p = e / e.sum(axis=1, keepdims=True)
    per_row = -np.log(p[np.arange(5), labels])
    upstream = np.array([1.0, -2.0, 0.5, 3.0, 1.5]) if reduction == "none" else None
    scale = {"mean": np.full((5, 1), 1 / 5), "sum": np.ones((5, 1)),
             "none": None if upstream is None else upstream[:, None]}[reduction]
    np.testing.assert_allclose(loss.data, {"mean": per_row.mean(), "sum": per_row.sum(), "none": per_row}[reduction])
    loss.backward(upstream)
    np.testing.assert_allclose(z.grad.data, (p - _onehot(labels, 4)) * scale, atol=1e-15)


def test_cross_entropy_with_probability_rows():
    z_data = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    t_data = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    z, t = Tensor(z_data, requires_grad=True), Tensor(t_data, requires_grad=True)
    loss = z.softmax_cross_entropy(t)
    logp = z_data - np.log(np.exp(z_data).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(loss.item(), -(t_data * logp).sum() / 2)
    loss.backward()
    np.testing.assert_allclose(z.grad.data, (np.exp(logp) - t_data) / 2)
    np.testing.assert_allclose(t.grad.data, -logp / 2)
    # One-hot rows give the same loss and gradient as the integer labels
    z1 = Tensor(z_data, requires_grad=True)
    z2 = Tensor(z_data, requires_grad=True)
    l1 = z1.softmax_cross_entropy(np.array([1, 2]))
    l2 = z2.softmax_cross_entropy(_onehot(np.array([1, 2]), 3))
    np.testing.assert_allclose(l1.item(), l2.item())
    l1.backward()
    l2.backward()
    np.testing.assert_allclose(z1.grad.data, z2.grad.data)


def test_cross_entropy_single_row_and_batched_rows():
    z = Tensor([2.0, 0.0, -1.0], requires_grad=True)
    loss = z.softmax_cross_entropy(0)                          # (C,) logits with a scalar label
    e = np.exp([2.0, 0.0, -1.0])
    np.testing.assert_allclose(loss.item(), -np.log(e[0] / e.sum()))
    loss.backward()
    np.testing.assert_allclose(z.grad.data, e / e.sum() - [1.0, 0.0, 0.0])
    zb = Tensor(np.zeros((2, 3, 4)), requires_grad=True)      # (B, T, C) logits, (B, T) labels
    lb = zb.softmax_cross_entropy(np.array([[0, 1, 2], [3, 3, 3]]))
    np.testing.assert_allclose(lb.item(), np.log(4.0))
    lb.backward()
    expected = np.full((2, 3, 4), 0.25)
    expected[0, 0, 0] = expected[0, 1, 1] = expected[0, 2, 2] = -0.75
    expected[1, :, 3] = -0.75
    np.testing.assert_allclose(zb.grad.data, expected / 6)


def test_functional_loss_forms_match_methods():
    import tinygrad_edu as tg
    z = np.array([[0.3, -1.2], [2.0, 0.1]])
    assert tg.softmax_cross_entropy(z, np.array([1, 0])).item() == pytest.approx(
        -np.log(np.exp([-1.2, 2.0]) / np.exp(z).sum(axis=1)).mean())
    assert tg.mse(z, np.zeros((2, 2)), "sum").item() == pytest.approx((z ** 2).sum())
    assert tg.binary_cross_entropy_with_logits(np.array([0.0]), np.array([1.0])).item() == pytest.approx(np.log(2))


def test_bce_with_logits_value_and_gradient():
    z_data = np.array([-2.0, 0.0, 3.0])
    y_data = np.array([0.0, 1.0, 0.25])
    z = Tensor(z_data, requires_grad=True)
    loss = z.binary_cross_entropy_with_logits(y_data)
    s = 1 / (1 + np.exp(-z_data))
    np.testing.assert_allclose(loss.item(), np.mean(-(y_data * np.log(s) + (1 - y_data) * np.log(1 - s))))
    loss.backward()
    np.testing.assert_allclose(z.grad.data, (s - y_data) / 3)


def test_mse_and_the_documents_quadratic_cost():
    a = Tensor([[0.5, 0.2], [0.9, 0.1]], requires_grad=True)
    y = np.array([[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(a.mse(y).item(), np.mean((a.data - y) ** 2))
    np.testing.assert_allclose(a.mse(y, "none").data, (a.data - y) ** 2)
    cost = 0.5 * a.mse(y, "sum")                   # ½‖a − y‖², whose gradient is a − y
    cost.backward()
    np.testing.assert_allclose(a.grad.data, a.data - y)


# ---------------------------------------------------------------------------------------------------
# dtype conversion, non-differentiable ops


def test_astype_between_float_dtypes_is_differentiable():
    x32 = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x32.astype(np.float64) * np.array([3.0, 4.0])
    assert y.dtype == np.float64
    y.sum().backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_array_equal(x32.grad.data, [3.0, 4.0])
    x64 = Tensor([1.5, -2.0], requires_grad=True)
    z = x64.astype("float32")
    assert z.dtype == np.float32
    (z * z).sum().backward()
    assert x64.grad.dtype == np.float64
    np.testing.assert_allclose(x64.grad.data, [3.0, -4.0])


def test_astype_to_int_is_not_differentiable():
    """An integer tensor cannot carry gradients: casting to int ends the graph (as in PyTorch),
    instead of silently passing a truncated gradient back."""
    x = Tensor([1.7, -2.2], requires_grad=True)
    i = x.astype(np.int64)
    np.testing.assert_array_equal(i.data, [1, -2])
    assert i.dtype == np.int64 and not i.requires_grad and i.grad_fn is None


def test_inplace_operations_compute_the_right_values():
    t = Tensor([1.0, 2.0, 3.0])
    t += 1
    np.testing.assert_array_equal(t.data, [2.0, 3.0, 4.0])
    t -= np.array([1.0, 1.0, 1.0])
    t *= 2
    t /= 4
    np.testing.assert_array_equal(t.data, [0.5, 1.0, 1.5])
    t.add_(Tensor([2.0, 2.0, 2.0]), alpha=0.5)
    np.testing.assert_array_equal(t.data, [1.5, 2.0, 2.5])
    t.sub_([1.0, 1.0, 1.0], alpha=2)
    np.testing.assert_array_equal(t.data, [-0.5, 0.0, 0.5])
    t.mul_(-2)
    np.testing.assert_array_equal(t.data, [1.0, 0.0, -1.0])
    t[1] = 7.0
    t[[0, 2]] = Tensor([8.0, 9.0])
    np.testing.assert_array_equal(t.data, [8.0, 7.0, 9.0])
    t.copy_(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(t.data, [1.0, 2.0, 3.0])
    t.fill_(4.0)
    np.testing.assert_array_equal(t.data, [4.0, 4.0, 4.0])
    t.zero_()
    np.testing.assert_array_equal(t.data, [0.0, 0.0, 0.0])
    W = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        W.sub_(Tensor([2.0, 2.0]), alpha=0.25)
        W[0] = 10.0
    np.testing.assert_array_equal(W.data, [10.0, 1.5])
    assert W.requires_grad and W.is_leaf


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_constants_in_formulas_give_numpys_python_scalar_results_bit_for_bit(dtype):
    """The 1 in tanh's 1 − y², the sigmoid's cap and +1 and add_'s alpha are Python numbers, which NumPy
    takes in the operand's dtype: the values are exactly the Python-scalar forms, in both float widths,
    on the array path of backward and on the Tensor path (create_graph) alike."""
    from tinygrad_edu import ops
    rng = np.random.default_rng(7)
    x = rng.uniform(-3, 3, (4, 5)).astype(dtype)
    y = np.tanh(x)
    t = Tensor(x, requires_grad=True)
    t.tanh().backward(np.ones_like(x))
    np.testing.assert_array_equal(t.grad.data, 1 - y * y)
    assert t.grad.dtype == dtype
    s = Tensor(x, requires_grad=True)
    dy = grad(s.tanh(), s, np.ones_like(x), create_graph=True)
    np.testing.assert_array_equal(dy.data, 1 - y * y)
    big = np.array([-1000.0, -80.0, -1.5, 0.0, 2.0, 1000.0], dtype=dtype)
    expected = 1 / (1 + np.exp(-np.maximum(big, -np.log(np.finfo(dtype).max) + 1)))
    np.testing.assert_array_equal(ops.sigmoid_np(big), expected)
    assert ops.sigmoid_np(big).dtype == dtype
    w, g = rng.standard_normal(6).astype(dtype), rng.standard_normal(6).astype(dtype)
    t = Tensor(w.copy())
    t.add_(Tensor(g), alpha=-0.01)
    np.testing.assert_array_equal(t.data, w + g * -0.01)
    assert t.dtype == dtype


def test_comparisons_and_argmax_are_not_differentiable():
    x = Tensor([1.0, 3.0, 2.0], requires_grad=True)
    for r in (x > 2, x >= 2, x < 2, x <= 2, x == 3, x != 3):
        assert r.dtype == np.bool_ and not r.requires_grad and r.grad_fn is None
    np.testing.assert_array_equal((x > 1.5).data, [False, True, True])
    a = Tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True).argmax(axis=1)
    np.testing.assert_array_equal(a.data, [1, 0])
    assert not a.requires_grad


def test_zero_size_dimensions_give_empty_results_and_zero_gradients():
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    w = Tensor(np.ones((3, 2)), requires_grad=True)
    out = (x @ w).tanh()
    assert out.shape == (0, 2)
    s = out.sum()
    assert s.item() == 0.0
    s.backward()
    assert x.grad.shape == (0, 3)
    np.testing.assert_array_equal(w.grad.data, np.zeros((3, 2)))
    y = Tensor(np.zeros((2, 0)), requires_grad=True)
    total = y.sum(axis=1)
    np.testing.assert_array_equal(total.data, [0.0, 0.0])
    total.backward(np.ones(2))
    assert y.grad.shape == (2, 0)


@pytest.mark.parametrize("name, fn, shape, out_shape", [
    ("softmax", lambda x: x.softmax(), (0, 3), (0, 3)),
    ("log_softmax", lambda x: x.log_softmax(), (0, 3), (0, 3)),
    ("logsumexp", lambda x: x.logsumexp(), (0, 3), (0,)),
    ("max over a non-empty axis", lambda x: x.max(axis=1), (0, 3), (0,)),
    ("cross-entropy of an empty batch, sum", lambda x: x.softmax_cross_entropy(np.zeros(0, int), "sum"), (0, 3), ()),
    ("cross-entropy of an empty batch, none", lambda x: x.softmax_cross_entropy(np.zeros(0, int), "none"),
     (0, 3), (0,)),
    ("mse of nothing, sum", lambda x: x.mse(np.zeros(0), "sum"), (0,), ()),
    ("bce of nothing, sum", lambda x: x.binary_cross_entropy_with_logits(np.zeros(0), "sum"), (0,), ()),
    ("an empty integer index", lambda x: x[np.array([], dtype=int)], (3,), (0,)),
    ("an empty list index", lambda x: x[[]], (3,), (0,)),
    ("linear of an empty batch", lambda x: x.linear(Tensor(np.ones((3, 2))), Tensor(np.ones(2))), (0, 3), (0, 2)),
])
def test_zero_size_ops_work(name, fn, shape, out_shape):
    x = Tensor(np.ones(shape), requires_grad=True)
    out = fn(x)
    assert out.shape == out_shape
    if out.size:
        np.testing.assert_array_equal(out.data, np.zeros(out_shape))   # empty sums are 0
    out.backward(np.ones(out_shape))
    assert x.grad.shape == shape
    np.testing.assert_array_equal(x.grad.data, np.zeros(shape))
