#!/usr/bin/env python3
"""Writes a broken copy of a safetensors state_dict for scripts/ci_onnx.sh's refusal checks.

Usage: ci_onnx_edit_state.py SRC DST EDIT, EDIT one of: missing (drops 3.0.ver_bn.running_var),
extra (adds 3.0.extra_conv.weight), shape (5.0.hor_conv.weight declared [64, 32, 3, 1]),
mixed (block 0.0 in the fused layout, the others not).
"""
import json
import struct
import sys

src, dst, edit = sys.argv[1:]
data = open(src, "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
body = data[8 + n:]
t = {k: (dict(v), body[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in header.items() if k != "__metadata__"}
if edit == "missing":
    del t["3.0.ver_bn.running_var"]
elif edit == "extra":
    t["3.0.extra_conv.weight"] = t["3.0.ver_conv.weight"]
elif edit == "shape":
    t["5.0.hor_conv.weight"][0]["shape"] = [64, 32, 3, 1]
elif edit == "mixed":
    t["0.0.fused_conv.weight"] = t.pop("0.0.square_conv.weight")
    t["0.0.fused_conv.bias"] = t["0.0.square_bn.bias"]
else:
    sys.exit(f"unknown edit {edit}")
out, blobs, off = {}, [], 0
for k, (v, b) in sorted(t.items()):
    out[k] = {"dtype": v["dtype"], "shape": v["shape"], "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
hb = json.dumps(out).encode()
hb += b" " * (-len(hb) % 8)
open(dst, "wb").write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))
