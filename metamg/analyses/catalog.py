"""``metamg list``: one line per study set, with whether it passes ``metamg check``.

Each set is read once, by the check (``inspect_study_set``), whose table and effects give the
counts shown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from metamg.analyses.check import inspect_study_set


@dataclass(frozen=True)
class StudySetInfo:
    path: str
    name: str
    title: str
    data_type: str  # "?" when the CSV cannot be read
    measure: str
    estimable: int
    total: int
    problems: int  # what ``metamg check`` finds

    @property
    def check_passes(self) -> bool:
        return self.problems == 0

    def to_dict(self) -> dict:
        return asdict(self) | {"check_passes": self.check_passes}

    def __str__(self) -> str:
        ok = (
            "check OK"
            if self.check_passes
            else f"check: {self.problems} problem" + ("s" if self.problems != 1 else "")
        )
        return (
            f"{self.name}: {self.title} ({self.data_type}, {self.measure}, k = {self.estimable}/"
            f"{self.total}; {ok})"
        )


def describe_study_set(csv_path) -> StudySetInfo:
    """Title, data type, measure, estimable/total studies and check status of one study set."""
    found = inspect_study_set(csv_path)
    meta, effects = found.meta, found.effects
    name = meta.name if meta else str(csv_path)
    title = meta.title if meta else name
    if effects is None or found.table is None:  # (no effects without a table)
        return StudySetInfo(
            str(csv_path),
            name,
            title,
            "?",
            (meta.measure if meta else None) or "?",
            0,
            0,
            len(found.problems),
        )
    return StudySetInfo(
        str(csv_path),
        name,
        title,
        found.table.data_type,
        effects.measure.name,
        effects.k,
        effects.k + len(effects.excluded),
        len(found.problems),
    )
