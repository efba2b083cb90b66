#!/usr/bin/env python3
"""ACNet runtime (libacnet.so, C ABI of include/acnet.h) timed in ../shared/bench's harness
style, so our figures carry the same Python call overhead, inputs, quiet-machine guard and
output file as the peers' (bench_ort.py is the model for this script).

The model is <models-dir>/acnet/<model>.acnb: gen_models.py's architecture built by
BenchmarkModels with the ONNX model's own weights (bench/onnx_weights.py, then
`acnet bench --arch NAME --weights FILE --save-model OUT.acnb`; scripts/compare_peers.sh does
both). acnet_model_load_file, acnet_session_create with threads = --threads (max_batch 1, the
session allocates its workspace once), then the timed call is one acnet_session_run on
pre-allocated numpy buffers through ctypes (argtypes set, pointers computed once).
variants: 'default' (isa ACNET_ISA_AUTO, the fastest the CPU runs; convolution
ACNET_CONVOLUTION_AUTO, Winograd on the layers whose Winograd weights the .acnb stores);
'direct' (direct convolution on every layer: the model exported without Winograd weights,
<models-dir>/acnet/direct/<model>.acnb, when that file exists, run with convolution
ACNET_CONVOLUTION_DIRECT);
'avx512', 'avx2', 'baseline' force that kernel ISA (include/acnet.h).

Environment: PEERS_BENCH = the shared harness folder holding bench_common.py
(default /work/shared/bench); ACNET_LIB = path of libacnet.so (default: libacnet.so on the
loader's search path); ACNET_MODELS = folder of the .acnb files (default <models-dir>/acnet).
"""
import ctypes
import os
import sys

sys.path.insert(0, os.environ.get("PEERS_BENCH", "/work/shared/bench"))
import numpy as np  # noqa: E402

from bench_common import emit, make_input, parse_args, timeit  # noqa: E402

a, meta = parse_args("default")
lib = ctypes.CDLL(os.environ.get("ACNET_LIB", "libacnet.so"))
P = ctypes.c_void_p
lib.acnet_version.restype = ctypes.c_uint32
lib.acnet_last_error_message.restype = ctypes.c_char_p
lib.acnet_status_string.restype = ctypes.c_char_p
lib.acnet_status_string.argtypes = [ctypes.c_int32]
lib.acnet_model_load_file.argtypes = [ctypes.c_char_p, ctypes.POINTER(P)]
lib.acnet_model_input_shape.argtypes = [P, ctypes.POINTER(ctypes.c_int64), ctypes.POINTER(ctypes.c_size_t)]
lib.acnet_model_output_shape.argtypes = lib.acnet_model_input_shape.argtypes


class Options(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("threads", ctypes.c_uint32),
                ("max_batch", ctypes.c_uint32), ("isa", ctypes.c_uint32), ("convolution", ctypes.c_uint32)]


lib.acnet_session_options_init.argtypes = [ctypes.POINTER(Options)]
lib.acnet_session_create.argtypes = [P, ctypes.POINTER(Options), P, ctypes.c_size_t, ctypes.POINTER(P)]
lib.acnet_session_run.argtypes = [P, ctypes.c_size_t, P, ctypes.c_size_t, P, ctypes.c_size_t]
lib.acnet_session_run.restype = ctypes.c_int32
for f in ("acnet_model_load_file", "acnet_model_input_shape", "acnet_model_output_shape",
          "acnet_session_options_init", "acnet_session_create"):
    getattr(lib, f).restype = ctypes.c_int32


def check(status, what):
    if status != 0:
        raise SystemExit(f"{what}: {lib.acnet_status_string(status).decode()}: "
                         f"{lib.acnet_last_error_message().decode()}")


folder = os.environ.get("ACNET_MODELS", os.path.join(a.models_dir, "acnet"))
path = os.path.join(folder, a.model + ".acnb")
if a.variant == "direct" and os.path.exists(os.path.join(folder, "direct", a.model + ".acnb")):
    path = os.path.join(folder, "direct", a.model + ".acnb")
model = P()
check(lib.acnet_model_load_file(path.encode(), ctypes.byref(model)), path)


def shape(fn):
    s, r = (ctypes.c_int64 * 4)(), ctypes.c_size_t()
    check(fn(model, s, ctypes.byref(r)), fn.__name__)
    return list(s[:r.value])


if shape(lib.acnet_model_input_shape) != meta["input_shape"] or \
        shape(lib.acnet_model_output_shape) != meta["output_shape"]:
    raise SystemExit(f"{path}: shapes {shape(lib.acnet_model_input_shape)} -> {shape(lib.acnet_model_output_shape)}"
                     f" differ from models.json {meta['input_shape']} -> {meta['output_shape']}")
opts = Options()
check(lib.acnet_session_options_init(ctypes.byref(opts)), "acnet_session_options_init")
opts.threads = a.threads
ISA = {"default": 0, "direct": 0, "baseline": 1, "avx2": 2, "avx512": 3}
if a.variant not in ISA:
    raise SystemExit(f"unknown variant {a.variant!r}: one of {', '.join(ISA)}")
opts.isa = ISA[a.variant]
opts.convolution = 1 if a.variant == "direct" else 0
session = P()
check(lib.acnet_session_create(model, ctypes.byref(opts), None, 0, ctypes.byref(session)),
      f"acnet_session_create(threads={a.threads})")

x = np.ascontiguousarray(make_input(meta))
y = np.zeros(meta["output_shape"], dtype=np.float32)
run_c = lib.acnet_session_run
sess, xp, xn, yp, yn = session, x.ctypes.data, x.size, y.ctypes.data, y.size
check(run_c(sess, 1, xp, xn, yp, yn), "acnet_session_run")


def run():
    run_c(sess, 1, xp, xn, yp, yn)


timing = timeit(run, a)
check(run_c(sess, 1, xp, xn, yp, yn), "acnet_session_run")  # a failing timed call would show here
v = lib.acnet_version()
emit(a, meta, "acnet", f"{v // 10000}.{v // 100 % 100}.{v % 100}", timing,
     extra=dict(acnb=path, acnet_lib=os.environ.get("ACNET_LIB", "libacnet.so")), output=y.copy())
