"""PyTorch-shaped breadth (issue 14): the behaviour of the new ops and names that the op table
(tests/op_cases.py, which checks every op's values and gradients) does not cover - spellings and their
meaning, factories and random draws (also inside te.compile), NumPy's functions on Tensors, gradients
at special points worked out by hand, and clear errors for bad input."""
import warnings

import numpy as np
import pytest

import tinygrad_edu as te
from tinygrad_edu import ArgumentError, DTypeError, IndexOutOfRange, ShapeError, Tensor

A = np.arange(12.0).reshape(3, 4) / 7 - 0.5


def leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------------------------------------------
# Spellings: PyTorch's beside NumPy's, and where they mean different things


def test_transpose_with_two_axes_swaps_them_as_in_pytorch():
    x = Tensor(A)
    np.testing.assert_array_equal(x.transpose(0, 1).data, A.T)          # NumPy: A.transpose(0, 1) is A
    np.testing.assert_array_equal(x.transpose(1, 0).data, A.T)
    np.testing.assert_array_equal(x.transpose((0, 1)).data, A)          # one tuple: NumPy's permutation
    np.testing.assert_array_equal(x.transpose().data, A.T)
    b = np.arange(24.0).reshape(2, 3, 4)
    assert Tensor(b).transpose(0, 2).shape == (4, 3, 2)                 # swap the first and last
    assert Tensor(b).transpose(2, 0, 1).shape == (4, 2, 3)              # three numbers: a permutation
    assert Tensor(b).permute(2, 0, 1).shape == Tensor(b).permute((2, 0, 1)).shape == (4, 2, 3)
    np.testing.assert_array_equal(Tensor(b).transpose(-1, 0).data, np.swapaxes(b, -1, 0))


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "amax", "amin", "logsumexp", "argmax", "argmin"])
def test_dim_and_keepdim_mean_axis_and_keepdims(name):
    x = Tensor(A)
    for axis in (0, 1, -1):
        for keep in (False, True):
            a = getattr(x, name)(axis=axis, keepdims=keep)
            b = getattr(x, name)(dim=axis, keepdim=keep)
            np.testing.assert_array_equal(a.data, b.data)
            assert a.shape == b.shape


def test_giving_both_axis_and_dim_is_refused():
    with pytest.raises(ArgumentError, match="sum: give axis= .* or dim="):
        Tensor(A).sum(axis=0, dim=1)
    with pytest.raises(ArgumentError, match="max: give axis= .* or dim="):
        Tensor(A).max(axis=0, dim=1)


def test_max_and_min_with_dim_return_values_and_indices_as_in_pytorch():
    x = leaf([[1.0, 5.0, 2.0], [7.0, 3.0, 7.0]])
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values.data, [5.0, 7.0])
    np.testing.assert_array_equal(indices.data, [1, 0])                 # the first of tied maxima
    assert indices.dtype.kind == "i" and not indices.requires_grad
    out = x.min(dim=0, keepdim=True)
    assert out.values.shape == out.indices.shape == (1, 3)
    np.testing.assert_array_equal(out.indices.data, [[0, 1, 0]])
    np.testing.assert_array_equal(x.max(1).data, [5.0, 7.0])            # NumPy spelling: the values
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 1, 0], [0.5, 0, 0.5]])   # ties split the gradient
    np.testing.assert_array_equal(x.max(Tensor([[2.0, 2.0, 2.0]])).data, [[2, 5, 2], [7, 3, 7]])   # torch.max(a, b)


def test_var_default_follows_the_spelling():
    x = Tensor(A)
    np.testing.assert_allclose(x.var().item(), np.var(A))                       # NumPy: ddof=0
    np.testing.assert_allclose(x.var(axis=1).data, np.var(A, axis=1))
    np.testing.assert_allclose(x.var(dim=1).data, np.var(A, axis=1, ddof=1))     # PyTorch: n − 1
    np.testing.assert_allclose(x.var(dim=1, correction=0).data, np.var(A, axis=1))
    np.testing.assert_allclose(x.var(dim=1, unbiased=False).data, np.var(A, axis=1))
    np.testing.assert_allclose(x.std(axis=0, ddof=1).data, np.std(A, axis=0, ddof=1))
    np.testing.assert_allclose(np.var(x, axis=0).data, np.var(A, axis=0))         # np.var on a Tensor
    np.testing.assert_allclose(np.std(x, ddof=1).item(), np.std(A, ddof=1))


def test_squeeze_with_axis_is_numpys_and_with_dim_is_pytorchs():
    x = Tensor(np.ones((1, 3, 1)))
    assert x.squeeze().shape == (3,)
    assert x.squeeze(0).shape == x.squeeze(axis=0).shape == (3, 1)
    assert x.squeeze(dim=(0, 2)).shape == (3,)
    assert x.squeeze(dim=1).shape == (1, 3, 1)                    # PyTorch: not size 1, left alone
    with pytest.raises(ShapeError, match="squeeze: axis 1 has size 3"):
        x.squeeze(axis=1)                                         # NumPy: an error
    with pytest.raises(ShapeError):
        np.squeeze(x, axis=1)                                     # np.squeeze on a Tensor: the same
    assert x.unsqueeze(0).shape == (1, 1, 3, 1) and x.unsqueeze(-1).shape == (1, 3, 1, 1)
    assert x.expand_dims((0, 2)).shape == (1, 1, 1, 3, 1)


def test_repeat_is_pytorchs_tile_and_np_repeat_is_repeat_interleave():
    x = Tensor([[1.0, 2.0]])
    np.testing.assert_array_equal(x.repeat(2, 2).data, [[1, 2, 1, 2], [1, 2, 1, 2]])
    np.testing.assert_array_equal(x.tile((2, 2)).data, np.tile([[1.0, 2.0]], (2, 2)))
    np.testing.assert_array_equal(np.repeat(x, 2, axis=1).data, [[1, 1, 2, 2]])
    np.testing.assert_array_equal(x.repeat_interleave(2).data, [1, 1, 2, 2])
    with pytest.raises(ArgumentError, match="repeat_interleave"):
        x.repeat(2, axis=1)


def test_split_is_pytorchs_and_np_split_is_numpys():
    x = leaf(np.arange(10.0))
    assert [p.shape for p in x.split(4)] == [(4,), (4,), (2,)]              # pieces of 4
    assert [p.shape for p in x.split([3, 7])] == [(3,), (7,)]
    assert [p.shape for p in np.split(x, 5)] == [(2,)] * 5                  # 5 sections
    assert [p.shape for p in np.split(x, [2, 5])] == [(2,), (3,), (5,)]     # cut at 2 and 5
    assert [p.shape for p in np.array_split(x, 3)] == [(4,), (3,), (3,)]
    assert [p.shape for p in x.chunk(3)] == [(4,), (4,), (2,)]
    with pytest.raises(ShapeError, match="split: sizes"):
        x.split([3, 3])
    pieces = np.split(x, [2, 5])
    (pieces[0].sum() + 2 * pieces[2].sum()).backward()
    np.testing.assert_array_equal(x.grad.data, [1, 1, 0, 0, 0, 2, 2, 2, 2, 2])


def test_method_spellings_of_operators_and_conversions():
    x, y = leaf([1.0, 2.0]), Tensor([3.0, 5.0])
    np.testing.assert_array_equal(x.add(y, alpha=2).data, [7.0, 12.0])
    np.testing.assert_array_equal(x.sub(y).data, [-2.0, -3.0])
    np.testing.assert_array_equal(x.mul(y).div(2).pow(2).data, [2.25, 25.0])
    np.testing.assert_array_equal(x.neg().data, [-1.0, -2.0])
    assert x.float().dtype == np.float32 and x.float().requires_grad
    assert x.double().dtype == np.float64 and x.long().dtype == np.int64
    assert x.to("cpu") is x and x.to(np.float32).dtype == np.float32 and x.to(Tensor([1], dtype=np.int32)).dtype == np.int32
    assert x.numel() == 2 and x.dim() == 1 and float(Tensor(2.5)) == 2.5
    for r, expected in ((x.eq(y), [0, 0]), (x.lt(y), [1, 1]), (x.ge(1.5), [0, 1]), (x.ne(1.0), [0, 1])):
        assert r.dtype == np.bool_ and r.grad_fn is None
        np.testing.assert_array_equal(r.data, expected)


def test_shape_helpers():
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.view(6, 4).shape == (6, 4) and x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).shape == (6, 4) and Tensor(3.0).flatten().shape == (1,)
    assert x[:, :1].expand(-1, 5, -1).shape == (2, 5, 4) and x.expand_as(x).shape == x.shape
    assert x[0].t().shape == (4, 3) and x.swapdims(0, 1).shape == (3, 2, 4)
    np.testing.assert_array_equal(x.flip(0, 2).data, np.flip(x.data, (0, 2)))
    np.testing.assert_array_equal(x.flip(dims=[1]).data, np.flip(x.data, 1))
    np.testing.assert_array_equal(x[0].tril(-1).data, np.tril(x.data[0], -1))
    np.testing.assert_array_equal(x.triu().data, np.triu(x.data))     # batched: the last two axes
    with pytest.raises(ShapeError, match="t\\(\\): expects"):
        x.t()


def test_argmax_and_argmin_have_no_gradient():
    x = leaf(A)
    for r in (x.argmax(), x.argmax(axis=1, keepdims=True), x.argmin(dim=0), np.argmax(x, axis=1)):
        assert not getattr(r, "requires_grad", False)
    np.testing.assert_array_equal(x.argmax(dim=1, keepdim=True).data, np.argmax(A, 1, keepdims=True))
    np.testing.assert_array_equal(x.argmin(axis=0).data, np.argmin(A, axis=0))


# ---------------------------------------------------------------------------------------------------
# Gradients at points worth checking by hand


def test_prod_gradient_with_zero_factors_is_the_product_of_the_others():
    x = leaf([2.0, 0.0, 3.0])
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 6.0, 0.0])         # not 0/0
    y = leaf([[0.0, 0.0, 5.0], [1.0, 2.0, 3.0]])
    y.prod(axis=1).backward(np.array([1.0, 10.0]))
    np.testing.assert_array_equal(y.grad.data, [[0.0, 0.0, 0.0], [60.0, 30.0, 20.0]])
    z = leaf([2.0, 0.0, 3.0])                                            # second derivative at a zero
    g = te.grad(z.prod(), z, create_graph=True)
    np.testing.assert_array_equal(te.grad(g[1], z).data, [3.0, 0.0, 2.0])   # d(x0·x2)/dx


def test_maximum_and_minimum_split_a_tie_like_pytorch():
    x, y = leaf([1.0, 2.0, 3.0]), leaf([1.0, 5.0, 0.0])
    (te.maximum(x, y).sum() + 10 * te.minimum(x, y).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, [5.5, 10.0, 1.0])
    np.testing.assert_array_equal(y.grad.data, [5.5, 1.0, 10.0])
    torch = pytest.importorskip("torch")
    tx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    ty = torch.tensor([1.0, 5.0, 0.0], dtype=torch.float64, requires_grad=True)
    (torch.maximum(tx, ty).sum() + 10 * torch.minimum(tx, ty).sum()).backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad.data, ty.grad.numpy())


def test_np_maximum_with_zero_is_the_maximum_op():
    z = leaf([-1.0, 0.0, 2.0])
    out = np.maximum(z, 0)
    assert type(out.grad_fn).__name__ == "Maximum"
    out.sum().backward()
    np.testing.assert_array_equal(z.grad.data, [0.0, 0.5, 1.0])          # at the tie: half (relu() gives 0)


def test_leaky_relu_and_elu_at_zero_follow_pytorch():
    x = leaf([0.0, -1.0, 2.0])
    (x.leaky_relu(0.1) + x.elu(0.5)).sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.1 + 0.5, 0.1 + 0.5 * np.exp(-1.0), 2.0])


def test_cumsum_gradient_is_the_reversed_running_sum():
    x = leaf([1.0, 2.0, 3.0])
    x.cumsum().backward(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(x.grad.data, [111.0, 110.0, 100.0])


def test_einsum_gradient_is_itself_an_einsum():
    a, b = leaf(A[:2, :3]), leaf(A[:3, :2])
    ga = te.grad(te.einsum("ij,jk->ik", a, b).sum(), a, create_graph=True)
    np.testing.assert_allclose(ga.data, np.ones((2, 2)) @ b.data.T)
    assert type(ga.grad_fn).__name__ == "Einsum"
    d = leaf(A[:3, :3])
    te.einsum("ii->", d).backward()                                      # the trace: the identity
    np.testing.assert_array_equal(d.grad.data, np.eye(3))


def test_concatenate_sends_each_input_its_slice():
    a, b = leaf([[1.0, 2.0]]), leaf([[3.0], [4.0]])
    out = te.cat([a.T, b], dim=1)                                        # (2, 1) and (2, 1) -> (2, 2)
    np.testing.assert_array_equal(out.data, [[1, 3], [2, 4]])
    out.backward(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_array_equal(a.grad.data, [[1.0, 3.0]])
    np.testing.assert_array_equal(b.grad.data, [[2.0], [4.0]])


def test_softplus_is_finite_at_extremes():
    x = leaf([-1000.0, 0.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.softplus()
        out.sum().backward()
    np.testing.assert_allclose(out.data, [0.0, np.log(2.0), 1000.0])
    np.testing.assert_allclose(x.grad.data, [0.0, 0.5, 1.0], atol=1e-300)


# ---------------------------------------------------------------------------------------------------
# Factories


def test_factories_shapes_dtypes_and_requires_grad():
    assert te.zeros(2, 3).shape == te.zeros((2, 3)).shape == te.zeros([2, 3]).shape == (2, 3)
    assert te.zeros(2).dtype == np.float64 and te.ones(2, dtype=np.float32).dtype == np.float32
    np.testing.assert_array_equal(te.full((2, 2), 7.0).data, np.full((2, 2), 7.0))
    np.testing.assert_array_equal(te.arange(5).data, np.arange(5))
    np.testing.assert_array_equal(te.arange(1, 2, 0.25).data, np.arange(1, 2, 0.25))
    np.testing.assert_array_equal(te.linspace(0, 1, 5).data, np.linspace(0, 1, 5))
    np.testing.assert_array_equal(te.eye(2, 3).data, np.eye(2, 3))
    x = te.ones(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])
    like = te.zeros_like(Tensor(np.ones((2, 2), np.float32)))
    assert like.dtype == np.float32 and not like.requires_grad
    assert te.ones_like(np.ones(3, int), dtype=np.float64, requires_grad=True).requires_grad
    np.testing.assert_array_equal(te.full_like(np.zeros(2), 3).data, [3.0, 3.0])
    with pytest.raises(DTypeError):
        te.arange(3, requires_grad=True)                                  # integers cannot require grad
    with pytest.raises(ArgumentError, match="zeros: sizes"):
        te.zeros(2, -1)


def test_random_factories_are_reproducible_and_take_a_generator():
    te.manual_seed(5)
    a = te.randn(2, 3)
    te.manual_seed(5)
    b = te.randn(2, 3)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.data, np.random.default_rng(5).standard_normal((2, 3)))
    u = te.rand(4, generator=np.random.default_rng(2), dtype=np.float32)
    assert u.dtype == np.float32 and ((u.data >= 0) & (u.data < 1)).all()
    np.testing.assert_array_equal(u.data, np.random.default_rng(2).random(4, dtype=np.float32))
    w = te.randn((3,), requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.grad_fn is None
    with pytest.raises(ArgumentError, match="randn: generator must be a np.random.Generator"):
        te.randn(2, generator=3)
    with pytest.raises(DTypeError, match="rand: random values are drawn as float32 or float64"):
        te.rand(2, dtype=np.int64)


def test_dropout_zeroes_with_the_generators_draws_and_scales_the_rest():
    x = leaf(np.arange(1.0, 9.0))
    out = te.dropout(x, 0.25, generator=np.random.default_rng(7))
    keep = np.random.default_rng(7).random(8) >= 0.25
    np.testing.assert_allclose(out.data, np.where(keep, x.data / 0.75, 0.0), rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, keep / 0.75, rtol=1e-15)
    assert te.dropout(x, 0.5, training=False) is x and te.dropout(x, 0.0) is x
    np.testing.assert_array_equal(te.dropout(x, 1.0).data, np.zeros(8))
    with pytest.raises(ArgumentError, match="dropout: p must be a probability"):
        te.dropout(x, 1.5)


# ---------------------------------------------------------------------------------------------------
# Random draws inside te.compile: fresh at every replay, the same numbers as eager with the same seed


def _dropout_step(seed):
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    gen = np.random.default_rng(seed)

    def step(x):
        h = te.dropout(Tensor(x) @ W, p=0.5, generator=gen)
        loss = (h * h).sum()
        W.grad = None
        loss.backward()
        with te.no_grad():
            W.sub_(W.grad, alpha=0.01)
        return h
    return step, W


def test_a_compiled_step_with_dropout_draws_a_fresh_mask_each_call_and_matches_eager():
    X = np.random.default_rng(1).standard_normal((6, 4))
    eager, We = _dropout_step(seed=3)
    fn, Wc = _dropout_step(seed=3)
    compiled = te.compile(fn)
    masks = []
    for _ in range(4):
        he, hc = eager(X), compiled(X)
        np.testing.assert_allclose(hc.data, he.data, rtol=1e-12, atol=1e-14)
        masks.append(hc.data != 0)
    assert len(compiled.captures) == 1                                    # replays, not new captures
    assert not all(np.array_equal(masks[0], m) for m in masks[1:])        # a new mask every call
    np.testing.assert_allclose(Wc.data, We.data, rtol=1e-12)
    assert "rng.random(size=(6, 3), dtype=np.float64)" in compiled.source


def test_the_readable_program_of_a_random_step_runs():
    X = np.random.default_rng(1).standard_normal((6, 4))
    fn, W = _dropout_step(seed=4)
    compiled = te.compile(fn)
    compiled(X)
    gen = compiled.last.program.namespace()["rng"]
    state = gen.bit_generator.state
    prog = compiled.last.program
    outs, _ = prog.compile_readable(prog.namespace(copy_externals=True))(X)
    gen.bit_generator.state = state                                       # the same draws again
    h = compiled(X)                                                       # (W is unchanged: copies above)
    np.testing.assert_allclose(outs[0], h.data, rtol=1e-12)


def test_manual_seed_between_calls_makes_a_new_capture():
    te.manual_seed(0)

    @te.compile
    def step(x):
        return Tensor(x) + te.randn(3)
    a = step(np.zeros(3))
    te.manual_seed(0)
    b = step(np.zeros(3))                        # the default generator was replaced: captured again
    np.testing.assert_array_equal(a.data, b.data)
    assert len(step.misses) == 2 and "manual_seed" in step.misses[1]


def test_new_ops_read_as_numpy_in_a_compiled_steps_source():
    rng = np.random.default_rng(2)
    W = Tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")

    def step(x):
        h = te.einsum("ni,ij->nj", Tensor(x), W)
        z = te.cat([h.sin(), te.maximum(h, 0.0)], dim=1).pad(((0, 0), (1, 0)))
        loss = z.cumsum(axis=1).prod(axis=0).sum() + h.leaky_relu(0.2).var()
        W.grad = None
        loss.backward()
        return loss
    compiled = te.compile(step)
    X = rng.standard_normal((4, 3))
    first = compiled(X)
    for text in ("np.einsum('ni,ij->nj', x, W)", "np.sin(", "np.maximum(", "np.concatenate([",
                 "np.pad(", "np.cumsum(", ".prod(axis=0)", "leaky_relu("):
        assert text in compiled.source, text
    prog = compiled.last.program
    outs, grads = prog.compile_readable(prog.namespace(copy_externals=True))(X)
    np.testing.assert_allclose(outs[0], first.data, rtol=1e-12)
    again = compiled(X)
    np.testing.assert_allclose(again.data, first.data, rtol=1e-12)
    np.testing.assert_allclose(grads[0], W.grad.data, rtol=1e-12)


@pytest.mark.parametrize("loss_of", [lambda h: (h * h).sum() / 12, lambda h: h.var(), lambda h: h.std(dim=0).sum(),
                                     lambda h: 0.5 * (h * h).mean()], ids=["sum / N", "var", "std", "0.5 * mean"])
def test_a_loss_scaled_by_a_number_compiles(loss_of):
    """The backward of `x.sum() / N` spreads the number dL / N over x: te.compile keeps it an array."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 3))

    def make():
        W = Tensor(np.random.default_rng(4).standard_normal((3, 2)), requires_grad=True)

        def step(x):
            loss = loss_of(Tensor(x) @ W)
            W.grad = None
            loss.backward()
            with te.no_grad():
                W.sub_(W.grad, alpha=0.1)
            return loss
        return step, W
    (eager, We), (fn, Wc) = make(), make()
    compiled = te.compile(fn)
    for _ in range(3):
        np.testing.assert_allclose(compiled(X).data, eager(X).data, rtol=1e-12)
    np.testing.assert_allclose(Wc.data, We.data, rtol=1e-12)
    np.testing.assert_allclose(Wc.grad.data, We.grad.data, rtol=1e-12)


# ---------------------------------------------------------------------------------------------------
# NumPy's functions on Tensors find the new ops by name


@pytest.mark.parametrize("name, f", [
    ("np.concatenate", lambda x: np.concatenate([x, 2 * x], axis=1)),
    ("np.stack", lambda x: np.stack([x, x * x], axis=-1)),
    ("np.hstack", lambda x: np.hstack([x, x])), ("np.vstack", lambda x: np.vstack([x, x[0]])),
    ("np.maximum", lambda x: np.maximum(x, 0.1)), ("np.minimum", lambda x: np.minimum(x, x.T.T * 0.5)),
    ("np.sin + np.cos", lambda x: np.sin(x) * np.cos(x)), ("np.tan", lambda x: np.tan(x)),
    ("np.log1p + np.expm1", lambda x: np.log1p(x * x) + np.expm1(x)), ("np.log2", lambda x: np.log2(x * x + 1)),
    ("np.prod", lambda x: np.prod(x, axis=1)), ("np.cumsum", lambda x: np.cumsum(x, axis=0)),
    ("np.var", lambda x: np.var(x, axis=0, ddof=1)), ("np.std", lambda x: np.std(x)),
    ("np.einsum", lambda x: np.einsum("ij,kj->ik", x, x)), ("np.tensordot", lambda x: np.tensordot(x, x, axes=2)),
    ("np.outer", lambda x: np.outer(x[0], x[1])), ("np.diag", lambda x: np.diag(x[:, :3])),
    ("np.tril", lambda x: np.tril(x)), ("np.flip", lambda x: np.flip(x, 1)), ("np.tile", lambda x: np.tile(x, 2)),
    ("np.repeat", lambda x: np.repeat(x, 3)), ("np.pad", lambda x: np.pad(x, ((1, 1), (0, 2)))),
    ("np.diff", lambda x: np.diff(x, axis=1)), ("np.trace", lambda x: np.trace(x)),
    ("np.expand_dims + np.squeeze", lambda x: np.squeeze(np.expand_dims(x, 0), 0)),
    ("np.where", lambda x: np.where(A > 0, x, -x)),
])
def test_numpy_functions_record_the_new_ops(name, f):
    x = leaf(A)
    out = f(x)
    assert isinstance(out, Tensor) and out.grad_fn is not None, name
    np.testing.assert_allclose(out.data, f(A), rtol=1e-12)
    assert te.gradcheck(f, [leaf(A)]).ok


def test_function_forms_take_arrays_too():
    np.testing.assert_allclose(te.sin(A).data, np.sin(A))
    np.testing.assert_allclose(te.sum(A, dim=1).data, A.sum(axis=1))
    np.testing.assert_allclose(te.softmax(A, dim=0).data, np.exp(A) / np.exp(A).sum(axis=0))
    np.testing.assert_allclose(te.transpose(A, 0, 1).data, A.T)


# ---------------------------------------------------------------------------------------------------
# Bad input: one clear error, naming the op and what is wrong


@pytest.mark.parametrize("error, fragments, action", [
    (ShapeError, ("concatenate", "(2, 3) float64 and (2, 2) float64"),
     lambda: te.cat([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 2)))])),
    (ShapeError, ("stack: every tensor must have the same shape", "(2,), (3,)"),
     lambda: te.stack([Tensor(np.ones(2)), Tensor(np.ones(3))])),
    (ArgumentError, ("concatenate: needs at least one tensor",), lambda: te.concatenate([])),
    (ArgumentError, ("cat: expected a list or tuple of tensors",), lambda: te.cat(Tensor(np.ones(2)))),
    (ShapeError, ("einsum", "names 2 operand(s), 1 given"), lambda: te.einsum("ij,jk->ik", Tensor(A))),
    (ShapeError, ("einsum: subscripts 'ijk' do not fit an operand of shape (3, 4)",),
     lambda: te.einsum("ijk->i", Tensor(A))),
    (ArgumentError, ("einsum: subscripts may hold only letters",), lambda: te.einsum("i1->", Tensor(A[0]))),
    (ArgumentError, ("einsum: subscripts must be a string",), lambda: te.einsum(3, Tensor(A))),
    (ShapeError, ("einsum",), lambda: te.einsum("ij,ij->i", Tensor(A), Tensor(A.T))),
    (ShapeError, ("tensordot: 1 axes of a but 2 of b",), lambda: te.tensordot(A, A, axes=([0], [0, 1]))),
    (ArgumentError, ("pad: pad_width must hold non-negative integers",), lambda: Tensor(A).pad(-1)),
    (ArgumentError, ("pad: only mode='constant'",), lambda: te.pad(A, 1, mode="reflect")),
    (ShapeError, ("permute: 2 axes given for a tensor of shape (2, 3, 4)",),
     lambda: Tensor(np.ones((2, 3, 4))).permute(1, 0)),
    (ShapeError, ("expand: 1 sizes given for a tensor of shape (3, 4)",), lambda: Tensor(A).expand(4)),
    (ArgumentError, ("flatten: start_dim 1 comes after end_dim 0",), lambda: Tensor(A).flatten(1, 0)),
    (IndexOutOfRange, ("cumsum: axis 2 is out of range",), lambda: Tensor(A).cumsum(axis=2)),
    (IndexOutOfRange, ("unsqueeze: axis 4 is out of range",), lambda: Tensor(A).unsqueeze(4)),
    (ArgumentError, ("split: the piece size must be positive",), lambda: Tensor(A).split(0)),
    (ArgumentError, ("gelu: approximate must be 'none' or 'tanh'",), lambda: Tensor(A).gelu("erf")),
    (ShapeError, ("diag: expects a vector or a matrix",), lambda: Tensor(np.ones((2, 2, 2))).diag()),
    (ArgumentError, ("expand: expected integer sizes",), lambda: Tensor(A).expand(2.5, 4)),
])
def test_bad_input_gets_a_clear_error(error, fragments, action):
    with pytest.raises(error) as info:
        action()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


def test_a_failed_op_changes_nothing():
    a, b = leaf(np.ones((2, 3))), leaf(np.ones((2, 2)))
    with pytest.raises(ShapeError):
        te.cat([a, b], dim=0)
    assert a.grad is None and b.grad is None and a.is_leaf
    np.testing.assert_array_equal(a.data, np.ones((2, 3)))


def test_star_import_keeps_pythons_built_ins():
    """te.sum, te.max, te.min and te.abs exist, but `from tinygrad_edu import *` must not replace the
    built-ins sum, max, min and abs in the importer's namespace."""
    ns = {}
    exec("from tinygrad_edu import *\nresult = (sum([1, 2]), max(3, 4), min(3, 4), abs(-2))", ns)
    assert ns["result"] == (3, 4, 3, 2)
    assert "cat" in ns and "sin" in ns and "einsum" in ns
    assert te.sum(A, dim=0).shape == (4,) and te.max(A).item() == A.max() and te.abs(-A).data[0, 0] == abs(A[0, 0])


def test_zero_dimensional_and_device_corner_cases():
    s = Tensor(2.0, requires_grad=True)
    for f in (lambda t: t.pad(1), lambda t: t.flip(), lambda t: t.squeeze(), lambda t: t.cumsum(), lambda t: t.prod(),
              lambda t: t.tile(3), lambda t: t.expand(3), lambda t: te.stack([t, t]), lambda t: te.einsum(",->", t, t)):
        assert te.gradcheck(f, [s]).ok
    assert s.pad(1).shape == np.pad(np.array(2.0), 1).shape == ()
    with pytest.raises(ShapeError, match="pad: pad_width .* does not give a \\(before, after\\) pair"):
        Tensor(A).pad(((1, 2, 3),))
    with pytest.raises(ArgumentError, match="to: tinygrad_edu computes with NumPy, on the CPU only"):
        Tensor(A).to("cuda")


class Cube(te.Function):
    """A user's own op, with no code template in codegen: out = x³, dx = 3x² g."""

    def forward(self, x, scale=1.0):
        self.scale = scale
        return scale * x ** 3

    def backward(self, g, x, out):
        return g * (3 * self.scale) * x * x


def test_an_op_without_a_code_template_still_compiles():
    rng = np.random.default_rng(6)

    def make():
        W = Tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)

        def step(x):
            loss = Cube.apply(Tensor(x) @ W, scale=0.5).sum()
            W.grad = None
            loss.backward()
            with te.no_grad():
                W.sub_(W.grad, alpha=0.01)
            return loss
        return step, W
    (eager, We), (fn, Wc) = make(), make()
    compiled = te.compile(fn)
    X = rng.standard_normal((4, 3))
    for _ in range(3):
        np.testing.assert_allclose(compiled(X).data, eager(X).data, rtol=1e-12)
    np.testing.assert_allclose(Wc.data, We.data, rtol=1e-12)
    assert "forward(ops_Cube, " in compiled.source and "scale=0.5" in compiled.source
    prog = compiled.last.program
    outs, grads = prog.compile_readable(prog.namespace(copy_externals=True))(X)   # on copies of W
    loss = compiled(X)                                                         # at the same W, for real
    np.testing.assert_allclose(outs[0], loss.data, rtol=1e-12)
    np.testing.assert_allclose(grads[0], Wc.grad.data, rtol=1e-12)


def test_np_split_into_unequal_sections_is_a_shape_error():
    with pytest.raises(ShapeError, match="np.split: 10 elements along axis 0 do not split into 3 equal sections"):
        np.split(leaf(np.arange(10.0)), 3)
    assert [p.shape for p in np.array_split(leaf(np.arange(10.0)), 3)] == [(4,), (3,), (3,)]
