"""nn.functional: the functions behind the layers and losses, spelled as torch.nn.functional spells
them, so code written against PyTorch ports by changing the import:

    import nn.functional as F
    h = F.relu(F.linear(x, W, b))               # W (out, in), as PyTorch stores it: see linear
    loss = F.cross_entropy(h, labels)

Each is a thin wrapper over the engine's ops, whose gradients are checked in the op table. Two use
PyTorch's conventions where ours differ (their docstrings say so): `linear` takes the weight as
(out, in), and `pad` lists the last axis first.
"""
import numpy as np

import tinygrad_edu as te
from tinygrad_edu import ArgumentError, LabelError, ShapeError, Tensor

__all__ = ["relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "sigmoid", "tanh", "softmax", "log_softmax",
           "dropout", "linear", "one_hot", "pad", "cross_entropy", "nll_loss", "mse_loss", "l1_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits"]


def _t(x):
    return x if isinstance(x, Tensor) else Tensor(x)


# -- activations -------------------------------------------------------------------------------------

def relu(x):
    return _t(x).relu()


def leaky_relu(x, negative_slope=0.01):
    return _t(x).leaky_relu(negative_slope)


def elu(x, alpha=1.0):
    return _t(x).elu(alpha)


def gelu(x, approximate="none"):
    return _t(x).gelu(approximate)


def silu(x):
    return _t(x).silu()


def softplus(x, beta=1.0):
    return _t(x).softplus(beta)


def sigmoid(x):
    return _t(x).sigmoid()


def tanh(x):
    return _t(x).tanh()


def softmax(x, dim=-1):
    return _t(x).softmax(dim=dim)


def log_softmax(x, dim=-1):
    return _t(x).log_softmax(dim=dim)


def dropout(x, p=0.5, training=True, generator=None):
    """Inverted dropout (te.dropout): zero with probability p, scale the rest by 1 / (1 − p)."""
    return te.dropout(x, p, training, generator)


# -- layers as functions --------------------------------------------------------------------------------

def linear(x, weight, bias=None):
    """x @ weightᵀ + bias with weight of shape (out_features, in_features): PyTorch's layout.
    nn.Linear stores its weight the other way round, (in, out), as the documents write z = xW + b:
    for an nn.Linear layer, use x.linear(layer.weight, layer.bias) or the layer itself."""
    x, weight = _t(x), _t(weight)
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if x.shape[-1:] != weight.shape[1:]:
        raise ShapeError(f"linear: input of shape {x.shape} does not fit a weight of shape {weight.shape} "
                         f"(PyTorch's layout (out, in): the input's last axis must be {weight.shape[1]})")
    out = x @ weight.T
    return out if bias is None else out + bias


def one_hot(labels, num_classes=-1):
    """Integer labels (...) -> rows (..., num_classes) of 0/1 as int64 (no gradient), as PyTorch's."""
    labels = np.asarray(labels.data if isinstance(labels, Tensor) else labels)
    if labels.dtype.kind not in "iu":
        raise LabelError(f"one_hot: labels must be integers, got dtype {labels.dtype}")
    n = int(labels.max()) + 1 if num_classes == -1 and labels.size else max(int(num_classes), 0)
    _check_labels("one_hot", labels, n)
    return Tensor((labels[..., None] == np.arange(n)).astype(np.int64))


def pad(x, pad, mode="constant", value=0.0):
    """PyTorch's F.pad: `pad` lists (before, after) pairs starting from the LAST axis, e.g.
    (1, 1, 2, 0) pads the last axis by 1 on both sides and the one before it by 2 in front.
    (Tensor.pad and np.pad take one pair per axis, first axis first.)"""
    if mode != "constant":
        raise ArgumentError(f"pad: only mode='constant' is supported, got {mode!r}")
    x = _t(x)
    pad = list(pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ArgumentError(f"pad: expected an even number of sizes, at most 2 per axis of a {x.ndim}-D tensor, "
                            f"got {tuple(pad)}")
    pairs = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        pairs[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    return x.pad(tuple(pairs), value)


# -- losses -------------------------------------------------------------------------------------------

def _check_reduction(what, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ArgumentError(f"{what}: reduction={reduction!r} is not one of 'mean', 'sum', 'none'")


def _reduce(losses, reduction):
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.mean()


def _check_labels(what, labels, n):
    if labels.dtype.kind not in "iu":
        raise LabelError(f"{what}: class labels must be integers, got dtype {labels.dtype}")
    bad = np.flatnonzero((labels.reshape(-1) < 0) | (labels.reshape(-1) >= n))
    if bad.size:
        raise LabelError(f"{what}: label {labels.reshape(-1)[bad[0]]} at position {bad[0]} is out of range "
                         f"for {n} classes (valid labels are 0..{n - 1})")


def cross_entropy(input, target, reduction="mean"):
    """Softmax cross-entropy of logits (N, C) against integer labels (N,) or probability rows
    (N, C), fused and stable; its gradient is softmax(z) − y (divided by N for 'mean')."""
    return _t(input).softmax_cross_entropy(target, reduction)


def nll_loss(input, target, reduction="mean"):
    """−input[n, target[n]]: the negative log-likelihood of log-probabilities (N, C), e.g. the output
    of log_softmax (cross_entropy is log_softmax then nll_loss, fused)."""
    _check_reduction("nll_loss", reduction)
    logp = _t(input)
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if logp.ndim != 2 or labels.shape != logp.shape[:1]:
        raise ShapeError(f"nll_loss: expected input (N, C) and labels (N,), got {logp.shape} and {labels.shape}")
    _check_labels("nll_loss", labels, logp.shape[1])
    return _reduce(-logp[np.arange(len(labels)), labels], reduction)


def _pair(what, input, target):
    input, target = _t(input), _t(target)
    if input.shape != target.shape:
        raise ShapeError(f"{what}: target shape {target.shape} does not match input shape {input.shape}")
    return input, target


def mse_loss(input, target, reduction="mean"):
    """(input − target)², reduced ('mean' over every element)."""
    return _t(input).mse(target, reduction)


def l1_loss(input, target, reduction="mean"):
    """|input − target|, reduced (its gradient is sign(input − target), 0 where they are equal)."""
    _check_reduction("l1_loss", reduction)
    input, target = _pair("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def binary_cross_entropy_with_logits(input, target, reduction="mean"):
    """BCE of σ(logits) against targets in [0, 1], computed from the logits (stable)."""
    return _t(input).binary_cross_entropy_with_logits(target, reduction)


def binary_cross_entropy(input, target, reduction="mean"):
    """BCE of probabilities in [0, 1]: −[y log p + (1 − y) log(1 − p)], each log clamped at −100 as
    PyTorch does (so p = 0 or 1 gives a large finite loss, not inf - but no useful gradient there:
    the derivative of log p at p = 0 is not finite). Prefer binary_cross_entropy_with_logits."""
    _check_reduction("binary_cross_entropy", reduction)
    p, y = _pair("binary_cross_entropy", input, target)
    with np.errstate(divide="ignore"):                       # log 0 = −inf, clamped just below
        log_p, log_q = p.log().clip(min=-100.0), (1 - p).log().clip(min=-100.0)
    return _reduce(-(y * log_p + (1 - y) * log_q), reduction)
