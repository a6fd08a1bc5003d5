"""Imports flow one way: io -> effects -> models -> analyses -> render -> api -> cli."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "metamg"
ORDER = ["vocabulary", "errors", "notes", "io", "effects", "models", "analyses", "render", "api", "cli"]


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "metamg" and parts[1] in ORDER else None


@pytest.mark.parametrize(
    "path",
    sorted(p for p in PKG.rglob("*.py") if p.name != "__init__.py" or p.parent != PKG),
    ids=lambda p: str(p.relative_to(PKG)),
)
def test_imports_only_from_layers_to_the_left(path):
    rel = path.relative_to(PKG)
    own = rel.parts[0].removesuffix(".py")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module]
            if isinstance(node, ast.ImportFrom) and node.module
            else []
        )
        for name in names:
            other = layer(name)
            if other and other != own:
                assert ORDER.index(other) < ORDER.index(own), f"{rel} imports {name}"


# What fits a model or runs an analysis: render/ draws and words what analyses computed, and
# never calls any of these (metamg.api and the CLI compose the two).
FITTING = {
    "fit",
    "pool",
    "appraise",
    "meta_regression",
    "mantel_haenszel",
    "peto",
    "regress",
    "permutation_test",
    "small_study_tests",
    "trim_and_fill",
    "trim_and_fill_for",
    "egger_rma",
    "egger_lm",
    "rank_test",
    "fail_safe_n",
    "leave_one_out",
    "cumulative",
    "influence",
    "baujat_points",
    "gosh",
    "pool_subgroups",
    "compute_effects",
    "convert_wald",
    "q_profile",
    "grade_certainty",
    "summarise_findings",
    "absolute_effect",
    "check_claim",
    "verdict_model",
    "reported_not_pooled",
    "prepare_table",
    "read_table",
    "read_studies",
    "TAU2_ESTIMATORS",
}


@pytest.mark.parametrize(
    "path", sorted((PKG / "render").rglob("*.py")), ids=lambda p: str(p.relative_to(PKG))
)
def test_render_calls_no_fitting_function(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("metamg."):
            used = {a.name for a in node.names} & FITTING
            assert not used, f"{path.relative_to(PKG)} imports {sorted(used)} from {node.module}"
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            assert name not in FITTING, f"{path.relative_to(PKG)} calls {name}()"


# What `metamg pool` (the command a user runs most, and times) must not load: the figures and
# reports, the vectorised refits and the API's composition are for the commands that use them.
POOL_NEVER_IMPORTS = (
    "matplotlib",
    "pandas",
    "metamg.api",
    "metamg.render.forest",
    "metamg.render.report",
    "metamg.models.deletion",
    "metamg.analyses.sensitivity",
    "metamg.analyses.subgroups",
    "metamg.models.metaregression",
    "metamg.analyses.bayes",
    "metamg.models.bayes",
    "metamg.render.bayes_text",
)


def test_the_pool_command_imports_only_what_it_needs():
    import subprocess
    import sys

    case = PKG.parent / "tests" / "reference" / "cases" / "bcg.csv"
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from metamg.cli import main\n"
        f"r = CliRunner().invoke(main, ['pool', {str(case)!r}, '--measure', 'RR', '--format', 'json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "metamg.analyses.pool" in loaded and "numpy" in loaded
    assert sorted(m for m in POOL_NEVER_IMPORTS if m in loaded) == []
