"""The house rules of docs/architecture.md, checked on the source: imports point down, and no
module imports itself back through others (lazy imports inside functions count too)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import wixprint

PACKAGE = Path(wixprint.__file__).parent

# Lower rank = lower layer. A unit may import only units of a strictly lower rank.
RANKS: dict[str, int] = {
    "vocabulary": 0,
    "errors": 1,
    "wixtime": 1,
    "sdnotify": 1,
    "links": 1,
    "health": 1,
    "logs": 1,
    "events": 1,
    "version": 1,
    "timesync": 1,
    "config": 2,
    "supervisor": 3,
    "wix": 4,
    "spool": 4,
    "alerts": 4,
    "printing": 4,
    "receipts": 5,
    "sim": 5,
    "web": 5,
    "actors": 6,
    "app": 7,
    "runner": 8,
    "commands": 9,
    "cli": 10,
}


def _module_name(path: Path) -> str:
    parts = ("wixprint", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "wixprint" or node.module.startswith("wixprint."):
                for alias in node.names:
                    # ``from wixprint.pkg import name`` names a submodule or an attribute.
                    sub = f"{node.module}.{alias.name}"
                    yield sub if sub in SOURCES else node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("wixprint."))


def _unit(module: str) -> str:
    return module.split(".")[1]


def test_every_unit_has_a_layer() -> None:
    units = {_unit(m) for m in SOURCES if m != "wixprint"}
    assert units - set(RANKS) == set(), "give each new top-level module a rank in RANKS"


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if m != "wixprint"))
def test_imports_point_down(module: str) -> None:
    unit = _unit(module)
    upward = sorted(
        target
        for target in _imports(SOURCES[module])
        if _unit(target) != unit and RANKS.get(_unit(target), 99) >= RANKS[unit]
    )
    assert upward == [], f"{module} imports a layer at or above its own"


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in SOURCES}
    for module, path in SOURCES.items():
        for target in _imports(path):
            graph[module].add(target)
    cycles = [c for c in _strongly_connected(graph) if len(c) > 1]
    assert cycles == []


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative enough for a package of this size."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
