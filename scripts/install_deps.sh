#!/usr/bin/env bash
# Installs the Debian packages the project needs (idempotent; skips apt when all are present).
set -euo pipefail
pkgs=(libjpeg-dev libjpeg-turbo-progs libopenblas-dev zlib1g-dev dataset-fashion-mnist cmake pkg-config)
# The Cortex-M firmware run (scripts/ci_cortexm.sh): bare-metal GCC, newlib, QEMU's mps2 boards.
pkgs+=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)
# make cross TARGET=aarch64-linux-gnu and its tests under qemu-user (scripts/ci_embedded.sh).
pkgs+=(gcc-aarch64-linux-gnu qemu-user)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
