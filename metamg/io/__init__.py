"""Reading and validating study tables (CSV files or pandas DataFrames)."""
from metamg.io.schema import DATA_TYPES, StudyTable, read_studies

__all__ = ["DATA_TYPES", "StudyTable", "read_studies"]
