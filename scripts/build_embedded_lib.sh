#!/usr/bin/env bash
# Builds the code of the C library (include/acnet.h) with Embedded Swift: ACKernelTypes,
# ACRuntime and CInterface, the kernels of Sources/ACKernels once per ISA, and the CACNet C
# helpers (support.c, team.c), partially linked into ONE relocatable object whose only global
# definitions are the acnet_* functions of scripts/acnet.map. No Swift runtime or standard
# library is linked: Embedded Swift emits only the standard-library code the runtime uses.
# `make lib` archives the object into libacnet.a and links libacnet.so from it; `make cross`
# does the same for another target.
#
#   scripts/build_embedded_lib.sh TARGET OUT_DIR      writes OUT_DIR/acnet_all.o
#
# TARGET  x86_64-linux-gnu   the host: kernels for AVX-512 (-target-cpu skylake-avx512), AVX2
#                            (haswell, FMA) and baseline x86-64, chosen at model load by cpuid
#                            as in the SwiftPM build (KernelSelection, KernelISA).
#         aarch64-linux-gnu  64-bit ARM Linux (glibc): one kernel set, NEON with FMA (ACNET_ISA_NEON:
#                            ConvDirect's 6-pixel tiles), still named "baseline"; Swift
#                            for aarch64-none-none-elf (there is no Embedded Swift standard
#                            library for aarch64-unknown-linux-gnu), C with aarch64-linux-gnu-gcc.
#
# The module layout is the package's (Package.swift), with two build conditions:
#   ACNET_KERNELS_C_ENTRY  ACRuntime does not import the kernel modules; it reaches each ISA's
#                          table through a C symbol (acnet_kernels_<isa>), so no kernel body is
#                          inlined into the baseline-compiled runtime, and every other symbol of
#                          an ISA's object is made local before linking (no specialisation is
#                          merged across ISAs, which would run one ISA's code for all).
#   ACNET_POSIX            files are mapped, workspaces allocated (out of memory reported as a
#                          status) and worker threads started through CACNet, as the normal
#                          build does through Glibc.
# ACNET_EMBEDDED_SANITIZE (environment), e.g. "fuzzer,address": the same build, every Swift
# and C object also instrumented with those sanitizers (swiftc -sanitize=, cc -fsanitize= with
# fuzzer as fuzzer-no-link), for scripts/fuzz.sh --shipped: the fuzzed code is the shipped code,
# same flags. Give it its own OUT_DIR.
# Rebuilds only when a source or this script is newer than the object.
set -euo pipefail
target=${1:?usage: build_embedded_lib.sh TARGET OUT_DIR}; out=${2:?usage: build_embedded_lib.sh TARGET OUT_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"; out=$(cd "$out" && pwd)
result=$out/acnet_all.o
sources_of() { find "$root/Sources/$1" -name '*.swift' | sort; }
if [ -f "$result" ] && [ -z "$(find "$root/Sources/ACKernelTypes" "$root/Sources/ACKernels" "$root/Sources/ACRuntime" \
        "$root/Sources/CInterface" "$root/Sources/CACNet" "$root/include/acnet.h" "$root/scripts/acnet.map" \
        "$root/scripts/build_embedded_lib.sh" -newer "$result" 2>/dev/null | head -1)" ]; then
    exit 0
fi

case $target in
    x86_64-linux-gnu)
        swift_target=x86_64-unknown-linux-gnu; cc=${CC:-cc}; tools=""
        isas=("avx512|-Xcc -march=skylake-avx512 -target-cpu skylake-avx512 -D ACNET_ISA_AVX512 -D ACNET_ISA_FMA"
              "avx2|-Xcc -march=haswell -target-cpu haswell -D ACNET_ISA_AVX2 -D ACNET_ISA_FMA"
              "baseline|-D ACNET_ISA_BASELINE")
        cflags=(-fPIC) ;;
    aarch64-linux-gnu)
        swift_target=aarch64-none-none-elf; cc=${CROSS_CC:-aarch64-linux-gnu-gcc}; tools=aarch64-linux-gnu-
        isas=("baseline|-D ACNET_ISA_NEON -D ACNET_ISA_FMA")
        cflags=() ;;
    *) echo "build_embedded_lib.sh: unknown target '$target' (x86_64-linux-gnu, aarch64-linux-gnu)" >&2; exit 2 ;;
esac
command -v "$cc" >/dev/null || { echo "build_embedded_lib.sh: C compiler '$cc' not found" >&2; exit 1; }

obj=$out/obj; rm -rf "$obj"; mkdir -p "$obj/CACNet" "$obj/kernels"
cp "$root/Sources/CACNet/include/acnet_support.h" "$root/include/acnet.h" "$obj/CACNet/"
printf 'module CACNet {\n    header "acnet_support.h"\n    header "acnet.h"\n    export *\n}\n' > "$obj/CACNet/module.modulemap"
# -function-sections lets the partial link below drop every function the C ABI cannot reach.
san=${ACNET_EMBEDDED_SANITIZE:-}
swiftsan=(); csan=()
if [ -n "$san" ]; then
    swiftsan=(-sanitize="$san")
    csan=(-fsanitize="${san//fuzzer/fuzzer-no-link}")
    cc=${CC:-clang}
fi
swiftc=(swiftc "${swiftsan[@]}" -enable-experimental-feature Embedded -enable-upcoming-feature ExistentialAny -wmo -parse-as-library
        -target "$swift_target" -I "$obj" -I "$obj/CACNet" -Xfrontend -function-sections)
# Flags as Package.swift's release build: the kernels drop overflow and bounds checks, the
# runtime (the parser and validator of hostile .acnb files) keeps them; scripts/fuzz.sh fuzzes
# the runtime with these same flags.
kernel_flags=(-Ounchecked -enforce-exclusivity=unchecked)
runtime_flags=(-O -enforce-exclusivity=unchecked)

"${swiftc[@]}" -O -module-name ACKernelTypes -emit-module -emit-object -o "$obj/ACKernelTypes.o" \
    $(sources_of ACKernelTypes)
# The ISA builds are independent of each other and of ACRuntime/CInterface: run them alongside.
pids=()
for entry in "${isas[@]}"; do
    isa=${entry%%|*}; flags=${entry#*|}
    # shellcheck disable=SC2086
    "${swiftc[@]}" "${kernel_flags[@]}" $flags -D ACNET_KERNELS_C_ENTRY -module-name "ACKernels_$isa" -emit-object \
        -o "$obj/kernels/$isa.o" $(sources_of ACKernels) &
    pids+=($!)
done
"${swiftc[@]}" "${runtime_flags[@]}" -enable-experimental-feature Extern -D ACNET_KERNELS_C_ENTRY -D ACNET_POSIX \
    -module-name ACRuntime -emit-module -emit-object -o "$obj/ACRuntime.o" $(sources_of ACRuntime)
"${swiftc[@]}" -O -module-name CInterface -emit-object -o "$obj/CInterface.o" $(sources_of CInterface)
for pid in "${pids[@]}"; do wait "$pid" || { echo "build_embedded_lib.sh: a kernel build failed" >&2; exit 1; }; done
for f in support team; do
    "$cc" -std=c11 -O2 "${cflags[@]}" "${csan[@]}" -ffunction-sections -fdata-sections -I "$root/Sources/CACNet/include" \
        -c "$root/Sources/CACNet/$f.c" -o "$obj/$f.o"
done
for entry in "${isas[@]}"; do
    isa=${entry%%|*}
    "${tools}objcopy" --keep-global-symbol="acnet_kernels_$isa" "$obj/kernels/$isa.o"
done

sed -n 's/^ *\(acnet_[a-z_]*\);$/\1/p' "$root/scripts/acnet.map" > "$obj/acnet.syms"
roots=$(sed 's/^/--require-defined=/' "$obj/acnet.syms")
# shellcheck disable=SC2086
"${tools}ld" -r --gc-sections $roots -o "$obj/acnet_all.o" "$obj/ACKernelTypes.o" "$obj/ACRuntime.o" \
    "$obj/CInterface.o" "$obj"/kernels/*.o "$obj/support.o" "$obj/team.o"
"${tools}objcopy" --keep-global-symbols="$obj/acnet.syms" "$obj/acnet_all.o"
mv "$obj/acnet_all.o" "$result"
