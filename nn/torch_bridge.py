"""The bridge to PyTorch, for the day a learner outgrows tinygrad_edu. PyTorch stays optional: these
functions import it when they are called, and say what to install when it is missing.

    tmodel = nn.to_torch(model)        # an equivalent torch.nn.Module: same weights, outputs, gradients
    model = nn.from_torch(tmodel)      # and back, for the layers nn has
    print(nn.torch_code(spec))         # a spec (network, loss, optimizer, training) as PyTorch code

Weights: nn.Linear stores W with shape (in_features, out_features) and computes z = x W + b, the
documents' form; torch.nn.Linear stores it as (out_features, in_features) and computes z = x Wᵀ + b.
Both directions transpose (and copy: the two models never share memory), so `tmodel[0].weight` is
`model[0].weight.data.T`.
"""
import numpy as np

from tinygrad_edu import ArgumentError, DTypeError, TinygradError, no_grad

from .layers import (ELU, GELU, MLP, Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid,
                     SiLU, Softmax, Softplus, Tanh)
from .spec import load_spec, validate_spec

TORCH_VERSION = "2.13.0"          # the CPU build CI installs (pyproject.toml's `torch` extra)


class TorchNotInstalled(TinygradError, ImportError):
    """PyTorch is needed for this and is not installed; the message says what to install."""


def _import_torch(what):
    try:
        import torch
    except ImportError:
        raise TorchNotInstalled(f"{what} needs PyTorch, which is not installed: pip install torch=={TORCH_VERSION} "
                                f"(the CPU build), or pip install \"tinygrad-edu[torch]\"") from None
    return torch


# -- to PyTorch ---------------------------------------------------------------------------------------

_SAME = {Tanh: "Tanh", Sigmoid: "Sigmoid", ReLU: "ReLU", Identity: "Identity", SiLU: "SiLU"}


def to_torch(model):
    """An equivalent torch.nn.Module: a torch.nn.Sequential for a Sequential (or MLP), or the
    matching torch layer, with the same dtype, weights (Linear's transposed, see the module
    docstring) and train/eval mode. Same outputs and gradients (to rounding)."""
    torch = _import_torch("nn.to_torch")
    out = _to_torch(model, torch)
    out.train(model.training)
    return out


def _to_torch(m, torch):
    tnn = torch.nn
    kind = type(m)
    if kind in (Sequential, MLP):
        return tnn.Sequential(*[_to_torch(layer, torch) for layer in m])
    if kind is Linear:
        layer = tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None,
                           dtype=_torch_dtype(m.weight.dtype, torch))
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(m.weight.data.T)))   # (out, in)
            if m.bias is not None:
                layer.bias.copy_(torch.from_numpy(m.bias.data.copy()))
        return layer
    if kind in _SAME:
        return getattr(tnn, _SAME[kind])()
    made = {Softmax: lambda: tnn.Softmax(dim=m.axis),
            LeakyReLU: lambda: tnn.LeakyReLU(m.negative_slope),
            ELU: lambda: tnn.ELU(m.alpha),
            GELU: lambda: tnn.GELU(approximate=m.approximate),
            Softplus: lambda: tnn.Softplus(beta=m.beta),
            Flatten: lambda: tnn.Flatten(m.start_dim, m.end_dim),
            Dropout: lambda: tnn.Dropout(m.p)}.get(kind)
    if made is None:
        raise ArgumentError(f"to_torch: no PyTorch equivalent is known for {kind.__name__} (known: Sequential, "
                            "MLP, Linear, the activations, Flatten and Dropout); write its torch.nn.Module by hand")
    return made()


def _torch_dtype(dtype, torch):
    table = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}
    if np.dtype(dtype) not in table:
        raise DTypeError(f"to_torch: parameters must be float32 or float64, got {dtype}")
    return table[np.dtype(dtype)]


# -- from PyTorch -----------------------------------------------------------------------------------------

def from_torch(module):
    """The nn model equivalent to a torch.nn.Module made of the layers nn has: torch.nn.Sequential,
    Linear (its weight transposed to (in, out)), Tanh, Sigmoid, ReLU, Identity, Softmax, LeakyReLU,
    ELU, GELU, SiLU, Softplus, Flatten, Dropout. Anything else raises ArgumentError naming it."""
    torch = _import_torch("nn.from_torch")
    if not isinstance(module, torch.nn.Module):
        raise ArgumentError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    out = _from_torch(module, torch)
    out.train(module.training)
    return out


def _from_torch(t, torch):
    tnn = torch.nn
    kind = type(t)
    if kind is tnn.Sequential:
        return Sequential(*[_from_torch(layer, torch) for layer in t])
    if kind is tnn.Linear:
        dtype = {torch.float64: np.float64, torch.float32: np.float32}.get(t.weight.dtype)
        if dtype is None:
            raise DTypeError(f"from_torch: Linear weights must be float32 or float64, got {t.weight.dtype}")
        layer = Linear(t.in_features, t.out_features, bias=t.bias is not None, rng=np.random.default_rng(0),
                       dtype=dtype)                     # (the drawn weights are replaced just below)
        with no_grad():
            layer.weight.copy_(t.weight.detach().cpu().numpy().T)          # (out, in) -> (in, out)
            if t.bias is not None:
                layer.bias.copy_(t.bias.detach().cpu().numpy())
        return layer
    for ours, name in _SAME.items():
        if kind is getattr(tnn, name):
            return ours()
    if kind is tnn.Softmax:
        if t.dim is None:
            raise ArgumentError("from_torch: torch.nn.Softmax(dim=None) has no fixed axis; give it a dim")
        return Softmax(t.dim)
    made = {tnn.LeakyReLU: lambda: LeakyReLU(t.negative_slope), tnn.ELU: lambda: ELU(t.alpha),
            tnn.GELU: lambda: GELU(t.approximate), tnn.Softplus: lambda: Softplus(t.beta),
            tnn.Flatten: lambda: Flatten(t.start_dim, t.end_dim), tnn.Dropout: lambda: Dropout(t.p)}.get(kind)
    if made is None:
        raise ArgumentError(f"from_torch: nn has no layer for torch.nn.{kind.__name__} (it has Sequential, Linear, "
                            "Tanh, Sigmoid, ReLU, Identity, Softmax, LeakyReLU, ELU, GELU, SiLU, Softplus, "
                            "Flatten and Dropout)")
    return made()


# -- a spec as PyTorch code -------------------------------------------------------------------------------

def torch_code(spec):
    """The PyTorch code that builds and trains what a spec describes (a dict or a .json path): `model`
    (a torch.nn.Sequential), `loss_fn`, `optimizer` (and `scheduler` with a schedule) and
    `train(X, y)`, which runs the spec's training exactly as nn.fit does (same batches, same update
    rules: weight decay and L1 on the weights only unless regularize_bias, the schedule advanced once
    per step). The weights are PyTorch's own random ones; to start from an nn model's weights run
    `model.load_state_dict(nn.to_torch(ours).state_dict())`. Writing the code does not need PyTorch."""
    spec = load_spec(spec) if not isinstance(spec, dict) else validate_spec(spec)
    dtype = "torch.float64"
    layers = []
    for layer in spec["layers"]:
        kind = layer["type"]
        if kind == "Linear":
            dtype = f"torch.{layer.get('dtype', 'float64')}"
            bias = "" if layer.get("bias", True) else ", bias=False"
            layers.append(f"torch.nn.Linear({layer['in']}, {layer['out']}{bias}, dtype={dtype}),")
        elif kind == "Softmax":
            layers.append(f"torch.nn.Softmax(dim={layer.get('axis', -1)}),")
        else:
            layers.append(f"torch.nn.{kind}(),")
    loss = spec.get("loss", {"type": "SoftmaxCrossEntropy"})
    opt = spec.get("optimizer", {"type": "SGD", "lr": 0.01})
    training = spec.get("training", {})
    lines = [
        '"""Generated by nn.torch_code from a tinygrad_edu spec."""',
        "import numpy as np",
        "import torch",
        "",
    ]
    if "seed" in spec:
        lines += [f"torch.manual_seed({spec['seed']})  # PyTorch's own weights: not tinygrad_edu's for this seed"]
    lines += ["model = torch.nn.Sequential(", *["    " + text for text in layers], ")"]
    lines += _loss_lines(loss)
    lines += _optimizer_lines(opt)
    lines += _train_lines(training, dtype, loss["type"])
    return "\n".join(lines) + "\n"


def _loss_lines(loss):
    kind, reduction = loss["type"], loss.get("reduction", "sum" if loss["type"].endswith("Cost") else "mean")
    if kind in ("SoftmaxCrossEntropy", "MSE", "BCEWithLogits"):
        name = {"SoftmaxCrossEntropy": "CrossEntropyLoss", "MSE": "MSELoss", "BCEWithLogits": "BCEWithLogitsLoss"}
        return [f"loss_fn = torch.nn.{name[kind]}(reduction={reduction!r})"]
    per = "" if reduction == "sum" else " / len(a)"          # the documents' costs: 'mean' is per example
    if kind == "QuadraticCost":
        return ["", "", "def loss_fn(a, y):", "    \"\"\"The documents' quadratic cost ½‖a − y‖² (QuadraticCost).\"\"\"",
                f"    return 0.5 * ((a - y) ** 2).sum(){per}"]
    return ["", "", "def loss_fn(a, y):", "    \"\"\"network2's cross-entropy cost of sigmoid outputs, from the logits a "
            "(CrossEntropyCost).\"\"\"",
            f"    return torch.nn.functional.binary_cross_entropy_with_logits(a, y, reduction='sum'){per}"]


def _optimizer_lines(opt):
    wd, l1 = opt.get("weight_decay", 0.0), opt.get("l1", 0.0)
    lines = ["", ""]
    if opt.get("regularize_bias", False):
        lines += ["regularised = list(model.parameters())",
                  "groups = [{\"params\": regularised, \"weight_decay\": %r}]" % wd]
    else:
        lines += ["# tinygrad_edu's weight_decay and l1 act on the weights (ndim >= 2) only, not on the biases",
                  "regularised = [p for p in model.parameters() if p.ndim >= 2]",
                  "groups = [{\"params\": regularised, \"weight_decay\": %r},\n"
                  "          {\"params\": [p for p in model.parameters() if p.ndim < 2], \"weight_decay\": 0.0}]" % wd]
    if opt["type"] == "SGD":
        lines.append(f"optimizer = torch.optim.SGD(groups, lr={opt['lr']!r}, momentum={opt.get('momentum', 0.0)!r}, "
                     f"nesterov={opt.get('nesterov', False)!r})")
    else:
        betas = tuple(opt.get("betas", (0.9, 0.999)))
        lines.append(f"optimizer = torch.optim.Adam(groups, lr={opt.get('lr', 0.001)!r}, betas={betas!r}, "
                     f"eps={opt.get('eps', 1e-8)!r})")
    lines.append(f"L1 = {l1!r}  # L1 strength: PyTorch's optimizers have none, so train() adds L1 · Σ|w| to the loss")
    schedule = opt.get("schedule")
    if schedule is None:
        lines.append("scheduler = None")
    else:
        every = schedule.get("every", 1)
        factor = {"annealing": f"1.0 / (1.0 + {schedule.get('decay')!r} * (t // {every}))",
                  "step": f"{schedule.get('gamma', 0.1)!r} ** (t // {schedule.get('step_size')})",
                  "exponential": f"{schedule.get('gamma')!r} ** (t // {every})"}[schedule["type"]]
        lines.append(f"scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda t: {factor})  "
                     "# t: steps taken so far")
    return lines


def _train_lines(training, dtype, loss_type):
    epochs = training.get("epochs", 100)
    batch_size = training.get("batch_size")
    shuffle = training.get("shuffle", True)
    seed = training.get("seed")
    labels = ("    if not torch.is_floating_point(y):\n        y = y.long()            # class labels"
              if loss_type == "SoftmaxCrossEntropy" else f"    y = y.to({dtype})")
    return ["", "", f"def train(X, y, epochs={epochs!r}, batch_size={batch_size!r}, shuffle={shuffle!r}, seed={seed!r}):",
            '    """The spec\'s training, as nn.fit runs it: full batches in order, or mini-batches of the rows',
            '    shuffled every epoch by np.random.default_rng(seed).permutation."""',
            f"    X = torch.as_tensor(np.asarray(X), dtype={dtype})",
            "    y = torch.as_tensor(np.asarray(y))",
            labels,
            "    rng = np.random.default_rng(seed)",
            "    n = len(X)",
            "    model.train()",
            "    for epoch in range(epochs):",
            "        if batch_size is None or batch_size >= n:",
            "            batches = [np.arange(n)]",
            "        else:",
            "            order = rng.permutation(n) if shuffle else np.arange(n)",
            "            batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]",
            "        for rows in batches:",
            "            loss = loss_fn(model(X[rows]), y[rows])",
            "            if L1:",
            "                loss = loss + L1 * sum(p.abs().sum() for p in regularised)",
            "            optimizer.zero_grad()",
            "            loss.backward()",
            "            optimizer.step()",
            "            if scheduler is not None:",
            "                scheduler.step()",
            "    return model"]
