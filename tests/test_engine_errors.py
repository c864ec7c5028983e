"""Bad input gets a clear error: the right class from tinygrad_edu.errors, a message naming the op and
the shapes / dtypes / labels involved, and no state changed (tensors' values, .grad and flags are as
before the call).

Each group of bad inputs is a module-level table; `python tests/test_engine_errors.py` prints how many
distinct bad inputs each group tries (test_numerics.py adds the numerical extremes).
"""
import re
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import pytest

from tinygrad_edu import (ArgumentError, DTypeError, GraphError, IndexOutOfRange, LabelError, ShapeError, Tensor,
                          TinygradError, grad, no_grad)


@dataclass
class Bad:
    """One bad input. setup() builds the objects (its Tensors are checked for changes); action(*objs)
    must raise `error` with a message containing every fragment (plain text, not regexes)."""
    id: str
    error: type
    fragments: tuple
    action: Callable
    setup: Optional[Callable] = None


def T(*a, **k):
    return Tensor(*a, **k)


def W(shape=(3,), value=1.0, dtype=np.float64):
    """A parameter: a leaf that requires grad."""
    return Tensor(np.full(shape, value, dtype=dtype), requires_grad=True)


def _released():
    x = W((2,))
    loss = x.tanh().sum()
    loss.backward()
    return loss, x


def _modified_weight():
    x, w = T([[1.0, 2.0]]), W((2, 1))
    loss = (x @ w).sum()
    with no_grad():
        w -= 1.0
    return loss, w


def _modified_linear_input():
    base = T(np.ones((2, 3)))
    w, b = W((3, 2)), W((2,))
    loss = base[0:1].linear(w, b).sum()             # linear saved a view of base
    base[0, 1] = 5.0
    return loss, w


def _modified_exp_output():
    x = W((2,))
    y = x.exp()
    with no_grad():
        y += 1.0
    return y.sum(), x


# ---------------------------------------------------------------------------------------------------

SHAPE_ERRORS = [
    Bad("add (3,) + (4,)", ShapeError, ("add", "(3,)", "(4,)"), lambda a, b: a + b, lambda: (W((3,)), W((4,)))),
    Bad("mul (2, 3) * (3, 2)", ShapeError, ("mul", "(2, 3)", "(3, 2)"), lambda a, b: a * b,
        lambda: (W((2, 3)), W((3, 2)))),
    Bad("sub (2,) - (3, 1, 4)", ShapeError, ("sub", "(2,)", "(3, 1, 4)"), lambda a, b: a - b,
        lambda: (W((2,)), T(np.ones((3, 1, 4))))),
    Bad("div ndarray (5,) / (2,)", ShapeError, ("div", "(5,)", "(2,)"), lambda a: np.ones(5) / a, lambda: (W((2,)),)),
    Bad("list + tensor mismatch", ShapeError, ("add", "(2,)", "(3,)"), lambda a: [1.0, 2.0] + a, lambda: (W((3,)),)),
    Bad("matmul inner (2, 3) @ (4, 5)", ShapeError, ("matmul", "(2, 3)", "(4, 5)", "3 != 4"), lambda a, b: a @ b,
        lambda: (W((2, 3)), W((4, 5)))),
    Bad("matmul vectors (3,) @ (4,)", ShapeError, ("matmul", "(3,)", "(4,)"), lambda a, b: a @ b,
        lambda: (W((3,)), W((4,)))),
    Bad("matmul (2, 3) @ (2,)", ShapeError, ("matmul", "(2, 3)", "(2,)"), lambda a, b: a @ b,
        lambda: (W((2, 3)), W((2,)))),
    Bad("matmul batch (2, 3, 4) @ (5, 4, 2)", ShapeError, ("matmul", "(2, 3, 4)", "(5, 4, 2)"),
        lambda a, b: a @ b, lambda: (W((2, 3, 4)), W((5, 4, 2)))),
    Bad("matmul 0-d operand", ShapeError, ("matmul", "0-d", "()", "(3,)"), lambda a, b: a @ b,
        lambda: (W(()), W((3,)))),
    Bad("ndarray @ tensor mismatch", ShapeError, ("matmul", "(2, 5)", "(3, 2)"), lambda b: np.ones((2, 5)) @ b,
        lambda: (W((3, 2)),)),
    Bad("linear inner mismatch", ShapeError, ("linear", "(2, 3)", "(4, 2)"), lambda x, w, b: x.linear(w, b),
        lambda: (W((2, 3)), W((4, 2)), W((2,)))),
    Bad("linear 1-D input", ShapeError, ("linear", "2-D", "(3,)"), lambda x, w, b: x.linear(w, b),
        lambda: (W((3,)), W((3, 2)), W((2,)))),
    Bad("linear bias (3,) for 2 outputs", ShapeError, ("linear", "(3,)"), lambda x, w, b: x.linear(w, b),
        lambda: (W((2, 3)), W((3, 2)), W((3,)))),
    Bad("backward grad (3,) for shape (2,)", ShapeError, ("backward", "(3,)", "(2,)"),
        lambda y: y.backward(np.ones(3)), lambda: ((W((2,)) * 2),)),
    Bad("backward grad (1,) for shape (2,) (no broadcasting)", ShapeError, ("backward", "(1,)", "(2,)"),
        lambda y: y.backward(np.ones(1)), lambda: ((W((2,)) * 2),)),
    Bad("backward grad (2, 1) for shape (2,)", ShapeError, ("backward", "(2, 1)", "(2,)"),
        lambda y: y.backward(np.ones((2, 1))), lambda: ((W((2,)) * 2),)),
    Bad("reshape 6 elements to (4,)", ShapeError, ("reshape", "(4,)", "(2, 3)"), lambda a: a.reshape(4),
        lambda: (W((2, 3)),)),
    Bad("broadcast_to incompatible", ShapeError, ("broadcast", "(3,)", "(2,4)"), lambda a: a.broadcast_to((2, 4)),
        lambda: (W((3,)),)),
    Bad("transpose with 3 axes on 2-D", ShapeError, ("transpose", "(2, 3)"), lambda a: a.transpose(0, 1, 2),
        lambda: (W((2, 3)),)),
    Bad("mse (4, 1) vs (4,)", ShapeError, ("mse", "(4,)", "(4, 1)"), lambda a: a.mse(np.zeros(4)),
        lambda: (W((4, 1)),)),
    Bad("bce target shape", ShapeError, ("binary_cross_entropy_with_logits", "(4, 1)", "(4,)"),
        lambda a: a.binary_cross_entropy_with_logits(np.zeros(4)), lambda: (W((4, 1)),)),
    Bad("cross-entropy on 0-d logits", ShapeError, ("softmax_cross_entropy", "class axis", "()"),
        lambda a: a.softmax_cross_entropy(0), lambda: (W(()),)),
    Bad("cross-entropy with zero classes", ShapeError, ("softmax_cross_entropy", "at least one class", "(2, 0)"),
        lambda a: a.softmax_cross_entropy(np.zeros(2, dtype=int)), lambda: (W((2, 0)),)),
    Bad("max over an empty axis", ShapeError, ("max", "(0, 3)"), lambda a: a.max(axis=0), lambda: (W((0, 3)),)),
    Bad("max of an empty tensor", ShapeError, ("max", "(0,)"), lambda a: a.max(), lambda: (W((0,)),)),
    Bad("item() of (2, 3)", ShapeError, ("item", "(2, 3)"), lambda a: a.item(), lambda: (W((2, 3)),)),
    Bad("truth value of a (2,) tensor", ShapeError, ("truth value", "(2,)"), lambda a: bool(a), lambda: (W((2,)),)),
    Bad("in-place add (3,) += (2, 3)", ShapeError, ("add_", "(3,)", "(2, 3)"), lambda a: a.__iadd__(np.ones((2, 3))),
        lambda: (T(np.zeros(3)),)),
    Bad("copy_ (3,) from (4,)", ShapeError, ("copy_", "(3,)", "(4,)"), lambda a: a.copy_(np.ones(4)),
        lambda: (T(np.zeros(3)),)),
    Bad("setitem slice of 2 from (3,)", ShapeError, ("setitem", "(4,)"),
        lambda a: a.__setitem__(slice(0, 2), np.ones(3)),
        lambda: (T(np.zeros(4)),)),
    Bad("assign .grad of the wrong shape", ShapeError, ("grad", "(2,)", "(3,)"),
        lambda a: setattr(a, "grad", np.ones(2)),
        lambda: (W((3,)),)),
    Bad("grad() with 2 grad_outputs for 1 output", ShapeError, ("grad", "1 outputs", "2 grad_outputs"),
        lambda x: grad(x * 2, [x], grad_outputs=[np.ones(1), np.ones(1)]), lambda: (W((1,)),)),
]

INDEX_ERRORS = [
    Bad("t[5] on (3,)", IndexOutOfRange, ("getitem", "5", "size 3"), lambda a: a[5], lambda: (W((3,)),)),
    Bad("t[-4] on (3,)", IndexOutOfRange, ("getitem", "-4"), lambda a: a[-4], lambda: (W((3,)),)),
    Bad("t[[0, 7]] on (3,)", IndexOutOfRange, ("getitem", "7"), lambda a: a[[0, 7]], lambda: (W((3,)),)),
    Bad("t[0, 0] on 1-D", IndexOutOfRange, ("getitem", "too many indices"), lambda a: a[0, 0], lambda: (W((3,)),)),
    Bad("bool mask of the wrong length", IndexOutOfRange, ("getitem", "boolean"),
        lambda a: a[np.array([True, False])], lambda: (W((3,)),)),
    Bad("sum(axis=3) on 2-D", IndexOutOfRange, ("sum", "axis 3", "(2, 3)"), lambda a: a.sum(axis=3),
        lambda: (W((2, 3)),)),
    Bad("mean(axis=-3) on 2-D", IndexOutOfRange, ("mean", "-3"), lambda a: a.mean(axis=-3), lambda: (W((2, 3)),)),
    Bad("max(axis=2) on 2-D", IndexOutOfRange, ("max", "axis 2"), lambda a: a.max(axis=2), lambda: (W((2, 3)),)),
    Bad("softmax(axis=2) on 2-D", IndexOutOfRange, ("softmax", "axis 2"), lambda a: a.softmax(axis=2),
        lambda: (W((2, 3)),)),
    Bad("logsumexp(axis=5)", IndexOutOfRange, ("logsumexp", "axis 5"), lambda a: a.logsumexp(axis=5),
        lambda: (W((2, 3)),)),
    Bad("swapaxes(0, 5)", IndexOutOfRange, ("swapaxes", "5", "(2, 3)"), lambda a: a.swapaxes(0, 5),
        lambda: (W((2, 3)),)),
    Bad("setitem t[10] = 1", IndexOutOfRange, ("setitem", "10", "(3,)"), lambda a: a.__setitem__(10, 1.0),
        lambda: (T(np.zeros(3)),)),
]

DTYPE_VALUE_ERRORS = [
    Bad("strings", DTypeError, ("Tensor()", "<U"), lambda: T(["a", "b"])),
    Bad("numbers mixed with a string", DTypeError, ("Tensor()", "<U"), lambda: T([1.0, "a"])),
    Bad("complex numbers", DTypeError, ("Tensor()", "complex128"), lambda: T([1 + 2j])),
    Bad("None", DTypeError, ("Tensor()", "object"), lambda: T(None)),
    Bad("a dict", DTypeError, ("Tensor()", "dict", "object"), lambda: T({"a": 1})),
    Bad("object ndarray", DTypeError, ("Tensor()", "object"), lambda: T(np.array([1.0, None]))),
    Bad("ragged nested lists", ShapeError, ("Tensor()", "ragged"), lambda: T([[1.0, 2.0], [3.0]])),
    Bad("unknown dtype name", DTypeError, ("Tensor()", "flaot32"), lambda: T([1.0], dtype="flaot32")),
    Bad("complex dtype", DTypeError, ("Tensor()", "complex128"), lambda: T([1.0], dtype=complex)),
    Bad("int tensor requires_grad=True", DTypeError, ("int64", "floating-point"),
        lambda: T([1, 2], requires_grad=True)),
    Bad("bool tensor requires_grad=True", DTypeError, ("bool", "floating-point"),
        lambda: T([True], requires_grad=True)),
    Bad("int32 dtype with requires_grad", DTypeError, ("int32",), lambda: T([1.0], dtype=np.int32, requires_grad=True)),
    Bad("requires_grad_() on an int tensor", DTypeError, ("requires_grad_()", "int64"), lambda a: a.requires_grad_(),
        lambda: (T(np.arange(3)),)),
    Bad("requires_grad = True on a uint8 tensor", DTypeError, ("uint8",), lambda a: setattr(a, "requires_grad", True),
        lambda: (T(np.arange(3, dtype=np.uint8)),)),
    Bad("tensor + string", DTypeError, ("add", "str"), lambda a: a + "a", lambda: (W(),)),
    Bad("tensor * None", DTypeError, ("mul", "NoneType"), lambda a: a * None, lambda: (W(),)),
    Bad("string - tensor", DTypeError, ("sub", "str"), lambda a: "a" - a, lambda: (W(),)),
    Bad("tensor + list with a string", DTypeError, ("add", "list"), lambda a: a + [1, "a", 2], lambda: (W(),)),
    Bad("tensor + ragged list", ShapeError, ("add", "rectangular"), lambda a: a + [[1.0, 2.0], [3.0]], lambda: (W(),)),
    Bad("tensor / complex", DTypeError, ("div", "complex"), lambda a: a / (1 + 1j), lambda: (W(),)),
    Bad("tensor ** string", DTypeError, ("pow", "str"), lambda a: a ** "2", lambda: (W(),)),
    Bad("negative number ** tensor", ArgumentError, ("pow", "positive", "-2"), lambda a: (-2) ** a, lambda: (W(),)),
    Bad("zero ** tensor", ArgumentError, ("pow", "positive"), lambda a: 0.0 ** a, lambda: (W(),)),
    Bad("ndarray with a negative ** tensor", ArgumentError, ("pow", "(3,)"), lambda a: np.array([1.0, -1.0, 2.0]) ** a,
        lambda: (W(),)),
    Bad("astype unknown dtype", DTypeError, ("astype", "flaot"), lambda a: a.astype("flaot"), lambda: (W(),)),
    Bad("astype complex", DTypeError, ("astype", "complex"), lambda a: a.astype(np.complex64), lambda: (W(),)),
    Bad("float index array", DTypeError, ("index", "float64"), lambda a: a[np.array([0.5])], lambda: (W(),)),
    Bad(".data = strings", DTypeError, ("Tensor.data", "<U"), lambda a: setattr(a, "data", ["a"]), lambda: (W(),)),
    Bad(".data = ints on a parameter", DTypeError, ("Tensor.data", "int64"), lambda a: setattr(a, "data", np.arange(3)),
        lambda: (W(),)),
    Bad("assign .grad of the wrong dtype", DTypeError, ("grad", "float32", "float64"),
        lambda a: setattr(a, "grad", np.ones(3, np.float32)), lambda: (W(),)),
    Bad("int tensor += 0.5", DTypeError, ("add_", "int64", "float64"), lambda a: a.__iadd__(0.5),
        lambda: (T(np.arange(3)),)),
    Bad("in-place add of a string", DTypeError, ("add_", "str"), lambda a: a.__iadd__("x"), lambda: (T(np.zeros(3)),)),
    Bad("add_ of strings with alpha", DTypeError, ("add_", "<U1"), lambda a: a.add_(["a", "b", "c"], alpha=2),
        lambda: (T(np.zeros(3)),)),
    Bad("setitem with a float index array", DTypeError, ("setitem", "float64"),
        lambda a: a.__setitem__(np.array([0.5]), 1.0), lambda: (T(np.zeros(3)),)),
    Bad("backward with a string upstream gradient", DTypeError, ("backward(grad=...)", "<U"),
        lambda y: y.backward(["a", "b"]), lambda: ((W((2,)) * 2),)),
    Bad("clip without bounds", ArgumentError, ("clip", "min", "max"), lambda a: a.clip(), lambda: (W(),)),
    Bad("cross-entropy reduction='meen'", ArgumentError, ("softmax_cross_entropy", "'meen'", "'mean'"),
        lambda a: a.softmax_cross_entropy(np.array([0, 1]), reduction="meen"), lambda: (W((2, 3)),)),
    Bad("bce reduction='avg'", ArgumentError, ("binary_cross_entropy_with_logits", "'avg'"),
        lambda a: a.binary_cross_entropy_with_logits(np.zeros(3), reduction="avg"), lambda: (W(),)),
    Bad("mse reduction=None", ArgumentError, ("mse", "None"), lambda a: a.mse(np.zeros(3), reduction=None),
        lambda: (W(),)),
]

GRAPH_MISUSE = [
    Bad("backward on (2, 3) without grad", GraphError, ("backward", "(2, 3)", "grad"), lambda y: y.backward(),
        lambda: ((W((2, 3)) * 2),)),
    Bad("backward on (1, 2) loss without grad", GraphError, ("(1, 2)",), lambda y: y.backward(),
        lambda: ((W((1, 2)) + 1),)),
    Bad("backward from a tensor with no graph", GraphError, ("backward", "does not require grad"),
        lambda y: y.backward(), lambda: (T(1.0),)),
    Bad("backward from a result computed under no_grad", GraphError, ("does not require grad",),
        lambda y, w: y.backward(), lambda: (lambda w: (_no_grad_result(w), w))(W())),
    Bad("second backward through a released graph", GraphError, ("sum", "freed", "retain_graph"),
        lambda loss, x: loss.backward(), _released),
    Bad("backward after a saved weight changed in place", GraphError, ("matmul", "modified in place", "(2, 1)"),
        lambda loss, w: loss.backward(), _modified_weight),
    Bad("backward after a saved output changed in place", GraphError, ("exp", "modified in place"),
        lambda loss, x: loss.backward(), _modified_exp_output),
    Bad("backward after linear's input changed through a view", GraphError, ("linear", "modified in place"),
        lambda loss, x: loss.backward(), _modified_linear_input),
    *[Bad(f"{name} on a parameter outside no_grad", GraphError, (op, "no_grad"), action, lambda: (W(),))
      for name, op, action in [
          ("+=", "add_", lambda w: w.__iadd__(1.0)), ("-=", "sub_", lambda w: w.__isub__(1.0)),
          ("*=", "mul_", lambda w: w.__imul__(2.0)), ("/=", "div_", lambda w: w.__itruediv__(2.0)),
          ("add_", "add_", lambda w: w.add_(1.0, alpha=0.5)), ("sub_", "sub_", lambda w: w.sub_(1.0)),
          ("mul_", "mul_", lambda w: w.mul_(3.0)), ("copy_", "copy_", lambda w: w.copy_(np.zeros(3))),
          ("fill_", "fill_", lambda w: w.fill_(0.0)), ("zero_", "zero_", lambda w: w.zero_()),
          ("t[0] = v", "setitem", lambda w: w.__setitem__(0, 5.0))]],
    Bad("in-place on a recorded intermediate", GraphError, ("add_", "out-of-place"), lambda h, w: h.__iadd__(1.0),
        lambda: (lambda w: (w * 2, w))(W())),
    Bad("in-place on a constant with a parameter operand", GraphError, ("add_", "recorded graph"),
        lambda c, w: c.__iadd__(w), lambda: (T(np.zeros(3)), W())),
    Bad("add_ of a parameter scaled by alpha", GraphError, ("add_", "recorded graph"),
        lambda c, w: c.add_(w, alpha=2.0), lambda: (T(np.zeros(3)), W())),
    Bad("sub_ of a parameter scaled by alpha", GraphError, ("sub_", "recorded graph"),
        lambda c, w: c.sub_(w, alpha=0.5), lambda: (T(np.zeros(3)), W())),
    Bad("in-place on a read-only broadcast view", GraphError, ("add_", "read-only"), lambda b: b.__iadd__(1.0),
        lambda: (T(np.zeros(3)).broadcast_to((2, 3)),)),
    Bad("requires_grad_(False) on a computed tensor", GraphError, ("requires_grad_(False)", "detach"),
        lambda h, w: h.requires_grad_(False), lambda: (lambda w: (w * 2, w))(W())),
    Bad("retain_grad() on a constant", GraphError, ("retain_grad()",), lambda c: c.retain_grad(),
        lambda: (T(np.zeros(3)),)),
    Bad("grad() w.r.t. a constant", GraphError, ("grad", "requires grad"), lambda w, c: grad((w * c).sum(), [c]),
        lambda: (W(), T(np.ones(3)))),
    Bad("grad() w.r.t. an unused input", GraphError, ("grad", "allow_unused"),
        lambda w, u: grad((w * 2).sum(), [w, u]), lambda: (W(), W())),
]


def _no_grad_result(w):
    with no_grad():
        return (w * 2).sum()


LABEL_ERRORS = [
    Bad("label 3 for 3 classes", LabelError, ("softmax_cross_entropy", "label 3", "position 2", "3 classes"),
        lambda z: z.softmax_cross_entropy(np.array([0, 1, 3, 2])), lambda: (W((4, 3)),)),
    Bad("negative label (no wrap-around)", LabelError, ("label -1", "position 1", "0..2"),
        lambda z: z.softmax_cross_entropy(np.array([0, -1, 1, 2])), lambda: (W((4, 3)),)),
    Bad("label -3 (would wrap to class 0)", LabelError, ("label -3",),
        lambda z: z.softmax_cross_entropy(np.array([-3, 0, 1, 2])), lambda: (W((4, 3)),)),
    Bad("huge label 2**40", LabelError, ("label 1099511627776",),
        lambda z: z.softmax_cross_entropy(np.array([0, 0, 0, 2 ** 40])), lambda: (W((4, 3)),)),
    Bad("uint8 label 5", LabelError, ("label 5", "3 classes"),
        lambda z: z.softmax_cross_entropy(np.array([0, 1, 5, 2], dtype=np.uint8)), lambda: (W((4, 3)),)),
    Bad("int32 negative label", LabelError, ("label -2",),
        lambda z: z.softmax_cross_entropy(np.array([0, 1, -2, 2], dtype=np.int32)), lambda: (W((4, 3)),)),
    Bad("labels as an int Tensor, out of range", LabelError, ("label 9",),
        lambda z: z.softmax_cross_entropy(T([9, 0, 0, 0])), lambda: (W((4, 3)),)),
    Bad("scalar label 2 for 2 classes", LabelError, ("label 2", "2 classes"), lambda z: z.softmax_cross_entropy(2),
        lambda: (W((2,)),)),
    Bad("batched (B, T) labels out of range", LabelError, ("label 4", "position 3"),
        lambda z: z.softmax_cross_entropy(np.array([[0, 1], [2, 4]])), lambda: (W((2, 2, 4)),)),
    Bad("float labels", LabelError, ("integers", "float64"),
        lambda z: z.softmax_cross_entropy(np.array([0.0, 1.0, 2.0, 1.0])), lambda: (W((4, 3)),)),
    Bad("NaN labels", LabelError, ("integers", "float64"),
        lambda z: z.softmax_cross_entropy(np.array([0.0, np.nan, 2.0, 1.0])), lambda: (W((4, 3)),)),
    Bad("bool labels", LabelError, ("integers", "bool"),
        lambda z: z.softmax_cross_entropy(np.array([True, False, True, False])), lambda: (W((4, 3)),)),
    Bad("float32 label list", LabelError, ("integers", "float32"),
        lambda z: z.softmax_cross_entropy(np.array([0, 1, 2, 0], dtype=np.float32)), lambda: (W((4, 3)),)),
    Bad("3 labels for a batch of 4", LabelError, ("target shape (3,)", "(4, 3)", "(4,)"),
        lambda z: z.softmax_cross_entropy(np.array([0, 1, 2])), lambda: (W((4, 3)),)),
    Bad("5 labels for a batch of 4", LabelError, ("(5,)", "(4, 3)"),
        lambda z: z.softmax_cross_entropy(np.array([0, 1, 2, 0, 1])), lambda: (W((4, 3)),)),
    Bad("labels shaped (4, 1)", LabelError, ("(4, 1)", "(4, 3)"),
        lambda z: z.softmax_cross_entropy(np.zeros((4, 1), dtype=int)), lambda: (W((4, 3)),)),
    Bad("probability rows with 2 classes for 3", LabelError, ("(4, 2)", "(4, 3)"),
        lambda z: z.softmax_cross_entropy(np.full((4, 2), 0.5)), lambda: (W((4, 3)),)),
    Bad("labels for transposed logits", LabelError, ("(3,)", "(4, 3)"),
        lambda z: z.softmax_cross_entropy(np.array([0, 1, 2])), lambda: (W((4, 3)),)),
]

GROUPS = {
    "shapes": SHAPE_ERRORS,
    "indices": INDEX_ERRORS,
    "dtypes and values": DTYPE_VALUE_ERRORS,
    "graph misuse": GRAPH_MISUSE,
    "labels": LABEL_ERRORS,
}
ALL = [pytest.param(b, id=f"{group}: {b.id}") for group, table in GROUPS.items() for b in table]


def bad_input_counts():
    """Number of distinct bad inputs each group tries (the numerics group lives in test_numerics.py)."""
    counts = {group: len(table) for group, table in GROUPS.items()}
    try:
        import test_numerics
        counts["numerical extremes"] = len(test_numerics.EXTREMES)
        counts["anomalies (detect_anomaly)"] = len(test_numerics.ANOMALIES)
    except ImportError:
        pass
    counts["total"] = sum(counts.values())
    return counts


def _snapshot(objs):
    """Values, gradients and flags of every Tensor among objs (and copies of ndarrays)."""
    snap = []
    for o in objs:
        if isinstance(o, Tensor):
            g = o.grad
            snap.append((o.data.copy(), o.dtype, o.requires_grad, o.grad_fn is None,
                         None if g is None else g.data.copy()))
        elif isinstance(o, np.ndarray):
            snap.append(o.copy())
        else:
            snap.append(None)
    return snap


def _same(a, b):
    if isinstance(a, tuple):
        return all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and \
            np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return a == b


@pytest.mark.parametrize("bad", ALL)
def test_bad_input_raises_a_clear_error_and_changes_nothing(bad):
    objs = bad.setup() if bad.setup else ()
    before = _snapshot(objs)
    with pytest.raises(bad.error) as info:
        bad.action(*objs)
    assert isinstance(info.value, TinygradError)
    message = str(info.value)
    for fragment in bad.fragments:
        assert re.search(re.escape(fragment), message), f"{fragment!r} not in: {message}"
    after = _snapshot(objs)
    for i, (b, a) in enumerate(zip(before, after)):
        assert _same(b, a), f"argument {i} changed although the call failed"


def test_error_classes_also_match_the_builtin_ones():
    """Callers may catch the built-in exception they expect (ValueError, TypeError, IndexError, ...)."""
    with pytest.raises(ValueError):
        W((3,)) + W((4,))
    with pytest.raises(TypeError):
        W() + "a"
    with pytest.raises(IndexError):
        W()[7]
    with pytest.raises(ValueError):
        W((2, 3)).softmax_cross_entropy(np.array([0, 5]))
    with pytest.raises(RuntimeError):
        T(1.0).backward()


def test_every_group_has_many_distinct_bad_inputs():
    counts = bad_input_counts()
    assert counts["shapes"] >= 25 and counts["labels"] >= 15 and counts["graph misuse"] >= 20
    ids = [b.id for table in GROUPS.values() for b in table]
    assert len(ids) == len(set(ids)), "bad-input ids must be distinct"


if __name__ == "__main__":
    for group, n in bad_input_counts().items():
        print(f"{group:28s} {n}")
