"""The library's error types: one small hierarchy, so callers can catch exactly what they mean.

    TinygradError                      base of everything this project raises on purpose
    ├── ShapeError(ValueError)         shapes that do not broadcast / chain / match
    │   └── IndexOutOfRange(IndexError) an index outside a tensor's bounds
    ├── DTypeError(TypeError)          non-numeric input, an integer tensor asked for gradients
    ├── LabelError(ValueError)         class labels out of range, negative, float, wrong length
    ├── ArgumentError(ValueError)      an option with a value it cannot take (reduction='meen', ...)
    ├── GraphError(RuntimeError)       misuse of the recorded graph (released, modified in place, ...)
    │   └── AnomalyError               detect_anomaly(): an op produced NaN/inf
    ├── TraceError(RuntimeError)       te.compile: a step it cannot capture faithfully (and how to fix it)
    └── GradcheckError(AssertionError)  gradcheck(): autodiff and central differences disagree

`nn` adds SpecError and LoadError on top of TinygradError.
Each class subclasses the matching built-in, so `except ValueError` still works.
"""


class TinygradError(Exception):
    """Base class of every error raised on purpose by tinygrad_edu and nn."""


class ShapeError(TinygradError, ValueError):
    """Shapes that do not broadcast, chain or match. The message names the op and the shapes."""


class IndexOutOfRange(ShapeError, IndexError):
    """An index outside a tensor's bounds."""


class DTypeError(TinygradError, TypeError):
    """A value of the wrong kind: non-numeric data, or an integer tensor asked to require grad."""


class LabelError(TinygradError, ValueError):
    """Class labels that are out of range, negative, non-integer or of the wrong length."""


class ArgumentError(TinygradError, ValueError):
    """An option with a value it cannot take, such as reduction='meen'."""


class GraphError(TinygradError, RuntimeError):
    """Misuse of the recorded graph: backward twice through a released graph, a saved array
    modified in place, backward from a tensor without a graph, a non-scalar root without grad."""


class AnomalyError(GraphError):
    """Raised under detect_anomaly() at the first op whose forward or backward is not finite."""


class TraceError(TinygradError, RuntimeError):
    """te.compile: the step does something a capture cannot replay faithfully (Python that depends on
    a traced value, raw NumPy on a traced array, ...). The message names the line and the fix."""


class GradcheckError(TinygradError, AssertionError):
    """gradcheck()/gradgradcheck(): autodiff and central differences disagree. The message names the
    input, the element index, both values and the error."""
