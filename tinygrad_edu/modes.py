"""The settings that decide what the engine records, one set per thread.

    with no_grad(): ...            record nothing (evaluation, optimizer updates)
    with detect_anomaly(): ...     stop at the first op that makes a NaN or an inf
    with name_scope("encoder"): ...   label the ops recorded inside (drawings group them)

Each thread starts from the defaults below, so one thread evaluating under no_grad does not stop
another from training. Every context manager here restores the previous setting on exit (they nest)
and also works as a decorator (`@no_grad` or `@no_grad()`).
"""
import functools
import threading


class _Modes(threading.local):
    """The recording settings of the current thread (each thread starts from these defaults)."""
    grad_enabled = True       # record ops for backward
    anomaly = False           # detect_anomaly(): check every result for NaN/inf
    scope = None              # label of the innermost name_scope (drawings group ops by it)
    scopes_on = False         # record_scopes(): should libraries (nn) open name scopes at all
    tracer = None             # an active te.compile capture (compile.py) that sees every op, or None


modes = _Modes()


def is_grad_enabled():
    """True when operations are being recorded for backward (in this thread)."""
    return modes.grad_enabled


def set_grad_enabled(flag):
    """Turn recording on or off in this thread; returns the previous setting (prefer no_grad)."""
    prev, modes.grad_enabled = modes.grad_enabled, bool(flag)
    return prev


def scopes_recording():
    """True inside record_scopes(): callers should open name_scope()s for drawings."""
    return modes.scopes_on


class _Setting:
    """Set the mode `name` to `value(previous)` on entry, restore it on exit."""
    name = ""

    def __new__(cls, *args):
        if len(args) == 1 and callable(args[0]):       # used bare as a decorator: @no_grad
            fn = args[0]

            @functools.wraps(fn)
            def wrapper(*a, **kw):
                with cls():
                    return fn(*a, **kw)
            return wrapper
        return super().__new__(cls)

    def value(self, previous):
        raise NotImplementedError

    def __enter__(self):
        self._prev = getattr(modes, self.name)
        setattr(modes, self.name, self.value(self._prev))
        return self

    def __exit__(self, *exc):
        setattr(modes, self.name, self._prev)
        return False

    def __call__(self, fn):                            # @no_grad() with parentheses
        return type(self)(fn)


class no_grad(_Setting):
    """Record nothing: `with no_grad(): ...`, `@no_grad` or `@no_grad()`.
    Results of operations inside do not require grad; nothing is saved for backward."""
    name = "grad_enabled"

    def __init__(self, *fn):
        if fn and not callable(fn[0]):
            raise TypeError(f"{type(self).__name__}() takes no arguments, or a function to decorate")

    def value(self, previous):
        return False


class enable_grad(no_grad):
    """Turn recording back on inside a no_grad block."""

    def value(self, previous):
        return True


class detect_anomaly(_Setting):
    """Debug mode: raise AnomalyError at the first op whose forward or backward produces NaN/inf,
    naming the op and the line of user code that created it. Slower; for hunting bugs.

        with tinygrad_edu.detect_anomaly():
            loss = model(x).softmax_cross_entropy(y)
            loss.backward()
    """
    name = "anomaly"

    def value(self, previous):
        return True


class name_scope(_Setting):
    """Label the ops recorded inside (nested scopes join with '/'). Drawings group ops by label;
    `nn` opens one scope per module call while record_scopes() is active.

        with record_scopes():
            with name_scope("encoder"):
                h = (x @ W).tanh()            # h.grad_fn.scope == "encoder"
    """
    name = "scope"

    def __init__(self, label):
        self.label = str(label)

    def value(self, previous):
        return self.label if previous is None else f"{previous}/{self.label}"


class record_scopes(_Setting):
    """Ask libraries built on the engine (nn) to label their ops with name_scope while active."""
    name = "scopes_on"

    def __init__(self, enabled=True):
        self.enabled = enabled

    def value(self, previous):
        return self.enabled
