#!/usr/bin/env bash
# CLI hostile-argument matrix (issue 19), against a built CLI:
#   every subcommand x every option that takes a value (read from its --help, so new options are
#   covered without editing this script) x {-1, 0, huge, Int.max, nan, inf}, and
#   every path argument x {missing, directory, FIFO, /proc file, same file as an input}.
# Each case must end with exit status 0, 1 or 64 within 60 s, never a trap (status >= 128 or
# "Fatal error" on stderr); a refusal must print its error on stderr. Numeric options must
# refuse -1, huge, Int.max, nan and inf (--seed accepts any UInt64); path cases must be refused.
# A tiny random IDX dataset and a one-epoch checkpoint are made in a temp dir, so it is fast.
#
#   scripts/ci_cli_matrix.sh [ACNET_CLI]
# Prints PASS/FAIL lines for failures and one summary line; exits non-zero on any failure.
set -euo pipefail
cli=${1:-${ACNET_CLI:-.build/release/acnet}}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$cli" ] || { echo "FAIL cli matrix: $cli is not built"; exit 1; }
cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli")
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0; fail=0; n=0
fails=()

# --- fixtures: a random IDX dataset (64 train, 40 test images of 28x28, 10 classes) ---------
mkdir -p tiny dir
python3 - <<'EOF'
import gzip, os, random, struct
random.seed(19)
def idx(path, dims, data):
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data))
for split, n in (("train", 64), ("t10k", 40)):
    idx(f"tiny/{split}-images-idx3-ubyte.gz", [n, 28, 28], [random.randrange(256) for _ in range(n * 784)])
    idx(f"tiny/{split}-labels-idx1-ubyte.gz", [n], [i % 10 for i in range(n)])
EOF
mkfifo fifo
"$cli" train --model fashion_net --data tiny --out ck --epochs 1 --batch-size 32 --validation 0 \
    --labels 0,1,2,3,4,5,6,7,8,9 >/dev/null 2>ck.log || { echo "FAIL cli matrix: fixture training"; cat ck.log; exit 1; }
"$cli" export ck/best.safetensors --out m.acnb --data tiny >/dev/null 2>&1 || { echo "FAIL cli matrix: fixture export"; exit 1; }
cp "$root/examples/images/bag-1.jpg" img.jpg

# Base invocations: valid and quick. "@" separates words; later words can be replaced.
declare -A base=(
    [classify]="classify@m.acnb@img.jpg"
    [eval]="eval@m.acnb@--data@tiny"
    [train]="train@--model@fashion_net@--data@tiny@--out@OUT@--epochs@1@--batch-size@32@--validation@0@--labels@0,1,2,3,4,5,6,7,8,9"
    [export]="export@ck/best.safetensors@--out@OUT.acnb@--data@tiny@--limit@20"
    [inspect]="inspect@m.acnb"
    [bench]="bench@m.acnb@--iterations@2@--warmup@0"
    [analyze skeleton]="analyze@skeleton@m.acnb"
    [analyze prune]="analyze@prune@m.acnb@--data@tiny@--limit@20@--ratios@0,0.1@--seeds@1"
    [train-bench]="train-bench@--models@lenet5_bn@--batch@4@--iterations@1@--warmup@0@--threads@1"
)

# run LABEL EXPECT ARGS...: EXPECT is "refuse" (status 1 or 64 with a message) or "any" (0 too).
run() {
    local label=$1 expect=$2; shift 2
    n=$((n + 1))
    local rc=0
    timeout 60 "$cli" "$@" >out 2>err </dev/null || rc=$?
    local why=""
    if [ $rc -ge 124 ]; then why="exit $rc (trap, signal or timeout)"
    elif grep -qE "Fatal error|Illegal instruction|Segmentation|Backtrace" err; then why="trap on stderr"
    elif [ $rc -ne 0 ] && [ $rc -ne 1 ] && [ $rc -ne 64 ]; then why="exit $rc"
    elif [ $rc -ne 0 ] && ! grep -q '[^[:space:]]' err; then why="exit $rc without a message"
    elif [ "$expect" = refuse ] && [ $rc -eq 0 ]; then why="accepted (exit 0)"
    fi
    if [ -n "$why" ]; then
        fail=$((fail + 1)); fails+=("$label")
        echo "FAIL $label: $why"; head -3 err | sed 's/^/    /'
    else
        pass=$((pass + 1))
    fi
}

# args CMD [OPTION VALUE]: the base words of CMD, OUT made unique, OPTION's base value dropped,
# OPTION=VALUE appended.
args() {
    local cmd=$1 opt=${2:-} val=${3:-}
    local -a words out=()
    IFS=@ read -r -a words <<<"${base[$cmd]}"
    local i=0
    while [ $i -lt ${#words[@]} ]; do
        local w=${words[$i]//OUT/out$n}
        if [ -n "$opt" ] && [ "$w" = "$opt" ]; then i=$((i + 2)); continue; fi
        out+=("$w"); i=$((i + 1))
    done
    [ -n "$opt" ] && out+=("$opt=$val")
    printf '%s\n' "${out[@]}"
}

# --- 1. every option with a value x hostile numbers -----------------------------------------
values=(-1 0 1e300 9223372036854775807 nan inf)
for cmd in "${!base[@]}"; do
    # Options with a value, from --help: "  --name <value>".
    read -r -a sub <<<"$cmd"
    opts=$("$cli" "${sub[@]}" --help | grep -oE '^  +(-[a-z], )?--[a-z0-9-]+ <' | grep -oE -- '--[a-z0-9-]+' | sort -u)
    for opt in $opts; do
        # Numeric when 'abc' fails to parse as its value.
        mapfile -t a < <(args "$cmd" "$opt" abc)
        numeric=0
        if ! "$cli" "${a[@]}" >/dev/null 2>probe </dev/null && grep -qE "is invalid for|Could not parse|Cannot parse" probe; then numeric=1; fi
        for v in "${values[@]}"; do
            expect=any
            if [ $numeric = 1 ] && [ "$v" != 0 ] && ! { [ "$opt" = --seed ] && [ "$v" = 9223372036854775807 ]; }; then expect=refuse; fi
            mapfile -t a < <(args "$cmd" "$opt" "$v")
            run "$cmd $opt=$v" $expect "${a[@]}"
        done
    done
done

# --- 2. every path argument x hostile paths -------------------------------------------------
# replace CMD WORD NEW: the base words with WORD (a positional path or an option's value) replaced.
replace() {
    local cmd=$1 old=$2 new=$3
    local -a words
    IFS=@ read -r -a words <<<"${base[$cmd]}"
    for w in "${words[@]}"; do w=${w//OUT/out$n}; [ "$w" = "$old" ] && w=$new; printf '%s\n' "$w"; done
}
inputs=("classify m.acnb" "classify img.jpg" "eval m.acnb" "eval tiny" "train tiny" "export ck/best.safetensors"
        "export tiny" "inspect m.acnb" "bench m.acnb" "analyze skeleton m.acnb" "analyze prune m.acnb" "analyze prune tiny")
for entry in "${inputs[@]}"; do
    cmd=${entry% *}; word=${entry##* }
    for p in "$work/missing" "$work/dir" "$work/fifo" /proc/self/status; do
        [ "$word" = tiny ] && [ "$p" = "$work/dir" ] && p="$work/dir"  # an empty directory is no dataset
        mapfile -t a < <(replace "$cmd" "$word" "$p")
        run "$cmd: input $word -> $p" refuse "${a[@]}"
    done
done
# Outputs: missing directory, a directory, a FIFO, under /proc, the same file as an input.
cp m.acnb same.acnb; cp ck/best.safetensors same.safetensors
for p in "$work/missing/x" "$work/dir" "$work/fifo" /proc/x.acnb "$work/same.safetensors"; do
    run "export --out $p" refuse export same.safetensors --out "$p" --data tiny --limit 20
done
for p in "$work/missing/x" "$work/dir" "$work/fifo" /proc/x.svg "$work/same.acnb"; do
    run "analyze skeleton --svg $p" refuse analyze skeleton same.acnb --svg "$p"
    run "analyze prune --csv $p" refuse analyze prune same.acnb --data tiny --limit 20 --ratios 0 --seeds 1 --csv "$p"
    run "analyze prune --svg $p" refuse analyze prune same.acnb --data tiny --limit 20 --ratios 0 --seeds 1 --svg "$p"
done
for p in "$work/missing/x" "$work/dir" "$work/fifo" /proc/x.acnb; do
    run "bench --save-model $p" refuse bench --arch conv:4:4:8 --iterations 1 --warmup 0 --save-model "$p"
done
for p in "$work/img.jpg" "$work/fifo" /proc/self/status /proc/newdir; do
    mapfile -t a < <(replace train "out$n" "$p")
    run "train --out $p" refuse "${a[@]}"
done
cmp -s m.acnb same.acnb && cmp -s ck/best.safetensors same.safetensors \
    && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL an input file was modified"; }

# --- 3. the training side's readers under libFuzzer (safetensors, IDX + bounded gzip) ------
cd "$root"
if ! command -v swiftc >/dev/null || ! command -v python3 >/dev/null; then
    echo "SKIP training-reader fuzzing (no swiftc or python3)"
elif ACNET_FUZZ_DIR="$work/fuzz" scripts/fuzz.sh --training "${ACNET_FUZZ_SECONDS:-30}" >"$work/fuzz.log" 2>&1; then
    echo "PASS training-reader fuzzing: $(grep -oE 'stat::number_of_executed_units: [0-9]+' "$work/fuzz.log" | grep -oE '[0-9]+') inputs, no crash"
else
    fail=$((fail + 1)); fails+=("training-reader fuzzing")
    echo "FAIL training-reader fuzzing"; grep -E "ERROR|SUMMARY|error:|Test unit written" "$work/fuzz.log" | head -10 | sed 's/^/    /'
fi

if [ $fail -eq 0 ]; then
    echo "PASS cli matrix: $pass cases (${#base[@]} commands, options from --help), no trap, every refusal with a message"
else
    echo "FAIL cli matrix: $fail of $n cases failed: ${fails[*]:0:10}"
    exit 1
fi
