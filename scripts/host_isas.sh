#!/usr/bin/env bash
# Prints the CPU model and which kernel ISAs the runtime can run on it (asked of the runtime
# itself, through `acnet bench --isa`, which refuses an ISA cpuid rules out), then one SKIP line
# per ISA the tests cannot exercise here. The test suite's ISA-parametrised tests (OpSweep,
# Dispatch, threads_test, the Embedded check) run every ISA listed as exercised.
#
#   scripts/host_isas.sh ACNET_CLI
set -euo pipefail
cli=$1
field() { sed -n "s/^$1[[:space:]]*: //p" /proc/cpuinfo | head -1; }
cpu="$(field 'model name') (family $(field 'cpu family'), model $(field model))"
ran=(); skipped=()
for isa in baseline avx2 avx512; do
    if "$cli" bench --arch conv64 --isa "$isa" --warmup 0 --iterations 1 >/dev/null 2>&1; then ran+=("$isa"); else skipped+=("$isa"); fi
done
echo "CPU: ${cpu:-unknown}; kernel ISAs exercised: ${ran[*]}"
for isa in ${skipped[@]+"${skipped[@]}"}; do
    echo "SKIP $isa kernel runs (no $isa on this CPU; scripts/check_isa.sh still checks its object code)"
    case $isa in  # the training convolution tiles (ACTrainingKernels, ACTrainingKernelsAVX2)
        avx512) echo "SKIP AVX-512 training convolution tiles (no avx512 on this CPU; scripts/ci_train_kernels.sh runs the lower ones)" ;;
        avx2) echo "SKIP AVX2 training convolution tiles (no avx2 on this CPU; training runs im2col + OpenBLAS)" ;;
    esac
done
