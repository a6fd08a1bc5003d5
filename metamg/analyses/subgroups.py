"""Pooling within the levels of a column, and the test for differences between subgroups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from metamg.analyses.pool import PoolAnalysis
from metamg.analyses.regression import regression_settings
from metamg.errors import InputError, Problem
from metamg.models import PoolResult, fit
from metamg.models.display import frame, html_table, level_text, num, one_line, p_is
from metamg.models.metaregression import MetaRegression, intercept_and, meta_regression

MISSING_LEVEL = "(no value)"


@dataclass(frozen=True)
class Subgroup:
    level: str
    analysis: PoolAnalysis


@dataclass(frozen=True)
class SubgroupAnalysis:
    """Each level pooled with the overall analysis's options, and subgroup differences tested two
    ways: RevMan's Q of a common-effect model on the subgroup estimates (Cochrane Handbook
    10.11.3.1; metafor rma(est, se², method="FE") on the subgroup fits), and the mixed-effects
    moderator test with one tau² shared by all subgroups (metafor rma(mods = ~ factor(col))),
    fitted with the overall analysis's tau² estimator and test (FE for Mantel-Haenszel and
    Peto analyses, which are common-effect models)."""

    column: str
    overall: PoolAnalysis
    subgroups: tuple[Subgroup, ...]
    between: PoolResult | None  # None with fewer than 2 subgroups
    moderator_test: MetaRegression | None = None  # rma(mods = ~ factor(column)) with the analysis's model

    def to_dict(self) -> dict:
        levels: list[dict[str, Any]] = []
        for g in self.subgroups:
            d = g.analysis.result.to_dict()
            levels.append(
                {
                    "level": g.level,
                    **{
                        k: d[k]
                        for k in (
                            "k",
                            "estimate",
                            "se",
                            "ci_low",
                            "ci_high",
                            "statistic",
                            "p",
                            "tau2",
                            "I2",
                            "H2",
                            "Q",
                            "Q_df",
                            "Q_p",
                        )
                        if k in d
                    },
                }
            )
        between = mods = None
        if self.between is not None:
            between = {"Q": self.between.q, "df": self.between.q_df, "p": self.between.q_p}
        if self.moderator_test is not None:
            t = self.moderator_test
            mods = {"QM": t.qm, "QM_df": t.qm_df, "QM_p": t.qm_p, "tau2": t.tau2, "QE": t.qe, "QE_p": t.qe_p}
        return {"column": self.column, "levels": levels, "test_mods": mods, "test_between_fixed": between}

    def _tests(self) -> list[str]:
        """Both tests for subgroup differences, in words."""
        out = []
        if self.between is not None:
            b = self.between
            out.append(
                f"test for subgroup differences (common-effect Q on the subgroup estimates): "
                f"Q = {num(b.q)} on {b.q_df} df, {p_is(b.q_p)}"
            )
        if self.moderator_test is not None:
            t = self.moderator_test
            stat = "QM" if t.qm_df2 is None else f"F({t.qm_df}, {t.qm_df2})"
            out.append(
                f"moderator test (one tau² shared by all subgroups): {stat} = {num(t.qm)}"
                + (f" on {t.qm_df} df" if t.qm_df2 is None else "")
                + f", {p_is(t.qm_p)}"
            )
        return out

    def __repr__(self) -> str:
        levels = ", ".join(f"{g.level} (k={g.analysis.result.k})" for g in self.subgroups)
        tests = "; ".join(self._tests()) or "fewer than 2 subgroups: nothing to compare"
        return one_line(f"SubgroupAnalysis(by {self.column!r}: {levels}; {tests})")

    def _repr_html_(self) -> str:
        m, lvl = self.overall.measure, level_text(self.overall.result.level)
        from metamg.analyses.sensitivity import Refit  # its table row; imported when shown

        rows = [Refit(g.level, g.analysis).table_row() for g in self.subgroups]  # one row per level
        return html_table(
            (self.column, "k", m.name, f"{lvl} CI", "p", "tau²", "I²"),
            rows,
            f"Subgroups by {self.column}",
            self._tests(),
        )

    def to_frame(self):
        """One row per subgroup: to_dict()'s numbers (analysis scale) and the effect with its CI
        on the natural scale."""
        nat = self.overall.natural
        return frame(
            [
                d
                | {
                    "effect": nat(d["estimate"]),
                    "effect_ci_low": nat(d["ci_low"]),
                    "effect_ci_high": nat(d["ci_high"]),
                }
                for d in self.to_dict()["levels"]
            ]
        )


def subgroup_column(analysis: PoolAnalysis, by: str | None) -> str | None:
    """``by``; the metadata's subgroup column when ``by`` is None; none for ''."""
    return by if by is not None else (analysis.meta.subgroup if analysis.meta else None)


def optional_subgroups(analysis: PoolAnalysis, by: str | None = None) -> SubgroupAnalysis | None:
    """Subgroups by ``by`` (default: the metadata's subgroup column), or None when there is no
    column: for the commands that add subgroups only when a column is given or named."""
    column = subgroup_column(analysis, by)
    return pool_subgroups(analysis, column) if column else None


def pool_subgroups(analysis: PoolAnalysis, column: str) -> SubgroupAnalysis:
    es = analysis.effects
    names = {c.strip().lower(): c for c in es.extra}
    if column.strip().lower() not in names:
        raise InputError(
            [
                Problem(
                    es.source,
                    f"no column {column!r} to group by; the file has: "
                    + (", ".join(es.extra) or "no extra columns"),
                )
            ]
        )
    col = names[column.strip().lower()]
    values = [v.strip() or MISSING_LEVEL for v in es.extra[col]]
    order = list(dict.fromkeys(values))
    confidence = analysis.options.level
    groups = [
        Subgroup(level, analysis.refit([i for i, v in enumerate(values) if v == level])) for level in order
    ]
    between = moderator = None
    if len(groups) >= 2:
        est = np.array([g.analysis.result.estimate for g in groups])
        se = np.array([g.analysis.result.se for g in groups])
        between = fit(est, se**2, method="FE", ci_method="wald", level=confidence, tau2_ci=False)
        dummies = [np.array([v == level for v in values], dtype=float) for level in order[1:]]
        method, ci_method = regression_settings(analysis)
        try:
            moderator = meta_regression(
                es.yi,
                es.vi,
                intercept_and(*dummies),
                ["intrcpt"] + order[1:],
                method=method,
                ci_method=ci_method,
                level=confidence,
            )
        except ValueError:
            moderator = None  # as many subgroups as studies: nothing left to estimate tau² from
    return SubgroupAnalysis(col, analysis, tuple(groups), between, moderator)
