"""Saving and loading: bit-exact round trips, atomic writes, and bad files (truncated, corrupted,
pickled, foreign, forged, mismatched) refused with LoadError only."""
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from nn import io as nnio


def make_model(dtype=np.float64):
    return nn.Sequential(nn.Linear(2, 3, rng=0, dtype=dtype), nn.Tanh(), nn.Linear(3, 2, rng=1, dtype=dtype))


def assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert sa[key].dtype == sb[key].dtype
        assert sa[key].tobytes() == sb[key].tobytes()          # bit for bit


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_load_round_trip_is_bit_exact(tmp_path, dtype):
    model = make_model(dtype)
    model[0].weight.data[0, 0] = np.nextafter(dtype(1.0), dtype(2.0))      # awkward values survive too
    model[0].bias.data[1] = -0.0
    model[2].bias.data[0] = np.finfo(dtype).tiny / 2        # a subnormal
    path = tmp_path / "moons.npz"
    model.save(path)
    same = nn.load(path)
    assert_same_weights(model, same)
    assert same.to_spec() == model.to_spec()
    x = np.random.default_rng(0).standard_normal((5, 2)).astype(dtype)
    assert same(x).data.tobytes() == model(x).data.tobytes()
    assert nn.read_spec(path) == model.to_spec()


def test_the_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    path = tmp_path / "m.npz"
    model = make_model()
    nn.save(model, str(path))
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["0.bias", "0.weight", "2.bias", "2.weight", "__spec__"]
        meta = json.loads(data["__spec__"].tobytes().decode("utf-8"))
        np.testing.assert_array_equal(data["0.weight"], model[0].weight.data)
    assert meta == {"format": "tinygrad-edu-model", "version": 1, "spec": model.to_spec()}
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]            # no temporary file left behind


def test_mlp_and_single_layers_come_back_as_sequential(tmp_path):
    mlp = nn.MLP([2, 4, 1], activation="relu", output_activation="sigmoid", rng=0)
    mlp.save(tmp_path / "mlp.npz")
    back = nn.load(tmp_path / "mlp.npz")
    assert type(back) is nn.Sequential
    assert_same_weights(mlp, back)
    single = nn.Linear(3, 2, rng=0)
    single.save(tmp_path / "single.npz")
    back = nn.load(tmp_path / "single.npz")
    np.testing.assert_array_equal(back[0].weight.data, single.weight.data)


def test_save_can_store_a_full_training_spec(tmp_path):
    model = make_model()
    spec = {**model.to_spec(), "optimizer": {"type": "SGD", "lr": 0.5}, "training": {"epochs": 3}}
    model.save(tmp_path / "m.npz", spec=spec)
    assert nn.read_spec(tmp_path / "m.npz")["optimizer"] == {"type": "SGD", "lr": 0.5}
    wrong = {"layers": [{"type": "Linear", "in": 2, "out": 5}]}
    with pytest.raises(nn.SpecError, match="does not describe|describes parameters"):
        model.save(tmp_path / "x.npz", spec=wrong)


def test_an_interrupted_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    old = make_model()
    old.save(path)
    before = path.read_bytes()
    new = nn.MLP([2, 3, 2], rng=9)

    def crash(f, **arrays):
        f.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(nnio.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        new.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]
    monkeypatch.undo()
    assert_same_weights(nn.load(path), old)


def test_atomic_write_keeps_permissions(tmp_path):
    path = tmp_path / "m.npz"
    make_model().save(path)
    os.chmod(path, 0o640)
    make_model().save(path)
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_custom_modules_use_save_weights(tmp_path):
    class Net(nn.Module):
        def __init__(self, seed):
            self.a = nn.Linear(2, 2, rng=seed)
            self.w = nn.Parameter(np.random.default_rng(seed).standard_normal(3))

        def forward(self, x):
            return self.a(x)

    net = Net(0)
    with pytest.raises(nn.SpecError, match="save_weights"):
        net.save(tmp_path / "net.npz")
    nn.save_weights(net, tmp_path / "net.npz")
    other = nn.load_weights(Net(1), tmp_path / "net.npz")
    assert_same_weights(net, other)
    assert nn.read_spec(tmp_path / "net.npz") is None
    with pytest.raises(nn.LoadError, match="weights only"):
        nn.load(tmp_path / "net.npz")
    with pytest.raises(nn.LoadError, match="missing key"):
        nn.load_weights(make_model(), tmp_path / "net.npz")


# -- bad files --------------------------------------------------------------------------------------

def write_npz(path, arrays, meta=None, spec=None):
    """An archive like save() writes, with whatever entries we want."""
    if meta is None:
        meta = {"format": "tinygrad-edu-model", "version": 1, "spec": spec or make_model().to_spec()}
    entries = {"__spec__": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays}
    with open(path, "wb") as f:
        np.savez(f, **entries)


def good_arrays(dtype=np.float64):
    return {k: v.astype(dtype) for k, v in make_model().state_dict().items()}


def load_error(path):
    with pytest.raises(nn.LoadError) as info:
        nn.load(path)
    assert str(info.value).startswith(str(path))
    return str(info.value)


def test_mismatched_weights_are_all_listed_together(tmp_path):
    arrays = good_arrays()
    arrays["0.weight"] = np.zeros((3, 2))                   # wrong shape
    arrays["0.bias"] = arrays["0.bias"].astype(np.float32)  # wrong dtype
    del arrays["2.bias"]                                    # missing
    arrays["3.weight"] = np.zeros(1)                        # unexpected
    path = tmp_path / "bad.npz"
    write_npz(path, arrays)
    with pytest.raises(nn.LoadError) as info:
        nn.load(path)
    problems = info.value.problems
    assert len(problems) == 4
    text = str(info.value)
    for fragment in ("missing key(s): 2.bias", "unexpected key(s): 3.weight", "size mismatch for 0.weight",
                     "dtype mismatch for 0.bias: the file has float32"):
        assert fragment in text


def test_pickled_and_object_arrays_are_refused(tmp_path):
    path = tmp_path / "obj.npz"
    arrays = good_arrays()
    arrays["0.bias"] = np.array([object(), 1, 2], dtype=object)
    write_npz(path, arrays)
    assert "pickled array" in load_error(path)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    assert "pickle" in load_error(path)
    path = tmp_path / "single.npy"
    np.save(path, np.zeros(3))
    assert "single .npy array" in load_error(path)


def test_foreign_and_garbage_files_are_refused(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, W=np.zeros(3))
    assert "not a tinygrad-edu model file" in load_error(path)
    path = tmp_path / "garbage.npz"
    path.write_bytes(b"hello, world" * 10)
    assert "not a model archive" in load_error(path)
    path.write_bytes(b"")
    assert "not a model archive" in load_error(path)
    write_npz(path, good_arrays(), meta={"format": "something-else", "version": 1, "spec": None})
    assert "not a tinygrad-edu-model header" in load_error(path)
    write_npz(path, good_arrays(), meta={"format": "tinygrad-edu-model", "version": 7, "spec": None})
    assert "unsupported file version 7" in load_error(path)
    spec = make_model().to_spec()
    spec["layers"][1]["type"] = "Tanhh"
    write_npz(path, good_arrays(), spec=spec)
    assert "stored spec is invalid: layers[1].type" in load_error(path)
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing.npz")


def test_truncated_files_are_refused_at_every_length(tmp_path):
    path = tmp_path / "m.npz"
    make_model().save(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    for n in list(range(0, len(data), 37)) + [len(data) - 1]:
        cut.write_bytes(data[:n])
        load_error(cut)


def _forge_header(npy_bytes, new_shape):
    """The same .npy data with another shape written in its header (same header length)."""
    header_len = int.from_bytes(npy_bytes[8:10], "little")
    header = npy_bytes[10:10 + header_len].decode("latin1")
    start = header.index("'shape': (") + len("'shape': (")
    end = header.index(")", start)
    forged = header[:start] + ", ".join(map(str, new_shape)) + ("," if len(new_shape) == 1 else "") + header[end:]
    forged = forged.rstrip("\n").rstrip(" ")
    forged = forged + " " * (header_len - 1 - len(forged)) + "\n"
    assert len(forged) == header_len
    return npy_bytes[:10] + forged.encode("latin1") + npy_bytes[10 + header_len:]


def test_forged_headers_and_huge_declared_shapes_are_refused_without_allocating(tmp_path, monkeypatch):
    buf = io.BytesIO()
    np.save(buf, good_arrays()["0.weight"])
    forged = _forge_header(buf.getvalue(), (2, 3 * 10 ** 9))        # 48 GB if anyone believed it
    path = tmp_path / "forged.npz"
    write_npz(path, {k: v for k, v in good_arrays().items() if k != "0.weight"})
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("0.weight.npy", forged)
    calls = []
    real = np.lib.format.read_array
    monkeypatch.setattr(np.lib.format, "read_array", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert "size mismatch for 0.weight" in load_error(path)
    assert calls == [1]                                 # only the spec entry was ever read
    # the right shape in the header, but the entry is shorter than it declares
    short = buf.getvalue()[:-8]
    write_npz(path, {k: v for k, v in good_arrays().items() if k != "0.weight"})
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("0.weight.npy", short)
    assert "truncated or corrupted" in load_error(path)


def test_corrupted_data_fails_the_crc_check(tmp_path):
    path = tmp_path / "m.npz"
    make_model().save(path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("2.weight.npy")
    # the last data byte of the stored entry: local header (30 bytes + name + extra) + file size
    with open(path, "rb") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = (int.from_bytes(f.read(2), "little") for _ in range(2))
    last = info.header_offset + 30 + name_len + extra_len + info.compress_size - 1
    data[last] ^= 0x55
    path.write_bytes(bytes(data))
    assert "corrupted" in load_error(path)


def test_duplicate_entries_are_refused(tmp_path):
    path = tmp_path / "dup.npz"
    make_model().save(path)
    buf = io.BytesIO()
    np.save(buf, np.zeros((2, 3)))
    with pytest.warns(UserWarning):                     # zipfile itself warns about the duplicate
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("0.weight.npy", buf.getvalue())
    assert "twice" in load_error(path)


# -- fuzzing ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "m.npz"
    make_model().save(path)
    return path.read_bytes()


@settings(max_examples=150)
@given(st.binary(max_size=400))
def test_fuzzed_bytes_raise_only_load_errors(tmp_path_factory, data):
    path = tmp_path_factory.getbasetemp() / "fuzz_bytes.npz"
    path.write_bytes(data)
    with pytest.raises(nn.LoadError):
        nn.load(path)


@settings(max_examples=250)
@given(st.data())
def test_mutated_archives_load_identically_or_raise_load_errors(tmp_path_factory, saved_bytes, data):
    blob = bytearray(saved_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(blob) - 1))
        blob[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        blob = blob[:data.draw(st.integers(0, len(blob)))]
    path = tmp_path_factory.getbasetemp() / "fuzz_mutated.npz"
    path.write_bytes(bytes(blob))
    try:
        model = nn.load(path)
    except nn.LoadError:
        return
    assert_same_weights(model, make_model())            # a change that loads must not alter any weight
