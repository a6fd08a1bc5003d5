"""Risk-of-bias judgements: Cochrane's RoB 2 tool for randomised trials, one column per domain.

Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for assessing risk of bias in
randomised trials. BMJ 2019;366:l4898. Judgements are ``low``, ``some concerns`` or ``high``;
a blank cell means "not assessed". The overall judgement is at least as severe as the worst
domain (RoB 2's algorithm, Table 2 of the paper); when ``rob_overall`` is blank but all five
domains are judged, it is taken as the worst domain.
"""

from __future__ import annotations

from metamg.errors import Problem

DOMAINS = (
    ("rob_d1", "D1", "Bias arising from the randomisation process"),
    ("rob_d2", "D2", "Bias due to deviations from intended interventions"),
    ("rob_d3", "D3", "Bias due to missing outcome data"),
    ("rob_d4", "D4", "Bias in measurement of the outcome"),
    ("rob_d5", "D5", "Bias in selection of the reported result"),
)
OVERALL = "rob_overall"
COLUMNS = tuple(c for c, _, _ in DOMAINS) + (OVERALL,)
SHORT = {c: s for c, s, _ in DOMAINS} | {OVERALL: "Overall"}
JUDGEMENTS = ("low", "some concerns", "high")  # ordered from the least to the most severe


def normalise(cell: str) -> str | None:
    """The judgement a cell spells ('' for blank), or None when it is not a RoB 2 judgement."""
    text = " ".join(cell.replace("_", " ").replace("-", " ").lower().split())
    if text in ("", *JUDGEMENTS):
        return text
    return None


def judgement_problems(src: str, lines, columns: dict) -> tuple[dict, list[Problem]]:
    """``columns`` (RoB column -> cells) with every cell normalised, and what is wrong."""
    out, problems = {}, []
    for name, cells in columns.items():
        norm = []
        for line, cell in zip(lines, cells, strict=True):
            value = normalise(cell)
            if value is None:
                message = (
                    "'unclear' is RoB 1's judgement; RoB 2 uses low, some concerns or high "
                    "(blank = not assessed)"
                    if cell.strip().lower() == "unclear"
                    else "not a RoB 2 judgement; use low, some concerns or high (blank = not assessed)"
                )
                problems.append(Problem(src, message, line, name, cell.strip()))
                value = ""
            norm.append(value)
        out[name] = tuple(norm)
    if OVERALL in out:
        for i, line in enumerate(lines):
            worst = _worst(out[c][i] for c, _, _ in DOMAINS if c in out)
            overall = out[OVERALL][i]
            if overall and worst and JUDGEMENTS.index(overall) < JUDGEMENTS.index(worst):
                problems.append(
                    Problem(
                        src,
                        f"the overall judgement cannot be less severe than the "
                        f"worst domain ({worst}; RoB 2's algorithm)",
                        line,
                        OVERALL,
                        overall,
                    )
                )
    return out, problems


def _worst(values) -> str:
    judged = [v for v in values if v]
    return max(judged, key=JUDGEMENTS.index) if judged else ""


def has_rob(extra) -> bool:
    """Whether any RoB judgement is recorded in these columns."""
    return any(any(v.strip() for v in extra[c]) for c in COLUMNS if c in extra)


def judgement(extra, column: str, i: int) -> str:
    """Study ``i``'s judgement in ``column`` ('' = not assessed). Arms of a combined multi-arm
    trial carry their judgements joined by '; ', and the most severe counts. The overall
    judgement, when blank, is the worst domain if all five are judged."""
    given = _worst(p.strip() for p in extra[column][i].split(";")) if column in extra else ""
    if column != OVERALL or given:
        return given
    domains = [judgement(extra, c, i) for c, _, _ in DOMAINS]
    return _worst(domains) if all(domains) else ""


def overall_judgements(extra, n: int) -> tuple[str, ...]:
    """Per study: the overall judgement used ('' when not assessed)."""
    return tuple(judgement(extra, OVERALL, i) for i in range(n))
