"""Loss modules and penalties: values against NumPy and the documents' formulas, gradients against
central differences (gradcheck, float64), the documents' δ, and PyTorch where available."""
import numpy as np
import pytest

import nn
from tinygrad_edu import ArgumentError, LabelError, ShapeError, Tensor, gradcheck

RNG = np.random.default_rng(0)
Z = RNG.standard_normal((5, 3))                   # logits / outputs (N=5 examples, 3 outputs)
LABELS = np.array([0, 2, 1, 1, 0])
ONEHOT = np.eye(3)[LABELS]
Y01 = (RNG.random((5, 3)) > 0.5).astype(np.float64)
A = 1 / (1 + np.exp(-Z))                          # sigmoid outputs


def np_softmax_ce_rows(z, labels):
    s = z - z.max(axis=1, keepdims=True)
    return -(s - np.log(np.exp(s).sum(axis=1, keepdims=True)))[np.arange(len(labels)), labels]


def np_network2_cross_entropy_rows(a, y):
    # network2's CrossEntropyCost.fn, one example (row) at a time
    return np.array([np.sum(np.nan_to_num(-yy * np.log(aa) - (1 - yy) * np.log(1 - aa))) for aa, yy in zip(a, y)])


def np_quadratic_rows(a, y):
    # network2's QuadraticCost.fn: 0.5 * np.linalg.norm(a - y) ** 2 per example
    return np.array([0.5 * np.linalg.norm(aa - yy) ** 2 for aa, yy in zip(a, y)])


def reduce(rows, reduction):
    return {"sum": rows.sum(), "mean": rows.mean(), "none": rows}[reduction]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_values(reduction):
    ce = np_softmax_ce_rows(Z, LABELS)
    np.testing.assert_allclose(nn.SoftmaxCrossEntropy(reduction)(Z, LABELS).data, reduce(ce, reduction), rtol=1e-13)
    np.testing.assert_allclose(nn.SoftmaxCrossEntropy(reduction)(Z, ONEHOT).data, reduce(ce, reduction), rtol=1e-13)
    sq = (A - Y01) ** 2
    np.testing.assert_allclose(nn.MSE(reduction)(A, Y01).data,
                               {"sum": sq.sum(), "mean": sq.mean(), "none": sq}[reduction], rtol=1e-13)
    bce = -(Y01 * np.log(A) + (1 - Y01) * np.log(1 - A))
    np.testing.assert_allclose(nn.BCEWithLogits(reduction)(Z, Y01).data,
                               {"sum": bce.sum(), "mean": bce.mean(), "none": bce}[reduction], rtol=1e-12)
    np.testing.assert_allclose(nn.QuadraticCost(reduction)(A, Y01).data,
                               reduce(np_quadratic_rows(A, Y01), reduction), rtol=1e-13)
    np.testing.assert_allclose(nn.CrossEntropyCost(reduction)(Z, Y01).data,
                               reduce(np_network2_cross_entropy_rows(A, Y01), reduction), rtol=1e-12)


def test_the_documents_costs_sum_over_the_batch_by_default():
    assert nn.QuadraticCost().reduction == "sum" and nn.CrossEntropyCost().reduction == "sum"
    assert nn.MSE().reduction == "mean" and nn.SoftmaxCrossEntropy().reduction == "mean"
    total = sum(0.5 * np.linalg.norm(a - y) ** 2 for a, y in zip(A, Y01))
    assert nn.QuadraticCost()(A, Y01).item() == pytest.approx(total, rel=1e-13)
    # 1-D outputs (one output per example): 'none' gives one cost per example
    np.testing.assert_allclose(nn.QuadraticCost("none")(A[:, 0], Y01[:, 0]).data, 0.5 * (A[:, 0] - Y01[:, 0]) ** 2)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss_cls, target", [
    (nn.SoftmaxCrossEntropy, LABELS), (nn.SoftmaxCrossEntropy, ONEHOT), (nn.MSE, Y01),
    (nn.BCEWithLogits, Y01), (nn.QuadraticCost, Y01), (nn.CrossEntropyCost, Y01)],
    ids=["sce-labels", "sce-onehot", "mse", "bce", "quadratic", "network2-ce"])
def test_loss_gradcheck(loss_cls, target, reduction):
    loss = loss_cls(reduction)
    z = Tensor(Z, requires_grad=True)
    assert gradcheck(lambda t: loss(t, target), [z])


def test_soft_targets_gradcheck():
    probs = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    t = Tensor(probs[::-1].copy(), requires_grad=True)
    z = Tensor(Z, requires_grad=True)
    assert gradcheck(lambda a, b: nn.SoftmaxCrossEntropy()(a, b), [z, t])


def test_output_errors_are_the_documents_deltas():
    """network2: CrossEntropyCost.delta = a − y; QuadraticCost.delta = (a − y) σ'(z); softmax: ŷ − y."""
    z = Tensor(Z, requires_grad=True)
    nn.CrossEntropyCost()(z, Y01).backward()
    np.testing.assert_allclose(z.grad.data, A - Y01, rtol=1e-12, atol=1e-15)

    z = Tensor(Z, requires_grad=True)
    nn.QuadraticCost()(nn.Sigmoid()(z), Y01).backward()
    np.testing.assert_allclose(z.grad.data, (A - Y01) * A * (1 - A), rtol=1e-12, atol=1e-15)

    z = Tensor(Z, requires_grad=True)
    nn.SoftmaxCrossEntropy(reduction="sum")(z, LABELS).backward()
    p = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(z.grad.data, p - ONEHOT, rtol=1e-12, atol=1e-15)


def test_cross_entropy_cost_is_finite_where_the_documents_need_nan_to_num():
    z = Tensor([[-800.0, 800.0, 0.0]], requires_grad=True)
    y = np.array([[0.0, 1.0, 1.0]])
    loss = nn.CrossEntropyCost()(z, y)
    # σ(−800) = 0 with y = 0 and σ(800) = 1 with y = 1 cost nothing; σ(0) = ½ with y = 1 costs log 2
    assert loss.item() == pytest.approx(np.log(2), rel=1e-15)
    loss.backward()
    np.testing.assert_allclose(z.grad.data, [[0.0, 0.0, -0.5]], atol=1e-300)
    wrong = nn.CrossEntropyCost()(Tensor([[-800.0]]), np.array([[1.0]]))
    assert wrong.item() == pytest.approx(800.0)      # a confident mistake costs |z|, not inf


def test_losses_match_torch():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    zt = torch.from_numpy(Z)
    assert nn.SoftmaxCrossEntropy()(Z, LABELS).item() == pytest.approx(F.cross_entropy(zt, torch.from_numpy(LABELS)).item(), rel=1e-13)
    assert nn.MSE()(A, Y01).item() == pytest.approx(F.mse_loss(torch.from_numpy(A), torch.from_numpy(Y01)).item(), rel=1e-13)
    assert nn.BCEWithLogits("sum")(Z, Y01).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(zt, torch.from_numpy(Y01), reduction="sum").item(), rel=1e-13)


def test_loss_errors():
    with pytest.raises(ArgumentError, match="reduction='meen'"):
        nn.MSE("meen")
    with pytest.raises(ShapeError, match="target shape"):
        nn.MSE()(np.ones((4, 1)), np.ones(4))               # no silent (N, 1) vs (N,) broadcasting
    with pytest.raises(LabelError):
        nn.SoftmaxCrossEntropy()(Z, np.array([0, 1, 2, 3, 0]))
    assert nn.SoftmaxCrossEntropy().to_spec() == {"type": "SoftmaxCrossEntropy", "reduction": "mean"}
    assert repr(nn.QuadraticCost()) == "QuadraticCost(reduction='sum')"


# -- penalties --------------------------------------------------------------------------------------

def test_l2_and_l1_penalties_cover_weights_only_unless_asked():
    model = nn.MLP([2, 3, 2], rng=0)
    W1, b1, W2, b2 = (p.data for p in model.parameters())
    assert nn.l2_penalty(model, 0.1).item() == pytest.approx(0.05 * ((W1 ** 2).sum() + (W2 ** 2).sum()), rel=1e-14)
    with_bias = 0.05 * sum((p ** 2).sum() for p in (W1, b1 + 1, W2, b2 + 1))
    for p in (model[0].bias, model[2].bias):
        p.data[...] = 1.0
    assert nn.l2_penalty(model, 0.1, include_bias=True).item() == pytest.approx(with_bias, rel=1e-14)
    assert nn.l1_penalty(model, 0.1).item() == pytest.approx(0.1 * (np.abs(W1).sum() + np.abs(W2).sum()), rel=1e-14)
    nn.l2_penalty(model, 0.1).backward()
    np.testing.assert_allclose(model[0].weight.grad.data, 0.1 * W1, rtol=1e-14)
    assert model[0].bias.grad is None
    model.zero_grad()
    nn.l1_penalty(model.parameters(), 0.3).backward()
    np.testing.assert_allclose(model[2].weight.grad.data, 0.3 * np.sign(W2), rtol=1e-14)
    assert nn.l2_penalty([], 1.0).item() == 0.0
    for bad in (-1.0, float("nan"), float("inf"), True, "0.1"):
        with pytest.raises(ArgumentError, match="lam"):
            nn.l2_penalty(model, bad)


def test_doc000_total_loss_with_the_l2_term():
    """Doc 000's calculate_loss: (Σ −log p_correct + λ/2 (ΣW1² + ΣW2²)) / N."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((10, 2)), rng.integers(0, 2, 10)
    model = nn.MLP([2, 3, 2], rng=4)
    W1, b1, W2, b2 = (p.data for p in model.parameters())
    probs = np.exp(np.tanh(X @ W1 + b1) @ W2 + b2)
    probs /= probs.sum(axis=1, keepdims=True)
    want = (-np.log(probs[range(10), y]).sum() + 0.01 / 2 * (np.square(W1).sum() + np.square(W2).sum())) / 10
    ours = (nn.SoftmaxCrossEntropy("sum")(model(X), y) + nn.l2_penalty(model, 0.01)) * (1 / 10)
    assert ours.item() == pytest.approx(want, rel=1e-13)
