#!/usr/bin/env bash
# Executed aarch64 instructions per multiply-accumulate of our aarch64 build, counted under
# qemu-user (issue 18, item 5): qemu-aarch64 -d in_asm,exec,nochain logs every translation
# block's instructions once and every execution of a block; the sum over executions of the
# block's instruction count is the executed instruction count (FMLA counted the same way).
# Emulated instruction counts are not wall time: they ignore the pipeline, caches and memory.
#
#   scripts/arm_instructions.sh CROSS_PREFIX MODEL.acnb MACS [RUNS]
# CROSS_PREFIX from `make cross TARGET=aarch64-linux-gnu PREFIX=...`; MACS per image (as
# `acnet inspect` or `acnet bench` reports). Counts a process that loads the model and runs it
# once and one that runs it 1 + RUNS (default 2) times (bench/clib_bench.c); the difference
# divided by RUNS is one inference, without load, CRC and planning. Not part of CI (minutes).
# CONVOLUTION=direct in the environment runs every convolution direct (default: Winograd on the
# layers whose Winograd weights the file stores).
set -euo pipefail
cross=$(cd "$1" && pwd); model=$2; macs=$3; runs=${4:-2}
case ${CONVOLUTION:-auto} in
    auto) conv=0 ;; direct) conv=1 ;;
    *) echo "arm_instructions.sh: CONVOLUTION must be auto or direct" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
aarch64-linux-gnu-gcc -std=c11 -O2 -static -I"$cross/include" -o "$out/bench" "$root/bench/clib_bench.c" \
    -L"$cross/lib" -lacnet -lm -lpthread
count() { # iterations → "instructions fmla" of the whole process
    mkfifo "$out/log.$1"
    qemu-aarch64 -d in_asm,exec,nochain -D "$out/log.$1" "$out/bench" "$model" 0 0 "$1" "$conv" >/dev/null &
    awk -f "$root/scripts/arm_count.awk" "$out/log.$1"
    wait
}
read -r i1 f1 < <(count 1)
read -r i2 f2 < <(count $((1 + runs)))
awk -v i1="$i1" -v i2="$i2" -v f1="$f1" -v f2="$f2" -v r="$runs" -v m="$macs" -v name="$(basename "$model") (${CONVOLUTION:-auto})" 'BEGIN {
    i = (i2 - i1) / r; f = (f2 - f1) / r
    printf "%s: %.0f instructions per inference (%.0f FMLA), %.3f instructions per MAC, %.3f MACs per FMLA\n",
        name, i, f, i / m, (f > 0 ? m / f : 0) }'
