#!/usr/bin/env python3
"""A/B two crlbatch binaries on the 10M-record check, in one of two ways.

    python3 benches/ab.py paired BIN_A BIN_B [-n 6]
    python3 benches/ab.py alternate BIN_A BIN_B [-n 10]

`paired` (the one to trust for changes of a few percent): A and B run at
the same time, one worker thread each, on their own copy of the job's
output state, so both see the same machine (these VMs drift by 10% within
minutes); it prints B/A per pair and the median ratio. Same binary twice: single
pairs from 0.998 to 1.042, medians within about 2% — run 6 pairs or more.

`alternate`: whole processes with the job's default threads, A then B,
N times; medians and minima of wall and CPU time. Closer to the benchmark,
but the drift shows.

Needs the inputs of `python3 benches/run.py` (benches/cache/check-10000000).
A binary may be prefixed with environment settings: "X=1 /path/crlbatch".
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = os.path.join(HERE, "cache", "check-10000000")
AT = "2026-11-26T03:00:00Z"


def job_file(folder, name, threads):
    path = os.path.join(folder, f"job-{name}.toml")
    with open(path, "w") as f:
        f.write(f'name = "ab-{name}"\n')
        for ca in ("sign-2023", "auth-2023"):
            f.write(f'[[ca]]\ncert = "{CHECK}/ca/{ca}.der"\ncrl = ["{CHECK}/crl/{ca}.crl"]\n')
        f.write(f'[input]\nrecords = "{CHECK}/records"\n[output]\ndir = "{folder}/out-{name}"\n')
        if threads:
            f.write(f"[check]\nthreads = {threads}\n")
    return path


def start(binary, job):
    return subprocess.Popen(f"exec env {binary} run {job} --at {AT}", shell=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def paired(a, b, n, folder):
    ja, jb = job_file(folder, "a", 1), job_file(folder, "b", 1)
    for binary, job in ((a, ja), (b, jb)):  # first runs build the index state, untimed
        if start(binary, job).wait() != 0:
            sys.exit(f"{binary}: the run failed")
    ratios = []
    for i in range(n):
        order = [(a, ja, "a"), (b, jb, "b")] if i % 2 == 0 else [(b, jb, "b"), (a, ja, "a")]
        procs = {k: (start(binary, job), time.perf_counter()) for binary, job, k in order}
        took = {}
        while len(took) < 2:
            for k, (p, t) in procs.items():
                if k not in took and p.poll() is not None:
                    took[k] = time.perf_counter() - t
                    if p.returncode != 0:
                        sys.exit(f"run {k} failed ({p.returncode})")
            time.sleep(0.005)
        ratios.append(took["b"] / took["a"])
        print(f"A {took['a']:.3f} s  B {took['b']:.3f} s  B/A {ratios[-1]:.3f}", flush=True)
    print(f"B/A median {statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f})")


def alternate(a, b, n, folder):
    jobs = {"A": (a, job_file(folder, "a", 0)), "B": (b, job_file(folder, "b", 0))}
    for binary, job in jobs.values():
        if start(binary, job).wait() != 0:
            sys.exit(f"{binary}: the run failed")
    got = {k: [] for k in jobs}
    for _ in range(n):
        for k, (binary, job) in jobs.items():
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            if start(binary, job).wait() != 0:
                sys.exit(f"run {k} failed")
            wall = time.perf_counter() - t
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            got[k].append((wall, r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime))
    for k, v in got.items():
        walls, cpus = [w for w, _ in v], [c for _, c in v]
        print(f"{k}: wall median {statistics.median(walls):.3f} s (min {min(walls):.3f}), "
              f"cpu median {statistics.median(cpus):.3f} s (min {min(cpus):.3f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["paired", "alternate"])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("-n", type=int, default=0, help="pairs or rounds (default 6 paired, 10 alternate)")
    args = ap.parse_args()
    if not os.path.isdir(os.path.join(CHECK, "records")):
        sys.exit(f"{CHECK} is missing: run `python3 benches/run.py` once first")
    with tempfile.TemporaryDirectory(prefix="crlbatch-ab-") as folder:
        if args.mode == "paired":
            paired(args.a, args.b, args.n or 6, folder)
        else:
            alternate(args.a, args.b, args.n or 10, folder)


if __name__ == "__main__":
    main()
