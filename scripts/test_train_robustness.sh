#!/usr/bin/env bash
# Training-side robustness (issue 6), against a built CLI:
#  1. bad arguments, missing and corrupt datasets, missing/corrupt models and images: a message
#     on stderr and a non-zero exit, never a crash (exit status ≥ 128 = killed by a signal);
#  2. SIGKILL of `acnet train` at random moments (3 kills, mid-epoch checkpoints every 2
#     iterations): the checkpoint left behind always loads (the restart resumes from it), and
#     the finished run's per-epoch losses and accuracies equal an uninterrupted run's.
#
#   scripts/test_train_robustness.sh [ACNET_CLI] [FASHION_MNIST_DIR]
# Prints "N passed, N failed"; exits non-zero on any failure.
set -u
cli=${1:-.build/release/acnet}
data=${2:-/usr/share/datasets/fashion-mnist}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$work/err" ] && sed 's/^/    /' "$work/err" | tail -5; }

# refuses NAME COMMAND...: non-zero exit below 128, something on stderr, no Swift crash report.
refuses() {
    local name=$1; shift
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [ -s "$work/err" ] && ! grep -qE "Fatal error|Crash|Backtrace|SIGSEGV|SIGILL" "$work/err"; then
        ok "$name (exit $rc: $(grep -v '^$' "$work/err" | head -1 | cut -c1-90))"
    else
        bad "$name (exit $rc)"
    fi
}

# Datasets: missing, empty, truncated IDX, labels that do not match, garbage gzip.
mkdir -p "$work/empty" "$work/truncated" "$work/mismatch" "$work/garbage"
gzip -dc "$data/train-images-idx3-ubyte.gz" | head -c 100000 | gzip > "$work/truncated/train-images-idx3-ubyte.gz"
cp "$data/train-labels-idx1-ubyte.gz" "$work/truncated/"
cp "$data/train-images-idx3-ubyte.gz" "$work/mismatch/"
cp "$data/t10k-labels-idx1-ubyte.gz" "$work/mismatch/train-labels-idx1-ubyte.gz"
head -c 5000 /dev/urandom > "$work/garbage/train-images-idx3-ubyte.gz"
cp "$data/train-labels-idx1-ubyte.gz" "$work/garbage/"
train=("$cli" train --model lenet5_bn --labels "$(seq -s, 0 9)")
refuses "train: unknown option" "${train[@]}" --data "$data" --out "$work/o" --no-such-option
refuses "train: --epochs 0" "${train[@]}" --data "$data" --out "$work/o" --epochs 0
refuses "train: --batch-size -3" "${train[@]}" --data "$data" --out "$work/o" --batch-size -3
refuses "train: --lr abc" "${train[@]}" --data "$data" --out "$work/o" --lr abc
refuses "train: unknown model" "$cli" train --model no_such_net --data "$data" --out "$work/o"
refuses "train: missing dataset" "${train[@]}" --data "$work/nonexistent" --out "$work/o"
refuses "train: empty dataset directory" "${train[@]}" --data "$work/empty" --out "$work/o"
refuses "train: truncated IDX images" "${train[@]}" --data "$work/truncated" --out "$work/o"
refuses "train: 10000 labels for 60000 images" "${train[@]}" --data "$work/mismatch" --out "$work/o"
refuses "train: garbage instead of gzip" "${train[@]}" --data "$work/garbage" --out "$work/o"
refuses "train: output path is a file" "${train[@]}" --data "$data" --limit 64 --epochs 1 --out /etc/hostname
head -c 3000 /dev/urandom > "$work/bad.acnb"
printf 'not a jpeg' > "$work/bad.jpg"
refuses "classify: missing model" "$cli" classify "$work/none.acnb" "$work/bad.jpg"
refuses "classify: corrupt model" "$cli" classify "$work/bad.acnb" "$work/bad.jpg"
refuses "eval: missing dataset" "$cli" eval "$(dirname "$0")/../models/fashion-mnist-acnet.acnb" --data "$work/nonexistent"
refuses "eval: corrupt model" "$cli" eval "$work/bad.acnb" --data "$data"
refuses "inspect: corrupt model" "$cli" inspect "$work/bad.acnb"
refuses "export: missing checkpoint" "$cli" export "$work/none.safetensors" --out "$work/x.acnb"

# SIGKILL at random moments, then resume; compare with an uninterrupted run.
run=("${train[@]}" --data "$data" --limit 1536 --batch-size 32 --epochs 3 --checkpoint-every 2 --seed 7)
if "${run[@]}" --out "$work/straight" >/dev/null 2>"$work/err"; then ok "uninterrupted reference run"; else bad "uninterrupted reference run"; fi
killed=0
for delay in $((10 + RANDOM % 40)) $((10 + RANDOM % 40)) $((10 + RANDOM % 40)); do  # tenths of a second
    "${run[@]}" --out "$work/killed" >/dev/null 2>>"$work/kill.log" &
    pid=$!
    sleep "$(printf '%d.%02d' $((delay / 10)) $((delay % 10 * 10)))"
    if kill -KILL "$pid" 2>/dev/null; then killed=$((killed + 1)); fi
    wait "$pid" 2>/dev/null
    ls "$work/killed"/.*.tmp-* >/dev/null 2>&1 && rm -f "$work/killed"/.*.tmp-*  # a torn temp file is allowed, never a torn checkpoint
done
echo "    killed $killed of 3 runs (the others had finished); checkpoints found at restart:"
if "${run[@]}" --out "$work/killed" >/dev/null 2>"$work/err"; then ok "the checkpoint left by SIGKILL loads and the run completes"
else bad "resume after SIGKILL"; fi
grep -h "resumed from" "$work/kill.log" "$work/err" | sed 's/^/    /' | head -4
if [ -f "$work/straight/log.csv" ] && diff <(cut -d, -f1-7 "$work/straight/log.csv") <(cut -d, -f1-7 "$work/killed/log.csv") >"$work/err"; then
    ok "killed-and-resumed losses/accuracies equal the uninterrupted run's ($(($(wc -l < "$work/straight/log.csv") - 1)) epochs)"
else
    bad "killed-and-resumed run differs from the uninterrupted one"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
