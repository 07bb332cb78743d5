"""The engine's layout holds: rooms by concern, small files, imports pointing one way.

``docs/architecture.md`` describes the same rules; a change that breaks one fails here.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

ENGINE = REPO / "analysis"
ROOMS = sorted(p.parent.name for p in ENGINE.glob("*/__init__.py"))

# Which rooms each room may import. Root modules (``util``, ``numbers``, ``disclosure``,
# ``exports``) are listed as rooms of their own; anything may use the first three. The table
# is acyclic, so no import cycle between rooms can exist once every import obeys it.
SHARED = {"util", "numbers", "disclosure"}
ALLOWED = {
    "util": set(),
    "numbers": set(),
    "disclosure": {"numbers"},
    "data": SHARED,
    "stats": SHARED,
    "exports": SHARED | {"data"},
    "access": SHARED | {"data"},
    "funding": SHARED | {"data", "stats"},
    "explore": SHARED | {"data", "stats"},
    "ingest": SHARED | {"data", "access"},
    "allocation": SHARED | {"data", "stats", "access", "funding", "explore", "exports"},
    "audit": SHARED | {"data", "stats", "exports"},
    "briefing": SHARED | {"data", "stats", "access", "funding", "explore", "allocation",
                          "exports", "learning", "audit"},
    "build": SHARED | {"data", "access", "funding", "ingest"},
    "learning": SHARED | {"data", "exports"},
    "cli": SHARED | {"data", "stats", "access", "funding", "explore", "ingest", "allocation",
                     "briefing", "build", "exports", "learning", "audit"},
}


def engine_modules() -> list[Path]:
    return sorted(p for p in ENGINE.rglob("*.py") if "__pycache__" not in p.parts)


def room_of(path: Path) -> str:
    parts = path.relative_to(ENGINE).parts
    return parts[0] if len(parts) > 1 else path.stem


def imported_modules(path: Path, *, top_level_only: bool = False) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            # ``from analysis.data import geography`` imports a module too
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def test_rooms_and_root_modules():
    root_modules = [p.stem for p in ENGINE.glob("*.py") if p.stem != "__init__"]
    assert len(root_modules) <= 8, root_modules
    assert len(ROOMS) >= 5, ROOMS
    assert set(ROOMS) | set(root_modules) == set(ALLOWED), "a room is missing from ALLOWED"
    assert "cli" in ROOMS


@pytest.mark.parametrize("folder", ["analysis", "dashboard"])
def test_no_source_file_over_800_lines(folder):
    long = {str(p.relative_to(REPO)): n for p in (REPO / folder).rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 800}
    assert not long, long


def test_dashboard_pages_stay_thin():
    long = {p.name: n for p in (REPO / "dashboard" / "views").glob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 250}
    assert not long, long


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_says_what_it_is_for_and_exports_its_api(room):
    package = importlib.import_module(f"analysis.{room}")
    assert package.__doc__ and len(package.__doc__.split()) >= 12, room
    assert package.__all__, room
    missing = [name for name in package.__all__ if not hasattr(package, name)]
    assert not missing, missing


@pytest.mark.parametrize("room", ROOMS)
def test_no_export_shares_a_name_with_a_module(room):
    # importing a submodule sets it as an attribute of the package, so a function of the same
    # name would be replaced by the module depending on import order
    modules = {p.stem for p in (ENGINE / room).glob("*.py")} | {
        p.name for p in (ENGINE / room).iterdir() if (p / "__init__.py").is_file()}
    package = importlib.import_module(f"analysis.{room}")
    assert not modules & set(package.__all__), room


def test_every_export_resolves_eagerly():
    # lazy_loader imports everything at once under EAGER_IMPORT: a stale export fails here
    code = "; ".join(f"import analysis.{room}" for room in ROOMS)
    env = {**os.environ, "EAGER_IMPORT": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("path", engine_modules(), ids=lambda p: str(p.relative_to(ENGINE)))
def test_imports_point_one_way(path):
    room = room_of(path)
    for name in imported_modules(path):
        top = name.split(".")[0]
        assert top not in ("streamlit", "dashboard", "tests"), f"{path.name} imports {name}"
        if top != "analysis" or name.count(".") < 1:
            continue
        target = name.split(".")[1]
        if target == room or target not in ALLOWED:
            continue  # a module of the same room, or a name imported from a root module
        assert target in ALLOWED[room], f"{room} may not import {target} ({path.name}: {name})"


def test_no_import_cycle_between_modules():
    """Module-level imports form no cycle (imports inside functions are allowed to be lazy)."""
    modules = {".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
               for p in engine_modules()}
    graph = {name: {m for m in imported_modules(path, top_level_only=True) if m in modules
                    and not (path.name == "__init__.py" and m.startswith(name + "."))}
             for name, path in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt] if nxt in trail else [node, nxt]
                raise AssertionError(" → ".join(cycle))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_cli_start_does_not_import_the_heavy_engine():
    code = ("import sys, analysis.cli; heavy = [m for m in ('statsmodels', 'weasyprint', "
            "'esda', 'libpysal', 'docx') if m in sys.modules]; print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == ""


def test_test_modules_have_unique_names():
    # pytest's default import mode needs unique basenames across the tests/<room>/ folders
    names = [p.name for p in (REPO / "tests").rglob("test_*.py")]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


# Altair parses a channel given as a shorthand string ("need:Q") by rebuilding its table of
# about 570 schema classes, 5 ms each time: a page with a few charts spent a third of a second
# of every rerun on it. A channel object (alt.X("need:Q")) skips that step.
CHANNEL_KEYWORDS = {"x", "y", "x2", "y2", "color", "size", "shape", "opacity", "detail",
                    "tooltip", "text", "order", "column", "row", "theta", "radius",
                    "stroke", "strokeDash", "fill", "href", "key", "latitude", "longitude"}


def _shorthand_channels(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "encode"):
            continue
        for keyword in node.keywords:
            if keyword.arg not in CHANNEL_KEYWORDS:
                continue
            values = keyword.value.elts if isinstance(keyword.value, ast.List | ast.Tuple) \
                else [keyword.value]
            if any(isinstance(v, ast.Constant | ast.JoinedStr) for v in values):
                found.append(f"{path.relative_to(REPO)}:{node.lineno} {keyword.arg}=")
    return found


def test_charts_give_channels_as_objects_not_shorthand_strings():
    sources = [*ENGINE.rglob("*.py"), *(REPO / "dashboard").rglob("*.py")]
    found = [hit for path in sources for hit in _shorthand_channels(path)]
    assert not found, "write alt.X(\"field:Q\") etc. instead of a string:\n" + "\n".join(found)
