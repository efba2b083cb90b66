#!/usr/bin/env bash
# Cortex-M firmware run (embedded/cortex-m): builds the firmware for a Cortex-M4 (ACRuntime in
# Embedded Swift, the model and 8 Fashion-MNIST test images in flash), runs it under
# qemu-system-arm on mps2-an386 (Cortex-M4) and mps2-an500 (Cortex-M7, same binary) with
# -icount shift=0, and compares every image's top-1 class and logits with the host's libacnet
# on the same model and images (tolerance 1e-3·max(1, max|y|), as the op sweep). Prints flash,
# RAM and instructions per inference, and bounds the latter (CORTEXM_INSTRUCTIONS_BUDGET).
#
#   scripts/ci_cortexm.sh PREFIX [MODEL.acnb]
#
# PREFIX: a `make install` of the host library (the reference). MODEL defaults to
# models/fashion-micro-acnet.acnb. Needs swiftc, arm-none-eabi-gcc with newlib and
# qemu-system-arm (scripts/install_deps.sh); prints SKIP and exits 0 when one is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(cd "$1" && pwd)
model=$(realpath "${2:-$root/models/fashion-micro-acnet.acnb}")
for tool in swiftc arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm; do
    command -v "$tool" >/dev/null || { echo "SKIP Cortex-M firmware ($tool not installed)"; exit 0; }
done
[ -f "$(arm-none-eabi-gcc -print-file-name=nano.specs)" ] ||
    { echo "SKIP Cortex-M firmware (newlib for arm-none-eabi not installed)"; exit 0; }
[ -f "$model" ] || { echo "FAIL Cortex-M firmware: no model $model"; exit 1; }

out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
build=$out/m4
fail=0
if ! make -C "$root/embedded/cortex-m" CPU=m4 BUILD="$build" MODEL="$model" all host PREFIX="$prefix" \
        >"$out/build.log" 2>&1; then
    echo "FAIL build the Cortex-M4 firmware and the host reference"; tail -30 "$out/build.log" | sed 's/^/    /'
    exit 1
fi
echo "PASS build the Cortex-M4 firmware (Embedded Swift, armv7em, hard float) and the host reference"
"$build/host_reference" "$model" "$build/images.bin" "$build/labels.bin" > "$out/host.txt"

# Compares the firmware's result lines with the host's: same images, same top-1, logits within
# 1e-3·max(1, max|y_host|). Prints the worst relative difference.
compare() {
    awk 'FNR == NR { if ($1 == "image") { host[$2] = $0; hosts++ }; next }
         $1 == "image" {
             seen++
             if (!($2 in host)) { print "    image " $2 " not in the host output"; bad++; next }
             n = split(host[$2], h, " ")
             if ($6 != h[6]) { print "    image " $2 ": top1 " $6 ", host " h[6]; bad++ }
             m = 1; for (i = 8; i <= n; i++) { a = h[i] < 0 ? -h[i] : h[i]; if (a > m) m = a }
             for (i = 8; i <= n; i++) {
                 d = $i - h[i]; if (d < 0) d = -d
                 if (d / m > worst) worst = d / m
                 if (d > 1e-3 * m) { print "    image " $2 " logit " i - 8 ": " $i ", host " h[i]; bad++ }
             }
         }
         END {
             if (seen != hosts || seen == 0) { print "    " seen " images, host has " hosts; bad++ }
             printf "    %d images, worst |Δ|/max(1, max|y|) = %.3g\n", seen, worst
             exit bad > 0
         }' "$out/host.txt" "$1"
}

for machine in mps2-an386 mps2-an500; do
    log=$out/$machine.txt
    status=0
    timeout 120 qemu-system-arm -M "$machine" -nographic -monitor none \
        -semihosting-config enable=on,target=native -icount shift=0,sleep=off \
        -kernel "$build/firmware.elf" > "$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ] || ! grep -q "^PASS firmware run" "$log"; then
        echo "FAIL firmware on $machine (exit status $status)"; tail -20 "$log" | sed 's/^/    /'
        fail=$((fail + 1)); continue
    fi
    if compare "$log" > "$out/compare.txt"; then
        echo "PASS firmware on $machine: top-1 and logits equal the host's"
    else
        echo "FAIL firmware on $machine: outputs differ from the host's"; fail=$((fail + 1))
    fi
    cat "$out/compare.txt"
    grep -E "^threads 2|^instructions per inference|^memory|^model load|^arena" "$log" | sed 's/^/    /'
done

# Instruction budget (regression bound): 10,046,274 instructions per inference with the 5-pixel
# × 4-lane tiles (ConvDirect.laneTile; 14,482,340 with the 4-pixel × 16-lane tiles before them)
# on models/fashion-micro-acnet.acnb, plus ~5%. Other models: CORTEXM_INSTRUCTIONS_BUDGET.
budget=${CORTEXM_INSTRUCTIONS_BUDGET:-10550000}
mean=$(sed -n 's/^instructions per inference: mean \([0-9]*\).*/\1/p' "$out/mps2-an386.txt" 2>/dev/null || true)
if [ "$model" = "$(realpath "$root/models/fashion-micro-acnet.acnb")" ] || [ -n "${CORTEXM_INSTRUCTIONS_BUDGET:-}" ]; then
    if [ -n "$mean" ] && [ "$mean" -le "$budget" ]; then
        echo "PASS instructions per inference on mps2-an386: $mean <= budget $budget"
    else
        echo "FAIL instructions per inference on mps2-an386: ${mean:-none} > budget $budget"; fail=$((fail + 1))
    fi
else
    echo "SKIP instruction budget (set CORTEXM_INSTRUCTIONS_BUDGET for a model other than fashion-micro-acnet)"
fi

# Footprint: flash = .text (code, constants, the model, the images) + .data's load image;
# RAM = .data + .bss (the arena) + the heap and stack high-water marks of the run.
read -r text data bss _ < <(arm-none-eabi-size "$build/firmware.elf" | tail -1)
log=$out/mps2-an386.txt
heap=$(sed -n 's/.*heap high-water \([0-9]*\).*/\1/p' "$log")
stack=$(sed -n 's/.*stack high-water \([0-9]*\).*/\1/p' "$log")
arena=$(sed -n 's/^arena: \([0-9]*\) bytes needed.*/\1/p' "$log")
model_bytes=$(stat -c %s "$model")
# Code and constants of the runtime (Swift), split into kernels and the rest, from the map.
read -r kernels runtime < <(awk 'function hex(s,  v, i) { v = 0; s = tolower(substr(s, 3))
        for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
    /^Linker script and memory map/ { m = 1 }
    m && /^ \./ { name = $1; if (NF >= 4) { size = $3; file = $4 } else next }
    m && /^  +0x/ && NF == 3 { size = $2; file = $3 }
    m && size != "" && name ~ /^\.(text|rodata)/ {
        if (file ~ /acnet\.o$/) {
            if (name ~ /Conv(Direct|Winograd|Depthwise)|Pooling|Dense|Elementwise|Transpose16|kernelTable/)
                k += hex(size); else r += hex(size)
        }
    }
    { size = "" }
    END { print k + 0, r + 0 }' "$build/firmware.map")
echo "footprint (Cortex-M4 build, arm-none-eabi-size): text $text, data $data, bss $bss bytes"
echo "    flash $((text + data)) bytes: model $model_bytes, runtime code+constants $((kernels + runtime))" \
     "(kernels $kernels), images, startup, newlib"
echo "    RAM $((data + bss + ${heap:-0} + ${stack:-0})) bytes: data $data + bss $bss (arena ${arena:-?})" \
     "+ heap high-water ${heap:-?} + stack high-water ${stack:-?}"

# A corrupted model in flash (one byte near the end inverted) must be refused with a status, not run.
corrupt=$out/corrupt.acnb
cp "$model" "$corrupt"
offset=$(( $(stat -c %s "$corrupt") - 100 ))
byte=$(od -An -tu1 -j "$offset" -N1 "$corrupt")
printf "\\$(printf %03o $((255 - byte)))" | dd of="$corrupt" bs=1 seek="$offset" conv=notrunc status=none
status=0
if make -C "$root/embedded/cortex-m" CPU=m4 BUILD="$build" MODEL="$corrupt" all >"$out/build.log" 2>&1; then
    timeout 60 qemu-system-arm -M mps2-an386 -nographic -monitor none -semihosting-config enable=on,target=native \
        -kernel "$build/firmware.elf" > "$out/corrupt.txt" 2>&1 || status=$?
fi
if [ "$status" -eq 1 ] && grep -q "^FAIL model load: ACNET_ERROR_CHECKSUM_MISMATCH" "$out/corrupt.txt"; then
    echo "PASS a corrupted model in flash is refused: $(head -c 120 < <(grep '^FAIL model load' "$out/corrupt.txt"))"
else
    echo "FAIL a corrupted model in flash (exit status $status)"; tail -5 "$out/corrupt.txt" | sed 's/^/    /'
    fail=$((fail + 1))
fi
echo "$([ "$fail" -eq 0 ] && echo PASS || echo FAIL) Cortex-M firmware ($fail failed)"
[ "$fail" -eq 0 ]
