"""Reading and validating study tables (CSV files or pandas DataFrames).

Names are loaded on first use, so that light modules of this package (the status vocabulary
the CLI's help lists) do not pull in numpy.
"""

__all__ = ["DATA_TYPES", "StudyTable", "read_studies"]


def __getattr__(name):
    if name in __all__:
        from metamg.io import schema

        return getattr(schema, name)
    raise AttributeError(f"module 'metamg.io' has no attribute {name!r}")
