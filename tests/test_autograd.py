"""How the backward pass behaves: accumulation over every path (x·x, diamonds, fan-out), leaf grads
across calls, retain_graph, no_grad, create_graph (second derivatives against closed forms and a
finite difference of the documents' hand-derived gradients), grad(), in-place detection, dtypes,
aliasing, deep graphs, and the layering rule (the engine never imports nn)."""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import (DTypeError, GraphError, Tensor, enable_grad, grad, gradgradcheck, name_scope,
                          no_grad, record_scopes, scopes_recording, toposort)

# ---------------------------------------------------------------------------------------------------
# Gradients accumulate over every path


def test_x_times_x():
    x = Tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0


def test_early_tinygrad_overwrite_bug():
    """b = a·a, c = b + b: dc/da = 4a = 12 at a = 3 (overwriting gradients gave 3, then 24)."""
    a = Tensor(3.0, requires_grad=True)
    b = a * a
    c = b + b
    c.backward()
    assert a.grad.item() == 12.0


def test_diamond():
    """x → (tanh, exp) → product: d/dx [tanh(x)·eˣ] = (1 − tanh²x)·eˣ + tanh(x)·eˣ."""
    xv = np.array([-0.7, 0.2, 1.3])
    x = Tensor(xv, requires_grad=True)
    (x.tanh() * x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad.data, (1 - np.tanh(xv) ** 2) * np.exp(xv) + np.tanh(xv) * np.exp(xv))


def test_fan_out_one_node_many_consumers():
    xv = np.array([0.5, -1.0])
    x = Tensor(xv, requires_grad=True)
    h = x.sigmoid()                                   # consumed by four different ops
    loss = (h * 2 + h.square() - h / 4 + h.exp()).sum()
    loss.backward()
    s = 1 / (1 + np.exp(-xv))
    np.testing.assert_allclose(x.grad.data, (2 + 2 * s - 0.25 + np.exp(s)) * s * (1 - s))


def test_same_leaf_reused_everywhere():
    x = Tensor(2.0, requires_grad=True)
    y = x + x * x + x ** 3 - x / x                     # 1 + 2x + 3x² − 0 = 17
    y.backward()
    assert x.grad.item() == pytest.approx(17.0, rel=1e-15)


def test_diamonds_of_diamonds_visit_each_op_once():
    """60 stacked diamonds have 2^60 paths; backward is linear, so it must not walk paths."""
    x = Tensor(1.0, requires_grad=True)
    h = x
    for _ in range(60):
        h = h * 1.0 + h * 1.0                          # each level doubles the derivative
    steps = h.backward(trace=True)
    assert x.grad.item() == 2.0 ** 60
    assert len(steps) == 60 * 3                        # two muls and one add per level, each once
    assert len({id(s.op) for s in steps}) == len(steps)


def test_trace_records_order_accumulation_and_broadcast():
    x = Tensor([[1.0, 2.0]], requires_grad=True)      # (1, 2)
    b = Tensor([0.5], requires_grad=True)             # (1,) broadcast to (1, 2)
    h = x * 3
    loss = (h * h + b).sum()
    steps = loss.backward(trace=True)
    assert [s.index for s in steps] == list(range(1, len(steps) + 1))
    assert [s.op.name for s in steps] == ["sum", "add", "mul", "mul"]
    assert steps[0].op is loss.grad_fn and steps[0].output is loss
    add = steps[1]
    by_tensor = {id(c.tensor): c for c in add.contributions}
    assert by_tensor[id(b)].summed_from == (1, 2)      # b's gradient was summed back from (1, 2)
    np.testing.assert_array_equal(by_tensor[id(b)].grad, [2.0])
    square = steps[2]                                  # h * h: the second contribution to h accumulates
    assert [c.accumulated for c in square.contributions] == [False, True]
    np.testing.assert_array_equal(steps[3].grad_output, 2 * h.data)


def test_toposort_lists_each_tensor_before_its_inputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    a = x.tanh()
    b = a * x
    s = a + b
    c = s.sum()
    order = toposort([c])
    assert order[0] is c
    assert sorted(map(id, order)) == sorted(map(id, [a, b, s, c]))     # recorded tensors only, once each
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        for p in t.grad_fn.inputs:
            if isinstance(p, Tensor) and p.grad_fn is not None:
                assert position[id(t)] < position[id(p)]


# ---------------------------------------------------------------------------------------------------
# Leaf gradients across calls, zeroing, non-leaf gradients


def test_leaf_grad_accumulates_across_calls_until_zeroed():
    x = Tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [4.0, -8.0])
    x.zero_grad()
    assert x.grad is None
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])
    x.zero_grad(set_to_none=False)
    assert x.grad.dtype == x.dtype and x.grad.shape == x.shape
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_non_leaf_grads_are_kept_only_with_retain_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None and not h.is_leaf
    np.testing.assert_array_equal(k.grad.data, h.data)           # d(h·k)/dk = h
    np.testing.assert_array_equal(x.grad.data, 12 * x.data)       # d(6x²)/dx


def test_retained_grad_accumulates_over_paths():
    x = Tensor(1.5, requires_grad=True)
    h = x.tanh()
    h.retain_grad()
    (h * h + 3 * h).backward()
    assert h.grad.item() == pytest.approx(2 * np.tanh(1.5) + 3)


def test_backward_on_a_leaf_gives_it_the_upstream_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    g = np.array([0.5, -1.0])
    x.backward(g)
    np.testing.assert_array_equal(x.grad.data, g)


# ---------------------------------------------------------------------------------------------------
# retain_graph, released graphs


def test_second_backward_through_released_graph_raises():
    x = Tensor([0.3, 0.4], requires_grad=True)
    loss = x.tanh().sum()
    loss.backward()
    assert loss.grad_fn.released and loss.grad_fn.inputs[0].grad_fn.released
    before = x.grad.data.copy()
    with pytest.raises(GraphError, match="retain_graph"):
        loss.backward()
    np.testing.assert_array_equal(x.grad.data, before)


def test_retain_graph_allows_a_second_backward():
    x = Tensor([0.3, 0.4], requires_grad=True)
    loss = x.tanh().sum()
    loss.backward(retain_graph=True)
    assert not loss.grad_fn.released
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * (1 - np.tanh([0.3, 0.4]) ** 2))
    assert loss.grad_fn.released


def test_failed_backward_through_partly_released_graph_changes_nothing():
    """New ops on top of a released graph: the error must come before any gradient is stored."""
    x = Tensor([1.0], requires_grad=True)
    y = Tensor([2.0], requires_grad=True)
    k = x.tanh() * 2
    k.sum().backward()                                 # frees tanh and mul
    s = k + y
    s.retain_grad()
    total = s.sum()
    with pytest.raises(GraphError, match="retain_graph"):
        total.backward()
    assert y.grad is None and s.grad is None
    assert not s.grad_fn.released and not total.grad_fn.released      # nothing freed either
    np.testing.assert_allclose(x.grad.data, [2 * (1 - np.tanh(1.0) ** 2)])


# ---------------------------------------------------------------------------------------------------
# no_grad / enable_grad


def test_no_grad_context_manager():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not tg.is_grad_enabled()
        y = (w * 3).tanh()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(GraphError):
        y.sum().backward()


def test_no_grad_as_decorator_with_and_without_parentheses():
    w = Tensor([1.0], requires_grad=True)

    @no_grad
    def bare(t):
        return t * 2

    @no_grad()
    def called(t):
        return t * 2

    for f in (bare, called):
        out = f(w)
        assert not out.requires_grad and out.grad_fn is None
        np.testing.assert_array_equal(out.data, [2.0])
    assert bare.__name__ == "bare"
    assert tg.is_grad_enabled()


def test_enable_grad_inside_no_grad_and_restore_after_exception():
    w = Tensor([1.0], requires_grad=True)
    with no_grad():
        with enable_grad():
            y = w * 2
        z = w * 2
    assert y.requires_grad and not z.requires_grad
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError
    assert tg.is_grad_enabled()


# ---------------------------------------------------------------------------------------------------
# create_graph: second derivatives


def test_second_derivative_of_tanh_closed_form():
    xv = np.array([-1.5, -0.2, 0.0, 0.7, 2.0])
    x = Tensor(xv, requires_grad=True)
    (g,) = grad(x.tanh().sum(), [x], create_graph=True)
    t = np.tanh(xv)
    np.testing.assert_allclose(g.data, 1 - t ** 2)
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, -2 * t * (1 - t ** 2), atol=1e-15)


def test_second_derivative_of_sigmoid_via_backward_create_graph():
    xv = np.array([-2.0, 0.3, 1.1])
    x = Tensor(xv, requires_grad=True)
    x.sigmoid().sum().backward(create_graph=True)
    first = x.grad
    s = 1 / (1 + np.exp(-xv))
    np.testing.assert_allclose(first.data, s * (1 - s))
    x.grad = None
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, s * (1 - s) * (1 - 2 * s))


def test_third_derivative_of_x_cubed():
    x = Tensor(2.0, requires_grad=True)
    (d1,) = grad(x ** 3, [x], create_graph=True)
    (d2,) = grad(d1, [x], create_graph=True)
    (d3,) = grad(d2, [x])
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)


def test_hessian_vector_product_of_quadratic_matmul():
    """f(W) = ½‖A W‖²: ∇f = Aᵀ A W, so the Hessian-vector product with V is Aᵀ A V."""
    rng = np.random.default_rng(5)
    A = rng.standard_normal((4, 3))
    W = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    V = rng.standard_normal((3, 2))
    f = 0.5 * ((Tensor(A) @ W) ** 2).sum()
    (g,) = grad(f, [W], create_graph=True)
    np.testing.assert_allclose(g.data, A.T @ A @ W.data)
    (hv,) = grad((g * V).sum(), [W])
    np.testing.assert_allclose(hv.data, A.T @ A @ V)


def _mlp_hand_gradients(X, Y, W1, b1, W2, b2):
    """The documents' hand-derived backprop for z1 = XW1 + b1, a1 = tanh z1, z2 = a1W2 + b2, softmax,
    mean cross-entropy: δ3 = (ŷ − y)/N, dW2 = a1ᵀδ3, db2 = Σδ3, δ2 = (1 − a1²)∘δ3W2ᵀ, dW1 = Xᵀδ2,
    db1 = Σδ2."""
    a1 = np.tanh(X @ W1 + b1)
    z2 = a1 @ W2 + b2
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    probs = e / e.sum(axis=1, keepdims=True)
    delta3 = (probs - Y) / len(X)
    delta2 = (1 - a1 ** 2) * (delta3 @ W2.T)
    return [X.T @ delta2, delta2.sum(axis=0), a1.T @ delta3, delta3.sum(axis=0)]


def test_mlp_gradients_and_hessian_vector_products_against_hand_derived_backprop():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((6, 2))
    labels = np.array([0, 1, 1, 0, 1, 0])
    Y = np.eye(2)[labels]
    values = [rng.standard_normal((2, 4)), rng.standard_normal(4) * 0.1,
              rng.standard_normal((4, 2)), rng.standard_normal(2) * 0.1]
    params = [Tensor(v.copy(), requires_grad=True) for v in values]
    W1, b1, W2, b2 = params
    loss = ((Tensor(X) @ W1 + b1).tanh() @ W2 + b2).softmax_cross_entropy(labels)
    grads = grad(loss, params, create_graph=True)
    for g, expected in zip(grads, _mlp_hand_gradients(X, Y, *values)):
        np.testing.assert_allclose(g.data, expected, rtol=1e-10, atol=1e-14)
    vs = [rng.standard_normal(v.shape) for v in values]
    hvs = grad(sum((g * v).sum() for g, v in zip(grads, vs)), params)
    # Central difference of the hand-derived gradient along direction v
    eps = 1e-5
    plus = _mlp_hand_gradients(X, Y, *[p + eps * v for p, v in zip(values, vs)])
    minus = _mlp_hand_gradients(X, Y, *[p - eps * v for p, v in zip(values, vs)])
    for hv, gp, gm in zip(hvs, plus, minus):
        np.testing.assert_allclose(hv.data, (gp - gm) / (2 * eps), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name, fn, shapes", [
    ("tanh chain", lambda x: (x.tanh() * 1.5).tanh().tanh(), [(3,)]),
    ("sigmoid chain", lambda x: x.sigmoid().sigmoid() * x, [(2, 2)]),
    ("matmul chain", lambda x, W1, W2: ((x @ W1).tanh() @ W2).sigmoid(), [(2, 3), (3, 4), (4, 2)]),
    ("matmul softmax CE", lambda x, W: (x @ W).softmax_cross_entropy(np.array([0, 2])), [(2, 3), (3, 3)]),
])
def test_gradgradcheck_on_chains(name, fn, shapes):
    rng = np.random.default_rng(2)
    inputs = [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert gradgradcheck(fn, inputs).ok


def test_create_graph_gradients_do_not_alias():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([3.0, 4.0], requires_grad=True)
    g = Tensor([1.0, -1.0])
    (x + y).backward(g, create_graph=True)
    assert x.grad is not y.grad and x.grad is not g and y.grad is not g
    assert not np.shares_memory(x.grad.data, y.grad.data)
    assert not np.shares_memory(x.grad.data, g.data)


# ---------------------------------------------------------------------------------------------------
# grad()


def test_grad_does_not_touch_dot_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * x
    h.retain_grad()
    gx, gh = grad((h * 3).sum(), [x, h])
    np.testing.assert_array_equal(gx.data, 6 * x.data)
    np.testing.assert_array_equal(gh.data, [3.0, 3.0])
    assert x.grad is None and h.grad is None
    x.grad = Tensor([7.0, 7.0])
    gx2 = grad((x * x).sum(), x)
    np.testing.assert_array_equal(x.grad.data, [7.0, 7.0])
    np.testing.assert_array_equal(gx2.data, [2.0, 4.0])


def test_grad_allow_unused_and_tuple_results():
    x = Tensor(1.0, requires_grad=True)
    unused = Tensor(2.0, requires_grad=True)
    with pytest.raises(GraphError, match="allow_unused"):
        grad(x * 2, [x, unused])
    gx, gu = grad(x * 2, [x, unused], allow_unused=True)
    assert gx.item() == 2.0 and gu is None


def test_grad_with_several_outputs_and_grad_outputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    gx = grad([x * 2, x * x], x, grad_outputs=[np.array([1.0, 1.0]), np.array([0.5, 2.0])])
    np.testing.assert_array_equal(gx.data, [2 + 1.0, 2 + 8.0])


# ---------------------------------------------------------------------------------------------------
# In-place changes


def test_inplace_change_of_a_saved_weight_is_detected():
    x = Tensor([[1.0, 2.0]])
    W = Tensor([[1.0], [1.0]], requires_grad=True)
    loss = (x @ W).sum()
    with no_grad():
        W -= 1
    with pytest.raises(GraphError, match=r"^matmul: .*modified in place"):
        loss.backward()
    assert W.grad is None


def test_inplace_change_of_a_saved_output_is_detected():
    x = Tensor([0.1, 0.2], requires_grad=True)
    y = x.exp()
    with no_grad():
        y *= 2
    with pytest.raises(GraphError, match="^exp: "):
        y.sum().backward()


def test_inplace_change_through_a_view_or_detached_alias_is_detected():
    base = Tensor(np.arange(4.0))
    W = Tensor(np.ones(3), requires_grad=True)
    loss = (base[1:] * W).sum()                       # mul saved a view of base
    base[2] = 10.0                                    # allowed: base does not require grad
    with pytest.raises(GraphError, match="^mul: "):
        loss.backward()
    V = Tensor(np.ones(2), requires_grad=True)
    loss2 = (V * V).sum()
    alias = V.detach()                                # shares V's memory
    alias += 1
    with pytest.raises(GraphError, match="^mul: "):
        loss2.backward()


def test_inplace_change_of_arrays_an_op_did_not_save_is_allowed():
    c = Tensor([1.0, 2.0])
    W = Tensor([0.5, 0.5], requires_grad=True)
    loss = (W + c).tanh().sum() + (W - c).sum()       # + and − never read their inputs in backward
    c += 100.0
    with no_grad():
        W += 1.0
    loss.backward()
    np.testing.assert_allclose(W.grad.data, 1 - np.tanh([1.5, 2.5]) ** 2 + 1)


def test_fused_linear_allows_changing_its_bias_like_x_at_W_plus_b():
    """linear's backward never reads b; the unfused x @ W + b never saved it either."""
    x = Tensor([[1.0, 2.0]])
    W = Tensor([[1.0], [3.0]], requires_grad=True)
    b = Tensor([0.5], requires_grad=True)
    loss = x.linear(W, b).sum()
    with no_grad():
        b -= 1.0
    loss.backward()
    np.testing.assert_array_equal(W.grad.data, [[1.0], [2.0]])
    np.testing.assert_array_equal(b.grad.data, [1.0])
    loss2 = x.linear(W, b).sum()
    with no_grad():
        W -= 1.0                                       # W is read by backward: refused
    with pytest.raises(GraphError, match="^linear: "):
        loss2.backward()


def test_inplace_update_of_leaf_outside_no_grad_raises_and_changes_nothing():
    W = Tensor([1.0, 2.0], requires_grad=True)
    for update in (lambda: W.__iadd__(1.0), lambda: W.__imul__(2.0), lambda: W.sub_(1.0),
                   lambda: W.fill_(0.0), lambda: W.zero_(), lambda: W.__setitem__(0, 5.0)):
        with pytest.raises(GraphError, match="no_grad"):
            update()
    np.testing.assert_array_equal(W.data, [1.0, 2.0])


def test_optimizer_style_update_inside_no_grad_then_train_again():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    W = Tensor(np.zeros(3), requires_grad=True)
    losses = []
    for _ in range(200):
        loss = (Tensor(X) @ W).mse(y)
        losses.append(loss.item())
        loss.backward()
        with no_grad():
            W.add_(W.grad, alpha=-0.2)                 # the plain gradient-descent step
        W.zero_grad()
    assert losses[-1] < 1e-6 * losses[0]
    np.testing.assert_allclose(W.data, [1.0, -2.0, 0.5], atol=1e-3)


def test_assigning_data_keeps_the_recorded_values():
    W = Tensor([2.0], requires_grad=True)
    loss = (W * W).sum()
    W.data = np.array([100.0])                        # replaces the array; the graph kept the old one
    loss.backward()
    np.testing.assert_array_equal(W.grad.data, [4.0])


# ---------------------------------------------------------------------------------------------------
# dtypes


def test_float32_network_stays_float32():
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((5, 3)).astype(np.float32))
    W1 = Tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    b1 = Tensor(np.zeros(4, np.float32), requires_grad=True)
    W2 = Tensor(rng.standard_normal((4, 2)).astype(np.float32), requires_grad=True)
    h = (x @ W1 + b1).tanh()
    z = (h * 0.5 + 1).sigmoid() @ W2 / 3.0 - 2 ** (-h.mean())
    loss = z.softmax_cross_entropy(np.array([0, 1, 1, 0, 1])) + z.mse(np.zeros((5, 2), np.float32)) \
        + z.binary_cross_entropy_with_logits(np.ones((5, 2), np.float32), "sum") * 0.1
    for t in (h, z, loss):
        assert t.dtype == np.float32
    loss.backward()
    for p in (W1, b1, W2):
        assert p.grad.dtype == np.float32


@pytest.mark.parametrize("expr", [
    lambda t: t * 2.5, lambda t: 2.5 * t, lambda t: t + 1, lambda t: 1 - t, lambda t: t / 3.0,
    lambda t: 3.0 / t, lambda t: t ** 2.0, lambda t: t ** 3, lambda t: 2.0 ** t, lambda t: t.clip(0.1, 0.9),
    lambda t: t.mean(), lambda t: t.sum() * 1e-3, lambda t: t.logsumexp(), lambda t: t.max() - 1.5,
])
def test_python_scalar_never_upcasts_float32(expr):
    t = Tensor(np.array([0.5, 1.5], np.float32), requires_grad=True)
    out = expr(t)
    assert out.dtype == np.float32
    out.sum().backward()
    assert t.grad.dtype == np.float32


def test_float32_with_float64_promotes_but_each_grad_keeps_its_dtype():
    a = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64                    # NumPy's promotion rule
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])
    np.testing.assert_array_equal(b.grad.data, [1.0, 2.0])


def test_integer_tensors_take_part_but_cannot_require_grad():
    counts = Tensor([1, 2, 3])
    assert counts.dtype.kind == "i"
    with pytest.raises(DTypeError):
        counts.requires_grad_()
    w = Tensor([0.5, 0.5, 0.5], requires_grad=True)
    (counts * w).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 2.0, 3.0])
    assert counts.grad is None and not counts.requires_grad


# ---------------------------------------------------------------------------------------------------
# Aliasing and mutation


@pytest.mark.parametrize("build", [
    lambda x, y: x + y,
    lambda x, y: x - y,
    lambda x, y: (x + y).reshape(2, 1),
    lambda x, y: x.reshape(2, 1) + y.reshape(2, 1) * 1.0,
    lambda x, y: (x.T + y.broadcast_to((2,))),
    lambda x, y: x.astype(np.float64) + y.astype(np.float64),
    lambda x, y: x[np.array([0, 1])] + y[0:2],
])
def test_gradients_never_alias_each_other_or_the_upstream_gradient(build):
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    x, y = Tensor(xv.copy(), requires_grad=True), Tensor(yv.copy(), requires_grad=True)
    out = build(x, y)
    g = np.arange(1.0, 1.0 + out.size).reshape(out.shape)
    g_before = g.copy()
    out.backward(g)
    arrays = [x.grad.data, y.grad.data, g]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.shares_memory(arrays[i], arrays[j])
    np.testing.assert_array_equal(g, g_before)         # upstream gradient untouched
    np.testing.assert_array_equal(x.data, xv)          # inputs untouched
    np.testing.assert_array_equal(y.data, yv)
    x.grad.data[...] = -99                             # changing one gradient changes no other
    np.testing.assert_array_equal(g, g_before)
    assert not (y.grad.data == -99).any()


def test_leaf_root_grad_does_not_alias_upstream():
    x = Tensor([1.0, 2.0], requires_grad=True)
    g = np.array([5.0, 6.0])
    x.backward(g)
    assert not np.shares_memory(x.grad.data, g)


def test_the_implicit_root_gradient_is_never_handed_out_or_changed():
    # backward() without grad= starts from a cached read-only 1: whatever keeps it gets its own copy.
    for dtype in (np.float64, np.float32):
        x = Tensor(np.array(2.0, dtype=dtype), requires_grad=True)
        x.backward()                                    # the root is the leaf itself
        x.grad.data[...] += 10                          # the stored gradient is the user's to change
        h = Tensor(np.array([3.0], dtype=dtype), requires_grad=True) * 1.0
        h.retain_grad()
        h.backward()
        h.grad.data[...] += 100
        y = Tensor(np.array(7.0, dtype=dtype), requires_grad=True)
        (g,) = grad(y * 1.0, [y])
        g.data[...] += 1000
        z = Tensor(np.array(1.5, dtype=dtype), requires_grad=True)
        (z * 3).backward()
        assert x.grad.item() == 11 and h.grad.item() == 101 and g.item() == 1001
        assert z.grad.item() == 3 and z.grad.dtype == dtype


@pytest.mark.parametrize("shape", [(3, 4), (1, 25), (80, 80)])     # 80 x 80 > 4096: stays a view
@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_a_reduction_spreads_its_gradient_back_into_fresh_arrays(shape, reduce):
    x = Tensor(np.random.RandomState(0).randn(*shape), requires_grad=True)
    y = Tensor(np.random.RandomState(1).randn(*shape), requires_grad=True)
    getattr((x * y).tanh(), reduce)().backward()
    scale = 1.0 / x.size if reduce == "mean" else 1.0
    expect = scale * (1 - np.tanh(x.data * y.data) ** 2)
    np.testing.assert_allclose(x.grad.data, expect * y.data, rtol=1e-12)
    np.testing.assert_allclose(y.grad.data, expect * x.data, rtol=1e-12)
    w = Tensor(np.ones(shape), requires_grad=True)
    getattr(w, reduce)().backward()                     # the spread gradient lands in a leaf directly
    np.testing.assert_array_equal(w.grad.data, np.full(shape, scale))
    w.grad.data[0, 0] = -5.0                            # writable, and it owns its memory
    assert w.grad.data.base is None and (w.grad.data == scale).sum() == w.size - 1


def test_retained_grad_does_not_alias_leaf_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x + 0.0
    h.retain_grad()
    h.backward(np.array([1.0, 1.0]))
    assert not np.shares_memory(h.grad.data, x.grad.data)


def test_grad_results_do_not_alias_each_other_or_grad_outputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([3.0, 4.0], requires_grad=True)
    go = np.array([1.0, -1.0])
    gx, gy = grad(x + y, [x, y], grad_outputs=go)
    assert not np.shares_memory(gx.data, gy.data)
    assert not np.shares_memory(gx.data, go) and not np.shares_memory(gy.data, go)


def test_an_earlier_gradient_is_not_mutated_by_accumulation():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    first = x.grad
    first_values = first.data
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])
    np.testing.assert_array_equal(first_values, [2.0, 2.0])


# ---------------------------------------------------------------------------------------------------
# Name scopes


def test_name_scope_labels_recorded_ops():
    x = Tensor([1.0], requires_grad=True)
    assert not scopes_recording()
    with record_scopes():
        assert scopes_recording()
        with name_scope("encoder"):
            h = x.tanh()
            with name_scope("inner"):
                k = h * 2
    out = k + 1
    assert not scopes_recording()
    assert h.grad_fn.scope == "encoder" and k.grad_fn.scope == "encoder/inner" and out.grad_fn.scope is None
    assert h.grad_fn.name == "tanh" and "1 − y²" in h.grad_fn.rule


# ---------------------------------------------------------------------------------------------------
# Deep and wide graphs


def test_chain_of_ten_thousand_ops_and_wide_fan_in_fan_out():
    x = Tensor(0.5, requires_grad=True)
    h = x
    for _ in range(10_000):
        h = h * 1.0001
    h.backward()
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-9)
    leaves = [Tensor(float(i), requires_grad=True) for i in range(10_000)]
    total = sum(leaves[1:], leaves[0] * 1.0)           # 10^4 terms summed into one value
    steps = total.backward(trace=True)
    assert len(steps) == 10_000
    assert all(t.grad.item() == 1.0 for t in leaves)
    y = Tensor(0.3, requires_grad=True)
    hub = y.tanh()                                    # one node consumed 10^4 times
    out = sum((hub * float(i) for i in range(1, 10_001)), Tensor(0.0))
    steps = out.backward(trace=True)
    assert sum(s.op is hub.grad_fn for s in steps) == 1
    assert y.grad.item() == pytest.approx((1 - np.tanh(0.3) ** 2) * 10_000 * 10_001 / 2, rel=1e-12)


DEEP_CHAIN_SCRIPT = textwrap.dedent("""
    import gc, json, sys, weakref
    import numpy as np
    import tinygrad_edu as tg
    from tinygrad_edu import Tensor
    gc.disable()                        # freeing must not depend on the cycle collector
    N = 100_000
    x = Tensor(np.array([0.5, -0.25]), requires_grad=True)
    sys.setrecursionlimit(200)          # nothing below may recurse with the depth of the graph
    h = x
    for i in range(N):
        h = h * 1.00001 if i % 2 else h + 0.5
    loss = h.sum()
    text = repr(loss) + repr(loss.grad_fn)
    order = tg.toposort([loss])
    loss.backward(retain_graph=True)
    released_ok = not loss.grad_fn.released
    dot = tg.to_dot(loss) + tg.format_graph(loss)      # drawings are cut to max_nodes, never recurse
    loss.backward()
    first_released = loss.grad_fn.released
    probe = weakref.ref(order[len(order) // 2])
    del order, h
    del loss
    freed = probe() is None
    print(json.dumps({"grad": x.grad.data.tolist(), "n_order": N + 1, "freed": freed,
                      "released": first_released and released_ok, "dot": len(dot) > 0, "repr": len(text)}))
""")


def test_chain_of_one_hundred_thousand_ops_without_recursion():
    """Build, repr, toposort, backward twice, draw and free a 10^5-op chain with the recursion limit
    at 200 and the garbage collector off (in a subprocess: a crash must not take pytest down)."""
    run = subprocess.run([sys.executable, "-c", DEEP_CHAIN_SCRIPT], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    # d/dx of 50,000 multiplications by 1.00001 (the additions pass the gradient through), twice
    np.testing.assert_allclose(result["grad"], [2 * 1.00001 ** 50_000] * 2, rtol=1e-9)
    assert result["freed"] and result["released"] and result["dot"]


# ---------------------------------------------------------------------------------------------------
# Layering


def test_importing_the_engine_imports_neither_nn_nor_heavy_libraries():
    code = ("import sys, tinygrad_edu; "
            "print([m for m in ('nn', 'graphviz', 'matplotlib', 'torch', 'sklearn', 'scipy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
