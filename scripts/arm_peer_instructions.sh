#!/usr/bin/env bash
# Executed aarch64 instructions per MAC of ncnn (the peer) and of our aarch64 build on the same
# ONNX models and weights, counted the same way under qemu-user (issue 18, item 5): a process
# that loads the model and runs it once, one that runs it 1 + RUNS times, the difference over
# RUNS (scripts/arm_count.awk sums `-d in_asm,exec,nochain` per translation block). Not part of
# CI (tens of minutes; it downloads the peer). Emulated instruction counts are not wall time.
#
#   scripts/arm_peer_instructions.sh BENCH_DIR CROSS_PREFIX WORK [MODEL...]
#
# BENCH_DIR    folder with gen_models.py (the peer benchmark's model generator: numpy + onnx,
#              random weights); only its network builders and ONNX emitter are used.
# CROSS_PREFIX `make cross TARGET=aarch64-linux-gnu PREFIX=...` (our library).
# WORK         scratch folder (kept: downloads and converted models are reused).
# MODEL        fmnist cifar_quick conv64 conv256 resnet56 (default: the first four).
# Environment: ACNET_CLI (default .build/release/acnet) imports the ONNX files into .acnb
# (Winograd weights where eligible), RUNS (default 1).
#
# The peer, one thread, fp32 only (fp16/bf16/int8 storage and arithmetic off), packing layout
# on, as the peer benchmark runs it: ncnn's PyPI wheel for manylinux2014_aarch64 in an arm64
# CPython 3.11 (Debian's python3.11-minimal:arm64 and its libraries unpacked into WORK, not
# installed; needs `dpkg --add-architecture arm64 && apt-get update` once), numpy's aarch64
# wheel; ONNX → ncnn with pnnx's converter binary (PyPI `pnnx`, installed without its torch
# dependency, which the binary does not need), fp16=0. Variants: ncnn "wino" (its default:
# Winograd and im2col+SGEMM convolutions) against ours with Winograd where the file stores it,
# ncnn "direct" (use_winograd_convolution and use_sgemm_convolution off: its packed direct
# convolution) against ours direct. The Python interpreter's start-up would dominate the log,
# so the peer's runs log only code in ncnn's extension module (ncnn and its pybind11 binding),
# libgomp, libstdc++, libgcc_s, libc, libm and the dynamic loader (`-dfilter` over their
# executable mappings, read from /proc/self/maps in a run before; qemu-user maps them at the same
# addresses every run, which the script checks): the interpreter's own instructions for the three
# Python calls per inference are not counted; everything they call is.
set -euo pipefail
bench=$(cd "${1:?usage: arm_peer_instructions.sh BENCH_DIR CROSS_PREFIX WORK [MODEL...]}" && pwd)
cross=$(cd "${2:?CROSS_PREFIX}" && pwd)
mkdir -p "${3:?WORK}"; work=$(cd "$3" && pwd); shift 3
models=("$@"); [ ${#models[@]} -gt 0 ] || models=(fmnist cifar_quick conv64 conv256)
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${ACNET_CLI:-$root/.build/release/acnet}
runs=${RUNS:-1}
for tool in qemu-aarch64 aarch64-linux-gnu-gcc python3 "$cli"; do
    command -v "$tool" >/dev/null || { echo "SKIP peer instruction counts ($tool not found)"; exit 0; }
done

# Host tools: numpy + onnx for the generator, pnnx's converter.
venv=$work/venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q numpy onnx
    "$venv/bin/pip" install -q --no-deps pnnx
fi
# The converter binary inside the package (importing the package needs torch).
pnnx=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pnnx/pnnx

# The arm64 Python with ncnn and numpy.
sysroot=$work/arm64-root site=$work/arm64-site
if [ ! -x "$sysroot/usr/bin/python3.11" ]; then
    dpkg --print-foreign-architectures | grep -qx arm64 ||
        { echo "SKIP peer instruction counts (run: dpkg --add-architecture arm64 && apt-get update)"; exit 0; }
    mkdir -p "$work/debs" "$sysroot"
    (cd "$work/debs" && apt-get download python3.11-minimal:arm64 libpython3.11-minimal:arm64 \
        libpython3.11-stdlib:arm64 libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 zlib1g:arm64 libexpat1:arm64 \
        libffi8:arm64 libssl3:arm64 libbz2-1.0:arm64 liblzma5:arm64 >/dev/null 2>&1)
    for d in "$work"/debs/*.deb; do dpkg -x "$d" "$sysroot"; done
fi
if [ ! -d "$site/ncnn" ]; then
    mkdir -p "$work/wheels" "$site"
    pip download -q --no-deps --platform manylinux2014_aarch64 --only-binary=:all: --python-version 3.11 \
        -d "$work/wheels" ncnn numpy
    for w in "$work"/wheels/*.whl; do (cd "$site" && python3 -m zipfile -e "$w" .); done
fi
pyarm=(env PYTHONHOME="$sysroot/usr" PYTHONPATH="$site" qemu-aarch64 -L "$sysroot" "$sysroot/usr/bin/python3.11")
"${pyarm[@]}" -c 'import ncnn, numpy' || { echo "FAIL arm64 python cannot import ncnn"; exit 1; }
peer_version=$("${pyarm[@]}" -c 'import ncnn; print(ncnn.__version__)')

# Models: ONNX from the generator's builders, then ncnn (pnnx) and .acnb (acnet import).
cat > "$work/gen.py" <<'EOF'
import importlib.util, json, os, sys
bench, out = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("gen_models", os.path.join(bench, "gen_models.py"))
gm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gm)
nets = {"fmnist": gm.fmnist_net, "cifar_quick": gm.cifar_quick, "resnet56": gm.resnet56,
        "conv64": lambda: gm.single_conv(64, 56, "conv64"), "conv256": lambda: gm.single_conv(256, 14, "conv256")}
for name in sys.argv[3:]:
    net = nets[name]()
    gm.to_onnx(net, os.path.join(out, name + ".onnx"))
    print(name, int(net.macs), ",".join(str(d) for d in net.in_shape))
EOF
cat > "$work/ncnn_run.py" <<'EOF'
import sys
import ncnn
import numpy as np
param, weights, variant = sys.argv[1:4]
c, h, w, n = map(int, sys.argv[4:8])
net = ncnn.Net()
o = net.opt
o.num_threads = 1
o.use_vulkan_compute = False
o.use_packing_layout = True
o.lightmode = True
for k in ["use_fp16_packed", "use_fp16_storage", "use_fp16_arithmetic", "use_bf16_storage", "use_bf16_packed",
          "use_int8_inference", "use_int8_packed", "use_int8_storage", "use_int8_arithmetic"]:
    if hasattr(o, k):
        setattr(o, k, False)
o.use_winograd_convolution = variant == "wino"
o.use_sgemm_convolution = variant == "wino"
assert net.load_param(param) == 0 and net.load_model(weights) == 0
with open(sys.argv[8], "w") as f:
    for l in open("/proc/self/maps"):
        if " r-xp " in l and any(k in l for k in ("ncnn", "libgomp", "libc.so", "libm.so", "libstdc++", "libgcc_s",
                                                    "ld-linux")):
            f.write(l.split()[0] + "\n")
x = ((np.arange(c * h * w) % 13) / 13.0 - 0.5).astype(np.float32).reshape(c, h, w)
mat = ncnn.Mat(x)
for _ in range(n):
    ex = net.create_extractor()
    ex.input("in0", mat)
    ret, out = ex.extract("out0")
    assert ret == 0
EOF
mkdir -p "$work/models"
"$venv/bin/python" "$work/gen.py" "$bench" "$work/models" "${models[@]}" > "$work/models/list.txt"

fifo=$work/qemu.log
count() { # runner N → "instructions fmla" of the whole process
    rm -f "$fifo"; mkfifo "$fifo"
    "$1" "$2" >/dev/null &
    awk -f "$root/scripts/arm_count.awk" "$fifo"
    wait $!
}
per_inference() { # label macs runner
    read -r i1 f1 < <(count "$3" 1)
    read -r i2 f2 < <(count "$3" $((1 + runs)))
    awk -v i1="$i1" -v i2="$i2" -v f1="$f1" -v f2="$f2" -v r="$runs" -v m="$2" -v l="$1" 'BEGIN {
        i = (i2 - i1) / r; f = (f2 - f1) / r
        printf "%-16s %12.0f instructions %11.0f FMLA  %.3f instructions/MAC\n", l, i, f, i / m }'
}
run_ncnn() { # N (uses nc, variant, c, h, w, ranges)
    PYTHONHOME="$sysroot/usr" PYTHONPATH="$site" qemu-aarch64 -d in_asm,exec,nochain -dfilter "$ranges" -D "$fifo" \
        -L "$sysroot" "$sysroot/usr/bin/python3.11" "$work/ncnn_run.py" "$nc.param" "$nc.bin" "$variant" "$c" "$h" "$w" \
        "$1" "$work/maps.run"
    cmp -s "$work/maps.run" "$work/maps.txt" || { echo "FAIL ncnn's libraries moved between runs" >&2; exit 1; }
}
run_ours() { # N (uses acnb, conv)
    qemu-aarch64 -d in_asm,exec,nochain -D "$fifo" "$work/clib_bench" "$acnb" 0 0 "$1" "$conv"
}

aarch64-linux-gnu-gcc -std=c11 -O2 -static -I"$cross/include" -o "$work/clib_bench" "$root/bench/clib_bench.c" \
    -L"$cross/lib" -lacnet -lm -lpthread
echo "ncnn $peer_version (PyPI aarch64 wheel, 1 thread, fp32) vs ours ($cross), qemu-aarch64 $(qemu-aarch64 --version | head -1 | awk '{print $3}')"
while read -r name macs shape; do
    IFS=, read -r _ c h w <<< "$shape"
    onnx=$work/models/$name.onnx
    nc=$work/models/$name.ncnn
    [ -f "$nc.param" ] || (cd "$work/models" && "$pnnx" "$onnx" "inputshape=[$shape]f32" fp16=0 device=cpu \
        ncnnparam="$nc.param" ncnnbin="$nc.bin" ncnnpy="$work/models/${name}_ncnn.py" \
        pnnxparam="$work/models/$name.pnnx.param" pnnxbin="$work/models/$name.pnnx.bin" \
        pnnxpy="$work/models/${name}_pnnx.py" pnnxonnx="$work/models/$name.pnnx.onnx" >"$work/models/$name.pnnx.log" 2>&1)
    acnb=$work/models/$name.acnb
    [ -f "$acnb" ] || "$cli" import "$onnx" -o "$acnb" --no-verify --winograd all >/dev/null
    echo "$name: $macs MACs"
    PYTHONHOME="$sysroot/usr" PYTHONPATH="$site" qemu-aarch64 -L "$sysroot" "$sysroot/usr/bin/python3.11" \
        "$work/ncnn_run.py" "$nc.param" "$nc.bin" wino "$c" "$h" "$w" 1 "$work/maps.txt"
    ranges=""
    while IFS=- read -r lo hi; do ranges+="${ranges:+,}0x$lo..$(printf '0x%x' $((16#$hi - 1)))"; done < "$work/maps.txt"
    for variant in wino direct; do
        conv=$([ $variant = wino ] && echo 0 || echo 1)
        per_inference "  ncnn $variant" "$macs" run_ncnn
        per_inference "  ours $([ $variant = wino ] && echo auto || echo direct)" "$macs" run_ours
    done
done < "$work/models/list.txt"
