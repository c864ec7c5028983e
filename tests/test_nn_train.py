"""fit(), History, accuracy and the progress bar: training lowers the loss and reaches high
accuracy on moons and XOR with a fixed seed; histories export to JSON/CSV."""
import csv
import io
import json
import math
import sys

import numpy as np
import pytest

import nn
from tinygrad_edu import ArgumentError, ShapeError, Tensor


def moons(n, noise, seed):
    """Two interleaving half circles (as sklearn's make_moons), generated here with NumPy."""
    rng = np.random.default_rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    t_outer = np.linspace(0, np.pi, n_outer)
    t_inner = np.linspace(0, np.pi, n_inner)
    X = np.r_[np.c_[np.cos(t_outer), np.sin(t_outer)], np.c_[1 - np.cos(t_inner), 0.5 - np.sin(t_inner)]]
    X += rng.normal(scale=noise, size=X.shape)
    y = np.r_[np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)]
    return X, y


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=np.float64)


def test_moons_full_batch_reaches_high_accuracy():
    X, y = moons(400, 0.2, seed=0)
    X_test, y_test = moons(200, 0.2, seed=1)
    model = nn.MLP([2, 8, 2], rng=0)
    opt = nn.SGD(model.parameters(), lr=0.5, momentum=0.9)
    history = nn.fit(model, nn.SoftmaxCrossEntropy(), opt, (X, y), epochs=300, eval_data=(X_test, y_test))
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.train_acc[-1] >= 0.95 and history.eval_acc[-1] >= 0.95
    assert (model.predict(X_test) == y_test).mean() == pytest.approx(history.eval_acc[-1])


def test_moons_mini_batches_with_adam_and_the_issue_example():
    X, y = moons(400, 0.2, seed=2)
    model = nn.from_spec({"layers": [{"type": "Linear", "in": 2, "out": 8}, {"type": "Tanh"},
                                     {"type": "Linear", "in": 8, "out": 2}]}, seed=0)
    opt = nn.Adam(model.parameters(), lr=0.02)
    history = nn.fit(model, nn.SoftmaxCrossEntropy(), opt, (X, y), epochs=60, batch_size=32, seed=0)
    assert history.train_acc[-1] >= 0.95
    assert len(history.step_loss) == 60 * math.ceil(400 / 32)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]


def test_xor_is_learned():
    model = nn.MLP([2, 4, 1], activation="tanh", rng=0)
    history = nn.fit(model, nn.BCEWithLogits(), nn.SGD(model.parameters(), lr=0.5, momentum=0.9),
                     (XOR_X, XOR_Y), epochs=300)
    assert history.train_acc[-1] == 1.0 and history.train_loss[-1] < 0.05
    np.testing.assert_array_equal(model.predict(XOR_X), [0, 1, 1, 0])


def test_fit_is_reproducible_with_a_seed():
    X, y = moons(64, 0.2, seed=3)
    runs = []
    for _ in range(2):
        model = nn.MLP([2, 4, 2], rng=1)
        h = nn.fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=3,
                   batch_size=10, seed=5)
        runs.append((h.step_loss, model[0].weight.data.copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


@pytest.mark.parametrize("compiled", [False, True])
def test_one_epoch_of_mini_batches_equals_a_hand_written_loop(compiled):
    """fit runs exactly the hand-written loop: eagerly bit for bit; compiled (te.compile, whose
    kernels may round differently, e.g. BLAS row sums) to 1e-12."""
    X, y = moons(50, 0.2, seed=4)
    a, b = nn.MLP([2, 3, 2], rng=2), nn.MLP([2, 3, 2], rng=2)
    nn.fit(a, nn.SoftmaxCrossEntropy(), nn.SGD(a.parameters(), lr=0.3), (X, y), epochs=2, batch_size=16,
           seed=7, metrics=None, compile=compiled)
    opt = nn.SGD(b.parameters(), lr=0.3)
    rng = np.random.default_rng(7)
    for _ in range(2):
        order = rng.permutation(50)
        for start in range(0, 50, 16):                          # the last batch has 2 examples
            idx = order[start:start + 16]
            loss = nn.SoftmaxCrossEntropy()(b(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        if compiled:
            np.testing.assert_allclose(pa.data, pb.data, rtol=1e-12, atol=1e-14)
        else:
            np.testing.assert_array_equal(pa.data, pb.data)


def test_history_monitors_like_network2():
    X, y = moons(40, 0.2, seed=5)
    model = nn.MLP([2, 3, 2], rng=0)
    loss_fn = nn.SoftmaxCrossEntropy()
    seen = []
    history = nn.fit(model, loss_fn, nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=3,
                     eval_data=(X[:10], y[:10]), metrics=("loss", "accuracy", lambda out, t: float(len(t))),
                     callback=lambda epoch, h: seen.append((epoch, len(h.train_loss))))
    assert history.epoch == [1, 2, 3] and len(history) == 3
    assert seen == [(1, 1), (2, 2), (3, 3)]
    # after the last epoch: whole-set loss and accuracy of the final weights
    out = model(X)
    assert history.train_loss[-1] == pytest.approx(loss_fn(out, y).item(), rel=1e-14)
    assert history.train_acc[-1] == np.mean(out.data.argmax(axis=1) == y)
    assert history.eval_loss[-1] == pytest.approx(loss_fn(model(X[:10]), y[:10]).item(), rel=1e-14)
    assert history.extra == {"train_<lambda>": [40.0] * 3, "eval_<lambda>": [10.0] * 3}
    assert model.training                                   # the mode is restored
    regression = nn.fit(model, nn.MSE(), nn.SGD(model.parameters(), lr=0.01), (X, np.eye(2)[y]), epochs=2,
                        metrics=("loss",))
    assert regression.train_acc == [] and len(regression.train_loss) == 2


def test_history_export_round_trips(tmp_path):
    h = nn.History(epoch=[1, 2], train_loss=[0.5, 0.25], train_acc=[0.5, 0.75], eval_loss=[0.6, float("nan")],
                   eval_acc=[], step_loss=[1.0, 0.5, 0.25], extra={"train_f1": [0.1, 0.2]})
    d = h.to_dict()
    assert d["eval_loss"] == [0.6, None]                    # NaN is not JSON: stored as null
    h.save_json(tmp_path / "h.json")
    back = nn.History.load_json(tmp_path / "h.json")
    assert back.train_loss == [0.5, 0.25] and math.isnan(back.eval_loss[1]) and back.extra == {"train_f1": [0.1, 0.2]}
    json.loads((tmp_path / "h.json").read_text())          # strict JSON
    h.save_csv(tmp_path / "h.csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "h.csv").read_text())))
    assert rows[0] == ["epoch", "train_loss", "train_acc", "eval_loss", "train_f1"]
    assert rows[1] == ["1", "0.5", "0.5", "0.6", "0.1"] and rows[2][3] == "nan"
    assert "2 epochs" in repr(h)
    with pytest.raises(ArgumentError, match="unknown field"):
        nn.History.from_dict({"train_los": []})
    with pytest.raises(ArgumentError, match="not a number"):
        nn.History.from_dict({"train_loss": ["a"]})


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_terminals_and_long_runs(capsys, monkeypatch):
    X, y = moons(20, 0.2, seed=6)
    model = nn.MLP([2, 2, 2], rng=0)

    def run(**kwargs):
        nn.fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=3, **kwargs)

    run()
    assert capsys.readouterr() == ("", "")                  # pytest's stdout and stderr are not terminals
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", term)
    run()
    assert term.getvalue() == ""                            # a short run draws nothing (0.5 s delay)
    monkeypatch.setattr(nn.train, "PROGRESS_DELAY", 0.0)
    run()
    text = term.getvalue()                                  # tqdm's bar: epochs done and the last metrics
    assert "fit" in text and "3/3" in text and "epoch" in text and "loss 0." in text and "acc " in text
    term.truncate(0)
    term.seek(0)
    run(progress=False)
    assert term.getvalue() == ""
    assert capsys.readouterr() == ("", "")                  # nothing went to stdout


def test_fit_uses_tqdm_auto_so_notebooks_get_a_widget(monkeypatch):
    """fit asks tqdm.auto for its bar: in Jupyter that is tqdm's notebook widget, elsewhere text."""
    auto = pytest.importorskip("tqdm.auto")
    made = []

    class Recorder:
        def __init__(self, **kwargs):
            made.append(kwargs)
            self.n = 0

        def set_postfix_str(self, text, refresh=True):
            self.note = text

        def update(self, n=1):
            self.n += n

        def close(self):
            made.append(("closed", self.n, self.note))

    monkeypatch.setattr(auto, "tqdm", Recorder)
    X, y = moons(20, 0.2, seed=6)
    model = nn.MLP([2, 2, 2], rng=0)
    nn.fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=4)
    assert made[0]["total"] == 4 and made[0]["unit"] == "epoch" and made[0]["disable"] is None
    assert made[-1][:2] == ("closed", 4) and made[-1][2].startswith("loss ")


def test_fit_accepts_a_data_loader():
    class Loader:
        def __init__(self, X, y):
            self.X, self.y = X, y

        def __iter__(self):
            for i in range(0, len(self.X), 8):
                yield self.X[i:i + 8], self.y[i:i + 8]

    X, y = moons(32, 0.2, seed=7)
    a, b = nn.MLP([2, 3, 2], rng=0), nn.MLP([2, 3, 2], rng=0)
    ha = nn.fit(a, nn.SoftmaxCrossEntropy(), nn.SGD(a.parameters(), lr=0.1), Loader(X, y), epochs=2)
    nn.fit(b, nn.SoftmaxCrossEntropy(), nn.SGD(b.parameters(), lr=0.1), (X, y), epochs=2, batch_size=8, shuffle=False)
    np.testing.assert_array_equal(a[0].weight.data, b[0].weight.data)
    assert len(ha.train_acc) == 2 and len(ha.step_loss) == 8
    with pytest.raises(ArgumentError, match="batch_size must be None"):
        nn.fit(a, nn.SoftmaxCrossEntropy(), nn.SGD(a.parameters(), lr=0.1), Loader(X, y), epochs=1, batch_size=4)


def test_float32_models_train_in_float32():
    X, y = moons(40, 0.2, seed=8)
    model = nn.MLP([2, 3, 2], rng=0, dtype=np.float32)
    nn.fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=2)
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model(X.astype(np.float32)).dtype == np.float32


def test_fit_warns_about_a_softmax_before_softmax_cross_entropy():
    from nn.train import DoubleActivationWarning
    X, y = moons(20, 0.2, seed=9)
    model = nn.Sequential(nn.Linear(2, 2, rng=0), nn.Softmax())
    with pytest.warns(DoubleActivationWarning, match="remove the Softmax layer") as record:
        nn.fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), (X, y), epochs=1)
    assert len(record) == 1 and "applied twice" in str(record[0].message)
    assert record[0].filename == __file__                  # points at the caller's fit(...) line
    nested = nn.Sequential(nn.Sequential(nn.Linear(2, 1, rng=0), nn.Sigmoid()))
    with pytest.warns(DoubleActivationWarning, match="remove the Sigmoid layer"):
        nn.fit(nested, nn.BCEWithLogits(), nn.SGD(nested.parameters(), lr=0.1), (X, y[:, None] * 1.0), epochs=1)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": -1}, ArgumentError, "epochs"), ({"epochs": 1.5}, ArgumentError, "epochs"),
    ({"batch_size": 0}, ArgumentError, "batch_size"), ({"metrics": ("f1",)}, ArgumentError, "unknown metric"),
    ({"seed": -2}, ArgumentError, "seed"), ({"train_data": (np.ones((3, 2)), np.zeros(4))}, ShapeError, "3 rows in X but 4"),
    ({"train_data": np.ones((3, 2))}, ArgumentError, "pair"), ({"train_data": (np.ones((0, 2)), np.zeros(0))}, ArgumentError, "empty"),
    ({"eval_data": (np.ones((3, 2)), np.zeros(2))}, ShapeError, "eval_data"), ({"callback": 3}, ArgumentError, "callback"),
])
def test_fit_checks_its_arguments(kwargs, error, match):
    model = nn.MLP([2, 2], rng=0)
    args = {"train_data": (np.ones((4, 2)), np.zeros(4, np.int64)), "epochs": 1, **kwargs}
    with pytest.raises(error, match=match):
        nn.fit(model, nn.SoftmaxCrossEntropy(), nn.SGD(model.parameters(), lr=0.1), **args)


def test_fit_needs_a_scalar_loss():
    model = nn.MLP([2, 2], rng=0)
    with pytest.raises(ArgumentError, match="reduction='mean' or 'sum', not 'none'"):
        nn.fit(model, nn.SoftmaxCrossEntropy("none"), nn.SGD(model.parameters(), lr=0.1),
               (np.ones((4, 2)), np.zeros(4, np.int64)), epochs=1)
    with pytest.raises(ArgumentError, match="not a Tensor"):
        nn.fit(model, lambda out, y: 1.0, nn.SGD(model.parameters(), lr=0.1),
               (np.ones((4, 2)), np.zeros(4, np.int64)), epochs=1)


def test_accuracy():
    assert nn.accuracy(np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert nn.accuracy(Tensor([[2.0, 1.0]]), np.array([[1.0, 0.0]])) == 1.0                  # one-hot targets
    assert nn.accuracy(np.array([0.2, 0.7, 0.6]), np.array([0, 1, 0])) == pytest.approx(2 / 3)  # probabilities
    assert nn.accuracy(np.array([[-1.0], [0.5]]), np.array([[0.0], [1.0]]), threshold=0) == 1.0  # logits
    with pytest.raises(ShapeError):
        nn.accuracy(np.zeros((3, 2)), np.zeros(4, np.int64))
    with pytest.raises(ArgumentError):
        nn.accuracy(np.zeros((0, 2)), np.zeros(0, np.int64))
