"""Tests for nn.data: generated datasets, splitting, one-hot labels, mini-batches and the IDX reader.

Oracles: scikit-learn's own generators and splitter (behind importorskip), hand-computed points,
plain-NumPy identities (np.eye for one-hot), and IDX files written here byte by byte with `struct`.
"""
import gzip
import math
import struct
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nn.data import (DataLoader, DatasetNotFoundError, IDXError, load_digits,
                     load_mnist, make_moons, make_spiral, make_xor, minibatches, one_hot, read_idx,
                     train_test_split)
from tinygrad_edu import ArgumentError, DTypeError, LabelError, ShapeError, TinygradError


# -- make_moons ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 7, 100, 101, 200, 3000])
@pytest.mark.parametrize("noise", [None, 0.0, 0.05, 0.2])
@pytest.mark.parametrize("seed", [0, 1, 42, 2**32 - 1])
def test_make_moons_equals_sklearn_bit_for_bit(n, noise, seed):
    datasets = pytest.importorskip("sklearn.datasets")
    X_ref, y_ref = datasets.make_moons(n, noise=noise, random_state=seed)
    X, y = make_moons(n, noise=noise, seed=seed)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.shape == (n, 2) and y.shape == (n,)
    assert X.tobytes() == np.ascontiguousarray(X_ref).tobytes()     # every bit of every coordinate
    np.testing.assert_array_equal(y, y_ref)


def test_make_moons_document_000_call_bit_for_bit():
    # Document 000: np.random.seed(0); X, y = sklearn.datasets.make_moons(200, noise=0.20)
    datasets = pytest.importorskip("sklearn.datasets")
    np.random.seed(0)
    X_ref, y_ref = datasets.make_moons(200, noise=0.20)
    X, y = make_moons(200, noise=0.2, seed=0)
    assert X.tobytes() == np.ascontiguousarray(X_ref).tobytes()
    np.testing.assert_array_equal(y, y_ref)
    # and with the document's global seeding, seed=None draws from the same global RandomState
    np.random.seed(0)
    X2, y2 = make_moons(200, noise=0.2)
    assert X2.tobytes() == X.tobytes()
    np.testing.assert_array_equal(y2, y)


@pytest.mark.parametrize("n, noise", [(10, None), (11, 0.3)])
def test_make_moons_unshuffled_tuple_and_randomstate_match_sklearn(n, noise):
    datasets = pytest.importorskip("sklearn.datasets")
    X_ref, y_ref = datasets.make_moons(n, shuffle=False, noise=noise, random_state=3)
    X, y = make_moons(n, noise=noise, seed=3, shuffle=False)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    X_ref, y_ref = datasets.make_moons((3, 6), noise=noise, random_state=5)
    X, y = make_moons((3, 6), noise=noise, seed=5)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    # a RandomState instance is consumed exactly as scikit-learn consumes it
    rs_a, rs_b = np.random.RandomState(9), np.random.RandomState(9)
    X_ref, y_ref = datasets.make_moons(n, noise=0.1, random_state=rs_a)
    X, y = make_moons(n, noise=0.1, seed=rs_b)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert rs_a.randint(1 << 30) == rs_b.randint(1 << 30)        # both left in the same state


def test_make_moons_points_by_hand():
    # n=5: the upper moon gets 5 // 2 = 2 points at t = 0, π; the lower one 3 at t = 0, π/2, π.
    X, y = make_moons(5, noise=None, shuffle=False)
    expected = np.array([[1.0, 0.0], [-1.0, 0.0],          # (cos t, sin t)
                         [0.0, 0.5], [1.0, -0.5], [2.0, 0.5]])   # (1 − cos t, 0.5 − sin t)
    np.testing.assert_allclose(X, expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(y, [0, 0, 1, 1, 1])


@pytest.mark.parametrize("n", [1, 2, 9, 200, 201])
def test_make_moons_geometry_and_balance_without_noise(n):
    X, y = make_moons(n, noise=0.0, seed=7)
    assert np.sum(y == 0) == n // 2 and np.sum(y == 1) == n - n // 2
    upper, lower = X[y == 0], X[y == 1]
    # upper: unit half circle around (0, 0) above the axis; lower: around (1, 0.5), below y = 0.5
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-12)
    assert np.all(upper[:, 1] >= -1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert np.all(lower[:, 1] <= 0.5 + 1e-12)
    # shuffling only reorders: the same rows as the unshuffled layout
    X0, y0 = make_moons(n, noise=None, shuffle=False)
    key = np.lexsort((X[:, 1], X[:, 0], y))
    key0 = np.lexsort((X0[:, 1], X0[:, 0], y0))
    np.testing.assert_array_equal(X[key], X0[key0])
    np.testing.assert_array_equal(y[key], y0[key0])


def test_make_moons_noise_is_gaussian_with_the_given_std():
    clean, y_clean = make_moons(4000, noise=None, seed=11)
    noisy, y_noisy = make_moons(4000, noise=0.25, seed=11)   # same shuffle (drawn first), then noise
    np.testing.assert_array_equal(y_clean, y_noisy)
    residual = noisy - clean
    assert abs(residual.mean()) < 0.02
    assert abs(residual.std() - 0.25) < 0.01


def test_make_moons_is_deterministic_and_seed_sensitive():
    a = make_moons(50, noise=0.1, seed=3)
    b = make_moons(50, noise=0.1, seed=3)
    c = make_moons(50, noise=0.1, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    g1 = make_moons(50, noise=0.1, seed=np.random.default_rng(5))
    g2 = make_moons(50, noise=0.1, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(g1[0], g2[0])


@pytest.mark.parametrize("kwargs", [dict(n_samples=0), dict(n_samples=-3), dict(n_samples=2.5),
                                    dict(n_samples=True), dict(n_samples=(1, 2, 3)), dict(n_samples="10"),
                                    dict(noise=-0.1), dict(noise=float("nan")), dict(noise="0.2"),
                                    dict(seed=-1), dict(seed=2**32), dict(seed="x"), dict(seed=1.5)])
def test_make_moons_rejects_bad_arguments(kwargs):
    with pytest.raises(ArgumentError) as info:
        make_moons(**kwargs)
    assert "make_moons" in str(info.value)


# -- make_xor -----------------------------------------------------------------------------------------
def test_make_xor_is_document_004_data():
    X, y = make_xor()
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])


def test_make_xor_repeats_and_noise():
    X, y = make_xor(n_per_corner=3)
    assert X.shape == (12, 2) and y.shape == (12,)
    for k in range(3):
        np.testing.assert_array_equal(X[4 * k:4 * k + 4], [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0] * 3)
    Xn, yn = make_xor(n_per_corner=2000, noise=0.1, seed=0)
    np.testing.assert_array_equal(yn, [0, 1, 1, 0] * 2000)
    # labels still follow x1 XOR x2 of the corner each point was drawn around
    corners = np.tile([[0, 0], [0, 1], [1, 0], [1, 1]], (2000, 1))
    residual = Xn - corners
    assert abs(residual.std() - 0.1) < 0.005 and abs(residual.mean()) < 0.005
    np.testing.assert_array_equal(Xn, make_xor(n_per_corner=2000, noise=0.1, seed=0)[0])
    assert not np.array_equal(Xn, make_xor(n_per_corner=2000, noise=0.1, seed=1)[0])


@pytest.mark.parametrize("kwargs", [dict(n_per_corner=0), dict(n_per_corner=1.0), dict(noise=-1),
                                    dict(noise=None), dict(seed=-5), dict(seed="a")])
def test_make_xor_rejects_bad_arguments(kwargs):
    with pytest.raises(ArgumentError, match="make_xor"):
        make_xor(**kwargs)


# -- make_spiral --------------------------------------------------------------------------------------
def test_make_spiral_shapes_labels_and_radii():
    X, y = make_spiral(n_per_class=50, n_classes=4, noise=0.3, seed=0)
    assert X.shape == (200, 2) and X.dtype == np.float64
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, np.repeat([0, 1, 2, 3], 50))       # grouped by class
    # the noise moves points along the angle only: each arm keeps radii 0, 1/49, ..., 1 exactly
    radius = np.hypot(X[:, 0], X[:, 1]).reshape(4, 50)
    np.testing.assert_allclose(radius, np.tile(np.arange(50) / 49, (4, 1)), atol=1e-12)


def test_make_spiral_angles_without_noise():
    n, k = 20, 3
    X, y = make_spiral(n_per_class=n, n_classes=k, noise=0.0)
    r = np.arange(n) / (n - 1)
    for j in range(k):
        arm = X[y == j][1:]                        # skip the centre point, whose angle is undefined
        theta = 2 * np.pi * j / k + 4 * r[1:]
        np.testing.assert_allclose(arm, np.column_stack([r[1:] * np.cos(theta), r[1:] * np.sin(theta)]),
                                   atol=1e-12)
        # arm j is arm 0 turned by 2πj/k
        a = 2 * np.pi * j / k
        rotation = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        np.testing.assert_allclose(arm, X[y == 0][1:] @ rotation.T, atol=1e-12)


def test_make_spiral_is_deterministic():
    a = make_spiral(30, 3, noise=0.2, seed=1)
    b = make_spiral(30, 3, noise=0.2, seed=1)
    c = make_spiral(30, 3, noise=0.2, seed=2)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    np.testing.assert_array_equal(make_spiral(30, 3, seed=np.random.default_rng(8))[0],
                                  make_spiral(30, 3, seed=np.random.default_rng(8))[0])


@pytest.mark.parametrize("kwargs", [dict(n_per_class=0), dict(n_classes=0), dict(n_classes=2.0),
                                    dict(noise=-0.2), dict(seed=-1)])
def test_make_spiral_rejects_bad_arguments(kwargs):
    with pytest.raises(ArgumentError, match="make_spiral"):
        make_spiral(**kwargs)


# -- train_test_split ---------------------------------------------------------------------------------
def _rows(n):
    """X whose rows identify themselves (row i = [i, 10i]) and y = i, to track where each row went."""
    idx = np.arange(n)
    return np.column_stack([idx, 10 * idx]).astype(np.float64), idx.copy()


@pytest.mark.parametrize("n, test_size, n_test", [(10, 0.2, 2), (10, 0.25, 3), (3000, 0.2, 600),
                                                  (7, 0.5, 4), (10, 3, 3), (2, 1, 1), (11, 0.1, 2)])
def test_train_test_split_sizes_and_partition(n, test_size, n_test):
    X, y = _rows(n)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, seed=0)
    assert len(X_te) == len(y_te) == n_test                  # ceil(test_size · n), counted by hand
    assert len(X_tr) == len(y_tr) == n - n_test
    np.testing.assert_array_equal(np.sort(np.concatenate([y_tr, y_te])), np.arange(n))   # a partition
    np.testing.assert_array_equal(X_tr[:, 0], y_tr)          # rows still carry their own labels
    np.testing.assert_array_equal(X_te[:, 1], 10 * y_te)


def test_train_test_split_sizes_match_sklearn():
    model_selection = pytest.importorskip("sklearn.model_selection")
    for n in [2, 5, 10, 33, 100, 999]:
        for test_size in [0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1]:
            X, y = _rows(n)
            try:
                ref = model_selection.train_test_split(X, y, test_size=test_size, random_state=0)
            except ValueError:                   # sklearn refuses (an empty set): so must we
                with pytest.raises(ArgumentError):
                    train_test_split(X, y, test_size=test_size, seed=0)
                continue
            ours = train_test_split(X, y, test_size=test_size, seed=0)
            assert [len(a) for a in ours] == [len(a) for a in ref], (n, test_size)


def test_train_test_split_shuffle_and_seed():
    X, y = _rows(20)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, shuffle=False)
    np.testing.assert_array_equal(y_tr, np.arange(15))
    np.testing.assert_array_equal(y_te, np.arange(15, 20))
    a = train_test_split(X, y, seed=4)
    b = train_test_split(X, y, seed=4)
    c = train_test_split(X, y, seed=5)
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
    assert not np.array_equal(a[3], c[3])
    assert not np.array_equal(np.sort(a[2]), np.arange(16))   # shuffled: not simply the first 16 rows


@pytest.mark.parametrize("test_size", [0, 0.0, 1.0, 1.5, -0.2, 10, 20, -1, True, "0.2", None])
def test_train_test_split_rejects_bad_test_size(test_size):
    X, y = _rows(10)
    with pytest.raises(ArgumentError, match="test_size"):
        train_test_split(X, y, test_size=test_size)


def test_train_test_split_rejects_mismatched_lengths_and_tiny_sets():
    X, y = _rows(10)
    with pytest.raises(ShapeError, match=r"X has 10 samples .* y has 9"):
        train_test_split(X, y[:9])
    with pytest.raises(ArgumentError, match="training"):
        train_test_split(X[:1], y[:1], test_size=0.2)         # ceil(0.2) = 1 test sample, 0 to train
    with pytest.raises(ArgumentError, match="seed"):
        train_test_split(X, y, seed=-1)


# -- one_hot ------------------------------------------------------------------------------------------
def test_one_hot_by_hand():
    out = one_hot([2, 0, 1, 2])
    assert out.dtype == np.float64 and out.shape == (4, 3)
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    np.testing.assert_array_equal(one_hot(np.array([1], dtype=np.uint8), 4), [[0, 1, 0, 0]])


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.bool_])
def test_one_hot_equals_rows_of_the_identity(dtype):
    labels = np.random.default_rng(0).integers(0, 10, size=(6, 5))
    out = one_hot(labels, 10, dtype=dtype)
    assert out.shape == (6, 5, 10) and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, np.eye(10, dtype=dtype)[labels])


def test_one_hot_is_network2_vectorized_result():
    def vectorized_result(j):                # document 002 (network2.py), written out here as the oracle
        e = np.zeros((10, 1))
        e[j] = 1.0
        return e

    for j in range(10):
        np.testing.assert_array_equal(one_hot(j, 10).reshape(10, 1), vectorized_result(j))
    y = np.array([3, 1, 4, 1, 5, 9, 2, 6])
    np.testing.assert_array_equal(one_hot(y, 10), np.hstack([vectorized_result(j) for j in y]).T)


def test_one_hot_rejects_bad_labels_naming_label_and_position():
    with pytest.raises(LabelError, match=r"label -1 at position 2"):
        one_hot([0, 1, -1, 2], 3)
    with pytest.raises(LabelError, match=r"label 3 at position 1 .*n_classes=3"):
        one_hot([0, 3, 1], 3)
    with pytest.raises(LabelError, match=r"label 18446744073709551615 at position 0"):
        one_hot(np.array([2**64 - 1], dtype=np.uint64), 3)
    with pytest.raises(LabelError, match=r"label 5 at position \(1, 0\)"):
        one_hot([[0, 1], [5, 2]], 4)
    with pytest.raises(LabelError, match=r"float64 \(label 1\.5 at position 1\)"):
        one_hot([0.0, 1.5, 2.0])
    with pytest.raises(LabelError, match=r"float64.*astype"):
        one_hot(np.array([0.0, 1.0]))
    with pytest.raises(LabelError, match="bool"):
        one_hot(np.array([True, False]))
    with pytest.raises(ArgumentError, match="n_classes"):
        one_hot([0, 1], 0)
    with pytest.raises(ArgumentError, match="empty"):
        one_hot(np.array([], dtype=np.int64))
    with pytest.raises(DTypeError, match="dtype"):
        one_hot([0, 1], 2, dtype=np.str_)
    assert one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)


# -- DataLoader and minibatches -----------------------------------------------------------------------
@pytest.mark.parametrize("n, batch_size, drop_last, sizes", [
    (10, 4, False, [4, 4, 2]), (10, 4, True, [4, 4]), (12, 4, False, [4, 4, 4]), (12, 4, True, [4, 4, 4]),
    (3, 5, False, [3]), (3, 5, True, []), (7, None, False, [7]), (1, 1, False, [1]), (0, 3, False, [])])
def test_dataloader_batch_sizes_and_len(n, batch_size, drop_last, sizes):
    X, y = _rows(n)
    loader = DataLoader(X, y, batch_size=batch_size, seed=0, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes)
    assert [len(xb) for xb, yb in batches] == sizes
    assert [len(yb) for xb, yb in batches] == sizes


def test_dataloader_epochs_are_permutations_that_change_and_reproduce():
    X, y = _rows(23)
    loader = DataLoader(X, y, batch_size=5, seed=123)
    twin = DataLoader(X, y, batch_size=5, seed=123)
    epochs = []
    for _ in range(3):
        seen = []
        for (xb, yb), (xt, yt) in zip(loader, twin):
            assert isinstance(xb, np.ndarray) and isinstance(yb, np.ndarray)
            np.testing.assert_array_equal(xb[:, 0], yb)       # rows stay with their labels
            np.testing.assert_array_equal(xb, xt)             # same seed: same batches
            seen.append(yb)
        order = np.concatenate(seen)
        np.testing.assert_array_equal(np.sort(order), np.arange(23))   # every sample exactly once
        epochs.append(order)
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    assert not np.array_equal(epochs[0], np.arange(23))


def test_dataloader_without_shuffle_keeps_order_and_y_none_yields_arrays():
    X, _ = _rows(7)
    batches = list(DataLoader(X, batch_size=3, shuffle=False))
    assert all(isinstance(b, np.ndarray) for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), X)
    assert [b.shape for b in batches] == [(3, 2), (3, 2), (1, 2)]


def test_dataloader_batches_are_copies():
    X, y = _rows(6)
    xb, _ = next(iter(DataLoader(X, y, batch_size=2, shuffle=False)))
    xb[:] = -1
    assert X.min() == 0


def test_dataloader_with_a_shared_generator():
    X, y = _rows(8)
    order_a = np.concatenate([yb for _, yb in DataLoader(X, y, batch_size=3, seed=np.random.default_rng(2))])
    order_b = np.concatenate([yb for _, yb in DataLoader(X, y, batch_size=3, seed=np.random.default_rng(2))])
    np.testing.assert_array_equal(order_a, order_b)


@pytest.mark.parametrize("kwargs, error, pattern", [
    (dict(batch_size=0), ArgumentError, "batch_size"), (dict(batch_size=-2), ArgumentError, "batch_size"),
    (dict(batch_size=2.0), ArgumentError, "batch_size"), (dict(batch_size=True), ArgumentError, "batch_size"),
    (dict(seed=-1), ArgumentError, "seed"), (dict(seed=0.5), ArgumentError, "seed")])
def test_dataloader_rejects_bad_arguments(kwargs, error, pattern):
    X, y = _rows(5)
    with pytest.raises(error, match=pattern):
        DataLoader(X, y, **kwargs)
    with pytest.raises(error, match=pattern):
        minibatches(X, y, **{"rng" if k == "seed" else k: v for k, v in kwargs.items()})


def test_dataloader_rejects_mismatched_or_scalar_data():
    X, y = _rows(5)
    with pytest.raises(ShapeError, match=r"DataLoader: X has 5 samples .* y has 4"):
        DataLoader(X, y[:4])
    with pytest.raises(ShapeError, match="0-d"):
        DataLoader(np.float64(3.0))
    with pytest.raises(ShapeError, match="0-d"):
        DataLoader(X, 1)


def test_minibatches_one_epoch():
    X, y = _rows(10)
    batches = list(minibatches(X, y, batch_size=4, rng=0))
    assert [len(yb) for _, yb in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.sort(np.concatenate([yb for _, yb in batches])), np.arange(10))
    again = list(minibatches(X, y, batch_size=4, rng=0))
    for (a, _), (b, _) in zip(batches, again):
        np.testing.assert_array_equal(a, b)
    plain = list(minibatches(X, y, batch_size=4, shuffle=False, drop_last=True))
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in plain]), np.arange(8))
    with pytest.raises(ShapeError):
        minibatches(X, y[:3])                 # raised at the call, before any batch is requested


@settings(max_examples=40)
@given(n=st.integers(0, 40), batch_size=st.integers(1, 50), drop_last=st.booleans(), seed=st.integers(0, 2**31))
def test_dataloader_partition_property(n, batch_size, drop_last, seed):
    X, y = _rows(n)
    loader = DataLoader(X, y, batch_size=batch_size, seed=seed, drop_last=drop_last)
    labels = [yb for _, yb in loader]
    expected_batches = n // batch_size if drop_last else math.ceil(n / batch_size)
    assert len(loader) == len(labels) == expected_batches
    assert all(len(b) == batch_size for b in labels[:n // batch_size])
    got = np.concatenate(labels) if labels else np.array([], dtype=np.int64)
    assert len(set(got.tolist())) == len(got) == (n - n % batch_size if drop_last else n)


# -- load_digits --------------------------------------------------------------------------------------
def test_load_digits_matches_sklearn_scaled():
    datasets = pytest.importorskip("sklearn.datasets")
    ref = datasets.load_digits()
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X * 16, ref.data)            # dividing by 16 is exact in binary
    np.testing.assert_array_equal(y, ref.target)
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.unique(y), np.arange(10))
    images, _ = load_digits(flatten=False)
    np.testing.assert_array_equal(images * 16, ref.images)
    X_tr, X_te, y_tr, y_te = load_digits(return_split=True, test_size=0.25, seed=0)
    assert len(X_te) == math.ceil(0.25 * 1797) and len(X_tr) == 1797 - len(X_te)
    assert X_tr.shape[1] == 64 and len(y_tr) == len(X_tr) and len(y_te) == len(X_te)


def test_load_digits_needs_no_scikit_learn(monkeypatch):
    """The digits ship with the package: loading them works with scikit-learn unimportable."""
    for name in ["sklearn", "sklearn.datasets"]:
        monkeypatch.setitem(sys.modules, name, None)          # makes `import sklearn...` fail
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(X * 16, np.round(X * 16))    # 17 grey levels, 0..16, scaled by 1/16
    assert X.min() == 0.0 and X.max() == 1.0
    # the classes are nearly balanced: 174 to 183 images of each digit
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


def test_the_shipped_digits_file_is_plain_integers_read_without_pickle():
    from importlib import resources
    source = resources.files("nn").joinpath("_data", "digits.npz")
    with source.open("rb") as f, np.load(f, allow_pickle=False) as npz:
        assert sorted(npz.files) == ["images", "labels"]
        assert npz["images"].dtype == np.uint8 and npz["images"].shape == (1797, 8, 8)
        assert npz["labels"].dtype == np.uint8 and npz["labels"].shape == (1797,)
    notes = resources.files("nn").joinpath("_data", "README.md").read_text(encoding="utf-8")
    assert "scikit-learn" in notes and "BSD" in notes and "UCI" in notes
    assert "BSD 3-Clause" in resources.files("nn").joinpath("_data", "LICENSE-scikit-learn.txt").read_text()


# -- read_idx: files written byte by byte with struct -------------------------------------------------
# type code -> struct format character (big-endian via '>')
_CODES = {0x08: "B", 0x09: "b", 0x0B: "h", 0x0C: "i", 0x0D: "f", 0x0E: "d"}
_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32, 0x0D: np.float32, 0x0E: np.float64}


def _idx_bytes(code, shape, values):
    """An IDX file: 0, 0, type code, ndim, big-endian uint32 sizes, big-endian values."""
    header = struct.pack(">BBBB", 0, 0, code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)
    return header + struct.pack(f">{len(values)}{_CODES[code]}", *values)


def _write(tmp_path, name, payload, compress=False):
    path = tmp_path / name
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


_SAMPLE_VALUES = {
    0x08: [0, 1, 127, 128, 254, 255],
    0x09: [-128, -1, 0, 1, 100, 127],
    0x0B: [-32768, -300, -1, 0, 258, 32767],
    0x0C: [-2**31, -70000, -1, 0, 65536 + 7, 2**31 - 1],
    0x0D: [-1.5, 0.0, 0.25, 3.0e38, -7.125, 1.0e-3],
    0x0E: [-1.5, 0.0, 0.1, 1.0e300, -7.125, 2.0 ** -1000],
}


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("code", sorted(_CODES))
def test_read_idx_round_trips_every_type(tmp_path, code, compress):
    values = _SAMPLE_VALUES[code]
    path = _write(tmp_path, "data.idx", _idx_bytes(code, (2, 3), values), compress)
    arr = read_idx(path)
    assert arr.dtype == np.dtype(_DTYPES[code]) and arr.dtype.isnative
    assert arr.shape == (2, 3)
    expected = np.array(values, dtype=_DTYPES[code]).reshape(2, 3)    # float32 rounds 1e-3 the same way
    np.testing.assert_array_equal(arr, expected)
    arr[0, 0] = 0                                                     # a writable array of our own


@pytest.mark.parametrize("shape", [(5,), (3, 4, 2), (0, 28, 28), (1, 1, 1, 1)])
def test_read_idx_shapes(tmp_path, shape):
    count = math.prod(shape)
    values = [(7 * i) % 256 for i in range(count)]
    arr = read_idx(_write(tmp_path, "s.idx", _idx_bytes(0x08, shape, values)))
    assert arr.shape == shape
    np.testing.assert_array_equal(arr.reshape(-1), values)


@settings(max_examples=25)
@given(code=st.sampled_from(sorted(_CODES)), shape=st.lists(st.integers(0, 4), min_size=1, max_size=3),
       compress=st.booleans(), data=st.data())
def test_read_idx_round_trip_property(tmp_path_factory, code, shape, compress, data):
    count = math.prod(shape)
    ints = {0x08: (0, 255), 0x09: (-128, 127), 0x0B: (-32768, 32767), 0x0C: (-2**31, 2**31 - 1)}
    if code in ints:
        element = st.integers(*ints[code])
    else:
        element = st.floats(allow_nan=False, width=32 if code == 0x0D else 64)
    values = data.draw(st.lists(element, min_size=count, max_size=count))
    path = _write(tmp_path_factory.mktemp("idx"), "p.idx", _idx_bytes(code, shape, values), compress)
    np.testing.assert_array_equal(read_idx(path), np.array(values, dtype=_DTYPES[code]).reshape(shape))


def _malformed_cases():
    good = _idx_bytes(0x08, (2, 3), list(range(6)))
    return {
        "bad magic": (b"\x01\x00" + good[2:], r"bad magic number.*0x01 0x00"),
        "unknown type": (good[:2] + b"\x0a" + good[3:], r"unknown IDX data type code 0x0A"),
        "too short": (b"\x00\x00\x08", r"too short"),
        "truncated header": (good[:4] + good[4:10], r"truncated header.*2 dimensions.*only 1"),
        "truncated data": (good[:-1], r"truncated.*shape \(2, 3\).*6 bytes.*only 5"),
        "trailing bytes": (good + b"\x00\x07", r"2 trailing bytes"),
        "absurd sizes": (struct.pack(">BBBB3I", 0, 0, 0x0E, 3, 2**32 - 1, 2**32 - 1, 2**32 - 1) + b"\x00" * 8,
                         r"declares shape \(4294967295, 4294967295, 4294967295\)"),
    }


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("case", sorted(_malformed_cases()))
def test_read_idx_refuses_malformed_files(tmp_path, case, compress):
    payload, pattern = _malformed_cases()[case]
    path = _write(tmp_path, "broken.idx", payload, compress)
    with pytest.raises(IDXError, match=pattern) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TinygradError)


def test_read_idx_refuses_corrupt_gzip_and_reports_missing_files(tmp_path):
    good = gzip.compress(_idx_bytes(0x08, (4,), [1, 2, 3, 4]))
    path = _write(tmp_path, "cut.idx.gz", good[:-6])                 # stream cut before its end
    with pytest.raises(IDXError, match="gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)
    path = _write(tmp_path, "junk.idx.gz", b"\x1f\x8b" + b"garbage that is not deflate data")
    with pytest.raises(IDXError, match="gzip"):
        read_idx(path)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.idx")


# -- load_mnist ---------------------------------------------------------------------------------------
def _fake_mnist(tmp_path, prefix, n, compress, rows=28, cols=28, seed=0):
    """Write a small MNIST-format pair of files; return the pixel values and labels written."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(n, rows, cols))
    labels = rng.integers(0, 10, size=n)
    suffix = ".gz" if compress else ""
    _write(tmp_path, f"{prefix}-images-idx3-ubyte{suffix}",
           _idx_bytes(0x08, (n, rows, cols), pixels.reshape(-1).tolist()), compress)
    _write(tmp_path, f"{prefix}-labels-idx1-ubyte{suffix}", _idx_bytes(0x08, (n,), labels.tolist()), compress)
    return pixels, labels


@pytest.mark.parametrize("kind, prefix, compress", [("train", "train", False), ("test", "t10k", True)])
def test_load_mnist_reads_raw_and_gzipped_files(tmp_path, kind, prefix, compress):
    pixels, labels = _fake_mnist(tmp_path, prefix, 5, compress)
    X, y = load_mnist(tmp_path, kind)
    assert X.shape == (5, 784) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_allclose(X, pixels.reshape(5, 784) / 255.0, rtol=0, atol=0)
    np.testing.assert_array_equal(y, labels)
    raw, _ = load_mnist(str(tmp_path), kind, normalize=False, flatten=False)
    assert raw.dtype == np.uint8 and raw.shape == (5, 28, 28)
    np.testing.assert_array_equal(raw, pixels)
    X32, y1 = load_mnist(tmp_path, kind, one_hot_labels=True, dtype=np.float32)
    assert X32.dtype == np.float32
    np.testing.assert_array_equal(y1, np.eye(10)[labels])


def test_load_mnist_missing_files_are_named(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist(tmp_path, "train")
    message = str(info.value)
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert ".gz" in message and str(tmp_path) in message
    assert isinstance(info.value, FileNotFoundError)
    _fake_mnist(tmp_path, "t10k", 2, compress=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DatasetNotFoundError, match="missing t10k-labels-idx1-ubyte") as info:
        load_mnist(tmp_path, "test")
    assert "missing t10k-images" not in str(info.value)
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_mnist(tmp_path / "absent", "train")


def test_load_mnist_refuses_inconsistent_files(tmp_path):
    _fake_mnist(tmp_path, "train", 4, compress=False)
    _write(tmp_path, "train-labels-idx1-ubyte", _idx_bytes(0x08, (3,), [1, 2, 3]))
    with pytest.raises(IDXError, match="4 images but .* 3 labels"):
        load_mnist(tmp_path)
    _write(tmp_path, "train-labels-idx1-ubyte", _idx_bytes(0x0C, (4,), [1, 2, 3, 4]))
    with pytest.raises(IDXError, match=r"labels.*int32"):
        load_mnist(tmp_path)
    _write(tmp_path, "train-images-idx3-ubyte", _idx_bytes(0x08, (4, 5), list(range(20))))
    with pytest.raises(IDXError, match=r"images.*shape \(4, 5\)"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_bad_arguments(tmp_path):
    _fake_mnist(tmp_path, "train", 1, compress=False)
    with pytest.raises(ArgumentError, match="kind"):
        load_mnist(tmp_path, "validation")
    with pytest.raises(DTypeError, match="dtype"):
        load_mnist(tmp_path, dtype=np.int32)


# -- module hygiene -----------------------------------------------------------------------------------
def test_tensors_are_accepted_as_data():
    from tinygrad_edu import Tensor
    X, y = _rows(6)
    batches = list(DataLoader(Tensor(X), Tensor(y), batch_size=4, shuffle=False))
    assert isinstance(batches[0][0], np.ndarray)
    np.testing.assert_array_equal(batches[1][0], X[4:])
    X_tr, X_te, y_tr, y_te = train_test_split(Tensor(X), y, test_size=2, shuffle=False)
    np.testing.assert_array_equal(X_te, X[4:])


def test_importing_nn_data_does_not_import_optional_libraries():
    import subprocess
    code = ("import sys, nn.data; heavy = [m for m in ('sklearn', 'torch') if m in sys.modules]; "
            "print(','.join(heavy))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
