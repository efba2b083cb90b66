#!/usr/bin/env bash
# Embedded Swift check of ACRuntime: the runtime's sources compile in Embedded mode for x86_64
# Linux and for bare-metal armv7em-none-none-eabi, and the x86_64 Embedded build, linked into a
# small C program (Tests/Embedded), loads an in-memory model and produces output bit-identical
# to the normal build's libacnet. The x86_64 build carries the kernels of the host's best ISA
# (AVX-512, AVX2+FMA or baseline, read from /proc/cpuinfo as KernelISA.best reads cpuid), so it
# runs on any x86-64 and compares against the ISA libacnet picks on the same CPU.
#
#   scripts/embedded_check.sh PREFIX MODEL.acnb INPUT_COUNT OUTPUT_COUNT
#
# swiftc is driven directly (one whole-module compile per target) rather than through a
# SwiftPM toolset: the bare-metal target cannot build the package's other targets, and this
# keeps the manifest unchanged. The CACNet C helpers are compiled by cc for the host link.
# Prints "N passed, N failed".
set -u
prefix=$(cd "$1" && pwd); model=$2; nin=$3; nout=$4
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
mkdir -p "$out/CACNet"
cp "$root/Sources/CACNet/include/acnet_support.h" "$out/CACNet/"
printf 'module CACNet {\n    header "acnet_support.h"\n    export *\n}\n' > "$out/CACNet/module.modulemap"
# One module: the kernels' types, one copy of the kernels (Sources/ACKernels) and the runtime;
# ACNET_SINGLE_MODULE makes the runtime's dispatch use that copy (KernelSelection.swift).
sources=$(find "$root/Sources/ACKernelTypes" "$root/Sources/ACKernels" "$root/Sources/ACRuntime" -name '*.swift' | sort)
pass=0; fail=0
check() {
    local name=$1; shift
    if "$@" >"$out/log" 2>&1; then pass=$((pass + 1)); echo "PASS $name"
    else fail=$((fail + 1)); echo "FAIL $name"; tail -20 "$out/log" | sed 's/^/    /'; fi
}
embedded=(swiftc -enable-experimental-feature Embedded -wmo -parse-as-library -module-name ACRuntime -Osize -I "$out/CACNet"
          -D ACNET_SINGLE_MODULE)
check "Embedded Swift, armv7em-none-none-eabi" "${embedded[@]}" -target armv7em-none-none-eabi -emit-object \
    -o "$out/ACRuntime-armv7em.o" $sources
# The host's best kernel ISA, with the flags Package.swift gives that ISA's kernel module.
flags=" $(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -1) "
if [[ $flags == *" avx512f "* && $flags == *" avx512cd "* && $flags == *" avx512bw "* && $flags == *" avx512vl "* && $flags == *" avx512dq "* ]]; then
    isa=avx512; isa_flags=(-Xcc -march=skylake-avx512 -target-cpu skylake-avx512 -D ACNET_ISA_AVX512 -D ACNET_ISA_FMA)
elif [[ $flags == *" avx2 "* && $flags == *" fma "* ]]; then
    isa=avx2; isa_flags=(-Xcc -march=haswell -target-cpu haswell -D ACNET_ISA_AVX2 -D ACNET_ISA_FMA)
else
    isa=baseline; isa_flags=(-D ACNET_ISA_BASELINE)
fi
echo "x86_64 Embedded build: kernel ISA $isa (the best this CPU has)"
# shellcheck disable=SC2086
check "Embedded Swift, x86_64 Linux, $isa kernels (+ C entry point)" "${embedded[@]}" -target x86_64-unknown-linux-gnu \
    "${isa_flags[@]}" -emit-object -o "$out/ACRuntime-x86_64.o" \
    $sources "$root/Tests/Embedded/EmbeddedEntry.swift"
check "link the Embedded build into a C program" bash -c "cc -std=c11 -O2 -c '$root/Sources/CACNet/support.c' \
    -I '$root/Sources/CACNet/include' -o '$out/support.o' && cc -std=c11 -O2 '$root/Tests/Embedded/embedded_main.c' \
    '$out/ACRuntime-x86_64.o' '$out/support.o' -o '$out/embedded_main'"
check "the same program on libacnet" cc -std=c11 -O2 -DUSE_ACNET_API "$root/Tests/Embedded/embedded_main.c" \
    -I"$prefix/include" -L"$prefix/lib" -lacnet -Wl,-rpath,"$prefix/lib" -o "$out/normal_main"
compare() {
    "$out/embedded_main" "$model" "$nin" "$nout" > "$out/embedded.txt" &&
    "$out/normal_main" "$model" "$nin" "$nout" > "$out/normal.txt" &&
    diff "$out/embedded.txt" "$out/normal.txt"
}
check "Embedded output == normal build output (bit for bit)" compare
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
