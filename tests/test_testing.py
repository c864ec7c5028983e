"""tinygrad_edu.testing (assertions and hypothesis strategies), the pytest plugin's fixtures, and the
worked example examples/check_my_backprop.py."""
import importlib.metadata
import importlib.util
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_edu as te
from tinygrad_edu import BackpropError, Function, GradcheckError, Tensor, TinygradError
from tinygrad_edu.testing import arrays, assert_backprop_close, assert_gradcheck, params, shapes, tensors

ROOT = pathlib.Path(__file__).resolve().parents[1]


def net(p, X):
    return np.sum(np.tanh(X.dot(p["W"]) + p["b"]) ** 2) / len(X)


def net_backward(p, X, scale=1.0):
    a = np.tanh(X.dot(p["W"]) + p["b"])
    d = scale * 2 * a * (1 - a ** 2) / len(X)
    return {"W": X.T.dot(d), "b": np.sum(d, axis=0)}


def small():
    rng = np.random.default_rng(11)
    return {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)}, rng.standard_normal((6, 3))


# ---------------------------------------------------------------------------------------------------
# Assertions

def test_assert_backprop_close_returns_the_report_when_gradients_agree():
    p, X = small()
    report = assert_backprop_close(net, net_backward, p, X)
    assert report.ok and set(report.params) == {"W", "b"}


def test_assert_backprop_close_fails_with_the_report_as_its_message():
    p, X = small()
    with pytest.raises(BackpropError) as info:
        assert_backprop_close(net, lambda p, X: net_backward(p, X, scale=len(X)), p, X)
    e = info.value
    assert isinstance(e, AssertionError) and isinstance(e, TinygradError)
    assert "2 of 2 hand-written gradients are WRONG" in str(e) and "off by a factor of N = 6" in str(e)
    assert e.report.wrong == ["W", "b"]


def test_assert_gradcheck_accepts_plain_numpy_functions_and_arrays():
    rng = np.random.default_rng(12)
    A, labels = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    report = assert_gradcheck(lambda x, t: -np.sum(np.log(np.exp(x)[range(4), t] / np.sum(np.exp(x), axis=1))),
                              A, labels)
    assert report.ok and report.checked == 12             # only the float array was checked


class WrongTanh(Function):
    """tanh with a backward off by 2.001 (the kind of bug gradcheck exists to catch)."""
    def forward(self, x):
        return np.tanh(x)

    def backward(self, g, x, out):
        return 2.001 * g * (1 - np.tanh(x) ** 2)


def test_assert_gradcheck_fails_with_the_mismatching_elements():
    with pytest.raises(GradcheckError) as info:
        assert_gradcheck(lambda x: WrongTanh.apply(x), np.array([0.3, -0.4]))
    text = str(info.value)
    assert isinstance(info.value, AssertionError)
    assert "assert_gradcheck(<lambda>): autodiff and central differences disagree" in text
    assert "2 of 2 elements disagree" in text
    with pytest.raises(te.ArgumentError, match="no input requires grad"):
        assert_gradcheck(lambda t: t * 2, np.array([1, 2]))


# ---------------------------------------------------------------------------------------------------
# Strategies

@settings(max_examples=15, deadline=None)
@given(params({"W": (3, 2), "b": (2,)}), arrays((6, 3)))
def test_strategies_drive_check_backprop_a_correct_backward_always_passes(p, X):
    assert set(p) == {"W", "b"} and p["W"].shape == (3, 2) and p["W"].dtype == np.float64
    assert np.all(np.abs(p["W"]) <= 2) and np.all(np.abs(X) <= 3)
    assert_backprop_close(net, net_backward, p, X)


@settings(max_examples=15, deadline=None)
@given(params({"W": (3, 2), "b": (2,)}), arrays((6, 3), low=-1, high=1))
def test_strategies_drive_check_backprop_a_sign_flip_is_always_named(p, X):
    report = te.check_backprop(net, lambda p, X: net_backward(p, X, scale=-1.0), p, X)
    for name, r in report.params.items():
        if np.abs(r.true).max() > 1e-6:                   # a zero gradient has no sign to flip
            assert not r.ok and r.diagnoses[0].kind == "sign", str(report)


@settings(max_examples=20, deadline=None)
@given(shapes(min_dims=1, max_dims=3, max_side=4), tensors(shape=(2, 3), requires_grad=True))
def test_shape_and_tensor_strategies(shape, t):
    assert 1 <= len(shape) <= 3 and all(1 <= n <= 4 for n in shape)
    assert isinstance(t, Tensor) and t.requires_grad and t.shape == (2, 3) and np.isfinite(t.data).all()


def test_the_engine_and_testing_import_without_hypothesis_or_pytest():
    code = textwrap.dedent("""
        import sys
        sys.modules["hypothesis"] = None                  # as if it were not installed
        import tinygrad_edu, tinygrad_edu.testing as t
        assert "pytest" not in sys.modules
        try:
            t.shapes()
        except ImportError as e:
            print(e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "need hypothesis: pip install hypothesis" in out.stdout


# ---------------------------------------------------------------------------------------------------
# The pytest plugin

LEARNER_TESTS = '''
import numpy as np

def forward(p, X):
    return np.sum(np.tanh(X.dot(p["W"])) ** 2) / len(X)

def backward(p, X):
    a = np.tanh(X.dot(p["W"]))
    return {"W": X.T.dot(2 * a * (1 - a ** 2))}          # forgot / len(X)

def test_my_backprop(assert_backprop, backprop_rng):
    assert_backprop(forward, backward, {"W": backprop_rng.standard_normal((3, 2))},
                    backprop_rng.standard_normal((5, 3)))

def test_fixed(assert_backprop, backprop_rng):
    fixed = lambda p, X: {"W": backward(p, X)["W"] / len(X)}
    assert_backprop(forward, fixed, {"W": backprop_rng.standard_normal((3, 2))}, backprop_rng.standard_normal((5, 3)))

def test_gradcheck(assert_gradcheck):
    assert_gradcheck(lambda x: np.sum(np.exp(x) * x), np.array([0.5, -1.0]))

def test_rng_is_seeded_from_the_test_id(backprop_rng, request):
    import zlib
    expected = np.random.default_rng(zlib.crc32(request.node.nodeid.encode())).standard_normal(3)
    assert np.array_equal(backprop_rng.standard_normal(3), expected)
'''


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    eps = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "tinygrad_edu"]
    assert [e.value for e in eps] == ["tinygrad_edu.pytest_plugin"]
    assert 'tinygrad_edu = "tinygrad_edu.pytest_plugin"' in (ROOT / "pyproject.toml").read_text()


def test_a_learners_three_line_test_fails_with_the_report_and_draws_the_graph(tmp_path):
    (tmp_path / "test_learner.py").write_text(LEARNER_TESTS)
    graphs = tmp_path / "graphs"
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_learner.py",
                          f"--backprop-graphs={graphs}"], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 failed, 3 passed" in out.stdout
    assert "off by a factor of N = 5 (X has 5 rows)" in out.stdout
    assert "BackpropError" in out.stdout
    dot = (graphs / "test_my_backprop.dot").read_text()
    assert dot.startswith("digraph G {") and "your dW is wrong" in dot and 'fillcolor="#fecaca"' in dot
    assert sorted(p.name for p in graphs.glob("*.dot")) == ["test_my_backprop.dot"]     # only the failure


# ---------------------------------------------------------------------------------------------------
# The worked example

def load_example():
    spec = importlib.util.spec_from_file_location("check_my_backprop", ROOT / "examples" / "check_my_backprop.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_example_names_its_planted_mistake_then_passes_when_fixed(capsys):
    example = load_example()
    wrong, fixed = example.main([])
    assert wrong.wrong == ["W1", "b1"]
    for name in ("W1", "b1"):
        d = wrong.params[name].diagnoses[0]
        assert d.kind == "activation" and "pre-activation" in d.message
    assert fixed.ok
    out = capsys.readouterr().out
    assert "2 of 4 hand-written gradients are WRONG (W1, b1); W2, b2 agree." in out
    assert "all 4 hand-written gradients agree with autodiff" in out


def test_the_example_runs_from_the_command_line_and_draws(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "check_my_backprop.py"), "--explain", "--draw",
                          str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "the derivative of tanh is taken at the pre-activation" in out.stdout
    assert "Step 1:" in out.stdout and "your dW1:" in out.stdout
    drawn = list(tmp_path.glob("mistake.*"))
    assert len(drawn) == 1 and drawn[0].stat().st_size > 0


def test_the_example_is_a_three_line_test_suite(assert_backprop):
    example = load_example()
    assert_backprop(example.forward, example.backward, example.params(), *example.data())
