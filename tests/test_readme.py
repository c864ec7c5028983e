"""The README stays true: every code block runs as shown and prints what the README says it prints,
its long training runs print the same when the initial weights move by one ulp, its command-line block
runs (with the model.json it shows, which is the spec of `tinygrad-edu --help`) and that spec trains to
the demo's accuracy; its Quickstart has exactly the two commands CI relies on, and its table of engine
files matches the files.

Expected output is a ```text block right after a block; one paragraph saying what it shows ("prints:")
may come between. As in doctest, `...` in it stands for any text, including several lines.
"""
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
BLOCKS = [(m.group(1), m.group(2), m.start(), m.end()) for m in FENCE.finditer(README)]


def _output_after(index):
    """The ```text block that shows what block `index` prints, or None: the next block, when the
    prose between them (if any) is one paragraph that says what it shows, ending with a colon."""
    if index + 1 >= len(BLOCKS):
        return None
    lang, body, start, _ = BLOCKS[index + 1]
    between = README[BLOCKS[index][3]:start].strip()
    lead_in = not between or ("\n\n" not in between and "prints" in between and between.endswith(":"))
    return body if lang == "text" and lead_in else None


PYTHON = [(body, _output_after(i)) for i, (lang, body, _, _) in enumerate(BLOCKS) if lang == "python"]
CLI_INDEX = next(i for i, (lang, body, _, _) in enumerate(BLOCKS)
                 if lang == "bash" and body.lstrip().startswith("tinygrad-edu "))
CLI_LINES = [line.split("#")[0].split() for line in BLOCKS[CLI_INDEX][1].splitlines() if line.strip()]
MODEL_JSON = BLOCKS[CLI_INDEX - 1][1] if BLOCKS[CLI_INDEX - 1][0] == "json" else None
TRAIN_OUTPUT = _output_after(CLI_INDEX)


def matches(expected, actual):
    """actual equals expected, where '...' in expected stands for any text (trailing spaces ignored)."""
    def clean(text):
        return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
    parts = re.split(r"(\.\.\.)", clean(expected))
    pattern = "".join(".*?" if part == "..." else re.escape(part) for part in parts)
    return re.fullmatch(pattern, clean(actual), re.S) is not None


def _env(tmp_path):
    return {"PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg", "PATH": os.environ.get("PATH", ""),
            "MPLCONFIGDIR": str(tmp_path / ".matplotlib"), "PYTHONIOENCODING": "utf-8"}


def _run_python(code, cwd, tmp_path, timeout=180):
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env=_env(tmp_path), timeout=timeout)


# Prepended to a block to move every initial weight by one ulp before nn.fit trains it: rounding
# differences between CPUs are of that size, and a printed claim about a long run must survive them.
NUDGE = '''
import numpy as _np
import nn as _nn
import nn.train as _train
_fit = _train.fit
def _nudged_fit(model, *args, **kwargs):
    params = list(model.parameters())
    for p in params:
        p.data[...] = _np.nextafter(p.data, _np.inf)
    import sys
    print(f"nudged {len(params)} parameters", file=sys.stderr)
    return _fit(model, *args, **kwargs)
_nn.fit = _train.fit = _nudged_fit
'''


def test_the_readme_has_python_examples_with_their_output():
    assert len(PYTHON) >= 4
    assert sum(expected is not None for _, expected in PYTHON) >= 4
    assert matches("a ... c", "a b\nb c") and not matches("a b", "a c") and matches("x...", "x")


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_every_python_example_in_the_readme_runs_and_prints_what_it_says(index, tmp_path, request):
    """Each block runs in a fresh interpreter, in an empty folder (some write files). A block that
    renders a drawing needs Graphviz's dot (skipped without it, except under CI: tests/conftest.py)."""
    code, expected = PYTHON[index]
    if "draw_graph(" in code:
        request.getfixturevalue("graphviz_dot")
    work = tmp_path / "work"
    work.mkdir()
    result = _run_python(code, work, tmp_path)
    assert result.returncode == 0, f"README block failed:\n{code}\n{result.stderr}"
    if expected is not None:
        assert matches(expected, result.stdout), f"README says:\n{expected}\nbut the block printed:\n{result.stdout}"
    for name in re.findall(r'\.(?:write|save)\("([^"]+)"\)', code):
        assert (work / name).stat().st_size > 0, f"the block should have written {name}"
    if "nn.fit(" in code and expected is not None:
        nudged = _run_python(NUDGE + code, tmp_path / "work", tmp_path)
        assert nudged.returncode == 0 and "nudged" in nudged.stderr, nudged.stderr
        assert matches(expected, nudged.stdout), f"with the weights moved by one ulp it printed:\n{nudged.stdout}"


def test_the_nn_example_trains_to_what_a_learner_expects():
    """Document 000's 2-3-2 network on the moons: at least 95% of the training points right."""
    code, expected = next((c, e) for c, e in PYTHON if "nn.fit(" in c)
    accuracy = float(re.search(r"training accuracy ([0-9.]+)%", expected).group(1))
    assert accuracy >= 95.0


def _help_spec():
    """The JSON spec printed by `tinygrad-edu --help`."""
    from nn import cli
    text = cli.build_parser().format_help()
    start = text.index('{"layers"')
    return json.loads(" ".join(line.strip() for line in text[start:].splitlines()))


def test_the_readme_model_json_is_the_spec_of_the_help_text():
    assert MODEL_JSON is not None, "the README shows model.json right before its command-line block"
    assert json.loads(MODEL_JSON) == _help_spec()


def _cli(argv, cwd, tmp_path, nudge=False):
    code = (NUDGE if nudge else "") + f"import sys\nfrom nn.cli import main\nsys.exit(main({argv!r}))\n"
    return _run_python(code, cwd, tmp_path)


def _graph_line():
    return next(argv for argv in CLI_LINES if argv[1] == "graph")


def test_the_command_line_block_runs_and_train_prints_what_the_readme_shows(tmp_path):
    """Every command of the block, in order, in one empty folder holding the README's model.json
    (`graph`, which renders with Graphviz's dot, is the next test's). `train` prints what the README
    shows (also with the weights moved by one ulp) and its spec fits the moons at least as well as
    the demo's network."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "model.json").write_text(MODEL_JSON, encoding="utf-8")
    outputs = {}
    for argv in CLI_LINES:
        assert argv[0] == "tinygrad-edu"
        if argv is _graph_line() or (argv[1] == "check" and len(argv) > 2):
            continue                    # (check FILE needs a learner's file: test_readme_check_backprop)
        result = _cli(argv[1:], work, tmp_path)
        assert result.returncode == 0, f"{' '.join(argv)} failed:\n{result.stderr}"
        assert "warning" not in result.stderr.lower(), result.stderr
        outputs[argv[1]] = result.stdout
    assert set(outputs) == {"demo", "train", "check"}
    assert TRAIN_OUTPUT is not None and matches(TRAIN_OUTPUT, outputs["train"]), outputs["train"]
    # the Quickstart's claims about the demo
    demo = outputs["demo"]
    assert "Loss after iteration 0: 0.432387" in demo and "Loss after iteration 1000: 0.068947" in demo
    demo_acc = float(re.search(r"training accuracy ([0-9.]+)%", demo).group(1))
    assert demo_acc == 97.5
    # the help spec reaches the demo's accuracy: on its training points, and on all 200 points
    train_acc, eval_acc = (float(v) for v in re.search(r"Final accuracy: train ([0-9.]+)%, eval ([0-9.]+)%",
                                                         outputs["train"]).groups())
    assert train_acc >= demo_acc and eval_acc >= 90.0
    overall = _run_python("import nn, numpy as np\nX, y = nn.data.make_moons(200, noise=0.2, seed=0)\n"
                          "print(np.mean(nn.load('tinygrad-edu-train/model.npz').predict(X) == y))",
                          work, tmp_path)
    assert float(overall.stdout) * 100 >= demo_acc
    assert "All " in outputs["check"] and "checks passed" in outputs["check"]
    again = tmp_path / "nudged"
    again.mkdir()
    (again / "model.json").write_text(MODEL_JSON, encoding="utf-8")
    nudged = _cli(next(a for a in CLI_LINES if a[1] == "train")[1:], again, tmp_path, nudge=True)
    assert nudged.returncode == 0 and "nudged 4 parameters" in nudged.stderr, nudged.stderr
    assert matches(TRAIN_OUTPUT, nudged.stdout), f"with the weights moved by one ulp:\n{nudged.stdout}"


def test_the_command_line_blocks_graph_command_draws_the_readme_model(tmp_path, graphviz_dot):
    (tmp_path / "model.json").write_text(MODEL_JSON, encoding="utf-8")
    result = _cli(_graph_line()[1:], tmp_path, tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    svg = (tmp_path / "graph.svg").read_text(encoding="utf-8")
    assert "</svg>" in svg and "0.out" in svg and "Linear(2→16)" in svg
    assert "4 ops" in result.stdout and "82 parameters" in result.stdout


def test_the_readme_documents_the_held_out_split_of_train():
    text = README[BLOCKS[CLI_INDEX][3]:]
    assert "holds out a seeded 20%" in text and "never trains on" in text and "`eval`" in text
    assert "160 for training, 40 for evaluation" in TRAIN_OUTPUT


def test_quickstart_is_two_commands_install_and_demo_then_install_and_test():
    block = re.search(r"## Quickstart.*?```bash\n(.*?)```", README, re.S).group(1)
    lines = [line for line in block.splitlines() if line.strip()]
    assert lines == ['pip install . && tinygrad-edu demo', 'pip install ".[test]" && python -m pytest']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "## Quickstart" in ci and "[1]" in ci          # CI runs the second line of that block
    quickstart = README[README.index("## Quickstart"):README.index("## The engine")]
    assert "apt-get install graphviz" in quickstart          # what to install for drawings


def test_the_engine_file_table_lists_every_engine_module_with_its_line_count():
    rows = dict(re.findall(r"^\| `(tinygrad_edu/[a-z_]+\.py)` \| (\d+) \|", README, re.M))
    files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tinygrad_edu").glob("*.py"))
    assert sorted(rows) == files
    for name, count in rows.items():
        actual = len((ROOT / name).read_text(encoding="utf-8").splitlines())
        assert int(count) == actual, f"{name}: README says {count} lines, the file has {actual}"


# ---------------------------------------------------------------------------------------------------
# Declared dependencies: what the README's `pip install .` brings is all that examples and the CLI need

def test_pyproject_declares_the_runtime_dependencies_and_ships_the_digits():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    deps = re.search(r"^dependencies = \[(.*?)\]", text, re.S | re.M).group(1)
    names = sorted(re.findall(r'"([a-zA-Z0-9_-]+)', deps))
    assert names == ["graphviz", "matplotlib", "numpy", "tqdm"]
    assert "scikit-learn" not in deps and "torch" not in deps          # optional oracles only
    assert '"_data/digits.npz"' in text and '"_data/LICENSE-scikit-learn.txt"' in text
    assert (ROOT / "nn" / "_data" / "digits.npz").stat().st_size < 100_000


def test_the_optional_oracles_are_declared_extras_the_readme_names():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extras = re.search(r"^\[project\.optional-dependencies\]\n(.*?)\n\n", text, re.S | re.M).group(1)
    declared = dict(re.findall(r'^(\w+) = \["([^"]+)"', extras, re.M))
    assert declared["torch"] == "torch==2.13.0"            # the CPU build CI installs (others download GBs)
    assert declared["sklearn"].startswith("scikit-learn")
    assert declared["test"].startswith("pytest")
    for name in declared:
        if name != "test":
            assert f'pip install ".[{name}]"' in README, name


BLOCK_SKLEARN = "import sys\nsys.modules['sklearn'] = None\nsys.modules['sklearn.datasets'] = None\n"


@pytest.mark.parametrize("argv", [["examples/network2.py", "--quick"],
                                  ["-m", "nn.cli", "train", "--data", "digits", "--epochs", "2"]])
def test_the_digits_examples_and_cli_run_without_scikit_learn(argv, tmp_path):
    """scikit-learn importable or not, the 8×8 digits come from the package (two_layer_net.py loads
    them the same way: nn.data.load_digits, tested without scikit-learn in test_nn_data.py)."""
    if argv[0] == "-m":
        spec = tmp_path / "digits.json"
        spec.write_text('{"layers": [{"type": "Linear", "in": 64, "out": 10}]}')
        code = f"import runpy, sys\nsys.argv = ['tinygrad-edu'] + {argv[2:] + ['--spec', str(spec)]!r}\n" \
               "from nn.cli import main\nsys.exit(main())\n"
    else:
        code = (f"import runpy, sys\nsys.argv = [{argv[0]!r}] + {argv[1:] + ['--out', str(tmp_path / 'out')]!r}\n"
                f"runpy.run_path({str(ROOT / argv[0])!r}, run_name='__main__')\n")
    result = subprocess.run([sys.executable, "-c", BLOCK_SKLEARN + code], cwd=tmp_path, capture_output=True,
                            text=True, env=_env(tmp_path), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "install scikit-learn" not in result.stdout + result.stderr and "Traceback" not in result.stderr
