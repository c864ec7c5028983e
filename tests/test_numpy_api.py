"""NumPy's own functions on Tensors (tinygrad_edu/numpy_api.py): each rule of the module docstring.

The reference for every recorded function is NumPy itself: the same lambda runs once on plain arrays
(NumPy computes) and once on Tensors (the engine records); values must agree and the gradient must
equal central differences of the plain-NumPy run, in float64, for a random upstream gradient."""
import numpy as np
import pytest

import tinygrad_edu as te
from tinygrad_edu import GraphError, NotDifferentiableError, Tensor, TinygradError, no_grad


def numeric_vjp(f, arrays, v, i, eps=1e-6):
    """Central differences of sum(f(*arrays) * v) with respect to arrays[i] (plain NumPy)."""
    x = arrays[i]
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        plus = np.sum(np.asarray(f(*arrays)) * v)
        x[idx] = saved - eps
        minus = np.sum(np.asarray(f(*arrays)) * v)
        x[idx] = saved
        g[idx] = (plus - minus) / (2 * eps)
    return g


def check_recorded(f, *arrays, wrt=None, seed=0):
    """f on Tensors records, equals f on arrays, and its gradient equals central differences."""
    wrt = range(len(arrays)) if wrt is None else wrt
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    expected = np.asarray(f(*arrays))
    tensors = [Tensor(a.copy(), requires_grad=i in wrt) for i, a in enumerate(arrays)]
    out = f(*tensors)
    assert isinstance(out, Tensor), f"returned {type(out).__name__}, not a Tensor"
    assert out.grad_fn is not None, "the result was not recorded"
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    v = np.random.default_rng(seed).standard_normal(expected.shape)
    out.backward(v)
    for i in wrt:
        np.testing.assert_allclose(tensors[i].grad.data, numeric_vjp(f, arrays, v, i), rtol=1e-6, atol=1e-7,
                                   err_msg=f"gradient of argument {i}")
    return out


RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((4, 2))
P = RNG.uniform(0.5, 2.0, (3, 4))           # positive, for log/sqrt/power


# ---------------------------------------------------------------------------------------------------
# Rule 1: differentiable spellings record

@pytest.mark.parametrize("name, f, args", [
    ("tanh", np.tanh, (A,)), ("exp", np.exp, (A,)), ("log", np.log, (P,)), ("sqrt", np.sqrt, (P,)),
    ("abs", np.abs, (A,)), ("absolute", np.absolute, (A,)), ("square", np.square, (A,)),
    ("negative", np.negative, (A,)), ("positive", lambda x: np.positive(x) * 1.0, (A,)),
    ("reciprocal", np.reciprocal, (P,)),
    ("add", np.add, (A, P)), ("subtract", np.subtract, (A, P)), ("multiply", np.multiply, (A, P)),
    ("divide", np.divide, (A, P)), ("true_divide", np.true_divide, (A, P)),
    ("power scalar", lambda x: np.power(x, 3), (A,)), ("matmul", np.matmul, (A, B)),
    ("broadcast add", np.add, (A, P[:1])), ("rectifier", lambda x: np.maximum(x, 0), (A,)),
    ("rectifier, 0 first", lambda x: np.maximum(0, x), (A,)),
])
def test_ufuncs_on_tensors_record(name, f, args):
    check_recorded(f, *args)


@pytest.mark.parametrize("name, f, args", [
    ("sum", np.sum, (A,)), ("sum axis", lambda x: np.sum(x, axis=1), (A,)),
    ("sum keepdims", lambda x: np.sum(x, axis=0, keepdims=True), (A,)),
    ("sum positional axis", lambda x: np.sum(x, 1), (A,)),
    ("mean", lambda x: np.mean(x, axis=(0, 1)), (A,)), ("mean keepdims", lambda x: np.mean(x, 1, keepdims=True), (A,)),
    ("max", lambda x: np.max(x, axis=1), (A,)), ("amax", lambda x: np.amax(x, axis=0, keepdims=True), (A,)),
    ("min", lambda x: np.min(x), (A,)), ("amin", lambda x: np.amin(x, 1), (A,)),
    ("dot 2-D", np.dot, (A, B)), ("dot 1-D", np.dot, (A[0], A[1])), ("dot matrix-vector", np.dot, (A, B[:, 0])),
    ("dot scalar", np.dot, (np.array(2.5), A)),
    ("transpose", np.transpose, (A,)), ("transpose axes", lambda x: np.transpose(x, (1, 0)), (A,)),
    ("reshape", lambda x: np.reshape(x, (2, 6)), (A,)), ("reshape -1", lambda x: np.reshape(x, -1), (A,)),
    ("ravel", np.ravel, (A,)), ("swapaxes", lambda x: np.swapaxes(x, 0, 1), (A,)),
    ("clip positional", lambda x: np.clip(x, -0.5, 0.5), (A,)),
    ("clip keywords", lambda x: np.clip(x, a_min=-0.5, a_max=None), (A,)),
    ("broadcast_to", lambda x: np.broadcast_to(x, (2, 3, 4)), (A,)),
    ("outer", np.outer, (A[0], B[:, 1])), ("multiply.outer", np.multiply.outer, (A[0], B[:, 1])),
    ("add.reduce", np.add.reduce, (A,)), ("add.reduce axis 1", lambda x: np.add.reduce(x, axis=1), (A,)),
    ("maximum.reduce", lambda x: np.maximum.reduce(x, axis=1), (A,)),
    ("linalg.norm", np.linalg.norm, (A,)), ("linalg.norm axis", lambda x: np.linalg.norm(x, axis=1), (A,)),
    ("average", lambda x: np.average(x, axis=0), (A,)), ("nan_to_num of finite values", np.nan_to_num, (A,)),
    ("copy", np.copy, (A,)),
])
def test_functions_on_tensors_record(name, f, args):
    check_recorded(f, *args)


def test_ndarray_on_either_side_of_every_operator_gives_a_recorded_tensor():
    w = Tensor(P.copy(), requires_grad=True)
    for out in (A + w, A - w, A * w, A / w, P ** w, A @ w.T, w + A, w - A, w * A, w / A, w ** 2, w @ A.T):
        assert isinstance(out, Tensor) and out.grad_fn is not None
    np.testing.assert_allclose((A - w).data, A - P)
    np.testing.assert_allclose((A / w).data, A / P)
    np.testing.assert_allclose((P ** w).data, P ** P)
    np.testing.assert_allclose((A @ w.T).data, A @ P.T)
    s = np.float64(2.0) * w                       # a NumPy scalar on the left
    assert isinstance(s, Tensor) and s.grad_fn is not None
    (A @ w.T).sum().backward()
    np.testing.assert_allclose(w.grad.data, np.ones((3, 3)) @ A)   # d/dw sum(A wᵀ) = 1 A


def test_a_constant_operand_stays_constant_and_nothing_records_under_no_grad():
    t = Tensor(A.copy())
    out = np.exp(t) + np.ones(4)
    assert isinstance(out, Tensor) and out.grad_fn is None and not out.requires_grad
    w = Tensor(A.copy(), requires_grad=True)
    with no_grad():
        out = np.sum(np.tanh(w), axis=0)
    assert isinstance(out, Tensor) and out.grad_fn is None
    np.testing.assert_allclose(out.data, np.tanh(A).sum(axis=0))


def test_a_learners_plain_numpy_forward_records_and_matches_the_hand_derived_gradient():
    """Document 000's forward as a learner writes it: every line plain NumPy, run on Tensors."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((5, 2)), np.array([0, 1, 1, 0, 1])
    p = {"W1": rng.standard_normal((2, 3)), "b1": np.zeros((1, 3)), "W2": rng.standard_normal((3, 2)),
         "b2": np.zeros((1, 2))}
    W1, b1, W2, b2 = (Tensor(p[k].copy(), requires_grad=True) for k in ("W1", "b1", "W2", "b2"))
    Xt, yt = Tensor(X), Tensor(y)
    z1 = Xt.dot(W1) + b1
    a1 = np.tanh(z1)
    z2 = a1.dot(W2) + b2
    exp_scores = np.exp(z2)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    loss = np.sum(-np.log(probs[range(len(X)), yt])) + 0.01 / 2 * (np.sum(np.square(W1)) + np.sum(np.square(W2)))
    loss.backward()
    from nn.reference import moons_gradients
    expected = moons_gradients(p, X, y, reg_lambda=0.01)
    for name, t in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        np.testing.assert_allclose(t.grad.data, expected[name], rtol=1e-10, atol=1e-12, err_msg=name)


def test_numpy_spellings_record_second_derivatives_too():
    x = Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    dy = te.grad(np.sum(np.tanh(x)), x, create_graph=True)           # 1 − tanh²(x)
    d2 = te.grad(np.sum(dy), x)                                        # −2 tanh(x)(1 − tanh²(x))
    t = np.tanh(x.data)
    np.testing.assert_allclose(dy.data, 1 - t ** 2, rtol=1e-12)
    np.testing.assert_allclose(d2.data, -2 * t * (1 - t ** 2), rtol=1e-10)


# Ops other engineers add to the engine in parallel: found by name when they exist, refused (rule 3)
# while they do not. Either way the test asserts real values.
LATER = [
    ("sin", np.sin, (A,), "sin"), ("cos", np.cos, (A,), "cos"), ("tan", lambda x: np.tan(0.3 * x), (A,), "tan"),
    ("log1p", np.log1p, (P,), "log1p"), ("expm1", np.expm1, (A,), "expm1"), ("log2", np.log2, (P,), "log2"),
    ("maximum", np.maximum, (A, P - 1), "maximum"), ("minimum", np.minimum, (A, P - 1), "minimum"),
    ("where", lambda x, z: np.where(A > 0, x, z), (A, P), "where"),
    ("concatenate", lambda x, z: np.concatenate([x, z], axis=1), (A, P), "concatenate"),
    ("stack", lambda x, z: np.stack([x, z]), (A, P), "stack"),
    ("var", lambda x: np.var(x, axis=1), (A,), "var"), ("std", lambda x: np.std(x), (A,), "std"),
    ("prod", lambda x: np.prod(x, axis=0), (P,), "prod"), ("cumsum", lambda x: np.cumsum(x, axis=1), (A,), "cumsum"),
    ("einsum", lambda x, z: np.einsum("ij,jk->ik", x, z), (A, B), "einsum"),
    ("tensordot", lambda x, z: np.tensordot(x, z, axes=1), (A, B), "tensordot"),
    ("squeeze", lambda x: np.squeeze(x[:1]), (A,), "squeeze"),
    ("expand_dims", lambda x: np.expand_dims(x, 0), (A,), "expand_dims"),
    ("flip", lambda x: np.flip(x, 1), (A,), "flip"), ("tril", np.tril, (A,), "tril"),
    ("tile", lambda x: np.tile(x, (2, 1)), (A,), "tile"),
]


@pytest.mark.parametrize("name, f, args, np_name", LATER, ids=[c[0] for c in LATER])
def test_ops_added_later_are_found_by_name_or_refused_by_name(name, f, args, np_name):
    try:
        check_recorded(f, *args)
    except NotDifferentiableError as e:
        assert f"np.{np_name}" in str(e)                  # refused, naming the NumPy function
        assert "this version has no" in str(e) or "no Tensor spelling" in str(e)
        with no_grad():                                   # nothing records: NumPy's own result
            arrays = [np.array(a, dtype=np.float64) for a in args]
            out = f(*[Tensor(a, requires_grad=True) for a in arrays])
        np.testing.assert_allclose(np.asarray(out), f(*arrays))


def test_a_method_added_to_tensor_later_is_used_without_editing_numpy_api(monkeypatch):
    if hasattr(Tensor, "arctan"):
        monkeypatch.delattr(Tensor, "arctan")
    w = Tensor(A.copy(), requires_grad=True)
    with pytest.raises(NotDifferentiableError, match=r"np\.arctan.*Tensor\.arctan"):
        np.arctan(w)
    calls = []

    def arctan(self):                                  # a stand-in op: records which tensor it got
        calls.append(self)
        return self * 2.0
    monkeypatch.setattr(Tensor, "arctan", arctan, raising=False)
    out = np.arctan(w)
    assert calls == [w] and out.grad_fn is not None
    np.testing.assert_allclose(out.data, 2 * A)


def test_a_function_added_to_tinygrad_edu_later_is_used_without_editing_numpy_api(monkeypatch):
    monkeypatch.setattr(te, "where", lambda c, x, y: x * Tensor(np.asarray(c, dtype=float)) + y * 0.0,
                        raising=False)
    w = Tensor(A.copy(), requires_grad=True)
    out = np.where(A > 0, w, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data, (A > 0).astype(float))


# ---------------------------------------------------------------------------------------------------
# Rule 2: zero-derivative functions compute on the data

@pytest.mark.parametrize("f", [np.greater, np.less_equal, np.equal, np.not_equal, np.logical_and,
                               np.logical_xor], ids=lambda f: f.__name__)
def test_comparisons_and_logical_ufuncs_give_constant_tensors(f):
    w = Tensor(A.copy(), requires_grad=True)
    for out in (f(w, 0.1), f(A, w), f(w, w)):
        assert isinstance(out, Tensor) and out.grad_fn is None and not out.requires_grad
    np.testing.assert_array_equal(f(w, 0.1).data, f(A, 0.1))
    np.testing.assert_array_equal(f(P, w).data, f(P, A))


def test_ndarray_comparisons_with_a_tensor_give_bool_tensors_like_tensor_comparisons():
    w = Tensor(A.copy(), requires_grad=True)
    for got, expected in ((P > w, P > A), (P < w, P < A), (P == w, P == A), (w >= P, A >= P)):
        assert isinstance(got, Tensor) and got.dtype == np.bool_ and got.grad_fn is None
        np.testing.assert_array_equal(got.data, expected)


@pytest.mark.parametrize("f", [np.sign, np.isnan, np.isfinite, np.signbit, np.floor, np.ceil, np.rint,
                               np.logical_not], ids=lambda f: f.__name__)
def test_piecewise_constant_ufuncs_give_constant_tensors(f):
    x = A.copy()
    x[0, 0] = np.nan
    w = Tensor(x, requires_grad=True)
    out = f(w)
    assert isinstance(out, Tensor) and out.grad_fn is None
    np.testing.assert_array_equal(out.data, f(x))


def test_backward_style_math_on_tensors_records_through_masks():
    """What a backward formula written in NumPy does on Tensors (create_graph): g * sign(x), g * (x > 0)."""
    x = Tensor(A.copy(), requires_grad=True)
    y = np.abs(x) * np.sign(x) + np.maximum(x, 0) * (x > 0)     # x + relu(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 1 + (A > 0))


@pytest.mark.parametrize("f", [np.any, np.all, lambda t: np.argmax(t, axis=1), np.count_nonzero, np.shape,
                               np.flatnonzero])
def test_zero_derivative_functions_return_numpys_own_result(f):
    w = Tensor(A.copy(), requires_grad=True)
    for arg, plain in ((w, A), (w > 0.1, A > 0.1)):
        got = f(arg)
        assert not isinstance(got, Tensor)
        np.testing.assert_array_equal(got, f(plain))
    np.testing.assert_array_equal(np.round(w, 1), np.round(A, 1))          # rounding: derivative 0
    assert np.argmax(w) == np.argmax(A) and np.allclose(w, A) and not np.array_equal(w, A + 1)
    np.testing.assert_array_equal(np.where(w > 0), np.where(A > 0))        # one argument: indices


# ---------------------------------------------------------------------------------------------------
# Rule 3: what cannot be differentiated raises while recording, computes otherwise

@pytest.mark.parametrize("call, name", [
    (lambda t: np.median(t), "np.median"), (lambda t: np.sort(t, axis=1), "np.sort"),
    (lambda t: np.percentile(t, 50), "np.percentile"), (lambda t: np.linalg.norm(t, ord=1), "np.linalg.norm"),
    (lambda t: np.sum(t, dtype=np.float32), "np.sum"), (lambda t: np.exp(t, dtype=np.float64), "np.exp"),
    (lambda t: np.max(t, initial=3.0), "np.max"), (lambda t: np.add.accumulate(t, dtype=np.float32), "np.add.accumulate"),
    (lambda t: np.fmod(t, 0.3), "np.fmod"), (lambda t: np.average(t, weights=P), "np.average"),
])
def test_a_function_without_a_differentiable_spelling_raises_naming_it(call, name):
    w = Tensor(A.copy(), requires_grad=True)
    with pytest.raises(NotDifferentiableError) as info:
        call(w)
    assert isinstance(info.value, TinygradError) and isinstance(info.value, TypeError)
    assert name in str(info.value) and "drop the graph" in str(info.value)
    assert w.grad is None and np.array_equal(w.data, A)
    with no_grad():                                    # nothing records: NumPy's own result
        got = call(w)
    np.testing.assert_allclose(got, call(A.copy()))
    got = call(Tensor(A.copy()))                       # no operand requires grad: the same
    assert not isinstance(got, Tensor)
    np.testing.assert_allclose(got, call(A.copy()))


def test_the_refusal_names_the_tensor_method_to_use_and_the_option_it_cannot_follow():
    w = Tensor(A.copy(), requires_grad=True)
    with pytest.raises(NotDifferentiableError, match=r"dtype=.*t\.sum\(axis, keepdims\)"):
        np.sum(w, dtype=np.float32)
    with pytest.raises(NotDifferentiableError, match=r"t\.mean"):
        np.average(w, weights=P)
    with pytest.raises(NotDifferentiableError, match="NaN or inf"):
        np.nan_to_num(w * np.array([np.inf, 1, 1, 1]))


def test_np_max_with_0_as_the_array_is_numpys_own_error_not_a_silent_result():
    """Document 003's relu bug np.max(0, x): NumPy reduces the array 0 along 'axis' x and refuses."""
    w = Tensor(A.copy(), requires_grad=True)
    with pytest.raises(TypeError):
        np.max(0, w)


# ---------------------------------------------------------------------------------------------------
# Rule 4: out=

def test_the_update_habits_write_into_the_parameters_data():
    p = Tensor(A.copy(), requires_grad=True)
    (p * p).sum().backward()                           # grad 2A
    data = p.data
    p.data -= 0.1 * p.grad
    assert p.data is data                              # written in place, still an ndarray
    np.testing.assert_allclose(p.data, A - 0.2 * A)
    p.data += -0.1 * p.grad
    np.testing.assert_allclose(p.data, A - 0.4 * A)
    assert type(p.data) is np.ndarray and p.requires_grad and p.grad_fn is None


def test_out_an_ndarray_gets_numpys_result_written_into_it():
    a = np.zeros((3, 4))
    got = np.add(Tensor(A), 1.0, out=a)
    assert got is a
    np.testing.assert_allclose(a, A + 1)
    b = P.copy()
    b *= Tensor(A)                                    # ndarray *= Tensor: in place, an ndarray
    assert type(b) is np.ndarray
    np.testing.assert_allclose(b, P * A)


def test_out_refuses_to_drop_a_graph_and_changes_nothing():
    w = Tensor(A.copy(), requires_grad=True)
    a = np.zeros((3, 4))
    with pytest.raises(NotDifferentiableError, match="out="):
        np.exp(w, out=a)
    with pytest.raises(NotDifferentiableError):
        a += w
    assert not a.any()
    with no_grad():
        a += w
    np.testing.assert_allclose(a, A)


def test_out_a_tensor_follows_the_tensors_in_place_rules():
    t = Tensor(A.copy())
    got = np.multiply(t, 2.0, out=t)
    assert got is t
    np.testing.assert_allclose(t.data, 2 * A)
    w = Tensor(A.copy(), requires_grad=True)
    with pytest.raises(GraphError):                    # a leaf that requires grad, while recording
        np.multiply(Tensor(A), 2.0, out=w)
    np.testing.assert_allclose(w.data, A)
    with no_grad():
        np.subtract(w, 1.0, out=w)
    np.testing.assert_allclose(w.data, A - 1)


def test_tensor_dot_is_the_matrix_product_for_1d_and_2d_and_refuses_more():
    w = Tensor(B.copy(), requires_grad=True)
    np.testing.assert_allclose(Tensor(A).dot(w).data, A.dot(B))
    np.testing.assert_allclose(Tensor(A[0]).dot(Tensor(A[1])).data, A[0].dot(A[1]))
    np.testing.assert_allclose(Tensor(2.0).dot(w).data, 2 * B)
    with pytest.raises(te.ShapeError, match="matmul"):
        Tensor(np.ones((2, 3, 4))).dot(w)
