"""What an analysis did or found, as data: a rule identifier and the facts it rests on.

Models and analyses record the rules they applied (the estimator, the CI method, the continuity
correction, ...) and what a reader should be warned of (an empty Q-profile interval, a zero cell
corrected, too few studies for a test) as :class:`Note` values, never as sentences; tests assert
the identifier and the facts. ``metamg.render.notes_text`` is the one place that words them, for
the text, markdown and JSON outputs. Import-free, like ``vocabulary``, so every layer can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def _no_facts() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Note:
    """One rule applied or one warning: ``rule`` (a dotted identifier such as
    "ci.hk_zero_width") and ``facts`` (numbers, names and study labels it used)."""

    rule: str
    facts: Mapping[str, Any] = field(default_factory=_no_facts)

    def __getitem__(self, key: str) -> Any:
        return self.facts[key]

    def get(self, key: str, default: object = None) -> object:
        return self.facts.get(key, default)

    def to_dict(self) -> dict[str, object]:
        """The rule and its facts, JSON-ready (tuples become lists)."""
        return {"rule": self.rule, **{k: _plain(v) for k, v in self.facts.items()}}

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # the read-only facts cannot be pickled or deep-copied as they are
        return (_rebuild, (self.rule, dict(self.facts)))

    def __str__(self) -> str:
        """The identifier and its facts, e.g. "ci.needs_two (ci_method=hk)", for tables of
        identifiers; ``metamg.render.notes_text.note_text`` gives the sentence."""
        facts = ", ".join(f"{k}={_short(v)}" for k, v in self.facts.items())
        return self.rule + (f" ({facts})" if facts else "")


def note(rule: str, **facts: object) -> Note:
    """A :class:`Note` with read-only facts."""
    return Note(rule, MappingProxyType(facts))


def _rebuild(rule: str, facts: dict[str, Any]) -> Note:
    return note(rule, **facts)


def _plain(value: object) -> object:
    if isinstance(value, Note):
        return value.to_dict()
    return list(value) if isinstance(value, tuple) else value


def _short(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, tuple):
        return "/".join(str(v) for v in value)
    return str(value)
