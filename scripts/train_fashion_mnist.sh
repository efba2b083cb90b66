#!/bin/sh
# Trains the shipped Fashion-MNIST model (fashion_net with ACBs) and exports it.
#
#   scripts/train_fashion_mnist.sh            # train (resumes runs/fashion-mnist-acnet if present),
#                                             # export, copy the checkpoint to models/
#
# Recipe: SGD momentum 0.9, lr 0.1 with 1 warm-up epoch then per-iteration cosine to 0,
# weight decay 5e-4 (on every parameter, as the ACNet reference), 2x lr on biases, batch 128,
# 10 epochs, random horizontal flips, 5000 training images held out for validation (the
# checkpoint with the best validation accuracy is exported; the test set is never used to
# choose). Restarting the script resumes from the last completed epoch with identical results.
# Needs Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
set -eu
cd "$(dirname "$0")/.."
DATA=${DATA:-/usr/share/datasets/fashion-mnist}
RUN=${RUN:-runs/fashion-mnist-acnet}
ACNET=${ACNET:-}
if [ -z "$ACNET" ]; then
    swift build -c release --product acnet
    ACNET=.build/release/acnet
fi

"$ACNET" train --model fashion_net --acb --data "$DATA" \
    --epochs 10 --batch-size 128 --lr 0.1 --warmup 1 --momentum 0.9 --weight-decay 5e-4 \
    --bias-lr-multiplier 2 --schedule cosine --flip --validation 5000 --seed 1 \
    --out "$RUN"

"$ACNET" export "$RUN/best.safetensors" --out models/fashion-mnist-acnet.acnb --data "$DATA"
cp "$RUN/best.safetensors" models/fashion-mnist-acnet.safetensors
"$ACNET" eval models/fashion-mnist-acnet.acnb --data "$DATA"
