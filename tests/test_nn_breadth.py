"""nn's PyTorch-shaped breadth (issue 14): the layers LeakyReLU, ELU, GELU, SiLU, Softplus, Flatten and
Dropout, PyTorch's names of the losses, nn.functional, and optimizers that de-duplicate parameters."""
import warnings

import re

import numpy as np
import pytest

import nn
import nn.functional as F
import tinygrad_edu as te
from nn import SpecError
from tinygrad_edu import ArgumentError, LabelError, ShapeError, Tensor

RNG = np.random.default_rng(5)
Z = RNG.standard_normal((4, 3))


# ---------------------------------------------------------------------------------------------------
# Layers


@pytest.mark.parametrize("layer, expected", [
    (nn.LeakyReLU(), np.where(Z > 0, Z, 0.01 * Z)), (nn.LeakyReLU(0.2), np.where(Z > 0, Z, 0.2 * Z)),
    (nn.ELU(0.5), np.where(Z > 0, Z, 0.5 * np.expm1(Z))), (nn.SiLU(), Z / (1 + np.exp(-Z))),
    (nn.Softplus(), np.logaddexp(0, Z)), (nn.Softplus(2.0), np.logaddexp(0, 2 * Z) / 2),
    (nn.GELU(approximate="tanh"), 0.5 * Z * (1 + np.tanh(np.sqrt(2 / np.pi) * (Z + 0.044715 * Z ** 3)))),
])
def test_activation_layers_compute_their_formula(layer, expected):
    np.testing.assert_allclose(layer(Z).data, expected, rtol=1e-12, atol=1e-15)
    x = Tensor(Z, requires_grad=True)
    assert te.gradcheck(lambda t: layer(t), [x]).ok


def test_gelu_is_x_times_the_normal_cdf():
    from math import erf, sqrt
    expected = np.array([[z * 0.5 * (1 + erf(z / sqrt(2))) for z in row] for row in Z])
    np.testing.assert_allclose(nn.GELU()(Z).data, expected, rtol=1e-14)


def test_flatten_keeps_the_batch_axis():
    x = np.arange(24.0).reshape(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0)(x).shape == (24,)
    assert nn.Flatten(1, 1)(x).shape == (2, 3, 4)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2, rng=0))
    assert model(x).shape == (2, 2)
    with pytest.raises(ArgumentError, match="Flatten: start_dim must be an integer"):
        nn.Flatten(1.5)


def test_dropout_in_training_and_in_eval_mode():
    layer = nn.Dropout(0.25, rng=3)
    x = Tensor(np.ones((4, 5)), requires_grad=True)
    out = layer(x)
    keep = np.random.default_rng(3).random((4, 5)) >= 0.25
    np.testing.assert_allclose(out.data, keep / 0.75, rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.data, keep / 0.75, rtol=1e-15)
    assert not np.array_equal(layer(x).data, out.data)                 # a fresh mask every call
    layer.eval()
    assert layer(x) is x                                                # eval: the identity
    with pytest.raises(ArgumentError, match="Dropout: p must be a number in"):
        nn.Dropout(1.5)


def test_dropout_follows_nn_manual_seed():
    model = nn.Sequential(nn.Dropout(0.5))
    nn.manual_seed(11)
    a = model(np.ones(20)).data
    nn.manual_seed(11)
    b = model(np.ones(20)).data
    np.testing.assert_array_equal(a, b)


def _dropout_setup():
    nn.manual_seed(7)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
    opt = nn.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    def step(x, y):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return model, step


def test_a_compiled_step_with_dropout_matches_eager_and_recaptures_on_train_eval():
    X, y = RNG.standard_normal((10, 3)), RNG.integers(0, 2, 10)
    me, eager = _dropout_setup()
    mc, fn = _dropout_setup()
    compiled = te.compile(fn)
    nn.manual_seed(99)                                  # both draw their masks from nn's generator ...
    losses = [eager(X, y).item() for _ in range(5)]
    nn.manual_seed(99)                                  # ... in the same order, from the same seed
    compiled_losses = [compiled(X, y).item() for _ in range(5)]
    assert sum(len(c) for c in compiled.captures.values()) == 1         # one capture, four replays
    np.testing.assert_allclose(compiled_losses, losses, rtol=1e-12)
    assert len(set(np.round(losses, 12))) == 5                          # a different mask every step
    for a, b in zip(mc.parameters(), me.parameters()):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12)
    mc.eval(), me.eval()                                                # eval: dropout is off
    np.testing.assert_allclose(compiled(X, y).item(), eager(X, y).item(), rtol=1e-12)
    assert "switched between train() and eval()" in compiled.misses[-1]
    mc.train()
    nn.manual_seed(5)                                   # a new generator: the step is captured again
    compiled(X, y)
    assert "nn.manual_seed replaced the generator Dropout draws from" in compiled.misses[-1]


def test_fit_with_dropout_compiled_and_eager_agree():
    X, y = nn.data.make_moons(60, noise=0.2, seed=1)
    runs = []
    for compiled in (False, None):
        nn.manual_seed(2)
        model = nn.Sequential(nn.Linear(2, 16), nn.GELU(), nn.Dropout(0.3), nn.Linear(16, 2))
        opt = nn.Adam(model.parameters(), lr=0.01)
        h = nn.fit(model, nn.CrossEntropyLoss(), opt, (X, y), epochs=4, batch_size=20, seed=0, compile=compiled,
                   progress=False)
        runs.append((h.step_loss, [p.data.copy() for p in model.parameters()], model.training))
    (le, we, te_), (lc, wc, tc) = runs
    np.testing.assert_allclose(lc, le, rtol=1e-10)
    for a, b in zip(wc, we):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    assert te_ and tc


def test_new_layers_are_described_by_specs_and_save_and_load(tmp_path):
    model = nn.Sequential(nn.Linear(2, 4), nn.LeakyReLU(0.1), nn.Dropout(0.2), nn.Linear(4, 4), nn.GELU("tanh"),
                          nn.Flatten(), nn.ELU(0.5), nn.SiLU(), nn.Softplus(2.0), nn.Linear(4, 2))
    spec = model.to_spec()
    assert spec["layers"][1] == {"type": "LeakyReLU", "negative_slope": 0.1}
    assert spec["layers"][2] == {"type": "Dropout", "p": 0.2}
    assert spec["layers"][5] == {"type": "Flatten", "start_dim": 1, "end_dim": -1}
    model.save(tmp_path / "m.npz")
    again = nn.load(tmp_path / "m.npz")
    assert repr(again) == repr(model)
    model.eval()
    X = np.random.default_rng(0).standard_normal((5, 2))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    np.testing.assert_allclose(again(X).data if not again.training else again.eval()(X).data, model(X).data)
    for bad, field in (({"type": "Dropout", "p": 1.5}, "layers[0].p"),
                       ({"type": "GELU", "approximate": "exact"}, "layers[0].approximate"),
                       ({"type": "Flatten", "start_dim": 1000}, "layers[0].start_dim"),
                       ({"type": "LeakyReLU", "slope": 0.1}, "layers[0]")):
        with pytest.raises(SpecError, match=re.escape(field)):
            nn.validate_spec({"layers": [bad]})


def test_predict_runs_in_eval_mode_and_restores_the_mode():
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), nn.Linear(8, 2))
    X = np.random.default_rng(1).standard_normal((50, 2))
    first = model.predict(X)
    assert model.training                                      # restored
    np.testing.assert_array_equal(model.predict(X), first)     # no dropout: the same answer every time


def test_reprs():
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Dropout(0.5)) == "Dropout(p=0.5)"
    assert repr(nn.GELU()) == "GELU()" and repr(nn.GELU("tanh")) == "GELU(approximate='tanh')"


# ---------------------------------------------------------------------------------------------------
# Losses under PyTorch's names


@pytest.mark.parametrize("ours, theirs, target", [
    (nn.CrossEntropyLoss, nn.SoftmaxCrossEntropy, np.array([0, 2, 1, 2])),
    (nn.MSELoss, nn.MSE, RNG.standard_normal((4, 3))),
    (nn.BCEWithLogitsLoss, nn.BCEWithLogits, RNG.uniform(0, 1, (4, 3))),
])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_pytorch_loss_names_are_our_losses(ours, theirs, target, reduction):
    a, b = ours(reduction)(Z, target), theirs(reduction)(Z, target)
    np.testing.assert_array_equal(a.data, b.data)
    assert ours(reduction).to_spec() == theirs(reduction).to_spec()      # a spec records our name
    assert repr(ours(reduction)).startswith(ours.__name__)


# ---------------------------------------------------------------------------------------------------
# nn.functional


def test_functional_forms_match_the_modules_and_ops():
    z = Tensor(Z)
    np.testing.assert_array_equal(F.relu(z).data, z.relu().data)
    np.testing.assert_array_equal(F.leaky_relu(z, 0.3).data, nn.LeakyReLU(0.3)(z).data)
    np.testing.assert_array_equal(F.gelu(z).data, nn.GELU()(z).data)
    np.testing.assert_array_equal(F.softmax(z, dim=0).data, z.softmax(axis=0).data)
    np.testing.assert_array_equal(F.log_softmax(z, 1).data, z.log_softmax(1).data)
    np.testing.assert_array_equal(F.elu(z).data, z.elu().data)
    np.testing.assert_array_equal(F.silu(z).data, z.silu().data)
    np.testing.assert_array_equal(F.softplus(z, 2.0).data, z.softplus(2.0).data)
    np.testing.assert_array_equal(F.sigmoid(z).data, z.sigmoid().data)
    np.testing.assert_array_equal(F.tanh(z).data, z.tanh().data)
    labels = np.array([0, 2, 1, 1])
    np.testing.assert_array_equal(F.cross_entropy(z, labels).data, z.softmax_cross_entropy(labels).data)
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(z, 1), labels).item(),
                               z.softmax_cross_entropy(labels).item(), rtol=1e-14)
    np.testing.assert_allclose(F.nll_loss(Z, labels, "sum").item(), -Z[np.arange(4), labels].sum())
    np.testing.assert_array_equal(F.one_hot(labels).data, np.eye(3, dtype=np.int64)[labels])
    assert F.one_hot(labels, 5).shape == (4, 5)
    np.testing.assert_allclose(F.l1_loss(Z, np.zeros((4, 3))).item(), np.abs(Z).mean())
    y = RNG.uniform(0, 1, (4, 3))
    p = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(F.binary_cross_entropy(p, y).item(),
                               F.binary_cross_entropy_with_logits(Z, y).item(), rtol=1e-12)
    np.testing.assert_allclose(F.mse_loss(Z, y, "sum").item(), ((Z - y) ** 2).sum())


def test_functional_linear_takes_pytorchs_weight_layout():
    W = RNG.standard_normal((2, 3))                     # (out, in)
    b = RNG.standard_normal(2)
    np.testing.assert_allclose(F.linear(Z, W, b).data, Z @ W.T + b)
    layer = nn.Linear(3, 2, rng=0)                      # (in, out): transpose to use F.linear
    np.testing.assert_allclose(F.linear(Z, layer.weight.T, layer.bias).data, layer(Z).data)
    with pytest.raises(ShapeError, match="PyTorch's layout"):
        F.linear(Z, W.T)


def test_functional_pad_lists_the_last_axis_first():
    x = np.ones((2, 3))
    np.testing.assert_array_equal(F.pad(x, (1, 2)).data, np.pad(x, ((0, 0), (1, 2))))
    np.testing.assert_array_equal(F.pad(x, (1, 0, 0, 2), value=5).data,
                                  np.pad(x, ((0, 2), (1, 0)), constant_values=5))
    with pytest.raises(ArgumentError, match="pad: expected an even number"):
        F.pad(x, (1, 2, 3))


def test_binary_cross_entropy_clamps_its_logs_like_pytorch():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]), "none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0])


@pytest.mark.parametrize("error, fragment, action", [
    (LabelError, "nll_loss: label 3 at position 1 is out of range for 3 classes",
     lambda: F.nll_loss(Z, np.array([0, 3, 1, 1]))),
    (LabelError, "nll_loss: class labels must be integers", lambda: F.nll_loss(Z, np.zeros(4))),
    (ShapeError, "nll_loss: expected input (N, C) and labels (N,)", lambda: F.nll_loss(Z, np.zeros(3, int))),
    (ArgumentError, "nll_loss: reduction='avg'", lambda: F.nll_loss(Z, np.zeros(4, int), "avg")),
    (ShapeError, "l1_loss: target shape (4,) does not match input shape (4, 3)", lambda: F.l1_loss(Z, np.ones(4))),
    (LabelError, "one_hot: label 5 at position 0 is out of range for 3 classes",
     lambda: F.one_hot(np.array([5]), 3)),
    (ArgumentError, "pad: only mode='constant'", lambda: F.pad(Z, (1, 1), mode="reflect")),
])
def test_functional_bad_input(error, fragment, action):
    with pytest.raises(error) as info:
        action()
    assert fragment in str(info.value)


# ---------------------------------------------------------------------------------------------------
# Optimizers given a parameter twice


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, lr=0.1), lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: nn.Adam(ps, lr=0.1)], ids=["sgd", "momentum", "adam"])
def test_a_parameter_given_twice_is_updated_once_with_a_warning(make):
    layer = nn.Linear(2, 2, rng=0)
    twice = [layer.weight, layer.bias, layer.weight]
    with pytest.warns(UserWarning, match=r"parameter 2 appears more than once"):
        opt = make(twice)
    reference = make(list(nn.Linear(2, 2, rng=0).parameters()))
    for o in (opt, reference):
        for p in o.params:
            p.grad = Tensor(np.ones(p.shape))
        o.step()
    assert len(opt.params) == 2
    for a, b in zip(opt.params, reference.params):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_model_listed_twice_is_deduplicated():
    model = nn.MLP([2, 3, 2], rng=0)
    with pytest.warns(UserWarning, match="appears more than once"):
        opt = nn.SGD(list(model.parameters()) + list(model.parameters()), lr=0.1)
    assert len(opt.params) == 4
