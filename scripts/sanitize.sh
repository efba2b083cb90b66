#!/usr/bin/env bash
# Sanitizer runs of the runtime side (issue 6).
#
#   scripts/sanitize.sh [asan|tsan|all]      (default: all)
#
# asan: the runtime, writer and C ABI test suites (ACNET_CORE_ONLY: ACRuntimeTests — malformed
#       files, the corruption matrix, fuzz regressions, op sweeps — and CInterfaceTests — API
#       misuse, concurrency) built with AddressSanitizer in .build-asan, the C helpers also with
#       UndefinedBehaviorSanitizer (swiftc has no -sanitize=undefined on Linux; the debug Swift
#       build traps on overflow and out-of-bounds indexing itself); any report fails the run.
# tsan: the concurrency tests (8 threads × ACNET_CONCURRENCY_RUNS runs, default 1000, sharing
#       one model) built with ThreadSanitizer in .build-tsan.
# Exits non-zero on any failure or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
export ACNET_CORE_ONLY=1
export SWIFT_BACKTRACE=enable=no   # let the sanitizers print the stack, not Swift's crash handler

run_suite() { # scratch, log, filter, sanitizer flags...
    local scratch=$1 log=$2 filter=$3; shift 3
    nice -n 5 swift build --build-tests --scratch-path "$scratch" "$@" 2>&1 | grep -E "error|Build" | grep -v "^\[" || true
    local args=(--skip-build --scratch-path "$scratch" "$@")
    [ -n "$filter" ] && args+=(--filter "$filter")
    set +e
    swift test "${args[@]}" >"$log" 2>&1
    local rc=$?
    set -e
    grep -E "✘|Test run|concurrency:|corruption matrix|ERROR: |SUMMARY: |runtime error:|WARNING: ThreadSanitizer" "$log" | head -40
    if [ $rc -ne 0 ] || grep -qE "ERROR: AddressSanitizer|runtime error:|WARNING: ThreadSanitizer|ERROR: LeakSanitizer" "$log"; then
        echo "sanitize: FAILED (full log: $log)"
        return 1
    fi
    grep -q "Test run with .* passed" "$log"
}

if [ "$mode" = asan ] || [ "$mode" = all ]; then
    echo "== ASan + UBSan: runtime and C ABI tests"
    # The concurrency test runs under TSan below; here 100 runs per thread keep it short.
    ACNET_CONCURRENCY_RUNS=${ACNET_CONCURRENCY_RUNS:-100} \
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:halt_on_error=1:detect_stack_use_after_return=1:allocator_may_return_null=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
        run_suite .build-asan /tmp/acnet-asan-test.log "" --sanitize address -Xcc -fsanitize=undefined
fi
if [ "$mode" = tsan ] || [ "$mode" = all ]; then
    echo "== TSan: concurrency tests"
    TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
        run_suite .build-tsan /tmp/acnet-tsan-test.log "Concurrency" --sanitize thread
fi
echo "sanitize: OK"
