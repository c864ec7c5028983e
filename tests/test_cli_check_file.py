"""`tinygrad-edu check FILE`: a learner's file with forward, backward (or step) and params is loaded,
checked with check_backprop, and the report printed; exit code 1 when gradients disagree, 2 (one line
on stderr) when the file cannot be used."""
import pathlib
import textwrap

import pytest

from nn import cli

ROOT = pathlib.Path(__file__).resolve().parents[1]

LEARNER = '''
import numpy as np

def params():
    rng = np.random.RandomState(0)
    return {"W": rng.randn(3, 2), "b": np.zeros((1, 2))}

def data():
    rng = np.random.RandomState(1)
    return rng.randn(8, 3), rng.randint(0, 2, 8)

def forward(p, X, y):
    z = X.dot(p["W"]) + p["b"]
    e = np.exp(z)
    probs = e / np.sum(e, axis=1, keepdims=True)
    return -np.sum(np.log(probs[range(len(X)), y])) / len(X)

def backward(p, X, y):
    z = X.dot(p["W"]) + p["b"]
    probs = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)
    delta = probs.copy()
    delta[range(len(X)), y] -= 1
    {mistake}
    return {"W": X.T.dot(delta), "b": np.sum(delta, axis=0, keepdims=True)}
'''


def learner_file(tmp_path, mistake="delta /= len(X)", text=None):
    path = tmp_path / "my_backprop.py"
    path.write_text(text if text is not None else LEARNER.replace("{mistake}", mistake))
    return path


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_correct_file_passes_with_exit_code_0(capsys, tmp_path):
    code, out, err = run(capsys, "check", learner_file(tmp_path))
    assert code == 0 and err == ""
    assert "all 2 hand-written gradients agree with autodiff (W, b)" in out


def test_a_wrong_backward_prints_the_diagnosis_with_exit_code_1(capsys, tmp_path):
    code, out, _ = run(capsys, "check", learner_file(tmp_path, mistake="pass   # forgot / N"))
    assert code == 1
    assert "2 of 2 hand-written gradients are WRONG (W, b)" in out
    assert "off by a factor of N = 8 (X has 8 rows)" in out


def test_the_worked_example_passes(capsys):
    code, out, _ = run(capsys, "check", ROOT / "examples" / "check_my_backprop.py")
    assert code == 0 and "all 4 hand-written gradients agree" in out


def test_explain_and_draw(capsys, tmp_path):
    graph = tmp_path / "graph.dot"
    code, out, _ = run(capsys, "check", learner_file(tmp_path, mistake="delta = -delta / len(X)"), "--explain",
                       "--draw", graph)
    assert code == 1 and "sign flipped" in out
    assert "The true backward pass of your forward" in out and "your dW:" in out
    text = graph.read_text()
    assert text.startswith("digraph G {") and "your dW is wrong" in text and "your db is wrong" in text


def test_a_training_step_file_with_its_learning_rate(capsys, tmp_path):
    text = textwrap.dedent('''
        import nn.reference as R
        import numpy as np
        lr = 0.5
        def params():
            return {k: v * 4 for k, v in R.xor_init().items()}
        def data():
            X, Y = R.xor_data()
            return X[2].reshape(-1, 1), Y[2].reshape(-1, 1)
        def forward(p, x, y):
            y_pred = R.xor_forward(x, p)[3]
            return np.sum(-y * np.log(y_pred) - (1 - y) * np.log(1 - y_pred))
        def step(p, x, y):
            return R.xor_step_buggy(x, y, p, alpha=lr)
    ''')
    code, out, _ = run(capsys, "check", learner_file(tmp_path, text=text))
    assert code == 1
    assert "2 of 4 gradients used by your step are WRONG (W1, b1)" in out
    assert "computed with W2 after its update" in out


def test_the_learners_forward_raising_during_the_check_is_a_report_with_exit_code_1(capsys, tmp_path):
    text = LEARNER.replace("{mistake}", "delta /= len(X)").replace("def forward(p, X, y):",
                                                             "def forward(p, X, y):\n    np.max(0, X)")
    code, out, _ = run(capsys, "check", learner_file(tmp_path, text=text))
    assert code == 1 and "your forward (on Tensors) raised" in out and "np.maximum(x, 0)" in out


@pytest.mark.parametrize("text, needle", [
    ("import numpy as np\n", "defines no function forward"),
    ("def forward(p): return 0\n", "defines neither backward"),
    ("def forward(p): return 0\ndef backward(p): return {}\n", "defines no 'params'"),
    ("def forward(p): return 0\ndef backward(p): return {}\ndef params(): return 1 / 0\n",
     "params() raised ZeroDivisionError"),
    ("x = 1\nraise RuntimeError('boom')\n", "raised RuntimeError while loading at line 2: boom"),
    ("def forward(p): return 0\ndef backward(p): return {}\nparams = [1, 2]\n", "params must be a non-empty dict"),
])
def test_unusable_files_are_one_line_errors_with_exit_code_2(capsys, tmp_path, text, needle):
    code, out, err = run(capsys, "check", learner_file(tmp_path, text=text))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tinygrad-edu: error:") and needle in lines[0], err
    assert "Traceback" not in err


def test_a_missing_file_is_a_one_line_error(capsys, tmp_path):
    code, _, err = run(capsys, "check", tmp_path / "nope.py")
    assert code == 2 and "nope.py: no such file" in err


def test_help_says_the_file_is_executed(capsys):
    code, out, _ = run(capsys, "check", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert "Loading FILE runs its code" in text and "check only files you trust" in text
