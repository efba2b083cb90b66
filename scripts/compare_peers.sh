#!/usr/bin/env bash
# Our runtime next to the direct/GEMM peers of ../shared/bench (ONNX Runtime, OpenVINO,
# LiteRT/XNNPACK, ncnn with Winograd off, and ncnn with Winograd on for reference), on the same
# six models with the same weights and inputs, alternating back to back; writes
# docs/PERFORMANCE.md (bench/compare_report.py). Reuses the shared harness by path.
#
# Knobs (environment):
#   PASSES=2         full passes (even passes walk the runtimes in reverse order)
#   THREADS=1        thread counts, e.g. 1,2 or 2; at 2 threads every measurement logs the
#                    core-to-core round trip (../shared/bench/c2c.c) before and after it
#   ONLY_MODELS=""   e.g. "conv3x3_64c_56 fmnist" (names of gen_models.py); default all six
#   ATTEMPTS=3       harness attempts per measurement when the foreign load is > 0.15 cores
#   FIX_ROUNDS=1     afterwards, re-runs of measurements still above 0.15 cores
#   MIN_S=3          harness minimum timed seconds per measurement
#   PEAK_RUNS=3      fma_peak.c runs at the start and at the end
#   SRC=head         build the committed HEAD (default: reproducible, and immune to other
#                    people's half-finished edits in the shared tree) or the working tree (tree)
#   WORK=/tmp/acnet-peers   scratch: source snapshot + its build dirs, models, raw results
#   PEERS_BENCH=<repo>/../shared/bench   the shared harness;  VENV=/tmp/peersvenv
#   OUT=<repo>/docs/PERFORMANCE.md
#   REPORT_ONLY=1    only rewrite OUT from the raw data in WORK (e.g. after an interrupted run:
#                    the report then says which measurements are missing)
# Quick run: PASSES=1 ONLY_MODELS="conv3x3_64c_56" PEAK_RUNS=1 scripts/compare_peers.sh
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${WORK:-/tmp/acnet-peers}"
PEERS_BENCH="${PEERS_BENCH:-$(cd "$REPO/../shared/bench" && pwd)}"
VENV="${VENV:-/tmp/peersvenv}"
PASSES="${PASSES:-2}"
THREADS="${THREADS:-1}"
ATTEMPTS="${ATTEMPTS:-3}"
FIX_ROUNDS="${FIX_ROUNDS:-1}"
MIN_S="${MIN_S:-3}"
PEAK_RUNS="${PEAK_RUNS:-3}"
SRC="${SRC:-head}"
OUT="${OUT:-$REPO/docs/PERFORMANCE.md}"
ONLY=()
[ -n "${ONLY_MODELS:-}" ] && ONLY=(--only-model $ONLY_MODELS)
CMD="PASSES=$PASSES THREADS=$THREADS ATTEMPTS=$ATTEMPTS FIX_ROUNDS=$FIX_ROUNDS MIN_S=$MIN_S PEAK_RUNS=$PEAK_RUNS SRC=$SRC"
[ -n "${ONLY_MODELS:-}" ] && CMD="$CMD ONLY_MODELS=\"$ONLY_MODELS\""
CMD="$CMD scripts/compare_peers.sh"
export PEERS_BENCH
mkdir -p "$WORK"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
DATE="$(date -u +%Y-%m-%dT%H:%MZ)"
stage() { echo "=== $(date +%H:%M:%S) $*"; }
# WORK/run.json: facts about the run for the report; runjson KEY=VALUE... merges into it.
runjson() {
  python3 - "$WORK/run.json" "$@" <<'PYEOF'
import json, os, sys
p = sys.argv[1]
d = json.load(open(p)) if os.path.exists(p) else {}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    try:
        d[k] = json.loads(v)
    except ValueError:
        d[k] = v
json.dump(d, open(p, "w"), indent=1)
PYEOF
}
if [ "${REPORT_ONLY:-0}" = 1 ]; then
  [ -f "$WORK/run.json" ] || { echo "no $WORK/run.json: run the script first" >&2; exit 1; }
  grep -q '"loadavg_end"' "$WORK/run.json" || runjson "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg) (when the report was written)"
  "$VENV/bin/python" "$REPO/bench/compare_report.py" "$WORK" "$OUT"
  exit 0
fi

# 1. Source snapshot: others may be editing the tree (SwiftPM stops on a file modified during
#    the build), so build a copy. Only changed files are copied (keeps incremental builds).
stage "snapshot ($SRC) -> $WORK/src"
SNAP="$WORK/src"
mkdir -p "$SNAP"
if [ "$SRC" = head ]; then
  rm -rf "$WORK/head"; mkdir -p "$WORK/head"
  git -C "$REPO" archive HEAD | tar -C "$WORK/head" -xf -
  FROM="$WORK/head"; LIST="$(cd "$FROM" && find . \( -type f -o -type l \) | sed 's|^\./||')"
  GIT="$(git -C "$REPO" rev-parse --short HEAD)"; NOTE="committed HEAD, $(git -C "$REPO" log -1 --format=%cI)"
else
  FROM="$REPO"; LIST="$(git -C "$REPO" ls-files -co --exclude-standard | grep -v '^runs/')"
  GIT="$(git -C "$REPO" rev-parse --short HEAD)"
  NOTE="working tree; $(git -C "$REPO" status --porcelain -- Sources Package.swift include | wc -l) uncommitted change(s) under Sources/, include/, Package.swift at snapshot time"
fi
rm -f "$WORK/run.json"
FLAGS="$(lscpu | sed -n 's/^Flags: *//p' | tr ' ' '\n' | grep -xE 'avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16' | tr '\n' ' ')"
runjson "date=$DATE" "command=$CMD" "git=$GIT" "git_note=$NOTE" "passes=$PASSES" "attempts=$ATTEMPTS" \
  "min_s=$MIN_S" "warmup=10 calls and 1 s" "lscpu_model=$(lscpu | sed -n 's/^Model name: *//p')" \
  "nproc=$(nproc)" "lscpu_flags=$FLAGS" "loadavg_start=$LOAD_START" "swift=$(swift --version 2>&1 | head -1)" \
  "complete=false"
printf '%s\n' "$LIST" | python3 -c '
import filecmp, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
want = {l for l in sys.stdin.read().splitlines() if l and os.path.isfile(os.path.join(src, l))}
n = 0
for rel in want:
    d = os.path.join(dst, rel)
    if not os.path.exists(d) or not filecmp.cmp(os.path.join(src, rel), d, shallow=False):
        os.makedirs(os.path.dirname(d), exist_ok=True); shutil.copy2(os.path.join(src, rel), d); n += 1
for root, dirs, files in os.walk(dst):
    dirs[:] = [x for x in dirs if not (root == dst and x.startswith(".build"))]
    for f in files:
        rel = os.path.relpath(os.path.join(root, f), dst)
        if rel not in want: os.remove(os.path.join(root, f)); n += 1
print(f"{len(want)} files, {n} updated")' "$FROM" "$SNAP"

# 2. Build the CLI (own scratch path) and the C library (own CLIB_SCRATCH), install to WORK/prefix.
stage "build acnet CLI"
(cd "$SNAP" && nice -n 5 swift build -c release --product acnet --scratch-path .build-peers 2>&1 | tail -3)
ACNET="$SNAP/.build-peers/release/acnet"
stage "build + install libacnet"
(cd "$SNAP" && nice -n 5 make install PREFIX="$WORK/prefix" CLIB_SCRATCH=.build-peers-clib 2>&1 | tail -3)
export ACNET_LIB="$WORK/prefix/lib/libacnet.so"

# 3. The peers' environment (pins of ../shared/bench/run_all.sh).
stage "peers venv $VENV"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0 openvino==2026.4.1 \
  ncnn==1.0.20261020 pnnx==20261020 ai-edge-litert==2.3.0 flatbuffers==25.12.19
PY="$VENV/bin/python"
"$PY" "$PEERS_BENCH/versions.py" "$WORK/versions.json" > /dev/null

# 4. Machine limits (FMA peak, c2c probe) at the start.
stage "FMA peak (start)"
gcc -O3 -march=native -fopenmp "$PEERS_BENCH/fma_peak.c" -o "$WORK/fma_peak"
gcc -O2 -pthread "$PEERS_BENCH/c2c.c" -o "$WORK/c2c"
export PEERS_C2C="$WORK/c2c"
rm -f "$WORK/peak.jsonl" "$WORK/results.jsonl"
rm -rf "$WORK/outputs"
(cd "$PEERS_BENCH" && "$PY" peak.py "$WORK/fma_peak" "$WORK/peak.jsonl" "$PEAK_RUNS" start)

# 5. Models: ONNX + TFLite (gen_models.py), ncnn (convert_ncnn.py); regenerated when the
#    generator changed. Ours: the ONNX weights in BenchmarkModels' architectures.
M="$WORK/models"
if [ ! -f "$M/models.json" ] || [ "$PEERS_BENCH/gen_models.py" -nt "$M/models.json" ] \
   || [ ! -f "$M/ncnn/convert_status.json" ]; then
  stage "generate models"
  "$PY" "$PEERS_BENCH/gen_models.py" "$M"
  (cd "$PEERS_BENCH" && "$PY" convert_ncnn.py "$M" "$VENV/bin/pnnx")
fi
stage "our .acnb files (ONNX weights)"
mkdir -p "$M/acnet"
for name in $("$PY" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))))' "$M/models.json"); do
  case "$name" in conv3x3_64c_56) arch=conv64 ;; conv3x3_256c_14) arch=conv256 ;; *) arch="$name" ;; esac
  "$PY" "$REPO/bench/onnx_weights.py" "$M/$name.onnx" "$M/acnet/$name.safetensors" --model "$name"
  "$ACNET" bench --arch "$arch" --weights "$M/acnet/$name.safetensors" --save-model "$M/acnet/$name.acnb" \
    --warmup 0 --iterations 1 --json > /dev/null
  # The same weights without Winograd weights (a version-1 file, as `acnet export --winograd
  # off` writes): bench_acnet.py's 'direct' variant runs these.
  mkdir -p "$M/acnet/direct"
  "$ACNET" bench --arch "$arch" --weights "$M/acnet/$name.safetensors" --winograd off \
    --save-model "$M/acnet/direct/$name.acnb" --warmup 0 --iterations 1 --json > /dev/null
done

# 6. Ours and the peers, back to back, each measurement in a fresh process. The harness takes
#    the core-to-core round trip (c2c.c, PEERS_C2C) before and after every measurement and the
#    report lists it; here it is also logged around the whole measurement stage.
stage "measure (passes $PASSES, threads $THREADS); c2c round trip before: $("$WORK/c2c" 2>&1 | tr '\n' ' ')"
"$PY" "$REPO/bench/compare_run.py" --models-dir "$M" --out "$WORK/results.jsonl" \
  --outputs-dir "$WORK/outputs" --python "$PY" --passes "$PASSES" --threads "$THREADS" \
  --attempts "$ATTEMPTS" --fix-rounds "$FIX_ROUNDS" --min-s "$MIN_S" "${ONLY[@]}"
stage "c2c round trip after: $("$WORK/c2c" 2>&1 | tr '\n' ' ')"

# 7. Peak again at the end, then the report.
stage "FMA peak (end)"
(cd "$PEERS_BENCH" && "$PY" peak.py "$WORK/fma_peak" "$WORK/peak.jsonl" "$PEAK_RUNS" end)
V="$("$PY" -c 'import ctypes,sys; v=ctypes.CDLL(sys.argv[1]).acnet_version(); print(f"{v//10000}.{v//100%100}.{v%100}")' "$ACNET_LIB")"
runjson "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" "acnet_version=$V" "complete=true"
"$PY" "$REPO/bench/compare_report.py" "$WORK" "$OUT"
stage "done: $OUT"
