"""The command line's verbs for Python and notebooks, each taking the pooled analysis.

As in metafor, where every post-fit function takes the fit (``leave1out(res)``,
``funnel(res)``), every verb here after ``pool`` takes the ``PoolAnalysis`` that ``pool``
returned, and reuses its settings (measure, tau² estimator, CI method, level, ...)::

    analysis = metamg.pool("bcg.csv", measure="RR")      # rma(yi, vi, data=dat, test="knha")
    metamg.leave_one_out(analysis)                       # leave1out(res)
    metamg.forest(analysis, by="alloc")                  # forest(res) with subgroups

Each verb returns what the matching command prints as JSON (``to_dict()``), shows itself in a
notebook, and has ``to_frame()``. The plotting verbs return a matplotlib Figure that displays
itself in Jupyter (no ``%matplotlib inline`` needed, no pyplot state); ``ax=`` draws a
one-panel plot on your own axes instead and returns those axes, as pandas' and seaborn's plots
do (so a pyplot figure shows once, by pyplot). Writing files stays with the ``write_*`` functions
and the command line.

These are thin: analyses compute, ``metamg.render`` draws what they computed. This module
only composes the two, as each command of ``metamg.cli`` does.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from metamg.analyses import bias as _bias
from metamg.analyses import gosh as _gosh
from metamg.analyses import influence as _influence
from metamg.analyses import sensitivity as _sensitivity
from metamg.analyses.appraisal import _other_model, appraise, models_disagree, verdict_model
from metamg.analyses.bayes import BayesAnalysis, posterior_curves, shrinkage_forest
from metamg.analyses.pool import PoolAnalysis, PoolOptions, PoolOverrides, pool
from metamg.analyses.regression import Design, PermutationTest, design
from metamg.analyses.regression import permutation_test as _permutation_test
from metamg.analyses.regression import regress as _regress
from metamg.analyses.subgroups import (  # noqa: F401 (optional_subgroups: part of the API)
    SubgroupAnalysis,
    optional_subgroups,
    pool_subgroups,
    subgroup_column,
)
from metamg.analyses.trimfill import TrimFill, trim_and_fill_for
from metamg.errors import InputError, Problem
from metamg.io.revman import RevManAnalysis, RevManReview, read_revman
from metamg.io.revman_sets import pool_settings, study_table, write_sets
from metamg.models.metaregression import MetaRegression
from metamg.render import diagnostics as _diagnostics
from metamg.render.bayes_plots import draw_bayes_forest, draw_posterior
from metamg.render.forest import MAX_FOREST_STUDIES, draw_forest, forest_rows, study_set_forest_layout
from metamg.render.funnel import draw_funnel, funnel_layout
from metamg.render.report import (  # noqa: F401 (write_index: part of the API)
    ReportSummary,
    index_entry,
    render_report,
    report_name,
    write_index,
)
from metamg.render.robplot import RobFigures, analysis_rob_layout, draw_rob_plots
from metamg.vocabulary import DEFAULT_REPORT_FORMATS

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11

__all__ = [
    "pool",
    "subgroups",
    "regress",
    "permutation_test",
    "leave_one_out",
    "cumulative",
    "influence",
    "gosh",
    "small_study_tests",
    "trim_and_fill",
    "fail_safe_n",
    "forest",
    "funnel",
    "baujat",
    "gosh_plot",
    "bubble",
    "rob_plots",
    "bayes_plot",
    "bayes_forest",
    "write_report",
    "write_index",
    "import_revman",
    "reanalyse_revman",
    "write_revman_sets",
]

# -- analyses ---------------------------------------------------------------------------------


def subgroups(analysis: PoolAnalysis, by: str | None = None) -> SubgroupAnalysis:
    """Pool within the levels of column ``by`` (default: the metadata's ``subgroup`` column) and
    test the differences, as ``metamg pool --by COLUMN``."""
    column = subgroup_column(analysis, by)
    if not column:
        raise InputError(
            [
                Problem(
                    analysis.source,
                    "no column to group by: pass by='COLUMN' (the study "
                    "set's metadata names no subgroup column)",
                )
            ]
        )
    return pool_subgroups(analysis, column)


def regress(
    analysis: PoolAnalysis, mods, method: str | None = None, ci_method: str | None = None
) -> MetaRegression:
    """Meta-regression on the moderator columns ``mods`` ("ablat", "ablat,year" or a list), as
    ``metamg regress --mods``: tau² by the analysis's estimator and tests by its CI method
    unless ``method`` or ``ci_method`` say otherwise (metafor: rma(yi, vi, mods = ~ ablat))."""
    return _regression(analysis, mods, method, ci_method)[0]


def permutation_test(
    analysis: PoolAnalysis,
    mods,
    permutations: int = 1000,
    seed: int = 1,
    method: str | None = None,
    ci_method: str | None = None,
) -> PermutationTest:
    """Permutation p-values for ``regress(analysis, mods)`` from ``permutations`` refits with the
    moderators shuffled (metafor's permutest), as ``metamg regress --permutations N --seed S``."""
    return _permutation_test(analysis, _columns(mods), ci_method, permutations, seed, method=method)


def leave_one_out(analysis: PoolAnalysis) -> _sensitivity.LeaveOneOut:
    """The pooled result without each study in turn (metafor's leave1out)."""
    _need_two(analysis, "leave-one-out")
    return _sensitivity.leave_one_out(analysis)


def cumulative(analysis: PoolAnalysis) -> _sensitivity.Cumulative:
    """Studies added one at a time, by the ``year`` column when there is one (metafor's cumul)."""
    return _sensitivity.cumulative(analysis)


def influence(analysis: PoolAnalysis) -> _influence.InfluenceTable:
    """Outlier and influence diagnostics per study (metafor's influence)."""
    _need_two(analysis, "influence diagnostics")
    return _influence.influence(analysis)


def gosh(analysis: PoolAnalysis, subsets: int | None = None, seed: int = 1) -> _gosh.Gosh:
    """The common-effect model fitted to every subset of the studies (all for k <= 20, else
    ``subsets`` random ones drawn with ``seed``), as metafor's gosh."""
    es = analysis.effects
    return _gosh.gosh(es.yi, es.vi, subsets, seed, es.source)


def small_study_tests(analysis: PoolAnalysis) -> _bias.SmallStudyTests:
    """Egger (both forms), Begg, trim and fill and fail-safe N, as ``metamg bias``."""
    return _bias.small_study_tests(analysis)


def trim_and_fill(analysis: PoolAnalysis) -> TrimFill:
    """Trim and fill with the analysis's model and CI rule (metafor's trimfill(res, test=res$test))."""
    return trim_and_fill_for(analysis)


def fail_safe_n(analysis: PoolAnalysis, alpha: float = 0.05) -> _bias.FailSafeN:
    """Rosenthal's fail-safe N on the effects the analysis's model uses (metafor's fsn)."""
    yi, vi = _bias.model_effects(analysis)
    return _bias.fail_safe_n(yi, vi, alpha)


# -- figures ----------------------------------------------------------------------------------


def forest(
    analysis: PoolAnalysis,
    by: str | None = None,
    *,
    size: str | None = None,
    layout: str | None = None,
    show_excluded: bool = False,
    mid_band: bool = True,
):
    """The forest plot as ``metamg forest`` draws it: grouped by column ``by`` (default: the
    metadata's subgroup column; ``by=""`` for none), at ``size`` ("auto", "slide" or "page")
    in ``layout`` ("cochrane" or "compact"). The other model's diamond (common effect beside
    random effects, or the reverse) is drawn beside the main one when the two disagree: one CI
    excludes no effect and the other does not, or the estimates are more than 25% apart on the
    ratio scale (0.223 on the analysis scale); it is labelled "used for the verdicts" when
    small-study effects make it the model the report's verdicts use. ``show_excluded`` draws
    the candidate studies that were not pooled; ``mid_band=False`` leaves out the shaded
    minimal important difference of the metadata's ``[grade] mid``.

    It takes no ``ax``: the plot is a table of columns (labels, raw data, effects, weights, risk
    of bias) around its panel, sized in inches from its rows, so it needs a figure of its own."""
    rows = forest_rows(analysis, show_excluded)
    if rows > MAX_FOREST_STUDIES:
        raise InputError(
            [
                Problem(
                    analysis.source,
                    f"{rows:,} rows are too many for a legible forest "
                    f"plot (at most {MAX_FOREST_STUDIES}); see the per-study numbers with "
                    "`metamg pool --format csv` (or analysis.to_frame()), or plot a subset",
                )
            ]
        )
    groups = optional_subgroups(analysis, by)
    answer, other = _second_diamond(analysis)
    drawn = study_set_forest_layout(
        analysis,
        analysis.meta,
        groups,
        answer,
        other=other,
        size=size,
        layout=layout,
        show_excluded=show_excluded,
        mid_band=mid_band,
    )
    return draw_forest(drawn)


def _second_diamond(analysis: PoolAnalysis) -> tuple[PoolAnalysis | None, PoolAnalysis | None]:
    """The forest plot's second diamond, as (answer, other): the model the verdicts use when it
    is not the main one, else the other model when the two disagree (appraisal's
    models_disagree); (None, None) when one diamond says it all."""
    other = _other_model(analysis)  # None with one study
    answer, _ = verdict_model(analysis, other)
    if answer is not analysis:
        return answer, None
    if other is not None and models_disagree(analysis.result, other.result):
        return None, other
    return None, None


def funnel(analysis: PoolAnalysis, trimfill=False, ax=None, *, size: str | None = None):
    """The contour-enhanced funnel plot, as ``metamg funnel``; ``trimfill=True`` adds the
    studies trim and fill fills in (or pass a TrimFill you computed). With too few studies to
    trim and fill, the plain funnel is drawn, as the command does. ``size`` ("auto", "slide"
    or "page") applies to a figure of its own (not to the caller's ``ax``)."""
    filled = trimfill if isinstance(trimfill, TrimFill) else None
    if trimfill is True:
        try:
            filled = trim_and_fill_for(analysis)
        except InputError:
            filled = None
    title = analysis.meta.title if analysis.meta else ""
    return _drawn(draw_funnel(funnel_layout(analysis, title, filled), ax, size), ax)


def _drawn(fig, ax):
    """What a one-panel plot returns: its own figure, or the caller's axes it drew on."""
    return fig if ax is None else ax


def baujat(analysis: PoolAnalysis, ax=None, *, size: str | None = None):
    """The Baujat plot (metafor's baujat), as ``metamg sensitivity --baujat``; ``size``
    ("auto", "slide" or "page") applies to a figure of its own."""
    points = _influence.baujat_points(analysis)
    return _drawn(_diagnostics.draw_baujat(points, _title(analysis), ax, size), ax)


def gosh_plot(
    analysis: PoolAnalysis,
    result: _gosh.Gosh | None = None,
    subsets: int | None = None,
    seed: int = 1,
    ax=None,
    *,
    size: str | None = None,
):
    """The GOSH plot, as ``metamg sensitivity --gosh-plot``: of ``result`` when you computed
    it with gosh(analysis), else of gosh(analysis, subsets, seed); ``size`` applies to a figure
    of its own."""
    result = result if result is not None else gosh(analysis, subsets, seed)
    return _drawn(_diagnostics.draw_gosh(result, analysis, _title(analysis), ax, size), ax)


def bubble(analysis: PoolAnalysis, mods, ax=None, *, size: str | None = None):
    """The bubble plot of a meta-regression on one continuous moderator, as ``metamg regress
    --plot``: ``mods`` names the column (the regression is fitted as regress() does), or is
    the MetaRegression regress(analysis, column) returned; ``size`` applies to a figure of its
    own."""
    if isinstance(mods, MetaRegression):
        fit = mods
        d = _design_of(analysis, fit)
    else:
        fit, d = _regression(analysis, mods, None, None)
    if len(fit.coefficients) != 2 or d.reference_levels:
        raise InputError(
            [
                Problem(
                    analysis.source,
                    "a bubble plot needs a meta-regression on exactly one continuous moderator",
                )
            ]
        )
    return _drawn(_diagnostics.draw_bubble(analysis, fit, d, _title(analysis), ax, size), ax)


def rob_plots(analysis: PoolAnalysis, weighted: bool = True, *, size: str | None = None) -> RobFigures:
    """The risk-of-bias traffic-light and summary plots (robvis style), as ``metamg rob``: the
    summary bars weighted as the analysis weighs the studies, or counting them
    (``weighted=False``), at ``size`` ("auto", "slide" or "page"). Unpack as
    ``traffic, summary = metamg.rob_plots(analysis)``."""
    title = f"{_title(analysis)}: risk of bias (RoB 2)"
    return draw_rob_plots(analysis_rob_layout(analysis, title, weighted), size)


def bayes_plot(result: BayesAnalysis, *, size: str | None = None):
    """The posterior of tau and of mu of a Bayesian meta-analysis (``metamg.bayes(analysis)``),
    each with its prior, median and 95% credible interval, as ``metamg bayes --plot``, at
    ``size`` ("auto", "slide" or "page": the panels one above the other). It takes no ``ax``:
    it is two panels side by side."""
    return draw_posterior(posterior_curves(result), size)


def bayes_forest(result: BayesAnalysis, *, size: str | None = None):
    """The Bayesian forest plot of ``metamg.bayes(analysis)``: each study's observed effect and
    shrinkage estimate, the pooled mu and a new study's predictive interval, as ``metamg bayes
    --forest``, at ``size``. It takes no ``ax``: it is a table of columns around its panel."""
    return draw_bayes_forest(shrinkage_forest(result), size)


# -- shared steps -----------------------------------------------------------------------------


def _columns(mods) -> list[str]:
    """Moderator columns from "a,b" or a list of names."""
    names = mods.split(",") if isinstance(mods, str) else list(mods)
    columns = [m.strip() for m in names if m.strip()]
    if not columns:
        raise InputError([Problem("mods", "name at least one moderator column, e.g. mods='ablat'")])
    return columns


def _regression(analysis, mods, method, ci_method) -> tuple[MetaRegression, Design]:
    return _regress(analysis, _columns(mods), ci_method=ci_method, method=method)


def _design_of(analysis: PoolAnalysis, fit: MetaRegression) -> Design:
    """The design a meta-regression of this analysis was fitted on, rebuilt from its coefficients'
    names (one continuous moderator: intercept and the column)."""
    names = tuple(c.name for c in fit.coefficients)
    d = design(analysis, list(names[1:2])) if len(names) == 2 else None
    if d is None or d.names != names or len(d.rows) != fit.k:
        raise InputError(
            [
                Problem(
                    analysis.source,
                    "a bubble plot needs a meta-regression of this "
                    "analysis on exactly one continuous moderator",
                )
            ]
        )
    return d


def _need_two(analysis: PoolAnalysis, what: str) -> None:
    if analysis.result.k < 2:
        raise InputError(
            [
                Problem(
                    analysis.source,
                    f"{what} needs at least 2 pooled studies; this set has {analysis.result.k}",
                )
            ]
        )


def _title(analysis: PoolAnalysis) -> str:
    """The study set's title, else its file name without the extension (as the commands)."""
    if analysis.meta is not None and analysis.meta.title:
        return analysis.meta.title
    return os.path.splitext(os.path.basename(analysis.source))[0]


# -- reports --------------------------------------------------------------------------------


def write_report(
    csv_path,
    outdir="reports",
    options: PoolOptions | str | None = None,
    *,
    formats: tuple[str, ...] | list[str] = DEFAULT_REPORT_FORMATS,
    **overrides: Unpack[PoolOverrides],
) -> ReportSummary:
    """Appraise the study set at ``csv_path`` and write NAME.md with its figures into ``outdir``,
    and NAME.html, .docx, .pdf as ``formats`` asks (vocabulary.REPORT_FORMATS), as ``metamg
    report``; ``options`` and the keyword arguments are ``pool``'s (measure, method, ci_method,
    level, ...) and override the metadata. Returns the set's row of the index (``write_index``
    writes it)."""
    report_name(csv_path)
    return render_report(appraise(csv_path, options, **overrides), csv_path, outdir, tuple(formats))


@dataclass(frozen=True)
class ReportOutcome:
    """What writing one study set's report gave: the report and its index row, or the problems
    (bad data: one Problem each) or the internal error (a bug: its type and message) that
    stopped it. Plain values, so that a worker process can hand it back."""

    source: str  # the study set's CSV
    report: str | None = None  # the NAME.md written
    index_entry: dict[str, Any] | None = None  # its row of the index (write_index takes it)
    problems: tuple[Problem, ...] = ()
    internal_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.report is not None


def write_reports(
    paths,
    outdir="reports",
    options: PoolOptions | str | None = None,
    jobs: int = 1,
    formats: tuple[str, ...] | list[str] = DEFAULT_REPORT_FORMATS,
) -> Iterator[ReportOutcome]:
    """Write the report of each study set in ``paths`` into ``outdir``, as ``metamg report``,
    yielding one ReportOutcome per set in the order given; a set that fails does not stop the
    others. ``jobs`` > 1 writes that many sets at once in worker processes (forked, where the
    system has fork: they start with everything imported); the files are the same either way.
    ``write_index`` then takes the outcomes' ``index_entry``."""
    paths = [os.fspath(p) for p in paths]
    by_name: dict[str, list[str]] = {}
    for path in paths:  # two sets of one name would overwrite each other's report
        by_name.setdefault(_stem(path), []).append(path)
    tasks = [
        (path, tuple(p for p in by_name[_stem(path)] if p != path), outdir, options, tuple(formats))
        for path in paths
    ]
    workers = _worker_count(jobs, len(tasks))
    if workers == 1:
        yield from map(_write_one, tasks)
        return
    import multiprocessing

    from metamg.render.figures import new_figure

    new_figure((1, 1))  # import matplotlib and load its fonts once, before the workers fork
    # the largest files first, so that no worker is left with a big set at the end; outcomes
    # are still given in the order of ``paths``
    order = sorted(range(len(tasks)), key=lambda i: -_size(tasks[i][0]))
    done: dict[int, ReportOutcome] = {}
    following = 0
    with multiprocessing.get_context("fork").Pool(workers, initializer=_worker_start) as workers_pool:
        for i, outcome in workers_pool.imap_unordered(_write_numbered, [(i, tasks[i]) for i in order]):
            done[i] = outcome
            while following in done:
                yield done.pop(following)
                following += 1
        # let the idle workers leave on their own: the block's terminate() would kill them,
        # and a worker killed while it holds the task queue's lock can hang the others
        workers_pool.close()
        workers_pool.join()


def _write_numbered(numbered) -> tuple[int, ReportOutcome]:
    i, task = numbered
    return i, _write_one(task)


def _size(path) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _stem(path) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _worker_count(jobs: int, sets: int) -> int:
    """Worker processes for ``jobs`` (at most one per set): 1 without fork, in a process
    running other threads (a notebook's kernel, a test runner: a lock another thread holds at
    the fork would stay locked in the worker), and under METAMG_DEBUG, whose tracebacks come
    from the process the user runs."""
    import multiprocessing
    import threading

    if jobs <= 1 or sets <= 1 or os.environ.get("METAMG_DEBUG"):
        return 1
    if threading.active_count() > 1:  # forking a process with other threads can deadlock
        return 1
    return min(jobs, sets) if "fork" in multiprocessing.get_all_start_methods() else 1


def _worker_start() -> None:
    """Ctrl-C reaches every process of the terminal: the workers leave it to the parent, which
    stops them (SIGTERM, on which the atomic writes remove their temporary files)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _write_one(task) -> ReportOutcome:
    path, namesakes, outdir, options, formats = task
    try:
        if namesakes:
            raise InputError(
                [
                    Problem(
                        path,
                        "another study set of the same name is in this run ("
                        + ", ".join(namesakes)
                        + "); their reports would overwrite each other",
                    )
                ]
            )
        summary = write_report(path, outdir, options, formats=formats)
        return ReportOutcome(path, summary.path, index_entry(summary))
    except InputError as exc:
        return ReportOutcome(path, problems=tuple(exc.problems))
    except Exception as exc:  # a bug of ours on one set: say so, keep the others
        if os.environ.get("METAMG_DEBUG"):
            raise
        return ReportOutcome(path, internal_error=f"{type(exc).__name__}: {exc}")


# -- Cochrane reviews in ----------------------------------------------------------------------


@dataclass(frozen=True)
class RevManImport:
    """One analysis of an imported Cochrane review: the rows and RevMan's stored results as the
    file has them (``analysis``), and metamg's own computation with the ``revman5`` profile
    (``revman5``: on the analysis scale, None when nothing could be pooled, with ``note`` saying
    why). ``to_dict()`` is what ``metamg import PATH --analysis ID --format json`` prints."""

    review: RevManReview
    analysis: RevManAnalysis
    settings: dict[str, Any]  # metamg.pool's arguments for the revman5 re-analysis
    revman5: dict[str, Any] | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        reanalysis: dict[str, Any] = {"revman5": self.revman5, "settings": dict(self.settings)}
        if self.note:
            reanalysis["note"] = self.note
        return {**self.analysis.to_dict(), "review": self.review.describe(), "reanalysis": reanalysis}


def import_revman(path, analysis: str | None = None):
    """A Cochrane review read from ``path`` (a RevMan 5 .rm5 file, a data-package zip or its
    folder), as ``metamg import`` reads it: the RevManReview (every analysis's settings, rows and
    RevMan's stored results) or, with ``analysis="1.4"``, that analysis re-pooled by metamg's
    revman5 profile beside RevMan's numbers (a RevManImport)."""
    review = read_revman(path)
    if analysis is None:
        return review
    return reanalyse_revman(review, review.analysis(analysis))


def reanalyse_revman(review: RevManReview, analysis: RevManAnalysis) -> RevManImport:
    """``analysis`` pooled as RevMan 5 pooled it (``metamg.io.revman_sets.pool_settings``)."""
    settings = pool_settings(analysis)
    note = ""
    if analysis.heterogeneity_estimator.upper() not in ("DL", "") and analysis.model == "random":
        note = (
            f"RevMan Web used the {analysis.heterogeneity_estimator} estimator of tau² "
            f"({analysis.ci_method} CI); the revman5 profile uses DerSimonian-Laird with a Wald CI"
        )
    elif analysis.ci_method.lower() not in ("wald", ""):
        note = f"RevMan Web used the {analysis.ci_method} CI; the revman5 profile uses the Wald CI"
    try:
        result = pool(study_table(review, analysis), **settings)
    except InputError as exc:
        why = "; ".join(p.message for p in exc.problems)
        return RevManImport(
            review, analysis, settings, None, (note + "; " if note else "") + f"not pooled: {why}"
        )
    r = result.result
    block: dict[str, Any] = {
        "estimate": r.estimate,
        "se": r.se,
        "ci_lower": r.ci_low,
        "ci_upper": r.ci_high,
        "z": r.statistic,
        "p": r.p,
        "q": r.q,
        "q_df": r.q_df,
        "q_p": r.q_p,
        "i2": r.i2,
        "tau2": r.tau2 if r.tau2 is not None else 0.0,
        "k": r.k,
        "measure": result.measure.name,
        "method": r.method,
        "profile": result.profile,
    }
    if analysis.log_data:
        block.update(
            exp_estimate=_exp(r.estimate),
            exp_ci_lower=_exp(r.ci_low),
            exp_ci_upper=_exp(r.ci_high),
        )
    block = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in block.items()}
    return RevManImport(review, analysis, settings, block, note)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def write_revman_sets(review: RevManReview, analysis: str | None = None, directory="studies", force=False):
    """Write one study set (CSV + TOML) per analysis of ``review`` (or only ``analysis``) into
    ``directory``, as ``metamg import -o DIR``; returns [(analysis id, csv path, toml path)].
    Existing sets are kept (InputError naming them) unless ``force``."""
    chosen = [review.analysis(analysis)] if analysis is not None else list(review.analyses)
    return write_sets(review, chosen, directory, force)
