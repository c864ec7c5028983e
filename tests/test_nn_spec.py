"""Declarative specs: round trips, every validation error (with its field path), files, training
sections, and fuzzed specs that may only raise SpecError."""
import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from nn.spec import MAX_PARAMETERS, parameter_shapes

MOONS = {"layers": [{"type": "Linear", "in": 2, "out": 3}, {"type": "Tanh"},
                    {"type": "Linear", "in": 3, "out": 2}]}

FULL = {
    "version": 1, "seed": 3,
    "layers": [{"type": "Linear", "in": 2, "out": 4, "init": {"type": "uniform", "eps": 0.5}, "bias_init": "zeros"},
               {"type": "ReLU"},
               {"type": "Linear", "in": 4, "out": 4, "bias": False, "init": "he_normal", "dtype": "float64"},
               {"type": "Sigmoid"}, {"type": "Identity"},
               {"type": "Linear", "in": 4, "out": 3, "init": "xavier_uniform"}, {"type": "Softmax", "axis": -1}],
    "loss": {"type": "MSE", "reduction": "sum"},
    "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001,
                  "l1": 0.0, "regularize_bias": False,
                  "schedule": {"type": "step", "step_size": 10, "gamma": 0.5}},
    "training": {"epochs": 5, "batch_size": 16, "shuffle": False, "seed": 1},
}


def test_from_spec_builds_the_issue_example():
    model = nn.from_spec(MOONS, seed=0)
    assert isinstance(model, nn.Sequential)
    assert [type(m).__name__ for m in model] == ["Linear", "Tanh", "Linear"]
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    twin = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    x = np.random.default_rng(0).standard_normal((4, 2))
    twin.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(model(x).data, twin(x).data)


def test_spec_seed_makes_weights_reproducible():
    a, b = nn.from_spec(FULL), nn.from_spec(FULL)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
    c = nn.from_spec(FULL, seed=4)
    assert not np.array_equal(a[0].weight.data, c[0].weight.data)
    assert np.abs(a[0].weight.data).max() <= 0.5                  # the uniform(eps=0.5) init was used


def test_round_trip_model_spec_model():
    model = nn.from_spec(FULL)
    spec = model.to_spec()
    assert spec["layers"][0] == {"type": "Linear", "in": 2, "out": 4, "bias": True,
                                 "init": {"type": "uniform", "eps": 0.5}, "bias_init": "zeros", "dtype": "float64"}
    assert spec["layers"][2]["bias"] is False and "bias_init" not in spec["layers"][2]
    assert spec["layers"][6] == {"type": "Softmax", "axis": -1}
    again = nn.from_spec(json.loads(json.dumps(spec)))
    assert again.to_spec() == spec
    assert nn.validate_spec(spec) == spec
    mlp = nn.MLP([2, 5, 1], activation="relu", output_activation="sigmoid", dtype=np.float32)
    rebuilt = nn.from_spec(mlp.to_spec())
    assert rebuilt.to_spec() == mlp.to_spec() and rebuilt[0].weight.dtype == np.float32


def test_validate_spec_normalizes_and_keeps_sections():
    spec = nn.validate_spec(FULL)
    assert spec == FULL and spec is not FULL
    assert parameter_shapes(spec) == {"0.weight": ((2, 4), "float64"), "0.bias": ((4,), "float64"),
                                      "2.weight": ((4, 4), "float64"), "5.weight": ((4, 3), "float64"),
                                      "5.bias": ((3,), "float64")}
    assert nn.validate_spec({"layers": [{"type": "Linear", "in": np.int64(2), "out": 1}]})["layers"][0]["in"] == 2


def bad(path_value):
    """A copy of FULL with one field replaced (or deleted, with value ...)."""
    spec = copy.deepcopy(FULL)
    path, value = path_value
    target = spec
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return spec


# (field to change, new value, expected message fragment (regex), expected path)
ERRORS = [
    (("layers", 1, "type"), "Tanhh", r"unknown layer type 'Tanhh' \(expected one of Dropout, ELU, Flatten, GELU, Identity, LeakyReLU, Linear, ReLU, SiLU, Sigmoid, Softmax, Softplus, Tanh\)", "layers[1].type"),
    (("layers", 1, "type"), "relu", r"did you mean 'ReLU'", "layers[1].type"),
    (("layers", 1, "type"), 3, "must be a string", "layers[1].type"),
    (("layers", 1, "type"), ..., "missing required field 'type'", "layers[1]"),
    (("layers", 0, "outt"), 3, r"unknown field .*did you mean 'out'", "layers[0].outt"),
    (("layers", 1, "axis"), 1, "unknown field", "layers[1].axis"),
    (("layers", 0, "out"), ..., "missing required field 'out'", "layers[0]"),
    (("layers", 0, "in"), 0, "must be an integer >= 1, got 0", "layers[0].in"),
    (("layers", 0, "in"), -3, "must be an integer >= 1", "layers[0].in"),
    (("layers", 0, "in"), 2.0, "must be an integer >= 1, got 2.0", "layers[0].in"),
    (("layers", 0, "in"), 2.5, "must be an integer", "layers[0].in"),
    (("layers", 0, "in"), True, "must be an integer >= 1, got true", "layers[0].in"),
    (("layers", 0, "in"), "2", "must be an integer", "layers[0].in"),
    (("layers", 0, "in"), None, "must be an integer", "layers[0].in"),
    (("layers", 0, "out"), 5, r"4 does not chain: layers\[0\] \(Linear 2→5\) produces 5 outputs", "layers[2].in"),
    (("layers", 2, "in"), 3, r"3 does not chain: layers\[0\] \(Linear 2→4\) produces 4 outputs", "layers[2].in"),
    (("layers", 0, "bias"), 1, "must be true or false, got 1", "layers[0].bias"),
    (("layers", 0, "init"), "unifrom", r"unknown initializer 'unifrom'.*did you mean 'uniform'", "layers[0].init"),
    (("layers", 0, "init"), {"type": "uniform", "std": 1}, "takes eps", "layers[0].init.std"),
    (("layers", 0, "init"), {"type": "uniform", "eps": -1}, "must be a finite number > 0", "layers[0].init.eps"),
    (("layers", 0, "init"), {"eps": 1}, "missing required field 'type'", "layers[0].init"),
    (("layers", 0, "init"), 5, "expected an initializer name or object, got 5", "layers[0].init"),
    (("layers", 0, "dtype"), "float16", "unknown dtype 'float16'", "layers[0].dtype"),
    (("layers", 6, "axis"), 0.5, "must be an integer", "layers[6].axis"),
    (("layers", 3), "Sigmoid", "expected a layer object", "layers[3]"),
    (("layers",), [], "must list at least one layer", "layers"),
    (("layers",), {"type": "Linear"}, "expected a list", "layers"),
    (("layers",), ..., "missing required field 'layers'", ""),
    (("layerz",), [], r"unknown field .*did you mean 'layers'", "layerz"),
    (("version",), 2, "unsupported spec version 2", "version"),
    (("seed",), -1, "must be an integer >= 0", "seed"),
    (("seed",), 1.5, "must be an integer >= 0", "seed"),
    (("loss", "type"), "CrossEntropy", r"unknown loss 'CrossEntropy'.*did you mean 'CrossEntropyCost'", "loss.type"),
    (("loss", "reduction"), "none", r"unknown reduction 'none' \(expected one of mean, sum\)", "loss.reduction"),
    (("loss", "weight"), 1, "unknown field", "loss.weight"),
    (("loss",), "MSE", "expected an object", "loss"),
    (("optimizer", "lr"), float("nan"), "must be a finite number >= 0, got NaN", "optimizer.lr"),
    (("optimizer", "lr"), float("inf"), "must be a finite number >= 0", "optimizer.lr"),
    (("optimizer", "lr"), -0.1, "must be a finite number >= 0, got -0.1", "optimizer.lr"),
    (("optimizer", "lr"), "0.1", "must be a finite number", "optimizer.lr"),
    (("optimizer", "lr"), ..., "missing required field 'lr'", "optimizer"),
    (("optimizer", "momentum"), 0, "nesterov momentum needs", "optimizer.nesterov"),
    (("optimizer", "momentum"), True, "must be a finite number", "optimizer.momentum"),
    (("optimizer", "nesterov"), "yes", "must be true or false", "optimizer.nesterov"),
    (("optimizer", "betas"), [0.9, 0.99], "unknown field", "optimizer.betas"),
    (("optimizer", "type"), "Adagrad", r"unknown optimizer 'Adagrad' \(expected one of Adam, SGD\)", "optimizer.type"),
    (("optimizer", "learning_rate"), 0.1, "unknown field", "optimizer.learning_rate"),
    (("optimizer", "schedule"), {"type": "anneal", "decay": 0.1}, r"did you mean 'annealing'", "optimizer.schedule.type"),
    (("optimizer", "schedule"), {"type": "step"}, "missing required field 'step_size'", "optimizer.schedule"),
    (("optimizer", "schedule"), {"type": "step", "step_size": 0}, "must be an integer >= 1", "optimizer.schedule.step_size"),
    (("optimizer", "schedule"), {"type": "step", "step_size": 2, "gamma": 0}, "must be a finite number > 0", "optimizer.schedule.gamma"),
    (("optimizer", "schedule"), {"type": "annealing", "decay": 0.1, "step_size": 2}, "unknown field", "optimizer.schedule.step_size"),
    (("optimizer", "schedule"), "annealing", "expected a schedule object", "optimizer.schedule"),
    (("training", "epochs"), -1, "must be an integer >= 0", "training.epochs"),
    (("training", "epochs"), 10.0, "must be an integer", "training.epochs"),
    (("training", "batch_size"), 0, "must be an integer >= 1", "training.batch_size"),
    (("training", "shuffle"), 0, "must be true or false", "training.shuffle"),
    (("training", "seed"), "abc", "must be an integer >= 0", "training.seed"),
    (("training", "epoch"), 3, r"did you mean 'epochs'", "training.epoch"),
]


@pytest.mark.parametrize("change, message, path", [((e[0], e[1]), e[2], e[3]) for e in ERRORS],
                         ids=[f"{'.'.join(map(str, e[0]))}={e[1]!r}" for e in ERRORS])
def test_every_validation_error_names_its_field(change, message, path):
    with pytest.raises(nn.SpecError, match=message) as info:
        nn.from_spec(bad(change))
    assert info.value.path == path
    if path:
        assert str(info.value).startswith(f"{path}: ")


def test_adam_sections_are_checked():
    adam = {"type": "Adam", "lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8}
    assert nn.validate_spec({**MOONS, "optimizer": adam})["optimizer"] == adam
    for betas, path in (([0.9], "optimizer.betas"), ([0.9, 1.0], "optimizer.betas[1]"), ("0.9", "optimizer.betas")):
        with pytest.raises(nn.SpecError) as info:
            nn.validate_spec({**MOONS, "optimizer": {**adam, "betas": betas}})
        assert info.value.path == path
    with pytest.raises(nn.SpecError, match="unknown field") as info:
        nn.validate_spec({**MOONS, "optimizer": {**adam, "momentum": 0.9}})
    assert info.value.path == "optimizer.momentum"


def test_specs_must_be_objects_and_not_too_big():
    for value in ([], "layers", None, 3):
        with pytest.raises(nn.SpecError, match="must be a JSON object"):
            nn.validate_spec(value)
    with pytest.raises(nn.SpecError, match="field names must be strings"):
        nn.validate_spec({**MOONS, 1: 2})
    huge = {"layers": [{"type": "Linear", "in": 10 ** 6, "out": 10 ** 6}]}
    with pytest.raises(nn.SpecError, match="more than") as info:
        nn.from_spec(huge)                                  # refused before allocating anything
    assert info.value.path == "layers[0]" and MAX_PARAMETERS < 10 ** 12


def test_spec_files(tmp_path):
    path = tmp_path / "moons.json"
    path.write_text(json.dumps(FULL))
    model = nn.from_spec(path)
    assert model.to_spec()["layers"][0]["in"] == 2
    assert nn.load_spec(str(path)) == FULL
    broken = tmp_path / "broken.json"
    broken.write_text('{"layers": [{"type": "Tanhh"}]}')
    with pytest.raises(nn.SpecError) as info:
        nn.from_spec(broken)
    assert str(info.value).startswith(f"{broken}: layers[0].type: unknown layer type 'Tanhh'")
    assert info.value.source == str(broken)
    for text, message in (('{"layers": [', "invalid JSON at line 1"),
                          ('{"layers": [], "layers": []}', "duplicate field 'layers'"),
                          ('{"layers": [{"type": "Linear", "in": 2, "out": NaN}]}', r"layers\[0\].out: must be an integer"),
                          ('{"seed": 1, "optimizer": {"type": "SGD", "lr": Infinity}, "layers": [{"type": "Tanh"}]}',
                           "optimizer.lr: must be a finite number"),
                          ("[" * 100_000, "nested too deeply|invalid JSON")):
        broken.write_text(text)
        with pytest.raises(nn.SpecError, match=message):
            nn.from_spec(broken)
    broken.write_bytes(b"\xff\xfe{")
    with pytest.raises(nn.SpecError, match="not UTF-8"):
        nn.load_spec(broken)
    with pytest.raises(FileNotFoundError):
        nn.from_spec(tmp_path / "missing.json")


def test_build_training_makes_real_objects(tmp_path):
    setup = nn.build_training(FULL)
    assert isinstance(setup.loss, nn.MSE) and setup.loss.reduction == "sum"
    opt = setup.optimizer
    assert isinstance(opt, nn.SGD) and (opt.lr, opt.momentum, opt.nesterov, opt.weight_decay) == (0.1, 0.9, True, 0.001)
    assert isinstance(opt.schedule, nn.StepDecay) and (opt.schedule.step_size, opt.schedule.gamma) == (10, 0.5)
    assert opt.params == list(setup.model.parameters())
    assert setup.settings == {"epochs": 5, "batch_size": 16, "shuffle": False, "seed": 1}
    assert opt.to_spec() == FULL["optimizer"]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    Y = np.eye(3)[rng.integers(0, 3, 40)]
    history = setup.fit((X, Y))
    assert len(history) == 5 and len(history.step_loss) == 5 * 3
    # defaults when sections are missing; an existing model can be trained
    model = nn.MLP([2, 3, 2])
    defaults = nn.build_training(MOONS, model=model)
    assert defaults.model is model and isinstance(defaults.loss, nn.SoftmaxCrossEntropy)
    assert isinstance(defaults.optimizer, nn.SGD) and defaults.optimizer.lr == 0.01
    assert defaults.settings == {"epochs": 100, "batch_size": None, "shuffle": True, "seed": None}
    adam = nn.build_training({**MOONS, "optimizer": {"type": "Adam", "schedule": {"type": "annealing", "decay": 0.5}}})
    assert isinstance(adam.optimizer, nn.Adam) and adam.optimizer.lr == 0.001
    assert adam.optimizer.schedule(2) == 0.5
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(bad((("optimizer", "lr"), -1.0))))
    with pytest.raises(nn.SpecError, match="optimizer.lr") as info:
        nn.build_training(path)
    assert info.value.source == str(path)


# -- fuzzing: whatever the input, only SpecError (or a built model) --------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 40) | st.sampled_from([10 ** 9, -10 ** 12, 2 ** 70])
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8)
    | st.sampled_from(["Linear", "Tanh", "Softmax", "SGD", "Adam", "uniform", "mean", "annealing"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["type", "in", "out", "layers", "lr", "bias", "init", "axis", "loss",
                                       "optimizer", "training", "epochs", "schedule", "x"]) | st.text(max_size=5),
                      children, max_size=5),
    max_leaves=20)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = list(_paths(FULL))[1:]


def _build_or_spec_error(spec):
    try:
        # a str given to from_spec is a file path, so parsed JSON values go through validate_spec
        model = nn.from_spec(nn.validate_spec(spec))
    except nn.SpecError:
        return
    assert isinstance(model, nn.Sequential)
    nn.build_training(spec, model=model)


@settings(max_examples=150)
@given(json_values)
def test_fuzzed_specs_raise_only_spec_errors(spec):
    _build_or_spec_error(spec)
    _build_or_spec_error({"layers": spec})


@settings(max_examples=200)
@given(st.sampled_from(ALL_PATHS), json_values)
def test_mutated_specs_raise_only_spec_errors(path, value):
    spec = copy.deepcopy(FULL)
    target = spec
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    _build_or_spec_error(spec)


# -- a softmax (or sigmoid) layer before a loss that applies it again: a warning, not an error ----------

def _ending_with(last, loss=None):
    spec = {"layers": [{"type": "Linear", "in": 2, "out": 2}, {"type": last}]}
    if loss is not None:
        spec["loss"] = {"type": loss}
    return spec


@pytest.mark.parametrize("last, loss", [("Softmax", None), ("Softmax", "SoftmaxCrossEntropy"),
                                        ("Sigmoid", "BCEWithLogits"), ("Sigmoid", "CrossEntropyCost")])
def test_a_spec_applying_the_losss_activation_twice_warns(last, loss):
    import warnings
    from nn.train import DoubleActivationWarning
    spec = _ending_with(last, loss)
    with pytest.warns(DoubleActivationWarning) as record:
        nn.validate_spec(spec)
    message = str(record[0].message)
    assert f"layers[1]: the network ends with {last}" in message and "applied twice" in message
    assert f'remove the last {{"type": "{last}"}} layer' in message
    assert ("(the default loss)" in message) == (loss is None)
    with pytest.warns(DoubleActivationWarning) as record:     # building a training setup: one warning
        nn.build_training(spec)
    assert len(record) == 1
    with warnings.catch_warnings():                           # a warning only: the spec still builds
        warnings.simplefilter("ignore")
        assert isinstance(nn.from_spec(spec)[-1], getattr(nn, last))


@pytest.mark.parametrize("spec", [_ending_with("Softmax", "MSE"), _ending_with("Tanh"),
                                  _ending_with("Sigmoid", "SoftmaxCrossEntropy"), _ending_with("Sigmoid")])
def test_specs_without_a_doubled_activation_do_not_warn(spec):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.validate_spec(spec)
        nn.build_training(spec)


def test_a_spec_file_warning_names_the_file(tmp_path):
    from nn.train import DoubleActivationWarning
    path = tmp_path / "soft.json"
    path.write_text(json.dumps(_ending_with("Softmax")))
    with pytest.warns(DoubleActivationWarning, match="soft.json: layers\\[1\\]"):
        nn.load_spec(path)
