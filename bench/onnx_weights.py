#!/usr/bin/env python3
"""Extract the conv/linear parameters of a gen_models.py ONNX model (../shared/bench) into a
safetensors file that `acnet bench --arch NAME --weights FILE` assigns to BenchmarkModels'
layers, so our runtime runs on exactly the weights the peers run on.

Walks the graph's nodes in order and, for every Conv (group 1) and Gemm (alpha = beta = 1,
transB = 1, i.e. y = x·Wᵀ + b with W [O, F]), writes its weight and bias as tensors
"NNN.weight" / "NNN.bias" (NNN = layer number in graph order, 000 first). A BatchNormalization
that directly follows a Conv (and is that conv's only consumer) is folded into it; gen_models.py
emits none (its ResNets have BN folded already), but the rule keeps the script honest for other
exports. Any other node carrying initializers (or a grouped conv, a Gemm with other attributes)
is an error: the script never silently drops weights. The order is gen_models.py's layer order,
which BenchmarkModels follows too (in a ResNet basic block: conv1, conv2, projection shortcut).

Usage: onnx_weights.py MODEL.onnx OUT.safetensors [--model NAME]
Needs numpy and onnx (the peers' venv has both). No safetensors package needed: the format is
an 8-byte little-endian header length, a JSON header, then the raw little-endian data.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def extract(model):
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i).astype(np.float32) for i in g.initializer}
    consumers = {}
    for n in g.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    used = set()
    layers = []  # (node name, op, W, B)
    for n in g.node:
        if n.op_type == "Conv":
            at = attrs(n)
            if at.get("group", 1) != 1:
                raise SystemExit(f"{n.name}: grouped Conv (group={at['group']}) is not supported")
            W = inits[n.input[1]]
            if W.ndim != 4:
                raise SystemExit(f"{n.name}: Conv weight of rank {W.ndim}")
            B = inits[n.input[2]] if len(n.input) > 2 and n.input[2] else np.zeros(W.shape[0], np.float32)
            used.update(n.input[1:3])
            nxt = consumers.get(n.output[0], [])
            if len(nxt) == 1 and nxt[0].op_type == "BatchNormalization":
                bn = nxt[0]
                scale, shift, mean, var = (inits[k] for k in bn.input[1:5])
                eps = attrs(bn).get("epsilon", 1e-5)
                s = scale / np.sqrt(var + eps)
                W = W * s[:, None, None, None]
                B = (B - mean) * s + shift
                used.update(bn.input[1:5])
            layers.append((n.name, "conv", W, B))
        elif n.op_type == "Gemm":
            at = attrs(n)
            if at.get("alpha", 1.0) != 1.0 or at.get("beta", 1.0) != 1.0 or at.get("transA", 0) != 0 \
                    or at.get("transB", 0) != 1:
                raise SystemExit(f"{n.name}: only Gemm with alpha=beta=1, transA=0, transB=1 is supported, got {at}")
            W = inits[n.input[1]]
            B = inits[n.input[2]] if len(n.input) > 2 and n.input[2] else np.zeros(W.shape[0], np.float32)
            used.update(n.input[1:3])
            layers.append((n.name, "linear", W, B))
        elif n.op_type == "BatchNormalization":
            if not used.issuperset(n.input[1:5]):
                raise SystemExit(f"{n.name}: BatchNormalization not directly after a Conv cannot be folded")
        else:
            carried = [i for i in n.input if i in inits]
            if carried:
                raise SystemExit(f"{n.name}: {n.op_type} carries initializers {carried}; not supported")
    left = set(inits) - used
    if left:
        raise SystemExit(f"initializers not assigned to any layer: {sorted(left)}")
    for name, kind, W, B in layers:
        if B.shape != (W.shape[0],):
            raise SystemExit(f"{name}: bias shape {B.shape} for weight {W.shape}")
    return layers


def write_safetensors(path, tensors, metadata):
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for key, arr in tensors:
        b = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[key] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)  # keep the data 8-byte aligned
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("onnx")
    ap.add_argument("out")
    ap.add_argument("--model", help="name stored in the metadata (default: the graph name)")
    a = ap.parse_args()
    m = onnx.load(a.onnx)
    layers = extract(m)
    tensors = []
    for i, (_, _, W, B) in enumerate(layers):
        tensors += [(f"{i:03d}.weight", W), (f"{i:03d}.bias", B)]
    meta = {"format": "acnet-bench-weights-1", "model": a.model or m.graph.name,
            "source": os.path.abspath(a.onnx), "layers": json.dumps([n for n, _, _, _ in layers])}
    write_safetensors(a.out, tensors, meta)
    n_params = sum(W.size + B.size for _, _, W, B in layers)
    print(f"{a.onnx}: {len(layers)} layers ({sum(k == 'conv' for _, k, _, _ in layers)} conv, "
          f"{sum(k == 'linear' for _, k, _, _ in layers)} linear), {n_params:,} parameters -> {a.out}")


if __name__ == "__main__":
    sys.exit(main())
