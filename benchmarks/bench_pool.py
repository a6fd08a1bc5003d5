"""Speed of metamg pool, measured as a user meets it. Prints a markdown table for the README.

    .venv/bin/python benchmarks/bench_pool.py [--runs 7]

1. End to end: `metamg pool bcg.csv --format json` (13 studies) as a fresh process, wall time,
   median of --runs; beside it Rscript doing the same with metafor (read.csv, escalc, rma with
   REML + knha, confint, predict) when Rscript and metafor are installed.
2. Python API: a REML fit (with Q-profile CI) of 1,000,000 simulated studies, median of --runs,
   GOSH on all 1,048,575 subsets of 20 studies, and peak memory of the REML fit at 100,000 and
   1,000,000 studies (linear in k: no k x k matrices).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "tests" / "reference" / "cases" / "bcg.csv"
METAMG = Path(sys.executable).with_name("metamg")

R_SCRIPT = f"""
suppressPackageStartupMessages(library(metafor))
d <- read.csv("{CASE}")
es <- escalc(measure="RR", ai=events_treatment, n1i=n_treatment, ci=events_control, n2i=n_control, data=d)
res <- rma(yi, vi, data=es, method="REML", test="knha")
ci <- confint(res); p <- predict(res)
cat(res$b, res$se, res$tau2, ci$random[1, 2], p$pi.lb, "\\n")
"""


def wall(cmd, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def simulated(k, seed=1):
    import numpy as np

    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.5, k)
    yi = rng.normal(0.3, np.sqrt(vi + 0.1))
    return yi, vi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    rows = []
    cli = wall([str(METAMG), "pool", str(CASE), "--format", "json"], args.runs)
    rows.append(("`metamg pool` bcg.csv (13 studies), end to end", f"{cli:.2f} s"))
    if shutil.which("Rscript"):
        try:
            r = wall(["Rscript", "-e", R_SCRIPT], args.runs)
            rows.append(("Rscript + metafor, same analysis", f"{r:.2f} s ({r / cli:.1f}x metamg)"))
        except subprocess.CalledProcessError:
            rows.append(("Rscript + metafor, same analysis", "metafor not installed"))
    else:
        rows.append(("Rscript + metafor, same analysis", "Rscript not installed"))

    from metamg.models import fit

    yi, vi = simulated(1_000_000)
    fit(yi[:1000], vi[:1000])  # warm-up: imports
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        fit(yi, vi, method="REML")
        times.append(time.perf_counter() - t)
    rows.append(
        ("REML fit of 1,000,000 studies (Python API, with Q-profile CI)", f"{statistics.median(times):.2f} s")
    )
    from metamg.analyses.gosh import gosh

    yi20, vi20 = simulated(20)
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        g = gosh(yi20, vi20)
        times.append(time.perf_counter() - t)
    rows.append((f"GOSH, all {g.n_subsets:,} subsets of 20 studies", f"{statistics.median(times):.2f} s"))
    for k in (100_000, 1_000_000):
        yi, vi = simulated(k)
        tracemalloc.start()
        fit(yi, vi, method="REML")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        rows.append((f"peak memory of that fit, k = {k:,}", f"{peak / 2**20:.0f} MiB"))

    print(f"Median of {args.runs} runs, {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| what | time |\n|---|---|")
    for what, value in rows:
        print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
