#!/usr/bin/env python3
"""Driver for scripts/compare_peers.sh: times our runtime (bench/bench_acnet.py) and the
direct/GEMM peers of ../shared/bench (bench_ort.py, bench_ov.py, bench_litert.py, bench_ncnn.py)
back to back, each (model, runtime, variant, threads) in its own fresh process, model by model:
for every model all runtimes run one after the other (odd passes in the order below, even
passes reversed), so ours and the peers see the same machine state within a few seconds.
Then measurements the shared-machine guard flagged (foreign load > 0.15 cores) are re-run, up to
--fix-rounds times, as the shared run_bench.py does. Results: one JSON line each in --out (the
harness's emit() format; failures as {"error": ...} lines).
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--peers-bench", default=os.environ.get("PEERS_BENCH", "/work/shared/bench"))
ap.add_argument("--models-dir", required=True)
ap.add_argument("--out", required=True)
ap.add_argument("--outputs-dir", required=True)
ap.add_argument("--python", default=sys.executable)
ap.add_argument("--passes", type=int, default=2)
ap.add_argument("--fix-rounds", type=int, default=1, help="re-runs of measurements with foreign load > 0.15")
ap.add_argument("--threads", default="1")
ap.add_argument("--only-model", nargs="*")
ap.add_argument("--attempts", type=int, default=3, help="passed to the timers (bench_common --attempts)")
ap.add_argument("--min-s", type=float, default=3.0, help="passed to the timers (bench_common --min-s)")
a = ap.parse_args()

meta = json.load(open(os.path.join(a.models_dir, "models.json")))
conv_status = {}
p = os.path.join(a.models_dir, "ncnn", "convert_status.json")
if os.path.exists(p):
    conv_status = json.load(open(p))
models = a.only_model or list(meta)
threads = [int(t) for t in a.threads.split(",")]

CONFIGS = [("acnet", "default"), ("acnet", "direct"), ("ort", "default"), ("openvino", "default"), ("litert", "same"),
           ("ncnn", "nowino"), ("ncnn", "wino")]
SCRIPT = {"acnet": os.path.join(HERE, "bench_acnet.py")}
SCRIPT.update({rt: os.path.join(a.peers_bench, f) for rt, f in
               [("ort", "bench_ort.py"), ("openvino", "bench_ov.py"), ("ncnn", "bench_ncnn.py"),
                ("litert", "bench_litert.py")]})


def run_one(model, rt, var, t, rep):
    if rt == "ncnn" and not conv_status.get(model, {}).get("ok"):
        return
    cmd = [a.python, SCRIPT[rt], "--models-dir", a.models_dir, "--model", model, "--threads", str(t),
           "--variant", var, "--rep", str(rep), "--out", a.out, "--outputs-dir", a.outputs_dir,
           "--attempts", str(a.attempts), "--min-s", str(a.min_s)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=a.peers_bench)
    if r.returncode != 0:
        err = (r.stderr.strip().splitlines() or ["?"])[-1]
        print(f"FAILED {rt} {var} {model} t={t} rep={rep}: {err}", flush=True)
        with open(a.out, "a") as f:
            f.write(json.dumps(dict(runtime=rt, variant=var, model=model, threads=t, rep=rep, error=err,
                                    stderr_tail=r.stderr[-2000:])) + "\n")
    else:
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith(rt[:8])]
        print(lines[-1] if lines else r.stdout.strip(), flush=True)


t_start = time.time()
for rep in range(1, a.passes + 1):
    cfgs = CONFIGS if rep % 2 == 1 else CONFIGS[::-1]
    for model in models:
        for rt, var in cfgs:
            for t in threads:
                run_one(model, rt, var, t, rep)
    print(f"--- pass {rep} done after {time.time() - t_start:.0f} s", flush=True)

for rnd in range(a.fix_rounds):
    best = {}
    for line in open(a.out):
        r = json.loads(line)
        if "error" in r:
            continue
        k = (r["model"], r["runtime"], r["variant"], r["threads"], r["rep"])
        best[k] = min(best.get(k, 9e9), r["foreign_cores"])
    bad = [k for k, v in best.items() if v > 0.15 and k[0] in models]
    print(f"--- fix round {rnd + 1}: {len(bad)} contaminated measurements", flush=True)
    if not bad:
        break
    for model, rt, var, t, rep in bad:
        run_one(model, rt, var, t, rep)
print(f"--- all done after {time.time() - t_start:.0f} s", flush=True)
