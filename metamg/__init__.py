"""metamg: meta-analysis for journal clubs, with metafor-exact numbers.

    >>> import metamg
    >>> result = metamg.pool("studies/iv_magnesium_mi_mortality.csv", measure="OR")
    >>> print(result)                       # one-line summary
    >>> print(metamg.pool_text(result))     # the full text report
    >>> result.result.estimate              # pooled log OR

Everything is imported lazily so that the command line starts fast.
"""
from importlib import import_module

_EXPORTS = {
    "read_studies": "metamg.io.schema",
    "StudyTable": "metamg.io.schema",
    "compute_effects": "metamg.effects.escalc",
    "Continuity": "metamg.effects.escalc",
    "EffectSizes": "metamg.effects.escalc",
    "MEASURES": "metamg.effects.measures",
    "fit": "metamg.models.inverse_variance",
    "mantel_haenszel": "metamg.models.mantel_haenszel",
    "peto": "metamg.models.mantel_haenszel",
    "PoolResult": "metamg.models.results",
    "pool": "metamg.analyses.pool",
    "appraise": "metamg.analyses.appraisal",
    "Appraisal": "metamg.analyses.appraisal",
    "PoolAnalysis": "metamg.analyses.pool",
    "pool_text": "metamg.render.text",
    "check_study_set": "metamg.analyses.check",
    "check_claim": "metamg.analyses.claims",
    "read_metadata": "metamg.io.metadata",
    "write_report": "metamg.render.report",
    "grade_certainty": "metamg.analyses.grade",
    "summarise_findings": "metamg.analyses.findings",
    "describe_study_set": "metamg.analyses.catalog",
    "new_study_set": "metamg.io.templates",
    "analysis_rob_layout": "metamg.render.robplot",
    "write_rob_plots": "metamg.render.robplot",
    "InputError": "metamg.errors",
    "Problem": "metamg.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


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
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'metamg' has no attribute {name!r}")
