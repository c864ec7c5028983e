"""The README stays true: its Python examples run as shown, its Quickstart has exactly the two commands
CI relies on, and its table of engine files matches the files."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_the_readme_has_python_examples():
    assert len(PYTHON_BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_every_python_example_in_the_readme_runs(index, tmp_path, request):
    """Each block runs in a fresh interpreter, in an empty folder (some write files). A block that
    renders a drawing needs Graphviz's dot (skipped without it, except under CI: tests/conftest.py)."""
    code = PYTHON_BLOCKS[index]
    if "draw_graph(" in code:
        request.getfixturevalue("graphviz_dot")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PATH": _path()}, timeout=120)
    assert result.returncode == 0, f"README block {index} failed:\n{code}\n{result.stderr}"


def _path():
    import os
    return os.environ.get("PATH", "")


def test_quickstart_is_two_commands_install_and_demo_then_install_and_test():
    block = re.search(r"## Quickstart.*?```bash\n(.*?)```", README, re.S).group(1)
    lines = [line for line in block.splitlines() if line.strip()]
    assert lines == ['pip install . && tinygrad-edu demo', 'pip install ".[test]" && python -m pytest']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "## Quickstart" in ci and "[1]" in ci          # CI runs the second line of that block


def test_the_engine_file_table_lists_every_engine_module_with_its_line_count():
    rows = dict(re.findall(r"^\| `(tinygrad_edu/[a-z_]+\.py)` \| (\d+) \|", README, re.M))
    files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tinygrad_edu").glob("*.py"))
    assert sorted(rows) == files
    for name, count in rows.items():
        actual = len((ROOT / name).read_text(encoding="utf-8").splitlines())
        assert int(count) == actual, f"{name}: README says {count} lines, the file has {actual}"
