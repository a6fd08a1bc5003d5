"""metafor's times for the tasks of bench_sensitivity.py, on the same synthetic data.

    .venv/bin/python benchmarks/bench_metafor.py [--limit 120]

Needs Rscript with metafor (tests and CI never do). Writes the data with bench_sensitivity.py's
generator to a temporary folder, runs benchmarks/metafor_sensitivity.R once per task (a fresh
R process each; the time printed is the task alone) and stops a task at --limit seconds.
Prints a markdown table for the README. Measured once per machine: the README says when.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_sensitivity import data  # noqa: E402

TASKS = [
    ("loo_dl", "leave-one-out, DL, k = 1,000", "k1000"),
    ("loo_reml", "leave-one-out, REML, k = 1,000", "k1000"),
    ("influence_dl", "influence, DL, k = 1,000", "k1000"),
    ("influence_reml", "influence, REML, k = 1,000", "k1000"),
    ("cumulative_reml", "cumulative, REML, k = 1,000", "k1000"),
    ("trimfill_reml", "trim and fill, REML, k = 1,000", "k1000"),
    ("reml_ci", "REML fit with the tau² CI, k = 1,000,000", "k1000000"),
    ("permutations", "1,000 permutations of a meta-regression, k = 50", "regression"),
]


def write_data(folder: Path) -> dict[str, Path]:
    import numpy as np
    import pandas as pd

    files = {}
    for name, k in (("k1000", 1000), ("k1000000", 1_000_000)):
        yi, vi = data(k)
        files[name] = folder / f"{name}.csv"
        pd.DataFrame({"yi": yi, "vi": vi}).to_csv(files[name], index=False, float_format="%.17g")
    yr, vr = data(50, seed=2)  # as bench_sensitivity.main() makes the regression data
    xr = np.random.default_rng(3).normal(size=50)
    files["regression"] = folder / "regression.csv"
    pd.DataFrame({"yi": yr, "vi": vr, "x": xr}).to_csv(files["regression"], index=False, float_format="%.17g")
    return files


def _error(stderr: str) -> str:
    """R's own error line (e.g. "cannot allocate vector of size 7450.6 Gb")."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    error = next((line for line in lines if line.startswith("Error")), lines[-1] if lines else "?")
    return "fails: " + error.removeprefix("Error: ").removeprefix("Error in ")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=120.0, help="seconds before a task is stopped")
    args = ap.parse_args()
    version = subprocess.run(
        ["Rscript", "-e", 'cat(as.character(packageVersion("metafor")))'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    print(f"metafor {version}; each task in a fresh Rscript, stopped at {args.limit:g} s\n")
    print("| task | metafor |\n|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        files = write_data(Path(tmp))
        for task, label, dataset in TASKS:
            try:
                out = subprocess.run(
                    ["Rscript", str(HERE / "metafor_sensitivity.R"), task, str(files[dataset])],
                    capture_output=True,
                    text=True,
                    timeout=args.limit,
                )
                cell = f"{float(out.stdout.split()[0]):.2f} s" if out.returncode == 0 else _error(out.stderr)
            except subprocess.TimeoutExpired:
                cell = f"not finished in {args.limit:g} s"
            print(f"| {label} | {cell} |", flush=True)


if __name__ == "__main__":
    main()
