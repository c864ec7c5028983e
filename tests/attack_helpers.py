"""Helpers shared by the tests/test_attacks_*.py files (the attacks of issue 15)."""
import os
import signal

import nn

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POSIX = os.name == "posix"


def small_model(seed=0):
    return nn.Sequential(nn.Linear(2, 3, rng=seed), nn.Tanh(), nn.Linear(3, 2, rng=seed + 1))


def same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return list(sa) == list(sb) and all(sa[k].tobytes() == sb[k].tobytes() and sa[k].dtype == sb[k].dtype
                                        for k in sa)


def watchdog():
    """A fixture body (use as `watchdog = pytest.fixture(watchdog)`) that turns a hang into a failure:
    SIGALRM interrupts a blocking open() or an endless read() after 20 s."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def hung(signum, frame):
        raise TimeoutError("the loader hung (it opened or read a FIFO or device)")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
