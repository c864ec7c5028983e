"""Training: fit(), the History it returns, accuracy and class predictions.

    history = nn.fit(model, nn.SoftmaxCrossEntropy(), opt, (X, y), epochs=200, batch_size=32,
                     eval_data=(X_test, y_test), seed=0)
    history.train_loss[-1], history.eval_acc[-1]
    history.save_csv("moons.csv")

Like network2's SGD with its monitor_* flags, after every epoch fit() measures the loss and the
accuracy on the whole training set and on the evaluation set (forward passes without a graph) and
appends them to the History.
"""
import csv
import io as _io
import json
import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np

import tinygrad_edu as te
from tinygrad_edu import ArgumentError, DTypeError, LabelError, ShapeError, Tensor, no_grad

from .errors import DoubleActivationWarning, SpecError
from .module import Module, _check_batch_size, _param_dtype, _values, as_inputs, predicted_classes  # noqa: F401
from .module import run_batches  # noqa: F401  (nn.train.run_batches, as before)
from .spec import DEFAULT_EPOCHS, DEFAULT_LOSS, DEFAULT_OPTIMIZER, _resolve, build_loss, build_optimizer, from_spec


# -- accuracy -------------------------------------------------------------------------

def target_classes(target):
    """Class labels from targets: integer labels as they are, one-hot/probability rows by argmax,
    a single 0/1 column (or float 0/1 values) as integers."""
    t = _values(target, "target_classes")
    if t.ndim >= 2 and t.shape[-1] > 1:
        return t.argmax(axis=-1)
    if t.ndim >= 2:
        t = t[..., 0]
    if t.dtype.kind in "fb":
        return (t > 0.5).astype(np.int64)
    return t


def accuracy(output, target, threshold=0.5):
    """Fraction of rows whose predicted class equals the target class (a float in [0, 1]).

    output: (N, C) scores (argmax is taken) or (N,)/(N, 1) single outputs, compared with `threshold`
    (default 0.5, for probabilities; pass threshold=0 for logits).
    target: integer labels (N,), one-hot rows (N, C), or 0/1 values (N,)/(N, 1)."""
    pred = predicted_classes(output, threshold)
    true = target_classes(target)
    if pred.shape != true.shape:
        raise ShapeError(f"accuracy: {pred.shape[0] if pred.ndim else 1} predictions from outputs of shape "
                         f"{np.shape(_values(output, 'accuracy'))} do not match targets of shape "
                         f"{np.shape(_values(target, 'accuracy'))}")
    if pred.size == 0:
        raise ArgumentError("accuracy: no examples")
    return float(np.mean(pred == true))


# -- History ------------------------------------------------------------------------------------------

_COLUMNS = ("train_loss", "train_acc", "eval_loss", "eval_acc")


@dataclass
class History:
    """What fit() measured. Per-epoch lists (one entry per epoch, empty when not monitored):
    `epoch` (1, 2, ...), `train_loss`, `train_acc`, `eval_loss`, `eval_acc`, and `extra`
    ({'train_<name>': [...], 'eval_<name>': [...]} for metric functions). `step_loss` holds the loss
    of every optimizer step (the noisy mini-batch curve). Export: to_dict(), save_json(), save_csv()."""
    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    eval_loss: list = field(default_factory=list)
    eval_acc: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def __len__(self):
        return len(self.epoch)

    def columns(self):
        """{name: per-epoch list} of every monitored quantity (non-empty lists only)."""
        cols = {"epoch": self.epoch}
        for name in _COLUMNS:
            if getattr(self, name):
                cols[name] = getattr(self, name)
        cols.update({k: v for k, v in self.extra.items() if v})
        return cols

    def to_dict(self):
        """Plain lists of Python numbers (JSON-ready; NaN/inf become None)."""
        d = {name: [_jsonable(v) for v in getattr(self, name)] for name in ("epoch",) + _COLUMNS + ("step_loss",)}
        d["extra"] = {k: [_jsonable(v) for v in vals] for k, vals in self.extra.items()}
        return d

    @classmethod
    def from_dict(cls, d):
        """Rebuild a History from to_dict() output (None entries become NaN)."""
        if not isinstance(d, dict):
            raise ArgumentError(f"History.from_dict: expected a dict, got {type(d).__name__}")
        known = ("epoch",) + _COLUMNS + ("step_loss", "extra")
        unknown = [k for k in d if k not in known]
        if unknown:
            raise ArgumentError(f"History.from_dict: unknown field(s) {', '.join(map(str, unknown))} "
                                f"(expected {', '.join(known)})")
        h = cls()
        for name in ("epoch",) + _COLUMNS + ("step_loss",):
            setattr(h, name, _number_list(d.get(name, []), name, integer=name == "epoch"))
        extra = d.get("extra", {})
        if not isinstance(extra, dict):
            raise ArgumentError("History.from_dict: extra must be a dict of lists")
        h.extra = {str(k): _number_list(v, f"extra.{k}") for k, v in extra.items()}
        return h

    def save_json(self, path):
        """Write to_dict() as JSON, atomically."""
        from .io import atomic_write
        text = json.dumps(self.to_dict(), indent=1)
        atomic_write(path, lambda f: f.write(text.encode("utf-8")))

    @classmethod
    def load_json(cls, path):
        """Read a file written by save_json()."""
        with open(path, encoding="utf-8") as f:
            try:
                d = json.load(f)
            except json.JSONDecodeError as e:
                raise ArgumentError(f"History.load_json: {path} is not valid JSON ({e})") from None
        return cls.from_dict(d)

    def save_csv(self, path):
        """Write one row per epoch (columns: epoch and every monitored quantity), atomically."""
        from .io import atomic_write
        cols = self.columns()
        buf = _io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(list(cols))
        for i in range(len(self.epoch)):
            writer.writerow([_csv_value(col[i]) if i < len(col) else "" for col in cols.values()])
        atomic_write(path, lambda f: f.write(buf.getvalue().encode("utf-8")))

    def __repr__(self):
        if not self.epoch:
            return "History(0 epochs)"
        last = ", ".join(f"{k} {v[-1]:.4g}" for k, v in self.columns().items() if k != "epoch")
        return f"History({len(self.epoch)} epochs; last: {last})"


def _jsonable(v):
    v = float(v) if not isinstance(v, (int, np.integer)) else int(v)
    return v if not isinstance(v, float) or math.isfinite(v) else None


def _csv_value(v):
    return repr(int(v)) if isinstance(v, (int, np.integer)) else repr(float(v))


def _number_list(values, name, integer=False):
    if not isinstance(values, list):
        raise ArgumentError(f"History.from_dict: {name} must be a list, got {type(values).__name__}")
    out = []
    for v in values:
        if v is None:
            v = math.nan
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise ArgumentError(f"History.from_dict: {name} holds {v!r}, not a number")
        out.append(int(v) if integer else float(v))
    return out


# -- progress bar -------------------------------------------------------------------------------------

PROGRESS_DELAY = 0.5    # seconds a run must last before its progress bar appears (short runs stay silent)


def _progress_bar(total, enabled):
    """A tqdm progress bar over `total` epochs, or None. tqdm.auto draws a widget in Jupyter and a text
    bar on a terminal; elsewhere (a pipe, a log file, a test) tqdm keeps quiet (disable=None)."""
    if not enabled or total == 0:
        return None
    from tqdm.auto import tqdm                      # imported where used: `import nn` stays light
    return tqdm(total=total, desc="fit", unit="epoch", delay=PROGRESS_DELAY, disable=None,
                dynamic_ncols=True)


def _progress_note(history):
    """'loss 0.1234  acc 0.9500  eval loss ...': the last measured values, for the bar."""
    parts = []
    for label, values in (("loss", history.train_loss), ("acc", history.train_acc),
                          ("eval loss", history.eval_loss), ("eval acc", history.eval_acc)):
        if values:
            parts.append(f"{label} {values[-1]:.4f}")
    return "  ".join(parts)


# -- fit ----------------------------------------------------------------------------------------------

def _arrays(data, what, model):
    """(X, y) ndarrays from a pair, with matching lengths."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ArgumentError(f"fit: {what} must be a pair (X, y) of arrays or a data loader, got "
                            f"{type(data).__name__}")
    X = as_inputs(data[0], model, f"fit: {what} X")
    y = _values(data[1], f"fit: {what} y")
    if X.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"fit: {what} X and y must have one row per example, got shapes {X.shape} and {y.shape}")
    if len(X) != len(y):
        raise ShapeError(f"fit: {what} has {len(X)} rows in X but {len(y)} in y")
    if len(X) == 0:
        raise ArgumentError(f"fit: {what} is empty")
    return X, y


def _loader_arrays(loader, what, model):
    """(X, y) of a data loader: its .X/.y if it has them, else the concatenation of one pass."""
    X, y = getattr(loader, "X", None), getattr(loader, "y", None)
    if X is not None and y is not None:
        return _arrays((X, y), what, model)
    xs, ys = [], []
    for batch in loader:
        xb, yb = _batch_pair(batch, what)
        xs.append(_values(xb, what))
        ys.append(_values(yb, what))
    if not xs:
        raise ArgumentError(f"fit: {what} yielded no batches")
    return _arrays((np.concatenate(xs), np.concatenate(ys)), what, model)


def _batch_pair(batch, what):
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ArgumentError(f"fit: each batch of {what} must be a pair (X_batch, y_batch), got "
                            f"{type(batch).__name__}")
    return batch


def _metric_list(metrics):
    if metrics is None:
        return []
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]
    out = []
    for m in metrics:
        if m in ("loss", "accuracy") or callable(m):
            out.append(m)
        else:
            raise ArgumentError(f"fit: unknown metric {m!r} (expected 'loss', 'accuracy' or a function "
                                "f(output, target) -> number)")
    return out


def _warn_double_activation(model, loss_fn):
    """The classic mistake: a softmax (or sigmoid) layer in front of a loss that applies it again."""
    from .layers import Sequential, Sigmoid, Softmax
    from .losses import BCEWithLogits, CrossEntropyCost, SoftmaxCrossEntropy
    last = model
    while isinstance(last, Sequential) and len(last):
        last = last[-1]
    if isinstance(last, Softmax) and isinstance(loss_fn, SoftmaxCrossEntropy):
        warnings.warn("fit: the model ends with Softmax but SoftmaxCrossEntropy applies softmax itself, so "
                      "softmax is applied twice and training crawls; remove the Softmax layer (the loss "
                      "expects logits)", DoubleActivationWarning, stacklevel=3)
    if isinstance(last, Sigmoid) and isinstance(loss_fn, (BCEWithLogits, CrossEntropyCost)):
        warnings.warn(f"fit: the model ends with Sigmoid but {type(loss_fn).__name__} takes logits and "
                      "applies the sigmoid itself, so it is applied twice; remove the Sigmoid layer",
                      DoubleActivationWarning, stacklevel=3)


def _measure(model, loss_fn, metrics, X, y, threshold, history, prefix):
    """Append loss/accuracy/metric values of the whole set (X, y) to the history."""
    with no_grad():
        out = model(Tensor(X))
        for m in metrics:
            if m == "loss":
                value = loss_fn(out, y)
                value = value.data if isinstance(value, Tensor) else np.asarray(value)
                getattr(history, f"{prefix}_loss").append(float(np.mean(value)))
            elif m == "accuracy":
                getattr(history, f"{prefix}_acc").append(accuracy(out, y, threshold))
            else:
                name = f"{prefix}_{getattr(m, '__name__', 'metric')}"
                history.extra.setdefault(name, []).append(float(m(_values(out, name), y)))


def _traceable(model, loss_fn, optimizer):
    """True when every part of a training step is one of nn's own (whose forward, loss and update
    te.compile can capture); a user's own module or optimizer may do anything, so it runs eagerly."""
    from .optim import Adam, SGD
    modules = [model] + [m for m in _submodules(model)]
    return (all(type(m).__module__.startswith("nn.") for m in modules)
            and type(loss_fn).__module__.startswith("nn.") and type(optimizer) in (SGD, Adam))


def _submodules(model):
    for _, value in model._members():
        if isinstance(value, Module):
            yield value
            yield from _submodules(value)


def training_step(model, loss_fn, optimizer, compile=False):
    """The step fit runs for each batch: loss = loss_fn(model(X), y); zero_grad; backward; step.
    Returns step(X, y) -> loss; with compile=True, a te.compile'd step (the first call captures it,
    later calls replay generated NumPy code)."""
    def step(xb, yb):
        loss = loss_fn(model(xb), yb)
        _check_loss(loss, loss_fn)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss
    return te.compile(step) if compile else step


def fit(model, loss_fn, optimizer, train_data, epochs, batch_size=None, eval_data=None,
        metrics=("loss", "accuracy"), shuffle=True, seed=None, progress=True, callback=None, compile=None):
    """Train `model` and return a History.

    train_data: a pair (X, y) of arrays (rows are examples), or a data loader yielding
        (X_batch, y_batch) pairs each epoch (such as nn.data.DataLoader; then batch_size must be None
        and the loader does its own shuffling).
    epochs: number of passes over the data.
    batch_size: None for full-batch gradient descent (doc 000), or the mini-batch size m (doc 002);
        the last batch of an epoch may be smaller.
    eval_data: an optional (X, y) pair (or loader) measured after every epoch.
    metrics: what to measure on the whole training set (and eval_data) after every epoch: 'loss',
        'accuracy', and functions f(output, target) -> number (stored in history.extra). Use
        metrics=('loss',) for regression. Accuracy uses the loss's decision threshold for single
        outputs (0 for logits, 0.5 for MSE/QuadraticCost outputs).
    shuffle: reshuffle the rows every epoch (mini-batches only; full batches keep the order).
    seed: seed (or np.random.Generator) of the shuffling, for reproducible runs.
    progress: show a tqdm progress bar (on stderr in a terminal, a widget in Jupyter) once the run has
        lasted half a second; pipes and log files stay clean.
    callback: called as callback(epoch, history) after every epoch.
    compile: run the training step through te.compile (captured once per batch shape, then replayed as
        generated NumPy code: same numbers, several times faster on small networks). None (default):
        compile when the model, loss and optimizer are all nn's own; False: always eager.

    Each step: loss = loss_fn(model(X_batch), y_batch); optimizer.zero_grad(); loss.backward();
    optimizer.step(). The model is in training mode during the passes and evaluation mode while
    measuring; its mode is restored at the end.
    """
    if not isinstance(model, Module):
        raise ArgumentError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise ArgumentError(f"fit: loss_fn must be callable (e.g. nn.SoftmaxCrossEntropy()), got {loss_fn!r}")
    if not (hasattr(optimizer, "step") and hasattr(optimizer, "zero_grad")):
        raise ArgumentError(f"fit: optimizer must have step() and zero_grad(), got {type(optimizer).__name__}")
    if isinstance(epochs, bool) or not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ArgumentError(f"fit: epochs must be an integer >= 0, got {epochs!r}")
    if batch_size is not None:
        batch_size = _check_batch_size(batch_size, "fit")
    metrics = _metric_list(metrics)
    if callback is not None and not callable(callback):
        raise ArgumentError("fit: callback must be a function callback(epoch, history)")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(
        _check_seed(seed))

    loader = None
    if isinstance(train_data, (tuple, list)):
        X, y = _arrays(train_data, "train_data", model)
    elif hasattr(train_data, "__iter__"):
        if batch_size is not None:
            raise ArgumentError("fit: batch_size must be None when train_data is a data loader (the loader "
                                "makes the batches)")
        loader = train_data
        X, y = _loader_arrays(loader, "train_data", model)
    else:
        raise ArgumentError(f"fit: train_data must be a pair (X, y) or a data loader, got "
                            f"{type(train_data).__name__}")
    evaluation = None
    if eval_data is not None:
        evaluation = (_arrays(eval_data, "eval_data", model) if isinstance(eval_data, (tuple, list))
                      else _loader_arrays(eval_data, "eval_data", model))
    _check_all_data(model, loss_fn, X, y, "train_data")
    if evaluation is not None:
        _check_all_data(model, loss_fn, *evaluation, "eval_data")
    _warn_double_activation(model, loss_fn)
    threshold = getattr(loss_fn, "decision_threshold", None)
    if threshold is None:
        threshold = model.output_threshold()
    dtype = _param_dtype(model)
    if compile is None:
        compile = _traceable(model, loss_fn, optimizer)
    step = training_step(model, loss_fn, optimizer, compile=bool(compile))

    def batches():
        if loader is not None:
            for batch in loader:
                xb, yb = _batch_pair(batch, "train_data")
                xb = _values(xb, "train_data")
                yield Tensor(xb.astype(dtype, copy=False) if dtype is not None else xb), yb
            return
        n = len(X)
        if batch_size is None or batch_size >= n:
            yield full_batch, y
            return
        order = rng.permutation(n) if shuffle else None
        for start in range(0, n, batch_size):
            if order is None:
                yield Tensor(X[start:start + batch_size]), y[start:start + batch_size]
            else:
                idx = order[start:start + batch_size]
                yield Tensor(X[idx]), y[idx]

    full_batch = Tensor(X) if loader is None else None      # built once for full-batch descent
    history = History()
    bar = _progress_bar(epochs, progress)
    was_training = model.training
    model.train()
    try:
        for epoch in range(1, epochs + 1):
            for xb, yb in batches():
                loss = step(xb, yb)
                history.step_loss.append(loss.item())
            history.epoch.append(epoch)
            if metrics:
                model.eval()
                _measure(model, loss_fn, metrics, X, y, threshold, history, "train")
                if evaluation is not None:
                    _measure(model, loss_fn, metrics, *evaluation, threshold, history, "eval")
                model.train()
            if bar is not None:
                bar.set_postfix_str(_progress_note(history), refresh=False)
                bar.update(1)
            if callback is not None:
                callback(epoch, history)
    finally:
        if bar is not None:
            bar.close()
        model.train(was_training)
    return history


def _check_all_data(model, loss_fn, X, y, what):
    """One loss over all of (X, y), recording nothing, before the first update: a bad label or
    target anywhere - in the last batch, in eval_data - raises now, with the weights untouched,
    instead of halfway through training."""
    with no_grad():
        try:
            loss_fn(model(Tensor(X)), y)
        except (LabelError, ShapeError, DTypeError) as e:
            raise type(e)(f"fit: {what}: {e}") from None


def _check_loss(loss, loss_fn):
    """The first loss of a run must be a one-element Tensor, or backward() has nothing to start from."""
    if not isinstance(loss, Tensor):
        raise ArgumentError(f"fit: loss_fn returned a {type(loss).__name__}, not a Tensor")
    if loss.size != 1:
        hint = " (use reduction='mean' or 'sum', not 'none')" if getattr(loss_fn, "reduction", None) == "none" else ""
        raise ArgumentError(f"fit: loss_fn must return a single number to minimise, got shape {loss.shape}{hint}")


def _check_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ArgumentError(f"fit: seed must be None, a non-negative integer or a np.random.Generator, "
                            f"got {seed!r}")
    return int(seed)


# -- a ready-to-run training setup (built from a spec by nn.build_training) ----------------------------

@dataclass
class TrainingSetup:
    """Everything a spec says about training, built: the model, the loss module, the optimizer (bound
    to the model's parameters) and the fit() settings. `setup.fit(train_data)` runs it."""
    model: Module
    loss: Module
    optimizer: object
    epochs: int = 100
    batch_size: object = None
    shuffle: bool = True
    seed: object = None

    @property
    def settings(self):
        """The fit() keyword arguments: epochs, batch_size, shuffle, seed."""
        return {"epochs": self.epochs, "batch_size": self.batch_size, "shuffle": self.shuffle,
                "seed": self.seed}

    def fit(self, train_data, eval_data=None, **overrides):
        """fit(model, loss, optimizer, train_data, eval_data=..., **settings) with overrides applied."""
        return fit(self.model, self.loss, self.optimizer, train_data, eval_data=eval_data,
                   **{**self.settings, **overrides})


def build_training(spec, model=None, seed=None):
    """Build everything a spec describes: a TrainingSetup(model, loss, optimizer, epochs, batch_size,
    shuffle, seed), ready for `setup.fit(train_data, eval_data=None)`.

    spec: a dict or the path of a .json file. model: train this existing model (its parameters go to
    the optimizer) instead of building one from the spec's layers. seed: weight seed for the model
    built here (see from_spec). Missing sections get the defaults listed in the module docstring."""
    spec, source = _resolve(spec)
    if model is None:
        with warnings.catch_warnings():                     # _resolve has warned about this spec already
            warnings.simplefilter("ignore", DoubleActivationWarning)
            model = from_spec(spec, seed=seed)
    try:
        loss = build_loss(spec.get("loss", DEFAULT_LOSS))
        optimizer = build_optimizer(spec.get("optimizer", DEFAULT_OPTIMIZER), model.parameters())
    except SpecError as e:
        if source is None:
            raise
        raise SpecError(e.reason, e.path, source) from None
    training = spec.get("training", {})
    return TrainingSetup(model, loss, optimizer, epochs=training.get("epochs", DEFAULT_EPOCHS),
                         batch_size=training.get("batch_size"), shuffle=training.get("shuffle", True),
                         seed=training.get("seed"))
