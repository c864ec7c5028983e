"""pytest plugin of tinygrad_edu (registered through the `pytest11` entry point, so installing the
package is enough): fixtures that check gradients.

    def test_my_backprop(assert_backprop):            # tinygrad_edu.testing.assert_backprop_close
        assert_backprop(forward, backward, params, X, y)

Fixtures
    assert_backprop     check hand-written gradients (check_backprop); a failure's message is the
                        report. With --backprop-graphs=DIR, the forward graph of a failing check is
                        written to DIR/<test>.dot (and .svg when Graphviz's dot is installed), the
                        wrong parameters in red.
    assert_gradcheck    autodiff against central differences for a function (gradcheck)
    backprop_rng        a NumPy Generator seeded from the test's id: random weights that are the
                        same on every run and every machine
"""
import os
import re
import shutil
import zlib

import numpy as np
import pytest

from . import testing


def pytest_addoption(parser):
    group = parser.getgroup("tinygrad_edu", "tinygrad_edu gradient checks")
    group.addoption("--backprop-graphs", metavar="DIR", default=None,
                    help="write the forward graph of every failing assert_backprop check to DIR "
                         "(DOT, and SVG when Graphviz's dot is installed), wrong parameters in red")


@pytest.fixture
def assert_backprop(request):
    """tinygrad_edu.testing.assert_backprop_close, drawing failures into --backprop-graphs."""
    folder = request.config.getoption("--backprop-graphs")
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    calls = []

    def check(forward, backward=None, params=None, *data, **options):
        __tracebackhide__ = True
        calls.append(None)
        try:
            return testing.assert_backprop_close(forward, backward, params, *data, **options)
        except AssertionError as e:
            if folder and getattr(e, "report", None) is not None:
                _draw_failure(e.report, folder, name + (f"-{len(calls)}" if len(calls) > 1 else ""))
            raise
    return check


def _draw_failure(report, folder, name):
    if report._graph is None:           # the forward itself failed: nothing to draw
        return
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with open(path + ".dot", "w", encoding="utf-8") as f:
        f.write(report.to_dot())
    if shutil.which("dot"):
        report.draw(path + ".svg")


@pytest.fixture
def assert_gradcheck():
    """tinygrad_edu.testing.assert_gradcheck."""
    return testing.assert_gradcheck


@pytest.fixture
def backprop_rng(request):
    """np.random.Generator seeded from the test's id (stable across runs and machines)."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
