#!/usr/bin/env python3
"""Writes the ONNX fixtures of `acnet import` (Tests/ACImportTests/Fixtures/onnx).

Needs the `onnx` and `numpy` packages (scripts/ci_onnx.sh installs pinned versions). Every graph
is small (one op or pattern and its attributes), with seeded random weights, and BatchNorm
statistics far from the identity so that a wrong fold shows. `manifest.tsv` lists each file with
what `acnet import` must do: `ok` (import, and match ONNX Runtime within 1e-4·(1+max|y|)) or
`error` plus a text the error message must contain.

Usage: python3 scripts/onnx_fixtures.py [OUTDIR]
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ACImportTests", "Fixtures", "onnx")
rng = np.random.default_rng(20)
manifest = []


def w(*shape, scale=None):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    s = scale if scale is not None else 1.0 / np.sqrt(fan_in)
    return (rng.standard_normal(shape) * s).astype(np.float32)


class G:
    """A tiny graph builder: nodes, initializers, one input and one output."""

    def __init__(self, c=3, h=8, w_=8, batch="N"):
        self.nodes, self.inits, self.n = [], [], 0
        self.input = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, c, h, w_])

    def name(self, p):
        self.n += 1
        return f"{p}{self.n}"

    def init(self, arr, p="w"):
        n = self.name(p)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def node(self, op, inputs, nout=1, name=None, **attrs):
        nm = name or self.name(op.lower() + "_")
        outs = [f"{nm}_out{i}" if i else f"{nm}_out" for i in range(nout)]
        self.nodes.append(helper.make_node(op, inputs, outs, name=nm, **attrs))
        return outs[0] if nout == 1 else outs

    def conv(self, x, cin, cout, k, bias=True, group=1, **attrs):
        kh, kw = (k, k) if isinstance(k, int) else k
        ins = [x, self.init(w(cout, cin // group, kh, kw))]
        if bias:
            ins.append(self.init(w(cout, scale=0.5), "b"))
        return self.node("Conv", ins, group=group, **attrs)

    def bn(self, x, c, eps=1e-5):
        ins = [x, self.init(rng.uniform(0.5, 1.5, c).astype(np.float32), "gamma"),
               self.init(w(c, scale=0.5), "beta"), self.init(w(c, scale=0.5), "mean"),
               self.init(rng.uniform(0.5, 2.0, c).astype(np.float32), "var")]
        return self.node("BatchNormalization", ins, epsilon=eps)

    def save(self, name, out, expect="ok", message="", opset=13, args=""):
        y = helper.make_tensor_value_info(out, TensorProto.FLOAT, None)
        graph = helper.make_graph(self.nodes, name, [self.input], [y], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        onnx.save(model, os.path.join(OUT, name + ".onnx"))
        manifest.append((name, expect, message, args))
        return model


def head(g, x, c, classes=10):
    """GlobalAveragePool → Flatten → Gemm(transB)."""
    p = g.node("GlobalAveragePool", [x])
    f = g.node("Flatten", [p], axis=1)
    return g.node("Gemm", [f, g.init(w(classes, c)), g.init(w(classes, scale=0.5), "b")], transB=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    # Fuzzer findings (fuzz_*.onnx, committed by hand with their manifest rows) are kept.
    kept = []
    if os.path.exists(os.path.join(OUT, "manifest.tsv")):
        kept = [line.rstrip("\n").split("\t") for line in open(os.path.join(OUT, "manifest.tsv"))
                if line.startswith("fuzz_")]
    for f in os.listdir(OUT):
        if f.endswith(".onnx") and not f.startswith("fuzz_"):
            os.remove(os.path.join(OUT, f))

    # --- Conv attributes ---
    g = G(3, 9, 10)
    g.save("conv_pads_strides", g.conv("x", 3, 8, 3, pads=[1, 0, 2, 1], strides=[2, 1]))
    g = G(4, 12, 12)
    g.save("conv_dilation", g.conv("x", 4, 8, 3, pads=[2, 2, 2, 2], dilations=[2, 2]))
    g = G(8, 8, 8)
    g.save("conv_group2", g.conv("x", 8, 12, 3, group=2, pads=[1, 1, 1, 1], bias=False))
    g = G(16, 10, 10)
    y = g.conv("x", 16, 16, 3, group=16, pads=[1, 1, 1, 1], strides=[2, 2])
    g.save("conv_depthwise_s2", g.conv(y, 16, 16, 5, group=16, pads=[2, 2, 2, 2]))
    for mode in ["SAME_UPPER", "SAME_LOWER", "VALID"]:
        g = G(3, 10, 9)
        g.save(f"conv_autopad_{mode.lower()}", g.conv("x", 3, 6, 3, auto_pad=mode, strides=[2, 2]))
    g = G(3, 8, 8)
    g.save("conv_rect_kernel", g.conv("x", 3, 5, (1, 5), pads=[0, 2, 0, 2]))

    # --- BatchNorm folding, activations, residuals ---
    g = G(3, 8, 8)
    y = g.node("Relu", [g.bn(g.conv("x", 3, 8, 3, bias=False, pads=[1, 1, 1, 1]), 8)])
    g.save("conv_bn_relu_nobias", g.node("Relu", [g.bn(g.conv(y, 8, 8, 3, pads=[1, 1, 1, 1]), 8, eps=1e-3)]))
    g = G(3, 8, 8)
    lo, hi = g.init(np.array(0, np.float32), "lo"), g.init(np.array(6, np.float32), "hi")
    y = g.conv("x", 3, 8, 3, pads=[1, 1, 1, 1])
    g.save("clip_relu6", g.node("Clip", [g.bn(y, 8), lo, hi]))
    g = G(3, 8, 8)
    g.save("clip_relu6_opset6", g.node("Clip", [g.conv("x", 3, 8, 3, pads=[1, 1, 1, 1])], min=0.0, max=6.0), opset=6)
    g = G(8, 8, 8)
    y = g.node("Relu", [g.bn(g.conv("x", 8, 8, 3, bias=False, pads=[1, 1, 1, 1]), 8)])
    y = g.bn(g.conv(y, 8, 8, 3, bias=False, pads=[1, 1, 1, 1]), 8)
    g.save("residual_block", g.node("Relu", [g.node("Add", ["x", y])]))
    g = G(8, 8, 8)
    a = g.node("Relu", [g.conv("x", 8, 8, 1)])
    b = g.node("Relu", [g.conv("x", 8, 8, 3, pads=[1, 1, 1, 1])])
    g.save("add_two_tensors", g.node("Relu", [g.node("Add", [a, b])]))
    g = G(8, 6, 6)
    g.save("bn_on_input", g.node("Relu", [g.bn("x", 8)]))

    # --- Pooling ---
    g = G(4, 7, 7)
    g.save("maxpool_ceil", g.node("MaxPool", ["x"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1))
    g = G(4, 8, 8)
    g.save("maxpool_floor", g.node("MaxPool", ["x"], kernel_shape=[2, 2], strides=[2, 2]))
    for cip in [0, 1]:
        g = G(4, 7, 7)
        g.save(f"avgpool_ceil_cip{cip}", g.node("AveragePool", ["x"], kernel_shape=[3, 3], strides=[2, 2],
                                                  pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=cip))
    g = G(4, 8, 8)
    g.save("avgpool_same_upper", g.node("AveragePool", ["x"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"))

    # --- Heads: Flatten, Reshape, Gemm, MatMul ---
    g = G(3, 8, 8)
    g.save("gap_flatten_gemm", head(g, g.node("Relu", [g.conv("x", 3, 16, 3, pads=[1, 1, 1, 1])]), 16))
    g = G(3, 6, 6)
    y = g.node("Flatten", [g.conv("x", 3, 4, 3)], axis=1)
    g.save("flatten_gemm_notrans", g.node("Gemm", [y, g.init(w(64, 7)), g.init(w(7, scale=0.5), "b")]))
    g = G(3, 6, 6)
    y = g.node("Flatten", [g.node("GlobalAveragePool", [g.conv("x", 3, 8, 3)])])
    g.save("gemm_alpha_beta_pow2", g.node("Gemm", [y, g.init(w(5, 8)), g.init(w(1, 5), "b")], transB=1, alpha=2.0, beta=0.5))
    g = G(3, 6, 6)
    p = g.node("GlobalAveragePool", [g.conv("x", 3, 8, 3)])
    r = g.node("Reshape", [p, g.init(np.array([-1, 8], np.int64), "shape")])
    y = g.node("Add", [g.node("MatMul", [r, g.init(w(8, 6))]), g.init(w(6, scale=0.5), "b")])
    g.save("reshape_matmul_add", g.node("Softmax", [y], axis=1))
    g = G(3, 6, 6)
    p = g.node("GlobalAveragePool", [g.conv("x", 3, 8, 3)])
    r = g.node("Reshape", [p, g.init(np.array([0, -1], np.int64), "shape")])
    g.save("reshape_zero_gemm", g.node("Relu", [g.node("Gemm", [r, g.init(w(8, 4))])]))

    # --- Identity, Dropout, Concat ---
    g = G(4, 6, 6)
    a = g.node("Identity", [g.conv("x", 4, 4, 3, pads=[1, 1, 1, 1])])
    b = g.node("Dropout", [g.conv("x", 4, 6, 1)])
    g.save("identity_dropout_concat", g.node("Concat", [a, b], axis=1))

    # --- ACB (K×K + K×1 + 1×K, each with BN, summed) ---
    for k, stride, c_in, c_out in [(3, 1, 8, 16), (3, 2, 8, 8), (5, 1, 4, 8)]:
        g = G(c_in, 9, 9)
        p = k // 2
        sq = g.bn(g.conv("x", c_in, c_out, k, bias=False, pads=[p, p, p, p], strides=[stride, stride]), c_out)
        ver = g.bn(g.conv("x", c_in, c_out, (k, 1), bias=False, pads=[p, 0, p, 0], strides=[stride, stride]), c_out)
        hor = g.bn(g.conv("x", c_in, c_out, (1, k), bias=False, pads=[0, p, 0, p], strides=[stride, stride]), c_out)
        y = g.node("Relu", [g.node("Add", [g.node("Add", [sq, ver]), hor])])
        g.save(f"acb_k{k}_s{stride}", y)
    g = G(8, 9, 9)
    sq = g.bn(g.conv("x", 8, 8, 3, bias=False, pads=[1, 1, 1, 1]), 8)
    ver = g.bn(g.conv("x", 8, 8, (3, 1), bias=True, pads=[1, 0, 1, 0]), 8)
    hor = g.bn(g.conv("x", 8, 8, (1, 3), bias=True, pads=[0, 1, 0, 1]), 8)
    g.save("acb_bias_branches", g.node("Add", [sq, g.node("Add", [ver, hor])]))
    g = G(8, 9, 9)
    sq = g.bn(g.conv("x", 8, 8, 3, bias=False, pads=[2, 2, 2, 2], dilations=[2, 2]), 8)
    ver = g.bn(g.conv("x", 8, 8, (3, 1), bias=False, pads=[2, 0, 2, 0], dilations=[2, 1]), 8)
    hor = g.bn(g.conv("x", 8, 8, (1, 3), bias=False, pads=[0, 2, 0, 2], dilations=[1, 2]), 8)
    g.save("acb_dilated", g.node("Relu", [g.node("Add", [g.node("Add", [sq, ver]), hor])]))
    g = G(16, 9, 9)
    sq = g.bn(g.conv("x", 16, 16, 3, bias=False, group=16, pads=[1, 1, 1, 1]), 16)
    ver = g.bn(g.conv("x", 16, 16, (3, 1), bias=False, group=16, pads=[1, 0, 1, 0]), 16)
    hor = g.bn(g.conv("x", 16, 16, (1, 3), bias=False, group=16, pads=[0, 1, 0, 1]), 16)
    g.save("acb_depthwise", g.node("Clip", [g.node("Add", [g.node("Add", [sq, ver]), hor]),
                                           g.init(np.array(0, np.float32), "lo"), g.init(np.array(6, np.float32), "hi")]))

    # --- RepVGG (3×3+BN, 1×1+BN, identity BN) ---
    g = G(8, 8, 8)
    a = g.bn(g.conv("x", 8, 8, 3, bias=False, pads=[1, 1, 1, 1]), 8)
    b = g.bn(g.conv("x", 8, 8, 1, bias=False), 8)
    y = g.node("Relu", [g.node("Add", [g.node("Add", [a, b]), g.bn("x", 8)])])
    a = g.bn(g.conv(y, 8, 16, 3, bias=False, pads=[1, 1, 1, 1], strides=[2, 2]), 16)
    b = g.bn(g.conv(y, 8, 16, 1, bias=False, strides=[2, 2]), 16)
    g.save("repvgg_blocks", g.node("Relu", [g.node("Add", [a, b])]))

    # --- Option-A ResNet shortcut: x[:, :, ::2, ::2] + channel zero padding ---
    g = G(8, 8, 8)
    y = g.node("Relu", [g.bn(g.conv("x", 8, 16, 3, bias=False, pads=[1, 1, 1, 1], strides=[2, 2]), 16)])
    y = g.bn(g.conv(y, 16, 16, 3, bias=False, pads=[1, 1, 1, 1]), 16)
    s = g.node("Slice", ["x", g.init(np.array([0, 0], np.int64), "starts"),
                         g.init(np.array([2**62, 2**62], np.int64), "ends"), g.init(np.array([2, 3], np.int64), "axes"),
                         g.init(np.array([2, 2], np.int64), "steps")])
    sc = g.node("Pad", [s, g.init(np.array([0, 4, 0, 0, 0, 4, 0, 0], np.int64), "pads")], mode="constant")
    g.save("option_a_shortcut", g.node("Relu", [g.node("Add", [y, sc])]))

    # --- Refused: each names the node, op and reason ---
    g = G(3, 6, 6)
    g.save("refuse_sigmoid", g.node("Sigmoid", [g.conv("x", 3, 4, 3)], name="gate"), "error", "node 'gate' (Sigmoid)")
    g = G(3, 6, 6)
    g.save("refuse_clip_range", g.node("Clip", [g.conv("x", 3, 4, 3), g.init(np.array(-1, np.float32), "lo"),
                                                g.init(np.array(1, np.float32), "hi")], name="clip"),
           "error", "node 'clip' (Clip): Clip(-1.0, 1.0)")
    g = G(3, 6, 6)
    y = g.node("Flatten", [g.node("GlobalAveragePool", [g.conv("x", 3, 8, 3)])])
    g.save("refuse_gemm_alpha", g.node("Gemm", [y, g.init(w(8, 5))], alpha=0.3, name="fc"),
           "error", "node 'fc' (Gemm): alpha 0.3 is not a power of two")
    g = G(3, 6, 6)
    g.save("refuse_pad_reflect", g.node("Pad", ["x", g.init(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "p")],
                                        mode="reflect", name="pad"), "error", "node 'pad' (Pad): mode 'reflect'")
    g = G(3, 6, 6)
    g.save("refuse_broadcast_add", g.node("Add", [g.conv("x", 3, 4, 3), g.init(w(4, 1, 1), "b")], name="addb"),
           "error", "node 'addb' (Add)")

    # --- Hostile files ---
    good = open(os.path.join(OUT, "residual_block.onnx"), "rb").read()
    with open(os.path.join(OUT, "hostile_truncated.onnx"), "wb") as f:
        f.write(good[: len(good) // 2])
    manifest.append(("hostile_truncated", "error", "not a valid ONNX protobuf", ""))
    with open(os.path.join(OUT, "hostile_garbage.onnx"), "wb") as f:
        f.write(bytes(rng.integers(0, 256, 4096, dtype=np.uint8)))
    manifest.append(("hostile_garbage", "error", "not a valid ONNX protobuf", ""))
    g = G(3, 6, 6)
    t = TensorProto(name="huge", data_type=TensorProto.FLOAT, dims=[1 << 40, 3, 3, 3])
    g.inits.append(t)
    g.save("hostile_huge_dims", g.node("Conv", ["x", "huge"]), "error", "initializer 'huge': dimension 1099511627776 out of range")
    g = G(3, 6, 6)
    t = TensorProto(name="big", data_type=TensorProto.FLOAT, dims=[65536, 65536, 3, 3])
    g.inits.append(t)
    g.save("hostile_huge_tensor", g.node("Conv", ["x", "big"]), "error", "initializer 'big': [65536, 65536, 3, 3] has too many elements")
    g = G(3, 100000, 100000, batch=1)
    g.save("hostile_huge_input", g.conv("x", 3, 4, 3), "error", "input 'x' has symbolic or out-of-range")
    g = G(3, 6, 6)
    g.nodes.append(helper.make_node("Relu", ["b_out"], ["a_out"], name="a"))
    g.nodes.append(helper.make_node("Relu", ["a_out"], ["b_out"], name="b"))
    g.save("hostile_cycle", "b_out", "error", "the graph has a cycle")
    g = G(3, 6, 6)
    g.save("hostile_missing_initializer", g.node("Conv", ["x", "W_missing"], name="conv"),
           "error", "node 'conv' (Conv): input 'W_missing' is not produced")
    g = G(3, 6, 6)
    t = TensorProto(name="wext", data_type=TensorProto.FLOAT, dims=[4, 3, 3, 3])
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", "/etc/passwd"
    g.inits.append(t)
    g.save("hostile_external_data", g.node("Conv", ["x", "wext"]), "error", "stored as external data")
    g = G(3, 6, 6)
    t = numpy_helper.from_array(w(4, 3, 3, 3), "wshort")
    t.raw_data = t.raw_data[:50]
    g.inits.append(t)
    g.save("hostile_short_raw_data", g.node("Conv", ["x", "wshort"]), "error", "raw_data has 50 bytes")
    g = G(3, 6, 6)
    g.save("hostile_bad_group", g.node("Conv", ["x", g.init(w(4, 3, 3, 3))], group=2, name="cg"),
           "error", "node 'cg' (Conv)")

    # PyTorch's exporter writes x[:, :, ::2, ::2] as one Slice per axis.
    g = G(4, 7, 8)
    one, big = g.init(np.array([0], np.int64), "s"), g.init(np.array([2**62], np.int64), "e")
    step = g.init(np.array([2], np.int64), "st")
    s = g.node("Slice", [g.node("Slice", ["x", one, big, g.init(np.array([2], np.int64), "ax"), step]),
                         one, big, g.init(np.array([3], np.int64), "ax"), step])
    g.save("option_a_two_slices", g.node("Pad", [s, g.init(np.array([0, 2, 0, 0, 0, 2, 0, 0], np.int64), "pads")]))

    # --- Constant folding and Pad → Conv (the raw PyTorch export of ZeroPad2d / F.pad) ---
    # nn.ZeroPad2d((l, r, t, b)) as the TorchScript exporter writes it (opset 13): the pads vector
    # comes from ConstantOfShape, Concat, Reshape, a reversing Slice, Transpose, Reshape and Cast.
    def torch_pad(g, x, lrtb):
        zeros = g.node("ConstantOfShape", [g.init(np.array([4], np.int64), "n")],
                       value=numpy_helper.from_array(np.array([0], np.int64)))
        cat = g.node("Concat", [g.init(np.array(lrtb, np.int64), "lrtb"), zeros], axis=0)
        pairs = g.node("Reshape", [cat, g.init(np.array([-1, 2], np.int64), "shape")])
        rev = g.node("Slice", [pairs, g.init(np.array([-1], np.int64), "s"), g.init(np.array([-(2**63) + 1], np.int64), "e"),
                               g.init(np.array([0], np.int64), "ax"), g.init(np.array([-1], np.int64), "st")])
        flat = g.node("Reshape", [g.node("Transpose", [rev], perm=[1, 0]), g.init(np.array([-1], np.int64), "shape")])
        return g.node("Pad", [x, g.node("Cast", [flat], to=TensorProto.INT64), g.init(np.array(0, np.float32), "zero")],
                      mode="constant")

    # TF-SAME stem: asymmetric pad (bottom/right) into a stride-2 conv.
    g = G(3, 11, 12)
    y = g.node("Clip", [g.conv(torch_pad(g, "x", [0, 1, 0, 1]), 3, 8, 3, strides=[2, 2]),
                        g.init(np.array(0, np.float32), "lo"), g.init(np.array(6, np.float32), "hi")])
    g.save("pad_conv_torch", y)
    # Depthwise 5x5 stride 2 reading a Pad (pads as a plain input) that also pads itself.
    g = G(16, 13, 11)
    p = g.node("Pad", ["x", g.init(np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64), "pads")], mode="constant")
    g.save("pad_depthwise_conv", g.conv(p, 16, 16, 5, group=16, strides=[2, 2], pads=[1, 1, 1, 1]))
    # A Pad read by a convolution and by a non-convolution: folded into the one, an identity
    # convolution for the other.
    g = G(4, 7, 7)
    p = torch_pad(g, "x", [1, 1, 2, 0])
    g.save("pad_shared_consumers", g.node("Add", [g.conv(p, 4, 4, 3, pads=[1, 1, 1, 1]), g.node("Relu", [p])]))
    # The dynamic-batch export of a computed TF-SAME pad and of x.view(x.size(0), -1): Shape,
    # Gather, integer Add/Div/Mul/Sub, Squeeze/Unsqueeze, Concat, ConstantOfShape, Range.
    g = G(3, 9, 10)
    i64 = lambda v, p="c": g.init(np.array(v, np.int64), p)
    shape = g.node("Shape", ["x"])
    h = g.node("Squeeze", [g.node("Gather", [shape, i64([2])], axis=0), i64([0])])
    total = g.node("Sub", [g.node("Mul", [g.node("Div", [g.node("Add", [h, i64(1)]), i64(2)]), i64(2)]), h])
    top = g.node("Div", [total, i64(2)])
    bottom = g.node("Sub", [total, top])
    u = lambda v: g.node("Unsqueeze", [v, i64([0])])
    two_zeros = g.node("ConstantOfShape", [i64([2])], value=numpy_helper.from_array(np.array([0], np.int64)))
    w_pads = g.node("Cast", [g.node("Range", [i64(0), i64(2), i64(1)])], to=TensorProto.INT64)  # [0, 1]
    begin = g.node("Concat", [two_zeros, u(top), g.node("Slice", [w_pads, i64([0]), i64([1])])], axis=0)
    end = g.node("Concat", [two_zeros, u(bottom), g.node("Slice", [w_pads, i64([1]), i64([2**63 - 1])])], axis=0)
    y = g.conv(g.node("Pad", ["x", g.node("Concat", [begin, end], axis=0)]), 3, 6, 3, strides=[2, 2])
    n = u(g.node("Gather", [g.node("Shape", [y]), i64(0)], axis=0))
    flat = g.node("Reshape", [y, g.node("Concat", [n, i64([-1])], axis=0)])
    g.save("shape_arithmetic_dynamic_batch", g.node("Gemm", [flat, g.init(w(5, 6 * 4 * 5)), g.init(w(5, scale=0.5), "b")], transB=1))
    # Refused: folding checks every index and bounds every size; shape ops on activations are named.
    g = G(3, 6, 6)
    bad = g.node("Gather", [g.node("Shape", ["x"]), g.init(np.array([4], np.int64), "i")], name="gather_dim")
    g.save("refuse_fold_gather_index", g.node("Reshape", ["x", bad]), "error",
           "node 'gather_dim' (Gather): index 4 is out of range for axis 0 of extent 4")
    g = G(3, 6, 6)
    big = g.node("ConstantOfShape", [g.init(np.array([1 << 20, 1 << 20], np.int64), "s")], name="zeros")
    g.save("refuse_fold_huge_constant_of_shape", g.node("Pad", ["x", big]), "error",
           "node 'zeros' (ConstantOfShape): folded tensor [1048576, 1048576] has more than 1048576 elements")
    g = G(3, 6, 6)
    g.save("refuse_cast_activation", g.node("Cast", [g.conv("x", 3, 4, 3)], to=TensorProto.FLOAT, name="cast"), "error",
           "node 'cast' (Cast): Cast is supported only as shape arithmetic on constants")

    with open(os.path.join(OUT, "manifest.tsv"), "w") as f:
        f.write("# name\texpect\terror text\textra acnet import arguments\n")
        for row in manifest + [tuple(r) for r in kept]:
            f.write("\t".join(row) + "\n")
    print(f"wrote {len(manifest)} fixtures to {OUT}")


if __name__ == "__main__":
    main()
