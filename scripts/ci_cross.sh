#!/usr/bin/env bash
# Cross-ISA golden tests of the C library for aarch64 Linux, run under qemu-user (issue 18):
# `make cross TARGET=aarch64-linux-gnu` (Embedded Swift, NEON kernels), then
#   - every model given, plus a generated set of single-convolution cases (odd channel counts,
#     kernels 1/3/5/7, strides 1-3, Winograd weights stored where 3x3 stride 1), is run on the
#     host's installed libacnet and on the aarch64 build under qemu-aarch64 with the same
#     input; outputs must agree within 1e-3 * max(1, max |y|) (the op sweep's tolerance), both
#     with Winograd where stored and direct (Tests/Cross/golden.c);
#   - abi_test, alloc_test (its malloc interposer in a static aarch64 binary) and threads_test
#     (2-4 threads bit-identical to 1; pthread worker team) run under qemu, and examples/c
#     links against the cross prefix with aarch64-linux-gnu-gcc -lm -lpthread and runs.
#
#   scripts/ci_cross.sh PREFIX MODEL.acnb [MORE.acnb...]
# PREFIX is the host's `make install` prefix; the first MODEL is also used for the C ABI tests.
# Uses $ACNET_CLI (default .build/release/acnet) to write the generated convolution cases.
# Prints PASS/FAIL/SKIP lines and "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
prefix=$(cd "$1" && pwd); shift
models=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${ACNET_CLI:-$root/.build/release/acnet}
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v "$tool" >/dev/null || { echo "SKIP aarch64 cross tests ($tool not installed; scripts/install_deps.sh installs it)"; exit 0; }
done
sysroot=/usr/aarch64-linux-gnu
qemu=(qemu-aarch64 -L "$sysroot")
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
pass=0; fail=0
check() { # name, command...
    local name=$1; shift
    if "$@" >"$out/log" 2>&1; then pass=$((pass + 1)); echo "PASS $name"
    else fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/    /' "$out/log" | tail -20; fi
}

cross=$out/aarch64
check "make cross TARGET=aarch64-linux-gnu" make -s -C "$root" cross TARGET=aarch64-linux-gnu PREFIX="$cross"
[ -f "$cross/lib/libacnet.a" ] || { echo "$pass passed, $fail failed"; exit 1; }
check "installed: include/acnet.h, lib/libacnet.a (aarch64), lib/pkgconfig/acnet.pc" bash -c "
    cmp '$cross/include/acnet.h' '$root/include/acnet.h' && grep -q -- '-lacnet' '$cross/lib/pkgconfig/acnet.pc' &&
    aarch64-linux-gnu-objdump -f '$cross/lib/libacnet.a' | grep -q 'aarch64'"
check "libacnet.a defines only acnet_* globals" bash -c "
    ! aarch64-linux-gnu-nm --defined-only -g '$cross/lib/libacnet.a' | awk 'NF == 3 {print \$3}' | grep -v '^acnet_'"
neon=$(aarch64-linux-gnu-objdump -d "$cross/lib/libacnet.a" | grep -cE 'fmla\s+v[0-9]+\.4s' || true)
check "NEON kernels: $neon fmla v.4s instructions" test "$neon" -gt 0

# Static binaries: qemu-user then needs nothing from the sysroot but the program.
ccx() { # output, source, extra flags...
    local o=$1 src=$2; shift 2
    aarch64-linux-gnu-gcc -std=c11 -O2 -Wall -Wextra -Werror -static -I"$cross/include" -o "$o" "$src" "$@" \
        -L"$cross/lib" -lacnet -lm -lpthread
}
check "build golden (host, installed libacnet)" cc -std=c11 -O2 -Wall -Wextra -Werror -I"$prefix/include" \
    -o "$out/golden_host" "$root/Tests/Cross/golden.c" -L"$prefix/lib" -lacnet -lm -Wl,-rpath,"$prefix/lib"
check "build golden (aarch64)" ccx "$out/golden_arm" "$root/Tests/Cross/golden.c"

# Generated single-convolution cases: IN:OUT:HW:K:S.
cases=()
if [ -x "$cli" ]; then
    for spec in 3:5:13:3:1 7:9:11:5:2 1:8:8:1:1 17:33:9:3:2 16:24:12:3:1 5:7:10:7:3 64:64:8:3:1 13:3:7:3:1; do
        f=$out/conv_${spec//:/_}.acnb
        if "$cli" bench --arch "conv:$spec" --winograd all --save-model "$f" --warmup 0 --iterations 1 >/dev/null 2>&1
        then cases+=("$f"); else fail=$((fail + 1)); echo "FAIL write conv:$spec with $cli"; fi
    done
else
    echo "SKIP generated convolution cases ($cli not built)"
fi
for m in "${cases[@]}" "${models[@]}"; do
    name=$(basename "$m")
    if "$out/golden_host" write "$m" "$out/want.bin" >"$out/log" 2>&1; then
        check "aarch64 under qemu == host within 1e-3·max(1,max|y|): $name" "${qemu[@]}" "$out/golden_arm" check "$m" "$out/want.bin"
    else
        fail=$((fail + 1)); echo "FAIL host reference for $name"; sed 's/^/    /' "$out/log" | tail -5
    fi
done

model=${models[0]:-${cases[0]:-}}
if [ -n "$model" ]; then
    check "build abi_test (aarch64)" ccx "$out/abi_test" "$root/Tests/CABI/abi_test.c"
    check "abi_test under qemu" "${qemu[@]}" "$out/abi_test" "$model"
    check "build alloc_test (aarch64)" aarch64-linux-gnu-gcc -std=c99 -O1 -Wall -Wextra -Werror -static \
        -I"$cross/include" -o "$out/alloc_test" "$root/Tests/CABI/alloc_test.c" -L"$cross/lib" -lacnet -lm -lpthread
    check "alloc_test under qemu: zero allocations in 200 runs, no leak in 20 load/free cycles" \
        "${qemu[@]}" "$out/alloc_test" "$model" 200 20
    check "build threads_test (aarch64)" ccx "$out/threads_test" "$root/Tests/CABI/threads_test.c"
    check "threads_test under qemu (2-4 threads bit-identical to 1)" "${qemu[@]}" "$out/threads_test" "$model"
    check "examples/c links with aarch64-linux-gnu-gcc (pkg-config, -lm -lpthread)" bash -c "
        PKG_CONFIG_PATH='$cross/lib/pkgconfig' aarch64-linux-gnu-gcc -std=c99 -O2 -Wall -Wextra -Werror \
        \$(PKG_CONFIG_PATH='$cross/lib/pkgconfig' pkg-config --cflags acnet) -o '$out/acnet_example' '$root/examples/c/main.c' \
        \$(PKG_CONFIG_PATH='$cross/lib/pkgconfig' pkg-config --libs --static acnet)"
    check "examples/c runs under qemu-aarch64 -L $sysroot" "${qemu[@]}" "$out/acnet_example" "$model"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
