#!/usr/bin/env bash
# CI stage for ACTraining's convolution kernel choice (issue #17 item 3): the direct-convolution
# tiles of every ISA build the CPU can run (ACTrainingKernels: AVX-512, ACTrainingKernelsAVX2:
# AVX2 + FMA) and the im2col + OpenBLAS path, each through the training tests that cover
# convolutions, then a release `acnet train-bench` smoke run per path.
#
#   scripts/ci_train_kernels.sh [ACNET]    (default .build/release/acnet; needs the debug test
#                                           build in .build, as scripts/test.sh makes it)
# The test stage `swift test` already runs everything on the CPU's best path; this stage adds
# the lower ones (ACNET_TRAINING_KERNELS=avx2 on AVX-512 CPUs, =im2col everywhere).
# Prints PASS/FAIL/SKIP lines; exit status 1 if anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
acnet=${1:-.build/release/acnet}
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
log=$(mktemp); trap 'rm -f "$log"' EXIT

flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)
has() { [[ " $flags " == *" $1 "* ]]; }
paths=(im2col)
if [ "$(uname -m)" = x86_64 ]; then
    if has avx2 && has fma; then paths+=(avx2); else echo "SKIP avx2 training tiles (no AVX2 + FMA on this CPU)"; fi
    if has avx512f && has avx512bw && has avx512vl && has avx512dq; then paths+=(avx512)
    else echo "SKIP avx512 training tiles (no AVX-512 on this CPU)"; fi
else
    paths+=(avx512)  # the baseline SIMD build of ACTrainingKernels (named avx512 in the enum)
fi
best=${paths[${#paths[@]}-1]}

# The convolution-related suites under each path below the best one (the best one ran in
# `swift test`). DirectConvKernelTests compares every supported ISA with im2col in any case.
filter='DirectConvKernelTests|LayerGradientTests|ACBlockTests|ACBVariantTests|ACBVectorTests'
for p in "${paths[@]}"; do
    [ "$p" = "$best" ] && continue
    if ACNET_TRAINING_KERNELS=$p swift test --skip-build --filter "$filter" > "$log" 2>&1 \
        && grep -q "Test run with .* passed" "$log"; then
        ok "training convolution tests with ACNET_TRAINING_KERNELS=$p ($(grep -o 'Test run with [0-9]* tests' "$log" | grep -o '[0-9]*') tests)"
    else
        ko "training convolution tests with ACNET_TRAINING_KERNELS=$p"; grep -E "✘|error" "$log" | head -20
    fi
done

# Release smoke run per path: the kernels reported must be the ones asked for, and the step
# must run (ResNet-20 takes the stride-2 3x3 and 1x1 convolutions — the polyphase direct path
# on the tile builds — and the stride-1 3x3 ones, plain and ACB).
for p in "${paths[@]}"; do
    if out=$(ACNET_TRAINING_KERNELS=$p "$acnet" train-bench --models resnet20,fashion_net --batch 16 \
               --iterations 2 --warmup 1 --threads 2 2>&1) \
        && grep -q "direct-convolution kernels: $p" <<< "$out" && [ "$(grep -c 'img/s' <<< "$out")" -eq 4 ]; then
        ok "acnet train-bench with $p kernels: $(grep 'img/s' <<< "$out" | awk '{printf "%s%s %s img/s", s, $1 " " $2, $4; s="; "}')"
    else
        ko "acnet train-bench with $p kernels"; echo "$out" | tail -5
    fi
done

# `acnet train --threads`: listed in --help, refused out of 1...64 (exit 64, one Error: line
# naming the option) before any file is read.
if "$acnet" train --help 2>&1 | grep -q -- "--threads <threads>"; then ok "acnet train --help lists --threads"
else ko "acnet train --help lists --threads"; fi
for n in 0 65 two; do
    set +e
    err=$("$acnet" train --model resnet20 --data /nonexistent-dataset --out /nonexistent-run --threads "$n" 2>&1 >/dev/null)
    rc=$?
    set -e
    if [ "$rc" -eq 64 ] && grep -q -- "--threads" <<< "$err"; then ok "acnet train --threads $n refused (exit 64: $(head -1 <<< "$err" | cut -c1-80))"
    else ko "acnet train --threads $n (exit $rc: $err)"; fi
done

# Two identical `acnet train --threads 2` runs (Fashion-MNIST, 256 images, 4 steps) must end with
# bit-identical weights and momentum buffers (the tensor bytes of last.safetensors; the header
# holds timings): work is claimed dynamically by the threads, sums are reduced in a fixed order.
fashion=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
if [ -f "$fashion/train-images-idx3-ubyte.gz" ]; then
    tensors() { local hl; hl=$(od -An -tu8 -N8 "$1" | tr -d ' '); tail -c +$((9 + hl)) "$1" | cksum; }
    sums=()
    for r in 1 2; do
        rm -rf "$log.run$r"
        "$acnet" train --model fashion_net --data "$fashion" --out "$log.run$r" --limit 256 --batch-size 64 \
            --epochs 1 --validation 0 --threads 2 > /dev/null 2>&1 || true
        sums+=("$( [ -f "$log.run$r/last.safetensors" ] && tensors "$log.run$r/last.safetensors" || echo missing)")
    done
    rm -rf "$log.run1" "$log.run2"
    if [ "${sums[0]}" != missing ] && [ "${sums[0]}" = "${sums[1]}" ]; then ok "acnet train --threads 2 twice: bit-identical weights (cksum ${sums[0]% *})"
    else ko "acnet train --threads 2 twice: weights differ or missing (${sums[*]})"; fi
else
    echo "SKIP acnet train --threads repeatability (no Fashion-MNIST at $fashion)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
