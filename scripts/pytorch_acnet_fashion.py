#!/usr/bin/env python3
"""Trains a training-form ACNet in PyTorch and writes the fixtures of `acnet import` / `acnet export`.

The network is `fashion_micro` of our model registry (Sources/ACTraining/Models/Models+Micro.swift):
1×28×28 → ACB(1→16) ReLU, maxpool 2 → ACB(16→32) ReLU → ACB(32→32) ReLU, maxpool 2 → ACB(32→64)
ReLU → global average pool → Linear 64→10. Each ACB is the block of the ACNet paper in the
official implementation's layout: `square_conv` 3×3, `ver_conv` 3×1, `hor_conv` 1×3 (no bias), each
followed by its BatchNorm (`square_bn`, `ver_bn`, `hor_bn`), summed. The module nesting matches
the registry model, so the state_dict keys are ours (`0.0.square_conv.weight`, …, `8.weight`).

It trains STEPS steps (SGD, batch 128) on Fashion-MNIST (Debian's dataset-fashion-mnist) so the
running statistics of all 12 BatchNorms are real, reports test accuracy, and writes:

  OUT/fashion_micro_acb.onnx          the model in eval mode, UNFUSED (Conv + BatchNormalization
                                       per branch, Add): `acnet import` must fuse each ACB into one
                                       convolution (Tests/ACImportTests/Fixtures/onnx/…)
  OUT/fashion_micro_acb.safetensors   model.state_dict() as PyTorch writes it (num_batches_tracked
                                       included), the input of scripts/pytorch_to_acnet.py
  OUT/fashion_micro_fused.safetensors the same weights after the official "switch to deploy"
                                       fusion: one `fused_conv` (weight, bias) per block
  OUT/fashion_micro_reference.json    PyTorch's test accuracy and the logits of the first 8 test images

The input of the ONNX graph is the normalised image x = (pixel/255 − 0.2860406) / 0.35302424.
Not run in CI (needs PyTorch); CI uses the committed outputs.

Usage: python scripts/pytorch_acnet_fashion.py OUT_DIR [--steps 400] [--data /usr/share/datasets/fashion-mnist]
"""
import argparse
import gzip
import json
import os
import struct

import numpy as np
import torch
import torch.nn as nn

MEAN, STD = 0.2860406, 0.35302424


class ACBlock(nn.Module):
    """K×K + K×1 + 1×K convolutions, each with its BatchNorm, summed (padding p ≥ K/2 form)."""

    def __init__(self, cin, cout, k=3, padding=1):
        super().__init__()
        c = k // 2
        assert padding >= c
        self.square_conv = nn.Conv2d(cin, cout, (k, k), padding=padding, bias=False)
        self.square_bn = nn.BatchNorm2d(cout)
        self.ver_conv = nn.Conv2d(cin, cout, (k, 1), padding=(padding, padding - c), bias=False)
        self.ver_bn = nn.BatchNorm2d(cout)
        self.hor_conv = nn.Conv2d(cin, cout, (1, k), padding=(padding - c, padding), bias=False)
        self.hor_bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return (self.square_bn(self.square_conv(x)) + self.ver_bn(self.ver_conv(x))
                + self.hor_bn(self.hor_conv(x)))

    def fused(self):
        """(weight, bias) of the one K×K convolution equal to the block in eval mode."""
        def fold(conv, bn):
            t = bn.weight / torch.sqrt(bn.running_var + bn.eps)
            return conv.weight * t.reshape(-1, 1, 1, 1), bn.bias - bn.running_mean * t
        w, b = fold(self.square_conv, self.square_bn)
        wv, bv = fold(self.ver_conv, self.ver_bn)
        wh, bh = fold(self.hor_conv, self.hor_bn)
        k = w.shape[2]
        w = w.clone()
        w[:, :, :, k // 2:k // 2 + 1] += wv
        w[:, :, k // 2:k // 2 + 1, :] += wh
        return w, b + bv + bh


def fashion_micro():
    def cbr(cin, cout):
        return nn.Sequential(ACBlock(cin, cout), nn.ReLU())
    return nn.Sequential(cbr(1, 16), nn.MaxPool2d(2), cbr(16, 32), cbr(32, 32), nn.MaxPool2d(2), cbr(32, 64),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def save_safetensors(path, tensors):
    """A safetensors file (F32 / I64), keys sorted, as safetensors.torch.save_file writes it."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = tensors[name].detach().cpu().numpy()
        dtype = {np.float32: "F32", np.int64: "I64"}[a.dtype.type]
        b = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(1)
    torch.set_num_threads(2)

    def load(split):
        x = read_idx(f"{args.data}/{split}-images-idx3-ubyte.gz").astype(np.float32)
        y = read_idx(f"{args.data}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
        return torch.from_numpy((x / 255 - MEAN) / STD).unsqueeze(1), torch.from_numpy(y)
    xtr, ytr = load("train")
    xte, yte = load("t10k")

    model = fashion_micro()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=args.steps)
    g = torch.Generator().manual_seed(1)
    model.train()
    for step in range(args.steps):
        idx = torch.randint(0, len(xtr), (128,), generator=g)
        loss = nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step}: loss {loss.item():.4f}")

    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(xte[i:i + 1000]) for i in range(0, len(xte), 1000)])
    accuracy = (logits.argmax(1) == yte).float().mean().item()
    print(f"test accuracy (PyTorch, unfused, eval): {accuracy:.4f}")

    onnx_path = f"{args.out}/fashion_micro_acb.onnx"
    # Constant folding off: the TorchScript exporter would otherwise fold each BatchNorm into its
    # convolution itself; the fixture is meant to carry the training form.
    torch.onnx.export(model, (xte[:1],), onnx_path, input_names=["input"], output_names=["logits"],
                      opset_version=13, do_constant_folding=False, dynamo=False)
    import onnx
    ops = [n.op_type for n in onnx.load(onnx_path).graph.node]
    print("onnx ops:", {o: ops.count(o) for o in sorted(set(ops))})
    assert ops.count("BatchNormalization") == 12 and ops.count("Conv") == 12, ops

    state = model.state_dict()
    save_safetensors(f"{args.out}/fashion_micro_acb.safetensors", state)
    fused = {}
    for name, m in model.named_modules():
        if isinstance(m, ACBlock):
            w, b = m.fused()
            fused[f"{name}.fused_conv.weight"], fused[f"{name}.fused_conv.bias"] = w, b
    fused["8.weight"], fused["8.bias"] = state["8.weight"], state["8.bias"]
    save_safetensors(f"{args.out}/fashion_micro_fused.safetensors", fused)
    with open(f"{args.out}/fashion_micro_reference.json", "w") as f:
        json.dump({"steps": args.steps, "test_accuracy": accuracy, "mean": [MEAN], "std": [STD],
                   "first8_logits": logits[:8].tolist(), "first8_labels": yte[:8].tolist()}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
