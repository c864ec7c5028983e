"""Layers (Linear, activations, Sequential, MLP) and initializers, against NumPy, central
differences (gradcheck, float64) and the documents' hand-derived backprop formulas."""
import math

import numpy as np
import pytest

import nn
from nn import init
from tinygrad_edu import ArgumentError, DTypeError, ShapeError, Tensor, gradcheck


def module_gradcheck(module, x):
    """gradcheck of module(x) with respect to x and every parameter: gradcheck hands float64 copies
    to the function, which puts them in the module's place for each evaluation."""
    slots = []
    modules = dict(module.named_modules())
    for name, p in module.named_parameters():
        owner, _, attr = name.rpartition(".")
        slots.append((modules[owner], attr, p))

    def f(x, *params):
        for (owner, attr, _), p in zip(slots, params):
            setattr(owner, attr, p)
        return module(x)

    try:
        # the check is only meaningful if the output really depends on every copy handed to f
        base = f(x, *[p for _, _, p in slots]).data.copy()
        for i in range(len(slots)):
            moved = [Tensor(p.data + (k == i)) for k, (_, _, p) in enumerate(slots)]
            assert not np.allclose(f(x, *moved).data, base), f"output ignores parameter {i}"
        return gradcheck(f, [x] + [p for _, _, p in slots])
    finally:
        for owner, attr, p in slots:
            setattr(owner, attr, p)


def x_data(shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# -- Linear ---------------------------------------------------------------------------------------------

def test_linear_computes_x_w_plus_b_with_the_documents_layout():
    lin = nn.Linear(2, 3, rng=0)
    assert lin.weight.shape == (2, 3) and lin.bias.shape == (3,)
    x = np.array([[1.0, 2.0], [-1.0, 0.5]])
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data + lin.bias.data, rtol=0, atol=0)
    no_bias = nn.Linear(2, 3, bias=False, rng=0)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(no_bias(x).data, x @ no_bias.weight.data)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck(bias):
    assert module_gradcheck(nn.Linear(3, 4, bias=bias, rng=1), x_data((5, 3)))


@pytest.mark.parametrize("layer", [nn.Tanh(), nn.Sigmoid(), nn.ReLU(), nn.Identity(), nn.Softmax(),
                                   nn.Softmax(axis=0)], ids=repr)
def test_activation_gradcheck(layer):
    x = x_data((4, 3), seed=2)
    if isinstance(layer, nn.ReLU):
        x.data[np.abs(x.data) < 1e-3] = 0.5         # keep central differences away from the kink
    if isinstance(layer, nn.Identity):
        assert layer(x) is x
        return
    assert gradcheck(lambda t: layer(t), [x])


def test_activations_match_numpy_and_accept_arrays():
    z = np.array([[-2.0, -0.0, 0.5, 3.0]])
    np.testing.assert_allclose(nn.Tanh()(z).data, np.tanh(z), rtol=1e-15)
    np.testing.assert_allclose(nn.Sigmoid()(z).data, 1 / (1 + np.exp(-z)), rtol=1e-15)
    np.testing.assert_array_equal(nn.ReLU()(z).data, np.maximum(z, 0))
    e = np.exp(z - z.max())
    np.testing.assert_allclose(nn.Softmax()(z).data, e / e.sum(), rtol=1e-15)


def test_sequential_and_mlp_gradcheck():
    model = nn.MLP([3, 4, 4, 2], activation="tanh", output_activation="sigmoid", rng=3)
    assert module_gradcheck(model, x_data((6, 3), seed=4))
    relu = nn.Sequential(nn.Linear(2, 5, rng=5), nn.ReLU(), nn.Linear(5, 1, rng=6))
    assert module_gradcheck(relu, x_data((3, 2), seed=7))


def test_gradients_equal_the_documents_hand_derived_backprop():
    """Doc 000's formulas for z1 = xW1 + b1, a1 = tanh z1, z2 = a1W2 + b2, ŷ = softmax z2 and the
    summed cross-entropy: δ3 = ŷ − y, δ2 = (1 − a1²)∘δ3W2ᵀ, dW2 = a1ᵀδ3, db2 = Σδ3, dW1 = xᵀδ2, db1 = Σδ2."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((7, 2))
    y = rng.integers(0, 2, size=7)
    model = nn.MLP([2, 3, 2], rng=1)
    nn.SoftmaxCrossEntropy(reduction="sum")(model(X), y).backward()
    W1, b1, W2, b2 = (p.data for p in model.parameters())
    a1 = np.tanh(X @ W1 + b1)
    scores = np.exp(a1 @ W2 + b2)
    probs = scores / scores.sum(axis=1, keepdims=True)
    delta3 = probs.copy()
    delta3[np.arange(7), y] -= 1
    delta2 = (1 - a1 ** 2) * (delta3 @ W2.T)
    expected = [X.T @ delta2, delta2.sum(axis=0), a1.T @ delta3, delta3.sum(axis=0)]
    for p, want in zip(model.parameters(), expected):
        np.testing.assert_allclose(p.grad.data, want, rtol=1e-12, atol=1e-14)


def test_linear_parity_with_torch():
    torch = pytest.importorskip("torch")
    lin = nn.Linear(3, 2, rng=0)
    x = np.random.default_rng(1).standard_normal((4, 3))
    (lin(x) ** 2).sum().backward()
    tl = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        tl.weight.copy_(torch.from_numpy(lin.weight.data.T))     # torch stores (out, in)
        tl.bias.copy_(torch.from_numpy(lin.bias.data))
    (tl(torch.from_numpy(x)) ** 2).sum().backward()
    np.testing.assert_allclose(lin.weight.grad.data, tl.weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(lin.bias.grad.data, tl.bias.grad.numpy(), rtol=1e-12)


def test_linear_errors_name_the_layer_and_shapes():
    lin = nn.Linear(2, 3)
    with pytest.raises(ShapeError, match=r"Linear\(2→3\): expected input of shape \(N, 2\), got shape \(4, 5\)"):
        lin(np.ones((4, 5)))
    for bad in (0, -1, 2.0, True, "3"):
        with pytest.raises(ArgumentError, match="in_features"):
            nn.Linear(bad, 3)
    with pytest.raises(DTypeError):
        nn.Linear(2, 3, dtype=np.int64)
    with pytest.raises(ArgumentError, match="unknown initializer 'unifrom'.*did you mean 'uniform'"):
        nn.Linear(2, 3, init="unifrom")
    with pytest.raises(ShapeError, match="returned shape"):
        nn.Linear(2, 3, init=lambda shape, rng=None: np.zeros(3))


def test_float32_linear_stays_float32():
    lin = nn.Linear(2, 3, dtype=np.float32, rng=0)
    out = lin(np.ones((1, 2), dtype=np.float32))
    assert lin.weight.dtype == np.float32 and out.dtype == np.float32
    out.sum().backward()
    assert lin.weight.grad.dtype == np.float32


# -- Sequential and MLP ---------------------------------------------------------------------------------

def test_sequential_applies_layers_in_order_and_indexes():
    l1, l2 = nn.Linear(2, 3, rng=0), nn.Linear(3, 1, rng=1)
    model = nn.Sequential(l1, nn.Tanh(), l2)
    x = np.array([[0.5, -1.0]])
    want = np.tanh(x @ l1.weight.data + l1.bias.data) @ l2.weight.data + l2.bias.data
    np.testing.assert_allclose(model(x).data, want, rtol=1e-15)
    assert len(model) == 3 and model[0] is l1 and model[-1] is l2 and list(model)[1].describe() == "Tanh"
    assert len(model[1:]) == 2 and model[0].weight.name == "0.weight"        # slicing does not rename
    assert nn.Sequential([l1, nn.Tanh()])[0] is l1                             # a list works too
    assert model.in_features == 2 and model.out_features == 1


def test_sizes_that_do_not_chain_are_caught_when_building():
    with pytest.raises(ShapeError, match=r"layer 2 Linear\(4→2\) expects 4 inputs, but layer 0 Linear\(2→3\) produces 3"):
        nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(4, 2))
    model = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(ShapeError, match="expects 2 inputs"):
        model.append(nn.Linear(2, 2))
    assert len(model) == 1
    model.append(nn.ReLU()).append(nn.Linear(3, 1))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    with pytest.raises(ArgumentError, match="not a Module"):
        nn.Sequential(nn.Linear(2, 2), nn.Tanh)


def test_unknown_modules_stop_the_size_check_instead_of_guessing():
    class Widen(nn.Module):           # 3 -> 6, without declaring sizes
        def forward(self, x):
            return Tensor.reshape(x, (-1, 6))

    nn.Sequential(nn.Linear(2, 3), Widen(), nn.Linear(6, 1))      # no false alarm


def test_mlp_builds_the_documents_networks():
    model = nn.MLP([2, 25, 50, 25, 2], activation="sigmoid", rng=0)      # doc 003's network
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"]
    assert model.describe() == "MLP(2→25→50→25→2)"
    assert model.num_parameters() == 2 * 25 + 25 + 25 * 50 + 50 + 50 * 25 + 25 + 25 * 2 + 2
    xor = nn.MLP([2, 2, 1], activation="sigmoid", output_activation="Sigmoid", init="uniform", bias_init="uniform")
    assert type(xor[-1]).__name__ == "Sigmoid" and np.all(np.abs(xor[0].bias.data) <= 0.12)
    linear = nn.MLP([3, 1], activation=None)
    assert len(linear) == 1
    with pytest.raises(ArgumentError, match="did you mean 'tanh'"):
        nn.MLP([2, 2], activation="tahn")
    with pytest.raises(ArgumentError, match="at least two"):
        nn.MLP([2])
    with pytest.raises(ArgumentError, match=r"sizes\[1\]"):
        nn.MLP([2, 0, 1])


def test_mlp_is_reproducible_from_a_seed():
    a, b = nn.MLP([2, 4, 2], rng=42), nn.MLP([2, 4, 2], rng=np.random.default_rng(42))
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    nn.manual_seed(7)
    c = nn.MLP([2, 4, 2])
    nn.manual_seed(7)
    d = nn.MLP([2, 4, 2])
    np.testing.assert_array_equal(c[0].weight.data, d[0].weight.data)


# -- initializers -------------------------------------------------------------------------------------

def test_scaled_normal_is_the_documents_randn_over_sqrt_fan_in():
    # doc 000: np.random.randn(nn_input_dim, nn_hdim) / np.sqrt(nn_input_dim)
    want = np.random.default_rng(5).standard_normal((4, 3)) / np.sqrt(4)
    np.testing.assert_array_equal(init.scaled_normal((4, 3), rng=5), want)
    lin = nn.Linear(4, 3, rng=5)
    np.testing.assert_array_equal(lin.weight.data, want)
    np.testing.assert_array_equal(lin.bias.data, np.zeros(3))


def test_initializer_distributions():
    rng = np.random.default_rng(0)
    shape = (400, 500)
    cases = {
        "normal": (init.normal(shape, rng=rng), 0.01),
        "xavier_normal": (init.xavier_normal(shape, rng=rng), math.sqrt(2 / 900)),
        "he_normal": (init.he_normal(shape, rng=rng), math.sqrt(2 / 400)),
        "scaled_normal": (init.scaled_normal(shape, rng=rng), math.sqrt(1 / 400)),
        # U(−a, a) has standard deviation a / √3
        "uniform": (init.uniform(shape, rng=rng), 0.12 / math.sqrt(3)),
        "xavier_uniform": (init.xavier_uniform(shape, rng=rng), math.sqrt(6 / 900) / math.sqrt(3)),
        "he_uniform": (init.he_uniform(shape, rng=rng), math.sqrt(6 / 400) / math.sqrt(3)),
    }
    for name, (values, std) in cases.items():
        assert values.shape == shape
        assert abs(values.mean()) < 0.01 * std * 5, name
        assert values.std() == pytest.approx(std, rel=0.01), name
    for name, bound in (("uniform", 0.12), ("xavier_uniform", math.sqrt(6 / 900)), ("he_uniform", math.sqrt(6 / 400))):
        assert np.abs(cases[name][0]).max() <= bound
    np.testing.assert_array_equal(init.zeros((2, 2)), np.zeros((2, 2)))
    np.testing.assert_array_equal(init.constant((2,), value=0.5), [0.5, 0.5])
    assert init.uniform((1000,), eps=0.5, rng=1).max() > 0.49


def test_init_get_and_validation():
    f = init.get("uniform", eps=0.5)
    assert np.abs(f((100,), rng=0)).max() <= 0.5
    assert init.name_of(f) == ("uniform", {"eps": 0.5})
    assert init.name_of(init.he_normal) == ("he_normal", {})
    assert init.name_of(lambda shape, rng=None: 0) is None
    with pytest.raises(ArgumentError, match="takes no parameter 'std'"):
        init.get("uniform", std=1.0)
    for bad in (0, -1.0, float("nan"), float("inf"), True):
        with pytest.raises(ArgumentError, match="std"):
            init.get("normal", std=bad)
    with pytest.raises(ArgumentError, match="seed"):
        init.scaled_normal((2, 2), rng=-1)
    lin = nn.Linear(2, 2, init={"type": "normal", "std": 1.0}, rng=0)
    np.testing.assert_array_equal(lin.weight.data, np.random.default_rng(0).standard_normal((2, 2)))
    assert lin.layer_spec()["init"] == {"type": "normal", "std": 1.0}
