"""Rules and warnings are data (metamg.notes.Note); render.notes_text is the one place that words them."""

import copy
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

import metamg
from metamg.notes import Note, note
from metamg.render.notes_text import WORDS, not_run_text, note_text, with_words
from tests.helpers import CASES_DIR

PKG = Path(metamg.__file__).parent
NOTE_CALL = re.compile(r"""\bnote\(\s*["']([a-z0-9_.]+)["']""")


def ids_in_source() -> dict[str, list[str]]:
    """Every literal note("rule", ...) in the package, with the modules that make it."""
    found: dict[str, list[str]] = {}
    for path in PKG.rglob("*.py"):
        if path.parent.name == "render":
            continue
        for rule in NOTE_CALL.findall(path.read_text(encoding="utf-8")):
            found.setdefault(rule, []).append(str(path.relative_to(PKG)))
    return found


def test_every_rule_the_library_records_has_words_and_every_wording_is_used():
    made = ids_in_source()
    assert len(made) >= 40
    assert sorted(set(made) - set(WORDS)) == []  # a rule nothing words
    assert sorted(set(WORDS) - set(made)) == []  # words for a rule nothing records


def test_no_sentences_in_the_rules_and_warnings_of_a_pooled_analysis():
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR", ci_method="hk")
    assert all(isinstance(n, Note) for n in a.rules + a.warnings + a.result.rules)
    assert [n.rule for n in a.rules] == [
        "measure",
        "model.random_effects",
        "ci",
        "i2.from_tau2",
        "tau2_ci.q_profile",
        "pi.predict",
        "continuity",
    ]
    assert a.rules[1]["method"] == "REML" and a.rules[2]["ci_method"] == "hk"
    assert note_text(a.rules[2]) == "CI: Hartung-Knapp-Sidik-Jonkman, t with k-1 df"
    assert note_text(a.rules[6]) == (
        "zero cells: 0.5 added to every cell of studies with a zero cell; double-zero studies kept"
    )


def test_warnings_carry_their_facts_and_are_worded_from_them():
    r = metamg.fit([0.1, 0.1, 0.1], [0.04, 0.05, 0.06], method="REML", ci_method="hk")
    assert [w.rule for w in r.warnings] == ["ci.hk_zero_width", "tau2_ci.empty"]
    one = metamg.fit([0.3], [0.04], method="DL", ci_method="hk-adhoc")
    (w,) = one.warnings
    assert w == note("ci.needs_two_studies", ci_method="hk-adhoc")
    assert note_text(w) == "hk-adhoc needs at least 2 studies; the z-based (Wald) interval is used"


def test_the_json_carries_the_facts_and_the_words():
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR")
    d = json.loads(json.dumps(with_words(a.to_dict())))
    for got, n in zip(d["rules"], a.rules, strict=True):
        assert got == {**json.loads(json.dumps(n.to_dict())), "text": note_text(n)}
    # words from the JSON's own facts (tuples became lists) equal the words from the Note
    cc = note("continuity.applied", add=0.5, studies=("A", "B"))
    assert with_words(json.loads(json.dumps(cc.to_dict())))["text"] == note_text(cc)
    assert note_text(cc) == "continuity correction: 0.5 added to every cell of 2 studies (A, B)"


def test_a_note_is_a_value():
    n = note("not_run.error", analysis="meta_regression", mods=("ablat", "year"), why="too few")
    assert pickle.loads(pickle.dumps(n)) == n and copy.deepcopy(n) == n
    assert str(n) == "not_run.error (analysis=meta_regression, mods=ablat/year, why=too few)"
    assert n.to_dict() == {
        "rule": "not_run.error",
        "analysis": "meta_regression",
        "mods": ["ablat", "year"],
        "why": "too few",
    }
    assert not_run_text(n) == ("meta-regression on ablat, year", "too few")
    nested = note("outer", inner=note("egger.too_few", min_k=3), x=np.float64(0.5))
    assert nested.to_dict()["inner"] == {"rule": "egger.too_few", "min_k": 3}
    with pytest.raises(TypeError):
        n.facts["why"] = "changed"  # type: ignore[index]
