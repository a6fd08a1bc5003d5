"""Speed and memory of `metamg check` and `metamg report` on a large study set, beside pandas
reading the same file.

    .venv/bin/python benchmarks/bench_large.py [--rows 200000] [--runs 3]

Writes a binary study CSV of --rows rows with every provenance column (and its metadata file)
into a temporary directory, then times, as fresh processes, median of --runs:

1. `metamg check FILE` (reads, validates, checks provenance and duplicates, computes the
   effects): wall time and peak memory (ru_maxrss of the child);
2. `metamg report FILE -o DIR`: the whole appraisal (both models, small-study tests, trim and
   fill, restricted analyses, GRADE, summary of findings), the funnel plot at 300 dpi, the
   markdown and the per-study CSV. With more than 1,000 studies the report leaves out the
   per-study refits (leave-one-out, influence, cumulative) and the forest plot, and says so;
3. the baseline: `pandas.read_csv(FILE)` alone, in a fresh Python process.

The ratios say what metamg's work costs on top of just parsing the file. Every step is linear
in the number of rows, so the ratios stay flat as --rows grows.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

METAMG = Path(sys.executable).with_name("metamg")
HEADER = (
    "study,year,events_treatment,n_treatment,events_control,n_control,source,doi,pmid,"
    "where_found,evidence_status,notes\n"
)
METADATA = """title = "Simulated large study set"
population = "simulated participants"
intervention = "simulated treatment"
comparator = "simulated control"
outcome = "simulated events / randomised"
measure = "OR"
inclusion = "every simulated trial is pooled"
"""


def write_study_set(directory: Path, rows: int, seed: int = 1) -> Path:
    """A binary study set of ``rows`` trials, each with its citation, DOI, PMID and status."""
    rng = random.Random(seed)
    path = directory / "large.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        for i in range(rows):
            n1, n2 = rng.randint(20, 400), rng.randint(20, 400)
            a, c = rng.randint(0, n1 // 3), rng.randint(0, n2 // 3)
            fh.write(
                f"Trial {i + 1},{1980 + i % 45},{a},{n1},{c},{n2},"
                f'"Author {i} et al. Journal {i % 97};{i % 40}:{i % 900}",10.{1000 + i % 9000}/trial.{i},'
                f"{10_000_000 + i},p. {1 + i % 12},full-text,deaths / randomised\n"
            )
    (directory / "large.toml").write_text(METADATA, encoding="utf-8")
    return path


# Runs the command as its only child, so that RUSAGE_CHILDREN's peak is that command's alone.
_WRAPPER = """
import resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
elapsed = time.perf_counter() - t
if done.returncode != 0:
    sys.exit(f"{sys.argv[1]} failed ({done.returncode}): {done.stderr[:2000]}")
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def timed(cmd) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MiB) of ``cmd`` as a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *cmd], check=True, stdout=subprocess.PIPE, text=True
    ).stdout.split()
    return float(out[0]), int(out[1]) / 1024  # ru_maxrss is in KiB on Linux


def median_run(cmd, runs) -> tuple[float, float]:
    results = [timed(cmd) for _ in range(runs)]
    return statistics.median(t for t, _ in results), max(m for _, m in results)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = write_study_set(Path(tmp), args.rows)
        size = os.path.getsize(csv) / 2**20
        base, base_mem = median_run(
            [sys.executable, "-c", f"import pandas; pandas.read_csv({str(csv)!r})"], args.runs
        )
        check, check_mem = median_run([str(METAMG), "check", str(csv)], args.runs)
        report, report_mem = median_run(
            [str(METAMG), "report", str(csv), "-o", str(Path(tmp) / "out")], args.runs
        )
    print(
        f"{args.rows:,} rows ({size:.0f} MiB), median of {args.runs} runs, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}\n"
    )
    print("| what | time | peak memory |\n|---|---|---|")
    print(f"| `metamg check` | {check:.1f} s ({check / base:.1f}x pandas) | {check_mem:.0f} MiB |")
    print(f"| `metamg report` | {report:.1f} s ({report / base:.1f}x pandas) | {report_mem:.0f} MiB |")
    print(f"| `pandas.read_csv` of the same file (baseline) | {base:.1f} s | {base_mem:.0f} MiB |")


if __name__ == "__main__":
    main()
