"""Study-set metadata: the optional ``NAME.toml`` next to ``NAME.csv``.

It says what the analysis is about (the question), how to run it (measure, profile, subgroup
column) and how to label the forest plot. Missing keys get defaults, and the report says which.

Every problem names the file and the exact line of the key (or table) it is about: keys are
located by ``key_lines``, which follows TOML's tables (``[grade]``, ``[grade.DOMAIN]``,
``[[claims]]``), so ``outcome`` in ``[grade]`` is not taken for the top-level ``outcome``. The
file is UTF-8 (a BOM is allowed); it is read once, and ``StudySetMeta.sha256`` is the SHA-256
of its bytes. ``unfilled(meta)`` names the question's keys (``QUESTION``) still blank or
holding a template's placeholder: ``metamg check`` reports each, and a report should not
print them as if they were the question.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import os
import re
import sys
from dataclasses import dataclass, field, fields
from typing import Any

from metamg.errors import InputError, Problem
from metamg.io.csvfile import decode_text, read_input
from metamg.vocabulary import BENEFIT, DESIGNS, GRADE_DOMAINS, GRADE_RATINGS, REVMAN_RESULTS
from metamg.vocabulary import CLAIM_DIRECTIONS as DIRECTIONS
from metamg.vocabulary import MEASURES as MEASURE_NAMES
from metamg.vocabulary import PROFILES as PROFILE_NAMES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


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


@dataclass(frozen=True)
class RegressionSpec:
    """A meta-regression a report should show (a ``[[regressions]]`` table): the moderator
    columns, e.g. ``mods = ["ablat"]`` for the BCG trials' absolute latitude, and why."""

    mods: tuple[str, ...]
    why: str = ""
    line: int | None = None


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
    outcome: str = ""  # short outcome name for the summary-of-findings table
    intervention: str = ""  # short intervention name for the plain-language statement
    control_risk: float | None = None  # assumed control-group risk (binary); default: median
    judgements: tuple[tuple[str, DomainJudgement], ...] = ()

    def judgement(self, domain: str) -> DomainJudgement | None:
        return dict(self.judgements).get(domain)


@dataclass(frozen=True)
class BayesSettings:
    """The ``[bayes]`` table: the priors of the Bayesian analysis of this set, when the
    measure's defaults do not fit or it has none (MD: tau's scale is the outcome's), and why.
    The specs are read as ``metamg bayes --tau-prior/--mu-prior`` read them (e.g.
    "halfnormal:2.5", "normal:0,10"); the appraisal checks them."""

    tau_prior: str | None = None
    mu_prior: str | None = None
    reason: str = ""

    @property
    def requested(self) -> bool:
        """A stated prior asks for the Bayesian analysis whatever the number of studies."""
        return self.tau_prior is not None or self.mu_prior is not None


@dataclass(frozen=True)
class Published:
    """The ``[published]`` table of an imported review's analysis (``metamg import``): RevMan's
    settings and stored results as the review has them (``settings``: key -> string, boolean
    or number), the test for subgroup differences and each subgroup's stored results."""

    settings: tuple[tuple[str, str | bool | int | float], ...] = ()
    subgroup_test: tuple[tuple[str, int | float], ...] = ()
    subgroups: tuple[tuple[tuple[str, str | bool | int | float], ...], ...] = ()

    def get(self, key: str, default=None):
        return dict(self.settings).get(key, default)


@dataclass(frozen=True)
class StudySetMeta:
    name: str
    title: str = ""
    population: str = ""
    intervention: str = ""
    comparator: str = ""
    outcome: str = ""
    measure: str | None = None
    benefit: str = "lower"  # which direction of the effect favours the intervention
    label_left: str = ""
    label_right: str = ""
    profile: str = "cochrane"
    subgroup: str | None = None
    notes: str = ""
    inclusion: str = ""  # which studies are pooled and why the others are not
    claims: tuple[Claim, ...] = ()
    regressions: tuple[RegressionSpec, ...] = ()
    grade: GradeSettings = GradeSettings()
    bayes: BayesSettings = BayesSettings()
    published: Published | None = None  # RevMan's settings and results, for imported reviews
    defaults: tuple[str, ...] = field(default=())  # keys that were not given
    sha256: str | None = None  # of the metadata file's bytes; None when there is no file
    key_lines: tuple[tuple[str, int], ...] = ()  # top-level key -> its line in the file

    def line_of(self, key: str) -> int | None:
        """The line of top-level ``key`` in the metadata file (None if it is not there)."""
        return dict(self.key_lines).get(key)

    @property
    def favours(self) -> tuple[str, str]:
        """Labels for the left and right of the null line."""
        if self.label_left and self.label_right:
            return self.label_left, self.label_right
        a, b = f"favours {self.intervention or 'intervention'}", f"favours {self.comparator or 'control'}"
        return (a, b) if self.benefit == "lower" else (b, a)


_KEYS = {f.name for f in fields(StudySetMeta)} - {"name", "defaults", "sha256", "key_lines"}
_CLAIM_KEYS = {f.name for f in fields(Claim)} - {"line"}
_CLAIM_REQUIRED = ("id", "text", "made_in", "primary_source_found")
# The question a study set answers: key -> what it must say. Blank or a template's placeholder
# is not filled in (``unfilled``).
QUESTION = {
    "population": "who was studied",
    "intervention": "what was given",
    "comparator": "what it was compared with",
    "outcome": "what was measured, and how",
    "inclusion": "which studies are pooled, and why the others are not",
}
# What ``metamg new`` wrote as a stand-in for the user's own text (lower case, spaces collapsed).
PLACEHOLDERS = frozenset(
    {
        "which studies are pooled, and why the others are not (give those a reason in exclusion_reason).",
    }
)
SAVE_AS = "save it as UTF-8"


def metadata_path(csv_path) -> str:
    base, _ = os.path.splitext(os.fspath(csv_path))
    return base + ".toml"


def unfilled(meta: StudySetMeta) -> tuple[str, ...]:
    """The question's keys (``QUESTION``) that are blank or still a template's placeholder."""

    def blank(text: str) -> bool:
        norm = " ".join(text.split()).lower()
        return not norm or norm in PLACEHOLDERS

    return tuple(key for key in QUESTION if blank(getattr(meta, key)))


def read_metadata(csv_path) -> StudySetMeta:
    """The metadata for ``csv_path``, from its sibling .toml if there is one."""
    name = os.path.splitext(os.path.basename(os.fspath(csv_path)))[0]
    path = metadata_path(csv_path)
    if not os.path.lexists(path):
        return StudySetMeta(name=name, title=name, defaults=tuple(sorted(_KEYS)))
    path, raw = read_input(path, "metadata file")
    text, _ = decode_text(raw, path, SAVE_AS)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError([_decode_problem(path, text, exc)]) from None
    except RecursionError:
        raise InputError([Problem(path, "is not valid TOML: nested too deeply")]) from None
    return parse_metadata(data, name, path, text, hashlib.sha256(raw).hexdigest())


def _decode_problem(path: str, text: str, exc) -> Problem:
    """A TOML syntax error at its line: tomllib's, or, for what is still open at the end of
    the document (a string, an array), the line where it opens."""
    message = str(exc)
    at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if at:
        return Problem(
            path, f"is not valid TOML: {message[: at.start()]} (column {at.group(2)})", line=int(at.group(1))
        )
    message = re.sub(r"\s*\(at end of document\)$", "", message)
    _, opened = key_lines(text)
    if opened:
        return Problem(path, f"is not valid TOML: {message} (it opens here and is never closed)", line=opened)
    last = text.count("\n") + (not text.endswith("\n"))
    return Problem(path, f"is not valid TOML: {message} (at the end of the file)", line=last)


def parse_metadata(
    data: dict, name: str, path: str = "<metadata>", text: str = "", sha256: str | None = None
) -> StudySetMeta:
    """The metadata in ``data``, parsed by tomllib from ``text`` (which locates problems)."""
    problems = []
    lines, _ = key_lines(text)

    def where(*keys):
        """The line of the key at path ``keys``, or of the nearest table holding it."""
        for n in range(len(keys), 0, -1):
            if keys[:n] in lines:
                return lines[keys[:n]]
        return None

    values: dict[str, Any] = {}  # StudySetMeta's fields as read
    for key, value in data.items():
        if key not in _KEYS:
            problems.append(Problem(path, _unknown("key", key, _KEYS), line=where(key), column=key))
            continue
        if key == "claims":
            claims, claim_problems = _parse_claims(value, path, where)
            problems += claim_problems
            values[key] = claims
            continue
        if key == "regressions":
            regressions, regression_problems = _parse_regressions(value, path, where)
            problems += regression_problems
            values[key] = regressions
            continue
        if key == "bayes":
            settings, bayes_problems = _parse_bayes(value, path, where)
            problems += bayes_problems
            values[key] = settings
            continue
        if key == "published":
            published, published_problems = _parse_published(value, path, where)
            problems += published_problems
            values[key] = published
            continue
        if key == "grade":
            grade, grade_problems = _parse_grade(value, path, where)
            problems += grade_problems
            values[key] = grade
            continue
        if not isinstance(value, str):
            problems.append(Problem(path, "must be a string", line=where(key), column=key, value=repr(value)))
            continue
        values[key] = value.strip()
    checks = {
        "measure": (
            lambda v: v.upper() in MEASURE_NAMES,
            "unknown measure; choose one of " + ", ".join(MEASURE_NAMES),
        ),
        "benefit": (lambda v: v in BENEFIT, "must be " + " or ".join(f"'{b}'" for b in BENEFIT)),
        "profile": (
            lambda v: v in PROFILE_NAMES,
            "unknown profile; choose one of " + ", ".join(PROFILE_NAMES),
        ),
    }
    for key, (ok, message) in checks.items():
        if key in values and not ok(values[key]):
            problems.append(Problem(path, message, line=where(key), column=key, value=values[key]))
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0))
    if "measure" in values:
        values["measure"] = values["measure"].upper()
    if values.get("subgroup") == "":
        values["subgroup"] = None
    defaults = tuple(
        sorted(_KEYS - values.keys() - {"claims", "inclusion", "grade", "regressions", "bayes", "published"})
    )
    top = tuple((k[0], n) for k, n in lines.items() if len(k) == 1)
    return StudySetMeta(
        name=name, **{"title": name, **values}, defaults=defaults, sha256=sha256, key_lines=top
    )


def _unknown(kind: str, key: str, known) -> str:
    """'unknown key', with the likely misspelling named first, then every known key."""
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown {kind}{hint}; known keys: " + ", ".join(sorted(known))


def _positive(v) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and v > 0


_BAYES_KEYS = ("tau_prior", "mu_prior", "reason")


def _parse_bayes(value, path, where) -> tuple[BayesSettings, list[Problem]]:
    """The [bayes] table: strings only, and a reason whenever a prior is stated."""
    if not isinstance(value, dict):
        return BayesSettings(), [
            Problem(path, "must be a [bayes] table", line=where("bayes"), column="bayes")
        ]
    problems = []
    out: dict[str, str] = {}
    for key, v in value.items():
        line = where("bayes", key)
        if key not in _BAYES_KEYS:
            problems.append(
                Problem(path, _unknown("key", key, _BAYES_KEYS), line=line, column=f"bayes.{key}")
            )
        elif not isinstance(v, str) or not v.strip():
            problems.append(
                Problem(path, "must be a non-empty string", line=line, column=f"bayes.{key}", value=repr(v))
            )
        else:
            out[key] = v.strip()
    if ("tau_prior" in out or "mu_prior" in out) and not out.get("reason"):
        problems.append(
            Problem(path, "a stated prior needs its reason", line=where("bayes"), column="bayes.reason")
        )
    return BayesSettings(**out), problems


_PUBLISHED_RESULTS = REVMAN_RESULTS
_PUBLISHED_KEYS = (
    "review",
    "review_id",
    "doi",
    "citation",
    "file",
    "sha256",
    "format",
    "revman_version",
    "analysis",
    "comparison",
    "outcome",
    "data_type",
    "effect_measure",
    "effect_measure_label",
    "method",
    "model",
    "log_data",
    "ci_level",
    "heterogeneity_estimator",
    "ci_method",
    "totals",
    "swap_events",
    "n_rows",
    "n_studies",
    "n_estimable",
    "n_subgroups",
) + _PUBLISHED_RESULTS
_PUBLISHED_TEST_KEYS = ("chi2", "df", "p", "i2")
_PUBLISHED_SUBGROUP_KEYS = ("no", "name") + _PUBLISHED_RESULTS


def _scalar(v) -> bool:
    """A string, boolean or finite number."""
    return isinstance(v, (str, bool)) or (isinstance(v, (int, float)) and math.isfinite(v))


def _parse_published(value, path, where) -> tuple[Published | None, list[Problem]]:
    """The [published] table metamg import writes: known keys only, each a string, boolean or
    finite number (numbers only in the results and the subgroup test)."""
    if not isinstance(value, dict):
        return None, [
            Problem(path, "must be a [published] table", line=where("published"), column="published")
        ]
    problems: list[Problem] = []

    def scalars(table, known, *keys) -> tuple:
        out = []
        name = ".".join(str(k) for k in ("published",) + keys)
        for key, v in table.items():
            column = f"{name}.{key}"
            if key not in known:
                problems.append(
                    Problem(
                        path, _unknown("key", key, known), line=where("published", *keys, key), column=column
                    )
                )
            elif not _scalar(v) or (
                key in _PUBLISHED_RESULTS + _PUBLISHED_TEST_KEYS
                and not (isinstance(v, (int, float)) and not isinstance(v, bool))
            ):
                kind = (
                    "a finite number"
                    if key in _PUBLISHED_RESULTS + _PUBLISHED_TEST_KEYS
                    else ("a string, true/false or a finite number")
                )
                problems.append(
                    Problem(
                        path,
                        f"must be {kind}",
                        line=where("published", *keys, key),
                        column=column,
                        value=repr(v),
                    )
                )
            else:
                out.append((key, v))
        return tuple(out)

    top = {k: v for k, v in value.items() if k not in ("subgroup_test", "subgroups")}
    settings = scalars(top, _PUBLISHED_KEYS)
    test: tuple = ()
    if "subgroup_test" in value:
        if isinstance(value["subgroup_test"], dict):
            test = scalars(value["subgroup_test"], _PUBLISHED_TEST_KEYS, "subgroup_test")
        else:
            problems.append(
                Problem(
                    path,
                    "must be a [published.subgroup_test] table",
                    line=where("published", "subgroup_test"),
                    column="published.subgroup_test",
                )
            )
    subgroups: list[tuple] = []
    raw = value.get("subgroups", [])
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        problems.append(
            Problem(
                path,
                "must be a list of [[published.subgroups]] tables",
                line=where("published", "subgroups"),
                column="published.subgroups",
            )
        )
    else:
        for n, s in enumerate(raw):
            subgroups.append(scalars(s, _PUBLISHED_SUBGROUP_KEYS, "subgroups", n))
    return Published(settings, test, tuple(subgroups)), problems


_GRADE_KEYS = ("design", "mid", "outcome", "intervention", "control_risk") + GRADE_DOMAINS
_JUDGEMENT_KEYS = ("rating", "reason")


def _parse_grade(value, path, where) -> tuple[GradeSettings, list[Problem]]:
    if not isinstance(value, dict):
        return GradeSettings(), [
            Problem(path, "must be a [grade] table", line=where("grade"), column="grade")
        ]
    problems: list[Problem] = []
    out: dict[str, Any] = {}  # GradeSettings' fields as read
    judgements: list[tuple[str, DomainJudgement]] = []

    def bad(key, message, v=None):
        problems.append(
            Problem(
                path,
                message,
                line=where("grade", *key.split(".")),
                column=f"grade.{key}",
                value=None if v is None else repr(v),
            )
        )

    for key, v in value.items():
        if key not in _GRADE_KEYS:
            bad(key, _unknown("[grade] key", key, _GRADE_KEYS))
        elif key in GRADE_DOMAINS:
            judgement = _judgement(key, v, bad)
            if judgement:
                judgements.append((key, judgement))
        elif key in ("mid", "control_risk"):
            if not _positive(v):
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


def _judgement(domain, v, bad) -> DomainJudgement | None:
    """A ``[grade.DOMAIN]`` table as a judgement, or None with its problems given to ``bad``."""
    if not isinstance(v, dict):
        bad(
            domain,
            "must be a table with rating and reason, e.g. [grade.indirectness] "
            'rating = "serious" reason = "..."',
        )
        return None
    fine = True
    for sub in v:
        if sub not in _JUDGEMENT_KEYS:
            bad(f"{domain}.{sub}", _unknown(f"[grade.{domain}] key", sub, _JUDGEMENT_KEYS))
            fine = False
    for sub in _JUDGEMENT_KEYS:
        if sub not in v:
            bad(domain, f'needs its {sub}, e.g. [grade.{domain}] rating = "serious" reason = "..."')
            fine = False
    if "rating" in v and v["rating"] not in GRADE_RATINGS:
        bad(f"{domain}.rating", "must be one of " + ", ".join(GRADE_RATINGS), v["rating"])
        fine = False
    if "reason" in v and (not isinstance(v["reason"], str) or not v["reason"].strip()):
        bad(f"{domain}.reason", "a rating needs its reason")
        fine = False
    return DomainJudgement(v["rating"], v["reason"].strip()) if fine else None


_CLAIM_TYPES: dict[str, type | tuple[type, ...]] = {
    "primary_source_found": bool,
    "implied_effect": (int, float),
    "studies": list,
}
_TYPE_NAMES: dict[type | tuple[type, ...], str] = {
    bool: "true or false",
    list: "a list of study labels",
    str: "a string",
}


_REGRESSION_KEYS = ("mods", "why")


def _table_reporter(problems, path, where, array, n):
    """``bad(key, message, value=None)`` for the n-th table of the array of tables ``array``
    (e.g. [[claims]]): appends a Problem at the key's line, column ``array[n+1].key``."""
    name = f"{array}[{n + 1}]"

    def bad(key, message, v=None):
        problems.append(Problem(path, message, line=where(array, n, key), column=f"{name}.{key}", value=v))

    return bad


def _parse_regressions(value, path, where) -> tuple[tuple[RegressionSpec, ...], list[Problem]]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        return (), [
            Problem(
                path,
                "must be a list of [[regressions]] tables",
                line=where("regressions"),
                column="regressions",
            )
        ]
    specs: list[RegressionSpec] = []
    problems: list[Problem] = []
    for n, raw in enumerate(value):
        bad = _table_reporter(problems, path, where, "regressions", n)
        before = len(problems)
        for key in raw:
            if key not in _REGRESSION_KEYS:
                bad(key, _unknown("regression key", key, _REGRESSION_KEYS))
        mods = raw.get("mods")
        if not isinstance(mods, list) or not mods or not all(isinstance(m, str) and m.strip() for m in mods):
            bad(
                "mods",
                'must be a list of moderator columns, e.g. mods = ["ablat"]',
                None if mods is None else repr(mods),
            )
        if not isinstance(raw.get("why", ""), str):
            bad("why", "must be a string", repr(raw["why"]))
        if len(problems) == before:
            specs.append(
                RegressionSpec(
                    tuple(m.strip() for m in mods), raw.get("why", "").strip(), where("regressions", n)
                )
            )
    return tuple(specs), problems


def _parse_claims(value, path, where) -> tuple[tuple[Claim, ...], list[Problem]]:
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        return (), [
            Problem(path, "must be a list of [[claims]] tables", line=where("claims"), column="claims")
        ]
    claims: list[Claim] = []
    problems: list[Problem] = []
    ids: dict[str, int | None] = {}  # claim id -> its line
    for n, raw in enumerate(value):
        line = where("claims", n)
        bad = _table_reporter(problems, path, where, "claims", n)
        before = len(problems)
        for key in raw:
            if key not in _CLAIM_KEYS:
                bad(key, _unknown("claim key", key, _CLAIM_KEYS))
        for key in _CLAIM_REQUIRED:
            if key not in raw or (isinstance(raw[key], str) and not raw[key].strip()):
                bad(key, "required claim key missing")
        for key, v in raw.items():
            want = _CLAIM_TYPES.get(key, str)
            if key in _CLAIM_KEYS and (not isinstance(v, want) or (want is not bool and isinstance(v, bool))):
                bad(key, f"must be {_TYPE_NAMES.get(want, 'a number')}", repr(v))
            elif key == "implied_effect" and not math.isfinite(v):
                bad(key, "must be a finite number", repr(v))
        if raw.get("direction", "benefit") not in DIRECTIONS:
            bad("direction", "must be 'benefit' or 'harm'", str(raw.get("direction")))
        if isinstance(raw.get("studies"), list) and not all(isinstance(s, str) for s in raw["studies"]):
            bad("studies", "must be a list of study labels")
        if "implied_effect" in raw and not str(raw.get("implies", "")).strip():
            bad("implies", "an implied effect must say how it follows from the claim and what it assumes")
        if raw.get("primary_source_found") is True and not str(raw.get("primary_source", "")).strip():
            bad("primary_source", "a found primary source must be cited")
        cid = str(raw.get("id", "")).strip()
        if cid in ids:
            bad("id", f"duplicate claim id (first on line {ids[cid]})", cid)
        ids.setdefault(cid, where("claims", n, "id"))
        if len(problems) > before:
            continue
        claims.append(
            Claim(
                id=cid,
                text=raw["text"].strip(),
                made_in=raw["made_in"].strip(),
                primary_source_found=raw["primary_source_found"],
                primary_source=raw.get("primary_source", "").strip(),
                direction=raw.get("direction", "benefit"),
                implied_effect=float(raw["implied_effect"]) if "implied_effect" in raw else None,
                implies=raw.get("implies", "").strip(),
                studies=tuple(s.strip() for s in raw.get("studies", ())),
                notes=raw.get("notes", "").strip(),
                line=line,
            )
        )
    return tuple(claims), problems


# -- where each key is ------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def key_lines(text: str) -> tuple[dict[tuple, int], int | None]:
    """(path -> line of every key and table header of ``text``, the line where a string or an
    array opens that is never closed, or None).

    A path is the tuple of keys from the top: ``("grade", "outcome")`` for ``outcome`` in
    ``[grade]``, ``("claims", 0, "id")`` for ``id`` in the first ``[[claims]]``; a table's own
    path gives its header's line. Keys inside inline tables are not located (the line of the
    key holding the inline table stands for them). Meant for text tomllib reads, and to place
    tomllib's errors at the end of a document."""
    lines: dict[tuple, int] = {}
    arrays: dict[tuple, int] = {}  # array-of-tables path -> tables so far
    table: tuple = ()
    scan = _ValueScanner()
    for n, line in enumerate(text.split("\n"), 1):
        if scan.open:  # inside a multi-line string or array: no key here
            scan.feed(line, 0, n)
            continue
        body = line.strip()
        if not body or body.startswith("#"):
            continue
        if body.startswith("["):
            double = body.startswith("[[")
            inner = body[2 : body.find("]]")] if double else body[1 : body.find("]")]
            path: tuple[str | int, ...] | None = _key_path(inner)  # with the index in an array of tables
            if path is None:
                continue
            if double:
                arrays[path] = arrays.get(path, 0) + 1
                lines.setdefault(path, n)
                path = path + (arrays[path] - 1,)
            table = path
            lines.setdefault(table, n)
            continue
        key, end = _split_key(line)
        if key is None:
            continue
        for k in range(1, len(key) + 1):
            lines.setdefault(table + key[:k], n)
        scan.feed(line, end, n)
    return lines, scan.opened if scan.open else None


def _split_key(line: str) -> tuple[tuple[str, ...] | None, int]:
    """(dotted key, index after its '=') of a ``key = value`` line; (None, 0) otherwise."""
    i, parts = 0, []
    while True:
        while i < len(line) and line[i] in " \t":
            i += 1
        if i < len(line) and line[i] in "\"'":
            close = line.find(line[i], i + 1)
            if close < 0:
                return None, 0
            parts.append(line[i + 1 : close])
            i = close + 1
        else:
            m = _BARE_KEY.match(line, i)
            if not m:
                return None, 0
            parts.append(m.group())
            i = m.end()
        while i < len(line) and line[i] in " \t":
            i += 1
        if i < len(line) and line[i] == ".":
            i += 1
            continue
        if i < len(line) and line[i] == "=":
            return tuple(parts), i + 1
        return None, 0


def _key_path(inner: str) -> tuple[str, ...] | None:
    """The dotted name of a table header's inside (``grade.indirectness``)."""
    key, end = _split_key(inner + "=")
    return key if key is not None and end == len(inner) + 1 else None


_TRIPLES = ('"' * 3, "'" * 3)


class _ValueScanner:
    """Follows the strings, comments and brackets of values across lines, so that a line
    inside a multi-line string or array is not read as a key."""

    def __init__(self) -> None:
        self.string: str | None = None  # the quotes of the open multi-line string
        self.depth = 0  # open [ and {
        self.opened: int | None = None  # the line where what is open opened

    @property
    def open(self) -> bool:
        return self.string is not None or self.depth > 0

    def feed(self, line: str, i: int, n: int) -> None:
        while i < len(line):
            if self.string:
                i = self._close_multiline(line, i, self.string)
                continue
            ch = line[i]
            if ch == "#":
                return
            if line.startswith(_TRIPLES, i):
                if not self.open:
                    self.opened = n
                self.string, i = line[i : i + 3], i + 3
                continue
            if ch in "\"'":
                close = self._close_single(line, i)
                if close is None:  # a one-line string left open: what tomllib stops at
                    self.opened, self.string = n, ch * 3
                    return
                i = close
                continue
            if ch in "[{":
                if not self.open:
                    self.opened = n
                self.depth += 1
            elif ch in "]}":
                self.depth = max(0, self.depth - 1)
            i += 1

    @staticmethod
    def _close_single(line: str, i: int) -> int | None:
        quote, j = line[i], i + 1
        while j < len(line):
            if quote == '"' and line[j] == "\\":
                j += 2
                continue
            if line[j] == quote:
                return j + 1
            j += 1
        return None

    def _close_multiline(self, line: str, i: int, string: str) -> int:
        """Past the end of the open multi-line ``string`` (its quotes) on ``line``, from ``i``."""
        while i < len(line):
            if string == _TRIPLES[0] and line[i] == "\\":
                i += 2
                continue
            if line.startswith(string, i):
                i += 3
                while i < len(line) and line[i] == string[0]:
                    i += 1  # up to two quotes may end the content just before the closing three
                self.string = None
                return i
            i += 1
        return i
