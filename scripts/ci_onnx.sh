#!/usr/bin/env bash
# ONNX import (issue 20): imports every fixture of Tests/ACImportTests/Fixtures/onnx with
# `acnet import`, which compares the imported model with ONNX Runtime on seeded random inputs
# (max|Δ| ≤ 1e-4·(1+max|y|)), and checks that refused and hostile files fail with a clear
# message (exit status 1, never a signal); the Pad fixtures (PyTorch's ZeroPad2d subgraph, folded at
# import) must become the convolution's own padding. Also imports the CIFAR-10 ResNet-20 fixture (real
# pretrained weights, option-A shortcuts), a training-form ACNet trained in PyTorch (and its
# state_dict through scripts/pytorch_to_acnet.py + `acnet export`), and fuzzes the importer 30 s.
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

# Pad -> Conv: PyTorch's ZeroPad2d subgraph (constant-folded) and a Pad before a depthwise 5x5
# stride-2 convolution become the convolution's own padding (one op, no identity convolution).
for name in pad_conv_torch pad_depthwise_conv shape_arithmetic_dynamic_batch; do
    if grep -q "1 pads folded into convolutions, 0 pads as identity convolutions" "$work/$name.out" 2>/dev/null \
        && "$acnet" inspect "$work/$name.acnb" >"$work/$name.inspect" 2>&1 && [ "$(grep -c '^ *[0-9]* *conv2d' "$work/$name.inspect")" = 1 ]; then
        pass "$name: Pad folded into the convolution ($(grep -m1 -o '[0-9]* nodes constant-folded' "$work/$name.out"))"
    else
        fail "$name: Pad not folded: $(grep -m1 '^imported' "$work/$name.out" 2>/dev/null) $(grep conv2d "$work/$name.inspect" 2>/dev/null | head -3)"
    fi
done

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

# A training-form ACNet trained in PyTorch (scripts/pytorch_acnet_fashion.py: fashion_micro, four
# ACBs = 12 Conv + 12 BatchNormalization, 400 SGD steps on Fashion-MNIST), exported unfused:
# the import must be the fused graph (one 3x3 conv per ACB, 8 ops as `acnet export` writes
# fashion_micro), match ONNX Runtime, and classify the test set as PyTorch did.
pt=Tests/ACImportTests/Fixtures/pytorch
fm=/usr/share/datasets/fashion-mnist
ref_acc=$("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['test_accuracy'])" "$pt/fashion_micro_reference.json")
accuracy_matches() { # acnet eval --json output; PyTorch's accuracy within 2 of 10000 images (float rounding at ties)
    "$py" -c "import json,sys; a=json.load(open(sys.argv[1]))['accuracy']; sys.exit(0 if abs(a-float(sys.argv[2]))<=2e-4 else 1)" "$1" "$ref_acc"
}
if "$acnet" import "$pt/fashion_micro_acb.onnx" -o "$work/pt.acnb" --python "$py" --verify-batch 64 \
        --mean 0.2860406 --std 0.35302424 >"$work/pt.out" 2>&1 && grep -q "onnxruntime check.*: ok" "$work/pt.out" \
    && grep -q "ops (12 BatchNorms folded, 8 branch merges" "$work/pt.out" \
    && [ "$("$acnet" inspect "$work/pt.acnb" | grep -c 'conv2d 3x3 s1,1 p1,1,1,1')" = 4 ] \
    && "$acnet" inspect "$work/pt.acnb" | grep -q '^total: 8 ops'; then
    pass "PyTorch training-form ACNet: $(grep -m1 '^imported' "$work/pt.out" | sed 's/.*onnx: //'); $(grep -m1 'onnxruntime check' "$work/pt.out" | sed 's/onnxruntime check on //')"
    if [ -d "$fm" ] && "$acnet" eval "$work/pt.acnb" --data "$fm" --json >"$work/pt-eval.json" 2>"$work/pt-eval.err" \
        && accuracy_matches "$work/pt-eval.json"; then
        pass "PyTorch training-form ACNet on the Fashion-MNIST test set: $(grep -o '"accuracy" *: *[0-9.]*' "$work/pt-eval.json"), PyTorch $ref_acc"
    elif [ -d "$fm" ]; then
        fail "PyTorch training-form ACNet eval: $(cat "$work/pt-eval.json" "$work/pt-eval.err" | tail -c 600) (PyTorch $ref_acc)"
    else
        echo "SKIP PyTorch ACNet test-set accuracy ($fm missing: apt-get install dataset-fashion-mnist)"
    fi
else
    fail "PyTorch training-form ACNet: $(tail -c 800 "$work/pt.out")"
fi

# The same network's PyTorch state_dict (official ACNet key layout, num_batches_tracked included),
# converted by scripts/pytorch_to_acnet.py and fused by `acnet export`; also the deploy form
# (one fused_conv per block). Broken state_dicts must fail naming the key.
if [ -d "$fm" ]; then
    for form in acb fused; do
        if python3 scripts/pytorch_to_acnet.py "$pt/fashion_micro_$form.safetensors" --model fashion_micro \
                -o "$work/ck-$form.safetensors" --mean 0.2860406 --std 0.35302424 >"$work/ck.out" 2>&1 \
            && "$acnet" export "$work/ck-$form.safetensors" --out "$work/ck-$form.acnb" --data "$fm" --limit 2000 \
                --winograd off >>"$work/ck.out" 2>&1 \
            && "$acnet" eval "$work/ck-$form.acnb" --data "$fm" --json >"$work/ck-eval.json" 2>>"$work/ck.out" \
            && accuracy_matches "$work/ck-eval.json"; then
            pass "PyTorch state_dict ($form form) -> acnet export: $(grep -o '"accuracy" *: *[0-9.]*' "$work/ck-eval.json"), PyTorch $ref_acc"
        else
            fail "PyTorch state_dict ($form form): $(tail -c 800 "$work/ck.out")"
        fi
    done
    # Broken state_dicts (edit|expected message): the helper or `acnet export` must name the key.
    while IFS='|' read -r edit expect; do
        python3 scripts/ci_onnx_edit_state.py "$pt/fashion_micro_acb.safetensors" "$work/bad.safetensors" "$edit"
        set +e
        { python3 scripts/pytorch_to_acnet.py "$work/bad.safetensors" --model fashion_micro -o "$work/bad-ck.safetensors" \
            && "$acnet" export "$work/bad-ck.safetensors" --out "$work/bad.acnb" --data "$fm" --limit 100; } >"$work/bad.out" 2>&1
        rc=$?
        set -e
        if [ $rc -eq 1 ] && grep -qF -- "$expect" "$work/bad.out" && [ ! -e "$work/bad.acnb" ]; then
            pass "PyTorch state_dict, $edit key refused: $(grep -m1 -F -- "$expect" "$work/bad.out")"
        else
            fail "PyTorch state_dict, $edit key (exit $rc, expected 1 with '$expect'): $(tail -c 600 "$work/bad.out")"
        fi
    done <<'CASES'
missing|checkpoint is missing tensor '3.0.ver_bn.running_var'
extra|checkpoint has unexpected tensor '3.0.extra_conv.weight'
shape|checkpoint tensor '5.0.hor_conv.weight' has shape [64, 32, 3, 1], model expects [64, 32, 1, 3]
mixed|mixed checkpoint: fused blocks ['0.0'] and unfused blocks ['2.0', '3.0', '5.0']
CASES
else
    echo "SKIP PyTorch state_dict checks ($fm missing: apt-get install dataset-fashion-mnist)"
fi

# Importer fuzzing: libFuzzer + ASan over protobuf bytes -> ACImport -> .acnb -> load -> run
# (Tests/Fuzz/FuzzImport.swift), 30 s, seeded with the fixtures above. The runtime objects come
# from the loader-fuzzing stage's build (scripts/fuzz.sh); findings are committed as hostile_*
# fixtures in the manifest.
set +e
scripts/fuzz.sh --import 30 >"$work/fuzz.out" 2>&1
rc=$?
set -e
stats="$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/fuzz.out" | sed 's/.*: //') inputs, $(grep -m1 -o 'exec/s: [0-9]*' <(grep DONE "$work/fuzz.out") || true)"
if [ $rc -eq 0 ] && grep -q "Done [0-9]* runs" "$work/fuzz.out"; then
    pass "importer fuzzing (30 s): $stats, no crash, leak, timeout or rss overflow"
else
    fail "importer fuzzing (exit $rc): $(grep -E 'ERROR|SUMMARY|invariant|Test unit written|error:' "$work/fuzz.out" | head -5)"
fi

echo "onnx import: $passed passed, $failed failed"
[ $failed -eq 0 ]
