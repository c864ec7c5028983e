"""Loss modules and regularisation penalties.

Two families, with different meanings of reduction='mean':

    PyTorch-style (default reduction 'mean')
    SoftmaxCrossEntropy   −Σ_c y_c log softmax(z)_c per row       'mean': over the rows
    MSE                   (a − y)²                                 'mean': over all elements
    BCEWithLogits         −[y log σ(z) + (1−y) log(1−σ(z))]        'mean': over all elements

    The documents' costs (network2; default reduction 'sum', as the documents sum over a batch)
    QuadraticCost         ½‖a − y‖² per example                    'mean': over the examples (rows)
    CrossEntropyCost      Σ_j −y_j log a_j − (1−y_j) log(1−a_j) per example, with a = σ(z),
                          taken from the logits z so it never produces log(0)   'mean': over examples

reduction='none' returns one loss per row (SoftmaxCrossEntropy, QuadraticCost, CrossEntropyCost) or
per element (MSE, BCEWithLogits). Every loss is called as loss_fn(output, target) and returns a Tensor.
The fused engine ops give the documents' output error δ directly: softmax(z) − y, σ(z) − y.

Regularisation as a loss term (the same rules as the optimizers' weight_decay and l1 options):
    l2_penalty(model, lam) = (lam / 2) Σ w²   (gradient lam·w)
    l1_penalty(model, lam) = lam Σ |w|        (gradient lam·sign(w))
over the weights only (parameters with ndim >= 2) unless include_bias=True. The documents write the
L2 term of a mean loss over n training examples as (λ / 2n) Σ w²: pass lam = λ / n.
"""

from tinygrad_edu import ArgumentError, Tensor

from .module import Module
from .optim import check_number

_REDUCTIONS = ("mean", "sum", "none")


class Loss(Module):
    """Base of the loss modules: holds `reduction`; `to_spec()` gives its spec section."""
    default_reduction = "mean"
    decision_threshold = 0.0     # single-output accuracy: a logit above 0 means class 1

    def __init__(self, reduction=None):
        if reduction is None:
            reduction = self.default_reduction
        if reduction not in _REDUCTIONS:
            raise ArgumentError(f"{type(self).__name__}: reduction={reduction!r} is not one of "
                                "'mean', 'sum', 'none'")
        self.reduction = reduction

    def extra_repr(self):
        """The reduction, as in `SoftmaxCrossEntropy(reduction='mean')`."""
        return f"reduction={self.reduction!r}"

    def to_spec(self):
        """The "loss" section of a spec: {"type": <class name>, "reduction": ...}."""
        return {"type": type(self).__name__, "reduction": self.reduction}

    def spec_layers(self):
        """Losses are not layers: refused."""
        raise ArgumentError(f"{type(self).__name__} is a loss, not a layer")


class SoftmaxCrossEntropy(Loss):
    """Cross-entropy of softmax(logits) against integer labels (N,) or probability rows (N, C).

    Takes the logits z (the network must not end with Softmax): the fused op is stable and its
    gradient is the documents' δ = softmax(z) − y (divided by N for 'mean')."""

    def forward(self, logits, target):
        """logits (N, C), target labels (N,) or rows (N, C) -> the reduced loss."""
        return Tensor.softmax_cross_entropy(logits, target, self.reduction)


class MSE(Loss):
    """Mean squared error (a − y)², as torch.nn.MSELoss: 'mean' averages over every element.
    For the documents' ½‖a − y‖² use QuadraticCost. Shapes must match exactly."""
    decision_threshold = 0.5     # outputs are meant to approach 0/1 targets

    def forward(self, prediction, target):
        """prediction and target of the same shape -> the reduced loss."""
        return Tensor.mse(prediction, target, self.reduction)


class BCEWithLogits(Loss):
    """Binary cross-entropy of σ(logits) against targets in [0, 1], from the logits (stable).
    'mean' averages over every element, as torch.nn.BCEWithLogitsLoss. Shapes must match exactly."""

    def forward(self, logits, target):
        """logits and 0/1 (or probability) targets of the same shape -> the reduced loss."""
        return Tensor.binary_cross_entropy_with_logits(logits, target, self.reduction)


def _per_example(losses):
    """Sum element losses (N, ...) over everything but the first axis -> (N,)."""
    if losses.ndim <= 1:
        return losses
    return losses.sum(axis=tuple(range(1, losses.ndim)))


def _n_examples(x):
    shape = x.shape if isinstance(x, Tensor) else getattr(x, "shape", ())
    return shape[0] if len(shape) else 1


class QuadraticCost(Loss):
    """The documents' quadratic cost C = ½‖a − y‖² (network2's QuadraticCost.fn), on the outputs a.

    reduction='sum' (default): ½ Σ over the batch and the outputs; 'mean': divided by the number of
    examples N (rows, as network2's total_cost); 'none': ½‖a_n − y_n‖² for each row, shape (N,).
    Its gradient is (a − y); through a sigmoid output layer that gives network2's
    δ = (a − y) σ'(z), the slow-learning term cross-entropy removes."""
    default_reduction = "sum"
    decision_threshold = 0.5

    def forward(self, prediction, target):
        """outputs a (N, C) and targets y (N, C) -> ½‖a − y‖², reduced."""
        if self.reduction == "none":
            return _per_example(Tensor.mse(prediction, target, "none")) * 0.5
        total = Tensor.mse(prediction, target, "sum")
        if self.reduction == "sum":
            return total * 0.5
        return total * (0.5 / max(_n_examples(prediction), 1))


class CrossEntropyCost(Loss):
    """network2's CrossEntropyCost for sigmoid outputs, taking the LOGITS z (a = σ(z) is not formed):

        C = Σ_j −y_j log a_j − (1 − y_j) log(1 − a_j)     (network2: np.sum(np.nan_to_num(...)))

    Computed as max(z, 0) − z·y + log(1 + e^−|z|), which is finite for every z, so the
    documents' nan_to_num is not needed; its gradient is their δ = a − y.
    reduction='sum' (default, over the batch and the outputs), 'mean' (divided by the number of
    examples N), 'none' (one cost per example, shape (N,))."""
    default_reduction = "sum"

    def forward(self, logits, target):
        """logits z (N, C) and targets y (N, C) -> the reduced cost."""
        if self.reduction == "none":
            return _per_example(Tensor.binary_cross_entropy_with_logits(logits, target, "none"))
        total = Tensor.binary_cross_entropy_with_logits(logits, target, "sum")
        if self.reduction == "sum":
            return total
        return total * (1.0 / max(_n_examples(logits), 1))


LOSSES = {cls.__name__: cls for cls in (SoftmaxCrossEntropy, MSE, QuadraticCost, BCEWithLogits,
                                         CrossEntropyCost)}


# -- PyTorch's names for the same losses (a spec records them under ours) ------------------------------

class CrossEntropyLoss(SoftmaxCrossEntropy):
    """torch.nn.CrossEntropyLoss's name for SoftmaxCrossEntropy: logits (N, C) and integer labels (N,)
    or probability rows (N, C); 'mean' averages over the rows."""

    def to_spec(self):
        return {"type": "SoftmaxCrossEntropy", "reduction": self.reduction}


class MSELoss(MSE):
    """torch.nn.MSELoss's name for MSE: (a − y)², 'mean' over every element."""

    def to_spec(self):
        return {"type": "MSE", "reduction": self.reduction}


class BCEWithLogitsLoss(BCEWithLogits):
    """torch.nn.BCEWithLogitsLoss's name for BCEWithLogits."""

    def to_spec(self):
        return {"type": "BCEWithLogits", "reduction": self.reduction}


# -- regularisation penalties ----------------------------------------------------------------------

def _regularised(model_or_params, include_bias, what):
    params = model_or_params.parameters() if isinstance(model_or_params, Module) else model_or_params
    chosen = []
    for p in params:
        if not isinstance(p, Tensor):
            raise ArgumentError(f"{what}: expected a Module or Tensors, got a {type(p).__name__}")
        if include_bias or p.ndim >= 2:
            chosen.append(p)
    return chosen


def l2_penalty(model, lam, include_bias=False):
    """(lam / 2) · Σ w² over the weights (ndim >= 2) of a Module or an iterable of parameters.
    Adding it to a loss adds lam·w to each weight's gradient, like SGD(weight_decay=lam)."""
    lam = check_number(lam, "lam", "l2_penalty")
    total = None
    for p in _regularised(model, include_bias, "l2_penalty"):
        term = (p * p).sum()
        total = term if total is None else total + term
    return Tensor(0.0) if total is None else total * (0.5 * lam)


def l1_penalty(model, lam, include_bias=False):
    """lam · Σ |w| over the weights (ndim >= 2). Adds lam·sign(w) to each weight's gradient, like
    SGD(l1=lam) - network2's L1 rule w ← w − (ηλ/n) sign(w) − η ∇w with lam = λ/n."""
    lam = check_number(lam, "lam", "l1_penalty")
    total = None
    for p in _regularised(model, include_bias, "l1_penalty"):
        term = p.abs().sum()
        total = term if total is None else total + term
    return Tensor(0.0) if total is None else total * lam
