"""Module and Parameter: the building blocks every network is made of.

A Module holds Parameters (tensors to train) and other Modules, as plain attributes:

    class TwoLayer(nn.Module):
        def __init__(self):
            self.hidden = nn.Linear(2, 3)            # a child module: its parameters are ours too
            self.out = nn.Linear(3, 2)
            self.scale = nn.Parameter(np.ones(2))    # a parameter of our own
        def forward(self, x):
            return self.out(self.hidden(x).tanh()) * self.scale

Discovery walks the attributes in the order they were assigned (also into lists, tuples and dicts of
modules or parameters; attributes whose name starts with '_' are private and skipped), so there is no
registration step and `__init__` need not call `super().__init__()`. Only `Parameter`s count as
parameters: a plain Tensor attribute, even with requires_grad=True, is not trained or saved.

Names are dotted paths from the outermost module: `hidden.weight`, `0.bias`, `blocks.2.weight`. When
the outermost module lists its parameters (parameters(), named_parameters(), building an optimizer,
building a Sequential) each Parameter gets its path as `.name`, for graph drawings - unless the user
gave it a name of their own.
"""
import collections
import collections.abc
import numbers

import numpy as np

from tinygrad_edu import (ArgumentError, DTypeError, Tensor, capturing, guard, name_scope, no_grad,
                          scopes_recording)

from .errors import LoadError, SpecError


class Parameter(Tensor):
    """A Tensor that is trained: requires_grad=True by default, found by Module.parameters().

    Parameter(data, requires_grad=True, dtype=None, name=None). Like Tensor, it shares `data` when it
    is already an ndarray of the right dtype (no copy).
    """
    __slots__ = ("_auto_name",)

    def __init__(self, data, requires_grad=True, dtype=None, name=None):
        super().__init__(data, requires_grad=requires_grad, dtype=dtype, name=name)
        self._auto_name = None       # the last name a Module gave it (a user's own name is kept)

    def __repr__(self):
        return "Parameter" + super().__repr__()[len("Tensor"):]


IncompatibleKeys = collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

_model_files = {}    # {"save": nn.io.save}: nn.io registers it, so this base class imports no floor above

_structure = [0]     # counts assignments of modules/parameters to any module: a compiled step that
                     # called a model is captured again when its structure may have changed


class Module:
    """Base class of layers, losses and networks. Subclasses define `forward`; calling the module
    runs it. See the module docstring for how parameters are found and named."""

    training = True          # train()/eval() set it on every module of the tree
    depends_on_training = False   # True for modules whose forward differs in train and eval (Dropout)
    _scope_label = None      # label of this module's name_scope, given by the parent that holds it
    _has_parent = False      # True once some containing module has found this one

    def forward(self, *args, **kwargs):
        """The computation this module stands for; subclasses define it. Call the module, not forward."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __setattr__(self, key, value):
        if isinstance(value, (Module, Parameter, list, tuple, dict)):
            _structure[0] += 1
        object.__setattr__(self, key, value)

    def __call__(self, *args, **kwargs):
        # The fast path is two checks: training loops call modules a lot.
        if scopes_recording() or capturing():
            return self._call_in_scope(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_in_scope(self, args, kwargs):
        """Run forward inside name_scope(label), so drawings group this module's ops together; inside
        a te.compile capture, tell it what the step depends on (structure, train/eval)."""
        if capturing():
            guard(lambda now=_structure[0]: _structure[0] == now,
                  "a module or parameter was assigned to a model the step calls")
            if self.depends_on_training:
                guard(lambda m=self, mode=self.training: m.training == mode,
                      f"{self.describe()} (id {id(self)}) switched between train() and eval()")
            if not scopes_recording():
                return self.forward(*args, **kwargs)
        if not self._has_parent:
            self._collect(name=True)         # the outermost module labels its whole tree first
        with name_scope(self._scope_label or self.describe()):
            return self.forward(*args, **kwargs)

    def describe(self):
        """A short readable label for graph drawings: 'Linear(2→3)', 'Tanh', 'Sequential'."""
        return type(self).__name__

    # -- finding parameters and children ---------------------------------------------------------
    def _members(self):
        """(local name, Parameter or Module) pairs held by this module, in attribute order."""
        for key, value in self.__dict__.items():
            if key.startswith("_"):
                continue
            if isinstance(value, (Parameter, Module)):
                yield key, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, (Parameter, Module)):
                        yield f"{key}.{i}", item
            elif isinstance(value, dict):
                for k, item in value.items():
                    if isinstance(item, (Parameter, Module)):
                        yield f"{key}.{k}", item

    def _collect(self, name=False):
        """[(dotted name, Parameter)] of the whole tree, each parameter once (the first path wins), in
        attribute order, depth first. Marks every sub-module as having a parent and gives it its scope
        label; with name=True, and only on the outermost module, also names the parameters."""
        found, seen_params, seen_modules = [], set(), {id(self)}

        def visit(module, path):
            for local, value in module._members():
                full = f"{path}.{local}" if path else local
                if isinstance(value, Parameter):
                    if id(value) not in seen_params:
                        seen_params.add(id(value))
                        found.append((full, value))
                elif id(value) not in seen_modules:
                    seen_modules.add(id(value))
                    value._has_parent = True
                    value._scope_label = f"{local}: {value.describe()}"
                    visit(value, full)

        visit(self, "")
        if name and not self._has_parent:
            for full, p in found:
                if p.name is None or p.name == p._auto_name:
                    p.name = p._auto_name = full
        return found

    def named_parameters(self):
        """Iterator of (dotted name, Parameter) over the whole tree, each parameter once, in
        attribute order (depth first). Names the parameters (see the module docstring)."""
        return iter(self._collect(name=True))

    def parameters(self):
        """Iterator over the Parameters of the whole tree (each once), in named_parameters() order."""
        return (p for _, p in self._collect(name=True))

    def named_children(self):
        """Iterator of (local name, Module) over the direct sub-modules."""
        seen = set()
        for local, value in self._members():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                yield local, value

    def children(self):
        """Iterator over the direct sub-modules."""
        return (m for _, m in self.named_children())

    def named_modules(self, prefix=""):
        """Iterator of (dotted name, Module) over this module ('' or prefix) and all sub-modules."""
        seen = set()

        def visit(module, path):
            seen.add(id(module))
            yield path, module
            for local, child in module.named_children():
                if id(child) not in seen:
                    yield from visit(child, f"{path}.{local}" if path else local)

        return visit(self, prefix)

    def modules(self):
        """Iterator over this module and all sub-modules."""
        return (m for _, m in self.named_modules())

    def num_parameters(self):
        """Total number of trainable numbers (sum of the parameters' sizes)."""
        return sum(p.size for _, p in self._collect())

    # -- training helpers --------------------------------------------------------------------------
    def zero_grad(self):
        """Set every parameter's .grad to None (PyTorch's default)."""
        for _, p in self._collect():
            p.zero_grad()

    def train(self, mode=True):
        """Set training mode on every module of the tree (returns self)."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self):
        """Evaluation mode: train(False)."""
        return self.train(False)

    def predict(self, X, threshold=None, batch_size=None):
        """Class predictions for the rows of X, as an integer ndarray, computed without a graph.

        Several outputs per row: the index of the largest one (argmax). One output per row: 1 where
        it exceeds `threshold`, which defaults to 0.5 when the network ends with Sigmoid (the output
        is a probability) and 0 otherwise (the output is a logit).
        batch_size: run the rows in chunks of this size (None: all at once).
        """
        out = run_batches(self, X, batch_size)
        if threshold is None:
            threshold = self.output_threshold()
        return predicted_classes(out, threshold)

    def output_threshold(self):
        """The decision threshold for a single-output network: 0.5 after a Sigmoid, else 0."""
        return 0.0

    # -- state -------------------------------------------------------------------------------------
    def state_dict(self):
        """{dotted name: ndarray}: a copy of every parameter's values (a snapshot; training the model
        afterwards does not change it)."""
        return {name: np.array(p.data, copy=True) for name, p in self._collect(name=True)}

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into the parameters (in place: optimizers keep working).

        Every problem is collected first - missing keys, unexpected keys (strict=True), shape
        mismatches, dtype mismatches (an ndarray or Tensor must have the parameter's dtype exactly;
        nested lists are converted) - and reported together in one LoadError; nothing is assigned
        unless everything fits. Returns IncompatibleKeys(missing_keys, unexpected_keys) (both empty
        when strict=True).
        """
        if not isinstance(state_dict, collections.abc.Mapping):
            raise LoadError(f"expected a mapping of parameter names to arrays, got "
                            f"{type(state_dict).__name__}", what=f"load_state_dict({type(self).__name__})")
        params = dict(self._collect(name=True))
        missing = [k for k in params if k not in state_dict]
        unexpected = [k for k in state_dict if k not in params]
        problems, values = [], {}
        if strict:
            if missing:
                problems.append("missing key(s): " + ", ".join(missing))
            if unexpected:
                problems.append("unexpected key(s): " + ", ".join(map(str, unexpected)))
        for key, p in params.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:
                arr = _as_value(value, p.dtype)
            except (ValueError, TypeError) as e:
                problems.append(f"{key}: {e}")
                continue
            if arr.shape != p.shape:
                problems.append(f"size mismatch for {key}: copying a value of shape {arr.shape}, the "
                                f"parameter in the current model has shape {p.shape}")
            elif arr.dtype != p.dtype:
                problems.append(f"dtype mismatch for {key}: the value is {arr.dtype}, the parameter "
                                f"in the current model is {p.dtype}")
            else:
                values[key] = arr
        if problems:
            raise LoadError(problems, what=f"load_state_dict({type(self).__name__})")
        with no_grad():
            for key, arr in values.items():
                params[key].copy_(arr)
        return IncompatibleKeys([] if strict else missing, [] if strict else unexpected)

    # -- specs and files -------------------------------------------------------------------------
    def layer_spec(self):
        """The spec entry ({"type": ..., ...}) of a layer that specs can describe."""
        raise SpecError(f"{type(self).__name__} cannot be described by a spec: specs hold Sequential "
                        "stacks of Linear and activation layers. Save its weights with "
                        "nn.io.save_weights(model, path) instead", path="layers")

    def spec_layers(self):
        """The flat list of spec entries this module stands for (one for a layer)."""
        return [self.layer_spec()]

    def to_spec(self):
        """The declarative spec {"layers": [...]} that nn.from_spec turns back into this network
        (with fresh weights). Raises SpecError for modules that specs cannot describe."""
        return {"layers": self.spec_layers()}

    def save(self, path, spec=None):
        """Write the weights and the spec to one .npz file, atomically; nn.load(path) reads it back.
        spec: a full spec (with loss/optimizer/training sections) to store instead of to_spec()."""
        if _model_files.get("save") is None:
            raise ArgumentError("Module.save: import nn (nn.io writes model files)")
        _model_files["save"](self, path, spec=spec)

    # -- presentation ------------------------------------------------------------------------------
    def extra_repr(self):
        """Settings shown inside the parentheses of repr, e.g. 'in=2, out=3, bias=True'."""
        return ""

    def __repr__(self):
        return "\n".join(self._repr_lines())

    def _repr_html_(self):
        """Jupyter's display: the module tree (as repr shows it) beside a table of its parameters -
        dotted name, shape, dtype, count - and the total. Reading it changes nothing."""
        import html
        rows = "".join(f"<tr><td><code>{html.escape(name)}</code></td><td>{p.shape}</td><td>{p.dtype}</td>"
                       f"<td style='text-align:right'>{p.size:,}</td></tr>" for name, p in self._collect())
        table = (f"<table><tr><th>parameter</th><th>shape</th><th>dtype</th><th>count</th></tr>{rows}"
                 f"<tr><td colspan='3'><b>total</b></td><td style='text-align:right'><b>"
                 f"{self.num_parameters():,}</b></td></tr></table>")
        return (f"<div style='display:flex;gap:2em;align-items:flex-start'>"
                f"<pre>{html.escape(repr(self))}</pre>{table}</div>")

    def _repr_lines(self):
        head = f"{type(self).__name__}({self.extra_repr()})"
        count = self.num_parameters()
        note = f"  # {count:,} parameter{'s' if count != 1 else ''}" if count else ""
        members = list(self._members())
        if not any(isinstance(v, Module) for _, v in members):
            return [head + note]
        lines = [head[:-1] + note]          # drop ')': children follow, ')' closes the block
        for local, value in members:
            if isinstance(value, Module):
                sub = value._repr_lines()
                lines.append(f"  ({local}): {sub[0]}")
                lines.extend("  " + line for line in sub[1:])
            else:
                lines.append(f"  ({local}): Parameter(shape={value.shape}, dtype={value.dtype})  "
                             f"# {value.size:,}")
        lines.append(")")
        return lines


def _as_value(value, dtype):
    """An ndarray for load_state_dict: ndarrays and Tensors as they are, anything else converted."""
    if isinstance(value, Tensor):
        arr = value.data
    elif isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, (numbers.Number, list, tuple)):
        arr = np.asarray(value, dtype=dtype)
    else:
        raise TypeError(f"expected an array, got {type(value).__name__}")
    if arr.dtype.hasobject or arr.dtype.kind not in "biuf":
        raise TypeError(f"expected numbers, got an array of dtype {arr.dtype}")
    return arr


def check_positive_int(value, what):
    """`value` as an int >= 1, or ArgumentError naming `what` (bools are not sizes)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ArgumentError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


# -- running a model without a graph (Module.predict, and fit's measurements) ------------------------

def _values(x, what):
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"{what}: expected numbers, got dtype {arr.dtype}")
    return arr


def predicted_classes(output, threshold=0.5):
    """Class labels from network outputs: argmax over the last axis when there are several outputs
    per row, otherwise 1 where the output is above `threshold` (0.5 for probabilities, 0 for logits)."""
    out = _values(output, "predicted_classes")
    if out.ndim >= 2 and out.shape[-1] > 1:
        return out.argmax(axis=-1)
    if out.ndim >= 2:
        out = out[..., 0]                        # (N, 1) -> (N,)
    return (out > threshold).astype(np.int64)


def _param_dtype(model):
    """The float dtype shared by all the model's parameters, or None."""
    dtypes = {p.dtype for p in model.parameters()} if isinstance(model, Module) else set()
    return dtypes.pop() if len(dtypes) == 1 else None


def as_inputs(X, model, what="X"):
    """X as a float ndarray in the model's parameter dtype (so float32 models stay float32)."""
    arr = _values(X, what)
    dtype = _param_dtype(model) or (arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64))
    return arr.astype(dtype, copy=False)


def run_batches(model, X, batch_size=None):
    """model(X) without recording a graph and in evaluation mode (no dropout), optionally in chunks of
    batch_size rows; an ndarray. The model's train/eval mode is restored afterwards."""
    X = as_inputs(X, model)
    was_training = model.training
    model.eval()
    try:
        return _run_batches(model, X, batch_size)
    finally:
        model.train(was_training)


def _run_batches(model, X, batch_size):
    with no_grad():
        if batch_size is None or batch_size >= len(X):
            return _values(model(Tensor(X)), "model output")
        batch_size = _check_batch_size(batch_size, "predict")
        parts = [_values(model(Tensor(X[i:i + batch_size])), "model output")
                 for i in range(0, len(X), batch_size)]
    return np.concatenate(parts)


def _check_batch_size(batch_size, what):
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ArgumentError(f"{what}: batch_size must be a positive integer or None, got {batch_size!r}")
    return int(batch_size)
