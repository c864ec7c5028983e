"""Issue 15, item 10 (and 3 through the command line): sizes checked against memory before
allocating, --spec refusing FIFOs and devices, escape codes and huge names from files never echoed,
Ctrl-C at any moment one line and exit code 130."""
import json
import os
import signal
import subprocess
import sys
import time
import zipfile

import pytest

import fuzz_inputs as F
from attack_helpers import POSIX, REPO, small_model, watchdog
from nn import cli

watchdog = pytest.fixture(watchdog)

@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "moons.json"
    path.write_text(json.dumps(F.MODEL_SPEC))
    return path


def one_error_line(capsys):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tinygrad-edu: error: ") and "Traceback" not in err
    return err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_the_command_line_refuses_a_fifo_and_dev_zero_as_spec(tmp_path, capsys, watchdog):
    fifo = tmp_path / "spec.json"
    os.mkfifo(fifo)
    for path in [str(fifo)] + (["/dev/zero"] if os.path.exists("/dev/zero") else []):
        for command in (["graph", "--spec", path], ["train", "--spec", path, "--data", "moons"]):
            assert cli.main(command + ["--out", str(tmp_path / "out")]) == 2
            err = capsys.readouterr().err
            assert err.count("\n") == 1 and "not a regular file" in err


def test_an_empty_mnist_set_is_one_line(tmp_path, capsys):
    header = bytes([0, 0, 0x08, 3]) + (0).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    (tmp_path / "train-images-idx3-ubyte").write_bytes(header)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(bytes([0, 0, 0x08, 1]) + (0).to_bytes(4, "big"))
    spec = tmp_path / "mnist.json"
    spec.write_text(json.dumps({"layers": [{"type": "Linear", "in": 784, "out": 10}]}))
    assert cli.main(["train", "--spec", str(spec), "--data", f"mnist:{tmp_path}", "--out", str(tmp_path / "out")]) == 2
    assert "no pixels" in one_error_line(capsys)


def test_sizes_are_checked_against_memory_before_allocating(tmp_path, spec_file, capsys):
    # (allocating first would end in "out of memory": NumPy's MemoryError, also one line, but too late)
    assert cli.main(["graph", "--spec", str(spec_file), "--batch", str(10 ** 12), "--format", "dot",
                     "--out", str(tmp_path / "g.dot")]) == 2
    err = one_error_line(capsys)
    assert "--batch 1000000000000 needs about" in err and "GiB" in err
    assert cli.main(["demo", "--hidden", str(10 ** 11), "--out", str(tmp_path / "demo")]) == 2
    assert "--hidden 100000000000 needs about" in one_error_line(capsys)
    assert cli.main(["train", "--spec", str(spec_file), "--data", "moons", "--epochs", str(10 ** 12),
                     "--out", str(tmp_path / "t")]) == 2
    assert "training.epochs" in one_error_line(capsys)
    assert not (tmp_path / "demo").exists() and not (tmp_path / "t").exists()


def test_escape_codes_and_huge_names_from_files_are_not_echoed(tmp_path, spec_file, capsys):
    evil = "\x1b]0;pwned\x07\x1b[2J\x1b[31m" + "A" * 60_000
    model_path = tmp_path / "m.npz"
    small_model().save(model_path)
    with zipfile.ZipFile(model_path, "a") as zf:
        zf.writestr(evil + ".npy", b"")
    assert cli.main(["graph", "--spec", str(model_path), "--format", "dot", "--out", str(tmp_path / "g.dot")]) == 2
    err = one_error_line(capsys)
    assert "\x1b" not in err and "\x07" not in err and "unexpected key" in err and len(err) < 1200
    spec = dict(F.MODEL_SPEC)
    spec["\x1b[2J" + "x" * 500_000] = 1                       # a 500 KB unknown field name
    spec_file.write_text(json.dumps(spec))
    assert cli.main(["graph", "--spec", str(spec_file), "--format", "dot", "--out", str(tmp_path / "g.dot")]) == 2
    err = one_error_line(capsys)
    assert "\x1b" not in err and "unknown field" in err and len(err) < 1200
    for text in (json.dumps({"layers": [{"type": "\x1b[2J" + "T" * 100_000}]}),):
        spec_file.write_text(text)
        assert cli.main(["graph", "--spec", str(spec_file), "--format", "dot", "--out", str(tmp_path / "g.dot")]) == 2
        err = one_error_line(capsys)
        assert "\x1b" not in err and len(err) < 1200


LAUNCH = "import sys; from tinygrad_edu_launcher import main; print('ready', flush=True); sys.exit(main())"


@pytest.mark.skipif(not POSIX, reason="sends SIGINT")
def test_ctrl_c_at_any_moment_is_one_line_and_exit_code_130(tmp_path):
    # From the moment the entry point runs: during the imports of nn, NumPy and matplotlib (the first
    # half second), and during training.
    for delay in (0.0, 0.05, 0.15, 0.3, 0.6, 1.5):
        child = subprocess.Popen([sys.executable, "-c", LAUNCH, "demo", "--iterations", "10000000", "--no-graph",
                                  "--out", str(tmp_path / "demo")], cwd=REPO, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
        assert child.returncode == 130, (delay, err)
        assert "Traceback" not in err and err.strip() == "tinygrad-edu: interrupted", (delay, err)


def test_the_installed_command_enters_through_the_launcher():
    with open(os.path.join(REPO, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    assert 'tinygrad-edu = "tinygrad_edu_launcher:main"' in text
    import tinygrad_edu_launcher
    assert tinygrad_edu_launcher.main(["--version"]) == 0


SWALLOWED = """
import sys, time
import nn.cli
import tinygrad_edu_launcher

class Finalizer:
    def __del__(self):                 # Python drops an exception raised in here ("Exception ignored")
        print('ready', flush=True)
        time.sleep(60)                 # ... so the Ctrl-C that lands in this sleep is lost

def command(argv):
    Finalizer()                        # dies at once: its __del__ runs now
    time.sleep(60)                     # without the last resort, the command would go on for a minute
    return 0

nn.cli.main = command
sys.exit(tinygrad_edu_launcher.main())
"""


@pytest.mark.skipif(not POSIX, reason="sends SIGINT")
def test_a_ctrl_c_that_python_drops_in_a_finalizer_still_ends_the_command():
    child = subprocess.Popen([sys.executable, "-c", SWALLOWED], cwd=REPO, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    start = time.monotonic()
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=50)
    waited = time.monotonic() - start
    assert child.returncode == 130
    assert "Exception ignored" in err and "KeyboardInterrupt" in err     # Python did drop it
    assert err.rstrip().endswith("\ntinygrad-edu: interrupted") and err.count("interrupted") == 1
    import tinygrad_edu_launcher
    assert tinygrad_edu_launcher.GRACE <= waited < 30
