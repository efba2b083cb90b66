#!/bin/sh
# Training throughput of ACTraining vs PyTorch on the same machine, same synthetic batch, same run:
# the Fashion-MNIST net, Cifar-quick and CIFAR ResNet-20, plain and with ACBs, batch 128, the
# full step (forward, backward, SGD). PyTorch's side is bench/torch_train_throughput.py (needs
# `$PYTHON -c "import torch"`; the PyTorch column reads n/a otherwise).
#
# Usage: scripts/train_throughput.sh [THREADS]        (default: 1,2 — comma-separated)
# Environment: MODELS (default fashion_net,cifar_quick,resnet20), PYTHON (default python3),
#   ACNET (a built acnet binary; default: build release acnet in SCRATCH, default .build-release),
#   ITERATIONS (timed steps per row, default 20), ACNET_TRAINING_KERNELS (avx512, avx2, im2col:
#   force ACTraining's convolution kernels down to that ISA).
# Prints one row per model × {plain, ACB} × thread count: img/s of both and the ratio
# ACTraining / PyTorch (> 1: ACTraining is faster).
set -eu
cd "$(dirname "$0")/.."
THREADS="${1:-1,2}"
MODELS="${MODELS:-fashion_net,cifar_quick,resnet20}"
PYTHON="${PYTHON:-python3}"
ITERATIONS="${ITERATIONS:-20}"
TORCH_SCRIPT="${TORCH_SCRIPT:-bench/torch_train_throughput.py}"
SCRATCH="${SCRATCH:-.build-release}"

if [ -z "${ACNET:-}" ]; then
    swift build -c release --scratch-path "$SCRATCH" --product acnet >&2
    ACNET="$SCRATCH/release/acnet"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //'); load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" >&2
"$ACNET" train-bench --models "$MODELS" --threads "$THREADS" --iterations "$ITERATIONS" > "$tmp/swift.txt"
grep '^#' "$tmp/swift.txt" >&2 || true

if "$PYTHON" -c "import torch" 2>/dev/null && [ -f "$TORCH_SCRIPT" ]; then
    "$PYTHON" "$TORCH_SCRIPT" --models "$MODELS" --threads "$THREADS" --iterations "$ITERATIONS" > "$tmp/torch.txt"
    echo "# PyTorch $("$PYTHON" -c 'import torch; print(torch.__version__)')" >&2
else
    echo "# PyTorch not available to $PYTHON: install it (pip install torch) or set PYTHON=... to fill the PyTorch column" >&2
    : > "$tmp/torch.txt"
fi
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" >&2

# Join on "name acb=X threads=T".
awk '
    FNR == 1 { file++ }
    /img\/s/ {
        key = $1 " " $2 " " $3
        if (file == 1) { swift[key] = $4; order[++n] = key } else { torch[key] = $4 }
    }
    END {
        printf "%-36s %12s %12s %8s\n", "model (batch 128)", "ACTraining", "PyTorch", "ratio"
        for (i = 1; i <= n; i++) {
            k = order[i]
            t = (k in torch) ? torch[k] : "n/a"
            r = (k in torch && torch[k] > 0) ? sprintf("%.2f", swift[k] / torch[k]) : "n/a"
            printf "%-36s %8s img/s %6s img/s %8s\n", k, swift[k], t, r
        }
    }' "$tmp/swift.txt" "$tmp/torch.txt"
