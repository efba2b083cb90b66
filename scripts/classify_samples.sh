#!/usr/bin/env bash
# The main job: install what is needed, build, and classify the sample JPEGs in
# examples/images with the shipped Fashion-MNIST ACNet model (top label first per image).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
swift build -c release --product acnet 2>&1 | tail -1
model=models/fashion-mnist-acnet.acnb
if [ ! -f "$model" ]; then
    echo "error: $model is not committed yet (it comes from the training issue: scripts/train_fashion_mnist.sh)." >&2
    echo "Running the runtime on a writer-built Fashion-MNIST-architecture model with random weights instead:" >&2
    .build/release/acnet bench --arch fmnist --save-model /tmp/acnet-fmnist-random.acnb --iterations 20 --warmup 5
    .build/release/acnet inspect /tmp/acnet-fmnist-random.acnb
    exit 1
fi
.build/release/acnet classify "$model" examples/images/*.jpg --top 3
