"""The runnable examples (examples/*.py): each runs briefly in-process (`main(["--quick", "--out", tmp])`)
and the numbers it returns are checked against values computed independently - the documents' printed
tables, nn/reference.py (the hand-written NumPy backprop), scikit-learn - and its figures must exist.
"""
import importlib.util
import os
import sys

import numpy as np
import pytest

import nn
import nn.reference as R
from tinygrad_edu import Tensor, no_grad

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Every test of a long run's printed numbers also runs from the document's weights with one entry moved
# by one ulp (np.nextafter): CPUs round by about that much differently, so what holds from both starts
# holds on every machine (tests/test_reference.py tries more starts, at less cost). (layer, flat index, ±1)
ULP_NUDGES = [None, (0, 0, -1)]
ULP_IDS = ["as drawn", "W1[0,0] -1 ulp"]


def nudge_weight(model, nudge):
    """Move one weight of model[layer] by one ulp in place (nudge = (layer, flat index, ±1)); returns
    the model. None leaves it as it is."""
    if nudge is not None:
        layer, index, direction = nudge
        with no_grad():
            model[layer].weight.copy_(R.one_ulp(model[layer].weight.data, index, direction))
    return model


def load(name):
    """Import examples/<name>.py as a module (the examples folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_figures(paths, folder, count):
    assert len(paths) == count
    for path in paths:
        assert os.path.dirname(os.path.abspath(path)) == os.path.abspath(folder)
        with open(path, "rb") as f:
            head = f.read(8)
        assert head == PNG_MAGIC and os.path.getsize(path) > 5000, f"{path} is not a real PNG figure"


# ---------------------------------------------------------------------------------------------------
# 000: moons_3layer.py

@pytest.fixture(scope="module")
def moons_module():
    return load("moons_3layer")


@pytest.fixture(scope="module")
def moons_quick(moons_module, tmp_path_factory):
    out = tmp_path_factory.mktemp("moons")
    return moons_module.main(["--quick", "--out", str(out)]), out


def test_moons_prints_the_documents_first_rows(moons_quick):
    results, out = moons_quick
    # the document: "Loss after iteration 0: 0.432387", "Loss after iteration 1000: 0.068947"
    assert round(results["losses"][0], 6) == 0.432387
    assert round(results["losses"][1000], 6) == 0.068947
    assert results["matched_at"] == [0, 1000]
    assert results["net_accuracy"] == 0.975                         # the 2-3-2 network's training accuracy
    # the annealed exercise's table: 0.432387, 0.081007
    assert round(results["annealed_losses"][0], 6) == 0.432387
    assert round(results["annealed_losses"][1000], 6) == 0.081007
    # the same run from a start one ulp away: before the bursts (~1,140 passes) nothing moves
    assert results["parted_at"] is None
    assert round(results["nudged_losses"][1000], 6) == 0.068947
    # the H = 2 network, again from a start one ulp away: 100 quick passes are too few to part ways
    assert results["h2_parted_at"] is None and results["h2_nudged_accuracy"] == results["grid_accuracy"][2]
    assert_figures(results["figures"], out, 5)


def test_moons_grid_accuracies_are_the_hand_written_networks(moons_quick):
    """The accuracy printed for (and written on) each panel of the hidden-size grid is what the
    document's own code gives after the same 100 quick passes."""
    results, _ = moons_quick
    X, y = R.moons_data()
    for hidden, accuracy in results["grid_accuracy"].items():
        params, _ = R.moons_train(X, y, hidden, num_passes=100, print_every=0)
        assert accuracy == np.mean(R.moons_predict(params, X) == y), f"H = {hidden}"
    assert results["grid_accuracy"][1] == 0.865 and results["grid_accuracy"][3] == 0.955


def test_moons_sklearn_baseline_is_the_documents_logistic_regression_cv(moons_quick, moons_module):
    linear_model = pytest.importorskip("sklearn.linear_model")
    results, _ = moons_quick
    X, y = R.moons_data()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        clf = linear_model.LogisticRegressionCV(scoring="accuracy").fit(X, y)
    assert results["sklearn_accuracy"] == clf.score(X, y) == 0.85
    assert results["sklearn_accuracy"] > results["logistic_accuracy"] == 0.845


def test_moons_without_sklearn_says_what_to_install(moons_module, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sklearn.linear_model", None)       # import fails: not installed
    X, y = R.moons_data()
    clf = moons_module.sklearn_baseline(X, y)
    assert clf is None
    assert moons_module.report_sklearn_baseline(clf, X, y) is None
    assert "scikit-learn is not installed; pip install scikit-learn" in capsys.readouterr().out


@pytest.mark.parametrize("nudge", ULP_NUDGES, ids=ULP_IDS)
def test_moons_first_rows_hold_from_every_start(moons_module, nudge):
    """The rows the tests assert exactly (0 and 1000 of both tables) do not depend on rounding."""
    X, y = moons_module.document_data()
    plain = moons_module.train_document_net(nudge_weight(moons_module.document_net(3), nudge), X, y, 1001)
    annealed = moons_module.train_document_net(nudge_weight(moons_module.document_net(3), nudge), X, y, 1001,
                                               decay=moons_module.DECAY)
    assert (round(plain[0], 6), round(plain[1000], 6)) == (0.432387, 0.068947)
    assert (round(annealed[0], 6), round(annealed[1000], 6)) == (0.432387, 0.081007)


def test_moons_smaller_rate_follows_the_hand_written_run_and_falls_at_every_pass(moons_quick):
    results, _ = moons_quick
    X, y = R.moons_data()
    params, hand = R.moons_init(3), []
    for _ in range(len(results["smaller"][0.002])):
        params = R.moons_step(params, X, y, epsilon=0.002, reg_lambda=0.01)
        hand.append(R.moons_loss(params, X, y, 0.01))
    np.testing.assert_allclose(results["smaller"][0.002], hand, rtol=1e-11)
    assert np.all(np.diff(hand) < 0), "ε = 0.002 should decrease the loss at every pass"
    assert results["smaller_summary"][0.002]["rises"] == 0


def test_moons_logistic_baseline_is_scikit_learns_logistic_regression(moons_quick):
    linear_model = pytest.importorskip("sklearn.linear_model")
    results, _ = moons_quick
    X, y = R.moons_data()
    clf = linear_model.LogisticRegression(C=1e10, tol=1e-12, max_iter=10_000).fit(X, y)   # ~unregularised
    w, b = results["logistic_direction"]
    np.testing.assert_allclose(w, clf.coef_[0], rtol=1e-4)
    assert b == pytest.approx(clf.intercept_[0], rel=1e-4)
    assert results["logistic_accuracy"] == pytest.approx(clf.score(X, y), abs=1e-12)
    assert results["net_accuracy"] > results["logistic_accuracy"] + 0.05


@pytest.mark.parametrize("nudge", ULP_NUDGES, ids=ULP_IDS)
def test_moons_period_two_oscillation_matches_the_hand_written_run(moons_module, nudge):
    """After the unstable bursts the ε = 0.01 run alternates between two losses. Our engine and the
    NumPy transcription of the document may sit in opposite phases (rounding decides), but the pair of
    values is the same, and the document's row 3000 is one of them (to its 6 decimals, ±1 in the last)."""
    X, y = moons_module.document_data()
    net = nudge_weight(moons_module.document_net(3), nudge)
    start = {"W1": net[0].weight.data.copy(), "b1": net[0].bias.data.reshape(1, -1).copy(),
             "W2": net[2].weight.data.copy(), "b2": net[2].bias.data.reshape(1, -1).copy()}
    ours = moons_module.train_document_net(net, X, y, 3002)
    params, hand = start, {}
    for i in range(3002):
        params = R.moons_step(params, X, y, epsilon=0.01, reg_lambda=0.01)
        if i >= 2999:
            hand[i] = R.moons_loss(params, X, y, 0.01)
    pair_ours, pair_hand = sorted(ours[3000:3002]), sorted([hand[3000], hand[3001]])
    np.testing.assert_allclose(pair_ours, pair_hand, atol=1e-6, rtol=0)
    assert min(abs(v - 0.071218) for v in pair_ours) < 1e-6        # the document's row 3000
    assert abs(ours[3000] - ours[3001]) > 4e-4                    # two clearly different values ...
    assert abs(ours[2999] - ours[3001]) < 1e-6                    # ... that repeat every second step
    assert abs(hand[2999] - hand[3001]) < 1e-6
    osc = moons_module.oscillation(ours)
    assert osc["period2"]
    np.testing.assert_allclose(sorted([osc["even"], osc["odd"]]), pair_ours, atol=1e-12, rtol=0)


def test_moons_oscillation_title_claims_a_zigzag_only_when_the_run_shows_one(moons_module, monkeypatch,
                                                                            tmp_path):
    """A --quick run ends before the oscillation starts: its figure must not promise a zigzag."""
    import argparse

    import matplotlib.pyplot as plt
    import nn.plot
    titles = []

    def record(curves, path=None, title=None, **kwargs):          # stands in for plot_curves
        titles.append(title)
        return plt.figure()
    monkeypatch.setattr(nn.plot, "plot_curves", record)
    monkeypatch.setattr(nn.plot, "plot_boundary_grid", lambda *args, **kwargs: plt.figure())
    monkeypatch.setattr(nn.plot, "plot_points", lambda *args, **kwargs: plt.figure())
    args = argparse.Namespace(out=str(tmp_path), h=0.05)
    falling = 0.5 / (1 + np.arange(200.0))                       # a descent: no zigzag
    zigzag = 0.07 + 0.0005 * (-1.0) ** np.arange(200)            # two alternating values
    for losses in (falling, zigzag):
        moons_module.write_figures(args, None, None, None, None, None, {}, {}, losses, falling, {})
    assert titles[1] == "The last 40 passes: no period-2 zigzag (yet) in this run"
    assert titles[3] == "The last 40 passes: a period-2 zigzag"


# ---------------------------------------------------------------------------------------------------
# 001: two_layer_net.py

def test_two_layer_net_numerical_and_autodiff_gradients_agree(tmp_path):
    module = load("two_layer_net")
    results = module.main(["--quick", "--out", str(tmp_path)])
    assert results["sizes"] == [64, 50, 10]
    assert results["max_abs_diff"] < 1e-6
    # The speed-up itself is measured and printed by the example (timing is a benchmark's business,
    # not a test's); the test checks what it rests on: 2 forward passes per parameter, 64·50+50+50·10+10.
    assert results["n_params"] == 3760 and results["speedup"] > 0
    assert len(results["numerical_times"]) == 2 and len(results["autodiff_times"]) == 5
    low, high = results["speedup_range"]                 # the medians' ratio and the fastest runs' ratio
    fastest = min(results["numerical_times"]) / min(results["autodiff_times"])
    assert low <= results["speedup"] <= high and low <= fastest <= high
    assert {low, high} == {results["speedup"], fastest}
    assert results["test_acc"][-1] > 0.3              # well above chance (0.1) after 800 iterations
    assert len(results["losses"]) == 800
    assert_figures(results["figures"], tmp_path, 2)


def test_two_layer_net_autodiff_gradient_is_the_books_backprop():
    module = load("two_layer_net")
    params = R.two_layer_init(64, 50, 10, weight_init_std=0.3, seed=3)
    model = module.two_layer_net(64)
    with no_grad():
        for layer, (W, b) in zip((model[0], model[2]), (("W1", "b1"), ("W2", "b2"))):
            layer.weight.copy_(params[W])
            layer.bias.copy_(params[b])
    rng = np.random.default_rng(0)
    x, t = rng.random((7, 64)), rng.integers(0, 10, 7)
    ours = module.autodiff_gradient(model, nn.SoftmaxCrossEntropy(), x, t)
    hand = R.two_layer_gradient(params, x, t)
    for ours_key, hand_key in (("0.weight", "W1"), ("0.bias", "b1"), ("2.weight", "W2"), ("2.bias", "b2")):
        np.testing.assert_allclose(ours[ours_key], hand[hand_key], rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------------------------------
# 002: network2.py

@pytest.fixture(scope="module")
def network2_quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("network2")
    return load("network2").main(["--quick", "--out", str(out)]), out


def test_network2_runs_and_cross_entropy_learns_faster(network2_quick):
    results, out = network2_quick
    final, first = results["final_accuracy"], results["first_epoch_accuracy"]
    assert len(final) == 7
    for label in ("cross-entropy + L2", "cross-entropy + L1", "cross-entropy, no regularisation",
                  "cross-entropy + the notes' L1 line (bug)"):
        assert final[label][1] > 0.6, f"{label}: evaluation accuracy {final[label][1]}"       # chance: 0.1
        assert first[label] > first["quadratic + L2"] + 0.3, "cross-entropy should learn faster at first"
    assert final["quadratic + L2"][1] > 0.15
    # the notes' all-positive init: slower than the book's randn with either cost
    assert first["cross-entropy + L2, the notes' rand init"] < first["cross-entropy + L2"] - 0.1
    assert final["quadratic + L2, the notes' rand init"][1] < final["quadratic + L2"][1]
    for h in results["histories"].values():
        assert len(h.eval_acc) == results["epochs"] == 2
    assert_figures(results["figures"], out, 4)


def test_network2_notes_l1_line_inflates_the_negative_weights(network2_quick):
    """What the run prints about the notes' L1 line: it shrinks the positive weights and pushes the
    negative ones away from zero (|w| taken off every weight), where the L1 step shrinks both."""
    results, _ = network2_quick
    signs = results["weight_signs"]
    l1, bug, none = (signs[k] for k in ("cross-entropy + L1", "cross-entropy + the notes' L1 line (bug)",
                                        "cross-entropy, no regularisation"))
    assert bug[1] < none[1] < l1[1] < 0                   # Σ of the negative weights
    assert l1[0] < bug[0] < none[0]                       # Σ of the positive weights


def test_network2_notes_l1_optimizer_is_the_notes_update():
    """NotesL1SGD (nn) takes the same step as nn.reference.network2_update_mini_batch_l1_buggy."""
    module = load("network2")
    rng = np.random.default_rng(6)
    sizes, m, n, eta, lmbda = (5, 4, 3), 6, 30, 0.5, 4.0
    biases, weights = R.network2_init(sizes, seed=7)
    weights = [w - 0.3 for w in weights]                   # plenty of negative weights
    X, y = rng.random((m, sizes[0])), rng.integers(0, sizes[-1], m)
    Y = np.eye(sizes[-1])[y]
    model = nn.Sequential(nn.Linear(5, 4), nn.Sigmoid(), nn.Linear(4, 3))
    with no_grad():
        for layer, b, w in zip((model[0], model[2]), biases, weights):
            layer.weight.copy_(w.T)
            layer.bias.copy_(b[:, 0])
    opt = module.NotesL1SGD(model.parameters(), lr=eta, l1=lmbda / n)
    nn.CrossEntropyCost("mean")(model(X), Y).backward()
    opt.step()
    data = [(X[i].reshape(-1, 1), Y[i].reshape(-1, 1)) for i in range(m)]
    hand_b, hand_w = R.network2_update_mini_batch_l1_buggy(biases, weights, data, eta, lmbda, n)
    for layer, b, w in zip((model[0], model[2]), hand_b, hand_w):
        np.testing.assert_allclose(layer.weight.data, w.T, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.bias.data, b[:, 0], rtol=1e-12, atol=1e-15)


def test_network2_saturation_table_shows_the_division_problem(network2_quick):
    results, _ = network2_quick
    rows = results["saturation"]
    assert [r[0] for r in rows] == list(load("network2").SATURATION_Z)
    for z, a, one_minus_a, by_hand, engine, network2 in rows:
        assert network2 == a                               # δ = a − y with y = 0
        if a == 1.0:                                       # z ≳ 37: a(1 − a) = 0
            assert np.isnan(by_hand) and np.isnan(engine), f"z = {z}"
        else:
            assert by_hand == pytest.approx(a, rel=1e-12) and engine == pytest.approx(a, rel=1e-12), f"z = {z}"
    assert sum(np.isnan(r[3]) for r in rows) == 2          # z = 37 and z = 40


@pytest.mark.parametrize("penalty", ["L2", "L1"])
@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_network2_total_cost_metric_is_network2s_total_cost(cost, penalty):
    module = load("network2")
    rng = np.random.default_rng(1)
    sizes, n = (64, module.HIDDEN, 10), 9
    X, y = rng.random((n, 64)), rng.integers(0, 10, n)
    biases, weights = R.network2_init(sizes, seed=2)
    model = module.network(64, cost, "book")
    with no_grad():
        for layer, b, w in zip((model[0], model[2]), biases, weights):
            layer.weight.copy_(w.T)
            layer.bias.copy_(b[:, 0])
    cost_fn = nn.QuadraticCost("mean") if cost == "quadratic" else nn.CrossEntropyCost("mean")
    metric = module.total_cost_metric(model, cost_fn, 3.0, penalty)
    with no_grad():
        output = model(Tensor(X)).data
    data = [(X[i].reshape(-1, 1), int(y[i])) for i in range(n)]
    hand_cost = R.QuadraticCost if cost == "quadratic" else R.CrossEntropyCost
    expected = R.network2_total_cost(biases, weights, data, 3.0, hand_cost, penalty, convert=True)
    assert metric(output, nn.data.one_hot(y, 10)) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("init, reference", [("book", R.network2_init), ("notes", R.network2_init_notes)])
def test_network2_initial_weights_are_network2s(init, reference):
    module = load("network2")
    model = module.network(64, "quadratic", init, seed=5)
    biases, weights = reference((64, module.HIDDEN, 10), seed=5)
    for layer, b, w in zip((model[0], model[2]), biases, weights):
        np.testing.assert_array_equal(layer.weight.data, w.T)
        np.testing.assert_array_equal(layer.bias.data, b[:, 0])
    if init == "notes":
        assert all((p.data >= 0).all() for p in model.parameters())     # uniform [0, 1): all positive


# ---------------------------------------------------------------------------------------------------
# 003: deep_moons.py

def test_deep_moons_quick_run(tmp_path):
    """The quick run covers 3 of the hundreds of epochs the document's 97% needs (300 for seed 1, see
    the example's docstring), so the bar here is the documented early progress: the MSE falls every
    epoch and the test accuracy leaves chance (0.52 after epoch 1) for ~0.67 after epoch 3."""
    module = load("deep_moons")
    results = module.main(["--quick", "--out", str(tmp_path)])
    assert results["epochs_run"] == 3 and list(results["runs"]) == [1]
    run = results["runs"][1]
    assert run["reached"] is None and len(run["mses"]) == 4
    assert np.all(np.diff(run["mses"]) < 0)
    X_train, _, y_train, _, _ = module.document_draw(1)
    rs = np.random.RandomState(1)
    R.moons_data(3000, noise=0.2, seed=rs)
    rs.permutation(3000)                                   # the stream after the data and the split
    start = R.mlp_forward(R.mlp_init(list(module.SIZES), seed=rs), X_train)[2]
    assert run["mses"][0] == pytest.approx(np.mean((np.eye(2)[y_train] - start) ** 2), rel=1e-12)
    assert run["test_accuracy"] > 0.6
    assert_figures(results["figures"], tmp_path, 4)


def test_deep_moons_draws_what_the_documents_code_draws():
    """np.random.seed(s), then the document's make_moons, train_test_split and Layer initialisations."""
    datasets = pytest.importorskip("sklearn.datasets")
    model_selection = pytest.importorskip("sklearn.model_selection")
    module = load("deep_moons")
    for seed in (0, 1):
        state = np.random.get_state()
        try:
            np.random.seed(seed)
            x, y = datasets.make_moons(n_samples=3000, noise=0.2)
            x_train, x_test, y_train, y_test = model_selection.train_test_split(x, y, test_size=0.2)
            layers = [(np.random.randn(n_in, n_out) * np.sqrt(1 / n_out), np.random.randn(1, n_out) * 0.1)
                      for n_in, n_out in zip(module.SIZES[:-1], module.SIZES[1:])]
        finally:
            np.random.set_state(state)
        X_train, X_test, ours_y_train, ours_y_test, model = module.document_draw(seed)
        for got, want in ((X_train, x_train), (X_test, x_test), (ours_y_train, y_train), (ours_y_test, y_test)):
            np.testing.assert_array_equal(got, want)
        linears = [layer for layer in model if isinstance(layer, nn.Linear)]
        for layer, (W, b) in zip(linears, layers):
            np.testing.assert_array_equal(layer.weight.data, W)
            np.testing.assert_array_equal(layer.bias.data, b[0])


def test_deep_moons_network_is_the_documents_and_trains_like_it():
    module = load("deep_moons")
    seed = 4
    X_train, X_test, y_train, y_test, model = module.document_draw(seed)
    assert X_train.shape == (2400, 2) and X_test.shape == (600, 2)
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    assert len(linears) == 4 and all(isinstance(model[i], nn.Sigmoid) for i in (1, 3, 5, 7))
    hand = [(layer.weight.data.copy(), layer.bias.data.reshape(1, -1).copy()) for layer in linears]
    # 60 per-sample steps of the example's loss and optimizer = the document's Layer.backward/update
    Y = np.eye(2)[y_train[:60]]
    hand_trained, _ = R.mlp_train(hand, X_train[:60], Y, learning_rate=0.01, epochs=1)
    nn.fit(model, nn.QuadraticCost(reduction="sum"), nn.SGD(model.parameters(), lr=0.01), (X_train[:60], Y),
           epochs=1, batch_size=1, shuffle=False, metrics=(), progress=False)
    for layer, (W, b) in zip(linears, hand_trained):
        np.testing.assert_allclose(layer.weight.data, W, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(layer.bias.data, b[0], rtol=1e-10, atol=1e-14)


def test_moon_plot_draws_every_training_point_in_its_class_colour(tmp_path):
    from nn.plot import plot_points
    import matplotlib.pyplot as plt
    X, y = R.moons_data(60, noise=0.1, seed=2)
    fig = plot_points(X, y, tmp_path / "moons.png", title="moon plot")
    try:
        (points,) = fig.axes[0].collections
        np.testing.assert_array_equal(points.get_offsets(), X)
        colours = points.get_facecolors()
        assert len({tuple(c) for c in colours[y == 0]}) == 1 and len({tuple(c) for c in colours[y == 1]}) == 1
        assert tuple(colours[y == 0][0]) != tuple(colours[y == 1][0])
        assert fig.axes[0].get_title() == "moon plot"
    finally:
        plt.close(fig)
    assert_figures([str(tmp_path / "moons.png")], tmp_path, 1)


# ---------------------------------------------------------------------------------------------------
# 004: xor.py

@pytest.fixture(scope="module")
def xor_quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("xor")
    return load("xor").main(["--quick", "--seeds", "2", "--out", str(out)]), out


def test_xor_learns_all_four_and_shows_the_update_order_bug(xor_quick):
    results, out = xor_quick
    X, Y = R.xor_data()
    assert results["all_right"]
    # the same run written by hand (nn.reference, the question's column-vector code, fixed): same ŷ
    hand, _ = R.xor_train(X, Y, R.xor_init(epsilon=0.5), alpha=2.0, epochs=1000)
    np.testing.assert_allclose(results["predictions"], R.xor_pred(X, hand)[:, 0], rtol=1e-8)
    assert np.array_equal(results["predictions"] > 0.5, Y[:, 0] == 1)
    # the question's settings do not learn: same as the hand-written run, every ŷ near 0.51
    hand_q, costs_q = R.xor_train(X, Y, R.xor_init(), alpha=0.01, epochs=50)
    np.testing.assert_allclose(results["question_predictions"], R.xor_pred(X, hand_q)[:, 0], rtol=1e-10)
    np.testing.assert_allclose(results["question_costs"], costs_q, rtol=1e-10)
    assert np.ptp(results["question_predictions"]) < 0.01
    # one update: nn = the correct rule; the buggy order changes W1 and b1 only
    for k, (d_nn, d_bug) in results["one_step"].items():
        assert d_nn < 1e-14
        assert (d_bug > 1e-3) if k in ("W1", "b1") else (d_bug == 0)
    assert not results["buggy_all_right"]
    # pred(): the same number four times
    assert np.ptp(results["pred_bug"]) == 0 and results["pred_bug"][0] == pytest.approx(results["predictions"][3])
    assert_figures(results["figures"], out, 3)


def test_xor_question_settings_show_the_questions_symptoms(xor_quick):
    """Run longer, the question's own loops make the cost bottom out and rise (near epoch 300), while
    every-gradient-first keeps falling; three positive labels give ≈ 0.75 for every input."""
    results, _ = xor_quick
    X, Y = R.xor_data()
    long = len(results["long_costs"])
    assert long == 350
    low = results["long_minimum_epoch"]
    assert 250 < low < 350 and results["long_buggy_costs"][-1] > results["long_buggy_costs"][low - 1]
    _, hand = R.xor_train(X, Y, R.xor_init(), alpha=0.01, epochs=long)
    np.testing.assert_allclose(results["long_costs"], hand, rtol=1e-10)
    assert np.all(np.diff(results["long_costs"]) < 0)
    Y_or = np.array([[0.0], [1.0], [1.0], [1.0]])
    hand_or, _ = R.xor_train(X, Y_or, R.xor_init(), alpha=0.01, epochs=300)
    np.testing.assert_allclose(results["base_rate_predictions"], R.xor_pred(X, hand_or)[:, 0], rtol=1e-9)
    assert np.all(np.abs(results["base_rate_predictions"] - 0.75) < 0.02)


def test_xor_update_order_bug_is_fatal_only_at_large_rates(xor_quick):
    """The quick sweep runs α = 0.5 (for 2000/α epochs); α = 2 for 1000 epochs is parts 2 and 4."""
    results, _ = xor_quick
    rows = {row[0]: row for row in results["order_sweep"]}
    assert sorted(rows) == [0.5]
    alpha, epochs, ok, _, bug_ok, _, p_bug = rows[0.5]
    assert (epochs, ok, bug_ok) == (4000, True, True)          # small steps: the buggy order still learns
    assert results["all_right"] and not results["buggy_all_right"]       # α = 2: it collapses ...
    assert np.ptp(results["buggy_predictions"]) < 1e-3                   # ... to one constant output
    module = load("xor")
    assert module.parse_args([]).alphas == (0.5, 1.0, 2.0)               # the default run shows all three


def test_xor_evolution_strategy_with_nn_is_the_answers(xor_quick):
    results, _ = xor_quick
    X, Y = R.xor_data()
    best, costs = R.xor_evolution_strategy(X, Y)
    for k in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(results["es_weights"][k], best[k], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(results["es_costs"], costs, rtol=1e-9)
    assert results["es_costs"][-1] < 1e-4
    np.testing.assert_array_equal(results["es_predictions"] > 0.5, Y[:, 0] == 1)


@pytest.mark.parametrize("nudge", [("W2", 1, +1)], ids=["W2[0,1] +1 ulp"])
def test_xor_outcomes_hold_from_starts_one_ulp_away(nudge):
    """What the example prints of its 1,000-epoch runs from the question's seed - all four right with
    the correct order, none with the buggy one - holds from a start one ulp away too."""
    module = load("xor")
    X, Y = R.xor_data()
    name, index, direction = nudge
    w = module.question_weights(module.QUESTION_SEED, module.FIXED["init"])
    w = {**w, name: R.one_ulp(w[name], index, direction)}
    model = module.xor_net(w)
    module.train(model, X, Y, module.FIXED["lr"], module.FIXED["epochs"])
    p = module.probabilities(model, X)
    assert module.all_right(p, Y[:, 0])
    hand, _ = R.xor_train(X, Y, w, alpha=module.FIXED["lr"], epochs=module.FIXED["epochs"])
    np.testing.assert_allclose(p, R.xor_pred(X, hand)[:, 0], rtol=1e-8)
    buggy, _ = R.xor_train(X, Y, w, alpha=module.FIXED["lr"], epochs=module.FIXED["epochs"], step=R.xor_step_buggy)
    assert not module.all_right(R.xor_pred(X, buggy)[:, 0], Y[:, 0])


def test_xor_seed_sweep_counts_match_the_hand_written_runs(xor_quick):
    results, _ = xor_quick
    X, Y = R.xor_data()
    learned, learned_buggy = 0, 0
    for seed in range(2):
        start = R.xor_init(seed=seed, epsilon=0.5)
        right = R.xor_pred(X, R.xor_train(X, Y, start, alpha=2.0, epochs=1000)[0]) > 0.5
        learned += bool(np.all(right == (Y == 1)))
        right = R.xor_pred(X, R.xor_train(X, Y, start, alpha=2.0, epochs=1000, step=R.xor_step_buggy)[0]) > 0.5
        learned_buggy += bool(np.all(right == (Y == 1)))
    assert results["seeds"] == 2
    assert (results["successes"], results["buggy_successes"]) == (learned, learned_buggy)


# ---------------------------------------------------------------------------------------------------
# What the examples and the command line leave behind

def test_gitignore_covers_every_default_output_folder():
    """git status stays clean after the examples and the CLI run with their default --out."""
    import argparse
    from nn.cli import build_parser
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    with open(os.path.join(root, ".gitignore"), encoding="utf-8") as f:
        patterns = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    folders = set()
    for name in ("moons_3layer", "two_layer_net", "network2", "deep_moons", "xor"):
        parser_args = load(name).parse_args([])
        folders.add(os.path.normpath(parser_args.out).split(os.sep)[0])      # examples_out/<name>
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("demo", "train"):
        folders.add(sub.choices[command].get_default("out"))
    assert folders >= {"examples_out", "tinygrad-edu-demo", "tinygrad-edu-train"}
    for folder in folders:
        assert f"{folder}/" in patterns or f"/{folder}/" in patterns, f".gitignore does not cover {folder}/"


def test_every_test_the_documents_page_and_the_readme_name_exists():
    """docs/documents.md and the README's tables name the tests that check each claim: they must exist
    (a name ending in _* stands for the tests that start with it)."""
    import re
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    defined = set()
    for name in ("test_reference.py", "test_reference_nn.py", "test_examples.py"):
        with open(os.path.join(root, "tests", name), encoding="utf-8") as f:
            defined |= set(re.findall(r"^def (test_\w+)", f.read(), re.M))
    for doc in ("docs/documents.md", "README.md"):
        with open(os.path.join(root, doc), encoding="utf-8") as f:
            text = f.read()
        named = set(re.findall(r"`(test_\w+?(?:_\*)?)`", text))
        if doc == "README.md":                  # only the documents' tables, not other sections
            start = text.index("## From the documents to autodiff")
            section = text[start:text.index("\n## ", start + 1)]
            named = set(re.findall(r"`?((?:…|test)_\w+?(?:_\*)?)`", section))
        assert named, doc
        for test in named:
            if test.startswith("…"):
                continue
            if test.endswith("_*"):
                assert any(d.startswith(test[:-1]) for d in defined), f"{doc} names {test}, which matches no test"
            else:
                assert test in defined, f"{doc} names {test}, which is not a test"
