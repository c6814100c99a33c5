"""The layers (docs/architecture.md), checked on the imports of every product module: `make lint`
runs this too. api/ reads models and talks to flows, never to activities; workflows never touch
the database; routes never import each other; the workflow contracts in models/ are plain data."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def offending(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(folder)
        for name in sorted(imports_of(path))
        if name.startswith(forbidden)
    ]


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("core", ("api", "activities", "workflows", "workers", "models")),
        ("models", ("api", "activities", "workflows", "workers")),
        ("activities", ("api", "workflows", "workers")),
        ("workflows", ("api", "workers", "sqlalchemy")),
        ("api", ("activities", "workers")),
    ],
)
def test_a_layer_imports_only_the_layers_below_it(folder: str, forbidden: tuple[str, ...]) -> None:
    assert offending(folder, forbidden) == []


def test_workflows_never_touch_the_orm_records() -> None:
    assert offending("workflows", ("models.records",)) == []


def test_routes_never_import_each_other() -> None:
    assert offending("api/routes", ("api.routes",)) == []


def test_the_workflow_contracts_are_plain_data() -> None:
    assert offending("models/contracts", ("sqlalchemy", "alembic", "models.records")) == []


def test_the_api_process_loads_no_workflow_activity_or_smtp_client() -> None:
    """What importing the API loads, transitively: it meets flows through their contracts
    (models/contracts/flow.py), never through a workflow module, which would bring its
    activities and their SMTP client in."""
    listing = (
        "import sys, api.app; print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] "
        "in ('workflows', 'activities', 'workers', 'aiosmtplib', 'aiosmtpd'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", listing], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    assert loaded == []
