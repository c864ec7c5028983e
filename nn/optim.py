"""Optimizers (SGD, Adam) and learning-rate schedules.

    opt = nn.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for xb, yb in batches:
        loss = loss_fn(model(xb), yb)
        opt.zero_grad()          # every .grad back to None
        loss.backward()          # compute all gradients first ...
        opt.step()               # ... then update all parameters (doc 004's bug was mixing the two)

`step()` updates the parameters in place inside no_grad(), so the update is not recorded and the
parameters stay the same objects (a model and its optimizer never get out of sync). The update is
written with Tensor operations only, and the per-step Python bookkeeping (the step count t, the
schedule's learning rate) runs through te.per_step, so a whole training step can be compiled with
te.compile: the compiled step redoes the bookkeeping every call.

Regularisation, as in the documents. With a loss averaged over a mini-batch of m examples (so
.grad = (1/m) Σ ∇w) and a training set of n examples:

    L2  w ← (1 − ηλ/n) w − (η/m) Σ ∇w          is  SGD(lr=η, weight_decay=λ/n)
    L1  w ← w − (ηλ/n) sign(w) − (η/m) Σ ∇w    is  SGD(lr=η, l1=λ/n)

Doc 000 instead adds λW to the gradient of the *summed* loss: SoftmaxCrossEntropy(reduction='sum')
with SGD(lr=ε, weight_decay=λ). Biases are not regularised unless regularize_bias=True; a parameter
counts as a bias when it has fewer than 2 dimensions (a weight matrix has 2).

Learning-rate schedules multiply the base rate by a factor of t, the number of steps taken before
this one (0 at the first step, like the documents' loop index):

    Annealing(decay)             ε_t = ε₀ / (1 + decay · t)         doc 000's exercise
    StepDecay(step_size, gamma)  ε_t = ε₀ · gamma^⌊t / step_size⌋
    ExponentialDecay(gamma)      ε_t = ε₀ · gamma^t
Annealing and ExponentialDecay take every=k to advance only every k steps (e.g. once per epoch of
k mini-batches).
"""
import math
import numbers
import warnings

import numpy as np

from tinygrad_edu import ArgumentError, Tensor, no_grad, per_step

from .module import Module


def check_number(value, name, what, low=0.0, high=math.inf, low_open=False, high_open=False):
    """`value` as a float in the given range, or ArgumentError naming the option."""
    bad = isinstance(value, bool) or not isinstance(value, numbers.Real)
    if not bad:
        value = float(value)
        bad = (not math.isfinite(value) or value < low or value > high or (low_open and value == low)
               or (high_open and value == high))
    if bad:
        lo = "(" if low_open else "["
        hi = ")" if high_open else "]"
        raise ArgumentError(f"{what}: {name} must be a finite number in {lo}{low:g}, {high:g}{hi}, got {value!r}")
    return value


def check_int(value, name, what, low=1):
    """`value` as an int >= low, or ArgumentError naming the option (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ArgumentError(f"{what}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


# -- schedules --------------------------------------------------------------------------------------

class Schedule:
    """A learning-rate factor as a function of the step count t (0 at the first step)."""
    kind = None                        # the name specs use

    def __call__(self, t):
        raise NotImplementedError

    def to_spec(self):
        """The "schedule" section of a spec: {"type": kind, **settings}."""
        return {"type": self.kind, **{k: v for k, v in vars(self).items()}}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({args})"


class Annealing(Schedule):
    """ε_t = ε₀ / (1 + decay · ⌊t / every⌋): doc 000's annealed learning rate ε / (1 + d·t)."""
    kind = "annealing"

    def __init__(self, decay, every=1):
        self.decay = check_number(decay, "decay", "Annealing")
        self.every = check_int(every, "every", "Annealing")

    def __call__(self, t):
        return 1.0 / (1.0 + self.decay * (t // self.every))


class StepDecay(Schedule):
    """ε_t = ε₀ · gamma^⌊t / step_size⌋: multiply the rate by gamma every step_size steps."""
    kind = "step"

    def __init__(self, step_size, gamma=0.1):
        self.step_size = check_int(step_size, "step_size", "StepDecay")
        self.gamma = check_number(gamma, "gamma", "StepDecay", low=0.0, low_open=True)

    def __call__(self, t):
        return self.gamma ** (t // self.step_size)


class ExponentialDecay(Schedule):
    """ε_t = ε₀ · gamma^⌊t / every⌋."""
    kind = "exponential"

    def __init__(self, gamma, every=1):
        self.gamma = check_number(gamma, "gamma", "ExponentialDecay", low=0.0, low_open=True)
        self.every = check_int(every, "every", "ExponentialDecay")

    def __call__(self, t):
        return self.gamma ** (t // self.every)


SCHEDULES = {cls.kind: cls for cls in (Annealing, StepDecay, ExponentialDecay)}


# -- optimizers -------------------------------------------------------------------------------------

def _check_params(params, what):
    if isinstance(params, Module):
        params = params.parameters()
    if isinstance(params, Tensor):
        raise ArgumentError(f"{what}: params must be an iterable of parameters (e.g. model.parameters()), "
                            "not a single Tensor; wrap it in a list")
    try:
        params = list(params)
    except TypeError:
        raise ArgumentError(f"{what}: params must be an iterable of parameters, got "
                            f"{type(params).__name__}") from None
    if not params:
        raise ArgumentError(f"{what}: got an empty parameter list")
    seen, unique = set(), []
    for i, p in enumerate(params):
        label = f"parameter {i}" + (f" ({p.name})" if isinstance(p, Tensor) and p.name else "")
        if not isinstance(p, Tensor):
            raise ArgumentError(f"{what}: {label} is a {type(p).__name__}, not a Tensor")
        if not p.requires_grad or not p.is_leaf:
            raise ArgumentError(f"{what}: {label} must be a leaf tensor that requires grad "
                                "(an nn.Parameter, or Tensor(..., requires_grad=True))")
        if id(p) in seen:                   # e.g. a layer listed twice, or weights tied by hand
            warnings.warn(f"{what}: {label} appears more than once in params; it is kept once, so it is "
                          "updated once per step (PyTorch warns too, but updates it once per "
                          "appearance)", UserWarning, stacklevel=4)
            continue
        seen.add(id(p))
        unique.append(p)
    return unique


class Optimizer:
    """Base class: holds the parameters, the base learning rate `lr`, the schedule and the step
    count `t`. Subclasses implement step()."""

    def __init__(self, params, lr, weight_decay=0.0, l1=0.0, regularize_bias=False, schedule=None):
        what = type(self).__name__
        self.params = _check_params(params, what)
        self.lr = check_number(lr, "lr", what)
        self.weight_decay = check_number(weight_decay, "weight_decay", what)
        self.l1 = check_number(l1, "l1", what)
        if not isinstance(regularize_bias, (bool, np.bool_)):
            raise ArgumentError(f"{what}: regularize_bias must be True or False, got {regularize_bias!r}")
        self.regularize_bias = bool(regularize_bias)
        if schedule is not None and not callable(schedule):
            raise ArgumentError(f"{what}: schedule must be a Schedule (or a function of the step "
                                f"count t), got {schedule!r}")
        self.schedule = schedule
        self.t = 0                    # steps taken so far
        self.last_lr = None           # the learning rate the last step used
        # which parameters get weight decay / L1: weights (ndim >= 2), and biases only if asked
        self._regularised = [p.ndim >= 2 or self.regularize_bias for p in self.params]

    @property
    def current_lr(self):
        """The learning rate the next step() will use."""
        return self.lr if self.schedule is None else self.lr * self.schedule(self.t)

    def next_learning_rate(self):
        """Count one more step and return the learning rate it uses (the schedule's, at t)."""
        lr = self.lr if self.schedule is None else self.lr * self.schedule(self.t)
        self.t += 1
        self.last_lr = lr
        return lr

    def zero_grad(self):
        """Set every parameter's .grad to None, so the next backward starts from nothing."""
        for p in self.params:
            p.zero_grad()

    def step(self):
        """Update the parameters from their .grad (defined by each optimizer)."""
        raise NotImplementedError

    def _penalised(self, g, w, i):
        """The gradient plus the regularisation terms wd·w + l1·sign(w) for parameter i."""
        if not self._regularised[i]:
            return g
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.l1:
            g = g + self.l1 * w.sign()
        return g

    def _spec_common(self):
        spec = {"weight_decay": self.weight_decay, "l1": self.l1, "regularize_bias": self.regularize_bias}
        if isinstance(self.schedule, Schedule):
            spec["schedule"] = self.schedule.to_spec()
        return spec

    def __repr__(self):
        spec = self.to_spec()
        args = ", ".join(f"{k}={v!r}" for k, v in spec.items() if k != "type")
        return f"{spec['type']}({len(self.params)} parameters, {args})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum (Nesterov or not) and regularisation.

    SGD(params, lr, momentum=0, nesterov=False, weight_decay=0, l1=0, regularize_bias=False,
        schedule=None)

    Each step, with g = .grad + weight_decay·w + l1·sign(w) (the last two for weights only):
        momentum = 0:  w ← w − lr·g
                       (computed as w ← (1 − lr·weight_decay)·w − lr·l1·sign(w) − lr·.grad, the
                       documents' form of the L2 and L1 rules)
        momentum μ:    v ← μ·v + g (v = g at the first step);  w ← w − lr·v
        nesterov:      v as above;                             w ← w − lr·(g + μ·v)
    These are torch.optim.SGD's rules (dampening 0). Parameters whose .grad is None are skipped.
    """

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0, l1=0.0,
                 regularize_bias=False, schedule=None):
        super().__init__(params, lr, weight_decay, l1, regularize_bias, schedule)
        self.momentum = check_number(momentum, "momentum", "SGD")
        if not isinstance(nesterov, (bool, np.bool_)):
            raise ArgumentError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise ArgumentError("SGD: nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)
        self._velocity = [Tensor(np.zeros_like(p.data)) for p in self.params] if self.momentum else None

    def step(self):
        """Update every parameter that has a gradient (in place, not recorded)."""
        lr = per_step(self.next_learning_rate, "lr")
        mu = self.momentum
        wd, l1 = self.weight_decay, self.l1
        with no_grad():
            for i, p in enumerate(self.params):
                grad = p.grad
                if grad is None:
                    continue
                if mu == 0:                       # plain SGD: the documents' rules, one pass per term
                    if self._regularised[i] and (wd or l1):
                        sign = p.sign() if l1 else None                   # sign of w before the update
                        if wd:
                            p.mul_(1.0 - lr * wd)                         # (1 − ηλ/n) w
                        if l1:
                            p.add_(sign, alpha=-lr * l1)                  # − (ηλ/n) sign(w)
                    p.add_(grad, alpha=-lr)                               # − η ∇w
                    continue
                d = self._penalised(grad, p, i)
                v = self._velocity[i]             # starts at 0, so the first step is v = d
                v.mul_(mu).add_(d)
                p.add_(d + mu * v if self.nesterov else v, alpha=-lr)

    def to_spec(self):
        """The optimizer section of a spec (a custom schedule function is left out)."""
        return {"type": "SGD", "lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov,
                **self._spec_common()}


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015), as torch.optim.Adam.

    Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, l1=0, regularize_bias=False,
         schedule=None)

    With g = .grad + weight_decay·w + l1·sign(w) (weights only) and k the step number (1, 2, ...):
        m ← β₁ m + (1 − β₁) g          v ← β₂ v + (1 − β₂) g²
        w ← w − lr · m̂ / (√v̂ + eps),   m̂ = m / (1 − β₁ᵏ),  v̂ = v / (1 − β₂ᵏ)
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, l1=0.0,
                 regularize_bias=False, schedule=None):
        super().__init__(params, lr, weight_decay, l1, regularize_bias, schedule)
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise ArgumentError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (check_number(betas[0], "betas[0]", "Adam", high=1.0, high_open=True),
                      check_number(betas[1], "betas[1]", "Adam", high=1.0, high_open=True))
        self.eps = check_number(eps, "eps", "Adam")
        self._m = [Tensor(np.zeros_like(p.data)) for p in self.params]      # moment estimates
        self._v = [Tensor(np.zeros_like(p.data)) for p in self.params]

    def step(self):
        """Update every parameter that has a gradient (in place, not recorded)."""
        lr = per_step(self.next_learning_rate, "lr")
        k = per_step(lambda: self.t, "k")                 # the step number 1, 2, ... (after counting)
        b1, b2 = self.betas
        bias1 = 1.0 - b1 ** k
        root_bias2 = (1.0 - b2 ** k) ** 0.5
        with no_grad():
            for i, p in enumerate(self.params):
                grad = p.grad
                if grad is None:
                    continue
                g = self._penalised(grad, p, i)
                m, v = self._m[i], self._v[i]
                m.mul_(b1).add_(g, alpha=1.0 - b1)
                v.mul_(b2).add_(g * g, alpha=1.0 - b2)
                denom = v.sqrt() / root_bias2 + self.eps
                p.add_(m / denom, alpha=-lr / bias1)

    def to_spec(self):
        """The optimizer section of a spec (a custom schedule function is left out)."""
        return {"type": "Adam", "lr": self.lr, "betas": list(self.betas), "eps": self.eps,
                **self._spec_common()}


OPTIMIZERS = {"SGD": SGD, "Adam": Adam}
