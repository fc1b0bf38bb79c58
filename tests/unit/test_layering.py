"""The dependency rule: domain/ imports neither adapters/ nor projections/."""

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "domain"
ALLOWED_THIRD_PARTY = {"eventsourcing", "msgpack", "pydantic"}


@pytest.mark.parametrize("module", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_depends_only_inward(module: Path) -> None:
    tree = ast.parse(module.read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    roots = {name.split(".")[0] for name in imported}
    outside = {root for root in roots - {"domain"} - ALLOWED_THIRD_PARTY
               if root not in sys.stdlib_module_names}
    assert outside == set(), f"{module.name} imports {sorted(outside)}"
