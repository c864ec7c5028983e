"""tinygrad_edu.check_backprop: each diagnosis is proven by planting that mistake in a correct
hand-written backward and expecting it named; then the five documents' buggy variants (nn/reference.py)
are diagnosed as the documents' bugs. Everything runs in float64."""
import numpy as np
import pytest

import nn.reference as R
import tinygrad_edu as te
from tinygrad_edu import ArgumentError, BackpropReport, Tensor, check_backprop

LAM = 0.01


def moons():
    """Document 000's data and a 2-3-2 network (weights moved off the init so nothing is symmetric)."""
    X, y = R.moons_data()
    rng = np.random.default_rng(0)
    p = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in R.moons_init(3).items()}
    return p, X, y


def forward(p, X, y):
    """Mean cross-entropy of a tanh/softmax net plus (λ/2)(‖W1‖² + ‖W2‖²), the learner's NumPy."""
    z1 = X.dot(p["W1"]) + p["b1"]
    a1 = np.tanh(z1)
    z2 = a1.dot(p["W2"]) + p["b2"]
    exp_scores = np.exp(z2)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    N = len(X)
    data_loss = np.sum(-np.log(probs[range(N), y])) / N
    data_loss += LAM / 2 * (np.sum(np.square(p["W1"])) + np.sum(np.square(p["W2"])))
    return data_loss


def backward(p, X, y, mistake=None):
    """Its hand-derived gradients, with one planted mistake."""
    N = len(X)
    z1 = X.dot(p["W1"]) + p["b1"]
    a1 = np.tanh(z1)
    z2 = a1.dot(p["W2"]) + p["b2"]
    probs = np.exp(z2) / np.sum(np.exp(z2), axis=1, keepdims=True)
    delta3 = probs.copy()
    delta3[range(N), y] -= 1
    if mistake == "sign":
        delta3 = -delta3
    if mistake != "sum":
        delta3 /= N
    dW2 = a1.T.dot(delta3)
    db2 = np.sum(delta3, axis=0, keepdims=True)
    local = {"tanh pre-activation": 1 - z1 ** 2, "tanh of the output": 1 - np.tanh(a1) ** 2,
             "tanh derivative missing": np.ones_like(a1)}.get(mistake, 1 - a1 ** 2)
    delta2 = delta3.dot(p["W2"].T) * local
    dW1 = X.T.dot(delta2)
    db1 = np.sum(delta2, axis=0, keepdims=True)
    if mistake != "no regularisation":
        dW1 += LAM * p["W1"]
        dW2 += LAM * p["W2"]
    if mistake == "regularised bias":
        db1 = db1 + LAM * p["b1"]
    if mistake == "transposed":
        dW1 = delta2.T.dot(X) + LAM * p["W1"].T
    if mistake == "not summed":
        db1 = delta2
    if mistake == "wrong axis":
        db1 = np.sum(delta2, axis=1)
    if mistake == "summed over everything":
        db1 = np.sum(delta2)
    if mistake == "flat bias":
        db2 = np.sum(delta3, axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def planted(mistake):
    p, X, y = moons()
    return check_backprop(forward, lambda p, X, y: backward(p, X, y, mistake), p, X, y)


def only(report, names):
    """The report's wrong parameters are exactly `names`; their diagnoses' kinds and messages."""
    assert sorted(report.wrong) == sorted(names), str(report)
    return {n: report.params[n].diagnoses[0] for n in names}


# ---------------------------------------------------------------------------------------------------
# A correct backward passes

def test_a_correct_backward_passes_against_both_oracles():
    p, X, y = moons()
    report = check_backprop(forward, backward, p, X, y)
    assert report.ok and bool(report) and report.wrong == []
    assert isinstance(report, BackpropReport)
    for name, r in report.params.items():
        assert r.ok and r.max_abs_error < 1e-12
        np.testing.assert_allclose(r.true, backward(p, X, y)[name], rtol=1e-10, atol=1e-14)
        assert r.numeric                                          # the second oracle looked too
        for idx, v in r.numeric.items():
            assert abs(v - r.true[idx]) < 1e-7
    assert "all 4 hand-written gradients agree" in str(report)
    assert "confirmed by central differences on 17 elements" in str(report)


def test_the_learners_arrays_are_never_changed():
    p, X, y = moons()
    saved = {k: v.copy() for k, v in p.items()}
    X0, y0 = X.copy(), y.copy()

    def vandal(p, X, y):
        g = backward(p, X, y)
        for v in p.values():
            v[...] = 0
        X[...] = 0
        return g
    assert check_backprop(forward, vandal, p, X, y).ok
    for k in p:
        np.testing.assert_array_equal(p[k], saved[k])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


# ---------------------------------------------------------------------------------------------------
# Each diagnosis, planted

def test_sum_instead_of_mean_is_off_by_a_factor_of_n():
    report = planted("sum")
    # every gradient but the L2 parts is N times too big; W1 and W2 carry an unscaled λW
    d = only(report, ["W1", "b1", "W2", "b2"])
    for name in ("b1", "b2"):
        assert d[name].kind == "scaled" and d[name].factor == pytest.approx(200)
        assert "off by a factor of N = 200 (X has 200 rows)" in d[name].message
    assert "off by a factor of N = 200" in str(report)


def test_sum_instead_of_mean_everywhere_is_named_for_every_parameter():
    p, X, y = moons()
    report = check_backprop(lambda p, X, y: forward(p, X, y) * len(X) / len(X) ** 2 * len(X),   # same loss
                            lambda p, X, y: {k: len(X) * g for k, g in backward(p, X, y).items()}, p, X, y)
    d = only(report, ["W1", "b1", "W2", "b2"])
    assert all(x.kind == "scaled" and "N = 200" in x.message for x in d.values())


def test_the_mean_where_the_loss_sums_is_off_by_1_over_n():
    p, X, y = moons()
    report = check_backprop(lambda p, X, y: forward(p, X, y) * len(X),
                            lambda p, X, y: backward(p, X, y), p, X, y)
    d = only(report, ["W1", "b1", "W2", "b2"])
    assert all("1/N = 1/200" in x.message for x in d.values())


def test_a_flipped_sign_is_named():
    report = planted("sign")
    d = only(report, ["W1", "b1", "W2", "b2"])
    assert d["b1"].kind == "sign" and d["b1"].factor == pytest.approx(-1)
    assert "sign flipped" in d["b2"].message


def test_a_factor_of_two_is_named():
    p, X, y = moons()
    report = check_backprop(forward, lambda p, X, y: {k: 2 * g for k, g in backward(p, X, y).items()}, p, X, y)
    d = only(report, ["W1", "b1", "W2", "b2"])
    assert all(x.kind == "scaled" and "factor of 2" in x.message and "½" in x.message for x in d.values())


def test_a_transposed_gradient_is_named():
    report = planted("transposed")
    d = only(report, ["W1"])
    assert d["W1"].kind == "transposed" and "(3, 2)" in d["W1"].message
    assert report.params["W1"].problem == "your gradient has shape (3, 2), W1 has shape (2, 3)"


def test_a_transposed_square_gradient_is_named():
    rng = np.random.default_rng(3)
    X, W = rng.standard_normal((5, 3)), rng.standard_normal((3, 3))
    report = check_backprop(lambda p, X: np.sum(np.tanh(X.dot(p["W"]))),
                            lambda p, X: {"W": (X.T.dot(1 - np.tanh(X.dot(p["W"])) ** 2)).T}, {"W": W}, X)
    assert only(report, ["W"])["W"].kind == "transposed"


def test_swapped_gradients_are_named():
    rng = np.random.default_rng(4)
    X, A, B = rng.standard_normal((5, 3)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def fwd(p, X):
        return np.sum(np.tanh(X.dot(p["A"])).dot(p["B"]) ** 2)

    def bwd(p, X):
        h = np.tanh(X.dot(p["A"]))
        g = 2 * h.dot(p["B"])
        dB = h.T.dot(g)
        dA = X.T.dot(g.dot(p["B"].T) * (1 - h ** 2))
        return {"A": dB, "B": dA}
    d = only(check_backprop(fwd, bwd, {"A": A, "B": B}, X), ["A", "B"])
    assert d["A"].kind == "swapped" and "true gradient of B" in d["A"].message


def test_a_missing_regularisation_term_is_named_with_its_lambda():
    d = only(planted("no regularisation"), ["W1", "W2"])
    for name in ("W1", "W2"):
        assert d[name].kind == "regularisation" and d[name].factor == pytest.approx(-LAM)
        assert "regularisation term is missing" in d[name].message and f"0.01·{name}" in d[name].message


def test_an_extra_regularisation_term_is_named():
    d = only(planted("regularised bias"), ["b1"])
    assert d["b1"].kind == "regularisation" and d["b1"].factor == pytest.approx(LAM)
    assert "extra regularisation term 0.01·b1" in d["b1"].message and "biases" in d["b1"].message


def test_a_penalty_inside_the_mean_shows_lambda_over_n():
    p, X, y = moons()
    fwd = lambda p, X, y: forward(p, X, y) - LAM / 2 * np.sum(np.square(p["W2"])) * (1 - 1 / len(X))  # noqa: E731
    report = check_backprop(fwd, lambda p, X, y: backward(p, X, y, "no regularisation"), p, X, y)
    d = only(report, ["W1", "W2"])
    assert "5e-05 (= 0.01/N, N = 200)" in d["W2"].message


def test_the_tanh_derivative_at_the_pre_activation_is_named():
    report = planted("tanh pre-activation")
    d = only(report, ["W1", "b1"])                      # W2, b2 do not go through the tanh
    for name in ("W1", "b1"):
        assert d[name].kind == "activation"
        assert "1 − z²" in d[name].message and "document 003" in d[name].message


def test_the_tanh_derivative_of_the_output_is_named():
    d = only(planted("tanh of the output"), ["W1", "b1"])
    assert d["W1"].kind == "activation" and "1 − tanh²(a)" in d["W1"].message


def test_a_missing_activation_derivative_is_named():
    d = only(planted("tanh derivative missing"), ["W1", "b1"])
    assert d["b1"].kind == "activation" and "derivative of tanh is missing" in d["b1"].message


def test_a_planted_activation_mistake_combined_with_sum_vs_mean_names_both():
    p, X, y = moons()
    report = check_backprop(lambda p, X, y: forward(p, X, y) - LAM / 2 * (np.sum(np.square(p["W1"])) +
                                                                        np.sum(np.square(p["W2"]))),
                            lambda p, X, y: {k: g for k, g in
                                             backward(p, X, y, "tanh pre-activation").items()}, p, X, y)
    assert only(report, ["W1", "W2", "b1"])["b1"].kind == "activation"
    p2 = {k: v.copy() for k, v in p.items()}

    def bwd(p, X, y):
        N = len(X)
        g = backward(p, X, y, "tanh pre-activation")
        return {"b1": N * g["b1"], "W1": N * (g["W1"] - LAM * p["W1"]), "W2": g["W2"] - LAM * p["W2"],
                "b2": g["b2"]}
    fwd = lambda p, X, y: forward(p, X, y) - LAM / 2 * (np.sum(np.square(p["W1"])) + np.sum(np.square(p["W2"])))  # noqa: E731
    d = only(check_backprop(fwd, bwd, p2, X, y), ["W1", "b1"])
    assert d["b1"].kind == "activation" and "1 − z²" in d["b1"].message and "N = 200" in d["b1"].message


def test_a_bias_gradient_not_summed_over_the_batch_is_named():
    d = only(planted("not summed"), ["b1"])
    assert d["b1"].kind == "not-summed" and "(200, 3)" in d["b1"].message and "axis=0" in d["b1"].message


def test_a_bias_gradient_summed_over_the_wrong_axis_is_named():
    d = only(planted("wrong axis"), ["b1"])
    assert d["b1"].kind == "wrong-axis" and "axis 1" in d["b1"].message


def test_a_bias_gradient_summed_over_everything_is_named():
    d = only(planted("summed over everything"), ["b1"])
    assert d["b1"].kind == "summed-all" and "one number" in d["b1"].message


def test_right_values_in_the_wrong_shape_are_named():
    d = only(planted("flat bias"), ["b2"])
    assert d["b2"].kind == "shape" and "values are right" in d["b2"].message and "(2,)" in d["b2"].message


def logistic_forward(p, X, y):
    """A 2-3-1 sigmoid network (the sigmoid written out as the documents do) with a BCE loss."""
    a1 = 1 / (1 + np.exp(-(X.dot(p["W1"]) + p["b1"])))
    yhat = 1 / (1 + np.exp(-(a1.dot(p["W2"]) + p["b2"])))              # (N, 1)
    t = y.reshape(-1, 1)
    return -np.sum(t * np.log(yhat) + (1 - t) * np.log(1 - yhat)) / len(X)


def logistic_backward(p, X, y, mistake=None):
    N = len(X)
    z1 = X.dot(p["W1"]) + p["b1"]
    a1 = 1 / (1 + np.exp(-z1))
    yhat = 1 / (1 + np.exp(-(a1.dot(p["W2"]) + p["b2"])))
    t = y if mistake == "broadcast" else y.reshape(-1, 1)
    d2 = (yhat - t) / N                                                  # (N, 1), or (N, N) with the bug
    sig_prime = {"sigmoid pre-activation": z1 * (1 - z1),
                 "sigmoid of the output": (1 / (1 + np.exp(-a1))) * (1 - 1 / (1 + np.exp(-a1)))}
    d1 = d2.dot(p["W2"].T) * sig_prime.get(mistake, a1 * (1 - a1))
    return {"W1": X.T.dot(d1), "b1": np.sum(d1, axis=0), "W2": a1.T.dot(d2), "b2": np.sum(d2, axis=0)}


def logistic():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)
    p = {"W1": rng.standard_normal((2, 3)), "b1": 0.1 * rng.standard_normal(3),
         "W2": rng.standard_normal((3, 1)), "b2": np.zeros(1)}
    return p, X, y


def test_the_logistic_network_passes_and_its_sigmoid_is_found_as_an_activation():
    p, X, y = logistic()
    report = check_backprop(logistic_forward, logistic_backward, p, X, y)
    assert report.ok, str(report)
    assert [a.kind for a in report._graph.activations] == ["sigmoid", "sigmoid"]


@pytest.mark.parametrize("mistake, phrase", [("sigmoid pre-activation", "z(1 − z)"),
                                             ("sigmoid of the output", "σ'(a)")])
def test_sigmoid_derivative_mistakes_are_named(mistake, phrase):
    p, X, y = logistic()
    report = check_backprop(logistic_forward, lambda p, X, y: logistic_backward(p, X, y, mistake), p, X, y)
    d = only(report, ["W1", "b1"])
    assert d["W1"].kind == "activation" and phrase in d["W1"].message
    assert "first sigmoid" in d["W1"].message                 # the hidden layer's, not the output's


def logistic_regression(p, X, y):
    yhat = 1 / (1 + np.exp(-(X.dot(p["w"]) + p["b"])))                 # (N, 1)
    t = y.reshape(-1, 1)
    return -np.mean(t * np.log(yhat) + (1 - t) * np.log(1 - yhat))


def test_an_n_by_n_broadcast_is_named_and_located_in_the_learners_code():
    """(N, 1) predictions minus (N,) labels: an (N, N) matrix, and a gradient with an axis of N."""
    p, X, y = logistic()
    p = {"w": p["W1"][:, :1], "b": np.zeros(1)}

    def bwd(p, X, y):
        yhat = 1 / (1 + np.exp(-(X.dot(p["w"]) + p["b"])))
        d = (yhat - y) / len(X)                                            # y is (N,): (N, N)
        return {"w": X.T.dot(d), "b": np.sum(d, axis=0)}
    report = check_backprop(logistic_regression, bwd, p, X, y)
    assert sorted(report.wrong) == ["b", "w"]
    d = report.params["w"].diagnoses[0]
    assert d.kind == "broadcast" and "N = 40" in d.message and "(2, 40)" in d.message
    notes = [n for n in report.notes if "your backward's subtract" in n]
    assert len(notes) == 1 and "test_backprop_check.py" in notes[0] and "(40, 1) and (40,)" in notes[0]
    assert "d = (yhat - y) / len(X)" in notes[0]


def test_a_backward_that_fails_after_an_n_by_n_broadcast_points_at_the_broadcast():
    p, X, y = logistic()
    report = check_backprop(logistic_forward, lambda p, X, y: logistic_backward(p, X, y, "broadcast"), p, X, y)
    stage, text, hint = report.error
    assert stage == "backward" and "ValueError" in text
    assert "combined shapes (40, 1) and (40,) into (40, 40)" in hint and "t = y if mistake" not in hint
    assert "d2 = (yhat - t) / N" in hint


def relu_net(p, X, C):
    return np.sum(np.maximum(X.dot(p["W"]), 0) * C)


def test_a_missing_relu_derivative_is_named():
    rng = np.random.default_rng(6)
    X, W, C = rng.standard_normal((8, 3)), rng.standard_normal((3, 4)), rng.standard_normal((8, 4))
    good = lambda p, X, C: {"W": X.T.dot(C * (X.dot(p["W"]) > 0))}         # noqa: E731
    assert check_backprop(relu_net, good, {"W": W}, X, C).ok
    report = check_backprop(relu_net, lambda p, X, C: {"W": X.T.dot(C)}, {"W": W}, X, C)
    d = only(report, ["W"])
    assert d["W"].kind == "activation" and "relu is missing" in d["W"].message
    assert [a.kind for a in report._graph.activations] == ["relu"]


def test_a_relu_derivative_written_as_the_relu_itself_is_named():
    rng = np.random.default_rng(13)
    X, W, C = rng.standard_normal((8, 3)), rng.standard_normal((3, 4)), rng.standard_normal((8, 4))
    report = check_backprop(relu_net, lambda p, X, C: {"W": X.T.dot(C * np.maximum(X.dot(p["W"]), 0))},
                            {"W": W}, X, C)
    d = only(report, ["W"])
    assert d["W"].kind == "activation" and "written as the relu itself" in d["W"].message


@pytest.mark.parametrize("sign, phrase", [(0.0, "the L1 term is missing"), (2.0, "an extra L1 term")])
def test_a_missing_or_extra_l1_term_is_named(sign, phrase):
    rng = np.random.default_rng(14)
    X, W = rng.standard_normal((6, 3)), rng.standard_normal((3, 2))

    def fwd(p, X):
        return np.sum(np.tanh(X.dot(p["W"]))) + 0.1 * np.sum(np.abs(p["W"]))

    def bwd(p, X):
        return {"W": X.T.dot(1 - np.tanh(X.dot(p["W"])) ** 2) + sign * 0.1 * np.sign(p["W"])}
    d = only(check_backprop(fwd, bwd, {"W": W}, X), ["W"])
    assert d["W"].kind == "regularisation" and phrase in d["W"].message and "0.1·sign(W)" in d["W"].message


def test_an_unexplained_mistake_says_where_the_wrong_elements_are():
    p, X, y = moons()

    def bwd(p, X, y):
        g = backward(p, X, y)
        g["W2"] = g["W2"].copy()
        g["W2"][1] += np.array([0.3, -0.1])
        return g
    d = only(check_backprop(forward, bwd, p, X, y), ["W2"])
    assert d["W2"].kind == "unexplained" and "2 of 6 elements differ" in d["W2"].message
    assert "only row 1 (of 3)" in d["W2"].message


def test_missing_none_unusable_nan_and_zero_gradients_are_named():
    p, X, y = moons()

    def bwd(p, X, y):
        g = backward(p, X, y)
        return {"W1": None, "b1": "not an array", "W2": g["W2"] * np.nan, "zz": 0}
    report = check_backprop(forward, bwd, p, X, y)
    assert sorted(report.wrong) == ["W1", "W2", "b1", "b2"]
    assert report.params["W1"].diagnoses[0].message == "backward returned None for 'W1'"
    assert "not an array of numbers" in report.params["b1"].diagnoses[0].message
    assert report.params["W2"].diagnoses[0].kind == "nan"
    assert "returned no entry 'b2'" in report.params["b2"].diagnoses[0].message
    assert "your backward returned entries that are not parameters, ignored: zz" in report.notes
    zero = check_backprop(forward, lambda p, X, y: {**backward(p, X, y), "b2": np.zeros((1, 2))}, p, X, y)
    assert only(zero, ["b2"])["b2"].kind == "zero"
    report = check_backprop(forward, lambda p, X, y: [1, 2], p, X, y)
    assert "must return a dict" in report.params["W1"].diagnoses[0].message


def test_a_parameter_the_loss_does_not_use():
    p, X, y = moons()
    p["unused"] = np.ones(2)
    report = check_backprop(forward, lambda p, X, y: {**backward(p, X, y), "unused": np.ones(2)}, p, X, y)
    assert only(report, ["unused"])["unused"].kind == "unused"
    ok = check_backprop(forward, lambda p, X, y: {**backward(p, X, y), "unused": np.zeros(2)}, p, X, y)
    assert ok.ok


# ---------------------------------------------------------------------------------------------------
# Training steps: the update gives the gradient back; stale weights

def xor_forward(p, x, y):
    """Document 004's loss for one sample, on the reference's forward (column vectors)."""
    y_pred = R.xor_forward(x, p)[3]
    return np.sum(-y * np.log(y_pred) - (1 - y) * np.log(1 - y_pred))


def xor_sample():
    X, Y = R.xor_data()
    rng = np.random.default_rng(7)
    p = {k: v + 0.5 * rng.standard_normal(v.shape) for k, v in R.xor_init().items()}
    return p, X[1].reshape(-1, 1), Y[1].reshape(-1, 1)


def test_a_correct_training_step_passes_and_its_learning_rate_is_inferred():
    p, x, y = xor_sample()
    report = check_backprop(xor_forward, None, p, x, y, step=lambda p, x, y: R.xor_step(x, y, p, alpha=0.5))
    assert report.ok, str(report)
    assert report.lr == pytest.approx(0.5)
    assert any("learning rate inferred" in n and "lr = 0.5" in n for n in report.notes)


def test_document_004s_update_order_is_diagnosed_as_a_stale_weight():
    """xor_step_buggy updates W2 and b2 first, then computes W1's and b1's gradients with the new W2."""
    p, x, y = xor_sample()
    report = check_backprop(xor_forward, None, p, x, y, step=lambda p, x, y: R.xor_step_buggy(x, y, p, 0.5),
                            lr=0.5)
    d = only(report, ["W1", "b1"])
    for name in ("W1", "b1"):
        assert d[name].kind == "stale-weight"
        assert "with W2 after its update" in d[name].message and "document 004" in d[name].message


# ---------------------------------------------------------------------------------------------------
# The documents' buggy variants

def test_document_000s_backward_is_the_gradient_of_the_summed_loss():
    """000's calculate_loss prints a mean but its backprop descends the sum: off by N = 200."""
    p, X, y = moons()

    def doc_loss(p, X, y):                 # calculate_loss as the document writes it (without float())
        N = len(X)
        z1 = X.dot(p["W1"]) + p["b1"]
        a1 = np.tanh(z1)
        z2 = a1.dot(p["W2"]) + p["b2"]
        exp_scores = np.exp(z2)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        data_loss = np.sum(-np.log(probs[range(N), y]))
        data_loss += LAM / 2 * (np.sum(np.square(p["W1"])) + np.sum(np.square(p["W2"])))
        return 1.0 / N * data_loss
    report = check_backprop(doc_loss, lambda p, X, y: R.moons_gradients(p, X, y, LAM), p, X, y)
    d = only(report, ["W1", "b1", "W2", "b2"])
    assert all(x.kind == "scaled" and "N = 200" in x.message for x in d.values())
    ok = check_backprop(lambda p, X, y: doc_loss(p, X, y) * len(X),
                        lambda p, X, y: R.moons_gradients(p, X, y, LAM), p, X, y)
    assert ok.ok


def test_document_001s_backward_passes():
    rng = np.random.default_rng(8)
    p = R.two_layer_init(4, 5, 3, weight_init_std=0.5, seed=1)
    x, t = rng.standard_normal((6, 4)), rng.integers(0, 3, 6)

    def loss(p, x, t):                    # the book's cross-entropy with delta = 0, plain NumPy
        a = R.sigmoid(np.dot(x, p["W1"]) + p["b1"])
        z = np.dot(a, p["W2"]) + p["b2"]
        e = np.exp(z - np.max(z, axis=1, keepdims=True))
        y = e / np.sum(e, axis=1, keepdims=True)
        return -np.sum(np.log(y[np.arange(len(x)), t])) / len(x)
    assert check_backprop(loss, R.two_layer_gradient, p, x, t).ok


def mlp_params(sizes, seed):
    return {f"{k}{i}": v for i, pair in enumerate(R.mlp_init(sizes, seed)) for k, v in zip("Wb", pair)}


def mlp_pairs(p):
    return [(p[f"W{i}"], p[f"b{i}"]) for i in range(len(p) // 2)]


def test_document_003s_tanh_derivative_bug_is_diagnosed():
    """tan_derive = 1 − x² applied to the pre-activation, in every layer of a 2-4-3-2 tanh net."""
    p = mlp_params([2, 4, 3, 2], seed=2)
    x, y = np.array([[0.7, -1.3]]), np.array([[1.0, 0.0]])

    def loss(p, x, y):
        return 0.5 * np.sum((R.mlp_forward(mlp_pairs(p), x, "tanh")[2] - y) ** 2)

    def grads(activation):
        def bwd(p, x, y):
            g = R.mlp_gradients(mlp_pairs(p), x, y, activation)
            return {f"{k}{i}": v for i, pair in enumerate(g) for k, v in zip("Wb", pair)}
        return bwd
    assert check_backprop(loss, grads("tanh"), p, x, y).ok
    report = check_backprop(loss, grads("tanh_buggy"), p, x, y)
    assert sorted(report.wrong) == ["W0", "W1", "W2", "b0", "b1", "b2"]     # the last layer has a tanh too
    for r in report.params.values():
        assert r.diagnoses[0].kind == "activation"
        assert "1 − z²" in r.diagnoses[0].message and "at every tanh (3 in your forward)" in r.diagnoses[0].message


def test_document_003s_relu_bug_is_reported_with_the_fix():
    p = mlp_params([2, 3, 2], seed=3)
    x, y = np.array([[0.7, -1.3]]), np.array([[1.0, 0.0]])

    def loss(p, x, y):
        return 0.5 * np.sum((R.mlp_forward(mlp_pairs(p), x, "relu_buggy")[2] - y) ** 2)
    report = check_backprop(loss, lambda p, x, y: {}, p, x, y)
    assert not report.ok and report.error is not None
    stage, text, hint = report.error
    assert stage == "forward (on Tensors)" and "TypeError" in text and "return np.max(0, x)" in text
    assert "np.maximum(x, 0)" in hint and "document 003" in hint
    assert "np.maximum(x, 0)" in str(report)


def network2_setup():
    sizes = [3, 4, 2]
    biases, weights = R.network2_init(sizes, seed=4)
    rng = np.random.default_rng(9)
    data = [(rng.standard_normal((3, 1)), R.vectorized_result(int(rng.integers(0, 2)), 2)) for _ in range(5)]
    p = {"b0": biases[0], "b1": biases[1], "w0": weights[0], "w1": weights[1]}
    return p, data


def network2_lists(p):
    return [p["b0"], p["b1"]], [p["w0"], p["w1"]]


def network2_cost(p, data, lmbda=2.0, penalty="L1"):
    """network2's total_cost, written out without float(): (1/n)ΣC + the penalty."""
    biases, weights = network2_lists(p)
    n = len(data)
    total = 0.0
    for x, y in data:
        total += R.CrossEntropyCost.fn(R.network2_feedforward(biases, weights, x), y) / n
    if penalty == "L1":
        return total + (lmbda / n) * sum(np.sum(np.abs(w)) for w in weights)
    return total + (lmbda / n) * sum(np.linalg.norm(w) for w in weights)      # the notes' "L1" (Frobenius)


def network2_step(update):
    def step(p, data):
        biases, weights = network2_lists(p)
        nb, nw = update(biases, weights, list(data), 0.5, 2.0, len(data))
        return {"b0": nb[0], "b1": nb[1], "w0": nw[0], "w1": nw[1]}
    return step


def test_document_002s_correct_l1_update_passes():
    p, data = network2_setup()
    step = network2_step(lambda b, w, mb, eta, lmbda, n: R.network2_update_mini_batch(b, w, mb, eta, lmbda, n,
                                                                                     penalty="L1"))
    report = check_backprop(network2_cost, None, p, data, step=step, lr=0.5)
    assert report.ok, str(report)


def test_document_002s_l1_update_bug_is_diagnosed():
    p, data = network2_setup()
    report = check_backprop(network2_cost, None, p, data, step=network2_step(R.network2_update_mini_batch_l1_buggy),
                            lr=0.5)
    d = only(report, ["w0", "w1"])                 # biases are not regularised: right
    for name in ("w0", "w1"):
        assert d[name].kind == "regularisation" and d[name].factor == pytest.approx(2.0 / 5)
        assert "|w|" in d[name].message and "document 002" in d[name].message


def test_document_002s_frobenius_l1_cost_is_diagnosed():
    p, data = network2_setup()
    step = network2_step(lambda b, w, mb, eta, lmbda, n: R.network2_update_mini_batch(b, w, mb, eta, lmbda, n,
                                                                                     penalty="L1"))
    report = check_backprop(lambda p, data: network2_cost(p, data, penalty="Frobenius"), None, p, data,
                            step=step, lr=0.5)
    d = only(report, ["w0", "w1"])
    for name in ("w0", "w1"):
        assert d[name].kind == "regularisation" and "Frobenius" in d[name].message
        assert "np.sum(np.abs(w))" in d[name].message


# ---------------------------------------------------------------------------------------------------
# The learner's code failing, and bad arguments

def test_a_forward_that_leaves_the_graph_is_explained():
    p, X, y = moons()
    report = check_backprop(lambda p, X, y: float(forward(p, X, y)), backward, p, X, y)
    assert not report.ok and "not a recorded Tensor" in report.error[1] and "float(...)" in report.error[2]


def test_a_backward_that_raises_is_reported_with_its_line():
    p, X, y = moons()

    def bwd(p, X, y):
        return {"W1": p["W1"].dot(X)}                                 # (2, 3) · (200, 2): fails
    report = check_backprop(forward, bwd, p, X, y)
    assert not report.ok and report.error[0] == "backward"
    assert "ValueError" in report.error[1] and 'p["W1"].dot(X)' in report.error[1]
    assert "test_backprop_check.py" in str(report)


def test_the_replay_of_the_graph_reproduces_the_engine_and_its_failure_switches_planted_diagnoses_off(monkeypatch):
    report = planted("tanh pre-activation")
    assert report._graph.replays
    monkeypatch.setattr(te.backprop_check._Walker, "_replay_matches", lambda self: False)
    report = planted("tanh pre-activation")
    assert report.params["W1"].diagnoses[0].kind == "unexplained"
    assert any("diagnoses are off" in n for n in report.notes)


def test_the_documents_accumulating_spelling_records():
    """data_loss += ... on a recorded tensor rebinds inside the check; the engine's rule is back after."""
    p, X, y = moons()
    assert check_backprop(forward, backward, p, X, y).ok           # forward uses +=
    t = Tensor([1.0], requires_grad=True) * 2
    with pytest.raises(te.GraphError):
        t += 1


@pytest.mark.parametrize("args, match", [
    ((None, None, {"W": np.ones(2)}), "forward must be a function"),
    ((forward, None, {"W": np.ones(2)}), "give either backward .* not neither"),
    ((forward, backward, None), "params must be a non-empty dict"),
    ((forward, backward, {"W": ["a"]}), r"params\['W'\] is not an array of numbers"),
    ((forward, backward, {"W": np.array([np.nan])}), "NaN"),
])
def test_bad_arguments_raise_argument_error(args, match):
    with pytest.raises(ArgumentError, match=match):
        check_backprop(*args)
    with pytest.raises(ArgumentError, match="lr must be a positive number"):
        check_backprop(forward, None, {"W": np.ones(2)}, step=lambda p: p, lr=-1)
    with pytest.raises(ArgumentError, match="not both"):
        check_backprop(forward, backward, {"W": np.ones(2)}, step=lambda p: p)


# ---------------------------------------------------------------------------------------------------
# Seeing the mistake: the drawing and the explanation

def test_to_dot_draws_the_wrong_parameters_in_red_with_the_diagnosis():
    report = planted("tanh pre-activation")
    text = report.to_dot()
    assert text.startswith("digraph G {") and text.rstrip().endswith("}")
    index = te.backprop_check._numbering(report._graph.loss)
    for name in ("W1", "b1"):
        k = index[id(report._graph.params[name])]
        assert f't{k} [color="#dc2626" fillcolor="#fecaca" penwidth=3]' in text
        assert f"your d{name} is wrong" in text
    k = index[id(report._graph.params["W2"])]
    assert f"t{k} [color" not in text                                  # right: not highlighted
    tanh = report._graph.activations[0].a
    assert f'f{index[id(tanh)]} [color="#dc2626" penwidth=3]' in text  # the tanh op it points at
    assert "W1 · parameter" in text and "X · input" in text            # named as the learner names them
    assert "probs\\n(200, 2) float64" in text and "a1\\n(200, 3)" in text


def test_draw_renders_an_svg(tmp_path):
    import os
    import shutil
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz's dot program is required under CI (.ci/run installs it)")
        pytest.skip("Graphviz's dot program is not installed (apt-get install graphviz)")
    path = planted("sign").draw(tmp_path / "mistake.svg")
    assert path.read_text().lstrip().startswith(("<?xml", "<svg"))


def test_explain_puts_the_true_steps_next_to_the_learners_lines():
    report = planted("tanh pre-activation")
    text = report.explain()
    assert "Step 1:" in text and "tanh" in text
    assert "= your test_backprop_check.py:" in text and "delta3 /= N" in text     # δ3: its last write
    assert "your dW1:" in text and "WRONG" in text and "your dW2:" in text
    assert "Step 18: tanh → a1" in text and "∂L/∂a1 = (200, 3)" in text      # the learner's own names
    lines = text.splitlines()
    z1 = lines.index(next(line for line in lines if line.startswith("  ∂L/∂z1 =")))
    assert "← no array of your backward equals this" in lines[z1 + 1]         # where the mistake is
    assert sum("← no array" in line for line in lines) == 1
