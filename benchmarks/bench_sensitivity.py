"""Sensitivity analyses against a small numpy yardstick, side by side in one process (issue 13).

    .venv/bin/python benchmarks/bench_sensitivity.py [--runs 3] [--only "leave-one-out"]

Each task is timed in metamg (the public functions, as a user calls them) and in a minimal numpy
implementation of the same numbers written here, outside the package, as fast as plain numpy
makes it. Leave-one-out, influence and cumulative fit all subsets at once: Cochran's Q and
DerSimonian-Laird's tau² of every subset from running sums (O(k)), then one k x k matrix of
weights 1/(v_j + tau²_r) with the left-out studies set to 0 (the diagonal, or the upper
triangle for the prefixes of a cumulative meta-analysis) gives every estimate, its
Hartung-Knapp standard error, CI and p (scipy.special for the t and chi-square tails), Q's p
and I²; REML is Fisher scoring of all subsets at once to 1e-10, each iteration one pass of
k x k sums, from the full-data tau² (leave-one-out) or each prefix's DerSimonian-Laird value;
influence adds metafor's columns (rstudent, DFFITS, Cook's D, covariance ratio, DFBETAS, hat).
The "agree to" column is the largest relative difference between the two (metamg computes
its sums to full precision and solves REML to the spacing of floats). The older yardstick,
every subset fitted on its own in a Python loop, is timed once beside it ("one fit at a
time"; for cumulative it computes tau² only). Trim and fill uses the same estimator as
metamg's (DL or REML); the permutations the analysis's default model (REML, Knapp-Hartung t
tests and F), refitted one after another with the same seed and draws, so that its counts are
metamg's. Ratios are metamg / the vectorised numpy (median of --runs).
Synthetic data: 1,000 studies, vi = 4/n with n uniform on 20..400, tau² = 0.05, seed 1.
BLAS runs on one thread (set below, before numpy is imported), and the script says so.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import special  # noqa: E402

import metamg  # noqa: E402
from metamg.analyses.influence import influence  # noqa: E402
from metamg.analyses.regression import permutation_test  # noqa: E402
from metamg.analyses.sensitivity import cumulative, leave_one_out  # noqa: E402
from metamg.analyses.trimfill import trim_and_fill_for  # noqa: E402
from metamg.models import fit  # noqa: E402

LEVEL = 0.95


def data(k, seed=1, tau2=0.05):
    rng = np.random.default_rng(seed)
    vi = 4 / rng.integers(20, 401, k)
    yi = rng.normal(0.3, np.sqrt(vi + tau2))
    return yi, vi


# -- the numpy yardstick -------------------------------------------------------------------------


def dl(y, v):
    w = 1 / v
    mu = w @ y / w.sum()
    q = w @ (y - mu) ** 2
    return max(0.0, (q - (len(y) - 1)) / (w.sum() - (w @ w) / w.sum()))


def reml(y, v, tol=1e-10):
    t = dl(y, v)
    for _ in range(100):
        w = 1 / (v + t)
        sw = w.sum()
        r = y - w @ y / sw
        trp = sw - (w @ w) / sw
        score = (w * w) @ (r * r) - trp
        info = (w * w).sum() - 2 * (w**3).sum() / sw + ((w @ w) / sw) ** 2
        new = max(0.0, t + score / info)
        if abs(new - t) < tol * max(t, 1e-8):
            return new
        t = new
    return t


def summary(y, v, tau2):
    """The numbers of one fit: estimate, HK se, CI, t-test p, Q, Q's p, I²."""
    k = len(y)
    w = 1 / (v + tau2)
    sw = w.sum()
    est = w @ y / sw
    s2 = w @ (y - est) ** 2 / (k - 1) if k > 1 else 1.0
    se = np.sqrt(s2 / sw)
    df = max(k - 1, 1)
    crit = special.stdtrit(df, 1 - (1 - LEVEL) / 2)
    p = 2 * special.stdtr(df, -abs(est / se))
    w0 = 1 / v
    q = w0 @ (y - w0 @ y / w0.sum()) ** 2
    qp = special.chdtrc(df, q)
    vt = (k - 1) / (w0.sum() - (w0 @ w0) / w0.sum()) if k > 1 else 0.0
    i2 = 100 * tau2 / (tau2 + vt) if tau2 > 0 else 0.0
    return est, se, est - crit * se, est + crit * se, p, q, qp, i2, s2


def np_leave_one_out(yi, vi, tau2_of):
    rows = []
    for i in range(len(yi)):
        m = np.ones(len(yi), bool)
        m[i] = False
        y, v = yi[m], vi[m]
        t = tau2_of(y, v)
        rows.append((t, *summary(y, v, t)))
    return np.array(rows)


def np_influence(yi, vi, tau2_of):
    loo = np_leave_one_out(yi, vi, tau2_of)
    t_full = tau2_of(yi, vi)
    w = 1 / (vi + t_full)
    est, se = w @ yi / w.sum(), np.sqrt(1 / w.sum())
    tau2_del, est_del, se_del, s2_del = loo[:, 0], loo[:, 1], loo[:, 2], loo[:, 9]
    hat = w / w.sum()
    rstudent = (yi - est_del) / np.sqrt(s2_del * (vi + tau2_del) + se_del**2)
    dffits = (est - est_del) / np.sqrt(s2_del * hat * (vi + tau2_del))
    dfbetas = (est - est_del) / np.sqrt(s2_del / (1 / (vi[None, :] + tau2_del[:, None])).sum(1))
    cook = (est - est_del) ** 2 / se**2
    return rstudent, dffits, dfbetas, cook


def np_cumulative(yi, vi, tau2_of):
    return np.array([(tau2_of(yi[: n + 1], vi[: n + 1]),) for n in range(1, len(yi))])


def np_trim_and_fill(yi, vi, tau2_of):
    """L0 trim and fill with the fits of ``tau2_of`` (dl or reml): the side from the Egger slope
    (weighted least squares at the intercept-only tau², a shortcut: metamg fits the slope's
    model with moderators), the L0 iterations, the filled data refitted."""
    t = tau2_of(yi, vi)
    X = np.column_stack([np.ones_like(vi), np.sqrt(vi)])
    w = 1 / (vi + t)
    slope = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (w * yi))[1]
    y = -yi if slope < 0 else yi.copy()
    order = np.argsort(y, kind="stable")
    y, v = y[order], vi[order]
    k = len(y)
    k0, prev = 0, -1
    while k0 != prev:
        prev = k0
        t = tau2_of(y[: k - k0], v[: k - k0])
        w = 1 / (v[: k - k0] + t)
        beta = w @ y[: k - k0] / w.sum()
        c = y - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(c), kind="stable")] = np.arange(1, k + 1)
        k0 = max(0, round((4 * ranks[c > 0].sum() - k * (k + 1)) / (2 * k - 1)))
    filled_y = np.concatenate([y, 2 * beta - y[k - k0 :]])
    filled_v = np.concatenate([v, v[k - k0 :]])
    t = tau2_of(filled_y, filled_v)
    return summary(filled_y, filled_v, t)


# -- the vectorised numpy yardstick: all deletions (or prefixes) at once -------------------------
#
# Every fit's sums are row sums of one (fits x studies) weight matrix W = 1/(v_j + tau²_r) with
# the studies the fit leaves out set to 0: the diagonal (leave-one-out) or the upper triangle
# (prefixes). DerSimonian-Laird's Q and tau² are running sums, O(k); REML is Fisher scoring of
# all fits at once, each iteration one pass of k x k sums.

LEAVE_ONE_OUT, PREFIX = "leave-one-out", "prefix"


def masked_weights(v, tau2, rows, kind):
    """W for the fits ``rows`` at their tau²: one k x k matrix (fits x studies)."""
    W = 1 / (v + tau2[:, None])
    if kind == LEAVE_ONE_OUT:
        W[np.arange(len(rows)), rows] = 0
    else:
        W[np.arange(len(v)) > rows[:, None]] = 0
    return W


def running_sums(a, kind):
    """Σ a over each fit's studies: the total less a_i, or the prefix sums."""
    return a.sum() - a if kind == LEAVE_ONE_OUT else np.cumsum(a)


def at_zero(y, v, kind):
    """Cochran's Q and Σw - Σw²/Σw (w = 1/v) of every fit, from running sums."""
    w = 1 / v
    sw, swy, swyy, sww = (running_sums(a, kind) for a in (w, w * y, w * y * y, w * w))
    return swyy - swy**2 / sw, sw - sww / sw


def summarise(W, y, tau2, m, q, trace0):
    """The numbers metamg reports of every fit from its weights W: tau², estimate, the
    Knapp-Hartung se, CI, t-test p, Q and its p, I², s² and Σw."""
    sw, swy, swyy = (W @ np.column_stack([np.ones_like(y), y, y * y])).T
    est = swy / sw
    s2 = (swyy - est * swy) / (m - 1)
    se = np.sqrt(s2 / sw)
    crit = special.stdtrit(m - 1, 1 - (1 - LEVEL) / 2)
    p = 2 * special.stdtr(m - 1, -np.abs(est / se))
    i2 = 100 * tau2 / (tau2 + (m - 1) / trace0)
    return dict(
        tau2=tau2, est=est, se=se, low=est - crit * se, high=est + crit * se, p=p,
        q=q, qp=special.chdtrc(m - 1, q), i2=i2, s2=s2, sw=sw,
    )  # fmt: skip


def reml_all(y, v, tau2, kind, rows, tol=1e-10):
    """REML tau² of the fits ``rows`` by Fisher scoring, all at once from ``tau2``."""
    t = tau2.copy()
    live = np.arange(len(rows))
    for _ in range(100):
        W = masked_weights(v, t[live], rows[live], kind)
        W2 = W * W
        sw, swy = (W @ np.column_stack([np.ones_like(y), y])).T
        sw2, sw2y, sw2yy = (W2 @ np.column_stack([np.ones_like(y), y, y * y])).T
        mu = swy / sw
        score = sw2yy - 2 * mu * sw2y + mu * mu * sw2 - (sw - sw2 / sw)
        info = sw2 - 2 * np.einsum("ij,ij->i", W2, W) / sw + (sw2 / sw) ** 2
        new = np.maximum(0.0, t[live] + score / info)
        done = np.abs(new - t[live]) < tol * np.maximum(new, 1e-8)
        t[live] = new
        live = live[~done]
        if not len(live):
            break
    return t


def vec_leave_one_out(yi, vi, method):
    k = len(yi)
    rows = np.arange(k)
    q, trace0 = at_zero(yi, vi, LEAVE_ONE_OUT)
    if method == "DL":
        tau2 = np.maximum(0.0, (q - (k - 2)) / trace0)
    else:
        tau2 = reml_all(yi, vi, np.full(k, reml(yi, vi)), LEAVE_ONE_OUT, rows)
    return summarise(masked_weights(vi, tau2, rows, LEAVE_ONE_OUT), yi, tau2, k - 1, q, trace0)


def vec_influence(yi, vi, method):
    """metafor's influence columns from the deletion fits: rstudent, DFFITS, Cook's D, cov
    ratio, DFBETAS (Σ over all k studies at tau²₍₋ᵢ₎ = Σw₍₋ᵢ₎ + wᵢ), hat."""
    d = vec_leave_one_out(yi, vi, method)
    w = 1 / (vi + (dl(yi, vi) if method == "DL" else reml(yi, vi)))
    est = w @ yi / w.sum()
    hat = w / w.sum()
    var = w @ (yi - est) ** 2 / (len(yi) - 1) / w.sum()  # Knapp-Hartung
    tau2, s2, est_del, se_del = d["tau2"], d["s2"], d["est"], d["se"]
    change = est - est_del
    return dict(
        rstudent=(yi - est_del) / np.sqrt(s2 * (vi + tau2) + se_del**2),
        dffits=change / np.sqrt(s2 * hat * (vi + tau2)),
        cook_d=change**2 / var,
        cov_r=se_del**2 / var,
        dfbetas=change / np.sqrt(s2 / (d["sw"] + 1 / (vi + tau2))),
        hat=hat,
    )


def vec_cumulative(yi, vi, method):
    """The fits of the first 2, 3, ..., k studies (REML started from each prefix's DL)."""
    rows = np.arange(1, len(yi))
    m = rows + 1.0
    q, trace0 = (a[1:] for a in at_zero(yi, vi, PREFIX))
    tau2 = np.maximum(0.0, (q - (m - 1)) / trace0)
    if method == "REML":
        tau2 = reml_all(yi, vi, tau2, PREFIX, rows)
    return summarise(masked_weights(vi, tau2, rows, PREFIX), yi, tau2, m, q, trace0)


def np_reml_fit(yi, vi):
    t = reml(yi, vi)
    w = 1 / (vi + t)
    return t, w @ yi / w.sum(), np.sqrt(1 / w.sum())


def np_regression(y, v, X, tol=1e-10):
    """REML meta-regression by Fisher scoring, with the Knapp-Hartung t statistics of the
    coefficients and the F statistic of the moderators (the test permutation_test counts with
    the analysis's default, REML with hk)."""
    t = 0.0
    for _ in range(100):
        w = 1 / (v + t)
        A = np.linalg.inv(X.T @ (X * w[:, None]))
        H = (X * w[:, None]) @ A @ (X.T * w)
        P = np.diag(w) - H
        Py = P @ y
        score = Py @ Py - np.trace(P)
        info = np.sum(P * P.T)
        new = max(0.0, t + score / info)
        if abs(new - t) < tol * max(t, 1e-8):
            t = new
            break
        t = new
    w = 1 / (v + t)
    A = np.linalg.inv(X.T @ (X * w[:, None]))
    beta = A @ (X.T @ (w * y))
    k, p = X.shape
    vcov = A * (w @ (y - X @ beta) ** 2) / (k - p)
    qm = beta[1:] @ np.linalg.solve(vcov[1:, 1:], beta[1:]) / (p - 1)
    return np.append(beta / np.sqrt(np.diag(vcov)), qm)


def np_permutations(yi, vi, x, n, seed=1):
    X = np.column_stack([np.ones_like(x), x])
    observed = np.abs(np_regression(yi, vi, X))
    rng = np.random.default_rng(seed)
    hits = np.zeros(3)
    for _ in range(n):
        hits += np.abs(np_regression(yi, vi, X[rng.permutation(len(yi))])) >= observed
    return hits


# -- timing -----------------------------------------------------------------------------------------


def median_time(f, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


FIELDS = dict(
    tau2="tau2", est="estimate", se="se", low="ci_low", high="ci_high", p="p", q="q", qp="q_p", i2="i2"
)


def differs(ours, yardstick, names):
    """The largest relative difference between metamg's numbers and the yardstick's."""
    worst = 0.0
    for mine, theirs in names.items():
        a, b = np.asarray(ours(mine), dtype=float), np.asarray(yardstick[theirs], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            worst = max(worst, float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(b), 1e-300))))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="", help="run only the tasks whose name contains this")
    args = ap.parse_args()
    yi, vi = data(1000)
    frame = pd.DataFrame({"study": [f"s{i}" for i in range(len(yi))], "yi": yi, "vi": vi})
    analyses = {m: metamg.pool(frame, method=m, ci_method="hk") for m in ("DL", "REML")}
    dl_a, reml_a = analyses["DL"], analyses["REML"]
    big_y, big_v = data(1_000_000)
    yr, vr = data(50, seed=2)
    xr = np.random.default_rng(3).normal(size=50)
    reg = metamg.pool(pd.DataFrame({"study": [f"s{i}" for i in range(50)], "yi": yr, "vi": vr, "x": xr}))
    tau2_of = {"DL": dl, "REML": reml}

    def loo(m):
        fits = leave_one_out(analyses[m]).fits
        return (
            f"leave-one-out, {m}, k = 1,000",
            lambda: leave_one_out(analyses[m]),
            lambda: vec_leave_one_out(yi, vi, m),
            lambda: np_leave_one_out(yi, vi, tau2_of[m]),
            lambda: differs(lambda f: getattr(fits, f), vec_leave_one_out(yi, vi, m), FIELDS_BY_OURS),
        )

    def infl(m):
        rows = influence(analyses[m])
        names = ("rstudent", "dffits", "cook_d", "cov_r", "dfbetas", "hat")
        return (
            f"influence, {m}, k = 1,000",
            lambda: influence(analyses[m]),
            lambda: vec_influence(yi, vi, m),
            lambda: np_influence(yi, vi, tau2_of[m]),
            lambda: differs(
                lambda f: [getattr(r, f) for r in rows], vec_influence(yi, vi, m), {n: n for n in names}
            ),
        )

    def cumul(m):
        fits = cumulative(analyses[m]).rows[0].fits
        return (
            f"cumulative, {m}, k = 1,000",
            lambda: cumulative(analyses[m]),
            lambda: vec_cumulative(yi, vi, m),
            lambda: np_cumulative(yi, vi, tau2_of[m]),
            lambda: differs(lambda f: getattr(fits, f)[1:], vec_cumulative(yi, vi, m), FIELDS_BY_OURS),
        )

    tasks = [
        loo("DL"),
        loo("REML"),
        infl("DL"),
        infl("REML"),
        cumul("DL"),
        cumul("REML"),
        (
            "trim and fill, DL, k = 1,000",
            lambda: trim_and_fill_for(dl_a),
            lambda: np_trim_and_fill(yi, vi, dl),
            None,
            None,
        ),
        (
            "trim and fill, REML, k = 1,000",
            lambda: trim_and_fill_for(reml_a),
            lambda: np_trim_and_fill(yi, vi, reml),
            None,
            None,
        ),
        (
            "REML fit of 1,000,000 studies with the tau² CI (numpy: the fit alone)",
            lambda: fit(big_y, big_v, "REML", "hk"),
            lambda: np_reml_fit(big_y, big_v),
            None,
            None,
        ),
        (
            "1,000 permutations of a meta-regression, k = 50 (REML, Knapp-Hartung t and F)",
            lambda: permutation_test(reg, ["x"], ci_method="hk", permutations=1000, method="REML"),
            lambda: np_permutations(yr, vr, xr, 1000),
            None,
            None,
        ),
    ]
    print(
        f"BLAS threads: OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, "
        f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; numpy {np.__version__}; "
        f"median of {args.runs} runs\n"
    )
    print("| task | metamg | numpy | metamg / numpy | numpy, one fit at a time | agree to |")
    print("|---|---|---|---|---|---|")
    for name, ours, yardstick, looped, agreement in tasks:
        if args.only not in name:
            continue
        ours()  # warm-up: imports and caches
        a, b = median_time(ours, args.runs), median_time(yardstick, args.runs)
        loop = f"{median_time(looped, 1):.3f} s" if looped is not None else ""
        agree = f"{agreement():.0e}" if agreement is not None else ""
        print(f"| {name} | {a:.3f} s | {b:.3f} s | {a / b:.2f}x | {loop} | {agree} |", flush=True)


FIELDS_BY_OURS = {ours: theirs for theirs, ours in FIELDS.items()}


if __name__ == "__main__":
    main()
