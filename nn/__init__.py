"""nn: neural networks defined declaratively, built only on tinygrad_edu's public API.

    import nn
    from nn.data import make_moons

    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))          # or:
    model = nn.from_spec({"layers": [{"type": "Linear", "in": 2, "out": 3}, {"type": "Tanh"},
                                     {"type": "Linear", "in": 3, "out": 2}]})
    X, y = make_moons(200, noise=0.2, seed=0)
    opt = nn.SGD(model.parameters(), lr=0.01, weight_decay=0.01)
    history = nn.fit(model, nn.SoftmaxCrossEntropy(), opt, (X, y), epochs=200, batch_size=None)
    model.save("moons.npz"); same = nn.load("moons.npz")

Reading order: module.py (Module, Parameter) -> layers.py -> losses.py -> optim.py -> train.py ->
spec.py (the declarative format) -> io.py (files) -> init.py (initializers) -> errors.py.
Data sets live in nn.data (`from nn.data import make_moons`), plots in nn.plot, the documents'
hand-written formulas in nn.reference: each imported only when asked for.
"""
from . import functional, init  # noqa: F401
from .errors import LoadError, SpecError
from .init import manual_seed
from .io import load, load_weights, read_spec, save, save_weights
from .layers import (ELU, GELU, MLP, Dropout, Flatten, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid,
                     SiLU, Softmax, Softplus, Tanh)
from .losses import (MSE, BCEWithLogits, BCEWithLogitsLoss, CrossEntropyCost, CrossEntropyLoss, Loss, MSELoss,
                     QuadraticCost, SoftmaxCrossEntropy, l1_penalty, l2_penalty)
from .module import Module, Parameter
from .optim import SGD, Adam, Annealing, ExponentialDecay, Optimizer, Schedule, StepDecay
from .spec import from_spec, load_spec, validate_spec
from .train import History, TrainingSetup, accuracy, build_training, fit
from .torch_bridge import TorchNotInstalled, from_torch, to_torch, torch_code

__all__ = [
    "Module", "Parameter",
    "Linear", "Tanh", "Sigmoid", "ReLU", "Identity", "Softmax", "Sequential", "MLP",
    "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus", "Flatten", "Dropout", "functional",
    "Loss", "SoftmaxCrossEntropy", "MSE", "QuadraticCost", "BCEWithLogits", "CrossEntropyCost",
    "CrossEntropyLoss", "MSELoss", "BCEWithLogitsLoss",
    "l2_penalty", "l1_penalty",
    "Optimizer", "SGD", "Adam", "Schedule", "Annealing", "StepDecay", "ExponentialDecay",
    "fit", "History", "accuracy", "TrainingSetup",
    "from_spec", "validate_spec", "load_spec", "build_training",
    "save", "load", "save_weights", "load_weights", "read_spec",
    "init", "manual_seed", "SpecError", "LoadError",
    "to_torch", "from_torch", "torch_code", "TorchNotInstalled",
]


_LAZY = ("data", "plot", "reference", "checks")


def __getattr__(name):
    # `nn.data`, `nn.plot`, ... work without an explicit import, and are not imported for everyone
    # else (nn.plot would pull in matplotlib)
    if name in _LAZY:
        import importlib
        return importlib.import_module(f"nn.{name}")
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
