"""The README's first example, and the layering rule that the engine never imports nn."""
import subprocess
import sys

import numpy as np

from tinygrad_edu import Tensor


def test_readme_first_example():
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    x = Tensor([[1.0, 2.0]])
    loss = (x @ W).tanh().sum()
    loss.backward()
    expected = np.array([[1.0], [2.0]]) * (1 - np.tanh(np.array([[1.0, 2.0]]) @ W.data) ** 2)
    assert W.grad.shape == W.shape and W.grad.dtype == W.dtype
    np.testing.assert_allclose(np.asarray(W.grad), expected, rtol=1e-12)


def test_importing_the_engine_does_not_import_nn():
    code = "import sys, tinygrad_edu; print('nn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
