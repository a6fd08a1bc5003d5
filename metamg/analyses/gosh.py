"""GOSH: the common-effect model fitted to every subset of the studies (Olkin, Dahabreh &
Trikalinos 2012, Res Synth Methods 3:214-223; metafor's gosh on an FE model).

All 2^k - 1 subsets for k <= 20, otherwise a reproducible random sample. Each subset's fit is
a few weighted sums, so subsets are evaluated as matrix products over bitmask chunks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metamg.errors import InputError, Problem
from metamg.models.display import html_table, num, one_line

ALL_SUBSETS_MAX_K = 20
DEFAULT_SAMPLE = 100_000
CHUNK = 1 << 16


@dataclass(frozen=True)
class Gosh:
    k: int
    exhaustive: bool
    subset_k: np.ndarray
    estimate: np.ndarray
    Q: np.ndarray
    I2: np.ndarray
    H2: np.ndarray

    @property
    def n_subsets(self) -> int:
        return len(self.estimate)

    def summary(self) -> dict:
        def stats(x):
            return {
                "mean": float(x.mean()),
                "min": float(x.min()),
                "max": float(x.max()),
                "sd": float(x.std(ddof=1)),
            }

        return {
            "n_subsets": self.n_subsets,
            "exhaustive": self.exhaustive,
            **{name: stats(getattr(self, name)) for name in ("subset_k", "estimate", "I2", "H2", "Q")},
        }

    def to_dict(self) -> dict:
        """JSON-ready: the summary (the subsets themselves are in to_frame())."""
        return self.summary()

    def __repr__(self) -> str:
        how = "all" if self.exhaustive else "a random sample of"
        return one_line(
            f"Gosh({how} {self.n_subsets:,} subsets of {self.k} studies: estimate "
            f"{num(self.estimate.min())} to {num(self.estimate.max())} (analysis scale), "
            f"I² {num(self.I2.min(), 3)}% to {num(self.I2.max(), 3)}%)"
        )

    def _repr_html_(self) -> str:
        s = self.summary()
        rows = [
            (name, num(s[name]["mean"]), num(s[name]["min"]), num(s[name]["max"]), num(s[name]["sd"]))
            for name in ("subset_k", "estimate", "I2", "H2", "Q")
        ]
        how = "all" if self.exhaustive else "a random sample of"
        return html_table(
            ("", "mean", "min", "max", "sd"),
            rows,
            f"GOSH: common-effect fits of {how} {self.n_subsets:,} subsets of {self.k} studies",
        )

    def to_frame(self):
        """One row per subset: its size, common-effect estimate (analysis scale), Q, I² and H²."""
        import pandas as pd

        return pd.DataFrame(
            {"subset_k": self.subset_k, "estimate": self.estimate, "Q": self.Q, "I2": self.I2, "H2": self.H2}
        )


def gosh(yi, vi, subsets: int | None = None, seed: int = 1, source: str = "") -> Gosh:
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = len(yi)
    if k < 2:
        raise InputError([Problem(source or "GOSH", f"GOSH needs at least 2 studies, not {k}")])
    exhaustive = k <= ALL_SUBSETS_MAX_K and (subsets is None or subsets >= 2**k - 1)
    w = 1 / vi
    centre = float(w @ yi / w.sum())  # Q is shift-invariant: centring avoids cancellation
    yc = yi - centre
    cols = np.column_stack([w, w * yc, w * yc * yc])
    if exhaustive:
        codes = np.arange(1, 2**k, dtype=np.int64)
    else:
        rng = np.random.default_rng(seed)
        n = subsets or DEFAULT_SAMPLE
        masks = rng.random((n, k)) < 0.5
        empty = ~masks.any(axis=1)
        masks[empty, rng.integers(0, k, empty.sum())] = True  # no empty subsets
    sums, sizes = [], []
    bits = 1 << np.arange(k, dtype=np.int64)
    total = len(codes) if exhaustive else len(masks)
    for start in range(0, total, CHUNK):
        m = ((codes[start : start + CHUNK, None] & bits) != 0) if exhaustive else masks[start : start + CHUNK]
        mf = m.astype(float)
        sums.append(mf @ cols)
        sizes.append(m.sum(axis=1))
    s = np.vstack(sums)
    size = np.concatenate(sizes)
    sw, swy, swy2 = s[:, 0], s[:, 1], s[:, 2]
    est = centre + swy / sw
    q = np.maximum(swy2 - swy * swy / sw, 0.0)
    df = size - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        i2 = np.where((df > 0) & (q > 0), 100 * np.maximum(0, (q - df) / q), 0.0)
        h2 = np.where(df > 0, q / np.where(df > 0, df, 1), 1.0)
    q = np.where(df > 0, q, 0.0)
    return Gosh(k, exhaustive, size, est, q, i2, h2)
