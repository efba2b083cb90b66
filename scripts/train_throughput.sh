#!/bin/sh
# Training throughput of ACTraining vs PyTorch on the same machine, same synthetic batch, same run:
# the Fashion-MNIST net and Cifar-quick, plain and with ACBs, batch 128, the full step
# (forward, backward, SGD). PyTorch's side is the PyTorch peer script torch_train_throughput.py
# (needs `python3 -c "import torch"`; skipped with a note otherwise).
#
# Usage: scripts/train_throughput.sh [THREADS]   (default: 2, both cores)
set -eu
cd "$(dirname "$0")/.."
THREADS="${1:-2}"
TORCH_SCRIPT="${TORCH_SCRIPT:-the PyTorch peer script torch_train_throughput.py}"
SCRATCH="${SCRATCH:-.build-release}"

swift build -c release --scratch-path "$SCRATCH" --product acnet >&2
ACNET="$SCRATCH/release/acnet"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$ACNET" train-bench --models fashion_net,cifar_quick --threads "$THREADS" > "$tmp/swift.txt"
head -1 "$tmp/swift.txt" >&2

if python3 -c "import torch" 2>/dev/null && [ -f "$TORCH_SCRIPT" ]; then
    python3 "$TORCH_SCRIPT" > "$tmp/torch.txt"
else
    echo "# PyTorch not available: install it (pip install torch) to fill the PyTorch column" >&2
    : > "$tmp/torch.txt"
fi

# Join on "name acb=X threads=T".
awk -v threads="$THREADS" '
    FNR == 1 { file++ }
    /img\/s/ {
        key = $1 " " $2 " " $3
        if ($3 != "threads=" threads) next
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
