"""The `tinygrad-edu` command line, end to end in temporary folders, including every error path.

Commands run in-process through nn.cli.main(argv) (fast); one subprocess proves the entry point
works. Expected numbers come from the documents (the printed losses of document 000) or are
recomputed here independently (accuracies from the saved model, the reference implementation).
"""
import csv
import html
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

import nn
import nn.reference as R
from nn import checks, cli
from nn.train import History
from tinygrad_edu import Function, Tensor, selfcheck

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SPEC = {"layers": [{"type": "Linear", "in": 2, "out": 3}, {"type": "Tanh"},
                   {"type": "Linear", "in": 3, "out": 2}],
        "optimizer": {"type": "SGD", "lr": 0.5}, "training": {"epochs": 30}}


@pytest.fixture(autouse=True)
def work_in_tmp(tmp_path, monkeypatch):
    """Every command runs in its own empty folder (default output folders land there)."""
    monkeypatch.chdir(tmp_path)
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def write_spec(tmp_path, spec=SPEC, name="model.json"):
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return str(path)


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    assert lines[0].startswith("tinygrad-edu") and "error:" in lines[0]
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"


def assert_png(path):
    data = open(path, "rb").read()
    assert data[:8] == PNG_MAGIC and len(data) > 1000


def assert_svg(path):
    text = open(path, encoding="utf-8").read()
    assert text.lstrip().startswith(("<?xml", "<svg")) and "</svg>" in text


def without_dot(monkeypatch, tmp_path):
    """Simulate a machine without Graphviz: an empty PATH."""
    empty = tmp_path / "empty-path"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


# ---------------------------------------------------------------------------------------------------
# demo

def test_demo_prints_the_documents_losses_and_writes_its_pictures(capsys, tmp_path, graphviz_dot):
    code, out, err = run(capsys, "demo", "--iterations", 1001)
    assert code == 0, err
    losses = [line for line in out.splitlines() if line.startswith("Loss after iteration")]
    # the numbers document 000 prints for its first two rows
    assert losses == ["Loss after iteration 0: 0.432387", "Loss after iteration 1000: 0.068947"]
    folder = tmp_path / "tinygrad-edu-demo"
    assert out.strip().splitlines()[-1].endswith(str(folder))
    assert_png(folder / "loss.png")
    assert_png(folder / "decision_boundary.png")
    assert_svg(folder / "graph.svg")
    svg = html.unescape((folder / "graph.svg").read_text(encoding="utf-8"))
    for text in ("0: Linear(2→3)", "1: Tanh", "2: Linear(3→2)", "#1 add", "softmax_cross_entropy",
                 "0.weight", "grad", "0.out", "1.out", "2.out", "labels array (200,) int64"):
        assert text in svg, text
    # trained with SGD's weight decay λ = 0.01: the drawing shows the L2 term that stands for, and the
    # weights get its gradient on a third path (0.weight feeds the linear op and both sides of W·W)
    assert "L2: ½λ (‖W1‖² + ‖W2‖²), λ = 0.01" in svg and "L2.out" in svg
    assert svg.count("Σ of 3 paths") == 2
    assert not (folder / "graph.dot").exists()
    # the accuracy it reports is the reference implementation's after the same 1001 passes
    X, y = R.moons_data()
    params, _ = R.moons_train(X, y, 3, num_passes=1001)
    expected = np.mean(R.moons_predict(params, X) == y)
    assert f"training accuracy {100 * expected:.1f}%" in out
    assert err == ""                                          # no progress bar: stderr is not a terminal


def test_demo_without_graphviz_writes_dot_text_and_a_hint(capsys, tmp_path, monkeypatch):
    without_dot(monkeypatch, tmp_path)
    code, out, err = run(capsys, "demo", "--iterations", 1, "--hidden", 2, "--out", tmp_path / "d")
    assert code == 0, err
    assert "Loss after iteration 0:" in out
    dot = (tmp_path / "d" / "graph.dot").read_text(encoding="utf-8")
    assert dot.startswith("digraph G {") and "cluster" in dot and "0.weight" in dot
    assert not (tmp_path / "d" / "graph.svg").exists()
    # the drawn loss is what the document prints, times N = 200: summed cross-entropy + its L2 term
    printed = float(out.split("Loss after iteration 0: ")[1].split()[0])
    drawn = float(re.search(r"loss · output\\n\(\) float64 \| data ([0-9.]+)", dot).group(1))
    assert drawn == pytest.approx(200 * printed, rel=1e-3)
    assert "L2.out" in dot and "labels array (200,) int64" in dot
    hints = [line for line in out.splitlines() if "Graphviz" in line]
    assert len(hints) == 1 and "graph.dot" in hints[0] and "apt-get install graphviz" in hints[0]
    assert_png(tmp_path / "d" / "loss.png")


def test_demo_no_graph_and_bad_arguments(capsys, tmp_path):
    code, out, err = run(capsys, "demo", "--iterations", 2, "--no-graph", "--out", tmp_path / "n")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path / "n")) == ["decision_boundary.png", "loss.png"]
    (tmp_path / "file").write_text("x")
    assert_one_line_error(*run(capsys, "demo", "--iterations", 1, "--out", tmp_path / "file")[::2], "is a file")
    code, _, err = run(capsys, "demo", "--iterations", 0)
    assert_one_line_error(code, err, "--iterations", "positive integer")
    code, _, err = run(capsys, "demo", "--hidden", "three")
    assert_one_line_error(code, err, "--hidden")


# ---------------------------------------------------------------------------------------------------
# train

def final_accuracies(out):
    line, = [line for line in out.splitlines() if line.startswith("Final accuracy")]
    train, evaluation = (float(part.split()[-1].rstrip("%")) / 100 for part in line.split(":")[1].split(","))
    return train, evaluation


def test_train_moons_end_to_end(capsys, tmp_path):
    spec = write_spec(tmp_path)
    code, out, err = run(capsys, "train", "--spec", spec, "--data", "moons", "--out", tmp_path / "run")
    assert code == 0, err
    folder = tmp_path / "run"
    assert sorted(os.listdir(folder)) == ["decision_boundary.png", "history.csv", "history.json", "loss.png",
                                          "model.npz"]
    assert_png(folder / "loss.png")
    assert_png(folder / "decision_boundary.png")
    history = json.loads((folder / "history.json").read_text())
    assert history["epoch"] == list(range(1, 31))
    h = History.load_json(folder / "history.json")
    train_acc, eval_acc = final_accuracies(out)
    assert round(h.train_acc[-1], 3) == round(train_acc, 3) and round(h.eval_acc[-1], 3) == round(eval_acc, 3)
    with open(folder / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30 and float(rows[-1]["eval_acc"]) == h.eval_acc[-1]
    # the saved model, run on all 200 points, gets the accuracy of 160 training + 40 evaluation points
    model = nn.load(folder / "model.npz")
    X, y = nn.data.make_moons(200, noise=0.2, seed=0)
    overall = np.mean(model.predict(X) == y)
    assert abs(overall - (160 * h.train_acc[-1] + 40 * h.eval_acc[-1]) / 200) < 1e-12
    assert overall > 0.8                                       # 30 epochs of lr 0.5 learn the moons
    stored = nn.read_spec(folder / "model.npz")
    assert stored["optimizer"]["lr"] == 0.5 and stored["training"]["epochs"] == 30
    assert out.strip().splitlines()[-1].endswith(str(folder))


def test_train_boundary_marks_the_held_out_points_and_its_title_is_true(capsys, tmp_path, monkeypatch):
    drawn = {}
    real = cli.plot_decision_boundary

    def spy(model, X, y, path=None, **kwargs):
        drawn.update(X=X, y=y, model=model, **kwargs)
        return real(model, X, y, path, **kwargs)
    monkeypatch.setattr(cli, "plot_decision_boundary", spy)
    code, out, err = run(capsys, "train", "--spec", write_spec(tmp_path), "--data", "moons", "--out", "o")
    assert code == 0, err
    held = np.zeros(200, dtype=bool)
    held[drawn["held_out"]] = True
    assert held.sum() == 40                                     # the 20% held out for evaluation
    # the title's two numbers are the accuracies on the circles (trained on) and the triangles
    predicted = drawn["model"](drawn["X"])
    train_acc, eval_acc = np.mean(predicted[~held] == drawn["y"][~held]), np.mean(predicted[held] == drawn["y"][held])
    assert drawn["title"] == f"model on moons: {100 * train_acc:.1f}% train, {100 * eval_acc:.1f}% held out (▲)"
    assert (train_acc, eval_acc) == pytest.approx(final_accuracies(out), abs=1e-3)


def test_train_xor_with_one_logit_and_overrides(capsys, tmp_path):
    spec = write_spec(tmp_path, {"layers": [{"type": "Linear", "in": 2, "out": 4}, {"type": "Tanh"},
                                            {"type": "Linear", "in": 4, "out": 1}],
                                 "loss": {"type": "BCEWithLogits"}})
    code, out, err = run(capsys, "train", "--spec", spec, "--data", "xor", "--optimizer", "adam", "--lr", 0.05,
                         "--epochs", 60, "--batch-size", 16, "--seed", 3, "--out", tmp_path / "xor")
    assert code == 0, err
    h = History.load_json(tmp_path / "xor" / "history.json")
    assert len(h) == 60 and h.train_acc[-1] >= 0.95 and h.eval_acc[-1] >= 0.95   # XOR is learned
    assert final_accuracies(out) == pytest.approx((h.train_acc[-1], h.eval_acc[-1]), abs=5e-4)
    stored = nn.read_spec(tmp_path / "xor" / "model.npz")
    assert stored["optimizer"] == {"type": "Adam", "lr": 0.05}
    assert stored["training"] == {"epochs": 60, "batch_size": 16, "seed": 3}
    assert stored["seed"] == 3
    # 60 epochs of mini-batches of 16 over 160 training points: 10 steps per epoch
    assert len(h.step_loss) == 600


def test_train_continues_a_saved_model_and_runs_spiral(capsys, tmp_path):
    spec = write_spec(tmp_path, {"layers": [{"type": "Linear", "in": 2, "out": 16}, {"type": "ReLU"},
                                            {"type": "Linear", "in": 16, "out": 3}],
                                 "optimizer": {"type": "SGD", "lr": 0.5, "momentum": 0.9}})
    code, out, err = run(capsys, "train", "--spec", spec, "--data", "spiral", "--epochs", 5, "--out", "a")
    assert code == 0, err
    first = nn.load(tmp_path / "a" / "model.npz")
    code, out, err = run(capsys, "train", "--spec", tmp_path / "a" / "model.npz", "--data", "spiral",
                         "--epochs", 2, "--out", "b")
    assert code == 0, err
    # the second run started from the first run's weights: its first epoch is better than a fresh start's
    h_a = History.load_json(tmp_path / "a" / "history.json")
    h_b = History.load_json(tmp_path / "b" / "history.json")
    assert h_b.step_loss[0] == pytest.approx(nn.SoftmaxCrossEntropy()(first(Tensor(
        np.asarray(spiral_train_points()[0]))), spiral_train_points()[1]).item(), rel=1e-12)
    assert h_b.step_loss[0] < h_a.step_loss[0]


def spiral_train_points():
    """The training part of the spiral data as the CLI splits it (seed 0: 80% by a seeded permutation)."""
    X, y = nn.data.make_spiral(100, 3, noise=0.2, seed=0)
    order = np.random.default_rng(0).permutation(len(X))
    return X[order[60:]], y[order[60:]]


def write_idx_mnist(folder, n=12):
    """A tiny MNIST-format folder: n images of 28×28 and their labels, written byte by byte."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    (folder / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + struct.pack(">III", n, 28, 28)
                                                     + images.tobytes())
    (folder / "train-labels-idx1-ubyte").write_bytes(b"\x00\x00\x08\x01" + struct.pack(">I", n)
                                                     + labels.tobytes())


def test_train_mnist_from_idx_files(capsys, tmp_path):
    write_idx_mnist(tmp_path / "mnist")
    spec = write_spec(tmp_path, {"layers": [{"type": "Linear", "in": 784, "out": 10}]})
    code, out, err = run(capsys, "train", "--spec", spec, "--data", f"mnist:{tmp_path / 'mnist'}",
                         "--epochs", 2, "--out", "m")
    assert code == 0, err
    assert "9 for training, 3 for evaluation" in out
    assert not (tmp_path / "m" / "decision_boundary.png").exists()      # 784-D data: no boundary plot
    assert len(History.load_json(tmp_path / "m" / "history.json")) == 2


def test_train_digits(capsys, tmp_path):
    spec = write_spec(tmp_path, {"layers": [{"type": "Linear", "in": 64, "out": 10}],
                                 "optimizer": {"type": "SGD", "lr": 0.5}})
    code, out, err = run(capsys, "train", "--spec", spec, "--data", "digits", "--epochs", 3, "--out", "d")
    assert code == 0, err
    assert "1437 for training, 360 for evaluation (64 features, 10 classes)" in out


def test_train_warns_once_about_a_softmax_before_softmax_cross_entropy(capsys, tmp_path):
    spec = write_spec(tmp_path, {**SPEC, "layers": SPEC["layers"] + [{"type": "Softmax"}]}, "soft.json")
    code, out, err = run(capsys, "train", "--spec", spec, "--data", "moons", "--epochs", 2, "--out", "s")
    assert code == 0 and "Final accuracy" in out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err                             # the spec and fit() agree: shown once
    assert lines[0].startswith("tinygrad-edu: warning: ") and "soft.json: layers[3]" in lines[0]
    assert "applied twice" in lines[0] and 'remove the last {"type": "Softmax"} layer' in lines[0]
    code, out, err = run(capsys, "train", "--spec", write_spec(tmp_path), "--data", "moons", "--epochs", 2,
                         "--out", "t")
    assert code == 0 and err == ""                          # a network ending in logits: no warning


def test_train_error_paths(capsys, tmp_path, monkeypatch):
    spec = write_spec(tmp_path)
    code, _, err = run(capsys, "train", "--spec", tmp_path / "missing.json", "--data", "moons")
    assert_one_line_error(code, err, "missing.json", "not found")
    (tmp_path / "broken.json").write_text('{"layers": [')
    code, _, err = run(capsys, "train", "--spec", tmp_path / "broken.json", "--data", "moons")
    assert_one_line_error(code, err, "broken.json", "invalid JSON")
    bad = {"layers": [{"type": "Linear", "in": 2, "out": 3}, {"type": "Tanhh"}]}
    code, _, err = run(capsys, "train", "--spec", write_spec(tmp_path, bad, "bad.json"), "--data", "moons")
    assert_one_line_error(code, err, "layers[1].type", "'Tanhh'", "did you mean 'Tanh'")
    code, _, err = run(capsys, "train", "--spec", tmp_path, "--data", "moons")
    assert_one_line_error(code, err, "is a folder")
    code, _, err = run(capsys, "train", "--spec", spec, "--data", "circles")
    assert_one_line_error(code, err, "--data", "unknown data set 'circles'", "moons")
    code, _, err = run(capsys, "train", "--spec", spec, "--data", f"mnist:{tmp_path / 'nowhere'}")
    assert_one_line_error(code, err, "nowhere", "does not exist")
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "train", "--spec", spec, "--data", f"mnist:{tmp_path / 'empty'}")
    assert_one_line_error(code, err, "train-images-idx3-ubyte")
    code, _, err = run(capsys, "train", "--spec", spec, "--data", "mnist:")
    assert_one_line_error(code, err, "mnist:DIR")
    code, _, err = run(capsys, "train", "--spec", spec, "--data", "moons", "--lr", -0.1)
    assert_one_line_error(code, err, "--lr", ">= 0")
    code, _, err = run(capsys, "train", "--spec", spec, "--data", "moons", "--lr", "nan")
    assert_one_line_error(code, err, "--lr")
    code, _, err = run(capsys, "train", "--spec", spec, "--data", "moons", "--optimizer", "rmsprop")
    assert_one_line_error(code, err, "--optimizer", "rmsprop")
    code, _, err = run(capsys, "train", "--spec", spec, "--data", "moons", "--batch-size", 0)
    assert_one_line_error(code, err, "--batch-size")
    code, _, err = run(capsys, "train", "--data", "moons")
    assert_one_line_error(code, err, "--spec")
    assert not (tmp_path / "tinygrad-edu-train").exists()          # nothing was written by any of them


def test_train_data_that_does_not_fit_the_network(capsys, tmp_path):
    three_inputs = {"layers": [{"type": "Linear", "in": 3, "out": 2}]}
    code, _, err = run(capsys, "train", "--spec", write_spec(tmp_path, three_inputs, "a.json"), "--data", "moons")
    assert_one_line_error(code, err, "3 input(s)", "2 features")
    code, _, err = run(capsys, "train", "--spec", write_spec(tmp_path), "--data", "spiral")
    assert_one_line_error(code, err, "2 output(s)", "3 classes", '"out": 3')
    mse_three = {"layers": [{"type": "Linear", "in": 2, "out": 3}], "loss": {"type": "MSE"}}
    code, _, err = run(capsys, "train", "--spec", write_spec(tmp_path, mse_three, "b.json"), "--data", "moons")
    assert_one_line_error(code, err, "MSE needs one output per class")


def test_train_bad_model_files(capsys, tmp_path):
    model = nn.MLP([2, 3, 2], rng=0)
    model.save(tmp_path / "good.npz")
    (tmp_path / "cut.npz").write_bytes((tmp_path / "good.npz").read_bytes()[:200])
    code, _, err = run(capsys, "train", "--spec", tmp_path / "cut.npz", "--data", "moons")
    assert_one_line_error(code, err, "cut.npz")
    nn.save_weights(model, tmp_path / "weights.npz")
    code, _, err = run(capsys, "train", "--spec", tmp_path / "weights.npz", "--data", "moons")
    assert_one_line_error(code, err, "weights only")


def test_digits_need_no_scikit_learn(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    spec = write_spec(tmp_path, {"layers": [{"type": "Linear", "in": 64, "out": 10}],
                                 "optimizer": {"type": "SGD", "lr": 0.5}})
    code, out, err = run(capsys, "train", "--spec", spec, "--data", "digits", "--epochs", 2, "--out", "d")
    assert code == 0, err
    assert "1437 for training, 360 for evaluation (64 features, 10 classes)" in out


# ---------------------------------------------------------------------------------------------------
# graph

def test_graph_svg_png_and_dot(capsys, tmp_path, graphviz_dot):
    spec = write_spec(tmp_path)
    code, out, err = run(capsys, "graph", "--spec", spec)                     # default: ./graph.svg
    assert code == 0, err
    assert_svg(tmp_path / "graph.svg")
    # a 2-3-2 tanh net with softmax cross-entropy is four ops: linear, tanh, linear, the loss
    assert "4 ops" in out and "17 parameters" in out
    code, out, err = run(capsys, "graph", "--spec", spec, "--format", "png", "--out", "g.png", "--batch", 3)
    assert code == 0, err
    assert_png(tmp_path / "g.png")
    code, out, err = run(capsys, "graph", "--spec", spec, "--format", "dot", "--out", "g.dot", "--text")
    assert code == 0, err
    dot = (tmp_path / "g.dot").read_text(encoding="utf-8")
    assert dot.startswith("digraph G {")
    for text in ("#1 softmax_cross_entropy", "#2 linear", "#3 tanh", "#4 linear", "0.weight", "2.bias",
                 "cluster", "0: Linear(2→3)", "x · input", "(4, 2) float64"):
        assert text in dot, text
    assert "#5" not in dot
    assert "= tanh(" in out and "0.weight · parameter" in out                 # --text: the tree
    code, out, err = run(capsys, "graph", "--spec", spec, "--out", "inferred.dot")   # format from the suffix
    assert code == 0 and (tmp_path / "inferred.dot").read_text().startswith("digraph")


def test_graph_compiled_prints_the_generated_training_step(capsys, tmp_path):
    spec = write_spec(tmp_path)
    code, out, err = run(capsys, "graph", "--spec", spec, "--compiled")
    assert code == 0, err
    for text in ("# forward", "# backward", "# update", "np.tanh(", "softmax(", "W2.T", "dW0",
                 "lr = next_learning_rate()", "W0 += -lr * dW0", "# tanh: 1 − y²"):
        assert text in out, f"{text!r} not in:\n{out}"
    compile(out, "<generated>", "exec")                      # it is valid Python
    assert not (tmp_path / "graph.svg").exists()


def test_graph_of_a_saved_model_with_a_single_logit(capsys, tmp_path):
    model = nn.MLP([3, 2, 1], activation="sigmoid", rng=1)
    spec = {**model.to_spec(), "loss": {"type": "BCEWithLogits"}}
    model.save(tmp_path / "m.npz", spec=spec)
    code, out, err = run(capsys, "graph", "--spec", tmp_path / "m.npz", "--format", "dot", "--out", "m.dot")
    assert code == 0, err
    dot = (tmp_path / "m.dot").read_text(encoding="utf-8")
    assert "binary_cross_entropy_with_logits" in dot and "sigmoid" in dot and "(4, 3) float64" in dot


def test_graph_error_paths(capsys, tmp_path, monkeypatch):
    spec = write_spec(tmp_path)
    code, _, err = run(capsys, "graph", "--spec", "nothing.json", "--format", "dot")
    assert_one_line_error(code, err, "nothing.json")
    code, _, err = run(capsys, "graph", "--spec", spec, "--format", "jpg")
    assert_one_line_error(code, err, "--format", "jpg")
    code, _, err = run(capsys, "graph", "--spec", spec, "--format", "svg", "--out", "g.png")
    assert_one_line_error(code, err, "g.png", ".svg")
    code, _, err = run(capsys, "graph", "--spec", spec, "--batch", -2)
    assert_one_line_error(code, err, "--batch")
    without_dot(monkeypatch, tmp_path)
    code, _, err = run(capsys, "graph", "--spec", spec, "--format", "svg")
    assert_one_line_error(code, err, "Graphviz", "apt-get install graphviz", "--format dot")
    assert not (tmp_path / "graph.svg").exists()
    code, out, err = run(capsys, "graph", "--spec", spec, "--format", "dot")     # needs no Graphviz
    assert code == 0 and (tmp_path / "graph.dot").exists()


# ---------------------------------------------------------------------------------------------------
# check

def test_check_prints_the_table_and_passes(capsys):
    code, out, err = run(capsys, "check")
    assert code == 0, out
    rows = [line for line in out.splitlines() if line.rstrip().endswith(("OK", "FAIL"))]
    assert len(rows) == len(selfcheck.CASES) + len(checks.CHECKS)
    assert all(row.rstrip().endswith("OK") for row in rows)
    for name in ("matmul batched", "softmax_cross_entropy probability rows", "getitem repeated indices",
                 "2nd order: softmax_cross_entropy", "moons gradients incl. L2", "XOR gradients"):
        assert any(name in row for row in rows), name
    assert f"All {len(rows)} checks passed" in out
    code, out, _ = run(capsys, "check", "--quick")
    assert code == 0 and "2nd order" not in out


class TimesTwoWrong(Function):
    """2x with a backward that is off by 0.5%: the kind of bug gradcheck exists to catch."""

    def forward(self, x):
        return 2 * x

    def backward(self, g, x, out):
        return g * 2.01


def test_check_fails_with_exit_code_1_on_a_wrong_gradient(capsys, monkeypatch):
    broken = selfcheck.OpCase("times two, wrong backward", TimesTwoWrong.apply, ((3,),))
    monkeypatch.setattr(selfcheck, "CASES", selfcheck.CASES[:2] + [broken])
    code, out, _ = run(capsys, "check", "--quick")
    assert code == 1
    row, = [line for line in out.splitlines() if "times two, wrong backward" in line and line.endswith("FAIL")]
    assert "1 of" in out and "FAILED" in out and "autodiff" in out          # the details name both values


def test_check_fails_when_a_document_formula_disagrees(capsys, monkeypatch):
    def wrong_moons_gradients(*args, **kwargs):
        grads = R.moons_gradients(*args, **kwargs)
        return {**grads, "W2": grads["W2"] * 1.001}

    def crashing():
        raise ValueError("shapes (2,3) and (4,) not aligned")

    monkeypatch.setattr(selfcheck, "CASES", selfcheck.CASES[:1])
    monkeypatch.setattr(checks.R, "moons_gradients", wrong_moons_gradients)
    monkeypatch.setattr(checks, "CHECKS", checks.CHECKS[:1] + [("a crashing check", "000 moons", crashing)])
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert "2 of 3 checks FAILED" in out
    assert "ValueError: shapes (2,3) and (4,) not aligned" in out


# ---------------------------------------------------------------------------------------------------
# tinygrad_edu.selfcheck and nn.checks as libraries

def test_selfcheck_catches_a_wrong_backward_and_a_crash():
    bad = selfcheck.run_case(selfcheck.OpCase("wrong", TimesTwoWrong.apply, ((2, 2),)))
    assert not bad.ok and bad.elements == 4 and bad.max_error > 1e-3
    # gradcheck compares vector-Jacobian products: every element is off by the backward's factor 2.01 / 2
    words = bad.error.replace(",", "").split()
    autodiff, numeric = float(words[words.index("autodiff") + 1]), float(words[words.index("numerical") + 1])
    assert autodiff / numeric == pytest.approx(1.005, abs=1e-6)
    crash = selfcheck.run_case(selfcheck.OpCase("crash", lambda a, b: a @ b, ((2, 3), (2, 3))))
    assert not crash.ok and "ShapeError" in crash.error and "matmul" in crash.error


def test_selfcheck_exercises_every_primitive_op_class():
    """Each op class of ops.py appears in the graph of some case (ScatterAdd, the backward of
    indexing, appears only when a backward is recorded: the second-order getitem case)."""
    from tinygrad_edu import ops, toposort
    seen = set()
    for case in selfcheck.CASES:
        inputs = selfcheck.make_inputs(case)
        out = case.fn(*inputs)
        seen.update(type(t.grad_fn) for t in toposort([out]))
        if case.second_order:
            wrt = [x for x in inputs if isinstance(x, Tensor)]
            grads = __import__("tinygrad_edu").grad(out.sum(), wrt, create_graph=True)
            for g in grads:
                seen.update(type(t.grad_fn) for t in toposort([g]) if t.grad_fn is not None)
    primitives = {cls for cls in vars(ops).values()        # (ops without a gradient are never in a graph)
                  if isinstance(cls, type) and issubclass(cls, Function) and cls is not Function
                  and cls.differentiable}
    assert primitives - seen == set(), f"op classes no selfcheck case uses: {primitives - seen}"


def test_selfcheck_inputs_follow_their_domains():
    case = next(c for c in selfcheck.CASES if c.name == "softmax_cross_entropy labels, mean")
    logits, labels = selfcheck.make_inputs(case)
    assert isinstance(logits, Tensor) and logits.requires_grad and logits.dtype == np.float64
    assert isinstance(labels, np.ndarray) and labels.dtype.kind == "i" and labels.max() < 3
    log_case = next(c for c in selfcheck.CASES if c.name == "log")
    x, = selfcheck.make_inputs(log_case)
    assert (x.numpy() >= 0.5).all()
    again, = selfcheck.make_inputs(log_case)                     # the same seed gives the same inputs
    np.testing.assert_array_equal(x.numpy(), again.numpy())


def test_selfcheck_is_engine_only():
    """tinygrad_edu.selfcheck belongs to the engine: it imports numpy, the standard library and the
    engine's own modules, never nn."""
    import ast
    tree = ast.parse(open(selfcheck.__file__, encoding="utf-8").read())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0}
    assert imported <= {"zlib", "dataclasses", "typing", "numpy"}, imported
    assert all(node.level == 1 for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level)


def test_nn_checks_rows():
    rows = checks.run()
    assert [(r.name, r.document) for r in rows] == [(name, doc) for name, doc, _ in checks.CHECKS]
    assert {r.document.split()[0] for r in rows} == {"000", "001", "002", "003", "004"}
    assert all(r.ok and 0 <= r.max_abs_diff <= checks.TOLERANCE for r in rows), rows


# ---------------------------------------------------------------------------------------------------
# help, progress bar, entry point

@pytest.mark.parametrize("command", ["demo", "train", "graph", "check"])
def test_help_on_each_command(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and out.startswith(f"usage: tinygrad-edu {command}")


def test_main_help_version_and_no_command(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and all(c in out for c in ("demo", "train", "graph", "check"))
    code, out, _ = run(capsys)
    assert code == 0 and out.startswith("usage: tinygrad-edu")
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"tinygrad-edu {__import__('tinygrad_edu').__version__}"
    code, _, err = run(capsys, "fly")
    assert_one_line_error(code, err, "fly")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_is_tqdm_and_draws_on_a_terminal_only():
    tqdm = pytest.importorskip("tqdm")
    term = FakeTerminal()
    bar = cli.progress_bar(10, "training", stream=term)
    assert isinstance(bar, tqdm.tqdm) and not bar.disable
    bar.set_postfix_str("loss 0.5", refresh=False)
    bar.update(10)
    bar.refresh()
    assert "training" in term.getvalue() and "10/10" in term.getvalue() and "loss 0.5" in term.getvalue()
    bar.close()
    assert term.getvalue().endswith("\r")                          # leave=False: the bar is erased
    piped = io.StringIO()
    quiet = cli.progress_bar(10, "training", stream=piped)
    quiet.update(10)
    quiet.close()
    assert quiet.disable and piped.getvalue() == ""


def test_train_on_a_terminal_shows_tqdm_progress_and_keeps_stdout_clean(capsys, tmp_path, monkeypatch):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    spec = write_spec(tmp_path)
    code = cli.main(["train", "--spec", spec, "--data", "moons", "--epochs", "20", "--out", "o"])
    out = capsys.readouterr().out
    assert code == 0
    assert "training:" in term.getvalue() and "/20 [" in term.getvalue()    # tqdm's bar, on stderr
    assert term.getvalue().endswith("\r")                                  # and erased at the end
    assert "training:" not in out and "\r" not in out                      # stdout: only the report
    assert "epoch 20/20" in out and "Final accuracy" in out


def test_the_entry_point_runs_as_a_program():
    result = subprocess.run([sys.executable, "-m", "nn.cli", "--help"], cwd=REPO, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: tinygrad-edu") and "check" in result.stdout
