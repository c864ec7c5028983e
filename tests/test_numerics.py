"""Numerical extremes: finite values and finite gradients, without overflow/invalid/divide warnings
(underflow to 0 is fine), in float64 and float32; and detect_anomaly(), which names the first op whose
forward or backward produces NaN/inf and the line that created it.

Expected values are closed forms worked out by hand (noted next to each row)."""
import inspect
import math
import re
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from tinygrad_edu import AnomalyError, Tensor, detect_anomaly

E100 = math.exp(-100.0)                 # e^-100 ≈ 3.7e-44, representable in float64 (a float32 subnormal)
SIG_999 = 1 / (1 + math.exp(-1.0))      # softmax([1000, 999]) = [σ(1), 1 − σ(1)]


@dataclass
class Extreme:
    """fn(x) on the input `x`; backward with `upstream` (None: a one-element output, grad 1).
    `value` and `grad` are the exact results."""
    id: str
    fn: Callable
    x: list
    value: object
    grad: object
    upstream: object = None


EXTREMES = [
    Extreme("sigmoid at ±1000, ±100, 0", lambda x: x.sigmoid(), [-1000.0, 1000.0, -100.0, 100.0, 0.0],
            [0.0, 1.0, E100 / (1 + E100), 1 / (1 + E100), 0.5],
            [0.0, 0.0, E100 / (1 + E100) ** 2, E100 / (1 + E100) ** 2, 0.25], [1.0] * 5),
    Extreme("tanh at ±1000", lambda x: x.tanh(), [-1000.0, 1000.0], [-1.0, 1.0], [0.0, 0.0], [1.0, 1.0]),
    Extreme("exp(-1000) underflows to 0", lambda x: x.exp(), [-1000.0], [0.0], [0.0], [1.0]),
    Extreme("softmax [1000, -1000]", lambda x: x.softmax(), [1000.0, -1000.0], [1.0, 0.0],
            [0.0, 0.0], [1.0, 2.0]),                        # y·(g − Σ g·y) = [1·(1 − 1), 0]
    Extreme("softmax [1000, 999]", lambda x: x.softmax(), [1000.0, 999.0], [SIG_999, 1 - SIG_999],
            [SIG_999 * (1 - SIG_999), -SIG_999 * (1 - SIG_999)], [1.0, 0.0]),
    Extreme("softmax with a -inf (masked) logit", lambda x: x.softmax(), [0.0, -np.inf, 0.0], [0.5, 0.0, 0.5],
            [0.25, 0.0, -0.25], [1.0, 5.0, 0.0]),           # y·(g − Σgy): Σgy = 0.5
    Extreme("log_softmax [1000, -1000]", lambda x: x.log_softmax(), [1000.0, -1000.0], [0.0, -2000.0],
            [-1.0, 1.0], [1.0, 1.0]),                       # g − softmax·Σg = [1 − 2, 1 − 0]
    Extreme("log_softmax of an all-equal row", lambda x: x.log_softmax(), [7.0] * 4, [-math.log(4)] * 4,
            [0.75, -0.25, -0.25, -0.25], [1.0, 0.0, 0.0, 0.0]),
    Extreme("log_softmax of an all-equal row at -1e4", lambda x: x.log_softmax(), [-1e4] * 3, [-math.log(3)] * 3,
            [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]),
    Extreme("logsumexp [1000, 1000]", lambda x: x.logsumexp(), [1000.0, 1000.0], 1000 + math.log(2), [0.5, 0.5]),
    Extreme("logsumexp [-1000, -1000]", lambda x: x.logsumexp(), [-1000.0, -1000.0], -1000 + math.log(2),
            [0.5, 0.5]),
    Extreme("logsumexp with -inf", lambda x: x.logsumexp(), [-np.inf, 0.0], 0.0, [0.0, 1.0]),
    Extreme("cross-entropy [1000, -1000], right label", lambda x: x.softmax_cross_entropy(np.array([0])),
            [[1000.0, -1000.0]], 0.0, [[0.0, 0.0]]),
    Extreme("cross-entropy [1000, -1000], wrong label", lambda x: x.softmax_cross_entropy(np.array([1])),
            [[1000.0, -1000.0]], 2000.0, [[1.0, -1.0]]),     # softmax − onehot = [1, 0] − [0, 1]
    Extreme("cross-entropy [1e4, 0, -1e4], label 2, sum", lambda x: x.softmax_cross_entropy(np.array([2]), "sum"),
            [[1e4, 0.0, -1e4]], 2e4, [[1.0, 0.0, -1.0]]),
    Extreme("cross-entropy, probability rows on [1000, -1000]",
            lambda x: x.softmax_cross_entropy(np.array([[0.5, 0.5]], x.dtype)), [[1000.0, -1000.0]], 1000.0,
            [[0.5, -0.5]]),
    Extreme("cross-entropy with a -inf logit off the label", lambda x: x.softmax_cross_entropy(np.array([0])),
            [[0.0, -np.inf]], 0.0, [[0.0, 0.0]]),
    Extreme("BCE with logits ±100, matching targets",
            lambda x: x.binary_cross_entropy_with_logits(np.array([1.0, 0.0], x.dtype)), [100.0, -100.0],
            math.log1p(E100), [-E100 / (1 + E100) / 2, E100 / (1 + E100) / 2]),
    Extreme("BCE with logits ±100, opposite targets",
            lambda x: x.binary_cross_entropy_with_logits(np.array([0.0, 1.0], x.dtype)), [100.0, -100.0],
            100 + math.log1p(E100), [1 / (1 + E100) / 2, -1 / (1 + E100) / 2]),
    Extreme("BCE with logits ±1000, sum",
            lambda x: x.binary_cross_entropy_with_logits(np.array([0.0, 1.0], x.dtype), "sum"),
            [1000.0, -1000.0], 2000.0, [1.0, -1.0]),
    Extreme("relu exactly at 0 (gradient 0)", lambda x: x.relu(), [0.0, -0.0, 1.0, -1.0], [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 1.0, 0.0], [1.0] * 4),
    Extreme("abs exactly at 0 (gradient 0)", lambda x: x.abs(), [0.0, 2.0, -2.0], [0.0, 2.0, 2.0], [0.0, 1.0, -1.0],
            [1.0] * 3),
    Extreme("clip at its bounds (gradient passes)", lambda x: x.clip(-0.5, 0.5), [-0.5, 0.5, 0.7],
            [-0.5, 0.5, 0.5], [1.0, 1.0, 0.0], [1.0] * 3),
    Extreme("x ** 0 at 0 (gradient 0, not 0 · inf)", lambda x: x ** 0, [0.0, 2.0, -1.5], [1.0, 1.0, 1.0],
            [0.0, 0.0, 0.0], [1.0] * 3),
    Extreme("max with a tie at a huge value", lambda x: x.max(), [1e300, 1e300, -1e300], 1e300, [0.5, 0.5, 0.0]),
    Extreme("mse of a large error", lambda x: x.mse(np.zeros(2, x.dtype)), [1e100, -1e100], 1e200, [1e100, -1e100]),
]

# float32 rows: same inputs, except those whose exact answer is not representable in float32
# (1e300, 1e100 overflow; e^-100 is a subnormal there).
FLOAT32_SKIP = {"max with a tie at a huge value", "mse of a large error"}


@pytest.fixture
def strict_floats():
    """Overflow, invalid operations and division by zero raise; underflow to 0 is allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            yield


@pytest.mark.parametrize("case, dtype", [
    pytest.param(c, dt, id=f"{c.id}-{np.dtype(dt).name}") for dt in (np.float64, np.float32) for c in EXTREMES
    if not (dt == np.float32 and c.id in FLOAT32_SKIP)])
def test_extremes_stay_finite_and_exact(case, dtype, strict_floats):
    x = Tensor(np.array(case.x, dtype=dtype), requires_grad=True)
    out = case.fn(x)
    assert out.dtype == dtype
    # Absolute slack of 1e-40 (float64) / 1e-37 (float32): σ(100) rounds to 1, so y(1 − y) gives 0 for the
    # true 3.7e-44, as in PyTorch. float32 loses ~|x|·6e-8 relative accuracy on inputs near ±1000.
    rtol, atol = (1e-12, 1e-40) if dtype == np.float64 else (1e-4, 1e-37)
    np.testing.assert_allclose(out.data, np.asarray(case.value, dtype=np.float64), rtol=rtol, atol=atol)
    assert np.isfinite(out.data).all()
    upstream = None if case.upstream is None else np.asarray(case.upstream, dtype=dtype)
    out.backward(upstream)
    assert x.grad.dtype == dtype and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, np.asarray(case.grad, dtype=np.float64), rtol=rtol, atol=atol)


def test_float32_sigmoid_and_bce_do_not_overflow_beyond_float32_range(strict_floats):
    """exp(100) overflows float32 (max ≈ 3.4e38): the stable forms must never compute it."""
    z = Tensor(np.array([-100.0, -90.0, 90.0, 100.0], np.float32), requires_grad=True)
    s = z.sigmoid()
    np.testing.assert_allclose(s.data, [0.0, 0.0, 1.0, 1.0], atol=1e-38)
    loss = z.binary_cross_entropy_with_logits(np.array([0.0, 0.0, 1.0, 1.0], np.float32), "sum")
    assert np.isfinite(loss.item()) and loss.item() < 1e-30
    (s.sum() + loss).backward()
    assert np.isfinite(z.grad.data).all()


def test_softmax_is_shift_invariant_at_huge_offsets(strict_floats):
    base = np.array([[0.5, -1.0, 2.0]])
    expected = np.exp(base) / np.exp(base).sum()
    for shift in (0.0, 1e3, -1e3, 1e5, -1e5):
        np.testing.assert_allclose(Tensor(base + shift).softmax().data, expected, rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_rows_along_the_last_axis_match_the_general_path(dtype):
    # The last axis takes a faster row path (argmax + take for the maxima, BLAS row sums); any other
    # axis the general one. Transposing moves the same rows to axis 0: both must agree, also on rows
    # with -inf (a class ruled out), huge offsets, NaN and all -inf (NaN, as the formula gives).
    rows = np.array([[0.5, -1.0, 2.0, 0.0], [1e4, 1e4 - 3, -np.inf, 1e4 + 1],
                     [-1e4, -1e4 + 2, -1e4, -1e4 - 5], [np.nan, 0.0, 1.0, 2.0],
                     [-np.inf, -np.inf, -np.inf, -np.inf]], dtype=dtype)
    stacked = np.stack([rows, rows[::-1]])                      # (2, 5, 4): leading axes too
    for method in ("softmax", "log_softmax"):
        with np.errstate(invalid="ignore"):                     # the NaN and all -inf rows
            fast = getattr(Tensor(stacked), method)(axis=-1).data
            also_fast = getattr(Tensor(stacked), method)(axis=2).data
            general = np.swapaxes(getattr(Tensor(np.swapaxes(stacked, 0, 2)), method)(axis=0).data, 0, 2)
        assert fast.dtype == dtype and fast.shape == stacked.shape
        np.testing.assert_array_equal(fast, also_fast)
        np.testing.assert_allclose(fast, general, rtol=1e-6 if dtype == np.float32 else 1e-14,
                                   atol=1e-6 if dtype == np.float32 else 1e-14)
        assert np.isnan(fast[0, 3:]).all() and not np.isnan(fast[0, :3]).any()
    probs = Tensor(rows[:3]).softmax().data
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-6 if dtype == np.float32 else 1e-14)
    assert probs[1, 2] == 0.0                                   # exp(-inf) is exactly 0


# ---------------------------------------------------------------------------------------------------
# detect_anomaly


@dataclass
class Anomaly:
    """Under detect_anomaly, build(x) then .sum().backward() must raise naming `op` at `stage`."""
    id: str
    build: Callable
    x: list
    op: str
    stage: str
    bad: str


ANOMALIES = [
    Anomaly("log of a negative number", lambda x: x.log(), [1.0, -1.0], "log", "forward", "NaN"),
    Anomaly("sqrt of a negative number", lambda x: x.sqrt(), [-4.0], "sqrt", "forward", "NaN"),
    Anomaly("exp overflow", lambda x: x.exp(), [1000.0], "exp", "forward", "inf"),
    Anomaly("division by zero", lambda x: 1.0 / x, [0.0, 1.0], "div", "forward", "inf"),
    Anomaly("multiplication by inf", lambda x: x * np.inf, [1.0], "mul", "forward", "inf"),
    Anomaly("NaN in the input", lambda x: x + 1.0, [np.nan], "add", "forward", "NaN"),
    Anomaly("log of zero", lambda x: (x * 0.0).log(), [3.0], "log", "forward", "inf"),
    Anomaly("sqrt at 0 in backward", lambda x: x.sqrt(), [0.0, 4.0], "sqrt", "backward", "inf"),
    Anomaly("x ** 0.5 at 0 in backward", lambda x: x ** 0.5, [0.0], "pow", "backward", "inf"),
    Anomaly("sqrt(x²) at 0 in backward", lambda x: (x * x).sqrt(), [0.0], "sqrt", "backward", "inf"),
    Anomaly("log at a subnormal input: huge gradient overflows", lambda x: x.log() * 1e300, [1e-300], "log",
            "backward", "inf"),
]


@pytest.mark.parametrize("case", ANOMALIES, ids=lambda c: c.id)
def test_detect_anomaly_names_the_op_and_where_it_was_created(case):
    x = Tensor(np.array(case.x), requires_grad=True)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with detect_anomaly():
            with pytest.raises(AnomalyError) as info:
                case.build(x).sum().backward()
    message = str(info.value)
    assert re.match(rf"{case.op} {case.stage} produced {case.bad}", message), message
    assert "test_numerics.py:" in message and "created at" in message


def test_detect_anomaly_reports_the_exact_line():
    x = Tensor([-1.0], requires_grad=True)
    line = inspect.currentframe().f_lineno + 3           # the line of x.log() below
    with np.errstate(all="ignore"), detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            x.log()
    assert f"test_numerics.py:{line} in test_detect_anomaly_reports_the_exact_line" in str(info.value)


def test_detect_anomaly_is_silent_on_finite_graphs_and_restores_the_mode():
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    x = Tensor(rng.standard_normal((4, 3)))
    with detect_anomaly():
        loss = (x @ W).tanh().softmax_cross_entropy(np.array([0, 1, 1, 0]))
        loss.backward()
    expected = W.grad.data.copy()
    W.zero_grad()
    (x @ W).tanh().softmax_cross_entropy(np.array([0, 1, 1, 0])).backward()
    np.testing.assert_array_equal(W.grad.data, expected)
    # Outside the mode, a NaN passes silently (that is what the mode is for)
    with np.errstate(all="ignore"):
        y = Tensor([-1.0], requires_grad=True).log()
    assert np.isnan(y.data).all()
    with pytest.raises(ZeroDivisionError):
        with detect_anomaly():
            raise ZeroDivisionError
    with np.errstate(all="ignore"):
        assert np.isnan(Tensor([-1.0]).log().data).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("size", [6, 600])          # small arrays and big ones take different paths
def test_sigmoid_of_large_negative_values_never_overflows_even_next_to_nan(dtype, size):
    """Pinned: sigmoid caps exp's argument; on big arrays it first checks the maximum, and a NaN
    maximum must still lead to the cap (NaN > limit is False)."""
    values = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0, np.nan] * (size // 6), dtype=dtype)
    x = Tensor(values, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = x.sigmoid()
        y.backward(np.ones_like(values))
    expected = np.array([0.0, 0.0, 0.5, 1.0, 1.0, np.nan] * (size // 6))
    np.testing.assert_allclose(y.data, expected, atol=1e-30 if dtype == np.float64 else 1e-37)
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert np.isnan(x.grad.data[5::6]).all() and np.isfinite(x.grad.data[np.arange(size) % 6 != 5]).all()
