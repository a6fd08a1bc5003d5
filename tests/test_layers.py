"""Imports flow one way: io -> effects -> models -> analyses -> render -> api -> cli."""
import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "metamg"
ORDER = ["vocabulary", "errors", "io", "effects", "models", "analyses", "render", "api", "cli"]


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "metamg" and parts[1] in ORDER else None


@pytest.mark.parametrize("path", sorted(p for p in PKG.rglob("*.py") if p.name != "__init__.py"
                                        or p.parent != PKG), ids=lambda p: str(p.relative_to(PKG)))
def test_imports_only_from_layers_to_the_left(path):
    rel = path.relative_to(PKG)
    own = rel.parts[0].removesuffix(".py")
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
        for name in names:
            other = layer(name)
            if other and other != own:
                assert ORDER.index(other) < ORDER.index(own), f"{rel} imports {name}"
