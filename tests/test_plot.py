"""nn.plot: training curves and decision boundaries.

Every plot function writes a real PNG and SVG, returns a Figure whose axes and lines hold exactly the
numbers given, and refuses bad input with a clear error. Decision boundaries are checked by numbers
(the grid of predictions, compared with a rule the test computes itself) and by pixels (the colour
drawn at two known points, compared with the class colours taken straight from matplotlib).
"""
import json
import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import nn  # noqa: E402
from nn import plot as P  # noqa: E402
from nn.train import History  # noqa: E402
from tinygrad_edu import ArgumentError, DTypeError, LabelError, ShapeError  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def assert_png(path):
    data = open(path, "rb").read()
    assert data[:8] == PNG_MAGIC and len(data) > 1000, f"{path} is not a PNG image"


def assert_svg(path):
    text = open(path, encoding="utf-8").read()
    assert text.lstrip().startswith(("<?xml", "<svg")) and "</svg>" in text, f"{path} is not an SVG image"


def history_by_hand():
    return History(epoch=[1, 2, 3, 4], train_loss=[0.9, 0.5, 0.3, 0.25], eval_loss=[1.0, 0.7, 0.5, 0.45],
                   train_acc=[0.5, 0.7, 0.9, 0.95], eval_acc=[0.4, 0.6, 0.8, 0.85], step_loss=[0.9] * 8)


def line_data(ax):
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines}


# ---------------------------------------------------------------------------------------------------
# plot_history

def test_plot_history_writes_png_and_svg_with_loss_and_accuracy(tmp_path):
    h = history_by_hand()
    for name in ("history.png", "history.svg"):
        fig = P.plot_history(h, tmp_path / name, title="run 1")
        assert len(fig.axes) == 2
        loss_ax, acc_ax = fig.axes
        assert line_data(loss_ax) == {"train": ([1, 2, 3, 4], [0.9, 0.5, 0.3, 0.25]),
                                      "eval": ([1, 2, 3, 4], [1.0, 0.7, 0.5, 0.45])}
        assert line_data(acc_ax) == {"train": ([1, 2, 3, 4], [0.5, 0.7, 0.9, 0.95]),
                                     "eval": ([1, 2, 3, 4], [0.4, 0.6, 0.8, 0.85])}
        assert loss_ax.get_ylabel() == "loss" and acc_ax.get_ylabel() == "accuracy"
        assert loss_ax.get_xlabel() == "epoch"
        assert fig._suptitle.get_text() == "run 1"
    assert_png(tmp_path / "history.png")
    assert_svg(tmp_path / "history.svg")


def test_epoch_axes_have_whole_number_ticks_and_log_axes_say_so():
    h = History(epoch=[1, 2], train_loss=[0.9, 0.5], train_acc=[0.5, 0.7])   # a two-epoch (--quick) run
    fig = P.plot_history(h)
    for ax in fig.axes:
        fig.canvas.draw()
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(t == int(t) for t in ticks), ticks                # no epoch 1.25
    fig = P.plot_curves({"a": ([1, 2, 3], [1.0, 0.1, 0.01])}, xlabel="epoch", ylabel="cost", logy=True)
    ax, = fig.axes
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "cost (log scale)"
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert all(t == int(t) for t in ticks)
    fig = P.plot_curves({"a": [0.5, 0.25]}, ylabel="loss")                      # linear axis: as given
    assert fig.axes[0].get_ylabel() == "loss"
    fig = P.plot_curves({"a": ([0.5, 0.75, 1.0], [1.0, 2.0, 3.0])}, xlabel="time")   # fractional xs
    fig.canvas.draw()
    assert any(t != int(t) for t in fig.axes[0].get_xticks())


def test_plot_history_accepts_the_dict_form_and_a_metric_subset():
    d = json.loads(json.dumps(history_by_hand().to_dict()))          # as read back from history.json
    fig = P.plot_history(d, metrics=("accuracy",))
    assert len(fig.axes) == 1
    assert line_data(fig.axes[0])["eval"][1] == [0.4, 0.6, 0.8, 0.85]
    fig = P.plot_history({"train_loss": [3.0, 2.0]}, metrics="loss")     # no epoch column: 1, 2, ...
    assert line_data(fig.axes[0]) == {"train": ([1, 2], [3.0, 2.0])}


def test_plot_history_leaves_out_what_was_not_measured():
    h = History(epoch=[1, 2, 3], train_loss=[3.0, 2.0, 1.5])             # regression: no accuracy, no eval
    fig = P.plot_history(h)
    assert len(fig.axes) == 1 and len(fig.axes[0].lines) == 1
    # fit(..., metrics=()) keeps only the loss of every step: that is plotted per step
    steps = History(epoch=[1, 2], step_loss=[4.0, 3.0, 2.5, 2.0])
    ax = P.plot_history(steps).axes[0]
    assert ax.get_xlabel() == "step"
    assert line_data(ax) == {"train (per step)": ([1, 2, 3, 4], [4.0, 3.0, 2.5, 2.0])}


def test_plot_history_extra_metrics():
    h = History(epoch=[1, 2], train_loss=[1.0, 0.5], extra={"train_f1": [0.2, 0.4], "eval_f1": [0.1, 0.3]})
    fig = P.plot_history(h, metrics=("loss", "f1"))
    assert len(fig.axes) == 2
    assert line_data(fig.axes[1]) == {"train": ([1, 2], [0.2, 0.4]), "eval": ([1, 2], [0.1, 0.3])}


def test_plot_history_of_a_real_fit(tmp_path):
    X, y = nn.data.make_moons(60, noise=0.1, seed=0)
    model = nn.MLP([2, 4, 2], rng=0)
    h = nn.fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.5), (X[:40], y[:40]),
               epochs=5, eval_data=(X[40:], y[40:]), progress=False)
    fig = P.plot_history(h, tmp_path / "fit.png")
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    np.testing.assert_array_equal(fig.axes[1].lines[1].get_ydata(), h.eval_acc)
    assert_png(tmp_path / "fit.png")


def test_plot_history_bad_input():
    with pytest.raises(ArgumentError, match="unknown metric 'f2'"):
        P.plot_history(history_by_hand(), metrics=("loss", "f2"))
    with pytest.raises(ArgumentError, match="no values"):
        P.plot_history(History())
    with pytest.raises(ArgumentError, match="nn.History"):
        P.plot_history([0.5, 0.4])
    with pytest.raises(ArgumentError, match="unknown field"):
        P.plot_history({"loss": [1.0]})
    with pytest.raises(ArgumentError, match="metrics"):
        P.plot_history(history_by_hand(), metrics=())


# ---------------------------------------------------------------------------------------------------
# plot_curves

def test_plot_curves_one_line_per_curve(tmp_path):
    curves = {"quadratic": [0.5, 0.3, 0.2], "cross-entropy": ([0, 10, 20], [0.7, 0.2, 0.05])}
    fig = P.plot_curves(curves, tmp_path / "c.svg", xlabel="epoch", ylabel="cost", title="costs")
    ax, = fig.axes
    assert line_data(ax) == {"quadratic": ([0, 1, 2], [0.5, 0.3, 0.2]),
                             "cross-entropy": ([0, 10, 20], [0.7, 0.2, 0.05])}
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "cost", "costs")
    assert ax.get_yscale() == "linear"
    assert_svg(tmp_path / "c.svg")
    fig = P.plot_curves({"loss": np.array([1.0, 0.1, 0.01])}, tmp_path / "c.png", logy=True)
    assert fig.axes[0].get_yscale() == "log"
    assert_png(tmp_path / "c.png")


def test_plot_curves_bad_input():
    with pytest.raises(ArgumentError, match="non-empty dict"):
        P.plot_curves({})
    with pytest.raises(ArgumentError, match="non-empty dict"):
        P.plot_curves([1, 2, 3])
    with pytest.raises(ShapeError, match="3 x values but 2 y values"):
        P.plot_curves({"a": ([1, 2, 3], [1, 2])})
    with pytest.raises(ShapeError, match="1-D"):
        P.plot_curves({"a": np.ones((2, 3))})
    with pytest.raises(DTypeError, match="'a'"):
        P.plot_curves({"a": ["x", "y"]})
    with pytest.raises(ArgumentError, match="no values"):
        P.plot_curves({"a": []})
    with pytest.raises(ArgumentError, match="logy=True needs positive values.*'b'.*-1"):
        P.plot_curves({"a": [1, 2], "b": [1, -1]}, logy=True)


# ---------------------------------------------------------------------------------------------------
# Decision boundaries

def separable():
    """Class 0 around (-1, -1), class 1 around (1, 1): the line x1 + x2 = 0 separates them."""
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.uniform(-1.5, -0.5, (20, 2)), rng.uniform(0.5, 1.5, (20, 2))])
    y = np.repeat([0, 1], 20)
    return X, y


def diagonal_rule(points):
    return (points[:, 0] + points[:, 1] > 0).astype(np.int64)


def test_decision_grid_is_document_000s_meshgrid():
    X, y = separable()
    grid = P.decision_grid(diagonal_rule, X, h=0.05, padding=0.5)
    gx = np.arange(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 0.05)
    gy = np.arange(X[:, 1].min() - 0.5, X[:, 1].max() + 0.5, 0.05)
    assert grid.xx.shape == grid.yy.shape == grid.labels.shape == (len(gy), len(gx))
    np.testing.assert_array_equal(grid.xx[0], gx)
    np.testing.assert_array_equal(grid.yy[:, 0], gy)
    np.testing.assert_array_equal(grid.labels, (grid.xx + grid.yy > 0).astype(int))


def pixel_rgb(fig, ax, x, y):
    """The RGB colour (0..1) drawn at data point (x, y)."""
    fig.canvas.draw()
    px, py = ax.transData.transform((x, y))
    buf = np.asarray(fig.canvas.buffer_rgba())
    return buf[int(round(buf.shape[0] - py)), int(round(px)), :3] / 255.0


def test_decision_boundary_separates_a_separable_set_by_numbers_and_by_colour(tmp_path):
    X, y = separable()
    fig = P.plot_decision_boundary(diagonal_rule, X, y, tmp_path / "b.png", title="diagonal")
    assert_png(tmp_path / "b.png")
    grid = fig.boundary_grid
    assert grid.label_at(-1.8, -1.8) == 0 and grid.label_at(1.8, 1.8) == 1
    assert grid.label_at(-1.8, 1.0) == 0 and grid.label_at(1.0, -0.5) == 1
    ax, = fig.axes
    assert ax.get_title() == "diagonal" and ax.boundary_grid is grid
    # the colour actually drawn: Spectral's first colour for class 0, its last for class 1, lightly
    # (alpha 0.35 over white, so the points on top stand out)
    assert P.FILL_ALPHA <= 0.4
    spectral = matplotlib.colormaps["Spectral"]
    ax.get_legend().remove()                                  # it may sit over a corner we look at
    for (px, py), c in (((-1.9, -1.9), 0.0), ((1.9, 1.9), 1.0)):
        expected = P.FILL_ALPHA * np.array(spectral(c)[:3]) + (1 - P.FILL_ALPHA) * np.ones(3)
        np.testing.assert_allclose(pixel_rgb(fig, ax, px, py), expected, atol=0.03)
        assert pixel_rgb(fig, ax, px, py).min() > 0.55                        # a light fill
    # the data are scattered on top, coloured by label
    scatter, = ax.collections[-1:]
    np.testing.assert_array_equal(scatter.get_offsets(), X)


def test_held_out_points_are_marked_as_triangles():
    X, y = separable()
    held = np.zeros(len(X), dtype=bool)
    held[[0, 5, 25, 39]] = True
    for given in (held, np.flatnonzero(held)):                 # a mask or row indices
        fig = P.plot_decision_boundary(diagonal_rule, X, y, held_out=given, h=0.05)
        ax, = fig.axes
        trained, marked = ax.collections[-2:]
        np.testing.assert_array_equal(trained.get_offsets(), X[~held])
        np.testing.assert_array_equal(marked.get_offsets(), X[held])
        assert marked.get_sizes()[0] > trained.get_sizes()[0]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "held out (4)"]
        plt.close(fig)
    fig = P.plot_decision_boundary(diagonal_rule, X, y, h=0.05)           # no held_out: no such entry
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["class 0", "class 1"]
    with pytest.raises(ShapeError, match="held_out"):
        P.plot_decision_boundary(diagonal_rule, X, y, held_out=held[:5])
    with pytest.raises(ArgumentError, match="held_out"):
        P.plot_decision_boundary(diagonal_rule, X, y, held_out=[0, 40])


def test_few_points_are_drawn_big_enough_to_see():
    """XOR's four corners must be visible on top of the regions, not four specks."""
    X, y = nn.data.make_xor()
    fig = P.plot_decision_boundary(lambda pts: ((pts[:, 0] > 0.5) ^ (pts[:, 1] > 0.5)).astype(int), X, y)
    points = fig.axes[0].collections[-1]
    assert len(points.get_offsets()) == 4 and points.get_sizes()[0] >= 80
    X, y = nn.data.make_moons(200, noise=0.2, seed=0)
    many = P.plot_decision_boundary(diagonal_rule, X, y).axes[0].collections[-1]
    assert many.get_sizes()[0] < points.get_sizes()[0]


def test_decision_boundary_of_a_trained_nn_model(tmp_path):
    X, y = separable()
    model = nn.Sequential(nn.Linear(2, 2, rng=0))
    nn.fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.5), (X, y), epochs=50,
           progress=False)
    fig = P.plot_decision_boundary(model, X, y, tmp_path / "nn.svg", h=0.02)
    assert_svg(tmp_path / "nn.svg")
    grid = fig.boundary_grid
    assert grid.label_at(-1.5, -1.5) == 0 and grid.label_at(1.5, 1.5) == 1
    # the grid labels are the argmax of the network's own logits at the grid points
    W, b = model[0].weight.numpy(), model[0].bias.numpy()
    logits = np.c_[grid.xx.ravel(), grid.yy.ravel()] @ W + b
    np.testing.assert_array_equal(grid.labels.ravel(), logits.argmax(axis=1))


def test_decision_boundary_into_given_axes_and_non_integer_labels():
    X, y = separable()
    fig, (left, right) = plt.subplots(1, 2)
    got = P.plot_decision_boundary(lambda pts: diagonal_rule(pts) * 5 + 2, X, y * 5 + 2, ax=right, h=0.05)
    assert got is fig and len(fig.axes) == 2
    assert not left.collections and right.boundary_grid.label_at(1.5, 1.5) == 7
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["class 2", "class 7"]


def test_decision_boundary_bad_input():
    X, y = separable()
    with pytest.raises(ShapeError, match=r"\(N, 2\).*\(40, 3\)"):
        P.plot_decision_boundary(diagonal_rule, np.c_[X, X[:, :1]], y)
    with pytest.raises(ShapeError, match=r"\(N, 2\)"):
        P.plot_decision_boundary(diagonal_rule, X[:, 0], y)
    with pytest.raises(LabelError, match=r"one label per row.*\(40,\)"):
        P.plot_decision_boundary(diagonal_rule, X, y[:10])
    with pytest.raises(ArgumentError, match="predict"):
        P.plot_decision_boundary(object(), X, y)
    with pytest.raises(ShapeError, match="one class label per point"):
        P.plot_decision_boundary(lambda pts: np.zeros((len(pts), 3)), X, y)
    with pytest.raises(ArgumentError, match="h must be a positive number"):
        P.plot_decision_boundary(diagonal_rule, X, y, h=0)
    with pytest.raises(ArgumentError, match="larger h"):
        P.plot_decision_boundary(diagonal_rule, X * 1000, y, h=0.01)
    with pytest.raises(ArgumentError, match="span no area"):
        P.plot_decision_boundary(diagonal_rule, np.zeros((3, 2)), [0, 1, 0], padding=0)
    with pytest.raises(ArgumentError, match="matplotlib axes"):
        P.plot_decision_boundary(diagonal_rule, X, y, ax="left")


def test_boundary_grid_one_subplot_per_model(tmp_path):
    X, y = nn.data.make_moons(100, noise=0.2, seed=0)
    sizes = [1, 2, 3, 4, 5, 20, 50]
    models = [nn.MLP([2, k, 2], rng=k) for k in sizes]
    fig = P.plot_boundary_grid(models, X, y, path=tmp_path / "grid.png", ncols=2, h=0.05)
    assert_png(tmp_path / "grid.png")
    assert len(fig.axes) == 7                                   # the eighth cell of the 4 × 2 grid is removed
    assert [ax.get_title() for ax in fig.axes] == [f"hidden layer size {k}" for k in sizes]
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (4, 2)
    for ax, model in zip(fig.axes, models):
        grid = ax.boundary_grid
        points = np.c_[grid.xx.ravel(), grid.yy.ravel()]
        np.testing.assert_array_equal(grid.labels.ravel(), model.predict(points))
    assert fig.boundary_grids == [ax.boundary_grid for ax in fig.axes]


def test_boundary_grid_titles_from_a_dict_and_bad_input(tmp_path):
    X, y = separable()
    rules = {"diagonal": diagonal_rule, "vertical": lambda p: (p[:, 0] > 0).astype(int)}
    fig = P.plot_boundary_grid(rules, X, y, path=tmp_path / "g.svg", ncols=3, h=0.05)
    assert_svg(tmp_path / "g.svg")
    assert [ax.get_title() for ax in fig.axes] == ["diagonal", "vertical"]
    assert fig.axes[1].boundary_grid.label_at(0.2, -1.5) == 1                 # right of x1 = 0
    with pytest.raises(ArgumentError, match="one title per model"):
        P.plot_boundary_grid([diagonal_rule], X, y, titles=["a", "b"])
    with pytest.raises(ArgumentError, match="no models"):
        P.plot_boundary_grid([], X, y)
    with pytest.raises(ArgumentError, match="ncols"):
        P.plot_boundary_grid([diagonal_rule], X, y, ncols=0)
    with pytest.raises(ShapeError, match=r"\(N, 2\)"):
        P.plot_boundary_grid([diagonal_rule], X[:, :1], y)


# ---------------------------------------------------------------------------------------------------
# save_figure

def test_save_figure_formats_atomic_and_reproducible(tmp_path):
    fig = P.plot_curves({"a": [1, 2, 3]})
    assert P.save_figure(fig, tmp_path / "a.pdf") == str(tmp_path / "a.pdf")
    assert open(tmp_path / "a.pdf", "rb").read(5) == b"%PDF-"
    P.save_figure(fig, tmp_path / "a.svg")
    first = open(tmp_path / "a.svg", "rb").read()
    P.save_figure(fig, tmp_path / "a.svg")                    # overwritten in place, same bytes
    assert open(tmp_path / "a.svg", "rb").read() == first
    assert sorted(os.listdir(tmp_path)) == ["a.pdf", "a.svg"]   # no temporary files left behind
    with pytest.raises(ArgumentError, match=r"\.png, \.svg or \.pdf"):
        P.save_figure(fig, tmp_path / "a.jpg")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        P.save_figure(fig, tmp_path / "missing" / "a.png")
    with pytest.raises(ArgumentError, match="matplotlib Figure"):
        P.save_figure("figure", tmp_path / "b.png")
    assert sorted(os.listdir(tmp_path)) == ["a.pdf", "a.svg"]


def test_a_failed_save_keeps_the_old_file(tmp_path):
    path = tmp_path / "keep.png"
    P.save_figure(P.plot_curves({"a": [1, 2]}), path)
    before = path.read_bytes()

    class Broken:
        def savefig(self, f, **kw):
            f.write(b"half an image")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        P.save_figure(Broken(), path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["keep.png"]


def test_matplotlib_is_imported_lazily_and_agg_is_chosen_without_a_display():
    code = ("import sys, nn, nn.plot\n"
            "assert 'matplotlib' not in sys.modules, 'importing nn.plot imported matplotlib'\n"
            "nn.plot.plot_curves({'a': [1, 2]})\n"
            "import matplotlib; print(matplotlib.get_backend())\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().lower() == "agg"
