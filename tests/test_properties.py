"""Property tests (hypothesis, derandomized in CI by tests/conftest.py).

For every op case of op_cases.py, on random shapes: the backward pass is deterministic (bitwise),
linear in the upstream gradient, gives gradients of the input's shape and dtype that alias nothing,
and mutates neither the inputs nor the upstream gradient. Then invariants on random values: softmax
rows sum to 1 and ignore shifts, σ(−x) = 1 − σ(x), CE(x + c) = CE(x), broadcasting gradients are the
upstream summed over the broadcast positions, tied maxima share the upstream gradient.

Every bug found here is pinned with @example (or as a row's fixed shapes in op_cases.py)."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from op_cases import CASES, engine_inputs, make_inputs
from tinygrad_edu import Tensor

SEEDS = st.integers(0, 2 ** 32 - 1)


def _backward(case, arrays, upstream):
    inputs = engine_inputs(case, arrays)
    out = case.fn(*inputs)
    out.backward(upstream)
    return out, [inputs[i].grad for i in case.wrt], inputs


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
@settings(max_examples=4)
@given(data=st.data())
def test_backward_is_deterministic_linear_and_alias_free(case, data):
    shapes = data.draw(case.shape_st, label="shapes")
    rng = np.random.default_rng(data.draw(SEEDS, label="seed"))
    arrays = make_inputs(case, shapes, rng)
    originals = [a.copy() for a in arrays]
    out_shape = np.shape(case.ref(*arrays))
    v1, v2 = rng.standard_normal(out_shape), rng.standard_normal(out_shape)
    v1_before = v1.copy()

    out, g1, inputs = _backward(case, arrays, v1)
    # shape and dtype of every gradient are those of its input
    for g, i in zip(g1, case.wrt):
        assert g.shape == arrays[i].shape and g.dtype == arrays[i].dtype
    # nothing mutated: inputs (the leaves' data and the caller's arrays) and the upstream gradient
    np.testing.assert_array_equal(v1, v1_before)
    for a, o, t in zip(arrays, originals, inputs):
        np.testing.assert_array_equal(a, o)
        np.testing.assert_array_equal(t.data if isinstance(t, Tensor) else t, o)
    # no gradient shares memory with another gradient, the upstream gradient or any input
    held = [g.data for g in g1]
    others = [v1] + [t.data if isinstance(t, Tensor) else t for t in inputs] + [out.data]
    for k, h in enumerate(held):
        for other in held[k + 1:] + others:
            assert not np.shares_memory(h, other)
    # deterministic: a second run from scratch is bitwise equal
    out_again, g1_again, _ = _backward(case, arrays, v1)
    assert np.array_equal(out.data, out_again.data, equal_nan=True)
    for a, b in zip(g1, g1_again):
        assert np.array_equal(a.data, b.data)
    # linear in the upstream gradient: g(a·v1 + b·v2) = a·g(v1) + b·g(v2)
    _, g2, _ = _backward(case, arrays, v2)
    _, g12, _ = _backward(case, arrays, 2.0 * v1 - 0.5 * v2)
    for a, b, c in zip(g1, g2, g12):
        np.testing.assert_allclose(c.data, 2.0 * a.data - 0.5 * b.data, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------------------------------
# Forward on arbitrary finite values


FINITE = st.floats(-50, 50, allow_nan=False, allow_subnormal=False)


@settings(max_examples=40)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=5), elements=FINITE),
       op=st.sampled_from(["neg", "exp", "tanh", "sigmoid", "relu", "abs", "square"]))
def test_elementwise_forward_on_arbitrary_values(x, op):
    reference = {"neg": np.negative, "exp": np.exp, "tanh": np.tanh, "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
                 "relu": lambda a: np.maximum(a, 0.0), "abs": np.abs, "square": np.square}[op]
    out = getattr(Tensor(x), op)() if op != "neg" else -Tensor(x)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.data, reference(x), rtol=1e-13, atol=1e-300)


# ---------------------------------------------------------------------------------------------------
# Invariants


ROWS = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 5)),
                  elements=st.floats(-1e3, 1e3, allow_nan=False))
SHIFTS = st.floats(-1e3, 1e3, allow_nan=False)


@settings(max_examples=40)
@given(x=ROWS, shift=SHIFTS)
@example(x=np.array([[1000.0, -1000.0]]), shift=1000.0)
@example(x=np.zeros((1, 1)), shift=0.0)
def test_softmax_rows_sum_to_one_and_ignore_shifts(x, shift):
    p = Tensor(x).softmax().data
    assert (p >= 0).all() and np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(Tensor(x + shift).softmax().data, p, atol=1e-9)
    logp = Tensor(x).log_softmax().data
    assert (logp <= 0).all()
    lse = Tensor(x).logsumexp().data
    assert (lse >= x.max(axis=1) - 1e-9).all() and (lse <= x.max(axis=1) + np.log(x.shape[1]) + 1e-9).all()


@settings(max_examples=40)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2), elements=st.floats(-40, 40)))
def test_sigmoid_is_symmetric(x):
    np.testing.assert_allclose(Tensor(-x).sigmoid().data, 1 - Tensor(x).sigmoid().data, atol=2e-16)


@settings(max_examples=40)
@given(x=ROWS, shift=SHIFTS, seed=SEEDS, reduction=st.sampled_from(["mean", "sum", "none"]))
def test_cross_entropy_ignores_shifts_of_the_logits(x, shift, seed, reduction):
    labels = np.random.default_rng(seed).integers(0, x.shape[1], x.shape[0])
    a = Tensor(x, requires_grad=True)
    b = Tensor(x + shift, requires_grad=True)
    la, lb = a.softmax_cross_entropy(labels, reduction), b.softmax_cross_entropy(labels, reduction)
    np.testing.assert_allclose(lb.data, la.data, rtol=1e-9, atol=1e-9)
    up = None if reduction != "none" else np.ones(x.shape[0])
    la.backward(up)
    lb.backward(up)
    np.testing.assert_allclose(b.grad.data, a.grad.data, atol=1e-9)
    # each row of the gradient sums to 0 (softmax − onehot), scaled by the reduction
    np.testing.assert_allclose(a.grad.data.sum(axis=1), 0.0, atol=1e-12)


@settings(max_examples=60)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3), seed=SEEDS)
@example(shapes=hnp.BroadcastableShapes(input_shapes=((2, 2), ()), result_shape=(2, 2)), seed=0)
@example(shapes=hnp.BroadcastableShapes(input_shapes=((), (5, 1)), result_shape=(5, 1)), seed=0)
def test_broadcast_gradient_is_the_upstream_summed_over_each_input_position(shapes, seed):
    """Independent oracle: label every input element, broadcast the labels, and add the upstream
    gradient per label (np.bincount)."""
    (sa, sb), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    a = Tensor(rng.standard_normal(sa), requires_grad=True)
    b = Tensor(rng.standard_normal(sb), requires_grad=True)
    v = rng.standard_normal(out_shape)
    (a * 2.0 + b).backward(v)
    for t, coeff in ((a, 2.0), (b, 1.0)):
        labels = np.broadcast_to(np.arange(t.size).reshape(t.shape), out_shape)
        expected = np.bincount(labels.ravel(), weights=v.ravel(), minlength=t.size).reshape(t.shape)
        np.testing.assert_allclose(t.grad.data, coeff * expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=60)
@given(x=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=st.integers(-2, 2)),
       axis=st.sampled_from([None, 0, 1]))
def test_tied_maxima_share_the_upstream_gradient(x, axis):
    """Small integers make ties common: the gradient lands only on maxima, splits equally among ties
    and adds up to the upstream gradient of each reduced group."""
    t = Tensor(x, requires_grad=True)
    out = t.max(axis=axis)
    g = np.full(out.shape, 3.0)
    out.backward(g)
    grad = t.grad.data
    is_max = x == x.max(axis=axis, keepdims=True)
    assert (grad[~is_max] == 0).all()
    ties = is_max.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(grad, np.where(is_max, 3.0 / ties, 0.0), rtol=1e-15)
    np.testing.assert_allclose(grad.sum(axis=axis), g, rtol=1e-12)


@settings(max_examples=40)
@given(n=st.integers(1, 6), index=st.lists(st.integers(0, 5), min_size=0, max_size=8), seed=SEEDS)
def test_repeated_indices_accumulate_like_bincount(n, index, seed):
    index = np.array([i % n for i in index], dtype=np.intp)
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal(n), requires_grad=True)
    out = x[index]
    v = rng.standard_normal(out.shape)
    out.backward(v)
    np.testing.assert_allclose(x.grad.data, np.bincount(index, weights=v, minlength=n), atol=1e-15)
