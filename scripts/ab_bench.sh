#!/usr/bin/env bash
# A/B latency of two or more acnet binaries, alternating, so that machine drift hits all
# of them alike (one run per binary misleads: whole-model medians move 1-3% between runs).
#
#   scripts/ab_bench.sh "resnet18 resnet56" /tmp/acnet_old .build/release/acnet
#
# For each model, ROUNDS (default 3) rounds; each round runs every binary once with
# `acnet bench --arch MODEL --winograd $WINOGRAD --warmup 50` (WINOGRAD default off, i.e. the
# direct kernels) and prints the medians on one line. PAUSE_PGID=<process group> stops that
# group (e.g. a training job) for the duration and resumes it on exit.
set -euo pipefail
[ $# -ge 2 ] || { sed -n 2,11p "$0"; exit 2; }
models=$1; shift
ROUNDS=${ROUNDS:-3}
WINOGRAD=${WINOGRAD:-off}
if [ -n "${PAUSE_PGID:-}" ]; then
    kill -STOP -"$PAUSE_PGID"
    trap 'kill -CONT -"$PAUSE_PGID"' EXIT
    sleep 0.5
fi
for m in $models; do
    for r in $(seq 1 "$ROUNDS"); do
        line="$m round $r:"
        for b in "$@"; do
            med=$("$b" bench --arch "$m" --winograd "$WINOGRAD" --warmup 50 2>&1 | sed -n 's/.*median \([0-9.]*\).*/\1/p' | head -1)
            line="$line  $b=${med:-error}"
        done
        echo "$line"
    done
done
