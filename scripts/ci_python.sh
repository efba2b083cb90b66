#!/usr/bin/env bash
# The Python package in CI: scripts/ci_python.sh PREFIX  (PREFIX from `make install PREFIX=...`)
#
#  1. a fresh virtual environment (python3 -m venv in a temporary folder) with the exact
#     versions of python/requirements-ci.txt (setuptools, wheel, numpy, pillow, pytest, ray[data]);
#     wheels are kept in $ACNET_WHEELHOUSE (default ~/.cache/acnet-python-wheels) so that only
#     the first run downloads them (~200 MB);
#  2. python/build_wheel.sh PREFIX -> the acnet wheel, installed into that environment;
#  3. pytest python/tests against the installed wheel (ref_acnet.c built against PREFIX, the
#     CLI .build/release/acnet), strict: a missing prerequisite fails instead of skipping;
#  4. the Ray test: $ACNET_RAY_IMAGES (default 2000) Fashion-MNIST test images written as JPEG
#     files, classified by examples/ray/classify_ray.py on a local Ray cluster (a head and one
#     worker node, 2 actors), accuracy compared with `acnet eval` on the same files, images/s
#     of one process vs the Ray job;
#  5. examples/ray/model_memory.py: memory of 3 processes loading the same model.
# Prints each stage's time and PASS/FAIL/SKIP lines.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
if [ $# -ne 1 ]; then
    echo "usage: scripts/ci_python.sh PREFIX" >&2
    exit 2
fi
prefix=$(cd "$1" && pwd)
cli=${ACNET_CLI:-$repo/.build/release/acnet}
model=$repo/models/fashion-mnist-acnet.acnb
images=${ACNET_RAY_IMAGES:-2000}
wheelhouse=${ACNET_WHEELHOUSE:-$HOME/.cache/acnet-python-wheels}
start=$(date +%s); stage_start=$start
stage() { local now; now=$(date +%s); echo "== python stage '$1' took $((now - stage_start)) s"; stage_start=$now; }

PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null || ! "$PY" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
    echo "SKIP python package tests (no python3 >= 3.9 with venv/ensurepip)"
    exit 0
fi
if [ "$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')" != "3.11" ]; then
    echo "note: python/requirements-ci.txt pins wheels for Python 3.11; pip resolves them for $("$PY" -V)"
fi
for f in "$cli" "$model" "$prefix/lib/libacnet.so"; do
    [ -e "$f" ] || { echo "FAIL python: $f is missing"; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" -m venv "$work/venv"
py=$work/venv/bin/python
pip=("$py" -m pip --disable-pip-version-check)
mkdir -p "$wheelhouse"
if ! "${pip[@]}" install -q --no-compile --no-index --find-links "$wheelhouse" -r python/requirements-ci.txt 2>/dev/null; then
    echo "downloading the pinned wheels into $wheelhouse"
    "${pip[@]}" download -q -d "$wheelhouse" -r python/requirements-ci.txt
    "${pip[@]}" install -q --no-compile --no-index --find-links "$wheelhouse" -r python/requirements-ci.txt
fi
stage "fresh venv + pinned packages"

wheel=$(PYTHON=$py python/build_wheel.sh "$prefix" "$work/dist")
"${pip[@]}" install -q --no-index --find-links "$wheelhouse" "$wheel"
installed=$(cd "$work" && "$py" -c 'import acnet; print(acnet.__file__, acnet.__version__, acnet.library_version())')
case "$installed" in
    "$work/venv/"*) echo "PASS wheel $(basename "$wheel") installed: $installed" ;;
    *) echo "FAIL python: acnet imported from $installed, not from the venv"; exit 1 ;;
esac
stage "build + install wheel"

if (cd "$work" && ACNET_PREFIX=$prefix ACNET_CLI=$cli ACNET_TEST_STRICT=1 \
        "$py" -m pytest -q -p no:cacheprovider "$repo/python/tests" 2>&1 | tail -15; exit "${PIPESTATUS[0]}"); then
    echo "PASS pytest python/tests"
else
    echo "FAIL pytest python/tests"
    exit 1
fi
stage "pytest"

data=$work/fashion-mnist-jpeg
"$py" examples/ray/classify_ray.py prepare --idx /usr/share/datasets/fashion-mnist --out "$data" \
    --limit "$images" --model "$model"
eval_json=$("$cli" eval "$model" --data "$data" --json)
"$py" examples/ray/classify_ray.py run --model "$model" --images "$data" --local-cluster 2 --workers 2 \
    --baseline --json "$work/ray.json" 2>&1 | grep -v -E "^\[?[0-9]{4}-[0-9]{2}-[0-9]{2}|^$" || true
[ -f "$work/ray.json" ] || { echo "FAIL ray job (no figures written)"; exit 1; }
if "$py" - "$work/ray.json" "$eval_json" <<'EOF'
import json, sys
figures, acnet_eval = json.load(open(sys.argv[1])), json.loads(sys.argv[2])
ray, one = figures["ray"], figures["one_process"]
print(f"acnet eval: {acnet_eval['correct']}/{acnet_eval['total']}; ray: {ray['correct']}/{ray['images']} "
      f"on {ray['nodes']} nodes; one process: {one['correct']}/{one['images']}")
ok = (ray["images"] == acnet_eval["total"] == one["images"] and ray["correct"] == acnet_eval["correct"] == one["correct"]
      and ray["nodes"] >= 2 and all(a["model_private_dirty_kib"] == 0 for a in ray["actors"]))
sys.exit(0 if ok else 1)
EOF
then
    echo "PASS ray: accuracy equals acnet eval on the same $images JPEG files"
else
    echo "FAIL ray: accuracy differs from acnet eval, or fewer than 2 nodes, or a private model copy"
    exit 1
fi
stage "ray data job ($images images)"

"$py" examples/ray/model_memory.py --workers 3 "$model"
stage "model memory of 3 workers"
# Deleting the ~600 MB environment takes up to a minute on a busy disk: in the background.
trap - EXIT
nice -n 10 rm -rf "$work" &
echo "== python total $(( $(date +%s) - start )) s"
