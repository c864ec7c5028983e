"""The README's section "Check your own backprop" stays true: its Python block prints exactly the
report shown under it (numbers to within what rounding on another machine could change), and its
three-line pytest example and command line run as shown."""
import os
import pathlib
import re
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = re.search(r"^## Check your own backprop\n(.*?)^## ", README, re.S | re.M).group(1)
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg",
            "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}


def same_report(shown, printed):
    """Equal text, and numbers equal to 1e-4 relative (6 printed digits of a central difference may
    round differently on another CPU) - or both below 1e-10 (rounding noise)."""
    assert NUMBER.sub("#", shown) == NUMBER.sub("#", printed), f"README shows:\n{shown}\nthe block prints:\n{printed}"
    for a, b in zip(NUMBER.findall(shown), NUMBER.findall(printed)):
        x, y = float(a), float(b)
        assert abs(x - y) <= 1e-4 * max(abs(x), abs(y)) or max(abs(x), abs(y)) < 1e-10, (a, b)


def test_the_python_block_prints_the_report_the_readme_shows(tmp_path):
    code = re.search(r"```python\n(.*?)```", SECTION, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", SECTION, re.S).group(1)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env(),
                         timeout=120)
    assert out.returncode == 0, out.stderr
    same_report(shown.rstrip("\n"), out.stdout.rstrip("\n"))
    assert "4 of 4 hand-written gradients are WRONG" in shown and "pre-activation" in shown
    assert shown.count("off by a factor of N = 200") == 4


def test_the_three_line_test_suite_and_the_command_line_run_as_shown(tmp_path):
    script = re.search(r"```bash\n(cat > test_my_backprop.py.*?)```", SECTION, re.S).group(1)
    assert script.count("\n") == 7                          # cat, the three lines, EOF, pytest, the CLI
    shutil.copy(ROOT / "examples" / "check_my_backprop.py", tmp_path / "my_backprop.py")
    out = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env(),
                         timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout and "all 4 hand-written gradients agree with autodiff" in out.stdout
    with open(tmp_path / "my_backprop.py", "a", encoding="utf-8") as f:
        f.write("\nbackward = backward_with_mistake\n")     # the learner's mistake: the test fails with the report
    failing = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_backprop.py"],
                             cwd=tmp_path, capture_output=True, text=True, env=env(), timeout=300)
    assert failing.returncode == 1
    assert "2 of 4 hand-written gradients are WRONG (W1, b1)" in failing.stdout
    assert "the derivative of tanh is taken at the pre-activation" in failing.stdout
