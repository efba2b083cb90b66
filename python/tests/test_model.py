"""acnet.Model: metadata, load errors, mapping by path, lifetime."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import acnet


def mapped(path: Path) -> bool:
    """Whether this process maps `path` (the model is loaded with mmap, not read)."""
    target = str(path.resolve())
    return any(line.rstrip().endswith(target) for line in open("/proc/self/maps"))


def test_version_matches_library():
    assert acnet.__version__ == acnet.library_version()
    header = (Path(__file__).resolve().parents[2] / "include" / "acnet.h").read_text()
    parts = [header.split(f"#define ACNET_VERSION_{p} ")[1].split()[0] for p in ("MAJOR", "MINOR", "PATCH")]
    assert acnet.__version__ == ".".join(parts)


def test_metadata(model):
    assert model.input_shape == (1, 1, 28, 28)
    assert model.output_shape == (1, 10)
    assert len(model.labels) == 10 and model.labels[9] == "Ankle boot"
    spec = model.input_spec
    assert (spec.channels, spec.height, spec.width, spec.channel_order) == (1, 28, 28, "gray")
    assert len(spec.mean) == len(spec.std) == 1 and 0 < spec.mean[0] < 1 and spec.std[0] > 0
    assert "fashion-mnist-acnet.acnb" in repr(model)


def test_load_maps_the_file(model_path):
    model = acnet.Model(model_path)
    assert mapped(model_path)
    model.close()
    assert not mapped(model_path)


def test_missing_file_raises_io_error(tmp_path):
    with pytest.raises(acnet.ModelIOError) as info:
        acnet.Model(tmp_path / "nope.acnb")
    assert info.value.status == acnet.ERROR_IO
    assert info.value.status_name == "ACNET_ERROR_IO"
    assert info.value.message  # acnet_last_error_message()
    assert "nope.acnb" in str(info.value)


@pytest.mark.parametrize("damage", ["empty", "truncated", "flipped", "garbage", "directory"])
def test_bad_files_raise_format_errors(model_path, tmp_path, damage):
    data = bytearray(model_path.read_bytes())
    path = tmp_path / "bad.acnb"
    if damage == "empty":
        data = b""
    elif damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped":
        data[len(data) // 2] ^= 0x40
    elif damage == "garbage":
        data = bytes(range(256)) * 40
    if damage == "directory":
        path.mkdir()
    else:
        path.write_bytes(bytes(data))
    with pytest.raises(acnet.AcnetError) as info:
        acnet.Model(path)
    assert info.value.status in (acnet.ERROR_IO, acnet.ERROR_BAD_FORMAT, acnet.ERROR_CHECKSUM_MISMATCH)
    assert info.value.message
    if damage == "flipped":
        assert isinstance(info.value, (acnet.ChecksumMismatchError, acnet.BadFormatError))


def test_path_types(model_path):
    for p in (str(model_path), model_path, bytes(model_path)):
        with acnet.Model(p) as m:
            assert m.output_shape == (1, 10)
    with pytest.raises(TypeError):
        acnet.Model(3)


def test_closed_model_refuses_sessions(model_path):
    with acnet.Model(model_path) as m:
        pass
    assert m.closed
    m.close()  # idempotent
    assert m.labels[0] == "T-shirt/top"  # metadata stays readable
    with pytest.raises(acnet.InvalidArgumentError, match="closed"):
        acnet.Session(m)


def test_close_with_live_session_defers_the_free(model_path):
    model = acnet.Model(model_path)
    session = acnet.Session(model)
    x = np.zeros((1, 1, 28, 28), np.float32)
    before = session.run(x)
    model.close()
    assert mapped(model_path)  # still in use by the session
    np.testing.assert_array_equal(session.run(x), before)
    session.close()
    assert not mapped(model_path)


def test_sessions_keep_the_model_alive(model_path):
    session = acnet.Session(acnet.Model(model_path))  # no other reference to the Model
    assert session.run(np.zeros((1, 1, 28, 28), np.float32)).shape == (1, 10)


def test_library_is_self_contained():
    """The wheel's libacnet.so needs no Swift runtime library."""
    out = subprocess.run(["ldd", acnet.library_path()], capture_output=True, text=True).stdout
    assert "libacnet" not in out and "not found" not in out
    assert "swift" not in out.lower()
