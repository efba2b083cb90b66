#!/usr/bin/env bash
# The ACNet reproduction study of docs/RESULTS.md (issue 8), resumable across sittings.
#
#   scripts/study.sh                  # everything (about 8 h of training on 2 idle cores)
#   STAGES="fmnist lenet" scripts/study.sh    # some stages only
#   scripts/study.sh --dry-run        # print what would run, run nothing
#
# Stages (in this order): fmnist lenet cq ablation r20 robustness analysis summary. r20real
# (the real-schedule ResNet-20 study of docs/RESULTS.md, ~1.5 h per run on 2 idle cores) and
# r20torch (its PyTorch cross-check) run only when named, e.g.
#   STAGES="r20real robustness analysis summary" scripts/study.sh
#   STAGES="r20torch summary" TORCH_PYTHON=/path/to/venv/bin/python scripts/study.sh
# Every run writes runs/study/NAME/{last,best}.safetensors, log.csv, curves.svg (by
# `acnet train`), model.acnb + export.txt (`acnet export`, which verifies the fusion through
# ACRuntime) and eval.json (`acnet eval --json`). A run whose eval.json exists is skipped; an
# interrupted run resumes from its last.safetensors (`acnet train` resumes bit for bit). The
# same holds for every robustness/analysis output. Curves and logs are copied to
# docs/results/ so docs/RESULTS.md can link them; `summary` writes docs/results/summary.md.
#
# Schedules (why: docs/RESULTS.md "Study plan"): cosine per iteration, SGD momentum 0.9,
# 2x lr on biases, 5000 training images held out for validation (best checkpoint chosen on them).
set -euo pipefail
cd "$(dirname "$0")/.."

ACNET=${ACNET:-.build/release/acnet}
OUT=${OUT:-runs/study}
DOCS=${DOCS:-docs/results}
FMNIST=${FMNIST:-/usr/share/datasets/fashion-mnist}
CIFAR_TAR=${CIFAR_TAR:-../shared/datasets/cifar10-jpeg.tar.gz}
CIFAR=${CIFAR:-$OUT/data/cifar10-jpeg}
SEEDS=${SEEDS:-"1 2 3"}
ABLATION_SEEDS=${ABLATION_SEEDS:-"1 2"}
STAGES=${STAGES:-"fmnist lenet cq ablation r20 robustness analysis summary"}
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1

# Epochs per model (docs/RESULTS.md explains the budget).
EPOCHS_FMNIST=${EPOCHS_FMNIST:-4}
EPOCHS_LENET=${EPOCHS_LENET:-10}
EPOCHS_CQ=${EPOCHS_CQ:-12}
EPOCHS_R20=${EPOCHS_R20:-5}
EPOCHS_R20REAL=${EPOCHS_R20REAL:-30}
REAL_SEEDS=${REAL_SEEDS:-"1 2 3"}
# Two sittings of the r20real stage can share a 2-core machine, one core each (better than one
# 2-thread run): REAL_VARIANTS=plain TRAIN_THREADS=1 … & REAL_VARIANTS=acb TRAIN_THREADS=1 …
REAL_VARIANTS=${REAL_VARIANTS:-"plain acb"}
TRAIN_THREADS=${TRAIN_THREADS:-}

FMNIST_RECIPE=(--model fashion_net --epochs "$EPOCHS_FMNIST" --batch-size 128 --lr 0.1 --warmup 1
               --weight-decay 5e-4 --bias-lr-multiplier 2 --flip --validation 5000)
LENET_RECIPE=(--model lenet5_bn --epochs "$EPOCHS_LENET" --batch-size 128 --lr 0.05 --warmup 0
              --weight-decay 1e-4 --bias-lr-multiplier 2 --validation 5000)
CQ_RECIPE=(--model cifar_quick --epochs "$EPOCHS_CQ" --batch-size 128 --lr 0.05 --warmup 0
           --weight-decay 1e-4 --bias-lr-multiplier 2 --crop-padding 4 --flip --validation 5000)
R20_RECIPE=(--model resnet20 --epochs "$EPOCHS_R20" --batch-size 128 --lr 0.1 --warmup 1
            --weight-decay 1e-4 --bias-lr-multiplier 2 --crop-padding 4 --flip --validation 5000)
# The real schedule (docs/RESULTS.md "Real schedule"): 30 epochs of cosine with a 1-epoch
# warm-up, weight decay 5e-4 (the usual choice for CIFAR ResNets on schedules of tens of epochs,
# where 1e-4 regularises too little), everything else as above. ACB gamma starts at 1/3 per
# branch (the model's default for CIFAR, as in the official ACNet code).
R20REAL_RECIPE=(--model resnet20 --epochs "$EPOCHS_R20REAL" --batch-size 128 --lr 0.1 --warmup 1
                --weight-decay 5e-4 --bias-lr-multiplier 2 --crop-padding 4 --flip --validation 5000
                --checkpoint-every 50)

log() { echo "== $(date +%H:%M:%S) $*"; }
run() { if [ $DRY = 1 ]; then echo "   would run: $*"; else "$@"; fi; }
has() { case " $STAGES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

if [ $DRY = 0 ] && [ ! -x "$ACNET" ]; then
    swift build -c release --product acnet
fi
mkdir -p "$OUT" "$DOCS/curves" "$DOCS/logs"

cifar_data() {
    if [ ! -d "$CIFAR/train" ]; then
        log "extracting $CIFAR_TAR into $OUT/data"
        mkdir -p "$OUT/data"
        run tar -xzf "$CIFAR_TAR" -C "$OUT/data"
    fi
}

# train_run NAME DATA ARGS...: train, export (verified), evaluate; skipped when eval.json exists.
train_run() {
    local name=$1 data=$2; shift 2
    local dir=$OUT/$name
    if [ -f "$dir/eval.json" ]; then log "$name: done (skipped)"; return; fi
    log "$name: acnet train $*"
    mkdir -p "$dir"
    run "$ACNET" train --data "$data" --out "$dir" "$@" 2>>"$dir/train.log"
    [ $DRY = 1 ] && return
    "$ACNET" export "$dir/best.safetensors" --out "$dir/model.acnb" --data "$data" >"$dir/export.txt"
    "$ACNET" eval "$dir/model.acnb" --data "$data" --json >"$dir/eval.json.tmp"
    mv "$dir/eval.json.tmp" "$dir/eval.json"
    cp "$dir/curves.svg" "$DOCS/curves/$name.svg"
    cp "$dir/log.csv" "$DOCS/logs/$name.csv"
    log "$name: $(cat "$dir/eval.json")"
}

if has fmnist; then
    for s in $SEEDS; do
        train_run "fmnist-plain-s$s" "$FMNIST" "${FMNIST_RECIPE[@]}" --no-acb --seed "$s"
        train_run "fmnist-acb-s$s" "$FMNIST" "${FMNIST_RECIPE[@]}" --acb --seed "$s"
    done
fi
if has lenet; then
    for s in $SEEDS; do
        train_run "lenet-plain-s$s" "$FMNIST" "${LENET_RECIPE[@]}" --no-acb --seed "$s"
        train_run "lenet-acb-s$s" "$FMNIST" "${LENET_RECIPE[@]}" --acb --seed "$s"
    done
fi
if has cq; then
    cifar_data
    for s in $SEEDS; do
        train_run "cq-plain-s$s" "$CIFAR" "${CQ_RECIPE[@]}" --no-acb --seed "$s"
        train_run "cq-acb-s$s" "$CIFAR" "${CQ_RECIPE[@]}" --acb --seed "$s"
    done
fi
if has ablation; then
    cifar_data
    for s in $ABLATION_SEEDS; do
        for v in hor ver sharedbn; do
            train_run "cq-$v-s$s" "$CIFAR" "${CQ_RECIPE[@]}" --acb --acb-variant "$v" --seed "$s"
        done
    done
fi
if has r20; then
    cifar_data
    for s in $SEEDS; do
        train_run "r20-plain-s$s" "$CIFAR" "${R20_RECIPE[@]}" --no-acb --seed "$s"
        train_run "r20-acb-s$s" "$CIFAR" "${R20_RECIPE[@]}" --acb --seed "$s"
    done
fi
if has r20real; then
    cifar_data
    threads=(); [ -n "$TRAIN_THREADS" ] && threads=(--threads "$TRAIN_THREADS")
    for s in $REAL_SEEDS; do
        for v in $REAL_VARIANTS; do
            case $v in plain) flag=--no-acb ;; acb) flag=--acb ;; *) echo "REAL_VARIANTS: plain or acb, not '$v'" >&2; exit 2 ;; esac
            train_run "r20real-$v-s$s" "$CIFAR" "${R20REAL_RECIPE[@]}" "$flag" --seed "$s" "${threads[@]}"
        done
    done
fi

# The PyTorch cross-check of the real schedule (scripts/pytorch_resnet_cifar.py, the same recipe;
# needs TORCH_PYTHON, a Python with PyTorch and Pillow): runs torch-r20real-{plain,acb}-sS for
# TORCH_SEEDS, each dir's eval.json holding its test accuracy, and evaluates every r20real
# checkpoint of ours in PyTorch (torch-eval.json beside its eval.json: the two must agree).
if has r20torch; then
    cifar_data
    py=${TORCH_PYTHON:?stage r20torch needs TORCH_PYTHON (a python with torch and Pillow)}
    for s in ${TORCH_SEEDS:-1}; do
        for v in plain acb; do
            name=torch-r20real-$v-s$s; dir=$OUT/$name
            [ -f "$dir/eval.json" ] && { log "$name: done (skipped)"; continue; }
            log "$name: pytorch_resnet_cifar.py train"
            flag=(); [ $v = acb ] && flag=(--acb)
            run "$py" scripts/pytorch_resnet_cifar.py train --data "$CIFAR" --out "$dir" --epochs "$EPOCHS_R20REAL" \
                --seed "$s" "${flag[@]}" >>"$dir.log" 2>&1
            [ $DRY = 1 ] && continue
            python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); json.dump({"accuracy": r["test_accuracy"], "trainer": r["recipe"]["trainer"]}, open(sys.argv[2], "w"))' \
                "$dir/result.json" "$dir/eval.json"
            cp "$dir/log.csv" "$DOCS/logs/$name.csv"
        done
    done
    for dir in "$OUT"/r20real-*-s*; do
        [ -f "$dir/best.safetensors" ] && [ -f "$dir/eval.json" ] && [ ! -f "$dir/torch-eval.json" ] || continue
        log "$(basename "$dir"): our checkpoint evaluated in PyTorch"
        run "$py" scripts/pytorch_resnet_cifar.py eval --data "$CIFAR" --checkpoint "$dir/best.safetensors" \
            >"$dir/torch-eval.json.tmp" && [ $DRY = 0 ] && mv "$dir/torch-eval.json.tmp" "$dir/torch-eval.json"
    done
fi

# Rotation/flip robustness of the plain, hor-only, ver-only and full-ACB Cifar-quick models
# (the ablation seeds), and of the Fashion-MNIST nets.
if has robustness; then
    models=()
    for s in $ABLATION_SEEDS; do models+=("cq-plain-s$s" "cq-hor-s$s" "cq-ver-s$s" "cq-acb-s$s"); done
    for s in $SEEDS; do models+=("fmnist-plain-s$s" "fmnist-acb-s$s"); done
    for s in $REAL_SEEDS; do models+=("r20real-plain-s$s" "r20real-acb-s$s"); done
    for name in "${models[@]}"; do
        dir=$OUT/$name
        [ -f "$dir/model.acnb" ] || { log "$name: no model.acnb yet (train it first)"; continue; }
        case $name in fmnist*) data=$FMNIST ;; *) data=$CIFAR ;; esac
        for t in rot90 rot180 rot270 flipud fliplr; do
            [ -f "$dir/eval-$t.json" ] && continue
            log "$name: eval --transform $t"
            if [ $DRY = 1 ]; then continue; fi
            "$ACNET" eval "$dir/model.acnb" --data "$data" --transform "$t" --json >"$dir/eval-$t.json.tmp"
            mv "$dir/eval-$t.json.tmp" "$dir/eval-$t.json"
        done
    done
fi

# Skeleton grids and pruning curves of plain and ACB ResNet-20 (seed 1), and of the
# Fashion-MNIST nets for comparison.
if has analysis; then
    for name in r20-plain-s1 r20-acb-s1 fmnist-plain-s1 fmnist-acb-s1 cq-plain-s1 cq-acb-s1 r20real-plain-s1 r20real-acb-s1; do
        dir=$OUT/$name
        [ -f "$dir/model.acnb" ] || { log "$name: no model.acnb yet (train it first)"; continue; }
        case $name in fmnist*) data=$FMNIST ;; *) data=$CIFAR ;; esac
        if [ ! -f "$DOCS/skeleton-$name.txt" ]; then
            log "$name: analyze skeleton"
            run "$ACNET" analyze skeleton "$dir/model.acnb" --svg "$DOCS/skeleton-$name.svg" \
                --title "average relative importance: $name" >"$DOCS/skeleton-$name.txt.tmp"
            [ $DRY = 1 ] || mv "$DOCS/skeleton-$name.txt.tmp" "$DOCS/skeleton-$name.txt"
        fi
        case $name in r20*|fmnist*) ;; *) continue ;; esac
        if [ ! -f "$DOCS/prune-$name.txt" ]; then
            log "$name: analyze prune"
            run "$ACNET" analyze prune "$dir/model.acnb" --data "$data" --ratios 0,0.05,0.1,0.2,0.3,0.4 \
                --seeds 3 --limit 2000 --svg "$DOCS/prune-$name.svg" --csv "$DOCS/prune-$name.csv" \
                --title "random pruning: $name (2000 test images)" >"$DOCS/prune-$name.txt.tmp" 2>"$dir/prune.log"
            [ $DRY = 1 ] || mv "$DOCS/prune-$name.txt.tmp" "$DOCS/prune-$name.txt"
        fi
    done
fi

# docs/results/summary.md: mean ± sample std over seeds of every group, from the eval JSONs.
if has summary && [ $DRY = 0 ]; then
    python3 - "$OUT" "$DOCS/summary.md" <<'PY'
import json, os, re, statistics, sys
out, dest = sys.argv[1], sys.argv[2]
groups = {}
for name in sorted(os.listdir(out)):
    m = re.fullmatch(r"(.+)-s(\d+)", name)
    path = os.path.join(out, name, "eval.json")
    if not m or not os.path.exists(path):
        continue
    row = groups.setdefault(m.group(1), {"seeds": [], "acc": [], "t": {}, "tacc": []})
    row["seeds"].append(int(m.group(2)))
    acc = json.load(open(path))["accuracy"]
    row["acc"].append(acc)
    if os.path.exists(os.path.join(out, name, "eval-rot90.json")):
        row["tacc"].append(acc)  # the untransformed accuracy of the seeds in the robustness table
    for t in ["rot90", "rot180", "rot270", "flipud", "fliplr"]:
        p = os.path.join(out, name, f"eval-{t}.json")
        if os.path.exists(p):
            row["t"].setdefault(t, []).append(json.load(open(p))["accuracy"])
def ms(v):
    return f"{statistics.mean(v):.4f} ± {statistics.stdev(v):.4f}" if len(v) > 1 else f"{v[0]:.4f}"
lines = ["# Study summary (generated by scripts/study.sh; accuracy on the full test split)", "",
         "| group | seeds | test accuracy (mean ± sample std) | per seed |", "|---|---|---|---|"]
for g, r in groups.items():
    lines.append(f"| {g} | {' '.join(map(str, r['seeds']))} | {ms(r['acc'])} | {' '.join(f'{a:.4f}' for a in r['acc'])} |")
lines += ["", "## Plain vs ACB", "",
          "| model | plain | ACB | Δ mean (ACB − plain) | abs(Δ) larger than both groups' seed std? |", "|---|---|---|---|---|"]
for base in ["fmnist", "lenet", "cq", "r20", "r20real", "torch-r20real"]:
    p, a = groups.get(base + "-plain"), groups.get(base + "-acb")
    if not p or not a:
        continue
    d = statistics.mean(a["acc"]) - statistics.mean(p["acc"])
    if len(p["acc"]) < 2 or len(a["acc"]) < 2:
        verdict = "n/a (fewer than 2 seeds)"
    else:
        sd = max(statistics.stdev(p["acc"]), statistics.stdev(a["acc"]))
        verdict = f"{'yes' if abs(d) > sd else 'no'} (larger std {sd:.4f})"
    lines.append(f"| {base} | {ms(p['acc'])} | {ms(a['acc'])} | {d:+.4f} | {verdict} |")
ts = ["rot90", "rot180", "rot270", "flipud", "fliplr"]
lines += ["", "## Robustness (test accuracy on transformed test images)", "",
          "| group | seeds | original | " + " | ".join(ts) + " |", "|---|---|---|" + "---|" * len(ts)]
for g, r in groups.items():
    if r["t"] and r["tacc"]:
        lines.append(f"| {g} | {len(r['tacc'])} | {ms(r['tacc'])} | " + " | ".join(ms(r["t"][t]) if t in r["t"] else "" for t in ts) + " |")
lines += ["", "## Training curves", ""]
for name in sorted(os.listdir(out)):
    if os.path.exists(os.path.join(os.path.dirname(dest), "curves", name + ".svg")):
        lines.append(f"- [{name}](curves/{name}.svg) (log: [logs/{name}.csv](logs/{name}.csv))")
open(dest, "w").write("\n".join(lines) + "\n")
print(open(dest).read())
PY
fi
log "study: done with stages: $STAGES"
