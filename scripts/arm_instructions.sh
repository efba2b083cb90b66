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
set -euo pipefail
cross=$(cd "$1" && pwd); model=$2; macs=$3; runs=${4:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
aarch64-linux-gnu-gcc -std=c11 -O2 -static -I"$cross/include" -o "$out/bench" "$root/bench/clib_bench.c" \
    -L"$cross/lib" -lacnet -lm -lpthread
count() { # iterations → "instructions fmla" of the whole process
    mkfifo "$out/log.$1"
    qemu-aarch64 -d in_asm,exec,nochain -D "$out/log.$1" "$out/bench" "$model" 0 0 "$1" >/dev/null &
    awk '
        /^IN:/ { inblock = 1; pc = ""; n = 0; f = 0; next }
        inblock && /^0x[0-9a-f]+:/ {
            if (pc == "") { pc = substr($1, 3, length($1) - 3); sub(/^0+/, "", pc) }
            n++; if ($3 == "fmla") f++; next
        }
        inblock && pc != "" { size[pc] = n; fmla[pc] = f; inblock = 0 }
        /^Trace / {
            split($0, a, "/"); pc = a[2]; sub(/^0+/, "", pc)
            total += size[pc]; fmlas += fmla[pc]
        }
        END { printf "%.0f %.0f\n", total, fmlas }' "$out/log.$1"
    wait
}
read -r i1 f1 < <(count 1)
read -r i2 f2 < <(count $((1 + runs)))
awk -v i1="$i1" -v i2="$i2" -v f1="$f1" -v f2="$f2" -v r="$runs" -v m="$macs" -v name="$(basename "$model")" 'BEGIN {
    i = (i2 - i1) / r; f = (f2 - f1) / r
    printf "%s: %.0f instructions per inference (%.0f FMLA), %.3f instructions per MAC, %.3f MACs per FMLA\n",
        name, i, f, i / m, (f > 0 ? m / f : 0) }'
