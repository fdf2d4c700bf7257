"""The layering the package docstrings promise, checked by reading every module's imports.

Units are the subpackages (`kubeprop.model.api`, …, `kubeprop.properties.cli`) and the top-level
modules of each package. Runtime imports only: an import under `if TYPE_CHECKING:` names a type and
creates no dependency at run time.
"""

from __future__ import annotations

import ast
import warnings
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {
    "model": "kubeprop.model",
    "properties": "kubeprop.properties",
    "counterexamples": "kubeprop.counterexamples",
}


def _modules() -> Iterator[tuple[str, Path]]:
    for folder, package in PACKAGES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join([package, *parts]), path


def _unit(module: str) -> str:
    """A module's unit: its subpackage (`kubeprop.model.api`), or the package for top-level modules."""
    parts = module.split(".")
    if len(parts) >= 3 and (REPO / {v: k for k, v in PACKAGES.items()}[".".join(parts[:2])] / parts[2]).is_dir():
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def _runtime_imports(tree: ast.Module) -> Iterator[str]:
    def walk(nodes: list[ast.stmt]) -> Iterator[str]:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                yield from walk(node.orelse)
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and sub.level == 0 and sub.module:
                    yield sub.module
                elif isinstance(sub, ast.Import):
                    yield from (alias.name for alias in sub.names)
    yield from walk(tree.body)


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in _modules():
        for target in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if target.startswith("kubeprop.") and _unit(target) != _unit(module):
                edges[_unit(module)].add(_unit(target))
    return edges


def test_the_model_imports_nothing_of_properties_or_counterexamples() -> None:
    bad = {u: sorted(t for t in ts if not t.startswith("kubeprop.model")) for u, ts in _graph().items()
           if u.startswith("kubeprop.model")}
    assert not {u: ts for u, ts in bad.items() if ts}


def test_only_the_cli_imports_the_cli() -> None:
    importers = sorted(u for u, ts in _graph().items() if "kubeprop.properties.cli" in ts)
    assert importers == []


def test_no_cycles_between_units() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(unit: str, path: list[str]) -> None:
        state[unit] = 1
        for nxt in sorted(graph.get(unit, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt):], nxt] if nxt in path else [unit, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[unit] = 2

    for unit in sorted(graph):
        if unit not in state:
            visit(unit, [unit])
    assert cycles == []


def test_the_reader_sees_real_edges() -> None:
    """The checks above would pass on an empty graph: make sure it is not empty."""
    graph = _graph()
    assert "kubeprop.model.api" in graph["kubeprop.model.cluster"]
    assert "kubeprop.counterexamples" in graph["kubeprop.properties.cli"]


@pytest.mark.parametrize(("old", "new"), [
    ("kubeprop.model.drive", "kubeprop.model.cluster.drive"),
    ("kubeprop.model.objects", "kubeprop.model.api.objects"),
    ("kubeprop.model.informer", "kubeprop.model.state.informer"),
    ("kubeprop.model.cluster_state", "kubeprop.model.state.cluster"),
    ("kubeprop.model.bootstrap", "kubeprop.model.scenario.bootstrap"),
    ("kubeprop.model.apiserver", "kubeprop.model.api.server"),
])
def test_documented_old_paths_still_import_with_a_deprecation_warning(old: str, new: str) -> None:
    import importlib
    import sys

    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)
