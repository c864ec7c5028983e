"""Malformed inputs for every file loader: spec JSON text, .npy headers inside a model archive, whole
archives with hostile entry names, and IDX files (raw and gzipped).

Each maker takes a `draw` object with three methods - integer(lo, hi), choice(seq), boolean() - so the
same generators run under hypothesis (tests/test_attacks.py, derandomized) and in a plain random loop
that counts failures over many thousands of cases:

    python tests/fuzz_inputs.py 20000        # each loader, 20,000 cases; prints what escaped
"""
import gzip
import io
import json
import random
import struct
import zipfile

import numpy as np

SPEC = {
    "version": 1, "seed": 3,
    "layers": [{"type": "Linear", "in": 2, "out": 4, "init": {"type": "uniform", "eps": 0.5}, "bias_init": "zeros"},
               {"type": "ReLU"}, {"type": "Linear", "in": 4, "out": 3, "bias": False, "dtype": "float64"},
               {"type": "Softmax", "axis": -1}],
    "loss": {"type": "MSE", "reduction": "sum"},
    "optimizer": {"type": "SGD", "lr": 0.1, "momentum": 0.9, "schedule": {"type": "step", "step_size": 10,
                                                                           "gamma": 0.5}},
    "training": {"epochs": 5, "batch_size": 16, "shuffle": False, "seed": 1},
}
MODEL_SPEC = {"layers": [{"type": "Linear", "in": 2, "out": 3}, {"type": "Tanh"}, {"type": "Linear", "in": 3, "out": 2}]}

# pieces that make JSON and Python-literal parsers misbehave
_TOKENS = ["{", "}", "[", "]", "(", ")", '"', "'", ":", ",", "-", ".", "e", "E", "+", "0", "1", "9", " ", "\n",
           "\\", "\\u", "\\ud800", "NaN", "Infinity", "-Infinity", "true", "false", "null", "None", "True",
           "\x00", "\x1b[2J", "\u202e", "\xff", "9" * 5000, "1e999", "-0", "2**64", "[" * 50, "{" * 50,
           '"layers":', '"type":', '"in":', '"axis":', str(10 ** 30), "'descr':", "'shape':",
           "'fortran_order':", "<f8", ">f8", "|O", "<U3", "V0", "(2, 2)", "(2,", "(-1,)", "()", "((2,2),)"]


_HOSTILE = ["__BIG__", "__NEGBIG__", 10 ** 30, -10 ** 30, 2 ** 31, 2 ** 32, 2 ** 63, -1, 0, 1e308, -0.0, 1e-320,
            True, None, "", "\x1b[2J" + "x" * 100_000, {"type": "\u202e"}, [], [[]] * 3, {}, "Linear", "float16",
            {"type": "Linear", "in": 10 ** 9, "out": 10 ** 9}, {"type": "Softmax", "axis": 10 ** 30}]


def _mutate_text(draw, text, rounds=(1, 6)):
    """Insert, delete, duplicate or replace spans of `text`."""
    for _ in range(draw.integer(*rounds)):
        i = draw.integer(0, len(text))
        j = min(len(text), i + draw.integer(0, 20))
        op = draw.integer(0, 3)
        if op == 0:
            text = text[:i] + draw.choice(_TOKENS) + text[i:]
        elif op == 1:
            text = text[:i] + text[j:]
        elif op == 2:
            text = text[:i] + text[i:j] * draw.integer(2, 3) + text[j:]      # duplicate keys, repeated tokens
        else:
            text = text[:i] + draw.choice(_TOKENS) + text[j:]
    return text


def spec_json(draw):
    """Bytes of a spec file: the valid SPEC mutated as text (or, once in a while, deeply nested or a
    huge object with a duplicate key)."""
    kind = draw.integer(0, 9)
    if kind == 0:
        depth = draw.integer(1, 200_000)
        return (("[" * depth) + ("]" * draw.integer(0, depth))).encode()
    if kind == 1:
        n = draw.integer(1, 3000)
        keys = ",".join(f'"{i:05d}":0' for i in range(n))
        dup = f',"{draw.integer(0, n - 1):05d}":1' if draw.boolean() else ""
        return ('{"layers":[{"type":"Tanh"}],"training":{' + keys + dup + "}}").encode()
    if kind <= 4:                                       # one field set to a hostile value
        spec = json.loads(json.dumps(SPEC))
        target = spec
        while True:
            key = draw.choice(sorted(target)) if isinstance(target, dict) else draw.integer(0, len(target) - 1)
            if not isinstance(target[key], (dict, list)) or not target[key] or draw.boolean():
                break
            target = target[key]
        target[key] = draw.choice(_HOSTILE)
        text = json.dumps(spec).replace('"__BIG__"', "9" * draw.choice([20, 101, 400, 4301, 6000]))
        return text.replace('"__NEGBIG__"', "-" + "9" * draw.choice([20, 101, 5000])).encode()
    text = _mutate_text(draw, json.dumps(SPEC, indent=draw.choice([None, 1])))
    data = text.encode("utf-8", "surrogatepass")
    if draw.integer(0, 9) == 0:                                     # invalid UTF-8 and BOMs
        data = draw.choice([b"\xef\xbb\xbf", b"\xff\xfe", b"\x80"]) + data
    return data


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def model_entries():
    """The entries of a valid model archive of MODEL_SPEC (name -> bytes), in save()'s order."""
    rng = np.random.default_rng(0)
    meta = {"format": "tinygrad-edu-model", "version": 1, "spec": MODEL_SPEC}
    entries = {"__spec__.npy": _npy(np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))}
    for name, shape in (("0.weight", (2, 3)), ("0.bias", (3,)), ("2.weight", (3, 2)), ("2.bias", (2,))):
        entries[name + ".npy"] = _npy(rng.standard_normal(shape))
    return entries


def zip_bytes(entries, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def npy_header_archive(draw):
    """A model archive whose entries are intact except one .npy header, mutated as text (brackets,
    quotes, dtypes, shapes) or in its length field and magic."""
    entries = model_entries()
    name = draw.choice(sorted(entries))
    raw = entries[name]
    header_len = struct.unpack("<H", raw[8:10])[0]
    header = raw[10:10 + header_len].decode("latin1").rstrip()
    body = raw[10 + header_len:]
    new = _mutate_text(draw, header).encode("latin1", "replace")
    if draw.boolean():                                  # keep the declared length consistent
        new = new + b" " * max(0, 63 - len(new) % 64) + b"\n"
    length = len(new) if draw.integer(0, 4) else draw.integer(0, 0xFFFF)
    magic = raw[:8]
    if draw.integer(0, 9) == 0:
        magic = b"\x93NUMPY" + bytes([draw.choice([1, 2, 3, 0, 255]), 0])
    if magic[6] == 2 and draw.boolean():
        head = magic + struct.pack("<I", length) + new
    else:
        head = magic + struct.pack("<H", min(length, 0xFFFF)) + new
    entries[name] = head + body
    compression = draw.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    return zip_bytes(entries.items(), compression)


_NAMES = ["0.weight.npy", "0.bias.npy", "2.weight.npy", "2.bias.npy", "__spec__.npy", "x.npy", "a\x00b.npy",
          "\x1b[31mred\x1b[0m.npy", "\u202eevil.npy", "a/../../b.npy", "/abs.npy", "n" * 3000 + ".npy", "0.weight"]


def archive(draw):
    """A whole archive: valid entries, dropped ones, duplicates, hostile names, foreign arrays and
    random bytes, stored or deflated."""
    good = model_entries()
    out = []
    for name, data in good.items():
        if draw.integer(0, 5):
            out.append((name, data))
    for _ in range(draw.integer(0, 4)):
        name = draw.choice(_NAMES + ["k" + draw.choice(_TOKENS) + ".npy"])
        kind = draw.integer(0, 4)
        if kind == 0:
            data = draw.choice(list(good.values()))
        elif kind == 1:
            shape = tuple(draw.integer(0, 4) for _ in range(draw.integer(0, 3)))
            dtype = draw.choice(["<f8", ">f8", "<f4", "<f2", "<i8", "|u1", "|b1", "<c16", "|V3", "<U2"])
            data = _npy(np.zeros(shape, dtype=dtype))
        elif kind == 2:
            data = bytes(draw.integer(0, 255) for _ in range(draw.integer(0, 64)))
        elif kind == 3:
            data = _npy(np.frombuffer(_mutate_text(draw, json.dumps(
                {"format": "tinygrad-edu-model", "version": 1, "spec": MODEL_SPEC})).encode("utf-8", "replace"),
                dtype=np.uint8))
        else:
            data = b"\x93NUMPY\x01\x00" + bytes(draw.integer(0, 255) for _ in range(draw.integer(0, 40)))
        out.insert(draw.integer(0, len(out)), (name, data))
    compression = draw.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
    blob = bytearray(zip_bytes(out, compression))
    for _ in range(draw.integer(0, 2)):                 # and a flipped byte or two, anywhere
        if blob:
            blob[draw.integer(0, len(blob) - 1)] = draw.integer(0, 255)
    return bytes(blob)


IDX_CODES = [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]
_ITEMSIZE = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}


def idx_file(draw):
    """An IDX file: magic, type code, up to 70 dimensions (some huge), data of the right length give
    or take, trailing bytes, raw or gzipped (sometimes a cut gzip stream)."""
    magic = b"\x00\x00" if draw.integer(0, 9) else bytes([draw.integer(0, 255), draw.integer(0, 255)])
    code = draw.choice(IDX_CODES) if draw.integer(0, 5) else draw.integer(0, 255)
    ndim = draw.choice([0, 1, 2, 3, 3, 4, 32, 33, 64, 65, 70, 255]) if draw.integer(0, 2) == 0 else draw.integer(0, 4)
    dims = [draw.choice([0, 1, 2, 3, 5, 28, 2 ** 31, 2 ** 32 - 1]) if draw.integer(0, 3) == 0 else draw.integer(1, 3)
            for _ in range(min(ndim, 70))]
    header = magic + bytes([code, ndim]) + b"".join(struct.pack(">I", d) for d in dims[:ndim])
    if draw.integer(0, 9) == 0:
        header = header[:draw.integer(0, len(header))]
    count = 1
    for d in dims[:ndim]:
        count *= d
    size = count * _ITEMSIZE.get(code, 1)
    size = min(size, 4096) + draw.choice([0, 0, 0, -1, 1, 7])
    data = header + bytes(draw.integer(0, 255) for _ in range(min(max(size, 0), 64))) + b"\x00" * max(size - 64, 0)
    if draw.boolean():
        data = gzip.compress(data)
        if draw.integer(0, 4) == 0:
            data = data[:draw.integer(0, len(data))]
        elif draw.integer(0, 4) == 0:
            data = data + bytes(draw.integer(0, 255) for _ in range(draw.integer(1, 8)))
    return data


def use_spec(spec):
    """Build what a spec that validated describes and run it once: what the spec accepts must work
    (a Softmax axis of 10**30 once passed the spec, then failed at the first forward)."""
    import nn
    import tinygrad_edu as te
    from nn.spec import parameter_shapes
    if sum(int(np.prod(shape)) for shape, _ in parameter_shapes(spec).values()) > 100_000:
        return                                      # valid, but too big to build in a test loop
    model = nn.from_spec(spec)
    setup = nn.build_training(spec, model=model)
    n_in = model.in_features or 3
    try:
        model(np.zeros((2, n_in)))
    except te.TinygradError:                        # our error: e.g. a Softmax axis a 2-D input lacks
        pass
    return setup


class RandomDraw:
    """The draw interface over random.Random, for the counting loop below."""

    def __init__(self, seed):
        self.r = random.Random(seed)

    def integer(self, lo, hi):
        return self.r.randint(lo, hi)

    def choice(self, seq):
        return self.r.choice(list(seq))

    def boolean(self):
        return self.r.random() < 0.5


def _count(n):
    """Run every loader on n cases each; print the cases tried and every foreign exception type."""
    import collections
    import os
    import tempfile
    import warnings
    import nn
    warnings.simplefilter("ignore")                 # zipfile warns about the duplicate names we write
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "case")
    loaders = {
        "spec JSON (nn.load_spec)": (spec_json, nn.load_spec, nn.SpecError),
        ".npy headers in a model archive (nn.load)": (npy_header_archive, nn.load, nn.LoadError),
        "whole archives (nn.load)": (archive, nn.load, nn.LoadError),
        "IDX files (nn.data.read_idx)": (idx_file, nn.data.read_idx, nn.LoadError),
    }
    for title, (make, load, ours) in loaders.items():
        escaped, refused, loaded, catch_all, unprintable = collections.Counter(), 0, 0, 0, 0
        for i in range(n):
            with open(path, "wb") as f:
                f.write(make(RandomDraw(i)))
            try:
                result = load(path)
                loaded += 1
                if load is nn.load_spec:
                    try:
                        use_spec(result)
                    except Exception as e:  # noqa: BLE001
                        escaped["after validation: " + type(e).__name__] += 1
            except ours as e:
                refused += 1
                catch_all += "cannot be parsed (" in str(e)          # nn.errors.parsing's generic message
                unprintable += not message_is_printable(str(e))
            except Exception as e:  # noqa: BLE001
                escaped[type(e).__name__] += 1
        print(f"{title}: {n} cases, {loaded} loaded, {refused} refused ({catch_all} by the catch-all wrapper, "
              f"{unprintable} with unprintable messages), {sum(escaped.values())} foreign exceptions "
              f"{dict(escaped)}")


def message_is_printable(text):
    """No control character but the newlines between a LoadError's problems, no line over 2,500 characters."""
    return all(ch == "\n" or (ch.isprintable() and ch not in "\u2028\u2029") for ch in text) \
        and max(map(len, text.split("\n"))) <= 2500


if __name__ == "__main__":
    import sys
    _count(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
