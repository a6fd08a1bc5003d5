"""metamg: meta-analysis for journal clubs, with metafor-exact numbers.

    >>> import metamg
    >>> analysis = metamg.pool("studies/iv_magnesium_mi_mortality.csv", measure="OR")
    >>> analysis                            # one line; a table in Jupyter
    >>> print(metamg.pool_text(analysis))   # the full text report
    >>> analysis.result.estimate            # pooled log OR
    >>> metamg.leave_one_out(analysis).to_frame()
    >>> metamg.forest(analysis)             # a matplotlib Figure; shows itself in Jupyter

The command line's verbs (metamg.api) take the pooled analysis, as metafor's functions take
the fit. Everything is imported lazily so that the command line starts fast.
"""

from importlib import import_module
from typing import TYPE_CHECKING

# name -> "module" (the same name there) or "module:name" (another name there)
_EXPORTS = {
    # reading and describing study sets
    "read_studies": "metamg.io.schema",
    "StudyTable": "metamg.io.schema",
    "read_metadata": "metamg.io.metadata",
    "new_study_set": "metamg.io.templates",
    "check_study_set": "metamg.analyses.check",
    "check_claim": "metamg.analyses.claims",
    "describe_study_set": "metamg.analyses.catalog",
    "InputError": "metamg.errors",
    "Problem": "metamg.errors",
    # array level: effects and models
    "compute_effects": "metamg.effects.escalc",
    "escalc": "metamg.effects.escalc:compute_effects",
    "Continuity": "metamg.effects.escalc",
    "EffectSizes": "metamg.effects.escalc",
    "MEASURES": "metamg.effects.measures",
    "fit": "metamg.models.inverse_variance",
    "mantel_haenszel": "metamg.models.mantel_haenszel",
    "peto": "metamg.models.mantel_haenszel",
    "trim_and_fill_arrays": "metamg.analyses.trimfill:trim_and_fill",
    "fail_safe_n_arrays": "metamg.analyses.bias:fail_safe_n",
    "gosh_arrays": "metamg.analyses.gosh:gosh",
    # the verbs, each taking the pooled analysis
    "pool": "metamg.analyses.pool",
    "subgroups": "metamg.api",
    "regress": "metamg.api",
    "permutation_test": "metamg.api",
    "leave_one_out": "metamg.api",
    "cumulative": "metamg.api",
    "influence": "metamg.api",
    "gosh": "metamg.api",
    "small_study_tests": "metamg.api",
    "trim_and_fill": "metamg.api",
    "fail_safe_n": "metamg.api",
    "forest": "metamg.api",
    "funnel": "metamg.api",
    "baujat": "metamg.api",
    "gosh_plot": "metamg.api",
    "bubble": "metamg.api",
    "rob_plots": "metamg.api",
    "bayes": "metamg.analyses.bayes",
    "bayes_plot": "metamg.api",
    "bayes_forest": "metamg.api",
    "appraise": "metamg.analyses.appraisal",
    "grade_certainty": "metamg.analyses.grade",
    "summarise_findings": "metamg.analyses.findings",
    # Cochrane reviews in (metamg import)
    "import_revman": "metamg.api",
    "reanalyse_revman": "metamg.api",
    "write_revman_sets": "metamg.api",
    "RevManImport": "metamg.api",
    "read_revman": "metamg.io.revman",
    "RevManReview": "metamg.io.revman",
    "RevManAnalysis": "metamg.io.revman",
    # words and files
    "pool_text": "metamg.render.text",
    "write_report": "metamg.api",
    "write_index": "metamg.api",
    "write_forest": "metamg.render.forest",
    "write_funnel": "metamg.render.funnel",
    "analysis_rob_layout": "metamg.render.robplot",
    "write_rob_plots": "metamg.render.robplot",
    # results
    "PoolResult": "metamg.models.results",
    "PoolAnalysis": "metamg.analyses.pool",
    "PoolOptions": "metamg.analyses.pool",
    "Note": "metamg.notes",
    "Appraisal": "metamg.analyses.appraisal",
    "BayesAnalysis": "metamg.analyses.bayes",
    "SubgroupAnalysis": "metamg.analyses.subgroups",
    "MetaRegression": "metamg.models.metaregression",
    "PermutationTest": "metamg.analyses.regression",
    "Refit": "metamg.analyses.sensitivity",
    "LeaveOneOut": "metamg.analyses.sensitivity",
    "Cumulative": "metamg.analyses.sensitivity",
    "Influence": "metamg.analyses.influence",
    "InfluenceTable": "metamg.analyses.influence",
    "SmallStudyTests": "metamg.analyses.bias",
    "FailSafeN": "metamg.analyses.bias",
    "TrimFill": "metamg.analyses.trimfill",
    "Gosh": "metamg.analyses.gosh",
    "Certainty": "metamg.analyses.grade",
    "Findings": "metamg.analyses.findings",
    "Figure": "metamg.render.notebook",
    "RobFigures": "metamg.render.robplot",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

if TYPE_CHECKING:  # what IDEs and type checkers see; at run time __getattr__ imports on first use
    from metamg.analyses.appraisal import Appraisal, appraise
    from metamg.analyses.bayes import BayesAnalysis, bayes
    from metamg.analyses.bias import FailSafeN, SmallStudyTests
    from metamg.analyses.bias import fail_safe_n as fail_safe_n_arrays
    from metamg.analyses.catalog import describe_study_set
    from metamg.analyses.check import check_study_set
    from metamg.analyses.claims import check_claim
    from metamg.analyses.findings import Findings, summarise_findings
    from metamg.analyses.gosh import Gosh
    from metamg.analyses.gosh import gosh as gosh_arrays
    from metamg.analyses.grade import Certainty, grade_certainty
    from metamg.analyses.influence import Influence, InfluenceTable
    from metamg.analyses.pool import PoolAnalysis, PoolOptions, pool
    from metamg.analyses.regression import PermutationTest
    from metamg.analyses.sensitivity import Cumulative, LeaveOneOut, Refit
    from metamg.analyses.subgroups import SubgroupAnalysis
    from metamg.analyses.trimfill import TrimFill
    from metamg.analyses.trimfill import trim_and_fill as trim_and_fill_arrays
    from metamg.api import (
        RevManImport,
        baujat,
        bayes_forest,
        bayes_plot,
        bubble,
        cumulative,
        fail_safe_n,
        forest,
        funnel,
        gosh,
        gosh_plot,
        import_revman,
        influence,
        leave_one_out,
        permutation_test,
        reanalyse_revman,
        regress,
        rob_plots,
        small_study_tests,
        subgroups,
        trim_and_fill,
        write_index,
        write_report,
        write_revman_sets,
    )
    from metamg.effects.escalc import Continuity, EffectSizes, compute_effects
    from metamg.effects.escalc import compute_effects as escalc
    from metamg.effects.measures import MEASURES
    from metamg.errors import InputError, Problem
    from metamg.io.metadata import read_metadata
    from metamg.io.revman import RevManAnalysis, RevManReview, read_revman
    from metamg.io.schema import StudyTable, read_studies
    from metamg.io.templates import new_study_set
    from metamg.models.inverse_variance import fit
    from metamg.models.mantel_haenszel import mantel_haenszel, peto
    from metamg.models.metaregression import MetaRegression
    from metamg.models.results import PoolResult
    from metamg.notes import Note
    from metamg.render.forest import write_forest
    from metamg.render.funnel import write_funnel
    from metamg.render.notebook import Figure
    from metamg.render.robplot import RobFigures, analysis_rob_layout, write_rob_plots
    from metamg.render.text import pool_text


def _version() -> str:
    """The installed distribution's version (pyproject.toml is the one place it is written);
    read on first use, as importing importlib.metadata costs the command line ~50 ms."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("metamg")
    except PackageNotFoundError:  # a source tree on sys.path that was never installed
        return "0+unknown"


def __getattr__(name):
    if name == "__version__":
        return _version()
    if name in _EXPORTS:
        module, _, attr = _EXPORTS[name].partition(":")
        value = getattr(import_module(module), attr or name)
        globals()[name] = value  # imported once; later look-ups skip __getattr__
        return value
    raise AttributeError(f"module 'metamg' has no attribute {name!r}")


def __dir__():
    """The public API (for dir(), tab completion and IDEs), beside the module's own names."""
    return sorted(set(globals()) | set(__all__))
