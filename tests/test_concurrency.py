"""Threads, interrupts and constants: the engine's guarantees when more than one thing happens at once.

- Modes are per thread: one thread evaluating under no_grad while another trains gets every gradient
  right; two threads can each train their own model.
- Backward is all or nothing under Ctrl-C: an interrupt at any moment leaves either every .grad
  updated or none (so a retry never double-counts).
- A plain NumPy array used in the graph is copied when an op keeps it, so changing it before
  backward cannot change a gradient.
"""
import signal
import threading
import time

import numpy as np
import pytest

import nn
import tinygrad_edu as te
from tinygrad_edu import Tensor


def test_no_grad_in_one_thread_does_not_stop_another_from_recording():
    rng = np.random.default_rng(0)
    W0, X = rng.standard_normal((3, 2)), rng.standard_normal((8, 3))
    expected = X.T @ (1 - np.tanh(X @ W0) ** 2)             # d/dW Σ tanh(XW)
    stop, errors, checked = threading.Event(), [], [0]

    def evaluate():
        Wv = Tensor(W0, requires_grad=True)
        while not stop.is_set():
            with te.no_grad():
                out = (Tensor(X) @ Wv).tanh()
            if out.requires_grad:
                errors.append("an op recorded under no_grad")

    def train():
        try:
            for _ in range(3000):
                W = Tensor(W0, requires_grad=True)
                (Tensor(X) @ W).tanh().sum().backward()
                if W.grad is None or not np.allclose(W.grad.data, expected, rtol=1e-12, atol=1e-12):
                    errors.append("a wrong or missing gradient")
                checked[0] += 1
        except Exception as e:                              # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=evaluate) for _ in range(2)]
    trainer = threading.Thread(target=train)
    for t in threads + [trainer]:
        t.start()
    trainer.join()
    stop.set()
    for t in threads:
        t.join()
    assert errors == [] and checked[0] == 3000
    assert te.is_grad_enabled()                             # the main thread's mode was never touched


def test_a_thread_starts_with_the_default_modes():
    seen = {}
    with te.no_grad(), te.detect_anomaly(), te.name_scope("outer"):
        t = threading.Thread(target=lambda: seen.update(grad=te.is_grad_enabled(),
                                                        scope=te.modes.modes.scope))
        t.start()
        t.join()
        assert not te.is_grad_enabled()
    assert seen == {"grad": True, "scope": None}


def test_two_threads_each_train_their_own_model_with_fit():
    X, y = nn.data.make_moons(100, noise=0.1, seed=0)
    results, errors = {}, []
    nn.manual_seed(0)
    models = [nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2)) for _ in range(2)]

    def run(k):
        try:
            opt = nn.SGD(models[k].parameters(), lr=0.5)
            results[k] = nn.fit(models[k], nn.SoftmaxCrossEntropy(), opt, (X, y), epochs=60, batch_size=20,
                                eval_data=(X, y), seed=k, progress=False).train_acc[-1]
        except Exception as e:                              # noqa: BLE001 (reported below)
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 2 and all(acc > 0.8 for acc in results.values())


def _many_leaves(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(3), requires_grad=True) for _ in range(n)]


def test_backward_is_all_or_nothing_under_ctrl_c():
    """SIGINT at random moments of a backward that stores 1,000 leaf gradients: every time, either
    all leaves got their gradient or none did, and a retry after "none" gives each exactly once."""
    if threading.current_thread() is not threading.main_thread():
        pytest.fail("this test must run in the main thread (signals are delivered there)")
    leaves = _many_leaves()
    expected = [2 * leaf.data for leaf in leaves]

    def build():
        total = (leaves[0] * leaves[0]).sum()
        for leaf in leaves[1:]:
            total = total + (leaf * leaf).sum()
        return total

    loss = build()
    t0 = time.perf_counter()
    loss.backward()
    duration = time.perf_counter() - t0             # how long a backward takes here
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)   # Ctrl-C raises, whatever ran before
    rng = np.random.default_rng(1)
    outcomes = {"all": 0, "none": 0}
    main = threading.main_thread().ident
    for trial in range(40):
        for leaf in leaves:
            leaf.grad = None
        loss = build()
        start = time.perf_counter()
        timer = threading.Timer(rng.uniform(0, 1.2 * duration), signal.pthread_kill, (main, signal.SIGINT))
        interrupted = False
        try:
            timer.start()
            loss.backward()
            timer.join()
            time.sleep(0.01)                                # let a late signal arrive here, not later
        except KeyboardInterrupt:
            interrupted = True
            timer.join()
        finally:
            timer.cancel()
        has = [leaf.grad is not None for leaf in leaves]
        assert all(has) or not any(has), f"trial {trial}: {sum(has)} of {len(has)} leaves updated"
        if any(has):
            outcomes["all"] += 1
        else:
            assert interrupted
            outcomes["none"] += 1
            loss.backward()                                 # the graph is intact: retry once
        for leaf, e in zip(leaves, expected):
            np.testing.assert_array_equal(leaf.grad.data, e)
        assert time.perf_counter() - start < 60
    signal.signal(signal.SIGINT, previous)
    assert outcomes["none"] > 0 and outcomes["all"] > 0, outcomes


def test_a_numpy_constant_changed_before_backward_does_not_change_the_gradient():
    c = np.array([1.0, 2.0, 3.0])
    labels = np.array([0, 2])
    x = Tensor(np.zeros(3), requires_grad=True)
    z = Tensor(np.zeros((2, 3)), requires_grad=True)
    loss = (x * c).sum() + z.softmax_cross_entropy(labels, reduction="sum")
    c[:] = 100.0                                            # the user reuses their arrays ...
    labels[:] = 1
    loss.backward()                                         # ... the gradient is the one of the graph
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 3.0])
    np.testing.assert_allclose(z.grad.data, np.full((2, 3), 1 / 3) - np.eye(3)[[0, 2]])


def test_in_place_stamps_of_dead_buffers_are_dropped_without_callbacks(monkeypatch):
    """The in-place stamps keep a weak reference per buffer but no callback (Python loses a Ctrl-C that
    arrives while a callback runs): the entries of buffers that died are dropped as new ones come,
    and a dead buffer's entry never stamps a new array that reuses its id."""
    from tinygrad_edu import function
    monkeypatch.setattr(function, "_stamps", {})          # start from an empty table
    monkeypatch.setattr(function, "_purge_at", [64])
    doomed = [Tensor(np.ones(3)) for _ in range(1000)]
    for d in doomed:
        d += 1                                            # 1,000 stamped buffers, alive together
    assert len(function._stamps) == 1000
    kept = [Tensor(np.ones(3)) for _ in range(200)]      # (made while those live: ids all new)
    del doomed, d                                         # ... now all dead
    for k in kept:
        k += 1                                            # new entries come: the dead ones' are dropped
    assert len(function._stamps) <= 300
    assert all(function.version_of(k.data) > 0 for k in kept)   # the live ones' entries were kept
    fresh = np.ones(3)
    assert function.version_of(fresh) == 0
    x = Tensor(np.ones(3), requires_grad=True)
    c = Tensor(np.ones(3))
    y = (x * c).sum()
    c += 1                                                # the saved operand changed: refused
    with pytest.raises(te.GraphError, match="modified in place"):
        y.backward()
