#!/usr/bin/env python3
"""Compares an imported .acnb (through the C library, libacnet) with ONNX Runtime on every image
of an image-folder test split (<class>/*.jpg), feeding both the same tensor: the JPEG decoded by
Pillow, RGB/255 normalised with --mean/--std (images must already have the model's H×W).

Prints max|Δ| of the logits against the bound 1e-4·(1+max|y|), argmax agreement and both
accuracies. Needs numpy, pillow and onnxruntime.

Usage: scripts/onnx_compare_dataset.py LIBACNET.so MODEL.acnb MODEL.onnx DIR/test \
           --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 [--limit N]
"""
import argparse
import ctypes
import os

import numpy as np
import onnxruntime as ort
from PIL import Image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lib"), ap.add_argument("acnb"), ap.add_argument("onnx"), ap.add_argument("data")
    ap.add_argument("--mean", default="0,0,0"), ap.add_argument("--std", default="1,1,1")
    ap.add_argument("--limit", type=int)
    a = ap.parse_args()
    mean = np.array([float(v) for v in a.mean.split(",")], np.float32).reshape(3, 1, 1)
    std = np.array([float(v) for v in a.std.split(",")], np.float32).reshape(3, 1, 1)

    lib = ctypes.CDLL(a.lib)
    model, session = ctypes.c_void_p(), ctypes.c_void_p()
    if lib.acnet_model_load_file(a.acnb.encode(), ctypes.byref(model)) != 0:
        raise SystemExit(f"cannot load {a.acnb}")
    if lib.acnet_session_create(model, None, None, ctypes.c_size_t(0), ctypes.byref(session)) != 0:
        raise SystemExit("cannot create a session")
    lib.acnet_session_run.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
                                      ctypes.c_void_p, ctypes.c_size_t]
    sess = ort.InferenceSession(a.onnx, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    classes = sorted(d for d in os.listdir(a.data) if os.path.isdir(os.path.join(a.data, d)))
    files = [(os.path.join(a.data, c, f), i) for i, c in enumerate(classes)
             for f in sorted(os.listdir(os.path.join(a.data, c))) if f.lower().endswith((".jpg", ".jpeg"))]
    if a.limit:
        files = files[:: max(1, len(files) // a.limit)][: a.limit]
    xs = np.stack([((np.asarray(Image.open(p).convert("RGB"), np.float32).transpose(2, 0, 1) / 255) - mean) / std
                   for p, _ in files]).astype(np.float32)
    labels = np.array([l for _, l in files])
    ref = np.concatenate([sess.run(None, {name: xs[i:i + 500]})[0] for i in range(0, len(xs), 500)])
    k = ref.shape[1]
    ours = np.zeros_like(ref)
    out = np.zeros(k, np.float32)
    for i in range(len(xs)):
        x = np.ascontiguousarray(xs[i])
        if lib.acnet_session_run(session, 1, x.ctypes.data, x.size, out.ctypes.data, k) != 0:
            raise SystemExit(f"acnet_session_run failed on {files[i][0]}")
        ours[i] = out
    diff, maxy = float(np.abs(ours - ref).max()), float(np.abs(ref).max())
    agree = int((ours.argmax(1) == ref.argmax(1)).sum())
    print(f"{len(xs)} images of {a.data}: max|Δ| {diff:.3g} (max|y| {maxy:.3g}, bound {1e-4 * (1 + maxy):.3g}), "
          f"argmax agreement {agree}/{len(xs)}; accuracy acnet {np.mean(ours.argmax(1) == labels):.4f}, "
          f"onnxruntime {np.mean(ref.argmax(1) == labels):.4f}")


if __name__ == "__main__":
    main()
