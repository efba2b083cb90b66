#!/usr/bin/env bash
# The test command: install what is needed, build, run the Swift test suite, install the C
# library into a temporary prefix and run the C-level tests, the examples and the JPEG
# classifier tests. Prints each stage's time. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s); stage_start=$start
stage() { local now; now=$(date +%s); echo "== stage '$1' took $((now - stage_start)) s"; stage_start=$now; }

scripts/install_deps.sh
stage "install dependencies"
scripts/check_format.sh
stage "swift format check"

swift build --build-tests 2>&1 | grep -E "error|warning: unre|Compiling|Build" | grep -v Compiling || true
stage "debug build with tests"
swift test --skip-build 2>&1 | tee /tmp/acnet-swift-test.log | grep -E "✘|Test run|passed after|failed" | grep -v "^✔ Test \"" | tail -40
grep -q "Test run with .* passed" /tmp/acnet-swift-test.log
stage "swift test"
scripts/sanitize.sh asan
stage "ASan+UBSan runtime and C ABI tests"
# Multi-threaded sessions under ThreadSanitizer (100 runs per thread; ~1.5 min with the build).
ACNET_CONCURRENCY_RUNS=100 scripts/sanitize.sh tsan
stage "TSan concurrency and threaded-session tests"

swift build -c release --product acnet 2>&1 | tail -1
prefix=$(mktemp -d)
make -s install PREFIX="$prefix" >/dev/null
stage "release build + make install"
scripts/check_isa.sh .build/release
scripts/host_isas.sh .build/release/acnet
stage "CPU dispatch object check"

work=$(mktemp -d)
.build/release/acnet bench --arch resnet20 --save-model "$work/resnet20.acnb" --warmup 0 --iterations 1 >/dev/null
model=models/fashion-mnist-acnet.acnb
[ -f "$model" ] || { .build/release/acnet bench --arch fmnist --save-model "$work/fmnist.acnb" --warmup 0 --iterations 1 >/dev/null; model="$work/fmnist.acnb"; }
bench_models=()
for arch in conv64 conv256 fmnist cifar_quick resnet56 resnet18; do
    .build/release/acnet bench --arch $arch --save-model "$work/$arch.acnb" --warmup 0 --iterations 1 >/dev/null
    bench_models+=("$work/$arch.acnb")
done
scripts/test_c_abi.sh "$prefix" "$model" "$work/resnet20.acnb" "${bench_models[@]}"
stage "C ABI tests and examples"
scripts/embedded_check.sh "$prefix" "$work/resnet20.acnb" 3072 10
stage "Embedded Swift check"
scripts/check_format_reader.sh .build/release/acnet models/*.acnb "$work/resnet20.acnb" "${bench_models[@]}"
stage "docs/FORMAT.md reader vs acnet inspect"
scripts/ci_swift_package.sh .build/debug/acnet-swift-example
stage "Swift package consumer (file:// dependency by version tag)"
scripts/fuzz.sh 60 2>&1 | grep -E "^== |^#[0-9]+.*(DONE|INITED)|ERROR|SUMMARY|stat::number_of_executed_units|Test unit written|error:"
stage "loader fuzzing (libFuzzer+ASan, 60 s)"
scripts/fuzz.sh --shipped 30 2>&1 | grep -E "^== |^#[0-9]+.*(DONE|INITED)|ERROR|SUMMARY|stat::number_of_executed_units|Test unit written|error:"
stage "shipped-library fuzzing (Embedded libacnet, same flags + libFuzzer+ASan, 30 s)"
scripts/sanitize_shipped.sh all "$model" "$work/resnet20.acnb"
stage "C ABI tests on the shipped library under ASan+UBSan and TSan"
scripts/test_train_robustness.sh .build/release/acnet
stage "training robustness (bad input, SIGKILL + resume)"
scripts/ci_cli_matrix.sh .build/release/acnet
stage "CLI hostile-argument matrix + training-reader fuzzing"

if [ -f models/fashion-mnist-acnet.acnb ] && [ -x scripts/test_classify.sh ]; then
    ACNET_CLI=.build/release/acnet scripts/test_classify.sh "$prefix" models/fashion-mnist-acnet.acnb
    stage "JPEG classifier tests"
fi
scripts/ci_python.sh "$prefix"
stage "Python package: wheel, pytest, Ray Data job"
scripts/ci_cortexm.sh "$prefix"
stage "Cortex-M firmware under QEMU (mps2-an386, mps2-an500)"
scripts/ci_onnx.sh .build/release/acnet
stage "ONNX import vs ONNX Runtime (fixtures, hostile files, ResNet-20, PyTorch ACNet + state_dicts, 30 s importer fuzzing)"
# Footprint budget of the installed library; aarch64 build golden-tested under qemu-user.
scripts/ci_embedded.sh "$prefix" "$model" "$work/resnet20.acnb" "${bench_models[@]}"
stage "Embedded C library: footprint, aarch64 under qemu"
scripts/ci_train_kernels.sh .build/release/acnet
stage "training convolution kernels per ISA (direct tiles, im2col)"
.build/release/acnet bench --arch conv64 --iterations 50 --warmup 5
stage "benchmark smoke run"
echo "== total $(( $(date +%s) - start )) s"
