#!/usr/bin/env python3
"""Batch classification of an image folder with Ray Data and the acnet Python package.

    # 1. the Fashion-MNIST test set as JPEG files, <out>/test/<label>/<index>.jpg
    python examples/ray/classify_ray.py prepare --idx /usr/share/datasets/fashion-mnist --out /tmp/fm
    # 2. classify every file on a Ray cluster; compare with one process and with `acnet eval`
    python examples/ray/classify_ray.py run --model models/fashion-mnist-acnet.acnb \
        --images /tmp/fm --local-cluster 2 --baseline
    acnet eval models/fashion-mnist-acnet.acnb --data /tmp/fm

`run` reads the JPEG files with ``ray.data.read_binary_files`` (any filesystem pyarrow reads:
local, NFS, S3, GCS ...), and classifies them with ``map_batches`` and a callable class,
``AcnetPredictor``: Ray Data starts a pool of actors, each loads the model once (a memory
mapping of the file, shared by the actors of a node through the page cache) and creates one
session whose thread count is the number of CPUs Ray granted the actor.  Each batch is decoded
and preprocessed exactly like `acnet classify` (acnet.Model.preprocess), run as one batch, and
reduced to the argmax class.  The label of a file is its folder's name: the model's label, with
a '/' written as '_' (the mapping `acnet eval` uses for image folders).

Cluster: ``--address ADDR`` joins a running cluster (``ray start --head`` on one machine,
``ray start --address=HEAD:6379`` on the others; "auto" finds a local one).  ``--local-cluster N``
starts a throw-away cluster on this machine (ray.cluster_utils.Cluster: a head node and N - 1
worker nodes, each its own raylet and worker processes) and shuts it down at the end.
``--baseline`` also times the same work in this one process, one session thread.
Prints the accuracy, images/s, and per actor its pid, node and memory (see model_memory.py).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import acnet

# --------------------------------------------------------------------------------------------
# prepare: IDX -> JPEG folder


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path) if path.suffix == ".gz" else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).exists():
            return folder / name
    raise SystemExit(f"{folder} has no {stem}[.gz]")


def prepare(idx_dir: str, out: str, limit: int | None, labels: list[str], quality: int) -> int:
    """Writes t10k images 0 ... limit-1 as <out>/test/<label>/<index>.jpg (gray JPEGs), each
    folder named by `folder_name` of the model's label, as `acnet eval` expects."""
    from PIL import Image

    images = _idx(_find(Path(idx_dir), "t10k-images-idx3-ubyte"))
    classes = _idx(_find(Path(idx_dir), "t10k-labels-idx1-ubyte"))
    count = len(images) if limit is None else min(limit, len(images))
    root = Path(out) / "test"
    by_class = {k: folder_name(label) for k, label in enumerate(labels)}
    for name in by_class.values():
        (root / name).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.fromarray(images[i], "L").save(root / by_class[int(classes[i])] / f"{i:05d}.jpg", quality=quality)
    return count


# --------------------------------------------------------------------------------------------
# run: the Ray Data job


def _memory_kib(path: str) -> dict[str, int]:
    """Rss / Pss / Private_Dirty (KiB) of the model file's mappings and of the whole process."""
    target, inside, out = os.path.realpath(path), False, {}
    keys = {"Rss": "model_rss_kib", "Pss": "model_pss_kib", "Private_Dirty": "model_private_dirty_kib"}
    for k in keys.values():
        out[k] = 0
    for line in open("/proc/self/smaps"):
        parts = line.split()
        if parts and "-" in parts[0] and ":" not in parts[0]:
            inside = len(parts) >= 6 and parts[5] == target
        elif inside and parts and parts[0].rstrip(":") in keys:
            out[keys[parts[0].rstrip(":")]] += int(parts[1])
    for line in open("/proc/self/smaps_rollup"):
        parts = line.split()
        if parts and parts[0].rstrip(":") in ("Rss", "Pss", "Private_Dirty"):
            out["process_" + parts[0].rstrip(":").lower() + "_kib"] = int(parts[1])
    return out


def folder_name(label: str) -> str:
    """The image-folder name of a class label: the label, with '/' (not allowed in a file
    name) written as '_' -- the mapping `acnet eval` uses."""
    return label.replace("/", "_")


def _label_of(path: str, classes: dict[str, int]) -> int:
    """The class index of an image file: its folder's name looked up in `classes`
    (folder name -> index, from the model's labels)."""
    folder = os.path.basename(os.path.dirname(path))
    if folder not in classes:
        raise ValueError(f"{path}: folder '{folder}' is not one of the model's labels {sorted(classes)}")
    return classes[folder]


def _classes(model: "acnet.Model") -> dict[str, int]:
    return {folder_name(label): k for k, label in enumerate(model.labels)}


class AcnetPredictor:
    """The map_batches callable: one per Ray actor; loads the model once."""

    def __init__(self, model_path: str, max_batch: int):
        import ray

        granted = ray.get_runtime_context().get_assigned_resources().get("CPU")
        threads = int(granted) if granted else int(os.environ.get("OMP_NUM_THREADS", "1"))
        self.threads = max(1, min(64, threads))
        self.model_path = model_path
        self.model = acnet.Model(model_path)
        self.classes = _classes(self.model)
        self.session = acnet.Session(self.model, threads=self.threads, max_batch=max_batch)
        self.node = ray.get_runtime_context().get_node_id()[:8]

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from PIL import Image

        started = time.time()
        images = [Image.open(io.BytesIO(data)) for data in batch["bytes"]]
        x = self.model.preprocess(images)  # (n, C, H, W) float32, as `acnet classify`
        predicted = np.empty(len(x), dtype=np.int64)
        step = self.session.max_batch
        for start in range(0, len(x), step):
            logits = self.session.run(x[start:start + step])
            predicted[start:start + step] = logits.reshape(len(logits), -1).argmax(axis=1)
        n = len(x)
        memory = _memory_kib(self.model_path)
        out = {"path": batch["path"], "label": np.array([_label_of(p, self.classes) for p in batch["path"]]),
               "predicted": predicted, "pid": np.full(n, os.getpid()), "node": np.array([self.node] * n),
               "threads": np.full(n, self.threads), "batch_start": np.full(n, started),
               "batch_end": np.full(n, time.time())}
        out.update({k: np.full(n, v) for k, v in memory.items()})
        return out


def run_ray(model: str, images: str, workers: int, cpus_per_worker: int, batch_size: int) -> dict:
    import ray

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    # Start feeding batches only when every actor of the pool is up (model loaded): otherwise,
    # on a busy machine, the first actor can finish a small job before the others start.
    context.wait_for_min_actors_s = 600
    start = time.perf_counter()
    # Reading files is light: half a CPU per read task leaves the actors their CPUs.
    ds = ray.data.read_binary_files(images, include_paths=True, file_extensions=["jpg", "jpeg"], num_cpus=0.5,
                                    override_num_blocks=8 * workers)
    predictions = ds.map_batches(
        AcnetPredictor,
        fn_constructor_kwargs={"model_path": os.path.abspath(model), "max_batch": batch_size},
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=cpus_per_worker,
    )
    columns: dict[str, list] = {}
    for part in predictions.iter_batches(batch_size=4096, batch_format="numpy"):
        for k, v in part.items():
            columns.setdefault(k, []).append(v)
    seconds = time.perf_counter() - start
    result = {k: np.concatenate(v) for k, v in columns.items()}
    count = len(result["label"])
    actors = {}
    skip = ("path", "label", "predicted", "batch_start", "batch_end")
    for i in range(count):  # the last figures each actor reported
        actors[int(result["pid"][i])] = {k: (result[k][i].item() if hasattr(result[k][i], "item") else result[k][i])
                                          for k in result if k not in skip}
    # Steady state: from the first batch an actor started to the last one finished (without
    # cluster connection, actor start-up and model loading).
    span = float(result["batch_end"].max() - result["batch_start"].min()) if count else 0.0
    return {"images": count, "correct": int((result["label"] == result["predicted"]).sum()),
            "seconds": seconds, "images_per_second": count / seconds, "batches_seconds": span,
            "batches_images_per_second": count / span if span > 0 else 0.0, "actors": list(actors.values()),
            "nodes": len({a["node"] for a in actors.values()})}


def run_baseline(model_path: str, images: str, batch_size: int) -> dict:
    """The same work in this one process: read, decode + preprocess, run (one thread)."""
    from PIL import Image

    paths = sorted(str(p) for p in Path(images).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg"))
    start = time.perf_counter()
    correct = 0
    with acnet.Model(model_path) as model, acnet.Session(model, max_batch=batch_size) as session:
        classes = _classes(model)
        for s in range(0, len(paths), batch_size):
            chunk = paths[s:s + batch_size]
            x = model.preprocess([Image.open(io.BytesIO(Path(p).read_bytes())) for p in chunk])
            predicted = session.run(x).reshape(len(chunk), -1).argmax(axis=1)
            correct += sum(int(p == _label_of(path, classes)) for p, path in zip(predicted, chunk))
    seconds = time.perf_counter() - start
    return {"images": len(paths), "correct": correct, "seconds": seconds, "images_per_second": len(paths) / seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="write the Fashion-MNIST test set as JPEG files")
    p.add_argument("--idx", required=True, help="folder with t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]")
    p.add_argument("--out", required=True)
    p.add_argument("--limit", type=int, help="only the first N test images (default: all 10000)")
    p.add_argument("--model", default="models/fashion-mnist-acnet.acnb", help="model whose labels name the folders")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality")
    r = sub.add_parser("run", help="classify an image folder on Ray")
    r.add_argument("--model", required=True)
    r.add_argument("--images", required=True, help="<label>/*.jpg folders (or their parent), named by the model's labels")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--address", help="a running Ray cluster (e.g. auto, or HEAD:6379)")
    where.add_argument("--local-cluster", type=int, metavar="NODES",
                       help="start a local cluster: a head and NODES - 1 worker nodes")
    r.add_argument("--cpus-per-node", type=int, default=2, help="logical CPUs of each local node")
    r.add_argument("--workers", type=int, default=2, help="actors in the pool")
    r.add_argument("--cpus-per-worker", type=int, default=1, help="CPUs per actor = its session threads")
    r.add_argument("--batch-size", type=int, default=256)
    r.add_argument("--baseline", action="store_true", help="also time one process")
    r.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    if args.command == "prepare":
        with acnet.Model(args.model) as model:
            labels = list(model.labels)
        n = prepare(args.idx, args.out, args.limit, labels, args.quality)
        print(f"wrote {n} JPEG files under {os.path.join(args.out, 'test')}")
        return 0

    import logging

    import ray

    cluster = None
    if args.local_cluster:
        from ray.cluster_utils import Cluster

        node_args = {"num_cpus": args.cpus_per_node, "include_dashboard": False}
        cluster = Cluster(initialize_head=True, head_node_args=node_args)
        for _ in range(args.local_cluster - 1):
            cluster.add_node(**node_args)
        cluster.wait_for_nodes()
        address = cluster.address
    else:
        address = args.address
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        nodes = [n for n in ray.nodes() if n["Alive"]]
        print(f"ray {ray.__version__}: {len(nodes)} nodes, {int(ray.cluster_resources().get('CPU', 0))} CPUs")
        images_dir = args.images
        if os.path.isdir(os.path.join(images_dir, "test")):
            images_dir = os.path.join(images_dir, "test")
        figures = {"ray": run_ray(args.model, images_dir, args.workers, args.cpus_per_worker, args.batch_size)}
    finally:
        ray.shutdown()
        if cluster is not None:
            cluster.shutdown()
    if args.baseline:
        figures["one_process"] = run_baseline(args.model, images_dir, args.batch_size)
    ray_figures = figures["ray"]
    print(f"ray job: {ray_figures['images']} images, accuracy {ray_figures['correct'] / ray_figures['images']:.4f} "
          f"({ray_figures['correct']}/{ray_figures['images']}), {ray_figures['seconds']:.2f} s, "
          f"{ray_figures['images_per_second']:.0f} images/s, {args.workers} actors on {ray_figures['nodes']} nodes; "
          f"first batch start to last batch end {ray_figures['batches_seconds']:.2f} s = "
          f"{ray_figures['batches_images_per_second']:.0f} images/s")
    for a in ray_figures["actors"]:
        print(f"  actor pid {a['pid']} node {a['node']} threads {a['threads']}: model mapping Rss {a['model_rss_kib']} "
              f"KiB Pss {a['model_pss_kib']} KiB Private_Dirty {a['model_private_dirty_kib']} KiB; process Rss "
              f"{a['process_rss_kib']} KiB Pss {a['process_pss_kib']} KiB")
    if args.baseline:
        b = figures["one_process"]
        print(f"one process: {b['images']} images, accuracy {b['correct'] / b['images']:.4f} "
              f"({b['correct']}/{b['images']}), {b['seconds']:.2f} s, {b['images_per_second']:.0f} images/s")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
