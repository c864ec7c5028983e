"""Weight initializers: the documents' schemes, plus Xavier/Glorot and He.

An initializer is a function `init(shape, rng=None, **params) -> ndarray` (float64). For a weight
matrix of shape (fan_in, fan_out) - our layout is z = x W + b - the fans are read from the shape; for a
1-D shape (a bias of n entries) both fans are n.

    name            distribution                          from
    scaled_normal   N(0, 1) / sqrt(fan_in)                doc 000 (moons), network2's default
    normal          N(0, std²), std = 0.01                doc 001 (TwoLayerNet's weight_init_std)
    uniform         U(−eps, eps), eps = 0.12              doc 004 (the XOR question)
    zeros           0                                     doc 000's biases
    constant        value
    xavier_uniform  U(−a, a), a = gain·sqrt(6 / (fan_in + fan_out))    Glorot & Bengio 2010
    xavier_normal   N(0, s²), s = gain·sqrt(2 / (fan_in + fan_out))
    he_normal       N(0, s²), s = sqrt(2 / fan_in)        He et al. 2015 (for ReLU layers)
    he_uniform      U(−a, a), a = sqrt(6 / fan_in)

Randomness is reproducible: `rng` may be a seed (int) or an `np.random.Generator`; with rng=None the
module's shared generator is used, which `manual_seed(seed)` resets.

    >>> W = scaled_normal((2, 3), rng=0)                   # same numbers on every run
    >>> init = get("uniform", eps=0.5); b = init((3,), rng=np.random.default_rng(1))
"""
import difflib
import functools
import math
import numbers

import numpy as np

from tinygrad_edu import ArgumentError

_shared_rng = np.random.default_rng()


def manual_seed(seed):
    """Reset the generator used when no rng is given (like torch.manual_seed). Returns it."""
    global _shared_rng
    _shared_rng = np.random.default_rng(_check_seed(seed, "manual_seed"))
    return _shared_rng


def _check_seed(seed, what):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ArgumentError(f"{what}: seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def as_rng(rng, what="rng"):
    """A Generator from None (the shared one), a seed, or a Generator (returned as is)."""
    if rng is None:
        return _shared_rng
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(_check_seed(rng, what))


def fans(shape):
    """(fan_in, fan_out) of a weight of `shape`: (in, out) for a matrix, (n, n) for a vector."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    # (..., in, out): leading axes would be stacked matrices; count them in both fans
    lead = math.prod(shape[:-2])
    return shape[-2] * lead, shape[-1] * lead


def _positive(value, name, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ArgumentError(f"{what}: {name} must be a positive finite number, got {value!r}")
    return float(value)


def _shape(shape, what):
    try:
        shape = tuple(shape)
    except TypeError:
        shape = (shape,)
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ArgumentError(f"{what}: shape must hold non-negative integers, got {shape!r}")
    return tuple(int(n) for n in shape)


# -- the initializers ---------------------------------------------------------------------------------

def scaled_normal(shape, rng=None):
    """N(0, 1) / sqrt(fan_in): the documents' `np.random.randn(n_in, n_out) / np.sqrt(n_in)`."""
    shape = _shape(shape, "scaled_normal")
    return as_rng(rng).standard_normal(shape) / math.sqrt(max(fans(shape)[0], 1))


def normal(shape, std=0.01, rng=None):
    """N(0, std²); the default std 0.01 is doc 001's `weight_init_std * np.random.randn(...)`."""
    shape = _shape(shape, "normal")
    std = _positive(std, "std", "normal")
    return as_rng(rng).standard_normal(shape) * std


def uniform(shape, eps=0.12, rng=None):
    """U(−eps, eps); doc 004 draws `np.random.random(shape) * 2 * eps − eps` with eps = 0.12."""
    shape = _shape(shape, "uniform")
    eps = _positive(eps, "eps", "uniform")
    return as_rng(rng).uniform(-eps, eps, size=shape)


def zeros(shape, rng=None):
    """All zeros (biases in doc 000). `rng` is accepted for a uniform signature and not used."""
    return np.zeros(_shape(shape, "zeros"))


def constant(shape, value=0.0, rng=None):
    """Every entry equal to `value`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ArgumentError(f"constant: value must be a finite number, got {value!r}")
    return np.full(_shape(shape, "constant"), float(value))


def xavier_uniform(shape, gain=1.0, rng=None):
    """Glorot uniform: U(−a, a) with a = gain · sqrt(6 / (fan_in + fan_out)); keeps the variance of
    activations and of gradients about equal across tanh/sigmoid layers."""
    shape = _shape(shape, "xavier_uniform")
    gain = _positive(gain, "gain", "xavier_uniform")
    fan_in, fan_out = fans(shape)
    a = gain * math.sqrt(6.0 / max(fan_in + fan_out, 1))
    return as_rng(rng).uniform(-a, a, size=shape)


def xavier_normal(shape, gain=1.0, rng=None):
    """Glorot normal: N(0, s²) with s = gain · sqrt(2 / (fan_in + fan_out))."""
    shape = _shape(shape, "xavier_normal")
    gain = _positive(gain, "gain", "xavier_normal")
    fan_in, fan_out = fans(shape)
    return as_rng(rng).standard_normal(shape) * (gain * math.sqrt(2.0 / max(fan_in + fan_out, 1)))


def he_normal(shape, rng=None):
    """He (Kaiming) normal: N(0, s²) with s = sqrt(2 / fan_in); ReLU zeroes half its inputs, the
    factor 2 makes up for it."""
    shape = _shape(shape, "he_normal")
    return as_rng(rng).standard_normal(shape) * math.sqrt(2.0 / max(fans(shape)[0], 1))


def he_uniform(shape, rng=None):
    """He (Kaiming) uniform: U(−a, a) with a = sqrt(6 / fan_in)."""
    shape = _shape(shape, "he_uniform")
    a = math.sqrt(6.0 / max(fans(shape)[0], 1))
    return as_rng(rng).uniform(-a, a, size=shape)


# Name -> (function, {parameter: default}). Specs refer to initializers by these names.
INITIALIZERS = {
    "scaled_normal": (scaled_normal, {}),
    "normal": (normal, {"std": 0.01}),
    "uniform": (uniform, {"eps": 0.12}),
    "zeros": (zeros, {}),
    "constant": (constant, {"value": 0.0}),
    "xavier_uniform": (xavier_uniform, {"gain": 1.0}),
    "xavier_normal": (xavier_normal, {"gain": 1.0}),
    "he_normal": (he_normal, {}),
    "he_uniform": (he_uniform, {}),
}


def get(name, **params):
    """The initializer called `name`, with its parameters bound: get('uniform', eps=0.5).

    Raises ArgumentError for an unknown name or parameter, or an impossible value."""
    if name not in INITIALIZERS:
        close = difflib.get_close_matches(str(name), INITIALIZERS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ArgumentError(f"init: unknown initializer {name!r} (expected one of "
                            f"{', '.join(sorted(INITIALIZERS))}){hint}")
    fn, defaults = INITIALIZERS[name]
    for key in params:
        if key not in defaults:
            allowed = ", ".join(defaults) or "none"
            raise ArgumentError(f"init: {name} takes no parameter {key!r} (parameters: {allowed})")
    fn((0,), **params)              # validates the values now rather than at the first draw
    return functools.partial(fn, **params) if params else fn


def name_of(init):
    """The (name, params) an initializer was made from by get(), or None for a foreign callable."""
    fn, params = (init.func, dict(init.keywords)) if isinstance(init, functools.partial) else (init, {})
    for name, (known, _) in INITIALIZERS.items():
        if fn is known:
            return name, params
    return None
