"""Entry point of the installed `tinygrad-edu` command (pyproject.toml: [project.scripts]).

The command itself is nn.cli. This module exists only so that Ctrl-C at *any* moment ends the
command with one line and exit code 130:

- importing nn.cli first imports NumPy, matplotlib and the engine (about half a second), and an
  interrupt during those imports would otherwise print a traceback - nothing inside the nn package
  can catch it, because the package is not loaded yet. So this module imports nothing heavy, and
  imports nn.cli inside the try;
- Python drops an exception raised while a finalizer runs (a `__del__`, a weakref callback, the
  clean-up of a generator nobody finished), with only an "Exception ignored" message: a Ctrl-C that
  lands there, in any library, is lost and the command would go on. So, as a program, the command's
  Ctrl-C handler also starts a last-resort timer: if the process is still running GRACE seconds
  later, it says goodbye and ends itself with exit code 130.
"""
import os
import signal
import sys
import threading

GRACE = 3.0                     # seconds a Ctrl-C's KeyboardInterrupt gets to end the command
_goodbye_lock = threading.Lock()


def _goodbye():
    """Print the one line of an interrupted command (once, whoever gets here first)."""
    if _goodbye_lock.acquire(blocking=False):
        try:
            sys.stderr.write("\ntinygrad-edu: interrupted\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def _last_resort():
    threading.Event().wait(GRACE)
    _goodbye()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    os._exit(130)


def _on_ctrl_c(signum, frame):
    """The program's SIGINT handler: KeyboardInterrupt as usual, plus the last-resort timer."""
    threading.Thread(target=_last_resort, name="tinygrad-edu-ctrl-c", daemon=True).start()
    raise KeyboardInterrupt


def main(argv=None):
    """Run `tinygrad-edu` with `argv` (default: sys.argv[1:], and then, as the program, Ctrl-C also
    starts the last-resort timer, and the process ignores Ctrl-C once the command has finished);
    returns the exit code."""
    program = argv is None
    if program and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_ctrl_c)
    try:
        from nn.cli import main as run
        code = run(argv)
    except KeyboardInterrupt:
        if program:
            signal.signal(signal.SIGINT, signal.SIG_IGN)     # a second Ctrl-C must not interrupt the goodbye
        _goodbye()
        return 130
    if program:
        signal.signal(signal.SIGINT, signal.SIG_IGN)     # done: shutting down is not worth a traceback
    if code == 130:
        _goodbye_lock.acquire(blocking=False)            # nn.cli caught the Ctrl-C and said goodbye itself
    return code


if __name__ == "__main__":
    sys.exit(main())
