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
class Claim:
    """A claim a journal club wants checked against this study set (a ``[[claims]]`` table).

    ``implied_effect`` is the effect the claim implies in the set's measure, on its natural
    scale (e.g. an odds ratio), when it implies one; ``implies`` says how it was worked out and
    what must be assumed to compare it. ``direction`` is what the claim says magnesium does.
    """

    id: str
    text: str
    made_in: str
    primary_source_found: bool
    primary_source: str = ""
    direction: str = "benefit"
    implied_effect: float | None = None
    implies: str = ""
    studies: tuple[str, ...] = ()
    notes: str = ""
    line: int | None = None


GRADE_DOMAINS = ("risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias")
GRADE_RATINGS = ("not serious", "serious", "very serious")
DESIGNS = ("randomised", "observational")


@dataclass(frozen=True)
class DomainJudgement:
    """A user's own GRADE rating of one domain (``[grade.DOMAIN]``), with the reason for it."""

    rating: str
    reason: str


@dataclass(frozen=True)
class GradeSettings:
    """The ``[grade]`` table: what GRADE needs that the data cannot say.

    ``mid`` is the smallest effect that matters to patients on the measure's natural scale: a
    ratio below 1 for RR/OR (0.75 = 25% relative reduction, mirrored as 1.25), a positive
    difference otherwise. ``judgements`` holds the domains the user rated (indirectness always
    comes from here), overriding the suggestion computed from the data.
    """

    design: str = "randomised"
    mid: float | None = None
    outcome: str = ""             # short outcome name for the summary-of-findings table
    intervention: str = ""        # short intervention name for the plain-language statement
    control_risk: float | None = None   # assumed control-group risk (binary); default: median
    judgements: tuple[tuple[str, DomainJudgement], ...] = ()

    def judgement(self, domain: str) -> DomainJudgement | None:
        return dict(self.judgements).get(domain)


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
    inclusion: str = ""           # which studies are pooled and why the others are not
    claims: tuple[Claim, ...] = ()
    grade: GradeSettings = GradeSettings()
    defaults: tuple[str, ...] = field(default=())  # keys that were not given

    @property
    def favours(self) -> tuple[str, str]:
        """Labels for the left and right of the null line."""
        if self.label_left and self.label_right:
            return self.label_left, self.label_right
        a, b = f"favours {self.intervention or 'intervention'}", f"favours {self.comparator or 'control'}"
        return (a, b) if self.benefit == "lower" else (b, a)


_KEYS = {f.name for f in fields(StudySetMeta)} - {"name", "defaults"}
_CLAIM_KEYS = {f.name for f in fields(Claim)} - {"line"}
_CLAIM_REQUIRED = ("id", "text", "made_in", "primary_source_found")
DIRECTIONS = ("benefit", "harm")


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
            problems.append(Problem(path, _unknown("key", key, _KEYS), line=where(key), column=key))
            continue
        if key == "claims":
            claims, claim_problems = _parse_claims(value, path, text)
            problems += claim_problems
            values[key] = claims
            continue
        if key == "grade":
            grade, grade_problems = _parse_grade(value, path, where)
            problems += grade_problems
            values[key] = grade
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
    defaults = tuple(sorted(_KEYS - values.keys() - {"claims", "inclusion", "grade"}))
    return StudySetMeta(name=name, **{"title": name, **values}, defaults=defaults)


def _unknown(kind: str, key: str, known) -> str:
    """'unknown key', with the likely misspelling named first, then every known key."""
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {kind}{hint}; known keys: " + ", ".join(sorted(known))


_GRADE_KEYS = ("design", "mid", "outcome", "intervention", "control_risk") + GRADE_DOMAINS


def _parse_grade(value, path, where) -> tuple[GradeSettings, list[Problem]]:
    if not isinstance(value, dict):
        return GradeSettings(), [Problem(path, "must be a [grade] table", line=where("grade"), column="grade")]
    problems, out, judgements = [], {}, []

    def bad(key, message, v=None):
        problems.append(Problem(path, message, line=where(key.split(".")[-1]), column=f"grade.{key}",
                                value=None if v is None else repr(v)))

    for key, v in value.items():
        if key not in _GRADE_KEYS:
            bad(key, _unknown("[grade] key", key, _GRADE_KEYS))
        elif key in GRADE_DOMAINS:
            if not isinstance(v, dict) or set(v) != {"rating", "reason"}:
                bad(key, "must be a table with rating and reason, e.g. [grade.indirectness] "
                         "rating = \"serious\" reason = \"...\"")
            elif v["rating"] not in GRADE_RATINGS:
                bad(f"{key}.rating", "must be one of " + ", ".join(GRADE_RATINGS), v["rating"])
            elif not isinstance(v["reason"], str) or not v["reason"].strip():
                bad(f"{key}.reason", "a rating needs its reason")
            else:
                judgements.append((key, DomainJudgement(v["rating"], v["reason"].strip())))
        elif key in ("mid", "control_risk"):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                bad(key, "must be a positive number", v)
            elif key == "control_risk" and not v < 1:
                bad(key, "must be a risk between 0 and 1", v)
            else:
                out[key] = float(v)
        elif not isinstance(v, str):
            bad(key, "must be a string", v)
        elif key == "design" and v not in DESIGNS:
            bad(key, "must be " + " or ".join(DESIGNS), v)
        else:
            out[key] = v.strip()
    return GradeSettings(**out, judgements=tuple(judgements)), problems


def _parse_claims(value, path, text) -> tuple[tuple[Claim, ...], list[Problem]]:
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        return (), [Problem(path, "must be a list of [[claims]] tables", column="claims")]
    starts = [text.count("\n", 0, m.start()) + 1 for m in re.finditer(r"^\s*\[\[claims\]\]", text,
                                                                     flags=re.MULTILINE)]
    claims, problems, ids = [], [], {}
    for n, raw in enumerate(value):
        line = starts[n] if n < len(starts) else None
        where = f"claims[{n + 1}]"
        bad = False
        for key in raw:
            if key not in _CLAIM_KEYS:
                problems.append(Problem(path, "unknown claim key; known keys: "
                                        + ", ".join(sorted(_CLAIM_KEYS)), line=line, column=f"{where}.{key}"))
                bad = True
        for key in _CLAIM_REQUIRED:
            if key not in raw or (isinstance(raw[key], str) and not raw[key].strip()):
                problems.append(Problem(path, "required claim key missing", line=line,
                                        column=f"{where}.{key}"))
                bad = True
        kinds = {"primary_source_found": bool, "implied_effect": (int, float), "studies": list}
        for key, v in raw.items():
            want = kinds.get(key, str)
            if key in _CLAIM_KEYS and (not isinstance(v, want) or (want != bool and isinstance(v, bool))):
                name = {bool: "true or false", list: "a list of study labels", str: "a string"}.get(
                    want, "a number")
                problems.append(Problem(path, f"must be {name}", line=line, column=f"{where}.{key}",
                                        value=repr(v)))
                bad = True
        if raw.get("direction", "benefit") not in DIRECTIONS:
            problems.append(Problem(path, "must be 'benefit' or 'harm'", line=line,
                                    column=f"{where}.direction", value=str(raw.get("direction"))))
            bad = True
        if isinstance(raw.get("studies"), list) and not all(isinstance(s, str) for s in raw["studies"]):
            problems.append(Problem(path, "must be a list of study labels", line=line,
                                    column=f"{where}.studies"))
            bad = True
        if "implied_effect" in raw and not str(raw.get("implies", "")).strip():
            problems.append(Problem(path, "an implied effect must say how it follows from the claim "
                                    "and what it assumes", line=line, column=f"{where}.implies"))
            bad = True
        if raw.get("primary_source_found") is True and not str(raw.get("primary_source", "")).strip():
            problems.append(Problem(path, "a found primary source must be cited", line=line,
                                    column=f"{where}.primary_source"))
            bad = True
        cid = str(raw.get("id", "")).strip()
        if cid in ids:
            problems.append(Problem(path, f"duplicate claim id (first on line {ids[cid]})", line=line,
                                    column=f"{where}.id", value=cid))
            bad = True
        ids.setdefault(cid, line)
        if bad:
            continue
        claims.append(Claim(
            id=cid, text=raw["text"].strip(), made_in=raw["made_in"].strip(),
            primary_source_found=raw["primary_source_found"],
            primary_source=raw.get("primary_source", "").strip(),
            direction=raw.get("direction", "benefit"),
            implied_effect=float(raw["implied_effect"]) if "implied_effect" in raw else None,
            implies=raw.get("implies", "").strip(), studies=tuple(s.strip() for s in raw.get("studies", ())),
            notes=raw.get("notes", "").strip(), line=line))
    return tuple(claims), problems
