#!/usr/bin/env python3
"""CIFAR-10 ResNet-20/32/44/56 (He et al. 2016, option-A shortcuts) from a PyTorch checkpoint
of the pytorch_resnet_cifar10 layout (`module.conv1.weight`, `module.layer1.0.bn1.running_mean`,
…, `module.linear.weight`; BSD-2-Clause, Yerlan Idelbayev) to ONNX.

The graph is the one `torch.onnx.export` writes for that model: Conv/BatchNormalization/Relu,
the option-A shortcut as Slice(::2, ::2) + Pad of the channel axis, AveragePool over the last
8×8 map, Flatten and Gemm. Its input is the normalised image (ImageNet mean/std, as the
checkpoint was trained); give those to `acnet import --mean/--std`.

The checkpoint is read without PyTorch: the legacy (pre-1.6) torch.save format is a sequence of
pickles followed by raw storages, which this script decodes with numpy. Needs numpy and onnx.

Usage: python3 scripts/cifar_resnet_onnx.py CHECKPOINT.th OUT.onnx
"""
import collections
import pickle
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64,
          "IntStorage": np.int32, "HalfStorage": np.float16}


class _Storage:
    def __init__(self, name):
        self.name = name


class _LazyTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def _rebuild_tensor_v2(storage, offset, size, stride, *args):
    return _LazyTensor(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor_v2
        if module == "torch" and name.endswith("Storage"):
            return _Storage(name)
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        raise pickle.UnpicklingError(f"unexpected class {module}.{name} in the checkpoint")

    def persistent_load(self, pid):
        # ('storage', storage_type, key, location, size, view_metadata)
        if pid[0] != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid[0]}")
        return ("storage", pid[1].name, pid[2])


def load_legacy_checkpoint(path):
    """Returns {name: numpy array} of the checkpoint's state_dict (legacy torch.save format)."""
    with open(path, "rb") as f:
        magic = _Unpickler(f).load()
        if magic != 0x1950A86A20F9469CFC6C:
            raise ValueError(f"{path}: not a legacy torch checkpoint (magic {magic!r})")
        _Unpickler(f).load()  # protocol version
        _Unpickler(f).load()  # sys info
        obj = _Unpickler(f).load()
        keys = _Unpickler(f).load()
        # The storages follow in `keys` order, each as an int64 element count and the raw
        # little-endian elements; their dtypes come from the tensors that reference them.
        state = obj["state_dict"] if isinstance(obj, dict) and "state_dict" in obj else obj
        dtype_of = {t.storage[2]: DTYPES[t.storage[1]] for t in state.values() if isinstance(t, _LazyTensor)}
        data = {}
        for key in keys:
            (count,) = struct.unpack("<q", f.read(8))
            dt = np.dtype(dtype_of.get(key, np.float32)).newbyteorder("<")
            raw = f.read(count * dt.itemsize)
            if len(raw) != count * dt.itemsize:
                raise ValueError(f"{path}: truncated storage {key}")
            data[key] = np.frombuffer(raw, dtype=dt)
    out = collections.OrderedDict()
    for name, t in state.items():
        if not isinstance(t, _LazyTensor):
            continue
        base = data[t.storage[2]]
        arr = np.lib.stride_tricks.as_strided(base[t.offset:], shape=t.size,
                                              strides=[s * base.itemsize for s in t.stride])
        out[name] = np.array(arr, dtype=np.float32 if arr.dtype.kind == "f" else arr.dtype)
    return out


def build(state, name):
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    nodes, inits = [], []
    used = set()

    def init(key):
        used.add(key)
        inits.append(numpy_helper.from_array(sd[key].astype(np.float32), key))
        return key

    def const(nm, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(op, inputs, out, **attrs):
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def conv_bn(x, conv, bn, stride, relu):
        y = node("Conv", [x, init(conv + ".weight")], conv, kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                 strides=[stride, stride])
        y = node("BatchNormalization", [y, init(bn + ".weight"), init(bn + ".bias"), init(bn + ".running_mean"),
                                        init(bn + ".running_var")], bn, epsilon=1e-5)
        return node("Relu", [y], bn + ".relu") if relu else y

    x = conv_bn("input", "conv1", "bn1", 1, True)
    in_planes = 16
    for li, planes in enumerate([16, 32, 64], start=1):
        blocks = sorted({int(k.split(".")[1]) for k in sd if k.startswith(f"layer{li}.")})
        for b in blocks:
            p = f"layer{li}.{b}"
            stride = 2 if (b == 0 and li > 1) else 1
            y = conv_bn(x, p + ".conv1", p + ".bn1", stride, True)
            y = conv_bn(y, p + ".conv2", p + ".bn2", 1, False)
            if stride != 1 or in_planes != planes:
                s = node("Slice", [x, const(p + ".sc.starts", np.array([0, 0], np.int64)),
                                   const(p + ".sc.ends", np.array([2**63 - 1, 2**63 - 1], np.int64)),
                                   const(p + ".sc.axes", np.array([2, 3], np.int64)),
                                   const(p + ".sc.steps", np.array([2, 2], np.int64))], p + ".shortcut.slice")
                sc = node("Pad", [s, const(p + ".sc.pads", np.array([0, planes // 4, 0, 0, 0, planes // 4, 0, 0], np.int64))],
                          p + ".shortcut.pad", mode="constant")
            else:
                sc = x
            x = node("Relu", [node("Add", [y, sc], p + ".add")], p + ".relu")
            in_planes = planes
    x = node("AveragePool", [x], "avgpool", kernel_shape=[8, 8], strides=[8, 8])
    x = node("Flatten", [x], "flatten", axis=1)
    x = node("Gemm", [x, init("linear.weight"), init("linear.bias")], "linear", transB=1)
    unused = [k for k in sd if k not in used and not k.endswith("num_batches_tracked")]
    if unused:
        raise ValueError(f"checkpoint tensors not used by the architecture: {unused}")
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 32, 32])],
                              [helper.make_tensor_value_info("linear", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="cifar_resnet_onnx.py")
    model.ir_version = 8
    model.doc_string = ("CIFAR-10 ResNet (option-A shortcuts); weights: pytorch_resnet_cifar10 by Yerlan Idelbayev, "
                        "BSD-2-Clause (see LICENSE next to this file). Input: RGB/255 normalised with mean "
                        f"{MEAN} and std {STD}.")
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    state = load_legacy_checkpoint(sys.argv[1])
    model = build(state, sys.argv[2].rsplit("/", 1)[-1].removesuffix(".onnx"))
    onnx.save(model, sys.argv[2])
    print(f"wrote {sys.argv[2]}: {len(model.graph.node)} nodes, {len(model.graph.initializer)} initializers")


if __name__ == "__main__":
    main()
