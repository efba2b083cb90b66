#!/usr/bin/env python3
"""Writes Fashion-MNIST test images as JPEG files (python3 standard library + cjpeg).

Two uses:

  make_sample_images.py [--data DIR] [--out examples/images]
      The committed sample images: for each class, its first two images in the Fashion-MNIST
      test split (t10k, in file order), written as <slug>-<n>.jpg with n = 1, 2 and the slugs
      t-shirt-top, trouser, pullover, dress, coat, sandal, shirt, sneaker, bag, ankle-boot.

  make_sample_images.py --first N --out DIR
      The accuracy set: the first N test images as DIR/NNNNN.jpg (N from 00000), plus
      DIR/labels.tsv (file<TAB>class index<TAB>slug per line) and the same N images and labels
      as uncompressed IDX files DIR/images-idx3-ubyte and DIR/labels-idx1-ubyte, so the raw
      pixels can be classified too.

Images are 28x28 grayscale; they go to cjpeg (libjpeg-turbo-progs) as PGM and are written as
grayscale baseline JPEGs with --quality (default 90).  Same data + same libjpeg version give
byte-identical files.
"""
import argparse
import gzip
import os
import shutil
import struct
import subprocess
import sys

SLUGS = ["t-shirt-top", "trouser", "pullover", "dress", "coat",
         "sandal", "shirt", "sneaker", "bag", "ankle-boot"]
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def open_idx(data_dir, stem):
    """Opens DIR/stem or DIR/stem.gz."""
    for name in (stem, stem + ".gz"):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return gzip.open(path, "rb") if name.endswith(".gz") else open(path, "rb")
    sys.exit(f"make_sample_images: {stem}[.gz] not found in {data_dir}")


def read_idx(data_dir):
    """Returns (images as list of 784-byte strings, labels as bytes) of the test split."""
    with open_idx(data_dir, "t10k-images-idx3-ubyte") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x803 or (rows, cols) != (28, 28):
            sys.exit("make_sample_images: unexpected image IDX header")
        pixels = f.read(count * rows * cols)
    with open_idx(data_dir, "t10k-labels-idx1-ubyte") as f:
        magic, label_count = struct.unpack(">II", f.read(8))
        if magic != 0x801 or label_count != count:
            sys.exit("make_sample_images: unexpected label IDX header")
        labels = f.read(count)
    if len(pixels) != count * 784 or len(labels) != count:
        sys.exit("make_sample_images: truncated IDX file")
    return [pixels[i * 784:(i + 1) * 784] for i in range(count)], labels


def write_jpeg(path, image, quality, cjpeg):
    pgm = b"P5\n28 28\n255\n" + image
    subprocess.run([cjpeg, "-quality", str(quality), "-outfile", path], input=pgm, check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="directory with the t10k IDX files")
    parser.add_argument("--out", default=None, help="output directory")
    parser.add_argument("--first", type=int, default=None, help="write the first N test images")
    parser.add_argument("--quality", type=int, default=90, help="JPEG quality (default 90)")
    args = parser.parse_args()

    cjpeg = shutil.which("cjpeg")
    if cjpeg is None:
        sys.exit("make_sample_images: cjpeg not found (Debian: apt-get install libjpeg-turbo-progs)")
    images, labels = read_idx(args.data)

    if args.first is None:
        out = args.out or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "images")
        os.makedirs(out, exist_ok=True)
        seen = [0] * len(SLUGS)
        for image, label in zip(images, labels):
            if seen[label] < 2:
                seen[label] += 1
                write_jpeg(os.path.join(out, f"{SLUGS[label]}-{seen[label]}.jpg"), image, args.quality, cjpeg)
            if all(n == 2 for n in seen):
                break
        print(f"wrote {sum(seen)} images to {os.path.normpath(out)}")
        return

    if args.out is None or args.first < 1 or args.first > len(images):
        sys.exit("make_sample_images: --first N needs 1 <= N <= 10000 and --out DIR")
    n = args.first
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "labels.tsv"), "w") as tsv:
        for i in range(n):
            name = f"{i:05d}.jpg"
            write_jpeg(os.path.join(args.out, name), images[i], args.quality, cjpeg)
            tsv.write(f"{name}\t{labels[i]}\t{SLUGS[labels[i]]}\n")
    with open(os.path.join(args.out, "images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, 28, 28) + b"".join(images[:n]))
    with open(os.path.join(args.out, "labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">II", 0x801, n) + labels[:n])
    print(f"wrote {n} images to {args.out}")


if __name__ == "__main__":
    main()
