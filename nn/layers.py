"""Layers: Linear, the activation modules, Flatten, Dropout, Sequential and MLP.

Weight layout follows the documents: a batch of rows x (N, in) times W (in, out) plus b (out,),

    z = x W + b          # (N, in) @ (in, out) + (out,) -> (N, out)

so `Linear.forward` is exactly the two ops `x @ self.weight + self.bias`, and backprop gives the
documents' dW = xᵀδ and db = Σ_rows δ.
"""
import difflib
import numbers

import numpy as np

from tinygrad_edu import ArgumentError, DTypeError, ShapeError, Tensor, capturing, dropout, guard

from . import init as _init
from .module import Module, Parameter, check_positive_int


class Linear(Module):
    """Fully connected layer: z = x W + b, with W of shape (in_features, out_features).

    Linear(in_features, out_features, bias=True, init="scaled_normal", bias_init="zeros", rng=None,
           dtype=np.float64)
        init, bias_init: an initializer name from nn.init ('scaled_normal', 'normal', 'uniform',
            'zeros', 'xavier_uniform', 'he_normal', ...), a spec-style dict such as
            {"type": "uniform", "eps": 0.12}, or any callable f(shape, rng=...) -> array.
            The default is the documents' randn(in, out) / sqrt(in) with zero biases.
        rng: a seed or np.random.Generator (None: nn.init's shared generator, see manual_seed).
            The weight is drawn first, then the bias.
        dtype: float64 (default) or float32.
    Parameters: `weight` (in, out) and `bias` (out,) (None when bias=False).
    """
    keeps_size = False

    def __init__(self, in_features, out_features, bias=True, init="scaled_normal", bias_init="zeros",
                 rng=None, dtype=np.float64):
        self.in_features = check_positive_int(in_features, "Linear: in_features")
        self.out_features = check_positive_int(out_features, "Linear: out_features")
        if not isinstance(bias, (bool, np.bool_)):
            raise ArgumentError(f"Linear: bias must be True or False, got {bias!r}")
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise DTypeError(f"Linear: dtype must be float32 or float64, got {dtype!r}") from None
        if dtype.kind != "f":
            raise DTypeError(f"Linear: parameters must have a floating-point dtype, got {dtype}")
        rng = _init.as_rng(rng, "Linear: rng")
        weight_init, self._init_spec = resolve_init(init, "Linear: init")
        bias_fn, self._bias_init_spec = resolve_init(bias_init, "Linear: bias_init")
        shape = (self.in_features, self.out_features)
        self.weight = Parameter(_draw(weight_init, shape, rng, "init"), dtype=dtype)
        self.bias = Parameter(_draw(bias_fn, (self.out_features,), rng, "bias_init"), dtype=dtype) \
            if bias else None

    def forward(self, x):
        """x (N, in) -> x W + b (N, out), as one fused op (Tensor.linear: the same numbers as
        `x @ W + b`, one graph node); also a single row (in,) -> (out,)."""
        if not isinstance(x, Tensor):
            x = Tensor(x)                                   # raw arrays and lists are data
        try:
            if x.ndim == 2 and self.bias is not None:
                return x.linear(self.weight, self.bias)     # (N, in) @ (in, out) + (out,) -> (N, out)
            z = x @ self.weight
            return z if self.bias is None else z + self.bias
        except ShapeError:
            raise ShapeError(f"{self.describe()}: expected input of shape (N, {self.in_features}), got "
                             f"shape {np.shape(x.data if isinstance(x, Tensor) else x)}") from None

    def describe(self):
        """'Linear(in→out)', the label of this layer in graph drawings."""
        return f"Linear({self.in_features}→{self.out_features})"

    def extra_repr(self):
        """'in=2, out=3, bias=True' (and the dtype when it is not float64)."""
        extras = "" if self.weight.dtype == np.float64 else f", dtype={self.weight.dtype}"
        return f"in={self.in_features}, out={self.out_features}, bias={self.bias is not None}{extras}"

    def layer_spec(self):
        """{"type": "Linear", "in", "out", "bias", "init", "bias_init", "dtype"} for specs."""
        spec = {"type": "Linear", "in": self.in_features, "out": self.out_features,
                "bias": self.bias is not None}
        # A custom callable initializer cannot be written to JSON: the entry is left out, so a
        # rebuild uses the default (weights loaded from a file are unaffected).
        if self._init_spec is not None:
            spec["init"] = self._init_spec
        if self.bias is not None and self._bias_init_spec is not None:
            spec["bias_init"] = self._bias_init_spec
        spec["dtype"] = str(self.weight.dtype)
        return spec


def resolve_init(init, what):
    """(callable, spec value or None) for an initializer given as a name, a spec dict or a callable."""
    if isinstance(init, str):
        return _init.get(init), init
    if isinstance(init, dict):
        if "type" not in init:
            raise ArgumentError(f"{what}: a dict initializer needs a 'type' entry, got {init!r}")
        params = {k: v for k, v in init.items() if k != "type"}
        fn = _init.get(init["type"], **params)
        return fn, (dict(init) if params else init["type"])
    if callable(init):
        known = _init.name_of(init)
        if known is None:
            return init, None
        name, params = known
        return init, ({"type": name, **params} if params else name)
    raise ArgumentError(f"{what}: expected an initializer name, a dict or a callable, got {init!r}")


def _draw(fn, shape, rng, what):
    values = np.asarray(fn(shape, rng=rng))
    if values.shape != shape:
        raise ShapeError(f"Linear: the {what} initializer returned shape {values.shape}, expected {shape}")
    if values.dtype.kind not in "biuf":
        raise DTypeError(f"Linear: the {what} initializer returned dtype {values.dtype}, expected numbers")
    return values.astype(np.float64, copy=False)


# -- activations ----------------------------------------------------------------------------------
# Each forward calls the Tensor method through the class (Tensor.tanh(x)), which also accepts a plain
# ndarray, so a network may start with an activation and be fed arrays.

class Activation(Module):
    """Base of the element-wise activation modules: no parameters, output shape = input shape."""
    keeps_size = True

    def layer_spec(self):
        """{"type": "<class name>"}: activations have no settings (Softmax adds its axis)."""
        return {"type": type(self).__name__}


class Tanh(Activation):
    """tanh(z), element-wise; derivative 1 − tanh²(z)."""

    def forward(self, x):
        """tanh, element-wise; same shape out."""
        return Tensor.tanh(x)


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e⁻ᶻ), element-wise; derivative σ(z)(1 − σ(z))."""

    def forward(self, x):
        """σ, element-wise; same shape out."""
        return Tensor.sigmoid(x)

    def output_threshold(self):
        """0.5: a sigmoid output is a probability."""
        return 0.5


class ReLU(Activation):
    """max(z, 0), element-wise; derivative [z > 0] (0 at exactly 0)."""

    def forward(self, x):
        """max(x, 0), element-wise; same shape out."""
        return Tensor.relu(x)


class Identity(Activation):
    """Returns its input unchanged (a placeholder, or the identity activation of doc 003)."""

    def forward(self, x):
        """x itself (the same object)."""
        return x


class Softmax(Activation):
    """softmax along `axis` (default: the last): turns logits into probabilities that sum to 1.

    Do not put it before SoftmaxCrossEntropy, which applies softmax itself (fit() warns)."""

    def __init__(self, axis=-1):
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ArgumentError(f"Softmax: axis must be an integer, got {axis!r}")
        self.axis = int(axis)

    def forward(self, x):
        """softmax along self.axis; same shape out, each slice sums to 1."""
        return Tensor.softmax(x, self.axis)

    def extra_repr(self):
        """'axis=-1'."""
        return f"axis={self.axis}"

    def layer_spec(self):
        """{"type": "Softmax", "axis": ...}."""
        return {"type": "Softmax", "axis": self.axis}


# -- layers from PyTorch's torch.nn (issue 14). Each one's settings are its spec entry.

class _Settings:
    """Mixin: layer_spec() is {"type": <class name>, <each setting in SPEC_FIELDS>: its value}."""
    SPEC_FIELDS = ()

    def layer_spec(self):
        return {"type": type(self).__name__, **{k: getattr(self, k) for k in self.SPEC_FIELDS}}


def _number(value, name, what, low=-np.inf, high=np.inf):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value <= high:
        raise ArgumentError(f"{what}: {name} must be a number in [{low:g}, {high:g}], got {value!r}")
    return float(value)


class LeakyReLU(_Settings, Activation):
    """x for x > 0, negative_slope · x otherwise (torch.nn.LeakyReLU); derivative 1 or negative_slope."""
    SPEC_FIELDS = ("negative_slope",)

    def __init__(self, negative_slope=0.01):
        self.negative_slope = _number(negative_slope, "negative_slope", "LeakyReLU")

    def forward(self, x):
        return Tensor.leaky_relu(_tensor(x), self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class ELU(_Settings, Activation):
    """x for x > 0, α(eˣ − 1) otherwise (torch.nn.ELU)."""
    SPEC_FIELDS = ("alpha",)

    def __init__(self, alpha=1.0):
        self.alpha = _number(alpha, "alpha", "ELU")

    def forward(self, x):
        return Tensor.elu(_tensor(x), self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class GELU(_Settings, Activation):
    """x · Φ(x), Φ the standard normal CDF (torch.nn.GELU); approximate='tanh' for the tanh form."""
    SPEC_FIELDS = ("approximate",)

    def __init__(self, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return Tensor.gelu(_tensor(x), self.approximate)

    def extra_repr(self):
        return "" if self.approximate == "none" else f"approximate={self.approximate!r}"


class SiLU(_Settings, Activation):
    """x · σ(x) (torch.nn.SiLU, also called swish)."""

    def forward(self, x):
        return Tensor.silu(_tensor(x))


class Softplus(_Settings, Activation):
    """ln(1 + e^(βx)) / β, a smooth relu (torch.nn.Softplus, without its threshold)."""
    SPEC_FIELDS = ("beta",)

    def __init__(self, beta=1.0):
        self.beta = _number(beta, "beta", "Softplus")

    def forward(self, x):
        return Tensor.softplus(_tensor(x), self.beta)

    def extra_repr(self):
        return f"beta={self.beta}"


class Flatten(_Settings, Module):
    """Merge the axes start_dim..end_dim into one (torch.nn.Flatten): by default every axis but the
    first (the batch), so (N, C, H, W) becomes (N, C·H·W) and (N, in) stays as it is."""
    SPEC_FIELDS = ("start_dim", "end_dim")

    def __init__(self, start_dim=1, end_dim=-1):
        for name, value in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise ArgumentError(f"Flatten: {name} must be an integer, got {value!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x):
        return Tensor.flatten(_tensor(x), self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(_Settings, Module):
    """During training, zero each element with probability p and scale the others by 1 / (1 − p)
    (inverted dropout: the expected output is the input); in eval mode (model.eval()) the identity.

    Dropout(p=0.5, rng=None)
        rng: a seed or np.random.Generator for the masks; None: nn's shared generator, the one
            nn.manual_seed(seed) resets (so a seeded run draws the same masks).
    A new mask at every call - also when a training step is compiled with te.compile, which captures
    the step again when train()/eval() changes."""
    SPEC_FIELDS = ("p",)
    keeps_size = True
    depends_on_training = True

    def __init__(self, p=0.5, rng=None):
        self.p = _number(p, "p", "Dropout", 0.0, 1.0)
        self._rng = None if rng is None else _init.as_rng(rng, "Dropout: rng")

    def forward(self, x):
        x = _tensor(x)
        if not self.training or self.p == 0:
            return x
        gen = self._rng if self._rng is not None else _init.as_rng(None)
        if self._rng is None and capturing():      # a compiled step keeps drawing from this generator
            guard(lambda: _init.as_rng(None) is gen, "nn.manual_seed replaced the generator Dropout draws from")
        return dropout(x, self.p, generator=gen)

    def extra_repr(self):
        return f"p={self.p}"


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


ACTIVATIONS = {"identity": Identity, "relu": ReLU, "sigmoid": Sigmoid, "softmax": Softmax, "tanh": Tanh}


def activation_class(activation, what):
    """The activation Module class for a name ('tanh', 'ReLU', ...), a class, or None (Identity)."""
    if activation is None:
        return None
    if isinstance(activation, type) and issubclass(activation, Module):
        return activation
    if isinstance(activation, str) and activation.lower() in ACTIVATIONS:
        return ACTIVATIONS[activation.lower()]
    close = difflib.get_close_matches(str(activation).lower(), ACTIVATIONS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ArgumentError(f"{what}: unknown activation {activation!r} (expected one of "
                        f"{', '.join(ACTIVATIONS)}, a Module class or None){hint}")


# -- containers -------------------------------------------------------------------------------------

def _first_size(layers, attr):
    """The `attr` size of the first layer that has one, looking through size-keeping layers
    (activations); None if a layer of unknown size comes first."""
    for layer in layers:
        n = getattr(layer, attr, None)
        if n is not None:
            return n
        if not getattr(layer, "keeps_size", False):
            return None
    return None


class Sequential(Module):
    """Layers applied one after the other: Sequential(Linear(2, 3), Tanh(), Linear(3, 2)).

    Children are named by position ('0', '1', ...), so parameters are '0.weight', '0.bias', ...
    Sizes are checked when the stack is built: a Linear whose in_features differs from the
    out_features of the previous sized layer raises ShapeError naming both layers.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise ArgumentError(f"Sequential: layer {i} is a {type(layer).__name__}, not a Module "
                                    "(write nn.Tanh(), not nn.Tanh or Tensor.tanh)")
        check_chain(layers, type(self).__name__)
        self._layers = list(layers)
        self._collect(name=True)                # name parameters '0.weight', ... right away

    def _members(self):
        for i, layer in enumerate(self._layers):
            yield str(i), layer

    def forward(self, x):
        """Each layer's output is the next layer's input."""
        for layer in self._layers:
            x = layer(x)
        return x

    def __getitem__(self, index):
        if isinstance(index, slice):
            sub = Sequential.__new__(Sequential)   # a view on some layers: does not rename them
            sub._layers = self._layers[index]
            return sub
        return self._layers[index]

    def __len__(self):
        return len(self._layers)

    def __iter__(self):
        return iter(self._layers)

    def append(self, layer):
        """Add a layer at the end (checked like the constructor's); returns self."""
        if not isinstance(layer, Module):
            raise ArgumentError(f"Sequential.append: expected a Module, got {type(layer).__name__}")
        check_chain(self._layers + [layer], type(self).__name__)
        self._layers.append(layer)
        self._collect(name=True)
        return self

    @property
    def in_features(self):
        """Input size of the first sized layer (None if no layer has a known size)."""
        return _first_size(self._layers, "in_features")

    @property
    def out_features(self):
        """Output size of the last sized layer (None if unknown)."""
        return _first_size(reversed(self._layers), "out_features")

    @property
    def keeps_size(self):
        """True when every layer keeps the size of its input (a stack of activations)."""
        return all(getattr(layer, "keeps_size", False) for layer in self._layers)

    def spec_layers(self):
        """The spec entries of all layers, flattened (nested Sequentials included)."""
        layers = []
        for layer in self._layers:
            layers.extend(layer.spec_layers())
        return layers

    def output_threshold(self):
        """The last layer's threshold (0.5 after a Sigmoid, else 0)."""
        return self._layers[-1].output_threshold() if self._layers else 0.0


def check_chain(layers, what="Sequential"):
    """Raise ShapeError if a layer's input size differs from the output size reaching it."""
    size, source = None, None                   # size flowing out of layer `source`
    for i, layer in enumerate(layers):
        n_in = getattr(layer, "in_features", None)
        if n_in is not None and size is not None and n_in != size:
            raise ShapeError(f"{what}: layer {i} {layer.describe()} expects {n_in} inputs, but layer "
                             f"{source} {layers[source].describe()} produces {size}")
        n_out = getattr(layer, "out_features", None)
        if n_out is not None:
            size, source = n_out, i
        elif not getattr(layer, "keeps_size", False):
            size, source = None, None           # a layer we know nothing about: stop checking


class MLP(Sequential):
    """A multilayer perceptron: Linear layers of the given sizes with an activation between them.

    MLP([2, 3, 2], activation="tanh", output_activation=None, bias=True, init="scaled_normal",
        bias_init="zeros", rng=None, dtype=np.float64)
    is Sequential(Linear(2, 3), Tanh(), Linear(3, 2)) - the documents' 2-3-2 network. activation and
    output_activation: 'tanh', 'sigmoid', 'relu', 'identity', 'softmax', a Module class, or None.
    The other arguments go to every Linear (one rng, drawn from in layer order).
    """

    def __init__(self, sizes, activation="tanh", output_activation=None, bias=True,
                 init="scaled_normal", bias_init="zeros", rng=None, dtype=np.float64):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__") or len(sizes) < 2:
            raise ArgumentError(f"MLP: sizes must be a list of at least two layer sizes, got {sizes!r}")
        sizes = tuple(check_positive_int(n, f"MLP: sizes[{i}]") for i, n in enumerate(sizes))
        hidden = activation_class(activation, "MLP: activation")
        final = activation_class(output_activation, "MLP: output_activation")
        rng = _init.as_rng(rng, "MLP: rng")
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(n_in, n_out, bias=bias, init=init, bias_init=bias_init, rng=rng, dtype=dtype))
            act = hidden if i < len(sizes) - 2 else final
            if act is not None:
                layers.append(act())
        self.sizes = sizes
        super().__init__(*layers)

    def describe(self):
        """'MLP(2→3→2)'."""
        return "MLP(" + "→".join(map(str, self.sizes)) + ")"
