#!/usr/bin/env bash
# C-level checks of the installed library: the header compiles alone as C99 and C++17 with
# -Werror, its function declarations equal libacnet.so's exports, the ABI/misuse tests and the
# zero-allocation/leak tests pass, and the C/C++ examples build (-Werror, pkg-config / CMake) and run.
#
#   scripts/test_c_abi.sh PREFIX MODEL.acnb RESNET20.acnb [MORE.acnb...]
# Multi-threaded sessions are checked (bit-identical to 1 thread, every ISA) on MODEL, RESNET20
# and the MORE models (scripts/test.sh passes the six benchmark architectures).
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -u
prefix=$(cd "$1" && pwd); model=$2; resnet=$3; shift 3; more=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
pass=0; fail=0
check() { # name, command...
    local name=$1; shift
    if "$@" >"$out/log" 2>&1; then pass=$((pass + 1)); echo "PASS $name"
    else fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/    /' "$out/log" | tail -20; fi
}
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
check "header alone, C99 -Werror" gcc -std=c99 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -x c "$prefix/include/acnet.h"
clang=$(command -v clang || true)
if [ -n "$clang" ]; then
    check "header alone, clang C99 -Wpedantic -Werror" "$clang" -std=c99 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -x c "$prefix/include/acnet.h"
fi
check "header alone, C++17 -Werror" g++ -std=c++17 -Wall -Wextra -Wpedantic -Werror -fsyntax-only -x c++ "$prefix/include/acnet.h"
symbols_match() {
    grep -oE 'acnet_[a-z_]+\(' "$prefix/include/acnet.h" | tr -d '(' | sort -u > "$out/header.txt"
    nm -D --defined-only "$prefix/lib/libacnet.so" | awk '{print $3}' | sort -u > "$out/exports.txt"
    diff "$out/header.txt" "$out/exports.txt"
}
check "header declarations == libacnet.so exports" symbols_match
check "libacnet.so needs no Swift runtime" bash -c "! ldd '$prefix/lib/libacnet.so' | grep -q swift"
check "build abi_test" gcc -std=c11 -Wall -Wextra -Werror -o "$out/abi_test" "$root/Tests/CABI/abi_test.c" \
    $(pkg-config --cflags --libs acnet) -Wl,-rpath,"$prefix/lib"
check "abi_test" "$out/abi_test" "$model"
check "build alloc_test" gcc -std=c99 -O1 -Wall -Wextra -Werror -o "$out/alloc_test" "$root/Tests/CABI/alloc_test.c" \
    $(pkg-config --cflags --libs acnet) -Wl,-rpath,"$prefix/lib"
check "zero allocations in 1000 runs of ResNet-20" "$out/alloc_test" "$resnet" 1000
check "zero allocations and flat RSS in 20000 runs, no leak in 2000 load/free cycles" "$out/alloc_test" "$model" 20000 2000
check "build threads_test" gcc -std=c11 -O1 -Wall -Wextra -Werror -o "$out/threads_test" "$root/Tests/CABI/threads_test.c" \
    $(pkg-config --cflags --libs acnet) -Wl,-rpath,"$prefix/lib"
check "threads 2-4 bit-identical to 1 on every ISA; 20 threaded sessions at once, all joined" \
    "$out/threads_test" "$model" "$resnet" "${more[@]}"
check "static link (libacnet.a)" gcc -std=c11 -Wall -Wextra -Werror -o "$out/abi_static" "$root/Tests/CABI/abi_test.c" \
    -I"$prefix/include" "$prefix/lib/libacnet.a" -lstdc++ -lm -lpthread -ldl
check "abi_test, statically linked" "$out/abi_static" "$model"
check "examples/c builds (pkg-config, -Werror)" make -s -C "$root/examples/c" PREFIX="$prefix"
check "examples/c runs" "$root/examples/c/build/acnet_example" "$model"
check "examples/cpp builds (find_package CONFIG)" bash -c "cmake -S '$root/examples/cpp' -B '$out/cpp' -DCMAKE_PREFIX_PATH='$prefix' >/dev/null && cmake --build '$out/cpp'"
check "examples/cpp runs" "$out/cpp/acnet_cpp_example" "$model"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
