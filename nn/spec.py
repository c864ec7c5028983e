"""Declarative specs: a network (and optionally how to train it) as a JSON object.

    model = nn.from_spec({"layers": [{"type": "Linear", "in": 2, "out": 3}, {"type": "Tanh"},
                                     {"type": "Linear", "in": 3, "out": 2}]})
    model = nn.from_spec("moons.json")              # the same, from a file
    spec = model.to_spec()                          # and back
    setup = nn.build_training("moons.json")         # model + loss + optimizer + fit settings
    history = setup.fit((X, y))

The format (every field is checked; unknown fields are errors, not ignored):

    {
      "version": 1,                          optional; the only version so far
      "seed": 0,                             optional int in [0, 2**32 - 1]: the weights' random seed
      "layers": [                            required, at least one layer, applied in order
        {"type": "Linear",
         "in": 2, "out": 3,                  required positive integers (JSON true is not a size)
         "bias": true,                       optional, default true
         "init": "scaled_normal",            optional initializer (see nn.init), a name or an
                                             object with parameters: {"type": "uniform", "eps": 0.12}
         "bias_init": "zeros",               optional, same forms
         "dtype": "float64"},                optional, "float64" or "float32"
        {"type": "Tanh"}, {"type": "Sigmoid"}, {"type": "ReLU"}, {"type": "Identity"}, {"type": "SiLU"},
        {"type": "LeakyReLU", "negative_slope": 0.01}, {"type": "ELU", "alpha": 1.0},
        {"type": "GELU", "approximate": "none"}, {"type": "Softplus", "beta": 1.0},
        {"type": "Flatten", "start_dim": 1, "end_dim": -1}, {"type": "Dropout", "p": 0.5}
                                             (each setting optional, with PyTorch's default)
        {"type": "Softmax", "axis": -1}      axis optional, default -1, in [-64, 63]; as the last layer
      ],                                     before SoftmaxCrossEntropy (the default loss) it warns: that
                                             loss applies softmax itself (DoubleActivationWarning)
      "loss": {"type": "SoftmaxCrossEntropy",     optional section; also MSE, QuadraticCost,
               "reduction": "mean"},              BCEWithLogits, CrossEntropyCost; "mean" or "sum"
      "optimizer": {"type": "SGD",                optional section; or "Adam"
                    "lr": 0.01,                   required for SGD (Adam: default 0.001), finite, >= 0
                    "momentum": 0.0, "nesterov": false,            SGD only
                    "betas": [0.9, 0.999], "eps": 1e-8,            Adam only
                    "weight_decay": 0.0, "l1": 0.0,                L2 / L1 strength (see nn.optim)
                    "regularize_bias": false,
                    "schedule": {"type": "annealing", "decay": 0.001, "every": 1}},
                    (or {"type": "step", "step_size": 100, "gamma": 0.5},
                        {"type": "exponential", "gamma": 0.99, "every": 1})
      "training": {"epochs": 100,                 optional section; int >= 0, default 100
                   "batch_size": null,            null (full batch) or a positive int
                   "shuffle": true, "seed": null} seed: null or an int in [0, 2**32 - 1] (shuffling)
    }

Every integer has a range, checked here and so the same for specs written (nn.save) and read: sizes
("in", "out") up to MAX_PARAMETERS, counts ("epochs", "batch_size", "every", "step_size") up to
MAX_COUNT, seeds below 2**32, a Softmax axis in [-64, 63] (NumPy arrays have at most 64 axes), at
most MAX_LAYERS layers and MAX_PARAMETERS parameters. A spec file holds at most MAX_SPEC_BYTES bytes
of UTF-8 JSON; duplicate fields are refused (checked in linear time); an integer literal of more than
100 digits is refused at its field.

Sizes must chain: each Linear's "in" equals the "out" of the Linear before it (activations keep
the size). A built model is a Sequential; its parameters are named "<layer index>.weight" and
"<layer index>.bias" (so "0.weight", "2.bias" above). Defaults of the missing sections:
SoftmaxCrossEntropy (mean), SGD with lr 0.01, 100 epochs of full-batch descent.

Every problem raises SpecError whose message starts with the field path, e.g.
    layers[2].type: unknown 'Tanhh' (expected one of Dropout, ELU, ..., Softplus, Tanh); did you mean 'Tanh'?
    layers[2].in: 4 does not chain: layers[0] (Linear 2→3) produces 3 outputs
    optimizer.lr: must be a finite number >= 0, got NaN
"""
import difflib
import json
import math
import numbers
import os
import warnings

import numpy as np

from tinygrad_edu import ArgumentError, NotRegularFileError, open_regular

from . import init as _init
from .errors import DoubleActivationWarning, SpecError, parsing, printable
from .layers import (ACTIVATIONS, ELU, GELU, Dropout, Flatten, LeakyReLU, Linear, Sequential, SiLU, Softmax,
                     Softplus)
from .losses import LOSSES
from .optim import OPTIMIZERS, SCHEDULES

SPEC_VERSION = 1
MAX_PARAMETERS = 50_000_000     # a spec asking for more is refused before anything is allocated
MAX_LAYERS = 10_000
MAX_SPEC_BYTES = 4_000_000      # largest spec file (or stored spec); the longest valid spec (MAX_LAYERS
                                # layers of the longest form) is about 2 MB, so every valid spec can be saved
MAX_COUNT = 2 ** 31 - 1         # epochs, batch_size, every, step_size
MAX_SEED = 2 ** 32 - 1          # the seeds NumPy's legacy np.random.seed takes too
MAX_AXIS = 64                   # a Softmax axis lies in [-MAX_AXIS, MAX_AXIS - 1]
MAX_DIGITS = 100                # longest integer literal parsed from JSON


# -- small validators: each returns the normalized value or raises SpecError at `path` ---------------

def _show(value):
    """A value as the user wrote it in JSON (true, null, "x"), for messages: short and printable."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) \
            and int(value).bit_length() > 200:
        return f"an integer of about {int(int(value).bit_length() * math.log10(2)):,} digits"
    if isinstance(value, str) and len(value) > 60:
        value = value[:60]                  # never serialize a 500 KB string just to cut it
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value) if isinstance(value, _TooManyDigits) else f"a {type(value).__name__}"
    return printable(text, 60)


class _TooManyDigits:
    """What the JSON parser gives for an integer literal of more than MAX_DIGITS digits: no field
    takes it, so the field's check refuses it - with the field's path in the message."""

    def __init__(self, digits):
        self.digits = digits

    def __repr__(self):
        return f"an integer of {self.digits:,} digits"


def _parse_int(text):
    return int(text) if len(text) <= MAX_DIGITS else _TooManyDigits(len(text.lstrip("-")))


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def _int(value, path, low=1, high=MAX_COUNT):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < low:
        raise SpecError(f"must be an integer >= {low}, got {_show(value)}", path)
    if value > high:
        raise SpecError(f"must be an integer in [{low}, {high}], got {_show(value)}", path)
    return int(value)


def _number(value, path, low=-math.inf, high=math.inf, low_open=False, high_open=False):
    ok = not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)
    if ok:
        try:
            value = float(value)
        except OverflowError:               # an int too large for a float
            value = math.inf
        ok = (math.isfinite(value) and low <= value <= high and not (low_open and value == low)
              and not (high_open and value == high))
    if not ok:
        if low == -math.inf and high == math.inf:
            rule = "a finite number"
        elif high == math.inf:
            rule = f"a finite number {'>' if low_open else '>='} {low:g}"
        else:
            rule = f"a finite number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        shown = "NaN" if isinstance(value, float) and math.isnan(value) else _show(value)
        raise SpecError(f"must be {rule}, got {shown}", path)
    return value


def _bool(value, path):
    if not isinstance(value, (bool, np.bool_)):
        raise SpecError(f"must be true or false, got {_show(value)}", path)
    return bool(value)


def _choice(value, path, choices, what="value"):
    if not isinstance(value, str):
        raise SpecError(f"must be a string, one of {', '.join(sorted(choices))}; got {_show(value)}", path)
    if value not in choices:
        close = _close_match(value, choices)
        hint = f"; did you mean {close!r}?" if close else ""
        raise SpecError(f"unknown {what} {printable(repr(value))} (expected one of "
                        f"{', '.join(sorted(choices))}){hint}", path)
    return value


def _close_match(value, choices):
    """The choice `value` was probably meant to be, or None (names longer than 64 are not compared)."""
    if len(value) > 64:
        return None
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    if close:
        return close[0]
    lowered = {c.lower(): c for c in choices}
    return lowered.get(value.lower())


def _object(value, path, allowed, required=(), what="an object"):
    """Check `value` is a dict with string keys, only `allowed` fields and every `required` one."""
    if not isinstance(value, dict):
        raise SpecError(f"expected {what}, got {_show(value)}", path)
    for key in value:
        if not isinstance(key, str):
            raise SpecError(f"field names must be strings, got {_show(key)}", path)
        if key not in allowed:
            close = _close_match(key, allowed)
            hint = f"; did you mean {close!r}?" if close else ""
            raise SpecError(f"unknown field (expected one of {', '.join(sorted(allowed))}){hint}",
                            _join(path, printable(key)))
    for key in required:
        if key not in value:
            raise SpecError(f"missing required field {key!r}", path)
    return value


def _list(value, path):
    if not isinstance(value, (list, tuple)):
        raise SpecError(f"expected a list, got {_show(value)}", path)
    return list(value)


# -- the sections -------------------------------------------------------------------------------------

_INIT_PARAMS = {"std": dict(low=0.0, low_open=True), "eps": dict(low=0.0, low_open=True),
                "gain": dict(low=0.0, low_open=True), "value": {}}


def _initializer(value, path):
    if isinstance(value, str):
        return _choice(value, path, _init.INITIALIZERS, "initializer")
    _object(value, path, {"type"} | set(_INIT_PARAMS), ("type",), "an initializer name or object")
    name = _choice(value["type"], _join(path, "type"), _init.INITIALIZERS, "initializer")
    defaults = _init.INITIALIZERS[name][1]
    out = {"type": name}
    for key, v in value.items():
        if key == "type":
            continue
        if key not in defaults:
            allowed = ", ".join(defaults) or "no parameters"
            raise SpecError(f"the {name} initializer takes {allowed}", _join(path, key))
        out[key] = _number(v, _join(path, key), **_INIT_PARAMS[key])
    return out


_LAYER_FIELDS = {
    "Linear": {"type", "in", "out", "bias", "init", "bias_init", "dtype"},
    "Softmax": {"type", "axis"},
    "LeakyReLU": {"type", "negative_slope"}, "ELU": {"type", "alpha"}, "GELU": {"type", "approximate"},
    "Softplus": {"type", "beta"}, "Flatten": {"type", "start_dim", "end_dim"}, "Dropout": {"type", "p"},
}
_SETTINGS = {"LeakyReLU": LeakyReLU, "ELU": ELU, "GELU": GELU, "SiLU": SiLU, "Softplus": Softplus,
             "Flatten": Flatten, "Dropout": Dropout}         # layers with settings (or none) of their own
_LAYER_TYPES = sorted({"Linear"} | {cls.__name__ for cls in ACTIVATIONS.values()} | set(_SETTINGS))


def _layer(value, path):
    if not isinstance(value, dict):
        raise SpecError(f"expected a layer object such as {{\"type\": \"Tanh\"}}, got {_show(value)}", path)
    if "type" not in value:
        raise SpecError("missing required field 'type'", path)
    kind = _choice(value["type"], _join(path, "type"), _LAYER_TYPES, "layer type")
    _object(value, path, _LAYER_FIELDS.get(kind, {"type"}))
    out = {"type": kind}
    if kind == "Linear":
        for key in ("in", "out"):
            if key not in value:
                raise SpecError(f"missing required field {key!r} (a Linear layer needs 'in' and 'out')", path)
            out[key] = _int(value[key], _join(path, key), high=MAX_PARAMETERS)
        if "bias" in value:
            out["bias"] = _bool(value["bias"], _join(path, "bias"))
        for key in ("init", "bias_init"):
            if key in value:
                out[key] = _initializer(value[key], _join(path, key))
        if "dtype" in value:
            out["dtype"] = _choice(value["dtype"], _join(path, "dtype"), ("float32", "float64"), "dtype")
    elif kind == "Softmax" and "axis" in value:
        out["axis"] = _int(value["axis"], _join(path, "axis"), low=-MAX_AXIS, high=MAX_AXIS - 1)
    for key in sorted(_LAYER_FIELDS.get(kind, {"type"}) - {"type"}) if kind in _SETTINGS else ():
        if key not in value:
            continue                                        # (each setting has its layer's default)
        where = _join(path, key)
        if key in ("start_dim", "end_dim"):
            out[key] = _int(value[key], where, low=-MAX_AXIS, high=MAX_AXIS - 1)
        elif key == "approximate":
            out[key] = _choice(value[key], where, ("none", "tanh"), "approximation")
        elif key == "p":
            out[key] = _number(value[key], where, low=0.0, high=1.0)
        else:
            out[key] = _number(value[key], where, low=-1e6, high=1e6)
    return out


def _layers(value, path="layers"):
    layers = _list(value, path)
    if not layers:
        raise SpecError("must list at least one layer", path)
    if len(layers) > MAX_LAYERS:
        raise SpecError(f"{len(layers)} layers is more than the limit of {MAX_LAYERS}", path)
    out = [_layer(layer, f"{path}[{i}]") for i, layer in enumerate(layers)]
    # sizes must chain; count parameters before anything is allocated
    size, source, total = None, None, 0
    for i, layer in enumerate(out):
        if layer["type"] != "Linear":
            continue
        if size is not None and layer["in"] != size:
            src = out[source]
            raise SpecError(f"{layer['in']} does not chain: {path}[{source}] (Linear {src['in']}→{src['out']}) "
                            f"produces {size} outputs", f"{path}[{i}].in")
        size, source = layer["out"], i
        total += layer["in"] * layer["out"] + (layer["out"] if layer.get("bias", True) else 0)
        if total > MAX_PARAMETERS:
            raise SpecError(f"the network would have more than {MAX_PARAMETERS:,} parameters "
                            "(nn.spec.MAX_PARAMETERS)", f"{path}[{i}]")
    return out


def _loss(value, path="loss"):
    _object(value, path, {"type", "reduction"}, ("type",))
    out = {"type": _choice(value["type"], _join(path, "type"), LOSSES, "loss")}
    if "reduction" in value:
        # 'none' gives one loss per example: it cannot be minimised by backward() as it is
        out["reduction"] = _choice(value["reduction"], _join(path, "reduction"), ("mean", "sum"), "reduction")
    return out


_SCHEDULE_FIELDS = {"annealing": ({"type", "decay", "every"}, ("decay",)),
                    "step": ({"type", "step_size", "gamma"}, ("step_size",)),
                    "exponential": ({"type", "gamma", "every"}, ("gamma",))}


def _schedule(value, path):
    if not isinstance(value, dict):
        raise SpecError(f"expected a schedule object such as {{\"type\": \"annealing\", \"decay\": 0.001}}, "
                        f"got {_show(value)}", path)
    if "type" not in value:
        raise SpecError("missing required field 'type'", path)
    kind = _choice(value["type"], _join(path, "type"), SCHEDULES, "schedule")
    allowed, required = _SCHEDULE_FIELDS[kind]
    _object(value, path, allowed, required)
    out = {"type": kind}
    for key in sorted(allowed - {"type"}):
        if key not in value:
            continue
        p = _join(path, key)
        if key in ("every", "step_size"):
            out[key] = _int(value[key], p)
        elif key == "decay":
            out[key] = _number(value[key], p, low=0.0)
        else:
            out[key] = _number(value[key], p, low=0.0, low_open=True)
    return out


_OPTIMIZER_FIELDS = {
    "SGD": {"type", "lr", "momentum", "nesterov", "weight_decay", "l1", "regularize_bias", "schedule"},
    "Adam": {"type", "lr", "betas", "eps", "weight_decay", "l1", "regularize_bias", "schedule"},
}


def _optimizer(value, path="optimizer"):
    _object(value, path, set().union(*_OPTIMIZER_FIELDS.values()), ("type",))
    kind = _choice(value["type"], _join(path, "type"), OPTIMIZERS, "optimizer")
    _object(value, path, _OPTIMIZER_FIELDS[kind], ("type", "lr") if kind == "SGD" else ("type",))
    out = {"type": kind}
    for key in ("lr", "momentum", "weight_decay", "l1", "eps"):
        if key in value:
            out[key] = _number(value[key], _join(path, key), low=0.0)
    for key in ("nesterov", "regularize_bias"):
        if key in value:
            out[key] = _bool(value[key], _join(path, key))
    if out.get("nesterov") and not out.get("momentum"):
        raise SpecError("nesterov momentum needs \"momentum\" > 0", _join(path, "nesterov"))
    if "betas" in value:
        betas = _list(value["betas"], _join(path, "betas"))
        if len(betas) != 2:
            raise SpecError(f"must be a pair [beta1, beta2], got {_show(value['betas'])}", _join(path, "betas"))
        out["betas"] = [_number(b, f"{_join(path, 'betas')}[{i}]", low=0.0, high=1.0, high_open=True)
                        for i, b in enumerate(betas)]
    if "schedule" in value:
        out["schedule"] = _schedule(value["schedule"], _join(path, "schedule"))
    return out


def _training(value, path="training"):
    _object(value, path, {"epochs", "batch_size", "shuffle", "seed"})
    out = {}
    if "epochs" in value:
        out["epochs"] = _int(value["epochs"], _join(path, "epochs"), low=0)
    if "batch_size" in value:
        out["batch_size"] = None if value["batch_size"] is None else _int(value["batch_size"],
                                                                           _join(path, "batch_size"))
    if "shuffle" in value:
        out["shuffle"] = _bool(value["shuffle"], _join(path, "shuffle"))
    if "seed" in value:
        out["seed"] = None if value["seed"] is None else _int(value["seed"], _join(path, "seed"), 0, MAX_SEED)
    return out


_TOP_FIELDS = {"version", "seed", "layers", "loss", "optimizer", "training"}


def validate_spec(spec, source=None):
    """Check every field of a spec dict and return a normalized copy (plain ints, floats, lists).
    Raises SpecError naming the field path (and `source`, the file it came from, if given)."""
    try:
        if not isinstance(spec, dict):
            raise SpecError(f"a spec must be a JSON object with a \"layers\" list, got {_show(spec)}")
        _object(spec, "", _TOP_FIELDS, ("layers",))
        out = {}
        if "version" in spec:
            version = _int(spec["version"], "version")
            if version != SPEC_VERSION:
                raise SpecError(f"unsupported spec version {version} (this library reads version "
                                f"{SPEC_VERSION})", "version")
            out["version"] = version
        if "seed" in spec:
            out["seed"] = _int(spec["seed"], "seed", 0, MAX_SEED)
        out["layers"] = _layers(spec["layers"])
        for key, check in (("loss", _loss), ("optimizer", _optimizer), ("training", _training)):
            if key in spec:
                out[key] = check(spec[key])
        problem = double_activation(out)
        if problem:
            warnings.warn(problem if source is None else f"{source}: {problem}", DoubleActivationWarning,
                          stacklevel=2)
        return out
    except SpecError as e:
        if source is None or e.source is not None:
            raise
        raise SpecError(e.reason, e.path, source) from None
    except RecursionError:
        raise SpecError("the spec is nested too deeply", source=source) from None


# The activation each loss applies to the network's output itself: a last layer doing the same is
# applied twice (softmax of probabilities), which trains slowly and badly.
_LOSS_ACTIVATION = {"SoftmaxCrossEntropy": "Softmax", "BCEWithLogits": "Sigmoid", "CrossEntropyCost": "Sigmoid"}


def double_activation(spec):
    """The problem, as one sentence, when a (validated) spec's last layer applies the activation its
    loss applies again (Softmax before SoftmaxCrossEntropy, the default loss; Sigmoid before
    BCEWithLogits or CrossEntropyCost); else None. validate_spec warns with it."""
    layers = spec["layers"]
    loss = spec.get("loss", DEFAULT_LOSS)["type"]
    if not layers or _LOSS_ACTIVATION.get(loss) != layers[-1]["type"]:
        return None
    last = layers[-1]["type"]
    which = "" if "loss" in spec else " (the default loss)"
    return (f"layers[{len(layers) - 1}]: the network ends with {last}, but its loss {loss}{which} applies "
            f"{last.lower()} itself and expects logits, so {last.lower()} would be applied twice and "
            f"training would crawl; remove the last {{\"type\": \"{last}\"}} layer")


def _unique_keys(pairs):
    """object_pairs_hook of the JSON parser: a dict, or SpecError for a field given twice. Linear
    time: a set of the keys seen so far (a spec of 95,000 fields is checked in milliseconds)."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise SpecError(f"duplicate field {printable(repr(key))} in a JSON object")
            seen.add(key)
    return out


def parse_spec_json(text, source=None):
    """Parse JSON text into a (not yet validated) spec; duplicate fields and bad JSON raise SpecError."""
    with parsing(lambda message: SpecError(f"invalid JSON: {message}", source=source)):   # anything else
        try:
            return json.loads(text, object_pairs_hook=_unique_keys, parse_int=_parse_int)
        except SpecError as e:
            raise SpecError(e.reason, e.path, source) from None
        except json.JSONDecodeError as e:
            raise SpecError(f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}", source=source) from None
        except RecursionError:
            raise SpecError("the JSON is nested too deeply", source=source) from None


def load_spec(path):
    """Read and validate a spec from a .json file (errors name the file). A folder, device or FIFO
    raises SpecError without being read; a file that cannot be opened raises the usual OSError."""
    source = os.fspath(path)
    try:
        f = open_regular(source)
    except NotRegularFileError as e:
        raise SpecError(f"{e.strerror}", source=source) from None
    with f:
        raw = f.read(MAX_SPEC_BYTES + 1)
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(f"the file is larger than {MAX_SPEC_BYTES:,} bytes; not a spec", source=source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SpecError(f"not UTF-8 text ({e.reason} at byte {e.start})", source=source) from None
    spec = parse_spec_json(text, source)
    with parsing(lambda message: SpecError(message, source=source)):
        return validate_spec(spec, source)


def _resolve(spec):
    """(validated spec, source) from a dict or a path."""
    if isinstance(spec, (str, os.PathLike)):
        return load_spec(spec), os.fspath(spec)
    return validate_spec(spec), None


# -- building -------------------------------------------------------------------------------------------

def from_spec(spec, seed=None):
    """Build the network a spec describes: a Sequential of its layers, with fresh weights.

    spec: a dict or the path of a .json file. seed: an int or np.random.Generator for the weights;
    overrides the spec's "seed" (with neither, nn.init's shared generator is used)."""
    spec, _ = _resolve(spec)
    rng = _init.as_rng(seed if seed is not None else spec.get("seed"), "from_spec: seed")
    layers = []
    for layer in spec["layers"]:
        kind = layer["type"]
        if kind == "Linear":
            layers.append(Linear(layer["in"], layer["out"], bias=layer.get("bias", True),
                                 init=layer.get("init", "scaled_normal"),
                                 bias_init=layer.get("bias_init", "zeros"), rng=rng,
                                 dtype=layer.get("dtype", "float64")))
        elif kind == "Softmax":
            layers.append(Softmax(axis=layer.get("axis", -1)))
        elif kind in _SETTINGS:
            layers.append(_SETTINGS[kind](**{k: v for k, v in layer.items() if k != "type"}))
        else:
            layers.append(ACTIVATIONS[kind.lower()]())
    return Sequential(*layers)


def parameter_shapes(spec):
    """{parameter name: (shape, dtype name)} of the network a (validated) spec describes, in order,
    computed without building it."""
    shapes = {}
    for i, layer in enumerate(spec["layers"]):
        if layer["type"] == "Linear":
            dtype = layer.get("dtype", "float64")
            shapes[f"{i}.weight"] = ((layer["in"], layer["out"]), dtype)
            if layer.get("bias", True):
                shapes[f"{i}.bias"] = ((layer["out"],), dtype)
    return shapes


def build_loss(section):
    """The loss module of a spec's "loss" section (a dict)."""
    section = _loss(section)
    cls = LOSSES[section["type"]]
    return cls(section.get("reduction"))


def build_schedule(section):
    """The Schedule of an optimizer's "schedule" section."""
    section = _schedule(section, "schedule")
    kwargs = {k: v for k, v in section.items() if k != "type"}
    return SCHEDULES[section["type"]](**kwargs)


def build_optimizer(section, params):
    """The optimizer of a spec's "optimizer" section, over `params`."""
    section = _optimizer(section)
    kwargs = {k: v for k, v in section.items() if k not in ("type", "schedule")}
    if "betas" in kwargs:
        kwargs["betas"] = tuple(kwargs["betas"])
    if "schedule" in section:
        kwargs["schedule"] = build_schedule(section["schedule"])
    try:
        return OPTIMIZERS[section["type"]](params, **kwargs)
    except ArgumentError as e:
        raise SpecError(str(e), "optimizer") from None


DEFAULT_LOSS = {"type": "SoftmaxCrossEntropy"}
DEFAULT_OPTIMIZER = {"type": "SGD", "lr": 0.01}
DEFAULT_EPOCHS = 100
