"""nn.to_torch, nn.from_torch and nn.torch_code: the bridge to PyTorch. Models cross in both directions
with the same outputs and gradients (float64, to 1e-12); a spec's PyTorch code trains to the same
weights as nn.fit. Without PyTorch, a clear error says what to install."""
import pathlib
import re
import sys

import numpy as np
import pytest

import nn
from nn.torch_bridge import TorchNotInstalled
from tinygrad_edu import ArgumentError, Tensor

ROOT = pathlib.Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(8)


def _torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def _model(dtype=np.float64):
    nn.manual_seed(4)
    return nn.Sequential(nn.Flatten(), nn.Linear(6, 8, dtype=dtype), nn.GELU(), nn.Linear(8, 8, dtype=dtype),
                         nn.LeakyReLU(0.2), nn.Dropout(0.3), nn.Linear(8, 8, bias=False, dtype=dtype), nn.ELU(0.7),
                         nn.Linear(8, 8, dtype=dtype), nn.SiLU(), nn.Softplus(1.5), nn.Tanh(),
                         nn.MLP([8, 5, 3], activation="sigmoid", output_activation="relu", dtype=dtype),
                         nn.GELU("tanh"), nn.Identity(), nn.Softmax(axis=1))


def test_to_torch_gives_the_same_outputs_and_gradients():
    torch = _torch()
    ours = _model().eval()                                   # (dropout off: the same function)
    theirs = nn.to_torch(ours)
    assert isinstance(theirs, torch.nn.Sequential) and not theirs.training
    X, labels = RNG.standard_normal((5, 2, 3)), np.array([0, 2, 1, 1, 0])
    out = ours(X)
    t_out = theirs(torch.from_numpy(X))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-14)
    out.log().softmax_cross_entropy(labels).backward()
    torch.nn.functional.cross_entropy(t_out.log(), torch.from_numpy(labels)).backward()
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        g = t_params[name].grad.numpy()
        np.testing.assert_allclose(p.grad.data, g.T if p.ndim == 2 else g, rtol=1e-12, atol=1e-14, err_msg=name)


def test_weights_are_transposed_copies():
    torch = _torch()
    ours = nn.Sequential(nn.Linear(3, 2, rng=0))
    theirs = nn.to_torch(ours)
    assert tuple(theirs[0].weight.shape) == (2, 3)          # PyTorch's (out, in); ours is (in, out)
    np.testing.assert_array_equal(theirs[0].weight.detach().numpy(), ours[0].weight.data.T)
    before = ours[0].weight.data.copy()
    with torch.no_grad():
        theirs[0].weight.add_(1.0)
    np.testing.assert_array_equal(ours[0].weight.data, before)                     # no shared memory
    back = nn.from_torch(theirs)
    assert not np.shares_memory(back[0].weight.data, theirs[0].weight.detach().numpy())


def test_from_torch_and_back():
    torch = _torch()
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 6, dtype=torch.float64), torch.nn.ReLU(),
                                 torch.nn.Dropout(0.2), torch.nn.Linear(6, 6, dtype=torch.float64),
                                 torch.nn.LeakyReLU(0.05), torch.nn.Linear(6, 6, dtype=torch.float64),
                                 torch.nn.Softplus(beta=2.0), torch.nn.Linear(6, 3, dtype=torch.float64),
                                 torch.nn.Softmax(dim=-1))
    theirs.eval()
    ours = nn.from_torch(theirs)
    assert isinstance(ours, nn.Sequential) and not ours.training
    assert [type(m).__name__ for m in ours] == ["Linear", "ReLU", "Dropout", "Linear", "LeakyReLU", "Linear",
                                                "Softplus", "Linear", "Softmax"]
    X = RNG.standard_normal((7, 4))
    np.testing.assert_allclose(ours(X).data, theirs(torch.from_numpy(X)).detach().numpy(), rtol=1e-12)
    again = nn.to_torch(ours).state_dict()
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(again[k].numpy(), v.numpy())


def test_float32_stays_float32_across():
    torch = _torch()
    ours = nn.MLP([2, 4, 2], dtype=np.float32, rng=1)
    theirs = nn.to_torch(ours)
    assert theirs[0].weight.dtype == torch.float32
    back = nn.from_torch(theirs)
    assert back[0].weight.dtype == np.float32
    x = RNG.standard_normal((3, 2)).astype(np.float32)
    np.testing.assert_allclose(back(x).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-6)


def test_what_has_no_counterpart_is_named():
    torch = _torch()

    class Doubler(nn.Module):
        def forward(self, x):
            return x * 2.0
    with pytest.raises(ArgumentError, match="to_torch: no PyTorch equivalent is known for Doubler"):
        nn.to_torch(nn.Sequential(nn.Linear(2, 2, rng=0), Doubler()))
    with pytest.raises(ArgumentError, match="from_torch: nn has no layer for torch.nn.Conv2d"):
        nn.from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3)))
    with pytest.raises(ArgumentError, match="from_torch: expected a torch.nn.Module"):
        nn.from_torch(nn.Linear(2, 2, rng=0))


def test_without_pytorch_a_clear_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)          # `import torch` now raises ImportError
    for call in (lambda: nn.to_torch(nn.MLP([2, 2], rng=0)), lambda: nn.from_torch(object())):
        with pytest.raises(TorchNotInstalled, match=r"needs PyTorch, which is not installed: pip install torch==2\.13\.0"):
            call()
    assert issubclass(TorchNotInstalled, ImportError)
    code = nn.torch_code({"layers": [{"type": "Linear", "in": 2, "out": 2}]})   # writing code needs no torch
    assert "torch.nn.Linear(2, 2, dtype=torch.float64)" in code


def test_the_torch_extra_is_pinned():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^torch = \["torch==2\.13\.0"\]', text, re.M)


# ---------------------------------------------------------------------------------------------------
# A spec as PyTorch code: the same training as nn.fit


SPECS = {
    "SGD momentum, weight decay, L1, annealing, shuffled mini-batches": {
        "seed": 1, "layers": [{"type": "Linear", "in": 2, "out": 6}, {"type": "Tanh"},
                              {"type": "Linear", "in": 6, "out": 2}],
        "loss": {"type": "SoftmaxCrossEntropy"},
        "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01,
                      "l1": 0.001, "schedule": {"type": "annealing", "decay": 0.01}},
        "training": {"epochs": 4, "batch_size": 16, "seed": 3}},
    "Adam, step schedule, biases regularised": {
        "layers": [{"type": "Linear", "in": 2, "out": 5}, {"type": "ReLU"}, {"type": "Linear", "in": 5, "out": 2}],
        "loss": {"type": "SoftmaxCrossEntropy", "reduction": "sum"},
        "optimizer": {"type": "Adam", "lr": 0.01, "weight_decay": 0.001, "regularize_bias": True,
                      "schedule": {"type": "step", "step_size": 3, "gamma": 0.5}},
        "training": {"epochs": 3, "batch_size": 10, "shuffle": False}},
    "the documents' quadratic cost, sigmoid, full batch": {
        "layers": [{"type": "Linear", "in": 2, "out": 4}, {"type": "Sigmoid"}, {"type": "Linear", "in": 4, "out": 2},
                   {"type": "Sigmoid"}],
        "loss": {"type": "QuadraticCost", "reduction": "mean"},
        "optimizer": {"type": "SGD", "lr": 0.5, "schedule": {"type": "exponential", "gamma": 0.9, "every": 2}},
        "training": {"epochs": 6}},
    "network2's cross-entropy cost, float32": {
        "layers": [{"type": "Linear", "in": 2, "out": 3, "dtype": "float32"}, {"type": "Sigmoid"},
                   {"type": "Linear", "in": 3, "out": 2, "dtype": "float32"}],
        "loss": {"type": "CrossEntropyCost"}, "optimizer": {"type": "SGD", "lr": 0.1, "weight_decay": 0.01},
        "training": {"epochs": 3, "batch_size": 20, "seed": 0}},
}


@pytest.mark.parametrize("name", list(SPECS))
def test_a_specs_pytorch_code_trains_to_the_same_weights(name):
    torch = _torch()
    spec = SPECS[name]
    X, y = nn.data.make_moons(48, noise=0.2, seed=2)
    target = y if spec["loss"]["type"] == "SoftmaxCrossEntropy" else np.eye(2)[y]
    setup = nn.build_training(spec, seed=5)
    ns = {}
    exec(compile(nn.torch_code(spec), "<torch_code>", "exec"), ns)
    ns["model"].load_state_dict(nn.to_torch(setup.model).state_dict())
    setup.fit((X, target), progress=False)
    ns["train"](X, target)
    ours = nn.to_torch(setup.model).state_dict()
    rtol = 1e-5 if "float32" in name else 1e-10
    for k, v in ns["model"].state_dict().items():
        np.testing.assert_allclose(v.numpy(), ours[k].numpy(), rtol=rtol, atol=rtol * 1e-2, err_msg=k)


def test_torch_code_reads_a_spec_file_and_checks_it(tmp_path):
    path = tmp_path / "net.json"
    path.write_text('{"layers": [{"type": "Linear", "in": 2, "out": 3}, {"type": "Softmax", "axis": 1}]}')
    code = nn.torch_code(path)
    assert "torch.nn.Softmax(dim=1)" in code and "loss_fn = torch.nn.CrossEntropyLoss(reduction='mean')" in code
    with pytest.raises(nn.SpecError, match="layers"):
        nn.torch_code({"layers": [{"type": "Conv2d"}]})
    ours = Tensor(np.ones(2))                                # (Tensor import used: a spec is not a Tensor)
    with pytest.raises(nn.SpecError):
        nn.torch_code({"layers": ours})
