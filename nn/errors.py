"""The two error types `nn` adds to the engine's hierarchy (see tinygrad_edu/errors.py).

    TinygradError
    ├── SpecError(ValueError)   a model/training spec that cannot be built; names the field path
    └── LoadError(ValueError)   a weights file or state dict that cannot be loaded; names the file
                                and lists every problem found

Everything else nn raises on purpose is one of the engine's own classes: ShapeError for shapes that
do not chain, ArgumentError for an option with an impossible value, DTypeError, LabelError.

Messages about untrusted files quote what the file holds (field names, archive entry names): every
such piece goes through printable(), and the two classes below pass their whole text through it
too, so no message carries a terminal escape code or a 500 KB name. parsing() turns whatever a
parser raises on a malformed file into one of these two errors.
"""
import contextlib

from tinygrad_edu import TinygradError

NAME_LIMIT = 80             # characters of a name quoted from a file (a field or an entry name)
MESSAGE_LIMIT = 2000        # characters of one problem in a message
PROBLEM_LIMIT = 20          # problems listed in one LoadError (the rest are counted)


def printable(text, limit=NAME_LIMIT):
    """`text` safe to show in a one-line message: cut to `limit` characters (saying how long it was)
    and every control character written as an escape such as \\x1b."""
    text = str(text)
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text):,} characters)"
    if text.isprintable():
        return text
    # control characters (ESC starts terminal escape codes), line separators, zero-width characters,
    # bidirectional overrides, lone surrogates, ...: everything str.isprintable() refuses
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


@contextlib.contextmanager
def parsing(make_error):
    """Run a parser of an untrusted file: any exception that is not already ours (TinygradError)
    becomes make_error(description) - a LoadError or SpecError naming the file. Interrupts
    (KeyboardInterrupt) pass through. Malformed input can make zipfile, NumPy's .npy reader, gzip or
    json raise almost anything (ValueError, tokenize.TokenError, struct.error, MemoryError, ...)."""
    try:
        yield
    except TinygradError:
        raise
    except Exception as e:          # noqa: BLE001  (any failure of a parser is a problem of the file)
        raise make_error(f"cannot be parsed ({type(e).__name__}: {printable(e, 200)})") from None


class SpecError(TinygradError, ValueError):
    """A declarative spec that cannot be built.

    The message starts with the path of the offending field, e.g.
    `layers[2].type: unknown 'Tanhh' (expected one of Identity, Linear, ...); did you mean 'Tanh'?`
    Attributes: `path` (the field path, '' for the spec as a whole) and `source` (the .json file the
    spec came from, or None).
    """

    def __init__(self, message, path="", source=None):
        self.path = path
        self.source = source
        self.reason = message
        text = f"{printable(path, MESSAGE_LIMIT)}: {message}" if path else message
        if source is not None:
            text = f"{printable(source, MESSAGE_LIMIT)}: {text}"
        super().__init__(printable(text, 2 * MESSAGE_LIMIT))


class LoadError(TinygradError, ValueError):
    """A model file (or a state dict) that cannot be loaded: truncated, corrupted, foreign, pickled,
    or holding weights that do not fit the model.

    All problems found are listed together in the message, and in `problems` (a list of strings).
    `file` is the path of the file (None for an in-memory state dict). Nothing is assigned to any
    model when this is raised.
    """

    def __init__(self, problems, file=None, what=None):
        if isinstance(problems, str):
            problems = [problems]
        self.problems = [printable(p, MESSAGE_LIMIT) for p in problems]
        self.file = None if file is None else str(file)
        head = what if what is not None else (f"{self.file}" if self.file is not None else "load")
        head = printable(head, MESSAGE_LIMIT)
        if len(self.problems) == 1:
            text = f"{head}: {self.problems[0]}"
        else:
            shown = self.problems[:PROBLEM_LIMIT]
            if len(self.problems) > PROBLEM_LIMIT:
                shown.append(f"... and {len(self.problems) - PROBLEM_LIMIT} more")
            text = f"{head}: {len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in shown)
        super().__init__(text)


class DoubleActivationWarning(UserWarning):
    """The network's last layer applies an activation that its loss applies again: a Softmax before
    SoftmaxCrossEntropy, a Sigmoid before BCEWithLogits or CrossEntropyCost. Training still runs, but
    on squashed outputs (softmax of probabilities), so it learns slowly and reaches a worse fit.
    fit() warns with it, and so do specs (nn.validate_spec) and the command line."""
