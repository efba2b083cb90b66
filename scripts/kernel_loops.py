#!/usr/bin/env python3
"""Static comparison of two builds of the same kernels, loop by loop: for every innermost loop (a
backward branch and the code it jumps back over, holding no other loop) of every function, the
packed FMA instructions on a register class and the accesses to the stack made with that
register class (spills and reloads). A hot loop that gains stack traffic in one build is a
likely slowdown; one that keeps its FMAs and loses stack traffic is not. This is how a build for an ISA the machine cannot run
(AVX-512 on an AVX2-only CPU) is compared with the build whose speed was measured.

    scripts/kernel_loops.py [--reg zmm|ymm|xmm] [--min-fma N] [--match TEXT] A.o B.o

A and B are objects (or archives' members extracted, or `ld -r` of several objects) with the
same Swift functions under different module names; functions are paired by their mangled
name without the module prefix. Prints, for each function with loops of >= N FMAs, the loop
histogram {(FMAs, stack accesses): count} of each build, flags functions whose histograms
differ, and totals. Exit status 0; reading the table is the point.
"""
import argparse
import collections
import re
import subprocess
import sys

FMA = re.compile(r"v?fn?m(add|sub)\w*p[sd]\s")
JUMP = re.compile(r"j\w+\s+([0-9a-f]+)\s")


def functions(path):
    """{name: [(address, instruction text)]} from `objdump -d`."""
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True, text=True,
                          check=True).stdout
    fns, current = collections.OrderedDict(), None
    for line in text.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            current = fns.setdefault(m.group(1), [])
            continue
        m = re.match(r"^\s*([0-9a-f]+):\t(.*)$", line)
        if m and current is not None:
            current.append((int(m.group(1), 16), m.group(2)))
    return fns


def loop_histogram(instructions, reg, min_fma):
    """Counter {(FMAs, stack accesses with `reg`): loops} over the function's innermost loops."""
    ranges = set()
    for addr, text in instructions:
        m = JUMP.match(text)
        if m and int(m.group(1), 16) < addr:
            ranges.add((int(m.group(1), 16), addr))
    # Innermost loops only: an outer loop's count would include its inner loops' FMAs and the
    # spills around them, which run once per inner loop, not once per FMA.
    inner = [r for r in ranges if not any(o != r and r[0] <= o[0] and o[1] <= r[1] for o in ranges)]
    hist = collections.Counter()
    for start, end in inner:
        body = [t for a, t in instructions if start <= a <= end]
        fmas = sum(1 for t in body if FMA.match(t) and f"%{reg}" in t)
        stack = sum(1 for t in body if f"%{reg}" in t and "(%rsp)" in t)
        if fmas >= min_fma:
            hist[(fmas, stack)] += 1
    return hist


def key(name):
    """The mangled name without its module: `$s15ACKernelsAVX51210ConvDirectO…` → `10ConvDirectO…`."""
    m = re.match(r"^\$[es](\d+)", name)
    if not m:
        return name
    length = int(m.group(1))
    return name[m.end() + length:]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reg", default="zmm", choices=["zmm", "ymm", "xmm"])
    p.add_argument("--min-fma", type=int, default=12)
    p.add_argument("--match", default="", help="only functions whose name contains this")
    p.add_argument("a")
    p.add_argument("b")
    args = p.parse_args()
    a, b = functions(args.a), functions(args.b)
    ka = {key(n): n for n in a}
    kb = {key(n): n for n in b}
    totals = {"a": collections.Counter(), "b": collections.Counter()}
    differing = 0
    for k in sorted(set(ka) | set(kb)):
        if args.match not in k:
            continue
        ha = loop_histogram(a[ka[k]], args.reg, args.min_fma) if k in ka else collections.Counter()
        hb = loop_histogram(b[kb[k]], args.reg, args.min_fma) if k in kb else collections.Counter()
        if not ha and not hb:
            continue
        totals["a"] += ha
        totals["b"] += hb
        mark = "" if ha == hb else "   <- differs"
        differing += ha != hb
        print(f"{k[:90]}{mark}")
        print(f"    A: {dict(sorted(ha.items()))}")
        print(f"    B: {dict(sorted(hb.items()))}")
    for side, path in (("a", args.a), ("b", args.b)):
        loops = sum(totals[side].values())
        fmas = sum(f * c for (f, _), c in totals[side].items())
        stack = sum(s * c for (_, s), c in totals[side].items())
        spilling = sum(c for (_, s), c in totals[side].items() if s)
        print(f"{side.upper()} {path}: {loops} loops with >= {args.min_fma} {args.reg} FMAs, "
              f"{fmas} FMAs in them, {spilling} loops with {args.reg} stack traffic ({stack} accesses)")
    print(f"{differing} functions differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
