#!/usr/bin/env python3
"""Converts a PyTorch ACNet state_dict into a checkpoint that `acnet export` fuses and verifies.

Our trainer already names tensors the PyTorch way (module path + parameter name), and its ACB is
the official ACNet block, so a PyTorch model with the same module nesting as one of our registry
architectures (Sources/ACTraining/Models, e.g. `fashion_micro`, `fashion_net`, `cifar_quick`,
`resnet20`) has the same keys: `0.0.square_conv.weight`, `0.0.square_bn.running_var`,
`0.0.ver_conv.weight`, `0.0.hor_bn.bias`, …, `8.weight`. This helper

  * reads the state_dict from a .safetensors file (no PyTorch needed) or a torch.save file
    (.pt/.pth/.th, needs PyTorch; `{"state_dict": …}` / `{"model": …}` wrappers are unwrapped),
  * drops BatchNorm `num_batches_tracked` counters and a DistributedDataParallel `module.` prefix,
  * maps already-fused blocks (the official implementation's deploy form: one `fused_conv` with
    weight and bias per block) onto the plain model's conv + identity BatchNorm
    (γ = 1, β = bias, running mean 0, running variance 1 − 1e-5, so γ/√(var + eps) = 1 up to
    float rounding; a variance of exactly 1 with mean 0 reads as "never trained" to the exporter),
    all blocks or none,
  * writes safetensors with the metadata `acnet export` reads (model name, ACB on/off,
    normalisation, labels, input shape, dataset directory for the verification).

It does not check the keys against the architecture: `acnet export` does, and refuses a
checkpoint with a missing tensor, an unexpected tensor or a tensor of the wrong shape, naming it.
All tensors must be float32 (the counters aside).

Example (a model trained in PyTorch, saved with `torch.save(model.state_dict(), "model.pt")`):

  python3 scripts/pytorch_to_acnet.py model.pt --model fashion_micro -o model.safetensors \\
      --mean 0.2860406 --std 0.35302424 --data /usr/share/datasets/fashion-mnist
  acnet export model.safetensors --out model.acnb
"""
import argparse
import json
import math
import struct
import sys

# The registry's input shape, dataset normalisation and labels per architecture.
FASHION = ([1, 28, 28], [0.2860], [0.3530],
           ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"])
CIFAR = ([3, 32, 32], [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616],
         ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"])
MODELS = {"fashion_net": FASHION, "fashion_micro": FASHION, "lenet5_bn": FASHION, "cifar_quick": CIFAR,
          "vgg16": CIFAR, "resnet20": CIFAR, "resnet56": CIFAR, "resnet110": CIFAR}
EPS = 1e-5


class ConversionError(Exception):
    pass


def read_safetensors(path):
    """{name: (dtype, shape, bytes)} of a safetensors file, with its bounds checked."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ConversionError(f"{path}: {len(data)} bytes is too short for a safetensors file")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ConversionError(f"{path}: header length {n} runs past the end of the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError as e:
        raise ConversionError(f"{path}: the header is not JSON ({e})") from None
    body = data[8 + n:]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        start, end = t["data_offsets"]
        size = {"F32": 4, "I64": 8, "F64": 8, "F16": 2, "BF16": 2, "I32": 4}.get(t["dtype"])
        if size is None:
            raise ConversionError(f"tensor '{name}': dtype {t['dtype']} is not supported")
        if not 0 <= start <= end <= len(body) or end - start != size * math.prod(t["shape"]):
            raise ConversionError(f"tensor '{name}': data_offsets {t['data_offsets']} do not fit shape {t['shape']} {t['dtype']}")
        out[name] = (t["dtype"], list(t["shape"]), body[start:end])
    return out


def read_torch(path):
    import torch  # only for torch.save files
    obj = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    out = {}
    for name, t in obj.items():
        if not isinstance(t, torch.Tensor):
            raise ConversionError(f"entry '{name}' is not a tensor ({type(t).__name__})")
        if t.dtype == torch.float32:
            out[name] = ("F32", list(t.shape), t.contiguous().numpy().astype("<f4").tobytes())
        elif t.dtype == torch.int64:
            out[name] = ("I64", list(t.shape), t.contiguous().numpy().astype("<i8").tobytes())
        else:
            out[name] = (str(t.dtype), list(t.shape), b"")
    return out


def f32(values):
    return struct.pack(f"<{len(values)}f", *values)


def convert(tensors, model):
    """Our checkpoint's tensors {name: (shape, F32 bytes)} from a PyTorch state_dict."""
    if any(k.startswith("module.") for k in tensors):
        tensors = {k[len("module."):] if k.startswith("module.") else k: v for k, v in tensors.items()}
    tensors = {k: v for k, v in tensors.items() if not k.endswith(".num_batches_tracked")}
    fused = sorted(k[:-len(".fused_conv.weight")] for k in tensors if k.endswith(".fused_conv.weight"))
    unfused = sorted(k[:-len(".square_conv.weight")] for k in tensors if k.endswith(".square_conv.weight"))
    if fused and unfused:
        raise ConversionError(f"mixed checkpoint: fused blocks {fused} and unfused blocks {unfused}; "
                              "fuse all ACBs or none")
    out = {}
    for name, (dtype, shape, raw) in tensors.items():
        if dtype != "F32":
            raise ConversionError(f"tensor '{name}': dtype {dtype}, expected float32")
        out[name] = (shape, raw)
    for block in fused:
        w_shape, w = out.pop(f"{block}.fused_conv.weight")
        if f"{block}.fused_conv.bias" not in out:
            raise ConversionError(f"fused block '{block}': tensor '{block}.fused_conv.bias' is missing")
        b_shape, b = out.pop(f"{block}.fused_conv.bias")
        if len(w_shape) != 4 or b_shape != [w_shape[0]]:
            raise ConversionError(f"fused block '{block}': weight {w_shape} and bias {b_shape} do not form a convolution")
        # The plain model names conv + BatchNorm `P.0` / `P.1` inside `Sequential(conv, bn, relu)`
        # (fashion_net, cifar_quick, …; the ACB form's block is `P.0`) or `P.conv` / `P.bn` (ResNets).
        if model.startswith("resnet"):
            conv, bn = f"{block}.conv", f"{block}.bn"
        elif block.endswith(".0"):
            conv, bn = block, block[:-2] + ".1"
        else:
            raise ConversionError(f"fused block '{block}' is not where {model} has an ACB")
        o = w_shape[0]
        out[f"{conv}.weight"] = (w_shape, w)
        out[f"{bn}.weight"] = ([o], f32([1.0] * o))
        out[f"{bn}.bias"] = ([o], b)
        out[f"{bn}.running_mean"] = ([o], f32([0.0] * o))
        out[f"{bn}.running_var"] = ([o], f32([1.0 - EPS] * o))
    return out, not fused


def write_checkpoint(path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        shape, raw = tensors[name]
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog="See the module docstring for the key layout.")
    ap.add_argument("state_dict", help=".safetensors, or a torch.save file (.pt/.pth/.th; needs PyTorch)")
    ap.add_argument("--model", required=True, choices=sorted(MODELS), help="our registry architecture")
    ap.add_argument("-o", "--out", required=True, help="checkpoint to write (.safetensors)")
    ap.add_argument("--mean", help="per-channel mean, comma-separated (default: the registry's)")
    ap.add_argument("--std", help="per-channel std, comma-separated (default: the registry's)")
    ap.add_argument("--labels", help="class names, comma-separated (default: the registry's)")
    ap.add_argument("--data", help="dataset directory `acnet export` verifies on (else pass --data to it)")
    args = ap.parse_args(argv)
    shape, mean, std, labels = MODELS[args.model]
    mean = [float(v) for v in args.mean.split(",")] if args.mean else mean
    std = [float(v) for v in args.std.split(",")] if args.std else std
    labels = args.labels.split(",") if args.labels else labels
    if len(mean) != shape[0] or len(std) != shape[0]:
        raise ConversionError(f"--mean/--std need {shape[0]} values for {args.model}")
    try:
        tensors = read_safetensors(args.state_dict) if args.state_dict.endswith(".safetensors") else read_torch(args.state_dict)
    except OSError as e:
        raise ConversionError(f"cannot read {args.state_dict}: {e}") from None
    out, acb = convert(tensors, args.model)
    recipe = {"model": args.model, "acb": acb, "augmentation": {"horizontalFlip": False, "padding": 0},
              "batchSize": 128, "biasLearningRateMultiplier": 1, "epochs": 0, "labelSmoothing": 0,
              "learningRate": 0.1, "momentum": 0.9, "schedule": "cosine", "seed": 1, "stepGamma": 0.1,
              "stepMilestones": [], "validationCount": 0, "warmupEpochs": 0, "weightDecay": 0,
              "weightDecayOnAll": True}
    metadata = {"format": "acnet-trainer-checkpoint-1", "recipe": json.dumps(recipe), "epoch": "0", "iteration": "0",
                "best_validation_accuracy": "0", "normalization": json.dumps({"mean": mean, "std": std}),
                "labels": json.dumps(labels), "input_shape": json.dumps(shape), "history": "[]",
                "source": f"converted from a PyTorch state_dict ({args.state_dict}) by scripts/pytorch_to_acnet.py"}
    if args.data:
        metadata["data"] = args.data
    write_checkpoint(args.out, out, metadata)
    print(f"wrote {args.out}: {len(out)} tensors, {args.model} ({'ACB' if acb else 'fused'} form)")


if __name__ == "__main__":
    try:
        main()
    except ConversionError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
