#!/usr/bin/env bash
# The C-level tests on the shipped library under the sanitizers: the Embedded-Swift build of
# `make lib` (scripts/build_embedded_lib.sh, the same flags that ship) with every Swift and C
# object of the library also instrumented, linked into the C ABI tests.
#
#   scripts/sanitize_shipped.sh [asan|tsan|all] MODEL.acnb RESNET20.acnb
#
# asan: abi_test (API misuse, hostile buffers, lifetimes) and threads_test under AddressSanitizer,
#       the test programs also with UndefinedBehaviorSanitizer; LeakSanitizer on (a refused model
#       or session that leaks its object fails the run).
# tsan: threads_test under ThreadSanitizer: threaded sessions (2–4 threads, the C worker team
#       of Sources/CACNet/team.c and the runtime's task split) bit-identical to 1 thread on every
#       ISA the CPU has, 20 threaded sessions alive at once, every worker joined.
# alloc_test is not run here: it interposes malloc, as the sanitizers' runtimes do; it runs on
# the uninstrumented library in scripts/test_c_abi.sh.
# Builds go to .build-shipped-{asan,tsan}; the library is rebuilt only when a source changed.
# Prints PASS/FAIL lines; exits non-zero on any failure or sanitizer report.
set -uo pipefail
mode=${1:?usage: sanitize_shipped.sh [asan|tsan|all] MODEL.acnb RESNET20.acnb}
model=${2:?model}; resnet=${3:?resnet}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=$(dirname "$(readlink -f "$(command -v swiftc)")")
clang=$bin/clang
swiftlib=$(cd "$bin/../lib/swift/linux" && pwd)
export SWIFT_BACKTRACE=enable=no
pass=0; fail=0
check() { # name, log, command...
    local name=$1 log=$2; shift 2
    if "$@" >"$log" 2>&1 && ! grep -qE "ERROR: (Address|Leak)Sanitizer|WARNING: ThreadSanitizer|runtime error:" "$log"; then
        pass=$((pass + 1)); echo "PASS $name"
    else
        fail=$((fail + 1)); echo "FAIL $name (log: $log)"; grep -vE "^PASS" "$log" | head -30 | sed 's/^/    /'
    fi
}

# build SANITIZER DIR: the library, instrumented.
build() {
    mkdir -p "$2"
    if ! ACNET_EMBEDDED_SANITIZE=$1 CC="$clang" nice -n 5 scripts/build_embedded_lib.sh x86_64-linux-gnu "$2" \
        >"$2/lib-build.log" 2>&1; then
        echo "FAIL build of the $1-instrumented library (log: $2/lib-build.log)"; tail -20 "$2/lib-build.log"; exit 1
    fi
}

if [ "$mode" = asan ] || [ "$mode" = all ]; then
    dir=$root/.build-shipped-asan
    build address "$dir"
    flags=(-std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -Iinclude)
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:allocator_may_return_null=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
    check "asan: build abi_test, threads_test" "$dir/build.log" bash -c "
        '$clang' ${flags[*]} Tests/CABI/abi_test.c '$dir/acnet_all.o' -lm -lpthread -o '$dir/abi_test' &&
        '$clang' ${flags[*]} Tests/CABI/threads_test.c '$dir/acnet_all.o' -lm -lpthread -o '$dir/threads_test'"
    check "asan: abi_test on the shipped library" "$dir/abi_test.log" "$dir/abi_test" "$model"
    check "asan: threads_test on the shipped library" "$dir/threads_test.log" "$dir/threads_test" "$model" "$resnet"
fi
if [ "$mode" = tsan ] || [ "$mode" = all ]; then
    dir=$root/.build-shipped-tsan
    build thread "$dir"
    # Swift's -sanitize=thread instruments through libdispatch's TSan annotations: link them.
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
    check "tsan: build threads_test" "$dir/build.log" "$clang" -std=c11 -O1 -g -fsanitize=thread -Iinclude \
        Tests/CABI/threads_test.c "$dir/acnet_all.o" -L"$swiftlib" -ldispatch -lBlocksRuntime \
        -Wl,-rpath,"$swiftlib" -lm -lpthread -o "$dir/threads_test"
    check "tsan: threads_test on the shipped library" "$dir/threads_test.log" "$dir/threads_test" "$model" "$resnet"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
