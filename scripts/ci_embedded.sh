#!/usr/bin/env bash
# CI stage for the Embedded Swift build of the C library (issues 23 and 18).
#
# 1. Footprint of the host library installed by `make install` (PREFIX): stripped libacnet.so
#    must stay within FOOTPRINT_SO_BUDGET bytes (default 1,100,000) and a
#    statically linked examples/c within FOOTPRINT_EXAMPLE_BUDGET (default 1,900,000); `size`
#    text/data/bss are printed (docs/PERFORMANCE.md, "Footprint").
# 2. Cross-ISA golden tests for aarch64 Linux under qemu-user: `make cross
#    TARGET=aarch64-linux-gnu` (Embedded Swift, NEON kernels), then
#   - every model given, plus a generated set of single-convolution cases (odd channel counts,
#     kernels 1/3/5/7, strides 1-3, Winograd weights stored where 3x3 stride 1), is run on the
#     host's installed libacnet and on the aarch64 build under qemu-aarch64 with the same
#     input; outputs must agree within 1e-3 * max(1, max |y|) (the op sweep's tolerance), both
#     with Winograd where stored and direct (Tests/Cross/golden.c);
#   - abi_test, alloc_test (its malloc interposer, glibc linked dynamically) and threads_test
#     (2-4 threads bit-identical to 1; pthread worker team) run under qemu, and examples/c
#     links against the cross prefix with aarch64-linux-gnu-gcc -lm -lpthread and runs.
#
#   scripts/ci_embedded.sh PREFIX MODEL.acnb [MORE.acnb...]
# PREFIX is the host's `make install` prefix; the first MODEL is also used for the C ABI tests.
# Uses $ACNET_CLI (default .build/release/acnet) to write the generated convolution cases.
# Prints PASS/FAIL/SKIP lines and "N passed, N failed"; exits non-zero on any failure.
set -euo pipefail
prefix=$(cd "$1" && pwd); shift
models=("$@")
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${ACNET_CLI:-$root/.build/release/acnet}
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
pass=0; fail=0
check() { # name, command...
    local name=$1; shift
    if "$@" >"$out/log" 2>&1; then pass=$((pass + 1)); echo "PASS $name"
    else fail=$((fail + 1)); echo "FAIL $name"; sed 's/^/    /' "$out/log" | tail -20; fi
}

# 1. Footprint.
# Budgets (bytes): both at their size when set (602,864 B and 1,352,984 B on x86_64 glibc
# 2.41) plus ~6% for kernel work in flight, inside the issue's 1 MB and 1.5 MB
# (docs/PERFORMANCE.md, "Footprint").
so_budget=${FOOTPRINT_SO_BUDGET:-640000}; example_budget=${FOOTPRINT_EXAMPLE_BUDGET:-1430000}
strip -o "$out/libacnet.so" "$(readlink -f "$prefix/lib/libacnet.so")"
so_size=$(stat -c %s "$out/libacnet.so")
echo "footprint: stripped libacnet.so $so_size bytes; size (text data bss):" \
    "$(size "$prefix/lib/libacnet.so" | awk 'NR == 2 {print $1, $2, $3}')"
check "stripped libacnet.so: $so_size bytes <= budget $so_budget" test "$so_size" -le "$so_budget"
if cc -std=c99 -O2 -static -I"$prefix/include" -o "$out/example_static" "$root/examples/c/main.c" \
        "$prefix/lib/libacnet.a" -lm -lpthread >"$out/log" 2>&1; then
    strip "$out/example_static"
    example_size=$(stat -c %s "$out/example_static")
    echo "footprint: statically linked examples/c, stripped: $example_size bytes"
    check "static examples/c: $example_size bytes <= budget $example_budget" test "$example_size" -le "$example_budget"
    check "static examples/c runs" "$out/example_static" "${models[0]:-$root/models/fashion-mnist-acnet.acnb}"
else
    fail=$((fail + 1)); echo "FAIL static examples/c links (cc -static ... libacnet.a -lm -lpthread)"; tail -5 "$out/log"
fi

# The per-ISA kernel objects of that library (make lib's build folder): AVX-512 cannot run on
# every CI machine, so its object is checked statically, as scripts/check_isa.sh does for SwiftPM.
objdir=$root/.build-clib/release/obj
if [ -f "$objdir/kernels/avx512.o" ]; then
    count() { objdump -d --no-show-raw-insn "$1" | grep -cE "$2" || true; }
    # Scalar FMAs (vfmadd…ss/sd) in a vector ISA's object mean a SIMD16 FMA was left lane by
    # lane: the Embedded build once did this to the AVX-512 direct convolution (5,056 of them).
    zf=$(count "$objdir/kernels/avx512.o" 'vfn?m(add|sub)[0-9]+ps.*%zmm'); zs=$(count "$objdir/kernels/avx512.o" 'vfn?m(add|sub)[0-9]+s[sd]')
    check "AVX-512 kernels: $zf zmm FMA instructions, $zs scalar FMAs" test "$zf" -gt 0 -a "$zs" -eq 0
    yf=$(count "$objdir/kernels/avx2.o" 'vfn?m(add|sub)[0-9]+ps.*%ymm'); yz=$(count "$objdir/kernels/avx2.o" '%zmm')
    ys=$(count "$objdir/kernels/avx2.o" 'vfn?m(add|sub)[0-9]+s[sd]')
    check "AVX2 kernels: $yf ymm FMA instructions, $yz zmm uses, $ys scalar FMAs" test "$yf" -gt 0 -a "$yz" -eq 0 -a "$ys" -eq 0
    bf=$(count "$objdir/kernels/baseline.o" 'vfn?m(add|sub)|fmaf|%[yz]mm')
    check "baseline kernels: no FMA, fmaf call or ymm/zmm ($bf found)" test "$bf" -eq 0
    rv=$(for o in "$objdir"/ACRuntime.o "$objdir"/ACKernelTypes.o "$objdir"/CInterface.o; do objdump -d "$o"; done | grep -c '%[yz]mm' || true)
    check "runtime, kernel types and C interface: no ymm/zmm ($rv found; they run before dispatch)" test "$rv" -eq 0
    for isa in avx512 avx2 baseline; do
        g=$(nm -g --defined-only "$objdir/kernels/$isa.o" | awk '{print $3}' | tr '\n' ' ')
        check "$isa kernels export only acnet_kernels_$isa (${g% })" test "${g% }" = "acnet_kernels_$isa"
    done
else
    echo "SKIP per-ISA kernel object checks ($objdir not built by make lib here)"
fi

# 2. aarch64 Linux under qemu-user.
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v "$tool" >/dev/null || {
        echo "SKIP aarch64 cross tests ($tool not installed; scripts/install_deps.sh installs it)"
        echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
done
sysroot=/usr/aarch64-linux-gnu
qemu=(qemu-aarch64 -L "$sysroot")

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
    # Dynamically linked to glibc (run with the sysroot's ld.so): a static glibc defines malloc too.
    check "build alloc_test (aarch64)" aarch64-linux-gnu-gcc -std=c99 -O1 -Wall -Wextra -Werror \
        -I"$cross/include" -o "$out/alloc_test" "$root/Tests/CABI/alloc_test.c" -L"$cross/lib" -lacnet -lm -lpthread
    check "alloc_test under qemu: zero allocations in 200 runs, no leak in 20 load/free cycles" \
        env ACNET_TEST_EMULATED=1 "${qemu[@]}" "$out/alloc_test" "$model" 200 20
    check "build threads_test (aarch64)" ccx "$out/threads_test" "$root/Tests/CABI/threads_test.c"
    check "threads_test under qemu (2-4 threads bit-identical to 1)" "${qemu[@]}" "$out/threads_test" "$model"
    check "examples/c links with aarch64-linux-gnu-gcc (pkg-config, -lm -lpthread)" bash -c "
        PKG_CONFIG_PATH='$cross/lib/pkgconfig' aarch64-linux-gnu-gcc -std=c99 -O2 -Wall -Wextra -Werror \
        \$(PKG_CONFIG_PATH='$cross/lib/pkgconfig' pkg-config --cflags acnet) -o '$out/acnet_example' '$root/examples/c/main.c' \
        \$(PKG_CONFIG_PATH='$cross/lib/pkgconfig' pkg-config --libs --static acnet)"
    check "examples/c runs under qemu-aarch64 -L $sysroot" "${qemu[@]}" "$out/acnet_example" "$model"
    # Instructions per MAC of direct convolution (NEON 6-pixel tiles; scripts/arm_instructions.sh,
    # ~10 s): 0.449 on the shipped model, 0.517 with the 4-pixel tiles before them.
    bound=${ARM_DIRECT_INSTRUCTIONS_PER_MAC:-0.47}
    macs=$("$cli" inspect "$model" 2>/dev/null | sed -n 's/^total: .* \([0-9][0-9]*\) MACs per image.*/\1/p' || true)
    if [ -n "$macs" ] && { [ "$(basename "$model")" = fashion-mnist-acnet.acnb ] || [ -n "${ARM_DIRECT_INSTRUCTIONS_PER_MAC:-}" ]; }; then
        CONVOLUTION=direct "$root/scripts/arm_instructions.sh" "$cross" "$model" "$macs" 1 > "$out/ipm.txt" 2>&1 || true
        ipm=$(sed -n 's/.*, \([0-9.]*\) instructions per MAC.*/\1/p' "$out/ipm.txt")
        check "aarch64 direct convolution: ${ipm:-?} instructions per MAC <= $bound ($(basename "$model"), qemu count)" \
            awk -v v="${ipm:-9}" -v b="$bound" 'BEGIN { exit !(v <= b) }'
    else
        echo "SKIP aarch64 instructions-per-MAC bound (set for models/fashion-mnist-acnet.acnb; ARM_DIRECT_INSTRUCTIONS_PER_MAC for another model)"
    fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
