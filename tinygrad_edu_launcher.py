"""Entry point of the installed `tinygrad-edu` command (pyproject.toml: [project.scripts]).

The command itself is nn.cli. This module exists only so that Ctrl-C at *any* moment ends the
command with one line and exit code 130: importing nn.cli first imports NumPy, matplotlib and the
engine (about half a second), and an interrupt during those imports would otherwise print a
traceback - nothing inside the nn package can catch it, because the package is not loaded yet.
So this module imports nothing heavy, and imports nn.cli inside the try.
"""
import signal
import sys


def main(argv=None):
    """Run `tinygrad-edu` with `argv` (default: sys.argv[1:], and then, as the program, the rest of
    the process ignores Ctrl-C once the command has finished); returns the exit code."""
    program = argv is None
    try:
        from nn.cli import main as run
        code = run(argv)
    except KeyboardInterrupt:
        if program:
            signal.signal(signal.SIGINT, signal.SIG_IGN)     # a second Ctrl-C must not interrupt the goodbye
        try:
            sys.stderr.write("\ntinygrad-edu: interrupted\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        return 130
    if program:
        signal.signal(signal.SIGINT, signal.SIG_IGN)     # done: shutting down is not worth a traceback
    return code


if __name__ == "__main__":
    sys.exit(main())
