#!/usr/bin/env python3
"""Memory of N worker processes that load the same .acnb model by path (acnet.Model maps it).

    python examples/ray/model_memory.py [--workers 3] [--batch 64] [--json] MODEL.acnb

Each worker (a fresh `spawn` process, as Ray/Spark/multiprocessing workers are) imports acnet,
loads the model, creates a one-thread session and runs one batch (so every weight page has been
read), then waits until all workers got there and reads, while all are alive:

- the model file's mappings in /proc/self/smaps (summed): Rss, Pss, Shared_Clean,
  Private_Clean, Private_Dirty, Anonymous (KiB);
- /proc/self/smaps_rollup for the whole process, before loading and after the run.

Pss divides each shared page by the number of processes mapping it, so N workers mapping one
file are charged about file size / N each; Private_Dirty 0 shows no weight was copied.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys

FIELDS = ("Rss", "Pss", "Shared_Clean", "Private_Clean", "Private_Dirty", "Anonymous")


def rollup() -> dict[str, int]:
    out = {}
    for line in open("/proc/self/smaps_rollup"):
        parts = line.split()
        if len(parts) >= 3 and parts[0].rstrip(":") in FIELDS:
            out[parts[0].rstrip(":")] = int(parts[1])
    return out


def mapping(path: str) -> dict[str, int]:
    """Sums the smaps fields of every mapping of `path` in this process (KiB)."""
    target = os.path.realpath(path)
    sums = dict.fromkeys(FIELDS, 0)
    inside = False
    for line in open("/proc/self/smaps"):
        parts = line.split()
        if parts and "-" in parts[0] and len(parts) >= 5 and ":" not in parts[0]:  # a header line
            inside = len(parts) >= 6 and parts[5] == target
        elif inside and parts and parts[0].rstrip(":") in FIELDS:
            sums[parts[0].rstrip(":")] += int(parts[1])
    return sums


def worker(path: str, batch: int, barrier, queue) -> None:
    import numpy as np

    import acnet

    before = rollup()
    model = acnet.Model(path)
    session = acnet.Session(model, max_batch=batch)
    x = np.zeros((batch,) + model.input_shape[1:], np.float32)
    session.run(x)
    barrier.wait(timeout=120)  # all workers hold the model now
    queue.put({"pid": os.getpid(), "before_load": before, "after_run": rollup(), "model_mapping": mapping(path),
               "workspace_kib": session.workspace_size // 1024})
    barrier.wait(timeout=120)  # nobody exits before everyone measured
    session.close()
    model.close()


def measure(path: str, workers: int, batch: int) -> dict:
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(path, batch, barrier, queue)) for _ in range(workers)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=120)
        if p.exitcode != 0:
            raise SystemExit(f"worker {p.pid} failed (exit code {p.exitcode})")
    return {"model": path, "model_kib": os.path.getsize(path) // 1024, "batch": batch,
            "workers": sorted(results, key=lambda r: r["pid"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    report = measure(args.model, args.workers, args.batch)
    if args.json:
        print(json.dumps(report))
        return
    print(f"model {args.model}: {report['model_kib']} KiB; {args.workers} worker processes, batch {args.batch}")
    print("pid      | model mapping KiB: Rss  Pss  Private_Dirty | process KiB: Rss  Pss  Private_Dirty"
          " (before load -> after run) | workspace KiB")
    for w in report["workers"]:
        m, b, a = w["model_mapping"], w["before_load"], w["after_run"]
        print(f"{w['pid']:<8} | {m['Rss']:>6} {m['Pss']:>6} {m['Private_Dirty']:>6} | "
              f"{b['Rss']:>6} -> {a['Rss']:>6}  {b['Pss']:>6} -> {a['Pss']:>6}  "
              f"{b['Private_Dirty']:>6} -> {a['Private_Dirty']:>6} | {w['workspace_kib']}")


if __name__ == "__main__":
    sys.exit(main())
