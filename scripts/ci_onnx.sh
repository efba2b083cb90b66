#!/usr/bin/env bash
# ONNX import (issue 20): imports every fixture of Tests/ACImportTests/Fixtures/onnx with
# `acnet import`, which compares the imported model with ONNX Runtime on seeded random inputs
# (max|Δ| ≤ 1e-4·(1+max|y|)), and checks that refused and hostile files fail with a clear
# message (exit status 1, never a signal). Also imports the CIFAR-10 ResNet-20 fixture (real
# pretrained weights, option-A shortcuts).
#
# ONNX Runtime comes from PyPI, pinned, in a virtual environment ($ACNET_ONNX_VENV, default
# /tmp/acnet-onnx-venv). Usage: scripts/ci_onnx.sh [ACNET_BINARY]   (default .build/release/acnet)
set -euo pipefail
cd "$(dirname "$0")/.."
acnet=${1:-.build/release/acnet}
fixtures=Tests/ACImportTests/Fixtures/onnx
venv=${ACNET_ONNX_VENV:-/tmp/acnet-onnx-venv}
pins=(onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6)

[ -x "$acnet" ] || { echo "FAIL onnx import: $acnet not built"; exit 1; }
if ! "$venv/bin/python" -c "import onnx, onnxruntime" 2>/dev/null; then
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check "${pins[@]}"; } >/tmp/acnet-onnx-pip.log 2>&1; then
        echo "SKIP onnx import (pip could not install ${pins[*]}; see /tmp/acnet-onnx-pip.log)"
        exit 0
    fi
fi
py="$venv/bin/python"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1"; failed=$((failed + 1)); }

while IFS=$'\t' read -r name expect message extra; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    set +e
    # shellcheck disable=SC2086
    "$acnet" import "$fixtures/$name.onnx" -o "$work/$name.acnb" --python "$py" --winograd off $extra \
        >"$work/$name.out" 2>"$work/$name.err"
    rc=$?
    set -e
    if [ "$expect" = ok ]; then
        line=$(grep -m1 "onnxruntime check" "$work/$name.out" || true)
        if [ $rc -eq 0 ] && [[ "$line" == *": ok" ]] && [ -s "$work/$name.acnb" ]; then
            pass "$name: ${line#onnxruntime check on }"
        else
            fail "$name (exit $rc): $(tail -c 600 "$work/$name.err") $line"
        fi
    else
        if [ $rc -eq 1 ] && grep -qF -- "$message" "$work/$name.err" && [ ! -e "$work/$name.acnb" ]; then
            pass "$name refused: $(head -c 200 "$work/$name.err" | head -1)"
        else
            fail "$name (exit $rc, expected 1 with '$message'): $(head -c 600 "$work/$name.err")"
        fi
    fi
done <"$fixtures/manifest.tsv"

# Winograd on: the auto policy must keep or drop Winograd weights and still match ONNX Runtime.
for name in acb_k3_s1 repvgg_blocks; do
    if "$acnet" import "$fixtures/$name.onnx" -o "$work/$name-w.acnb" --python "$py" --winograd all >"$work/w.out" 2>&1 \
        && grep -q "onnxruntime check.*: ok" "$work/w.out"; then
        pass "$name with --winograd all: $(grep -m1 winograd "$work/w.out" || echo 'no eligible layer')"
    else
        fail "$name with --winograd all: $(tail -c 600 "$work/w.out")"
    fi
done

# Real weights: CIFAR-10 ResNet-20 (option-A shortcuts), 64 random inputs.
r=$fixtures/cifar10-resnet20/resnet20.onnx
if "$acnet" import "$r" -o "$work/resnet20.acnb" --python "$py" --verify-batch 64 \
    --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 \
    --labels airplane,automobile,bird,cat,deer,dog,frog,horse,ship,truck >"$work/r.out" 2>&1 \
    && grep -q "onnxruntime check.*: ok" "$work/r.out" && grep -q "2 shortcut selections" "$work/r.out"; then
    pass "resnet20: $(grep -m1 'onnxruntime check' "$work/r.out" | sed 's/onnxruntime check on //')"
else
    fail "resnet20: $(tail -c 800 "$work/r.out")"
fi

echo "onnx import: $passed passed, $failed failed"
[ $failed -eq 0 ]
