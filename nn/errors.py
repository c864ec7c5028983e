"""The two error types `nn` adds to the engine's hierarchy (see tinygrad_edu/errors.py).

    TinygradError
    ├── SpecError(ValueError)   a model/training spec that cannot be built; names the field path
    └── LoadError(ValueError)   a weights file or state dict that cannot be loaded; names the file
                                and lists every problem found

Everything else nn raises on purpose is one of the engine's own classes: ShapeError for shapes that
do not chain, ArgumentError for an option with an impossible value, DTypeError, LabelError.
"""
from tinygrad_edu import TinygradError


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
        text = f"{path}: {message}" if path else message
        if source is not None:
            text = f"{source}: {text}"
        super().__init__(text)


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
        self.problems = list(problems)
        self.file = None if file is None else str(file)
        head = what if what is not None else (f"{self.file}" if self.file is not None else "load")
        if len(self.problems) == 1:
            text = f"{head}: {self.problems[0]}"
        else:
            text = f"{head}: {len(self.problems)} problems:\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(text)
