"""Plots of training runs and classifiers (matplotlib), for notebooks, scripts and the command line.

    from nn.plot import plot_history, plot_curves, plot_decision_boundary, plot_boundary_grid
    history = nn.fit(model, loss, opt, (X, y), epochs=200, eval_data=(X_test, y_test))
    plot_history(history, "history.png")                  # loss and accuracy per epoch
    plot_curves({"quadratic": q, "cross-entropy": ce}, "costs.svg", xlabel="epoch", ylabel="cost")
    plot_decision_boundary(model, X, y, "boundary.png")   # document 000's picture
    plot_boundary_grid(models, X, y, titles=[...])        # its grid for hidden sizes 1 ... 50

Every function returns the matplotlib Figure, and writes it when given a path (PNG, SVG or PDF, by
the file's suffix; written atomically, see save_figure). Nothing is ever shown: call
`matplotlib.pyplot.show()` yourself in a script; notebooks display the returned Figure.

matplotlib is imported inside the functions, never when `nn` or this module is imported. When no
display is available (no DISPLAY / WAYLAND_DISPLAY on Linux, e.g. a server or CI) the non-interactive
Agg backend is selected before pyplot is first imported, so plotting works headless. Figures come
from pyplot, so pyplot keeps them until closed: a loop that makes many should `plt.close(fig)`.

Decision boundaries are computed as in document 000: predict the class of every point of a grid with
spacing h covering the data (plus a margin), fill the regions by class, scatter the data on top. The
grid is kept: `fig.boundary_grid` (and `ax.boundary_grid` for each subplot) is a BoundaryGrid with
the grid's coordinates and predicted labels, so the picture can be checked by numbers.
"""
import math
import numbers
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tinygrad_edu import ArgumentError, DTypeError, LabelError, ShapeError, Tensor

__all__ = ["plot_history", "plot_curves", "plot_decision_boundary", "plot_boundary_grid", "save_figure",
           "decision_grid", "BoundaryGrid", "FORMATS", "plot_points"]

FORMATS = ("png", "svg", "pdf")
FILL_ALPHA = 0.35               # decision regions: light, so the data points on top stand out
MAX_GRID_POINTS = 4_000_000     # a finer decision grid is refused (it would take minutes and GBs)
_CHUNK = 100_000                 # grid rows predicted at a time, to bound memory for wide networks


# ---------------------------------------------------------------------------------------------------
# matplotlib, imported on first use

def _has_display():
    """Whether an interactive window could open: on Linux and other X11/Wayland systems only when
    DISPLAY or WAYLAND_DISPLAY is set; macOS and Windows always have their own window system."""
    if sys.platform == "darwin" or sys.platform.startswith("win"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _pyplot():
    """matplotlib.pyplot, after selecting the Agg backend when there is no display. Once pyplot is
    imported the backend is the user's (or a previous call's) choice and is left alone."""
    import matplotlib
    if "matplotlib.pyplot" not in sys.modules and not _has_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path):
    """Write a matplotlib Figure to `path` atomically (a temporary file in the same folder, then
    os.replace), so an interrupted save never leaves a half-written image. The format comes from
    the suffix: .png, .svg or .pdf. SVG and PDF files carry no date, so the same figure gives the
    same file. Returns the path."""
    if not hasattr(fig, "savefig"):
        raise ArgumentError(f"save_figure: expected a matplotlib Figure, got {type(fig).__name__}")
    path = os.fspath(path)
    fmt = os.path.splitext(path)[1].lower().lstrip(".")
    if fmt not in FORMATS:
        raise ArgumentError(f"save_figure: cannot tell the image format of {path!r}; use a file name "
                            f"ending in .png, .svg or .pdf")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save_figure: the folder {folder!r} does not exist")
    import matplotlib
    from .io import atomic_write
    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None}}.get(fmt)
    # A fixed salt makes the ids inside an SVG the same on every run (diff-friendly files).
    with matplotlib.rc_context({"svg.hashsalt": "tinygrad-edu"}):
        atomic_write(path, lambda f: fig.savefig(f, format=fmt, metadata=metadata))
    return path


def _finish(fig, path):
    if path is not None:
        save_figure(fig, path)
    return fig


# ---------------------------------------------------------------------------------------------------
# Curves

def _series(values, what):
    """A 1-D float array of at least one number."""
    if isinstance(values, Tensor):
        values = values.data
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DTypeError(f"{what}: expected a sequence of numbers, got {type(values).__name__}") from None
    if arr.ndim != 1:
        raise ShapeError(f"{what}: expected a 1-D sequence of numbers, got shape {arr.shape}")
    if arr.size == 0:
        raise ArgumentError(f"{what}: no values to plot")
    return arr


def _xy(value, what):
    """(xs, ys) from a sequence of ys (xs = 0, 1, 2, ...) or an (xs, ys) pair of sequences."""
    if isinstance(value, tuple) and len(value) == 2 and all(np.ndim(v) == 1 for v in value):
        xs, ys = _series(value[0], f"{what} xs"), _series(value[1], f"{what} ys")
        if len(xs) != len(ys):
            raise ShapeError(f"{what}: {len(xs)} x values but {len(ys)} y values")
        return xs, ys
    ys = _series(value, what)
    return np.arange(len(ys), dtype=np.float64), ys


def _marker(n):
    """Points are marked when there are few of them (a one-epoch run is otherwise invisible)."""
    return "o" if n <= 40 else None


def _integer_ticks(ax, xs):
    """Whole-number ticks on the x axis when every x is a whole number (epochs, iterations): no
    'epoch 1.25' between epochs 1 and 2."""
    from matplotlib.ticker import MaxNLocator
    if all(np.all(np.isfinite(x)) and np.all(x == np.round(x)) for x in xs):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def _log_label(label):
    """A y label that says its axis is logarithmic."""
    return label if "log" in label.lower() else f"{label} (log scale)"


def plot_curves(curves, path=None, xlabel="step", ylabel="loss", title=None, logy=False):
    """Several curves on one set of axes, one labelled line each: loss per step, the cost of two cost
    functions, the oscillating losses of consecutive steps, ...

    curves: {label: ys} (plotted against 0, 1, 2, ...) or {label: (xs, ys)}.
    logy: logarithmic y axis (every value must then be positive); its label then says "(log scale)".
    Whole-number x values (epochs, iterations) get whole-number ticks.
    Returns the Figure (one axes, one line per curve); writes it to `path` when given.
    """
    if not isinstance(curves, Mapping) or not curves:
        got = "an empty dict" if isinstance(curves, Mapping) else f"a {type(curves).__name__}"
        raise ArgumentError(f"plot_curves: curves must be a non-empty dict {{label: values}} or "
                            f"{{label: (xs, ys)}}, got {got}")
    data = [(str(label), *_xy(value, f"plot_curves: curve {str(label)!r}")) for label, value in curves.items()]
    if logy:
        for label, _, ys in data:
            finite = ys[np.isfinite(ys)]
            if finite.size and finite.min() <= 0:
                raise ArgumentError(f"plot_curves: logy=True needs positive values, but curve {label!r} "
                                    f"reaches {finite.min():g}")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
    for label, xs, ys in data:
        ax.plot(xs, ys, label=label, marker=_marker(len(ys)), markersize=3, linewidth=1.5)
    if logy:
        from matplotlib.ticker import FuncFormatter
        ax.set_yscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")          # 0.2 rather than 2×10⁻¹
        ax.yaxis.set_major_formatter(plain)
        if np.nanmax([ys.max() for _, _, ys in data]) < 10 * np.nanmin([ys.min() for _, _, ys in data]):
            ax.yaxis.set_minor_formatter(plain)               # within a decade: label the minor ticks too
    _integer_ticks(ax, [xs for _, xs, _ in data])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_log_label(ylabel) if logy else ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _finish(fig, path)


# ---------------------------------------------------------------------------------------------------
# History

_METRIC_COLUMNS = {"loss": ("train_loss", "eval_loss", "loss"),
                   "accuracy": ("train_acc", "eval_acc", "accuracy"),
                   "acc": ("train_acc", "eval_acc", "accuracy")}


def _as_history(history):
    from .train import History
    if isinstance(history, History):
        return history
    if isinstance(history, Mapping):
        return History.from_dict(dict(history))       # checks every field, names unknown ones
    raise ArgumentError(f"plot_history: expected an nn.History or its to_dict() dict, got "
                        f"{type(history).__name__}")


def _metric_lines(h, metric):
    """(ylabel, [(label, xs, ys)], xlabel) of one metric of History h; no lines if it was not measured."""
    def epochs(values):
        return np.asarray(h.epoch if len(h.epoch) == len(values) else range(1, len(values) + 1), float)

    if metric in _METRIC_COLUMNS:
        train_col, eval_col, ylabel = _METRIC_COLUMNS[metric]
        train, evaluation = getattr(h, train_col), getattr(h, eval_col)
    else:
        name = metric[len("train_"):] if metric.startswith("train_") else metric
        name = name[len("eval_"):] if name.startswith("eval_") else name
        if f"train_{name}" not in h.extra and f"eval_{name}" not in h.extra:
            known = ["loss", "accuracy"] + sorted({k.split("_", 1)[-1] for k in h.extra})
            raise ArgumentError(f"plot_history: unknown metric {metric!r} (this history has "
                                f"{', '.join(known)})")
        train, evaluation, ylabel = h.extra.get(f"train_{name}", []), h.extra.get(f"eval_{name}", []), name
    lines = [(label, epochs(v), np.asarray(v, float)) for label, v in (("train", train), ("eval", evaluation)) if v]
    if not lines and metric == "loss" and h.step_loss:
        # Only the loss of each optimizer step was kept (fit(..., metrics=())): plot that.
        steps = np.arange(1, len(h.step_loss) + 1, dtype=float)
        return ylabel, [("train (per step)", steps, np.asarray(h.step_loss, float))], "step"
    return ylabel, lines, "epoch"


def plot_history(history, path=None, metrics=("loss", "accuracy"), title=None):
    """Loss and accuracy curves of a training run, training and evaluation data, one subplot each.

    history: an nn.History (what nn.fit returns) or its to_dict() form.
    metrics: which subplots, in order: 'loss', 'accuracy' (or 'acc') and the names of metric
        functions given to fit (history.extra). A metric the run did not measure is left out (a
        regression run has no accuracy); when no per-epoch loss was measured, the per-step loss
        (history.step_loss) is shown instead.
    Returns the Figure (one axes per metric shown; one line for training data and one for evaluation
    data when it was measured); writes it to `path` when given.
    """
    h = _as_history(history)
    if isinstance(metrics, str):
        metrics = (metrics,)
    if not isinstance(metrics, (list, tuple)) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise ArgumentError(f"plot_history: metrics must be a non-empty list of names such as "
                            f"('loss', 'accuracy'), got {metrics!r}")
    panels = [p for p in (_metric_lines(h, m) for m in metrics) if p[1]]
    if not panels:
        raise ArgumentError(f"plot_history: the history holds no values of {', '.join(metrics)} "
                            "(was the model trained for at least one epoch?)")
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.0), layout="constrained",
                             squeeze=False)
    for ax, (ylabel, lines, xlabel) in zip(axes[0], panels):
        for label, xs, ys in lines:
            ax.plot(xs, ys, label=label, marker=_marker(len(ys)), markersize=3, linewidth=1.5,
                    linestyle="--" if label == "eval" else "-")
        _integer_ticks(ax, [xs for _, xs, _ in lines])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


# ---------------------------------------------------------------------------------------------------
# Decision boundaries

@dataclass
class BoundaryGrid:
    """The grid a decision-boundary plot was drawn from.

    xx, yy: (rows, cols) coordinates of the grid points (np.meshgrid of the two axes);
    labels: (rows, cols) the class the model predicts at each point;
    h: the grid spacing.
    """
    xx: np.ndarray
    yy: np.ndarray
    labels: np.ndarray
    h: float

    def label_at(self, x, y):
        """The predicted class at the grid point nearest to (x, y) (which must lie on the grid)."""
        col = int(round((x - self.xx[0, 0]) / self.h))
        row = int(round((y - self.yy[0, 0]) / self.h))
        rows, cols = self.labels.shape
        if not (0 <= row < rows and 0 <= col < cols):
            raise ArgumentError(f"BoundaryGrid.label_at: ({x}, {y}) lies outside the grid "
                                f"[{self.xx[0, 0]:g}, {self.xx[0, -1]:g}] × [{self.yy[0, 0]:g}, {self.yy[-1, 0]:g}]")
        return self.labels[row, col]


def _points(X, y, what):
    """X as a float (N, 2) array and y as an (N,) label array (or None)."""
    X = X.data if isinstance(X, Tensor) else X
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise DTypeError(f"{what}: X must hold numbers, got {type(X).__name__}") from None
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ShapeError(f"{what}: X must have shape (N, 2) - one point of two features per row - got "
                         f"shape {X.shape}; a decision boundary can only be drawn for 2-D data")
    if not np.isfinite(X).all():
        raise ArgumentError(f"{what}: X holds NaN or infinite values")
    if y is None:
        return X, None
    y = np.asarray(y.data if isinstance(y, Tensor) else y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]                              # a (N, 1) column of labels
    if y.shape != (len(X),):
        raise LabelError(f"{what}: y must hold one label per row of X, shape ({len(X)},), got shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise LabelError(f"{what}: y must hold numeric class labels, got dtype {y.dtype}")
    return X, y


def _positive(value, name, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ArgumentError(f"{what}: {name} must be a positive number, got {value!r}")
    return float(value)


def _predictor(model, what):
    """model.predict, or the model itself when it is a plain function X -> labels."""
    predict = getattr(model, "predict", None)
    if callable(predict):
        return predict
    if callable(model):
        return model
    raise ArgumentError(f"{what}: model must have a predict(X) method (nn modules do) or be a function "
                        f"X -> labels, got {type(model).__name__}")


def _predict(model, points, what):
    """Class labels (M,) the model predicts for points (M, 2), computed in chunks."""
    predict = _predictor(model, what)
    parts = []
    for start in range(0, len(points), _CHUNK):
        chunk = points[start:start + _CHUNK]
        out = predict(chunk)
        out = np.asarray(out.data if isinstance(out, Tensor) else out)
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.shape != (len(chunk),):
            raise ShapeError(f"{what}: the model's predictions for {len(chunk)} points have shape "
                             f"{out.shape}; expected one class label per point, shape ({len(chunk)},)")
        if out.dtype.kind not in "biuf" or (out.dtype.kind == "f" and not np.isfinite(out).all()):
            raise LabelError(f"{what}: the model's predictions must be finite numeric class labels, got "
                             f"dtype {out.dtype}")
        parts.append(out)
    return np.concatenate(parts)


def _grid_axes(X, h, padding, what):
    """The two 1-D axes of the grid: the data's range plus `padding` on each side, spacing h."""
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    gx, gy = np.arange(lo[0], hi[0], h), np.arange(lo[1], hi[1], h)   # as document 000 builds it
    if gx.size < 2 or gy.size < 2:
        raise ArgumentError(f"{what}: the grid has {gx.size} × {gy.size} points: the data span no area; "
                            f"use a padding > 0 or a smaller h (h={h:g}, padding={padding:g})")
    if gx.size * gy.size > MAX_GRID_POINTS:
        raise ArgumentError(f"{what}: h={h:g} gives a grid of {gx.size} × {gy.size} = {gx.size * gy.size:,} "
                            f"points for data spanning {hi[0] - lo[0]:.3g} × {hi[1] - lo[1]:.3g}; "
                            f"use a larger h (at most {MAX_GRID_POINTS:,} points)")
    return gx, gy


def decision_grid(model, X, h=0.01, padding=0.5):
    """The class `model` predicts at every point of a grid of spacing h covering X (N, 2) with a
    margin of `padding`: a BoundaryGrid. This is what plot_decision_boundary fills with colour."""
    X, _ = _points(X, None, "decision_grid")
    h = _positive(h, "h", "decision_grid")
    padding = _positive(padding, "padding", "decision_grid") if padding else 0.0
    gx, gy = _grid_axes(X, h, padding, "decision_grid")
    xx, yy = np.meshgrid(gx, gy)                                     # (rows, cols) each
    labels = _predict(model, np.c_[xx.ravel(), yy.ravel()], "decision_grid")
    return BoundaryGrid(xx, yy, labels.reshape(xx.shape), h)


def _class_colours(plt, classes):
    """One colour per class from the Spectral map document 000 uses, as a discrete map and norm that
    send class index k to colour k (so regions and points agree)."""
    from matplotlib.colors import BoundaryNorm, ListedColormap
    k = len(classes)
    colours = plt.get_cmap("Spectral")(np.linspace(0.0, 1.0, max(k, 2)))[:k]
    return ListedColormap(colours), BoundaryNorm(np.arange(k + 1) - 0.5, k)


def _point_size(n):
    """Marker area for n points: big when there are few (XOR's four corners), small for hundreds."""
    return 90 if n <= 16 else 40 if n <= 100 else 18


def _held_out_mask(held_out, n, what):
    """A boolean (n,) mask from a boolean mask or an array of row indices (None: no rows)."""
    if held_out is None:
        return np.zeros(n, dtype=bool)
    idx = np.asarray(held_out)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise ShapeError(f"{what}: held_out as a mask needs one entry per row, shape ({n},), got {idx.shape}")
        return idx
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or (idx.size and (idx.min() < 0 or idx.max() >= n)):
        raise ArgumentError(f"{what}: held_out must be a boolean mask or indices of rows 0..{n - 1}, got "
                            f"{held_out!r}")
    mask = np.zeros(n, dtype=bool)
    mask[idx] = True
    return mask


def _draw_boundary(plt, ax, grid, X, y, title, held_out=None):
    """Fill ax with the predicted regions of `grid` (lightly) and scatter the labelled points on top:
    circles for the points trained on, triangles for held-out points when a mask is given."""
    from matplotlib.lines import Line2D
    classes = np.unique(np.concatenate([grid.labels.ravel(), y]))
    cmap, norm = _class_colours(plt, classes)
    region = np.searchsorted(classes, grid.labels)                   # (rows, cols) class index
    ax.contourf(grid.xx, grid.yy, region, levels=np.arange(len(classes) + 1) - 0.5, cmap=cmap, norm=norm,
                alpha=FILL_ALPHA)
    held = held_out if held_out is not None else np.zeros(len(X), dtype=bool)
    size = _point_size(len(X))
    colour = np.searchsorted(classes, y)
    ax.scatter(X[~held, 0], X[~held, 1], c=colour[~held], cmap=cmap, norm=norm, edgecolors="k",
               linewidths=0.7, s=size, zorder=3)
    handles = [Line2D([], [], marker="o", linestyle="none", markersize=7, markeredgecolor="k",
                      markerfacecolor=cmap(norm(k))) for k in range(len(classes))]
    labels = [f"class {c:g}" for c in classes]
    if held.any():
        ax.scatter(X[held, 0], X[held, 1], c=colour[held], cmap=cmap, norm=norm, marker="^", edgecolors="k",
                   linewidths=1.2, s=size * 1.6, zorder=4)
        handles.append(Line2D([], [], marker="^", linestyle="none", markersize=8, markeredgecolor="k",
                              markerfacecolor="white"))
        labels.append(f"held out ({int(held.sum())})")
    ax.legend(handles, labels, loc="best", fontsize=8, framealpha=0.8)
    ax.set_xlim(grid.xx[0, 0], grid.xx[0, -1])
    ax.set_ylim(grid.yy[0, 0], grid.yy[-1, 0])
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    if title:
        ax.set_title(title)
    ax.boundary_grid = grid


def plot_decision_boundary(model, X, y, path=None, ax=None, title=None, h=0.01, padding=0.5, held_out=None):
    """The regions where `model` predicts each class, filled with colour, with the data on top
    (document 000's plot_decision_boundary).

    model: anything with predict(X) -> class labels (nn modules have it; so do scikit-learn
        classifiers) or a function X -> labels. X: (N, 2) points; y: (N,) their labels.
    ax: draw into these matplotlib axes instead of a new figure (the axes' figure is returned and,
        with path, saved). h: grid spacing; padding: margin around the data.
    held_out: the rows of X that were not trained on (a boolean mask or row indices): drawn as
        triangles, the training points as circles, with a legend entry saying how many.
    The regions are filled lightly (FILL_ALPHA) so the points stand out; few points are drawn big.
    Returns the Figure. fig.boundary_grid (and ax.boundary_grid) is the BoundaryGrid of predictions
    the regions were filled from.
    """
    X, y = _points(X, y, "plot_decision_boundary")
    held = _held_out_mask(held_out, len(X), "plot_decision_boundary")
    grid = decision_grid(model, X, h=h, padding=padding)
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.8), layout="constrained")
    elif not hasattr(ax, "contourf"):
        raise ArgumentError(f"plot_decision_boundary: ax must be matplotlib axes, got {type(ax).__name__}")
    else:
        fig = ax.figure
    _draw_boundary(plt, ax, grid, X, y, title, held)
    fig.boundary_grid = grid
    return _finish(fig, path)


def _default_title(model, i):
    """'hidden layer size 3' for a 2-H-C network (the documents' caption), '2-25-50-25-2' for a
    deeper nn model, else 'model <i>'."""
    from .layers import Linear
    from .module import Module
    if isinstance(model, Module):
        linears = [m for m in model.modules() if isinstance(m, Linear)]
        if len(linears) == 2:
            return f"hidden layer size {linears[0].out_features}"
        if linears:
            return "-".join(str(n) for n in [linears[0].in_features] + [m.out_features for m in linears])
    return f"model {i + 1}"


def plot_boundary_grid(models, X, y, titles=None, path=None, ncols=2, h=0.01, padding=0.5):
    """One decision-boundary subplot per model, on the same data: document 000's grid of networks
    with hidden layers of 1, 2, 3, 4, 5, 20 and 50 units.

    models: a list of models (see plot_decision_boundary), or a dict {title: model}.
    titles: one per model (default: the dict keys, or 'hidden layer size H' for nn networks).
    ncols: subplots per row. Returns the Figure (exactly one axes per model); each axes has its
    BoundaryGrid as ax.boundary_grid, and fig.boundary_grids lists them in order.
    """
    if isinstance(models, Mapping):
        if titles is None:
            titles = [str(k) for k in models]
        models = list(models.values())
    elif isinstance(models, (list, tuple)):
        models = list(models)
    else:
        raise ArgumentError(f"plot_boundary_grid: models must be a list of models or a dict "
                            f"{{title: model}}, got {type(models).__name__}")
    if not models:
        raise ArgumentError("plot_boundary_grid: no models given")
    if titles is None:
        titles = [_default_title(m, i) for i, m in enumerate(models)]
    elif isinstance(titles, str) or len(titles) != len(models):
        raise ArgumentError(f"plot_boundary_grid: give one title per model ({len(models)}), got {titles!r}")
    if isinstance(ncols, bool) or not isinstance(ncols, numbers.Integral) or ncols < 1:
        raise ArgumentError(f"plot_boundary_grid: ncols must be a positive integer, got {ncols!r}")
    X, y = _points(X, y, "plot_boundary_grid")
    grids = [decision_grid(m, X, h=h, padding=padding) for m in models]    # every model before drawing
    ncols = min(int(ncols), len(models))
    nrows = -(-len(models) // ncols)
    plt = _pyplot()
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols, 3.8 * nrows), layout="constrained",
                             squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[len(models):]:                 # an odd count leaves empty cells: remove them
        fig.delaxes(ax)
    for ax, grid, title in zip(flat, grids, titles):
        _draw_boundary(plt, ax, grid, X, y, str(title))
    fig.boundary_grids = grids
    fig.boundary_grid = grids[-1]
    return _finish(fig, path)


def plot_points(X, y, path=None, ax=None, title=None):
    """The labelled points alone, one colour per class: the picture of the data that documents 000 and
    003 draw before training anything (003 calls it the "moon plot").

    X: (N, 2) points; y: (N,) their labels. ax: draw into these matplotlib axes instead of a new
    figure. Returns the Figure (saved when given a path)."""
    X, y = _points(X, y, "plot_points")
    if y is None:
        raise LabelError("plot_points: y is required (one class label per point)")
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, 4.8), layout="constrained")
    elif not hasattr(ax, "scatter"):
        raise ArgumentError(f"plot_points: ax must be matplotlib axes, got {type(ax).__name__}")
    else:
        fig = ax.figure
    classes = np.unique(y)
    cmap, norm = _class_colours(plt, classes)
    points = ax.scatter(X[:, 0], X[:, 1], c=np.searchsorted(classes, y), cmap=cmap, norm=norm,
                        edgecolors="k", linewidths=0.5, s=18)
    handles, _ = points.legend_elements()
    ax.legend(handles, [f"class {c:g}" for c in classes], loc="best", fontsize=8, framealpha=0.7)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    if title:
        ax.set_title(title)
    return _finish(fig, path)
