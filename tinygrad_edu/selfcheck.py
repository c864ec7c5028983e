"""The engine checks itself: every public differentiable op, gradchecked against central differences.

    from tinygrad_edu.selfcheck import run
    for result in run():
        print(result.name, result.elements, result.max_error, "OK" if result.ok else "FAIL")

(`tinygrad-edu check` prints this table.) Each row of CASES is one op case: a name, a function of
Tensors, the shapes of its inputs and the domain its values are drawn from ("positive" for log and
sqrt, "away from 0" for division and the kinks of relu and abs, ...). run() draws the inputs in
float64 with a fixed seed and compares autodiff with central differences using
tinygrad_edu.gradcheck; rows marked second order use gradgradcheck, which differentiates the
backward pass itself (backward(create_graph=True)).

Integer class labels are constants (they have no gradient); every other input requires grad, so the
gradients with respect to loss targets are checked too. The test suite has a richer table
(tests/op_cases.py) with more shapes, random shapes and PyTorch as a second oracle; this one is
short enough to read, and runs in a fraction of a second.
"""
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import functions as te
from .gradcheck import gradcheck, gradgradcheck
from .tensor import Tensor

__all__ = ["OpCase", "CheckResult", "CASES", "DOMAINS", "run", "run_case", "make_inputs"]


# ---------------------------------------------------------------------------------------------------
# Domains: where the inputs' values are drawn from, so each op is smooth around them.
# Each is f(rng, shape, shapes) -> ndarray; `shapes` holds every input's shape (labels need the
# logits' class count).

def _real(rng, shape, shapes):
    return rng.standard_normal(shape)


def _positive(rng, shape, shapes):
    return rng.uniform(0.5, 2.0, shape)


def _away_from_0(rng, shape, shapes):
    return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _distinct(rng, shape, shapes):
    # at least 0.15 apart: max and min have no ties, so their derivative exists
    n = int(np.prod(shape, dtype=np.int64))
    return (rng.permutation(n) * 0.25 + rng.uniform(-0.05, 0.05, n)).reshape(shape)


def _off_clip_bounds(rng, shape, shapes):
    # clip's derivative jumps at its bounds ±0.5: keep 0.1 away from them
    x = rng.uniform(-1.2, 1.2, shape)
    return np.where(np.abs(np.abs(x) - 0.5) < 0.1, x * 1.5, x)


def _unit(rng, shape, shapes):
    return rng.uniform(0.05, 0.95, shape)


def _zero_one(rng, shape, shapes):
    return rng.integers(0, 2, shape).astype(np.float64)


def _probabilities(rng, shape, shapes):
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(axis=-1, keepdims=True)


def _one_hot(rng, shape, shapes):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]


def _labels(rng, shape, shapes):
    return rng.integers(0, shapes[0][-1], shape)


DOMAINS = {
    "real": _real,                      # standard normal
    "positive": _positive,              # [0.5, 2]: log, sqrt, fractional powers
    "away from 0": _away_from_0,        # |x| in [0.5, 2]: divisors, relu and abs off their kink
    "distinct": _distinct,              # no ties: max, min
    "off clip bounds": _off_clip_bounds,
    "(0, 1)": _unit,                    # probabilities: BCE targets
    "0/1": _zero_one,                   # hard binary targets
    "probability rows": _probabilities,
    "one-hot rows": _one_hot,
    "labels": _labels,                  # integer class labels: constants, not differentiated
}
CONSTANT_DOMAINS = {"labels"}


@dataclass(frozen=True)
class OpCase:
    """One row of the table: `fn(*inputs)` is checked at inputs of `shapes` drawn from `domain`
    (one domain name for every input, or a tuple with one per input)."""
    name: str
    fn: Callable
    shapes: tuple
    domain: object = "real"
    second_order: bool = False

    def domains(self):
        return self.domain if isinstance(self.domain, tuple) else (self.domain,) * len(self.shapes)


def case(name, fn, *shapes, domain="real"):
    return OpCase(name, fn, shapes, domain)


def second(name, fn, *shapes, domain="real"):
    return OpCase(name, fn, shapes, domain, second_order=True)


_IDX = np.array([0, 2, 0, 0, 1])                 # repeated indices: their gradients must add up
_MASK = np.array([True, False, True, True])

CASES = [
    # arithmetic, with broadcasting (the gradient is summed back to each input's shape)
    case("add", lambda a, b: a + b, (3, 4), (3, 4)),
    case("add, broadcast (3,1)+(4,)", lambda a, b: a + b, (3, 1), (4,)),
    case("sub, broadcast (2,3)-(3,)", lambda a, b: a - b, (2, 3), (3,)),
    case("mul, broadcast (2,1,3)*(4,1)", lambda a, b: a * b, (2, 1, 3), (4, 1)),
    case("div, broadcast (3,4)/(4,)", lambda a, b: a / b, (3, 4), (4,), domain=("real", "away from 0")),
    case("neg", lambda a: -a, (5,)),
    case("constant - x, constant / x", lambda a: 1.5 - a + 2.0 / a, (2, 3), domain="away from 0"),
    case("pow 3", lambda a: a ** 3, (2, 3)),
    case("pow 0.5, pow -1.5", lambda a: a ** 0.5 + a ** -1.5, (2, 3), domain="positive"),
    case("square", lambda a: a.square(), (2, 3)),
    case("x ** tensor", lambda a, b: a ** b, (2, 3), (2, 3), domain=("positive", "real")),
    case("2 ** tensor", lambda a: 2.0 ** a, (4,)),
    # matrix products
    case("matmul 1-D @ 1-D", lambda a, b: a @ b, (4,), (4,)),
    case("matmul 2-D @ 2-D", lambda a, b: a @ b, (3, 4), (4, 2)),
    case("matmul 1-D @ 2-D", lambda a, b: a @ b, (4,), (4, 3)),
    case("matmul 2-D @ 1-D", lambda a, b: a @ b, (3, 4), (4,)),
    case("matmul batched (2,3,4)@(2,4,2)", lambda a, b: a @ b, (2, 3, 4), (2, 4, 2)),
    case("matmul batch broadcast (2,3,4)@(4,2)", lambda a, b: a @ b, (2, 3, 4), (4, 2)),
    case("linear x W + b", lambda x, W, b: x.linear(W, b), (3, 4), (4, 2), (2,)),
    # reductions
    case("sum", lambda a: a.sum(), (3, 4)),
    case("sum axis=0 keepdims", lambda a: a.sum(axis=0, keepdims=True), (3, 4)),
    case("sum axis=(0, 2)", lambda a: a.sum(axis=(0, 2)), (2, 3, 2)),
    case("mean", lambda a: a.mean(), (3, 4)),
    case("mean axis=1", lambda a: a.mean(axis=1), (3, 4)),
    case("max", lambda a: a.max(), (3, 4), domain="distinct"),
    case("max axis=1 keepdims", lambda a: a.max(axis=1, keepdims=True), (3, 4), domain="distinct"),
    case("min axis=0", lambda a: a.min(axis=0), (3, 4), domain="distinct"),
    case("var, std", lambda a: a.var(axis=1) + a.std(), (3, 4)),
    case("prod axis=1, prod", lambda a: a.prod(axis=1) + a.prod(), (3, 4), domain="positive"),
    case("cumsum", lambda a: a.cumsum(axis=1), (3, 4)),
    # elementwise functions
    case("exp", lambda a: a.exp(), (2, 3)),
    case("log", lambda a: a.log(), (2, 3), domain="positive"),
    case("tanh", lambda a: a.tanh(), (2, 3)),
    case("sigmoid", lambda a: a.sigmoid(), (2, 3)),
    case("relu", lambda a: a.relu(), (2, 3), domain="away from 0"),
    case("abs", lambda a: a.abs(), (2, 3), domain="away from 0"),
    case("sign (gradient 0)", lambda a: a.sign() * a, (2, 3), domain="away from 0"),
    case("where(a > 0, a, b)", lambda a, b: a.where(a > 0, b), (3, 4), (3, 4), domain="away from 0"),
    case("sqrt", lambda a: a.sqrt(), (2, 3), domain="positive"),
    case("clip(-0.5, 0.5)", lambda a: a.clip(-0.5, 0.5), (3, 4), domain="off clip bounds"),
    case("clip(min=-0.5)", lambda a: a.clip(min=-0.5), (3, 4), domain="off clip bounds"),
    case("astype float64 (cast)", lambda a: a.astype(np.float64) * a, (2, 3)),
    case("sin, cos, tan", lambda a: a.sin() * a.cos() + (0.5 * a).tan(), (2, 3)),
    case("log1p, expm1", lambda a: a.log1p() + a.expm1(), (2, 3), domain="positive"),
    case("erf (inside gelu)", lambda a: a.gelu() + a.erf(), (2, 3)),
    case("leaky_relu, elu", lambda a: a.leaky_relu(0.1) + a.elu(), (2, 3), domain="away from 0"),
    case("softplus, silu", lambda a: a.softplus() + a.silu(), (2, 3)),
    case("maximum, minimum", lambda a, b: te.maximum(a, b) + 2 * te.minimum(a, b), (3, 4), (4,)),
    # shapes and indexing
    case("reshape", lambda a: a.reshape(3, 2), (2, 3)),
    case("flatten", lambda a: a.flatten(), (2, 3, 2)),
    case("transpose .T", lambda a: a.T, (2, 3)),
    case("transpose axes (2,0,1)", lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    case("swapaxes", lambda a: a.swapaxes(0, 2), (2, 3, 4)),
    case("broadcast_to", lambda a: a.broadcast_to((2, 3, 4)), (3, 1)),
    case("concatenate, stack", lambda a, b: te.cat([a, b], dim=1) + te.stack([a, a], axis=1).reshape(3, 4), (3, 2),
         (3, 2)),
    case("pad", lambda a: a.pad(((1, 0), (0, 2))), (2, 3)),
    case("einsum ij,kj->ik (a @ bᵀ)", lambda a, b: te.einsum("ij,kj->ik", a, b), (2, 3), (4, 3)),
    case("einsum ii->i (diagonal), i,j->ij", lambda a, v: te.einsum("ii->i", a) * te.einsum("i,j->ij", v, v),
         (3, 3), (3,)),
    case("getitem slice", lambda a: a[1:, ::2], (3, 4)),
    case("getitem int and None", lambda a: a[1, None], (3, 4)),
    case("getitem repeated indices", lambda a: a[_IDX], (3, 2)),
    case("getitem 2-D fancy", lambda a: a[[0, 2, 2], [1, 0, 1]], (3, 2)),
    case("getitem bool mask", lambda a: a[_MASK], (4, 2)),
    # the softmax family
    case("softmax", lambda a: a.softmax(), (3, 4)),
    case("softmax axis=0", lambda a: a.softmax(axis=0), (3, 4)),
    case("log_softmax", lambda a: a.log_softmax(), (3, 4)),
    case("logsumexp", lambda a: a.logsumexp(), (3, 4)),
    case("logsumexp axis=0 keepdims", lambda a: a.logsumexp(axis=0, keepdims=True), (3, 4)),
    # losses, with each kind of target
    case("softmax_cross_entropy labels, mean", lambda z, t: z.softmax_cross_entropy(t), (5, 3), (5,),
         domain=("real", "labels")),
    case("softmax_cross_entropy labels, sum", lambda z, t: z.softmax_cross_entropy(t, "sum"), (5, 3), (5,),
         domain=("real", "labels")),
    case("softmax_cross_entropy labels, none", lambda z, t: z.softmax_cross_entropy(t, "none"), (5, 3),
         (5,), domain=("real", "labels")),
    case("softmax_cross_entropy (2,3,4) logits", lambda z, t: z.softmax_cross_entropy(t), (2, 3, 4), (2, 3),
         domain=("real", "labels")),
    case("softmax_cross_entropy probability rows", lambda z, t: z.softmax_cross_entropy(t), (4, 3), (4, 3),
         domain=("real", "probability rows")),
    case("softmax_cross_entropy one-hot rows", lambda z, t: z.softmax_cross_entropy(t, "sum"), (4, 3),
         (4, 3), domain=("real", "one-hot rows")),
    case("bce_with_logits probabilities, mean", lambda z, t: z.binary_cross_entropy_with_logits(t), (4, 2),
         (4, 2), domain=("real", "(0, 1)")),
    case("bce_with_logits 0/1, sum", lambda z, t: z.binary_cross_entropy_with_logits(t, "sum"), (4, 1),
         (4, 1), domain=("real", "0/1")),
    case("bce_with_logits 0/1, none", lambda z, t: z.binary_cross_entropy_with_logits(t, "none"), (5,),
         (5,), domain=("real", "0/1")),
    case("mse mean", lambda a, t: a.mse(t), (3, 2), (3, 2)),
    case("mse sum", lambda a, t: a.mse(t, "sum"), (3, 2), (3, 2)),
    case("mse none", lambda a, t: a.mse(t, "none"), (4,), (4,)),
    # second order: the backward pass, recorded with create_graph=True, differentiated again
    second("2nd order: tanh layer", lambda x, W: (x @ W).tanh(), (3, 2), (2, 2)),
    second("2nd order: sigmoid, exp, log", lambda a: a.sigmoid() * a.exp() + a.log(), (2, 3),
           domain="positive"),
    second("2nd order: div and pow", lambda a, b: a / b + a ** 3, (2, 2), (2, 2), domain="away from 0"),
    second("2nd order: softmax, log_softmax", lambda a: a.softmax() * a.log_softmax(), (2, 3)),
    second("2nd order: softmax_cross_entropy", lambda z, t: z.softmax_cross_entropy(t), (3, 4), (3,),
           domain=("real", "labels")),
    second("2nd order: bce_with_logits", lambda z, t: z.binary_cross_entropy_with_logits(t), (3, 2), (3, 2),
           domain=("real", "(0, 1)")),
    second("2nd order: linear, mse", lambda x, W, b, t: x.linear(W, b).mse(t), (3, 2), (2, 2), (2,), (3, 2)),
    second("2nd order: abs, where", lambda a, b: a.abs() * a + a.where(a > 0, b) * b, (2, 3), (2, 3),
           domain="away from 0"),
    second("2nd order: sin, erf, softplus, tan", lambda a: a.sin() * a.erf() + a.softplus() * (0.5 * a).tan(),
           (2, 3)),
    second("2nd order: log1p, expm1, leaky_relu, elu", lambda a: a.log1p() * a.expm1() + a.leaky_relu() * a.elu(),
           (2, 3), domain="positive"),
    second("2nd order: maximum, minimum", lambda a, b: te.maximum(a, b) * te.minimum(a, b) * a, (2, 3), (2, 3)),
    second("2nd order: prod, cumsum", lambda a: a.prod(axis=0) * a.cumsum(axis=1).sum(axis=0),
           (3, 2)),
    second("2nd order: einsum, concatenate, pad",
           lambda a, b: te.einsum("ij,kj->ik", te.cat([a, b], dim=0), a).pad(1) * 1.5, (2, 3), (1, 3)),
    second("2nd order: getitem, max, logsumexp",
           lambda a: (a[_IDX] * a[_IDX]).sum(axis=0) + a.max(axis=0) * a.logsumexp(axis=0), (3, 2),
           domain="distinct"),
]


# ---------------------------------------------------------------------------------------------------
# Running the table

@dataclass
class CheckResult:
    """The outcome of one case: how many input elements were compared, the largest
    |autodiff − central difference|, and whether every element agreed. `error` holds the message
    when the case could not run at all (an exception) - that counts as a failure."""
    name: str
    elements: int
    max_error: float
    ok: bool
    second_order: bool = False
    error: str = None


def _case_rng(case, seed):
    """A generator of its own for every case (the same numbers whatever cases run before it)."""
    return np.random.default_rng([seed, zlib.crc32(case.name.encode("utf-8"))])


def make_inputs(case, seed=0):
    """The inputs run_case checks `case` at: float64 Tensors that require grad (named x0, x1, ...),
    and integer label arrays as plain constants."""
    rng = _case_rng(case, seed)
    inputs = []
    for i, (shape, domain) in enumerate(zip(case.shapes, case.domains())):
        values = DOMAINS[domain](rng, shape, case.shapes)
        if domain in CONSTANT_DOMAINS:
            inputs.append(values)
        else:
            inputs.append(Tensor(np.asarray(values, dtype=np.float64), requires_grad=True, name=f"x{i}"))
    return inputs


def run_case(case, seed=0):
    """gradcheck (or gradgradcheck) of one case in float64; returns a CheckResult, never raises
    for a failing op."""
    check = gradgradcheck if case.second_order else gradcheck
    try:
        report = check(case.fn, make_inputs(case, seed), raise_exception=False)
    except Exception as e:  # noqa: BLE001 - an op that crashes is a failed check, reported as such
        return CheckResult(case.name, 0, float("nan"), False, case.second_order, f"{type(e).__name__}: {e}")
    return CheckResult(case.name, report.checked, report.max_error, report.ok, case.second_order,
                       None if report.ok else str(report).splitlines()[1].strip())


def run(quick=False, seed=0, cases=None):
    """Check every case (quick=True: first-order cases only) and return the CheckResults in order."""
    cases = CASES if cases is None else cases
    return [run_case(c, seed) for c in cases if not (quick and c.second_order)]
