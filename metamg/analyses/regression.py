"""Meta-regression on CSV columns: numeric columns as they are, text columns as dummies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metamg.analyses.pool import PoolAnalysis
from metamg.errors import InputError, Problem
from metamg.models.display import frame, html_table, one_line, p_is, p_value
from metamg.models.metaregression import (
    MetaRegression,
    meta_regression,
    permuted_statistics,
    regression_method,
)
from metamg.vocabulary import TABLE_METHODS


@dataclass(frozen=True)
class Design:
    X: np.ndarray
    names: tuple[str, ...]
    rows: np.ndarray  # indices of the studies used (moderators all present)
    reference_levels: dict  # categorical column -> its reference level
    dropped: tuple[str, ...]  # studies left out for a missing moderator value


def design(analysis: PoolAnalysis, mods) -> Design:
    """Intercept plus one column per numeric moderator, or one dummy per non-reference level of
    a categorical one (reference = first level in sorted order, as R's factor())."""
    es = analysis.effects
    lookup = {c.strip().lower(): c for c in es.extra}
    problems, cols = [], []
    for mod in mods:
        key = mod.strip().lower()
        if key not in lookup:
            problems.append(
                Problem(
                    es.source,
                    f"no column {mod!r} for meta-regression; the file has: "
                    + (", ".join(es.extra) or "no extra columns"),
                )
            )
        else:
            cols.append(lookup[key])
    if problems:
        raise InputError(problems)
    present = np.array([all(es.extra[c][i].strip() for c in cols) for i in range(es.k)], dtype=bool)
    rows = np.flatnonzero(present)
    dropped = tuple(es.studies[i] for i in np.flatnonzero(~present))
    columns, names, refs = [np.ones(len(rows))], ["intrcpt"], {}
    for c in cols:
        values = [es.extra[c][i].strip() for i in rows]
        try:
            columns.append(np.array([float(v) for v in values]))
            names.append(c)
        except ValueError:
            levels = sorted(set(values))
            refs[c] = levels[0]
            for level in levels[1:]:
                columns.append(np.array([v == level for v in values], dtype=float))
                names.append(f"{c}{level}")
    return Design(np.column_stack(columns), tuple(names), rows, refs, dropped)


def regression_settings(
    analysis: PoolAnalysis, method: str | None = None, ci_method: str | None = None
) -> tuple[str, str]:
    """The tau² estimator and test a meta-regression of ``analysis`` uses unless told otherwise:
    the analysis's own, with the common-effect model for Mantel-Haenszel and Peto analyses
    (which have no meta-regression form of their own)."""
    r = analysis.result
    return (method or ("FE" if r.method in TABLE_METHODS else r.method)), (ci_method or r.ci_method)


def regress(
    analysis: PoolAnalysis, mods, ci_method: str | None = None, method: str | None = None
) -> tuple[MetaRegression, Design]:
    """Meta-regression of the analysis's effects on ``mods`` with tau² by ``method`` (FE, DL,
    HE, HS, SJ, ML, REML, EB or PM, as metafor's rma(..., mods=) fits them; EE and CE mean FE)
    and tests by ``ci_method`` (wald, hk or hk-adhoc), each by default the analysis's own
    (``regression_settings``). Any other method is refused."""
    method, ci_method = regression_settings(analysis, method, ci_method)
    d = design(analysis, mods)
    es = analysis.effects
    try:
        method = regression_method(method)
    except ValueError as exc:
        raise InputError([Problem(es.source, f"meta-regression: {exc}")]) from None
    try:
        fit = meta_regression(
            es.yi[d.rows],
            es.vi[d.rows],
            d.X,
            d.names,
            method=method,
            ci_method=ci_method,
            level=analysis.result.level,
        )
    except ValueError as exc:
        raise InputError([Problem(es.source, f"meta-regression on {', '.join(mods)}: {exc}")]) from None
    if fit.hk_scale == 0:
        raise InputError(
            [
                Problem(
                    es.source,
                    f"meta-regression on {', '.join(mods)}: the moderators "
                    "fit every study exactly (residual Q = 0), so the Knapp-Hartung "
                    "variance is 0 and its t and F tests do not exist (metafor: NA); "
                    "use Wald tests (--ci wald)",
                )
            ]
        )
    return fit, d


@dataclass(frozen=True)
class PermutationTest:
    """Permutation p-values for a meta-regression: the moderator rows are shuffled against the
    studies' effects and the model refitted N times (Higgins & Thompson 2004, Stat Med
    23:1663-82; metafor's permutest). p = (1 + b)/(N + 1), with b the refits whose |statistic|
    (or QM) is at least the observed one (Phipson & Smyth 2010), so p is never 0."""

    permutations: int
    seed: int
    p: tuple[float, ...]  # per coefficient, in the model's order
    qm_p: float
    names: tuple[str, ...] = ()  # the coefficients' names, in that order

    def _named(self):
        """(name, p) per coefficient; unnamed when built without names."""
        names = self.names or tuple(f"b{i}" for i in range(len(self.p)))
        return zip(names, self.p, strict=True)

    def to_dict(self) -> dict:
        """The names of ``metamg regress --permutations --format json``: p_perm per coefficient,
        QM_p_perm, permutations and seed."""
        return {
            "coefficients": [{"name": n, "p_perm": p} for n, p in self._named()],
            "QM_p_perm": self.qm_p,
            "permutations": self.permutations,
            "seed": self.seed,
        }

    def __repr__(self) -> str:
        ps = ", ".join(f"{n} {p_is(p)}" for n, p in self._named())
        return one_line(
            f"PermutationTest({self.permutations:,} permutations, seed {self.seed}: {ps}; "
            f"QM {p_is(self.qm_p)})"
        )

    def _repr_html_(self) -> str:
        return html_table(
            ("coefficient", "permutation p"),
            [(n, p_value(p)) for n, p in self._named()],
            f"Permutation test ({self.permutations:,} permutations, seed {self.seed})",
            [f"test of moderators: permutation {p_is(self.qm_p)}"],
        )

    def to_frame(self):
        """One row per coefficient: its name and permutation p-value."""
        return frame(self.to_dict()["coefficients"])


def permutation_test(
    analysis: PoolAnalysis,
    mods,
    ci_method: str | None = None,
    permutations: int = 1000,
    seed: int = 1,
    method: str | None = None,
) -> PermutationTest:
    """``method`` and ``ci_method`` as regress(): by default the analysis's own."""
    fit, d = regress(analysis, mods, ci_method=ci_method, method=method)
    method, ci_method = fit.method, fit.ci_method  # as resolved for the observed fit
    es = analysis.effects
    yi, vi = es.yi[d.rows], es.vi[d.rows]
    observed = np.abs([c.statistic for c in fit.coefficients])
    rng = np.random.default_rng(seed)
    # the draws in the same order as one refit after another: the same p-values for a seed
    perms = np.array([rng.permutation(len(yi)) for _ in range(permutations)], dtype=np.intp)
    stats, qm = permuted_statistics(yi, vi, d.X, perms.reshape(-1, len(yi)), method, ci_method)
    tol = 1e-12  # ties with the observed value count as extreme (rounding noise aside)
    with np.errstate(invalid="ignore"):  # a fit that does not exist (NaN) is never extreme
        hits = np.sum(np.abs(stats) >= observed * (1 - tol), axis=0)
        qm_hits = int(np.sum(qm >= fit.qm * (1 - tol)))
    n = permutations
    return PermutationTest(
        n,
        seed,
        tuple(float(x) for x in (1 + hits) / (n + 1)),
        float((1 + qm_hits) / (n + 1)),
        tuple(c.name for c in fit.coefficients),
    )
