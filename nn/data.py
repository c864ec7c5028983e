"""nn.data: the datasets of the reference documents, generated in memory or read from local files.

Nothing here downloads anything. The toy problems are generated from a formula and a seed; the
handwritten digits come from files already on the machine (the 8×8 digits ship with the package).

    make_moons(200, noise=0.2, seed=0)   two interleaving half circles (documents 000 and 003)
    make_xor()                           the four XOR points (document 004)
    make_spiral(100, 3)                  K interleaved spiral arms, a small multi-class problem
    load_digits()                        the 8×8 digits shipped with the package (a stand-in for MNIST)
    load_mnist(directory)                the MNIST IDX files, when you have them (documents 001, 002)
    read_idx(path)                       the IDX file format itself, raw or gzipped

and the plumbing around them:

    train_test_split(X, y, test_size=0.2, seed=0)    the 80/20 split of document 003
    one_hot(y, 10)                                    network2's vectorized_result, for a whole batch
    DataLoader(X, y, batch_size=100, seed=0)          shuffled mini-batches, one permutation per epoch
    minibatches(X, y, 100, rng)                       the same for a single epoch, as a generator

Conventions: samples are rows (X has shape (N, features), y has shape (N,)); generated features are
float64 and labels int64; every random choice comes from `seed` (an int for a fixed result, a
`np.random.Generator` to share a stream, None for fresh randomness).
"""
import gzip
import math
import numbers
import os
import struct
import zlib

import numpy as np

from tinygrad_edu import (ArgumentError, DTypeError, LabelError, NotRegularFileError, ShapeError, TinygradError,
                          open_regular)
from nn.errors import MESSAGE_LIMIT, LoadError, parsing, printable

__all__ = [
    "make_moons", "make_xor", "make_spiral", "train_test_split", "one_hot", "DataLoader", "minibatches",
    "load_digits", "load_mnist", "read_idx", "IDXError", "MissingDependencyError", "DatasetNotFoundError",
]


# -- errors -------------------------------------------------------------------------------------------
class IDXError(LoadError):
    """A file that is not a well-formed IDX file (a LoadError: one error type for files that cannot
    be loaded). The message names the file and what is wrong with it."""

    def __init__(self, message):
        message = printable(message, MESSAGE_LIMIT)
        self.problems = [message]
        self.file = None
        Exception.__init__(self, message)


class MissingDependencyError(TinygradError, ImportError):
    """An optional library a loader needs is not installed. The message says how to install it."""


class DatasetNotFoundError(TinygradError, FileNotFoundError):
    """A dataset's files are not where the loader looked. The message names the files and the directory."""


# -- argument checks (shared by everything below) -------------------------------------------------------
def _is_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def _check_count(value, what, minimum=1):
    if not _is_int(value) or value < minimum:
        raise ArgumentError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_noise(noise, what, allow_none):
    if noise is None and allow_none:
        return None
    if not isinstance(noise, numbers.Real) or isinstance(noise, (bool, np.bool_)) \
            or not math.isfinite(noise) or noise < 0:
        expected = "None or a number >= 0" if allow_none else "a number >= 0"
        raise ArgumentError(f"{what}: noise must be {expected} (the standard deviation of the Gaussian "
                            f"noise), got {noise!r}")
    return float(noise)


def _generator(seed, what):
    """seed (None, an int >= 0 or a np.random.Generator) -> a np.random.Generator.

    A Generator passed in is used as is (and advanced), so several calls can share one stream."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (_is_int(seed) and seed >= 0):
        return np.random.default_rng(seed)
    raise ArgumentError(f"{what}: seed must be None, an integer >= 0 or a np.random.Generator, got {seed!r}")


def _as_samples(X, y, what):
    """X and y as ndarrays whose first axes (the samples) have the same length."""
    X = np.asarray(X)
    if X.ndim == 0:
        raise ShapeError(f"{what}: X must have one row per sample (at least 1-D), got a 0-d array")
    if y is None:
        return X, None
    y = np.asarray(y)
    if y.ndim == 0:
        raise ShapeError(f"{what}: y must have one entry per sample (at least 1-D), got a 0-d array")
    if len(X) != len(y):
        raise ShapeError(f"{what}: X has {len(X)} samples (shape {X.shape}) but y has {len(y)} "
                         f"(shape {y.shape}); they must have the same length")
    return X, y


# -- toy datasets -------------------------------------------------------------------------------------
def _random_state(seed):
    """The random source of make_moons, chosen as scikit-learn's check_random_state chooses it, so that
    the same seed gives the same numbers: None is NumPy's global RandomState (the one np.random.seed()
    seeds), an int seeds a fresh RandomState. A RandomState or Generator passed in is used as is."""
    if seed is None:
        return np.random.mtrand._rand        # NumPy's global RandomState: np.random.seed(0) seeds it
    if isinstance(seed, (np.random.RandomState, np.random.Generator)):
        return seed
    if _is_int(seed) and 0 <= seed < 2**32:
        return np.random.RandomState(int(seed))
    raise ArgumentError(f"make_moons: seed must be None, an integer in [0, 2**32), a np.random.RandomState "
                        f"or a np.random.Generator, got {seed!r}")


def make_moons(n_samples=100, noise=None, seed=None, shuffle=True):
    """Two interleaving half circles: the dataset of documents 000 and 003.

    n_samples: total number of points (the upper moon gets n_samples // 2, the lower one the rest),
        or a pair (n_upper, n_lower).
    noise: standard deviation of Gaussian noise added to every coordinate (None: no noise at all).
    seed: None, int, np.random.RandomState or np.random.Generator.
    shuffle: mix the two classes (otherwise the upper moon comes first, each moon in angle order).
    Returns X (n, 2) float64 and y (n,) int64: 0 for the upper moon, 1 for the lower.

    Geometry: the upper moon is the unit half circle (cos t, sin t), t = 0..π, through (1, 0) and
    (−1, 0); the lower one is the same half circle turned upside down and moved to the centre
    (1, 0.5): (1 − cos t, 0.5 − sin t). Neither class can be separated from the other by a line.

    The result equals scikit-learn's make_moons(n_samples, noise=noise, random_state=seed) bit for bit
    for seed None, int or RandomState: the random numbers are drawn from the same source, in the same
    order (first the shuffle, then the noise). So document 000's

        np.random.seed(0); X, y = sklearn.datasets.make_moons(200, noise=0.20)

    is make_moons(200, noise=0.2, seed=0), and also, after np.random.seed(0), make_moons(200, noise=0.2).
    A Generator gives points with the same distribution but different draws.
    """
    if _is_int(n_samples):
        n_samples = _check_count(n_samples, "make_moons: n_samples")
        n_out = n_samples // 2
        n_in = n_samples - n_out
    elif isinstance(n_samples, (tuple, list)) and len(n_samples) == 2:
        n_out = _check_count(n_samples[0], "make_moons: n_samples[0] (points in the upper moon)", 0)
        n_in = _check_count(n_samples[1], "make_moons: n_samples[1] (points in the lower moon)", 0)
    else:
        raise ArgumentError(f"make_moons: n_samples must be a positive integer or a pair (n_upper, n_lower), "
                            f"got {n_samples!r}")
    noise = _check_noise(noise, "make_moons", allow_none=True)
    rng = _random_state(seed)

    t_out = np.linspace(0, np.pi, n_out)             # (n_out,) angles along the upper moon
    t_in = np.linspace(0, np.pi, n_in)               # (n_in,)
    # The lower moon is written as 1 − sin t − 0.5, not 0.5 − sin t: the two round differently in the
    # last bit, and this order is the one that reproduces scikit-learn's points exactly.
    x = np.concatenate([np.cos(t_out), 1 - np.cos(t_in)])
    y_coord = np.concatenate([np.sin(t_out), 1 - np.sin(t_in) - 0.5])
    X = np.column_stack([x, y_coord])                # (n, 2)
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])

    if shuffle:
        order = np.arange(len(y))
        rng.shuffle(order)                           # one Fisher-Yates pass, as scikit-learn draws it
        X, y = X[order], y[order]
    if noise is not None:
        X += rng.normal(scale=noise, size=X.shape)   # drawn even for noise=0, to keep the stream in step
    return X, y


_XOR_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])   # (4, 2), document 004's order
_XOR_LABELS = np.array([0, 1, 1, 0], dtype=np.int64)                         # x1 XOR x2


def make_xor(n_per_corner=1, noise=0.0, seed=None):
    """The XOR problem of document 004: four corners of the unit square, label x1 XOR x2.

    With the defaults this is exactly the document's data, X = [[0,0],[0,1],[1,0],[1,1]] (4, 2) float64
    and y = [0, 1, 1, 0] int64 (the document stores Y as a (4, 1) column: use y[:, None]).
    n_per_corner > 1 repeats the four corners in that order (rows k, k+4, k+8, ... are copies of corner
    k), and noise > 0 adds Gaussian noise with that standard deviation to every coordinate, drawn from
    seed (None, int or np.random.Generator); the labels always stay those of the corner.
    Returns X (4·n_per_corner, 2) float64 and y (4·n_per_corner,) int64.
    """
    n = _check_count(n_per_corner, "make_xor: n_per_corner")
    noise = _check_noise(noise, "make_xor", allow_none=False)
    rng = _generator(seed, "make_xor")
    X = np.tile(_XOR_CORNERS, (n, 1))                # (4n, 2)
    y = np.tile(_XOR_LABELS, n)                      # (4n,)
    if noise > 0:
        X += noise * rng.standard_normal(X.shape)
    return X, y


def make_spiral(n_per_class=100, n_classes=3, noise=0.2, seed=None):
    """K spiral arms winding out of the origin, one class per arm (in the style of Stanford's CS231n).

    None of the documents uses it; it is the smallest problem that needs a softmax over more than two
    classes and a hidden layer, so it pairs with document 000's network once the output grows.

    Arm j (j = 0..K−1) has n_per_class points. Point i sits at radius r_i = i / (n_per_class − 1), from
    0 at the centre to 1, and at angle

        θ_ij = 2πj / K + 4·r_i + noise·ε_ij,        ε_ij ~ N(0, 1) drawn from seed,

    i.e. (x, y) = (r cos θ, r sin θ). The arms start evenly spaced around the circle and each turns
    through 4 radians on its way out; the noise jitters the angle only, so every point keeps its exact
    radius and the jitter grows with it, which blurs the outer ends of neighbouring arms together.

    Returns X (K·n_per_class, 2) float64 and y (K·n_per_class,) int64, grouped by class (all of arm 0
    first): shuffle with train_test_split or a DataLoader.
    """
    n = _check_count(n_per_class, "make_spiral: n_per_class")
    k = _check_count(n_classes, "make_spiral: n_classes")
    noise = _check_noise(noise, "make_spiral", allow_none=False)
    rng = _generator(seed, "make_spiral")
    r = np.linspace(0.0, 1.0, n)                                    # (n,) radius along one arm
    start = 2 * np.pi * np.arange(k) / k                            # (k,) where each arm begins
    theta = start[:, None] + 4.0 * r[None, :]                       # (k, n)
    if noise > 0:
        theta = theta + noise * rng.standard_normal((k, n))
    X = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=-1)   # (k, n, 2)
    y = np.repeat(np.arange(k, dtype=np.int64), n)                  # (k·n,)
    return X.reshape(k * n, 2), y


# -- splitting, labels, batches -----------------------------------------------------------------------
def train_test_split(X, y, test_size=0.2, seed=None, shuffle=True):
    """Split samples into a training and a test set, as document 003 does with scikit-learn's function.

    test_size: a fraction in (0, 1) (the test set gets ceil(test_size · N) samples, scikit-learn's
        rounding) or an integer count in [1, N − 1].
    seed: None, int or np.random.Generator (the permutation is drawn from it).
    shuffle=False keeps the order: the first samples train, the last ones test.
    Returns X_train, X_test, y_train, y_test (scikit-learn's order), rows still aligned with their labels.
    The set sizes match scikit-learn's; which rows go where does not (a different random generator).
    """
    X, y = _as_samples(X, y, "train_test_split")
    if y is None:
        raise ArgumentError("train_test_split: y is required (pass the labels that go with X)")
    n = len(X)
    if _is_int(test_size):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ArgumentError(f"train_test_split: an integer test_size must lie in [1, {n - 1}] for {n} "
                                f"samples, got {n_test}")
    elif isinstance(test_size, numbers.Real) and not isinstance(test_size, (bool, np.bool_)):
        if not 0 < test_size < 1:
            raise ArgumentError(f"train_test_split: a fractional test_size must lie strictly between 0 and 1, "
                                f"got {test_size!r}")
        n_test = math.ceil(test_size * n)
    else:
        raise ArgumentError(f"train_test_split: test_size must be a fraction in (0, 1) or an integer count, "
                            f"got {test_size!r}")
    n_train = n - n_test
    if n_train < 1 or n_test < 1:
        raise ArgumentError(f"train_test_split: test_size={test_size!r} of {n} samples leaves "
                            f"{n_train} for training and {n_test} for testing; both need at least one")
    rng = _generator(seed, "train_test_split")
    if shuffle:
        order = rng.permutation(n)
        test, train = order[:n_test], order[n_test:]
    else:
        train, test = np.arange(n_train), np.arange(n_train, n)
    return X[train], X[test], y[train], y[test]


def one_hot(labels, n_classes=None, dtype=np.float64):
    """Integer class labels -> one-hot rows: out[..., c] = 1 where labels == c, else 0.

    labels: integers of any shape (N,) -> result (N, C); a single label gives a (C,) row.
    n_classes: C; None means max(labels) + 1.
    Raises LabelError naming the first bad label and its position (negative, >= n_classes, not an integer).

    This is network2's vectorized_result(j) from document 002 (and the one_hot_label option of document
    001's load_mnist), done for a whole batch at once. vectorized_result returns a (10, 1) column
    because network2 feeds one sample at a time as a column vector; here samples are rows, so
    one_hot(y, 10)[i] is vectorized_result(y[i]).ravel(), and vectorized_result(j) is
    one_hot(j, 10).reshape(10, 1).
    """
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        hint = ""
        if arr.dtype.kind == "f" and arr.size:
            frac = np.flatnonzero(~np.isfinite(arr.reshape(-1)) | (arr.reshape(-1) % 1 != 0))
            if frac.size:
                hint = f" (label {arr.reshape(-1)[frac[0]].item()!r} at position {_position(arr, frac[0])})"
        raise LabelError(f"one_hot: labels must be integers, got dtype {arr.dtype}{hint}; convert "
                         "whole-number labels with .astype(np.int64)")
    flat = arr.reshape(-1)           # original dtype: a huge uint64 must not wrap to a negative label
    if n_classes is None:
        if flat.size == 0:
            raise ArgumentError("one_hot: cannot infer n_classes from an empty set of labels; pass n_classes")
        n_classes = int(flat.max()) + 1
    n_classes = _check_count(n_classes, "one_hot: n_classes")
    bad = np.flatnonzero((flat < 0) | (flat >= n_classes))
    if bad.size:
        i = bad[0]
        raise LabelError(f"one_hot: label {flat[i].item()} at position {_position(arr, i)} is out of range for "
                         f"n_classes={n_classes} (valid labels are 0..{n_classes - 1})")
    dtype = np.dtype(dtype)
    if dtype.kind not in "biuf":
        raise DTypeError(f"one_hot: dtype must be a numeric dtype, got {dtype}")
    out = np.zeros((flat.size, n_classes), dtype=dtype)             # (N, C)
    out[np.arange(flat.size), flat.astype(np.intp)] = 1
    return out.reshape(arr.shape + (n_classes,))


def _position(arr, flat_index):
    """A flat index as the user would write it: an int for 1-D labels, a tuple otherwise."""
    if arr.ndim == 1:
        return int(flat_index)
    return tuple(int(i) for i in np.unravel_index(flat_index, arr.shape))


def _batch_size(batch_size, what):
    if batch_size is None:
        return None
    return _check_count(batch_size, f"{what}: batch_size (or None for the full batch)")


def _iterate(X, y, order, size, drop_last):
    """Yield the batches of one epoch: consecutive slices of `order`, each indexing X (and y)."""
    n = len(order)
    stop = n - n % size if drop_last else n
    for start in range(0, stop, size):
        idx = order[start:start + size]
        yield X[idx] if y is None else (X[idx], y[idx])


def minibatches(X, y=None, batch_size=32, rng=None, shuffle=True, drop_last=False):
    """One epoch of mini-batches, as a generator: network2's SGD loop in document 002 (shuffle the
    training data, then cut it into consecutive slices of mini_batch_size).

    rng: None, int or np.random.Generator (a Generator is advanced, so a new call gives a new order).
    Yields (X_batch, y_batch) ndarrays, or X_batch alone when y is None; the last batch is smaller when
    batch_size does not divide N, unless drop_last=True drops it. batch_size=None: one full batch.
    Arguments are checked when you call it, not at the first batch.
    """
    X, y = _as_samples(X, y, "minibatches")
    size = _batch_size(batch_size, "minibatches")
    rng = _generator(rng, "minibatches")
    n = len(X)
    order = rng.permutation(n) if shuffle else np.arange(n)
    return _iterate(X, y, order, size or max(n, 1), drop_last)


class DataLoader:
    """Mini-batches over (X, y), reshuffled every epoch: `for X_batch, y_batch in loader: ...`.

    DataLoader(X, y=None, batch_size=32, shuffle=True, seed=None, drop_last=False)
        X: (N, ...) samples as rows; y: (N, ...) labels or targets, or None (then each batch is X_batch).
        batch_size: a positive int, or None for one full batch (document 000's full-batch descent).
        shuffle: draw a new permutation at each iter() (each epoch); False keeps X's order.
        seed: None, int or np.random.Generator. Two loaders built with the same int seed give the same
            batches, epoch after epoch.
        drop_last: drop the last, smaller batch when batch_size does not divide N.

    len(loader) is the number of batches per epoch. Batches are ndarrays (copies, not views), ready to
    wrap in a Tensor. This is the epoch-wise sampling of document 002; document 001 instead draws each
    batch independently, with replacement (np.random.choice(train_size, batch_size)), so some samples
    are seen twice before others once.
    """

    def __init__(self, X, y=None, batch_size=32, shuffle=True, seed=None, drop_last=False):
        self.X, self.y = _as_samples(X, y, "DataLoader")
        self.batch_size = _batch_size(batch_size, "DataLoader")
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = _generator(seed, "DataLoader")

    @property
    def n_samples(self):
        """N, the number of samples (rows of X)."""
        return len(self.X)

    def _size(self):
        return self.batch_size or max(self.n_samples, 1)

    def __len__(self):
        n, size = self.n_samples, self._size()
        return n // size if self.drop_last else -(-n // size)     # floor or ceil of n / size

    def __iter__(self):
        # The permutation is drawn here, not at the first batch, so each iter() is one epoch.
        n = self.n_samples
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        return _iterate(self.X, self.y, order, self._size(), self.drop_last)

    def __repr__(self):
        return (f"DataLoader(n_samples={self.n_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})")


# -- handwritten digits from local files --------------------------------------------------------------
def load_digits(return_split=False, test_size=0.2, seed=None, flatten=True):
    """The 8×8 handwritten digits, shipped with tinygrad-edu (no download, no scikit-learn needed).

    1,797 images of the digits 0-9, each 8×8 pixels with intensities 0..16; here scaled to [0, 1].
    A small stand-in for the MNIST experiments of documents 001 (784-50-10) and 002 (network2): use a
    64-H-10 network instead, it trains in seconds. The values are scikit-learn's load_digits() (from
    the UCI "Optical Recognition of Handwritten Digits" data); nn/_data/README.md says where they come
    from and under which licenses.

    Returns X (1797, 64) float64 in [0, 1] ((1797, 8, 8) with flatten=False) and y (1797,) int64, or,
    with return_split=True, train_test_split(X, y, test_size, seed): X_train, X_test, y_train, y_test.
    """
    images, labels = _digits_arrays()
    X = images.reshape(len(images), 64).astype(np.float64) / 16.0    # (1797, 64); 16 is the darkest pixel
    y = labels.astype(np.int64)
    if not flatten:
        X = X.reshape(-1, 8, 8)
    if return_split:
        return train_test_split(X, y, test_size=test_size, seed=seed)
    return X, y


def _digits_arrays():
    """(images (1797, 8, 8) uint8, labels (1797,) uint8) from nn/_data/digits.npz, checked."""
    from importlib import resources
    source = resources.files("nn").joinpath("_data", "digits.npz")
    try:
        with source.open("rb") as f, np.load(f, allow_pickle=False) as npz:
            images, labels = npz["images"], npz["labels"]
    except (OSError, KeyError, ValueError) as e:
        raise LoadError([f"the digits shipped with tinygrad-edu cannot be read ({e}); reinstall "
                         "tinygrad-edu"], str(source)) from None
    if (images.shape != (1797, 8, 8) or labels.shape != (1797,) or images.dtype != np.uint8
            or labels.dtype != np.uint8 or images.max() > 16 or labels.max() > 9):
        raise LoadError([f"the digits file holds images {images.shape} {images.dtype} and labels "
                         f"{labels.shape} {labels.dtype}, expected (1797, 8, 8) and (1797,) uint8; reinstall "
                         "tinygrad-edu"], str(source))
    return images, labels


# IDX type code -> (name, big-endian NumPy dtype). The format stores every number big-endian.
_IDX_TYPES = {
    0x08: ("unsigned byte", np.dtype(">u1")),
    0x09: ("signed byte", np.dtype(">i1")),
    0x0B: ("short", np.dtype(">i2")),
    0x0C: ("int", np.dtype(">i4")),
    0x0D: ("float", np.dtype(">f4")),
    0x0E: ("double", np.dtype(">f8")),
}
_GZIP_MAGIC = b"\x1f\x8b"
_DEFLATE_MAX_RATIO = 1032      # deflate never expands data more than ~1032-fold on decompression
_CHUNK = 1 << 24               # read at most 16 MiB at a time, so memory only grows with real data
_IDX_MAX_DIMS = 32             # NumPy 1 arrays have at most 32 axes (NumPy 2: 64); MNIST files have 1 or 3


def read_idx(path):
    """Read an IDX file (the format of the MNIST files), raw or gzip-compressed, into an ndarray.

    Layout, all big-endian: two zero bytes; a type code (0x08 unsigned byte, 0x09 signed byte,
    0x0B short, 0x0C int, 0x0D float, 0x0E double); the number of dimensions d; d uint32 sizes; then
    the values in C order. A gzip file is recognised by its content (first bytes 1f 8b), not its name.
    Returns an array of that shape in the native byte order (uint8, int8, int16, int32, float32, float64).

    Raises IDXError, naming the file, for a bad magic number, an unknown type code, more than 32
    dimensions, a truncated header or data, bytes after the data, declared sizes larger than the file
    could hold (checked before anything is allocated), corrupt gzip data, and anything else that
    keeps it from being parsed. A folder, device or FIFO raises IDXError without being read; a missing
    file raises FileNotFoundError.
    """
    path = os.fspath(path)
    try:
        f = open_regular(path)
    except NotRegularFileError as e:
        raise IDXError(f"{path}: {e.strerror}") from None
    with f, parsing(lambda message: IDXError(f"{path}: {message}")):
        file_size = os.fstat(f.fileno()).st_size
        compressed = f.read(2) == _GZIP_MAGIC
        f.seek(0)
        if not compressed:
            return _parse_idx(f, path, file_size, compressed=False)
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                return _parse_idx(g, path, file_size, compressed=True)
        except (OSError, EOFError, zlib.error) as e:    # BadGzipFile is an OSError
            raise IDXError(f"{path}: corrupt gzip data ({e})") from None


def _read_up_to(f, n):
    """Read up to n bytes, in chunks: a header that lies about the size cannot make us allocate it."""
    parts, got = [], 0
    while got < n:
        chunk = f.read(min(_CHUNK, n - got))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _parse_idx(f, path, file_size, compressed):
    """Parse an IDX stream f (raw file or decompressing reader). file_size is the size on disk."""
    head = _read_up_to(f, 4)
    if len(head) < 4:
        raise IDXError(f"{path}: too short to be an IDX file ({len(head)} bytes; the header alone has 4)")
    if head[0] != 0 or head[1] != 0:
        raise IDXError(f"{path}: bad magic number: the file starts with bytes 0x{head[0]:02X} 0x{head[1]:02X}, "
                       "an IDX file starts with 0x00 0x00")
    code, ndim = head[2], head[3]
    if code not in _IDX_TYPES:
        known = ", ".join(f"0x{c:02X} {name}" for c, (name, _) in _IDX_TYPES.items())
        raise IDXError(f"{path}: unknown IDX data type code 0x{code:02X} (known: {known})")
    type_name, dtype = _IDX_TYPES[code]
    if ndim > _IDX_MAX_DIMS:
        raise IDXError(f"{path}: the header declares {ndim} dimensions (at most {_IDX_MAX_DIMS} are supported)")
    dims = _read_up_to(f, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise IDXError(f"{path}: truncated header: it declares {ndim} dimensions but only "
                       f"{len(dims) // 4} of their sizes are present")
    shape = struct.unpack(f">{ndim}I", dims)
    count = math.prod(shape)                        # Python ints: no overflow for absurd sizes
    n_bytes = count * dtype.itemsize
    if math.prod(d for d in shape if d) * dtype.itemsize >= 2 ** 63:   # NumPy refuses such a shape, even empty
        raise IDXError(f"{path}: the header declares shape {shape}, too large for any array (corrupt header)")
    header_size = 4 + 4 * ndim
    declared = f"shape {shape} of {type_name} values = {n_bytes} bytes of data"

    # Check the declared size against what the file can hold before reading (or allocating) anything.
    if compressed:
        limit = _DEFLATE_MAX_RATIO * file_size
        if n_bytes > limit:
            raise IDXError(f"{path}: the header declares {declared}, more than a {file_size}-byte gzip "
                           "file can decompress to: the header is corrupt")
    else:
        after = file_size - header_size
        if n_bytes > after:
            raise IDXError(f"{path}: truncated: the header declares {declared} but only {after} bytes "
                           "follow it (the file is cut short, or its header is corrupt)")
        if n_bytes < after:
            raise IDXError(f"{path}: {after - n_bytes} trailing bytes after the data: the header declares "
                           f"{declared} but {after} bytes follow it")

    data = _read_up_to(f, n_bytes)
    if len(data) < n_bytes:
        raise IDXError(f"{path}: truncated: the header declares {declared} but only {len(data)} bytes "
                       "follow it (the file is cut short, or its header is corrupt)")
    extra = 0
    while True:                                     # count (without keeping) anything after the data
        chunk = f.read(_CHUNK)
        if not chunk:
            break
        extra += len(chunk)
    if extra:
        raise IDXError(f"{path}: {extra} trailing bytes after the data: the header declares {declared} "
                       f"but {n_bytes + extra} bytes follow it")
    arr = np.frombuffer(data, dtype=dtype, count=count).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))      # native byte order, and a writable copy


_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _find_mnist_files(directory, kind):
    directory = os.fspath(directory)
    names = _MNIST_FILES[kind]
    expected = ", ".join(f"{n} (or {n}.gz)" for n in names)
    if not os.path.isdir(directory):
        raise DatasetNotFoundError(f"load_mnist: directory {directory!r} does not exist (or is not a "
                                   f"directory); it should hold {expected}")
    found, missing = [], []
    for name in names:
        for candidate in (name, name + ".gz"):          # the raw file wins: it reads faster
            if os.path.isfile(os.path.join(directory, candidate)):
                found.append(os.path.join(directory, candidate))
                break
        else:
            missing.append(name)
    if missing:
        listed = ", ".join(f"{n} (or {n}.gz)" for n in missing)
        raise DatasetNotFoundError(f"load_mnist: missing {listed} in {os.path.abspath(directory)!r}; the "
                                   f"{kind} set needs {expected}, the standard MNIST IDX files")
    return found


def load_mnist(directory, kind="train", normalize=True, flatten=True, one_hot_labels=False, dtype=np.float64):
    """MNIST from the standard IDX files in `directory` (documents 001 and 002); never downloads.

    kind="train" reads train-images-idx3-ubyte and train-labels-idx1-ubyte (60,000 digits),
    kind="test" reads t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (10,000); each file may also
    be gzipped with a .gz suffix, as distributed.
    normalize: pixels as `dtype` (float64 by default) divided by 255, in [0, 1]; False returns the raw
        uint8 values 0..255.
    flatten: images as rows (N, 784); False keeps (N, 28, 28).
    one_hot_labels: labels as (N, 10) one-hot rows (document 001's one_hot_label) instead of (N,) int64.
    Returns X, y. Document 001's `(x_train, t_train), (x_test, t_test) = load_mnist(normalize=True)` is
    `load_mnist(d, "train"), load_mnist(d, "test")`.

    Raises DatasetNotFoundError naming the expected files and the directory when they are not there,
    and IDXError when a file is malformed, holds the wrong kind of data, or the image and label
    counts differ.
    """
    if kind not in _MNIST_FILES:
        raise ArgumentError(f"load_mnist: kind must be 'train' or 'test', got {kind!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise DTypeError(f"load_mnist: dtype must be a floating-point dtype (pixels are scaled to [0, 1]), "
                         f"got {dtype}")
    images_path, labels_path = _find_mnist_files(directory, kind)
    images = read_idx(images_path)
    if images.dtype != np.uint8 or images.ndim != 3:
        raise IDXError(f"{images_path}: expected unsigned-byte images of shape (N, rows, columns), found "
                       f"{images.dtype} data of shape {images.shape}")
    labels = read_idx(labels_path)
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise IDXError(f"{labels_path}: expected unsigned-byte labels of shape (N,), found {labels.dtype} "
                       f"data of shape {labels.shape}")
    if len(images) != len(labels):
        raise IDXError(f"load_mnist: {images_path} holds {len(images)} images but {labels_path} holds "
                       f"{len(labels)} labels")
    if images.size == 0:
        raise IDXError(f"{images_path}: holds no pixels (shape {images.shape}): an empty data set")
    X = images.reshape(len(images), -1) if flatten else images      # (N, 784) or (N, 28, 28)
    if normalize:
        X = X.astype(dtype) / 255
    y = labels.astype(np.int64)
    if one_hot_labels:
        y = one_hot(y, 10, dtype=dtype)
    return X, y
