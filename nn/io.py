"""Saving and loading models: one .npz archive holding the weights and the spec.

    model.save("moons.npz")          # or nn.save(model, "moons.npz")
    same = nn.load("moons.npz")      # rebuilt from the stored spec, weights bit-exact

The archive is an ordinary NumPy .npz (a zip of .npy arrays), readable with
np.load(path, allow_pickle=False):
    "__spec__"       uint8 array: UTF-8 JSON {"format": "tinygrad-edu-model", "version": 1, "spec": {...}}
                     ("spec": null in files written by save_weights)
    "0.weight", ...  one float array per parameter, named as in model.state_dict()

Writing is atomic (tinygrad_edu.atomic_write): the archive goes to a temporary file in the same
folder, is flushed to disk, and then replaces the target with os.replace, so an interrupted save
leaves the old file intact. A symlink is written through (the link stays), a target that is not a
regular file (a folder, /dev/full) is refused. What save() writes, load() reads: both check the
same limits (the spec's, MAX_SPEC_BYTES of JSON, MAX_ENTRIES arrays), so a save that would give an
unloadable file raises instead.

Reading trusts nothing in the file. Nothing is ever unpickled (object arrays are refused). Each
.npy header is read and checked - dtype, shape against the spec, declared size against the size
of the zip entry - before any array is allocated, so a forged header cannot make us allocate a
huge array; zip CRCs are verified. Every problem (missing or unexpected arrays, shape or dtype
mismatches, truncation, corruption, foreign files) raises LoadError naming the file, with all the
mismatches listed together; whatever else a malformed file makes zipfile or NumPy raise becomes a
LoadError too (nn.errors.parsing). A folder, device (/dev/zero) or FIFO is refused before anything
is read. A path that cannot be opened raises the usual OSError (FileNotFoundError, ...).
"""
import contextlib
import json
import math
import os
import zipfile

import numpy as np

from tinygrad_edu import NotRegularFileError, atomic_write, open_regular

from . import module as _module
from .errors import LoadError, SpecError, parsing, printable
from .spec import MAX_LAYERS, MAX_SPEC_BYTES, from_spec, parameter_shapes, parse_spec_json, validate_spec

FORMAT = "tinygrad-edu-model"
FORMAT_VERSION = 1
SPEC_KEY = "__spec__"
MAX_ENTRIES = 2 * MAX_LAYERS + 1     # a weight and a bias per layer, and the spec
_DEFLATE_MAX_RATIO = 1032            # deflate never expands data more than ~1032-fold


# -- writing ------------------------------------------------------------------------------------------

def _write_archive(path, meta, arrays):
    """Check what load() will check, then write. Raises before touching `path`."""
    text = json.dumps(meta, allow_nan=False, separators=(",", ":"))
    if len(text) > MAX_SPEC_BYTES:
        raise SpecError(f"the spec is {len(text):,} bytes of JSON, more than a model file may hold "
                        f"({MAX_SPEC_BYTES:,}, nn.spec.MAX_SPEC_BYTES)")
    if len(arrays) + 1 > MAX_ENTRIES:
        raise LoadError(f"{len(arrays):,} parameters are more than a model file may hold ({MAX_ENTRIES - 1:,}, "
                        "nn.io.MAX_ENTRIES)", file=path)
    members = {SPEC_KEY: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    members.update(arrays)
    atomic_write(path, lambda f: np.savez(f, **members))


def save(model, path, spec=None):
    """Write `model`'s weights and spec to `path` (exactly that name; no extension is added).

    spec: the spec to store (it may carry loss/optimizer/training sections); default model.to_spec().
    Raises SpecError when the model cannot be described by a spec (use save_weights then) or when
    `spec` does not describe this model's parameters."""
    spec = validate_spec(model.to_spec() if spec is None else spec)
    expected = parameter_shapes(spec)
    params = [p for _, p in model.named_parameters()]
    described = [(shape, dtype) for shape, dtype in expected.values()]
    actual = [(p.shape, str(p.dtype)) for p in params]
    if described != actual:
        raise SpecError(f"the spec describes parameters {described} but the model has {actual}", "layers")
    arrays = {name: p.data for name, p in zip(expected, params)}
    _write_archive(path, {"format": FORMAT, "version": FORMAT_VERSION, "spec": spec}, arrays)


def save_weights(model, path):
    """Write only the weights (model.state_dict()) - for models specs cannot describe.
    Read them back into a model of the same structure with load_weights(model, path)."""
    arrays = {name: p.data for name, p in model.named_parameters()}
    if SPEC_KEY in arrays:
        raise LoadError(f"a parameter may not be called {SPEC_KEY!r}", file=path)
    _write_archive(path, {"format": FORMAT, "version": FORMAT_VERSION, "spec": None}, arrays)


# -- reading ------------------------------------------------------------------------------------------

class _Bad(Exception):
    """One problem with the archive (collected, then reported in a LoadError)."""


class _Archive:
    """A model archive opened for careful reading."""

    def __init__(self, path):
        self.path = os.fspath(path)
        try:
            self.file = open_regular(self.path)      # other OSErrors (missing file, ...) propagate as they are
        except NotRegularFileError as e:
            raise LoadError(e.strerror, file=self.path) from None
        try:
            start = self.file.read(8)
            self.file.seek(0)
            if start.startswith(b"\x93NUMPY"):
                raise _Bad("this is a single .npy array, not a model archive (.npz)")
            if start[:1] == b"\x80":
                raise _Bad("this looks like a pickle; pickles are never loaded (they can run code)")
            try:
                self.zip = zipfile.ZipFile(self.file)
                infos = self.zip.infolist()
            except Exception as e:                   # noqa: BLE001  (whatever zipfile makes of the bytes)
                raise _Bad(f"not a model archive: cannot read it as a zip/.npz file ({printable(e, 200)})") from None
            if len(infos) > MAX_ENTRIES:
                raise _Bad(f"the archive has {len(infos)} entries (more than {MAX_ENTRIES})")
            self.entries = {}
            for info in infos:
                if info.filename in self.entries:
                    raise _Bad(f"the archive lists the entry {_name(info.filename)} twice (corrupted or forged)")
                self.entries[info.filename] = info
        except _Bad as e:
            self.close()
            raise LoadError(str(e), file=self.path) from None
        except BaseException:
            self.close()
            raise

    def close(self):
        with contextlib.suppress(Exception):
            if getattr(self, "zip", None) is not None:
                self.zip.close()
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def fail(self, problems):
        raise LoadError(problems, file=self.path)

    # entries are "<key>.npy"; a key quoted in a message goes through _name() (printable, cut short)
    def keys(self):
        return [name[:-4] if name.endswith(".npy") else name for name in self.entries]

    def info(self, key):
        return self.entries.get(key + ".npy")

    def header(self, key, info):
        """(shape, fortran_order, dtype, data offset) from the entry's .npy header, without reading data."""
        if info.flag_bits & 0x1:
            raise _Bad(f"{key}: encrypted entries are not supported")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Bad(f"{key}: unsupported compression method {info.compress_type}")
        # The sizes the zip directory declares, against what the bytes can hold: a forged size
        # must not make us allocate (the data check below trusts info.file_size).
        most = info.compress_size * (1 if info.compress_type == zipfile.ZIP_STORED else _DEFLATE_MAX_RATIO)
        if info.file_size > most:
            raise _Bad(f"{key}: the zip directory declares {info.file_size} bytes, more than its "
                       f"{info.compress_size} stored bytes can hold (corrupted or forged)")
        try:
            with self.zip.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                else:
                    raise _Bad(f"{key}: unsupported .npy format version {version}")
                return shape, fortran, dtype, f.tell()
        except _Bad:
            raise
        except Exception as e:                       # noqa: BLE001  (ValueError, tokenize.TokenError, ...)
            raise _Bad(f"{key}: not a valid .npy array header ({type(e).__name__}: {printable(e, 200)})") from None

    def check(self, key, info, want_shape, want_dtype):
        """Problems (a list of strings) with entry `key` against the expected shape and dtype."""
        try:
            shape, _, dtype, offset = self.header(key, info)
        except _Bad as e:
            return [str(e)]
        if dtype.hasobject:
            return [f"{key}: holds Python objects (a pickled array); refused, pickles can run code"]
        problems = []
        if dtype.kind != "f" or dtype.newbyteorder("=") != np.dtype(want_dtype):
            problems.append(f"dtype mismatch for {key}: the file has {dtype}, the model needs {want_dtype}")
        if tuple(shape) != tuple(want_shape):
            problems.append(f"size mismatch for {key}: the file has shape {tuple(shape)}, the model needs "
                            f"shape {tuple(want_shape)}")
        if not problems:
            declared = offset + math.prod(shape) * dtype.itemsize
            if declared != info.file_size:
                problems.append(f"{key}: the entry holds {info.file_size} bytes but its header declares "
                                f"{declared} (truncated or corrupted)")
        return problems

    def read(self, key, info):
        """The array of entry `key` (already checked), via NumPy's own reader with pickles refused."""
        try:
            with self.zip.open(info) as f:
                arr = np.lib.format.read_array(f, allow_pickle=False)
                if f.read(1):                   # also makes zipfile verify the entry's CRC
                    raise _Bad(f"{key}: unexpected bytes after the array data")
        except _Bad:
            raise
        except Exception as e:                       # noqa: BLE001  (zipfile's CRC error, zlib.error, ...)
            raise _Bad(f"{key}: corrupted data ({type(e).__name__}: {printable(e, 200)})") from None
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        return arr

    def meta(self):
        """The stored {"format", "version", "spec"} object (spec validated, or None)."""
        info = self.info(SPEC_KEY)
        if info is None:
            self.fail(f"no {SPEC_KEY!r} entry: not a tinygrad-edu model file (a foreign .npz?)")
        try:
            shape, _, dtype, offset = self.header(SPEC_KEY, info)
            if dtype != np.uint8 or len(shape) != 1:
                raise _Bad(f"{SPEC_KEY}: expected a 1-D uint8 array of UTF-8 JSON, got {dtype} {shape}")
            if shape[0] > MAX_SPEC_BYTES or offset + shape[0] != info.file_size:
                raise _Bad(f"{SPEC_KEY}: declares {shape[0]} bytes in an entry of {info.file_size} bytes "
                           "(truncated, corrupted or too large)")
            raw = self.read(SPEC_KEY, info).tobytes()
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise _Bad(f"{SPEC_KEY}: not UTF-8 text ({e.reason})") from None
        except _Bad as e:
            self.fail(str(e))
        try:
            meta = parse_spec_json(text)
        except SpecError as e:
            self.fail(f"{SPEC_KEY}: {e}")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or set(meta) != {"format", "version", "spec"}:
            self.fail(f"{SPEC_KEY}: not a {FORMAT} header (a foreign file?)")
        if type(meta["version"]) is not int or meta["version"] != FORMAT_VERSION:
            self.fail(f"unsupported file version {meta['version']!r} (this library reads version {FORMAT_VERSION})")
        if meta["spec"] is not None:
            try:
                meta["spec"] = validate_spec(meta["spec"])
            except SpecError as e:
                self.fail(f"the stored spec is invalid: {e}")
        return meta

    def arrays(self, expected):
        """{name: ndarray} for `expected` {name: (shape, dtype)}; every problem is found before any
        array is read, and all are reported together."""
        problems = []
        missing = [k for k in expected if self.info(k) is None]
        unexpected = [k for k in self.keys() if k not in expected and k != SPEC_KEY]
        if missing:
            problems.append("missing key(s): " + _names(missing))
        if unexpected:
            problems.append("unexpected key(s): " + _names(unexpected))
        for key, (shape, dtype) in expected.items():
            info = self.info(key)
            if info is not None:
                problems.extend(self.check(key, info, shape, dtype))
                if len(problems) > 100:              # enough to see what is wrong; stop checking
                    break
        if problems:
            self.fail(problems)
        try:
            return {key: self.read(key, self.info(key)) for key in expected}
        except _Bad as e:
            self.fail(str(e))


def _name(key):
    """An entry or key name from the file, as a message may quote it."""
    return printable(repr(key))


def _names(keys, limit=10):
    shown = ", ".join(printable(k) for k in keys[:limit])
    return shown + (f", ... ({len(keys) - limit} more)" if len(keys) > limit else "")


def _reading(path):
    """nn.errors.parsing for an opened archive: any failure while reading it becomes a LoadError."""
    return parsing(lambda message: LoadError(message, file=os.fspath(path)))


def read_spec(path):
    """The spec stored in a model file (validated), or None for a file written by save_weights."""
    with _Archive(path) as archive, _reading(path):
        return archive.meta()["spec"]


def load(path):
    """Rebuild the model saved in `path` by save(): from_spec(stored spec) with the stored weights.

    The result is a Sequential (an MLP or a single layer comes back as the equivalent Sequential,
    with the same parameter names). Raises LoadError for anything wrong with the file."""
    with _Archive(path) as archive, _reading(path):
        spec = archive.meta()["spec"]
        if spec is None:
            archive.fail("this file holds weights only (written by save_weights); load them into a model "
                         "with nn.io.load_weights(model, path)")
        arrays = archive.arrays(parameter_shapes(spec))
    model = from_spec(spec, seed=0)       # a private seed: loading does not disturb nn.init's generator
    model.load_state_dict(arrays)
    return model


def load_weights(model, path):
    """Load weights written by save_weights (or save) into `model`, which must have exactly the same
    parameter names, shapes and dtypes. Returns the model."""
    with _Archive(path) as archive, _reading(path):
        archive.meta()
        expected = {name: (p.shape, str(p.dtype)) for name, p in model.named_parameters()}
        arrays = archive.arrays(expected)
    model.load_state_dict(arrays)
    return model


_module._model_files["save"] = save        # model.save(path) calls this (nn/module.py)
