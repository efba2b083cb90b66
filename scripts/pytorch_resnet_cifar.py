#!/usr/bin/env python3
"""The real-schedule CIFAR-10 ResNet recipe of docs/RESULTS.md in PyTorch: the independent
cross-check of our trainer (issue 22). Not run in CI (needs PyTorch, ~1.5-3 h per run on 2 CPU
cores).

    python scripts/pytorch_resnet_cifar.py train --data DIR --out DIR [--acb] [--seed S]
        [--epochs 30] [--depth 20] [--threads 2] [--limit N]
    python scripts/pytorch_resnet_cifar.py eval --data DIR --checkpoint OURS.safetensors

DIR is an image folder with train/<class>/*.jpg and test/<class>/*.jpg (CIFAR-10 as JPEG q75,
as `acnet train` reads it); classes are the sorted folder names.

`train` uses the recipe of `scripts/study.sh` stage r20real, written out here rather than
shared code: SGD momentum 0.9 (not Nesterov), batch 128, peak lr 0.1 with a 1-epoch linear
warm-up then cosine to 0 per iteration, weight decay 5e-4 on every parameter, 2x lr on biases
and BatchNorm beta, pad-4 zero-padded random crop (on raw pixels) + horizontal flip, per-channel
mean/std of the training split, 5000 training images held out for validation (the best epoch on
them is kept), PyTorch-default initialisation, BatchNorm eps 1e-5 / momentum 0.1. The ACB
variant replaces every 3x3 conv by square 3x3 + ver 3x1 + hor 1x3 convs, each with its
BatchNorm, summed, the three branch BatchNorms' gamma starting at 1/3. Module names equal the
names of ACTraining's checkpoints (`stem.conv.weight`, `stage2.0.conv1.square_bn.running_var`,
...), so the two trainers' checkpoints load into each other's models. It writes OUT/log.csv
(one row per epoch), OUT/best.safetensors (the best-validation weights and BN statistics) and
OUT/result.json (best validation accuracy, its epoch, that model's test accuracy, seconds);
OUT/last.pt after every epoch, from which a restart resumes.

`eval` loads a checkpoint written by `acnet train` (or by `train` above) into the same
PyTorch model, with the normalisation stored in its metadata, and prints its CIFAR-10 test
accuracy: the number `acnet eval` reports on the exported .acnb must match it.
"""
import argparse
import csv
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

# ---------------------------------------------------------------------------------------------
# Model (names as ACTraining's Sources/ACTraining/Models/Models.swift `resnetCifar`)


class ConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride, padding):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x))


class ACB(nn.Module):
    """Asymmetric Convolution Block (Ding et al. 2019), K = 3, padding 1: square KxK, ver Kx1
    (padding (1, 0)) and hor 1xK (padding (0, 1)) convs on the same input, each with its
    BatchNorm, summed."""

    def __init__(self, cin, cout, stride, gamma):
        super().__init__()
        self.square_conv = nn.Conv2d(cin, cout, (3, 3), stride, (1, 1), bias=False)
        self.ver_conv = nn.Conv2d(cin, cout, (3, 1), stride, (1, 0), bias=False)
        self.hor_conv = nn.Conv2d(cin, cout, (1, 3), stride, (0, 1), bias=False)
        self.square_bn, self.ver_bn, self.hor_bn = (nn.BatchNorm2d(cout) for _ in range(3))
        for bn in (self.square_bn, self.ver_bn, self.hor_bn):
            nn.init.constant_(bn.weight, gamma)

    def forward(self, x):
        return (self.square_bn(self.square_conv(x)) + self.ver_bn(self.ver_conv(x))
                + self.hor_bn(self.hor_conv(x)))


def conv3(cin, cout, stride, acb):
    return ACB(cin, cout, stride, 1.0 / 3) if acb else ConvBN(cin, cout, 3, stride, 1)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, acb):
        super().__init__()
        self.conv1 = conv3(cin, cout, stride, acb)
        self.conv2 = conv3(cout, cout, 1, acb)
        self.shortcut = ConvBN(cin, cout, 1, stride, 0) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.conv2(F.relu(self.conv1(x)))
        return F.relu(y + (self.shortcut(x) if self.shortcut is not None else x))


class ResNetCifar(nn.Module):
    def __init__(self, depth, acb):
        super().__init__()
        n = (depth - 2) // 6
        self.stem = conv3(3, 16, 1, acb)
        cin = 16
        for si, width in enumerate((16, 32, 64)):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(cin, width, 2 if si > 0 and b == 0 else 1, acb))
                cin = width
            setattr(self, f"stage{si + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = self.stage3(self.stage2(self.stage1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---------------------------------------------------------------------------------------------
# Data


def load_split(root, split, limit=None):
    """uint8 images [N, 32, 32, 3] and int64 labels [N] of DIR/split/<class>/*.jpg."""
    classes = sorted(d for d in os.listdir(os.path.join(root, split)) if not d.startswith("."))
    paths, labels = [], []
    for i, c in enumerate(classes):
        folder = os.path.join(root, split, c)
        names = sorted(f for f in os.listdir(folder) if f.lower().endswith((".jpg", ".jpeg")))
        paths += [os.path.join(folder, f) for f in names]
        labels += [i] * len(names)
    images = np.stack([np.asarray(Image.open(p).convert("RGB")) for p in paths])
    return images, np.asarray(labels, dtype=np.int64), classes


def normalise(batch_u8, mean, std):
    """[B, H, W, 3] uint8 → [B, 3, H, W] float32, (x/255 − mean)/std."""
    x = torch.from_numpy(batch_u8).permute(0, 3, 1, 2).float().div_(255)
    return (x - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


def augment(batch_u8, rng, pad=4):
    """Zero-padded random crop and horizontal flip on raw pixels (torchvision's RandomCrop with
    padding, RandomHorizontalFlip)."""
    b, h, w, _ = batch_u8.shape
    padded = np.zeros((b, h + 2 * pad, w + 2 * pad, 3), dtype=np.uint8)
    padded[:, pad:pad + h, pad:pad + w] = batch_u8
    out = np.empty_like(batch_u8)
    dy = rng.integers(0, 2 * pad + 1, b)
    dx = rng.integers(0, 2 * pad + 1, b)
    flip = rng.integers(0, 2, b).astype(bool)
    for i in range(b):
        crop = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = crop[:, ::-1] if flip[i] else crop
    return out


@torch.no_grad()
def accuracy(model, images, labels, mean, std, batch=500):
    model.eval()
    correct = 0
    for i in range(0, len(images), batch):
        logits = model(normalise(images[i:i + batch], mean, std))
        correct += (logits.argmax(1).numpy() == labels[i:i + batch]).sum()
    return correct / len(images)


# ---------------------------------------------------------------------------------------------
# safetensors (F32 only: what both trainers write)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        if t["dtype"] != "F32":
            raise ValueError(f"{path}: {name}: dtype {t['dtype']} (only F32 is read)")
        a, b = t["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(raw, dtype="<f4", count=(b - a) // 4,
                                                       offset=8 + n + a).copy()).view(t["shape"])
    return tensors, meta


def write_safetensors(path, tensors, meta):
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().float().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(tmp, path)


def model_state(model):
    """Parameters and BN running statistics (no num_batches_tracked), by name."""
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


# ---------------------------------------------------------------------------------------------


def lr_at(it, base, total, warmup):
    if it < warmup:
        return base * (it + 1) / warmup
    t = min(it - warmup, total - warmup) / max(total - warmup, 1)
    return 0.5 * base * (1 + math.cos(math.pi * t))


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    images, labels, classes = load_split(args.data, "train")
    test_x, test_y, _ = load_split(args.data, "test")
    perm = np.random.default_rng(args.seed).permutation(len(images))
    val_idx, train_idx = perm[:args.validation], perm[args.validation:]
    if args.limit:
        train_idx = train_idx[:args.limit]
    tx, ty, vx, vy = images[train_idx], labels[train_idx], images[val_idx], labels[val_idx]
    pixels = tx.reshape(-1, 3).astype(np.float64) / 255
    mean = torch.tensor(pixels.mean(0), dtype=torch.float32)
    std = torch.tensor(pixels.std(0), dtype=torch.float32)

    model = ResNetCifar(args.depth, args.acb)
    is_bias = lambda name: name.endswith(".bias")  # conv/linear biases and BatchNorm beta
    groups = [{"params": [p for n, p in model.named_parameters() if not is_bias(n)], "lr_scale": 1.0},
              {"params": [p for n, p in model.named_parameters() if is_bias(n)], "lr_scale": 2.0}]
    opt = torch.optim.SGD(groups, lr=args.lr, momentum=0.9, weight_decay=args.weight_decay)
    per_epoch = math.ceil(len(tx) / args.batch_size)
    total, warmup = per_epoch * args.epochs, round(args.warmup * per_epoch)

    start_epoch, best, history, seconds = 0, {"val": -1.0}, [], 0.0
    last = os.path.join(args.out, "last.pt")
    if os.path.exists(last):
        state = torch.load(last, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start_epoch, best, history, seconds = state["epoch"], state["best"], state["history"], state["seconds"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resuming after epoch {start_epoch}", flush=True)

    recipe = {"model": f"resnet{args.depth}", "acb": args.acb, "epochs": args.epochs, "batchSize": args.batch_size,
              "learningRate": args.lr, "warmupEpochs": args.warmup, "weightDecay": args.weight_decay, "seed": args.seed,
              "trainer": f"PyTorch {torch.__version__}, {args.threads} threads"}
    for epoch in range(start_epoch, args.epochs):
        t0 = time.time()
        model.train()
        rng = np.random.default_rng([args.seed, epoch])
        order = rng.permutation(len(tx))
        loss_sum, correct = 0.0, 0
        for b in range(per_epoch):
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            x = normalise(augment(tx[idx], rng), mean, std)
            y = torch.from_numpy(ty[idx])
            lr = lr_at(epoch * per_epoch + b, args.lr, total, warmup)
            for g in opt.param_groups:
                g["lr"] = lr * g["lr_scale"]
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
        seconds += time.time() - t0
        val = accuracy(model, vx, vy, mean, std)
        row = {"epoch": epoch + 1, "lr": lr, "train_loss": loss_sum / len(tx), "train_acc": correct / len(tx),
               "val_acc": val, "seconds": round(seconds, 1)}
        history.append(row)
        print(json.dumps(row), flush=True)
        if val > best["val"]:
            best = {"val": val, "epoch": epoch + 1}
            meta = {"format": "pytorch-resnet-cifar-1", "recipe": json.dumps(recipe),
                    "normalization": json.dumps({"mean": mean.tolist(), "std": std.tolist()}),
                    "labels": json.dumps(classes), "input_shape": "[3,32,32]", "epoch": str(epoch + 1)}
            write_safetensors(os.path.join(args.out, "best.safetensors"), model_state(model), meta)
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1, "best": best,
                    "history": history, "seconds": seconds, "torch_rng": torch.get_rng_state()}, last + ".tmp")
        os.replace(last + ".tmp", last)
        with open(os.path.join(args.out, "log.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(history[0]))
            w.writeheader()
            w.writerows(history)

    tensors, _ = read_safetensors(os.path.join(args.out, "best.safetensors"))
    model.load_state_dict(tensors, strict=False)
    test = accuracy(model, test_x, test_y, mean, std)
    result = {"best_validation_accuracy": best["val"], "best_epoch": best["epoch"], "test_accuracy": test,
              "train_seconds": round(seconds, 1), "recipe": recipe}
    with open(os.path.join(args.out, "result.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))


def evaluate(args):
    torch.set_num_threads(args.threads)
    tensors, meta = read_safetensors(args.checkpoint)
    acb = any(".square_conv." in k for k in tensors)
    n = 1 + max(int(k.split(".")[1]) for k in tensors if k.startswith("stage1."))
    model = ResNetCifar(6 * n + 2, acb)
    want = model_state(model)
    ours = {k: v for k, v in tensors.items() if not k.startswith("optimizer.")}
    missing, extra = sorted(set(want) - set(ours)), sorted(set(ours) - set(want))
    bad = [k for k in want if k in ours and tuple(want[k].shape) != tuple(ours[k].shape)]
    if missing or extra or bad:
        sys.exit(f"{args.checkpoint}: missing {missing[:5]}, unexpected {extra[:5]}, mis-shaped {bad[:5]}")
    model.load_state_dict(ours, strict=False)
    norm = json.loads(meta["normalization"])
    mean, std = torch.tensor(norm["mean"]), torch.tensor(norm["std"])
    test_x, test_y, _ = load_split(args.data, "test")
    acc = accuracy(model, test_x, test_y, mean, std)
    print(json.dumps({"checkpoint": args.checkpoint, "model": f"resnet{6 * n + 2}", "acb": acb,
                      "test_images": len(test_y), "test_accuracy": acc}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--acb", action="store_true")
    t.add_argument("--depth", type=int, default=20, choices=[20, 32, 44, 56, 110])
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--lr", type=float, default=0.1)
    t.add_argument("--warmup", type=float, default=1.0)
    t.add_argument("--weight-decay", type=float, default=5e-4)
    t.add_argument("--validation", type=int, default=5000)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--limit", type=int, help="use only N training images (a quick check)")
    e = sub.add_parser("eval")
    e.add_argument("--data", required=True)
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    (train if args.command == "train" else evaluate)(args)


if __name__ == "__main__":
    main()
