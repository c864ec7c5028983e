"""A random-graph state machine (hypothesis): create leaves, combine them with random ops, detach,
backward from random nodes (with and without retain_graph), zero gradients, call grad(). After every
step each node's value and each leaf's .grad must equal a naive reference that knows nothing of the
engine: every node keeps a plain-NumPy function of the leaf values, and gradients are central
differences of it (accumulated over backward calls, reset by zero_grad). Freed graphs are modelled
too: backward through an op freed by an earlier backward must raise GraphError and change nothing."""
import numpy as np
from hypothesis import assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, precondition, rule

from tinygrad_edu import GraphError, Tensor, grad

SHAPES = [(), (3,), (2, 3)]
SEEDS = st.integers(0, 2 ** 32 - 1)


class Node:
    """An engine tensor plus its reference: f(env) -> ndarray, where env maps leaf keys to values."""

    def __init__(self, tensor, f, leaves, ops):
        self.tensor = tensor
        self.f = f
        self.leaves = leaves        # keys of the grad-requiring leaves it depends on
        self.ops = ops              # ids of the recorded op nodes in its graph (itself included)


def _vjp(f, env, key, v, eps=1e-6):
    """Central differences of Σ f(env)·v with respect to env[key]."""
    x = env[key]
    out = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        plus = np.sum(f(env) * v)
        x[idx] = saved - eps
        minus = np.sum(f(env) * v)
        x[idx] = saved
        out[idx] = (plus - minus) / (2 * eps)
    return out


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div": (lambda a, b: a / (b * b + 1.0), lambda a, b: a / (b * b + 1.0)),
    "product summed over the last axis": (lambda a, b: (a * b).sum(axis=-1) if a.ndim else a * b.sum(),
                    lambda a, b: np.sum(a * b, axis=-1) if np.ndim(a) else a * np.sum(b)),
}
UNARY = {
    "tanh": (lambda t: t.tanh(), np.tanh),
    "sigmoid": (lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    "neg": (lambda t: -t, np.negative),
    "scale": (lambda t: 0.5 * t, lambda a: 0.5 * a),
    "sum": (lambda t: t.sum(), np.sum),
    "mean axis 0": (lambda t: t.mean(axis=0) if t.ndim else t.mean(),
                    lambda a: np.mean(a, axis=0 if np.ndim(a) else None)),
    "gather [0, 0]": (lambda t: t[[0, 0]] if t.ndim else t * 1.0, lambda a: a[[0, 0]] if np.ndim(a) else a * 1.0),
    "exp(tanh)": (lambda t: t.tanh().exp(), lambda a: np.exp(np.tanh(a))),
}


class GraphMachine(RuleBasedStateMachine):
    nodes = Bundle("nodes")

    def __init__(self):
        super().__init__()
        self.env = {}               # leaf key -> its value (never changed: no in-place ops here)
        self.leaf_tensors = {}      # leaf key -> Tensor
        self.expected = {}          # leaf key -> expected .grad (None or ndarray)
        self.released = set()       # ids of op nodes freed by a backward without retain_graph
        self.all_nodes = []

    def _add(self, node):
        self.all_nodes.append(node)
        return node

    @initialize(target=nodes, seed=SEEDS)
    def first_leaf(self, seed):
        return self._leaf((2, 3), True, seed)

    def _leaf(self, shape, requires_grad, seed):
        value = np.random.default_rng(seed).uniform(-1.5, 1.5, shape)
        t = Tensor(value.copy(), requires_grad=requires_grad)
        if not requires_grad:
            return self._add(Node(t, lambda env, c=value: c, frozenset(), frozenset()))
        key = len(self.env)
        self.env[key] = value
        self.leaf_tensors[key] = t
        self.expected[key] = None
        return self._add(Node(t, lambda env, k=key: env[k], frozenset([key]), frozenset()))

    @rule(target=nodes, shape=st.sampled_from(SHAPES), requires_grad=st.booleans(), seed=SEEDS)
    def new_leaf(self, shape, requires_grad, seed):
        return self._leaf(shape, requires_grad, seed)

    def _combine(self, tensor, f, parents):
        leaves = frozenset().union(*(p.leaves for p in parents))
        ops = frozenset().union(*(p.ops for p in parents))
        if tensor.grad_fn is not None:
            ops = ops | {id(tensor.grad_fn)}
        assert tensor.requires_grad == bool(leaves)
        return self._add(Node(tensor, f, leaves, ops))

    @rule(target=nodes, a=nodes, b=nodes, op=st.sampled_from(sorted(BINARY)))
    def binary(self, a, b, op):
        try:
            np.broadcast_shapes(a.tensor.shape, b.tensor.shape)
        except ValueError:
            assume(False)
        assume(np.abs(a.tensor.data).max(initial=0) < 20 and np.abs(b.tensor.data).max(initial=0) < 20)
        engine, ref = BINARY[op]
        return self._combine(engine(a.tensor, b.tensor), lambda env: ref(a.f(env), b.f(env)), (a, b))

    @rule(target=nodes, a=nodes, op=st.sampled_from(sorted(UNARY)))
    def unary(self, a, op):
        engine, ref = UNARY[op]
        return self._combine(engine(a.tensor), lambda env: ref(a.f(env)), (a,))

    @rule(target=nodes, a=nodes, as_parameter=st.booleans())
    def detach(self, a, as_parameter):
        """A detached copy is a constant; with requires_grad_() it becomes a new parameter."""
        t = a.tensor.detach()
        assert not t.requires_grad and t.grad_fn is None and t.grad is None
        value = np.array(a.f(self.env), dtype=np.float64)
        if not as_parameter:
            return self._add(Node(t, lambda env, c=value: c, frozenset(), frozenset()))
        t.requires_grad_()
        key = len(self.env)
        self.env[key] = value
        self.leaf_tensors[key] = t
        self.expected[key] = None
        return self._add(Node(t, lambda env, k=key: env[k], frozenset([key]), frozenset()))

    @rule(root=nodes, retain=st.booleans(), seed=SEEDS)
    def backward(self, root, retain, seed):
        assume(root.tensor.requires_grad)
        self._backward(root, retain, seed)

    @rule(root=nodes, seed=SEEDS)
    def backward_twice_without_retain_graph(self, root, seed):
        """The second call meets a freed graph (unless the root is a leaf): GraphError, nothing changed."""
        assume(root.tensor.requires_grad)
        self._backward(root, False, seed)
        self._backward(root, False, seed + 1)

    def _backward(self, root, retain, seed):
        v = np.random.default_rng(seed).standard_normal(root.tensor.shape)
        if root.ops & self.released:
            # Must raise before any state changes: no gradient stored, no further op freed (the
            # invariants and later backward calls check both).
            try:
                root.tensor.backward(v, retain_graph=retain)
            except GraphError:
                return
            raise AssertionError("backward through a freed graph did not raise")
        root.tensor.backward(v, retain_graph=retain)
        for key in root.leaves:
            g = _vjp(root.f, self.env, key, v)
            self.expected[key] = g if self.expected[key] is None else self.expected[key] + g
        if not retain:
            self.released |= root.ops

    @rule(root=nodes, seed=SEEDS)
    def grad_function(self, root, seed):
        """grad() returns the same gradients as backward would, and touches no .grad."""
        assume(root.tensor.requires_grad and not (root.ops & self.released))
        keys = sorted(root.leaves)
        v = np.random.default_rng(seed).standard_normal(root.tensor.shape)
        results = grad(root.tensor, [self.leaf_tensors[k] for k in keys], grad_outputs=v, retain_graph=True)
        for k, g in zip(keys, results):
            np.testing.assert_allclose(g.data, _vjp(root.f, self.env, k, v), rtol=1e-5, atol=1e-6)

    @precondition(lambda self: self.leaf_tensors)
    @rule(data=st.data(), to_zeros=st.booleans())
    def zero_grad(self, data, to_zeros):
        key = data.draw(st.sampled_from(sorted(self.leaf_tensors)))
        self.leaf_tensors[key].zero_grad(set_to_none=not to_zeros)
        if to_zeros and self.expected[key] is not None:
            self.expected[key] = np.zeros_like(self.expected[key])
        else:
            self.expected[key] = None

    @invariant()
    def values_match_the_reference(self):
        for node in self.all_nodes:
            np.testing.assert_allclose(node.tensor.data, node.f(self.env), rtol=1e-12, atol=1e-12)

    @invariant()
    def leaf_gradients_match_the_reference(self):
        for key, t in self.leaf_tensors.items():
            expected = self.expected[key]
            if expected is None:
                assert t.grad is None, f"leaf {key} has a gradient but none was expected"
            else:
                assert t.grad is not None and t.grad.shape == t.shape and t.grad.dtype == t.dtype
                np.testing.assert_allclose(t.grad.data, expected, rtol=1e-5, atol=1e-6)


GraphMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestGraphStateMachine = GraphMachine.TestCase
