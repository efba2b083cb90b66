"""Preprocessing and classify: bit-identical tensors to the C classifier's code, the same
labels and probabilities as `acnet classify`, and image errors."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest

import acnet
from conftest import SAMPLES, read_f32


def c_tensors(ref_tool, model_path, paths, tmp_path, shape):
    out = tmp_path / "tensors.f32"
    subprocess.run([ref_tool, "preprocess", model_path, out] + list(paths), check=True)
    return read_f32(out, (len(paths),) + tuple(shape))


def test_preprocess_is_bit_identical_to_c(model, model_path, ref_tool, varied_images, tmp_path):
    paths = SAMPLES + varied_images
    expected = c_tensors(ref_tool, model_path, paths, tmp_path, model.input_shape[1:])
    got = model.preprocess(paths)
    assert got.dtype == np.float32 and got.shape == expected.shape and got.flags.c_contiguous
    for path, g, e in zip(paths, got, expected):
        assert np.array_equal(g, e), f"{path.name}: max |diff| {np.abs(g - e).max()}"


def cli_classify(cli, model_path, paths, top):
    out = subprocess.run([cli, "classify", model_path, "--json", "--top", str(top)] + [str(p) for p in paths],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def test_classify_agrees_with_the_cli(model, model_path, cli, varied_images):
    paths = SAMPLES + varied_images
    expected = cli_classify(cli, model_path, paths, 10)
    with acnet.Session(model, max_batch=8) as session:
        got = session.classify(paths, top=10)
    assert len(got) == len(paths)
    for path, mine, theirs in zip(paths, got, expected):
        assert theirs["path"] == str(path)
        ref = theirs["predictions"]
        assert mine[0].index == ref[0]["index"] and mine[0].label == ref[0]["label"], path.name
        probability = {p["index"]: p["probability"] for p in ref}
        for prediction in mine:  # the CLI prints 6 decimals of a float32 softmax
            assert prediction.probability == pytest.approx(probability[prediction.index], abs=2e-6)
        assert sum(p.probability for p in mine) == pytest.approx(1.0, abs=1e-9)


def test_samples_are_classified_as_their_names(model):
    with acnet.Session(model, max_batch=4) as session:
        results = session.classify(SAMPLES, top=1)
    names = [p.name.rsplit("-", 1)[0] for p in SAMPLES]
    predicted = [r[0].label.lower().replace("/", "-").replace(" ", "-") for r in results]
    assert sum(n == p for n, p in zip(names, predicted)) >= 18  # `acnet classify` gets 20/20


def test_classify_inputs(model):
    from PIL import Image

    path = SAMPLES[0]
    pixels = np.asarray(Image.open(path))  # 28 x 28 uint8, gray
    with acnet.Session(model) as session:
        by_path = session.classify(path, top=3)
        assert len(by_path) == 1 and len(by_path[0]) == 3
        assert session.classify([pixels], top=3) == by_path
        assert session.classify(pixels[:, :, None], top=3) == by_path
        assert session.classify(Image.open(path), top=3) == by_path
        rgb = np.repeat(pixels[:, :, None], 3, axis=2)  # gray as RGB -> the same Y
        assert session.classify(rgb, top=3) == by_path
        assert len(session.classify(SAMPLES[:3], top=100)[0]) == 10  # top is capped
        assert session.classify([], top=3) == []
        with pytest.raises(acnet.InvalidArgumentError):
            session.classify(path, top=0)


def test_image_errors(model, tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(SAMPLES[0].read_bytes()[:300])
    with acnet.Session(model) as session:
        with pytest.raises(acnet.ImageError, match="notes.jpg"):
            session.classify(text)
        with pytest.raises(acnet.ImageError, match="truncated.jpg"):
            session.classify(truncated)
        with pytest.raises(FileNotFoundError):
            session.classify(tmp_path / "missing.jpg")
        with pytest.raises(acnet.ImageError, match="directory"):
            session.classify(tmp_path)
        with pytest.raises(acnet.ImageError, match="limit"):
            session.classify(SAMPLES[0], max_pixels=100)
        with pytest.raises(acnet.ImageError, match="uint8"):
            session.classify(np.zeros((28, 28), np.float32))
        with pytest.raises(acnet.ImageError, match="shape"):
            session.classify(np.zeros((28, 28, 4), np.uint8))
        with pytest.raises(TypeError):
            session.classify(42)
        assert session.classify(SAMPLES[0])[0][0].label == "Ankle boot"  # still usable


def _crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli, reflected 0x82F63B78), as docs/FORMAT.md's header checksum."""
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    crc = 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _with_image_spec(source, target, order: int, mean, std):
    """A copy of a .acnb file with another channel order and mean/std in its header
    (docs/FORMAT.md: offsets 96, 104, 120) and the CRC-32C at offset 24 recomputed."""
    import struct

    data = bytearray(source.read_bytes())
    struct.pack_into("<I", data, 96, order)
    struct.pack_into("<4f", data, 104, *mean, 0.0)
    struct.pack_into("<4f", data, 120, *std, 1.0)
    struct.pack_into("<I", data, 24, 0)
    struct.pack_into("<I", data, 24, _crc32c(bytes(data)))
    target.write_bytes(bytes(data))
    return target


@pytest.fixture(scope="session", params=["rgb", "bgr"])
def color_model(request, cli, tmp_path_factory):
    """A 3-channel image model: `acnet bench --arch cifar_quick` (random weights, fine for
    tensors) with an RGB or BGR input spec written into its header."""
    folder = tmp_path_factory.mktemp("color")
    bench = folder / "cifar_quick.acnb"
    subprocess.run([cli, "bench", "--arch", "cifar_quick", "--save-model", bench, "--warmup", "0",
                    "--iterations", "1"], check=True, capture_output=True)
    order = {"rgb": 1, "bgr": 2}[request.param]
    return _with_image_spec(bench, folder / f"{request.param}.acnb", order, (0.49, 0.48, 0.45), (0.25, 0.24, 0.26))


def test_color_model_preprocess_is_bit_identical_to_c(color_model, ref_tool, varied_images, tmp_path):
    with acnet.Model(color_model) as m:
        assert m.input_spec.channels == 3 and m.input_spec.channel_order == color_model.stem
        assert m.input_spec.mean == pytest.approx((0.49, 0.48, 0.45))
        paths = SAMPLES[:4] + varied_images
        expected = c_tensors(ref_tool, color_model, paths, tmp_path, m.input_shape[1:])
        got = m.preprocess(paths)
    for path, g, e in zip(paths, got, expected):
        assert np.array_equal(g, e), f"{path.name}: max |diff| {np.abs(g - e).max()}"


def test_color_model_classify_agrees_with_the_cli(color_model, cli, varied_images):
    paths = varied_images[:6]
    expected = cli_classify(cli, color_model, paths, 3)
    with acnet.Model(color_model) as m, acnet.Session(m, max_batch=4) as session:
        got = session.classify(paths, top=3)
    for mine, theirs in zip(got, expected):
        assert mine[0].index == theirs["predictions"][0]["index"]
        assert mine[0].probability == pytest.approx(theirs["predictions"][0]["probability"], abs=2e-6)
