"""Image decoding and preprocessing, identical to `acnet classify` and examples/classify.

The project defines preprocessing once, in C (Sources/CJPEG/acj.c, ``acj_preprocess``; copied in
examples/classify/image.c).  This module reproduces it operation by operation in float64 numpy
arithmetic, so the tensors are bit-identical, not merely close:

1. Decode to 8-bit pixels, HWC.  JPEGs are decoded by Pillow's libjpeg-turbo with the settings
   the C shim uses (integer IDCT, fancy upsampling, no DCT scaling).  For a one-channel model a
   YCbCr or RGB JPEG is decoded straight to grayscale by libjpeg (``draft("L")``: the Y
   channel, exactly as the shim's ``out_color_space = JCS_GRAYSCALE``); CMYK/YCCK JPEGs go
   through Pillow's CMYK -> RGB (``round((255 - C)(255 - K) / 255)``, Adobe-inverted files
   handled) and RGB -> L (``(19595 R + 38470 G + 7471 B + 32768) >> 16``): the same integer
   formulas as the shim.  A gray image for a three-channel model is replicated into R = G = B.
   The channels are swapped for a BGR model.  EXIF orientation is not applied (as in C).
2. Stretch to the model's H x W, separably: per axis, area averaging when shrinking (output
   pixel o covers input interval [o n/m, (o+1) n/m), weights = overlap / n), bilinear with
   half-pixel centres when enlarging (s = ((2o + 1) n - m) / 2m, clamped to [0, n - 1]), identity
   when the size matches.  Each output value is accumulated horizontally first, then
   vertically, tap by tap in ascending input order, in float64, as the C loops do.
3. ``x[c, y, x] = float32((v / 255 - mean[c]) / std[c])`` in float64.

Other formats Pillow reads (PNG, BMP, ...) are accepted too; the C classifier reads JPEG only.
Alpha is dropped (not composited), palettes are expanded.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

# The C shim's default pixel limit (ACJ_DEFAULT_MAX_PIXELS): 64 Mi pixels, checked from the
# header before the pixels are decoded.
DEFAULT_MAX_PIXELS = 64 * 1024 * 1024


class ImageError(ValueError):
    """An image that cannot be decoded or used (unreadable, corrupt, truncated, too large, or an
    array with the wrong shape/dtype).  A missing file raises FileNotFoundError instead."""


@functools.lru_cache(maxsize=64)
def _taps(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output index o in 0..m-1 (input length n): the contributing input indices and their
    weights, padded to the widest tap count with weight 0 (adding 0.0 to a non-negative sum
    leaves it unchanged, so the padding does not alter the result).  Ports acj_taps_init and
    acj_taps_weight with the same float64 operations."""
    if m == n:
        index, weight = np.arange(m, dtype=np.intp)[:, None], np.ones((m, 1), dtype=np.float64)
        index.flags.writeable = weight.flags.writeable = False
        return index, weight
    rows: list[list[tuple[int, float]]] = []
    for o in range(m):
        if m < n:  # area averaging
            lo, hi = o * n, (o + 1) * n
            first, last = lo // m, (hi - 1) // m
            taps = []
            for i in range(first, last + 1):
                a, b = i * m, i * m + m
                taps.append((i, (min(b, hi) - max(a, lo)) / n))  # exact ints; one division
        else:  # bilinear, half-pixel centres
            s = ((2.0 * o + 1.0) * n - m) / (2.0 * m)
            s = min(max(s, 0.0), float(n - 1))
            first = int(s)
            last = first + 1 if first + 1 < n else first
            if last == first:
                taps = [(first, 1.0)]
            else:
                f = s - first
                taps = [(first, 1.0 - f), (last, f)]
        rows.append(taps)
    width = max(len(t) for t in rows)
    index = np.zeros((m, width), dtype=np.intp)
    weight = np.zeros((m, width), dtype=np.float64)
    for o, taps in enumerate(rows):
        for k, (i, w) in enumerate(taps):
            index[o, k], weight[o, k] = i, w
        index[o, len(taps):] = taps[0][0]
    index.flags.writeable = weight.flags.writeable = False  # cached: shared by every call
    return index, weight


def preprocess_pixels(pixels: np.ndarray, height: int, width: int, mean, std) -> np.ndarray:
    """HWC uint8 pixels -> C x height x width float32 (acj_preprocess)."""
    h, w, channels = pixels.shape
    ix, wx = _taps(w, width)
    iy, wy = _taps(h, height)
    p = pixels.transpose(2, 0, 1)  # C, h, w; uint8 (converted exactly per tap, not as a whole)
    rows = np.zeros((channels, h, width), dtype=np.float64)
    for k in range(ix.shape[1]):  # horizontal, tap by tap
        rows += wx[:, k] * p[:, :, ix[:, k]]
    acc = np.zeros((channels, height, width), dtype=np.float64)
    for k in range(iy.shape[1]):  # vertical
        acc += wy[:, k][:, None] * rows[:, iy[:, k], :]
    mean64 = np.asarray(mean, dtype=np.float32).astype(np.float64)[:channels, None, None]
    std64 = np.asarray(std, dtype=np.float32).astype(np.float64)[:channels, None, None]
    return ((acc / 255.0 - mean64) / std64).astype(np.float32)


def _rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    """libjpeg's fixed-point Y (acj: acj_rgb_to_gray), on H x W x 3 uint8."""
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((19595 * r + 38470 * g + 7471 * b + 32768) >> 16).astype(np.uint8)[..., None]


def _from_array(array: np.ndarray, channels: int) -> np.ndarray:
    if array.dtype != np.uint8:
        raise ImageError(f"image arrays must be uint8 pixels (0-255), not {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3) or array.shape[0] < 1 or array.shape[1] < 1:
        raise ImageError(f"image arrays must be H x W or H x W x C (C = 1 or 3, RGB), not shape {array.shape}")
    if array.shape[2] == channels:
        return array
    if channels == 1:
        return _rgb_to_gray(array)
    return np.repeat(array, 3, axis=2)


def _pil():
    try:
        from PIL import Image
    except ImportError as error:  # pragma: no cover - Pillow is a dependency
        raise ImportError("acnet: classifying image files needs Pillow (pip install pillow)") from error
    return Image


def _from_pil(image: Any, channels: int, max_pixels: int, name: str) -> np.ndarray:
    Image = _pil()
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(f"{name}: image is {width} x {height} = {width * height} pixels, "
                         f"above the limit of {max_pixels} pixels")
    try:
        if image.format == "JPEG" and channels == 1 and image.mode == "RGB":
            image.draft("L", None)  # libjpeg's own grayscale output, as the C shim
        image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"{name}: cannot decode: {error}") from error
    mode = image.mode
    if mode == "CMYK":
        image = image.convert("RGB")
    elif mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        raise ImageError(f"{name}: {mode} images (more than 8 bits per channel) are not supported")
    elif mode not in ("L", "RGB"):
        image = image.convert("RGB")  # palette, RGBA (alpha dropped), LA, YCbCr, 1-bit ...
    pixels = np.asarray(image, dtype=np.uint8)
    return _from_array(pixels, channels)


def load_pixels(item: Any, channels: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """A path, PIL image or uint8 array -> H x W x channels uint8 (channels 1, or 3 as RGB)."""
    if isinstance(item, np.ndarray):
        return _from_array(item, channels)
    if isinstance(item, (str, bytes, os.PathLike)):
        Image = _pil()
        name = os.fsdecode(item)
        if os.path.isdir(item):
            raise ImageError(f"{name}: is a directory")
        with open(item, "rb") as file:  # FileNotFoundError / PermissionError pass through
            try:
                image = Image.open(file)
            except (OSError, SyntaxError, ValueError) as error:  # incl. UnidentifiedImageError
                raise ImageError(f"{name}: not an image Pillow can read ({error})") from error
            with image:
                return _from_pil(image, channels, max_pixels, name)
    if hasattr(item, "mode") and hasattr(item, "size") and hasattr(item, "load"):
        return _from_pil(item, channels, max_pixels, "image")
    raise TypeError(f"expected a path, a PIL image or a uint8 numpy array, not {type(item).__name__}")
