"""help(Tensor.sum) explains: every public Tensor method and property has a docstring, and so has
every public name of tinygrad_edu and nn."""
import inspect

import pytest

import nn
import tinygrad_edu as te
from tinygrad_edu import Tensor

PUBLIC = sorted(n for n, o in vars(Tensor).items()
                if not n.startswith("_") and (callable(o) or isinstance(o, property)))


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_tensor_method_has_a_docstring(name):
    doc = inspect.getdoc(getattr(Tensor, name))
    assert doc and len(doc) >= 10, f"Tensor.{name} has no real docstring: {doc!r}"


def test_reductions_say_what_their_options_do():
    for name in ("sum", "mean", "max"):
        doc = inspect.getdoc(getattr(Tensor, name))
        assert "axis" in doc or "dim" in doc, f"Tensor.{name}: {doc}"


@pytest.mark.parametrize("module", [te, nn], ids=["tinygrad_edu", "nn"])
def test_every_public_function_and_class_has_a_docstring(module):
    missing = [n for n in module.__all__ if (inspect.isfunction(getattr(module, n)) or inspect.isclass(getattr(module, n)))
               and not inspect.getdoc(getattr(module, n))]
    assert missing == []
