"""Study-set metadata: the optional ``NAME.toml`` next to ``NAME.csv``.

It says what the analysis is about (the question), how to run it (measure, profile, subgroup
column) and how to label the forest plot. Missing keys get defaults, and the report says which.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, fields

from metamg.errors import InputError, Problem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

MEASURE_NAMES = ("OR", "RR", "RD", "MD", "SMD", "ROM", "ZCOR", "COR", "PLO", "PR", "GEN")
PROFILE_NAMES = ("cochrane", "metafor", "revman5")


@dataclass(frozen=True)
class StudySetMeta:
    name: str
    title: str = ""
    population: str = ""
    intervention: str = ""
    comparator: str = ""
    outcome: str = ""
    measure: str | None = None
    benefit: str = "lower"        # which direction of the effect favours the intervention
    label_left: str = ""
    label_right: str = ""
    profile: str = "cochrane"
    subgroup: str | None = None
    notes: str = ""
    defaults: tuple[str, ...] = field(default=())  # keys that were not given

    @property
    def favours(self) -> tuple[str, str]:
        """Labels for the left and right of the null line."""
        if self.label_left and self.label_right:
            return self.label_left, self.label_right
        a, b = f"favours {self.intervention or 'intervention'}", f"favours {self.comparator or 'control'}"
        return (a, b) if self.benefit == "lower" else (b, a)


_STRING_KEYS = ("title", "population", "intervention", "comparator", "outcome", "label_left",
                "label_right", "notes")
_KEYS = {f.name for f in fields(StudySetMeta)} - {"name", "defaults"}


def metadata_path(csv_path) -> str:
    base, _ = os.path.splitext(os.fspath(csv_path))
    return base + ".toml"


def read_metadata(csv_path) -> StudySetMeta:
    """The metadata for ``csv_path``, from its sibling .toml if there is one."""
    name = os.path.splitext(os.path.basename(os.fspath(csv_path)))[0]
    path = metadata_path(csv_path)
    if not os.path.exists(path):
        return StudySetMeta(name=name, title=name, defaults=tuple(sorted(_KEYS)))
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise InputError([Problem(path, "is not UTF-8 text")]) from None
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise InputError([Problem(path, f"is not valid TOML: {exc}",
                                  line=int(line.group(1)) if line else None)]) from None
    return parse_metadata(data, name, path, text)


def parse_metadata(data: dict, name: str, path: str = "<metadata>", text: str = "") -> StudySetMeta:
    problems = []

    def where(key):
        m = re.search(rf"^\s*{re.escape(key)}\s*=", text, flags=re.MULTILINE)
        return text.count("\n", 0, m.start()) + 1 if m else None

    values = {}
    for key, value in data.items():
        if key not in _KEYS:
            problems.append(Problem(path, "unknown key; known keys: " + ", ".join(sorted(_KEYS)),
                                    line=where(key), column=key))
            continue
        if not isinstance(value, str):
            problems.append(Problem(path, "must be a string", line=where(key), column=key,
                                    value=repr(value)))
            continue
        values[key] = value.strip()
    checks = {
        "measure": (lambda v: v.upper() in MEASURE_NAMES, "unknown measure; choose one of "
                    + ", ".join(MEASURE_NAMES)),
        "benefit": (lambda v: v in ("lower", "higher"), "must be 'lower' or 'higher'"),
        "profile": (lambda v: v in PROFILE_NAMES, "unknown profile; choose one of "
                    + ", ".join(PROFILE_NAMES)),
    }
    for key, (ok, message) in checks.items():
        if key in values and not ok(values[key]):
            problems.append(Problem(path, message, line=where(key), column=key, value=values[key]))
    if problems:
        raise InputError(problems)
    if "measure" in values:
        values["measure"] = values["measure"].upper()
    if values.get("subgroup") == "":
        values["subgroup"] = None
    defaults = tuple(sorted(_KEYS - values.keys()))
    return StudySetMeta(name=name, **{"title": name, **values}, defaults=defaults)
