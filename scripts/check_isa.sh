#!/usr/bin/env bash
# Checks the runtime's CPU dispatch in built objects (issue "Speed I"):
#   - ACKernelsAVX512 and ACTrainingKernels use 512-bit FMAs (vfmadd… %zmm), ACKernelsAVX2 and
#     ACTrainingKernelsAVX2 256-bit FMAs and no zmm,
#     ACKernelsBaseline neither an FMA instruction nor an `fmaf` call, and no ymm/zmm;
#   - ACRuntime and ACKernelTypes (which run before dispatch, on any x86_64) use no ymm/zmm;
#   - every code symbol an ISA module defines belongs to that module (its name is part of the
#     mangling). A symbol outside it, such as a generic specialisation of a standard-library
#     function, could be emitted by two ISA modules under one name; the linker keeps one copy
#     and the other ISA would run it — on a CPU without AVX-512, a crash.
#
#   scripts/check_isa.sh [BUILD_DIR]     (default .build/release; x86_64 only)
# Prints "N passed, N failed"; exit status 1 if any check failed.
set -u
dir=${1:-.build/release}
[ "$(uname -m)" = x86_64 ] || { echo "check_isa.sh: x86_64 only (nothing to check on $(uname -m))"; exit 0; }
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# The module's current objects (a build folder can hold stale objects of removed sources).
objects() { sed 's|.*/||; s|$|.o|; s|^|'"$dir/$1.build/"'|' "$dir/$1.build/sources"; }
disasm() { objdump -d -r --no-show-raw-insn $(objects "$1") > "$tmp/$1.s" 2>/dev/null; }
count() { grep -cE "$2" "$tmp/$1.s" || true; }

for m in ACKernelsAVX512 ACKernelsAVX2 ACKernelsBaseline ACRuntime ACKernelTypes ACTrainingKernels ACTrainingKernelsAVX2; do
    if ! [ -f "$dir/$m.build/sources" ]; then ko "$m: not built in $dir (build first)"; continue; fi
    disasm "$m"
done

for m in ACKernelsAVX512 ACTrainingKernels; do
    n=$(count $m 'vfn?m(add|sub)[0-9]+ps.*%zmm')
    [ "$n" -gt 0 ] && ok "$m: $n zmm FMA instructions" || ko "$m: no zmm FMA instruction"
done
for m in ACKernelsAVX2 ACTrainingKernelsAVX2; do
    n=$(count $m 'vfn?m(add|sub)[0-9]+ps.*%ymm'); z=$(count $m '%zmm')
    [ "$n" -gt 0 ] && [ "$z" -eq 0 ] && ok "$m: $n ymm FMA instructions, no zmm" \
        || ko "$m: $n ymm FMAs, $z zmm uses"
done
f=$(count ACKernelsBaseline 'vfn?m(add|sub)'); c=$(count ACKernelsBaseline 'fmaf'); v=$(count ACKernelsBaseline '%[yz]mm')
[ "$f" -eq 0 ] && [ "$c" -eq 0 ] && [ "$v" -eq 0 ] && ok "ACKernelsBaseline: no FMA instruction, no fmaf call, no ymm/zmm" \
    || ko "ACKernelsBaseline: $f FMA instructions, $c fmaf references, $v ymm/zmm uses"
for m in ACRuntime ACKernelTypes; do
    v=$(count $m '%[yz]mm')
    [ "$v" -eq 0 ] && ok "$m: no ymm/zmm (runs before dispatch on any x86_64)" || ko "$m: $v ymm/zmm uses"
done

# ACTrainingKernels and ACTrainingKernelsAVX2 (the training side's AVX-512 and AVX2
# direct-convolution tiles, chosen by cpuid) must keep their code to themselves in the same way.
for m in ACKernelsAVX512 ACKernelsAVX2 ACKernelsBaseline ACTrainingKernels ACTrainingKernelsAVX2; do
    nm --defined-only $(objects "$m") 2>/dev/null | awk '$2 ~ /^[TWtw]$/ { print $3 }' | sort -u > "$tmp/$m.syms"
    foreign=$(grep -v -- "$m" "$tmp/$m.syms" | grep -v '^\.' || true)
    if [ -z "$foreign" ]; then ok "$m: all $(wc -l < "$tmp/$m.syms") code symbols belong to the module"
    else ko "$m: code symbols outside the module (could be merged across ISAs):"; echo "$foreign" | head -5 | sed 's/^/    /'; fi
done
dups=$(cat "$tmp"/AC*Kernels*.syms | sort | uniq -d)
[ -z "$dups" ] && ok "no code symbol defined by two ISA modules" || { ko "symbols defined by two ISA modules:"; echo "$dups" | head -5; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
