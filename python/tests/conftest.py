"""Shared fixtures.  Run from the repository (they find models/, examples/ and the CLI there):

    ACNET_PREFIX=/tmp/acnet ACNET_CLI=.build/release/acnet python -m pytest python/tests

ACNET_PREFIX (a `make install` prefix) builds tests/ref_acnet.c, the C-side oracle;
ACNET_CLI is the `acnet` tool (default .build/release/acnet).  Tests needing one of them are
skipped when it is missing, unless ACNET_TEST_STRICT=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "fashion-mnist-acnet.acnb"
SAMPLES = sorted((REPO / "examples" / "images").glob("*.jpg"))


def missing(reason: str):
    if os.environ.get("ACNET_TEST_STRICT") == "1":
        pytest.fail(f"{reason} (ACNET_TEST_STRICT=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def model_path() -> Path:
    if not MODEL.exists():
        missing(f"{MODEL} is missing")
    return MODEL


@pytest.fixture()
def model(model_path):
    import acnet

    with acnet.Model(model_path) as m:
        yield m


@pytest.fixture(scope="session")
def cli() -> Path:
    path = Path(os.environ.get("ACNET_CLI", REPO / ".build" / "release" / "acnet"))
    if not os.access(path, os.X_OK):
        missing(f"the acnet CLI {path} is missing (swift build -c release --product acnet)")
    return path


@pytest.fixture(scope="session")
def ref_tool(tmp_path_factory) -> Path:
    """tests/ref_acnet.c built against ACNET_PREFIX with examples/classify/image.c."""
    prefix = os.environ.get("ACNET_PREFIX")
    if not prefix or not (Path(prefix) / "lib" / "libacnet.so").exists():
        missing("ACNET_PREFIX (a `make install` prefix) is not set")
    cc = shutil.which(os.environ.get("CC", "cc"))
    if cc is None:
        missing("no C compiler")
    out = tmp_path_factory.mktemp("ref") / "ref_acnet"
    classify = REPO / "examples" / "classify"
    cmd = [cc, "-O2", "-std=c99", "-Wall", "-Werror", f"-I{prefix}/include", f"-I{classify}",
           str(Path(__file__).parent / "ref_acnet.c"), str(classify / "image.c"),
           f"-L{prefix}/lib", "-lacnet", "-ljpeg", "-lm", f"-Wl,-rpath,{prefix}/lib", "-o", str(out)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"building ref_acnet failed:\n{' '.join(cmd)}\n{result.stderr}")
    return out


@pytest.fixture(scope="session")
def varied_images(tmp_path_factory) -> list[Path]:
    """JPEGs that exercise decoding and resampling: colour (4:2:0 and 4:4:4), gray, larger and
    smaller than 28 x 28, non-square, progressive, CMYK; made from the sample images."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("varied")
    rng = np.random.default_rng(7)
    paths = []
    for k, sample in enumerate(SAMPLES[::4]):
        gray = np.asarray(Image.open(sample).convert("L"), dtype=np.float64)
        tint = rng.uniform(0.4, 1.0, size=3)
        rgb = Image.fromarray(np.clip(gray[:, :, None] * tint + rng.normal(0, 6, gray.shape + (3,)), 0, 255)
                              .astype(np.uint8), "RGB")
        variants = [
            ("big420.jpg", rgb.resize((97, 61), Image.BICUBIC), dict(quality=90, subsampling=2)),
            ("small444.jpg", rgb.resize((13, 9), Image.BICUBIC), dict(quality=95, subsampling=0)),
            ("gray-wide.jpg", rgb.convert("L").resize((60, 20)), dict(quality=85)),
            ("prog.jpg", rgb.resize((45, 45)), dict(quality=80, progressive=True)),
            ("cmyk.jpg", rgb.resize((31, 40)).convert("CMYK"), dict(quality=92)),
            ("odd.jpg", rgb.resize((29, 113)), dict(quality=75, subsampling=1)),
        ]
        for name, image, options in variants:
            path = folder / f"{k}-{name}"
            image.save(path, "JPEG", **options)
            paths.append(path)
    return paths


def read_f32(path: Path, shape) -> np.ndarray:
    return np.fromfile(path, dtype=np.float32).reshape(shape)
