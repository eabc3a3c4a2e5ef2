"""The walls of the house: data flows one way, and the library never reaches up.

``spatial`` is the library; ``layers`` builds the default data with it; the
app (``app_pages``) and the CLI sit on top. A module of ``spatial`` that
imported ``layers`` or ``app_pages`` would make the library depend on one
city's data and on the app; only the command-line entry point may, since it
sits on top like ``streamlit_app.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = sorted((ROOT / "spatial").rglob("*.py"))
#: The one part of spatial allowed to import layers: the CLI package.
ON_TOP = ROOT / "spatial" / "cli"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", [p for p in LIBRARY if ON_TOP not in p.parents],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_library_module_does_not_import_layers_or_the_app(path: Path) -> None:
    upward = {m for m in _imported_modules(path) if m.split(".")[0] in {"layers", "app_pages", "streamlit"}}
    assert not upward, f"{path.relative_to(ROOT)} imports {sorted(upward)}"


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from layers.build import build_all\n    return build_all\n", encoding="utf-8")
    assert "layers.build" in _imported_modules(bad)


@pytest.mark.parametrize("path", sorted((ROOT / "layers").rglob("*.py")), ids=lambda p: p.name)
def test_layers_do_not_import_the_app(path: Path) -> None:
    upward = {m for m in _imported_modules(path) if m.split(".")[0] in {"app_pages", "streamlit"}}
    assert not upward
