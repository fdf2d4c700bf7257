"""Every import path the documentation shows users still resolves, now that the packages' names
load lazily (PEP 562 `__getattr__` in `counterexamples`, `model.scenario`, `model.cluster`): each
`from kubeprop.X import a, b` and `import kubeprop.X` of docs/, README.md and examples/, the old
paths of moved modules with their DeprecationWarning, and each lazy package's `__all__`/`dir()`."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FROM_IMPORT = re.compile(r"from (kubeprop(?:\.\w+)+) import (\([^)]*\)|[\w, ]+)")
IMPORT = re.compile(r"^\s*import (kubeprop(?:\.\w+)+)", re.MULTILINE)
LAZY_PACKAGES = ("kubeprop.counterexamples", "kubeprop.model.scenario", "kubeprop.model.cluster")


def _documents() -> list[Path]:
    return sorted([*(REPO / "docs").rglob("*.md"), REPO / "README.md", *(REPO / "examples").rglob("*.md"),
                   *(REPO / "examples").rglob("*.py")])


def documented_paths() -> dict[str, set[str]]:
    """Module → the names imported from it, over every document (`set()`: the module itself)."""
    paths: dict[str, set[str]] = {}
    for doc in _documents():
        text = doc.read_text(encoding="utf-8")
        for module, names in FROM_IMPORT.findall(text):
            found = {n.split(" as ")[0].strip() for n in names.strip("()").replace("\n", ",").split(",")}
            paths.setdefault(module, set()).update(n for n in found if n.isidentifier())
        for module in IMPORT.findall(text):
            paths.setdefault(module, set())
    return paths


def _moved(module: str) -> bool:
    """A module that moved in 0.2 (its old file calls `_moved.alias`)."""
    parts = module.split(".")[1:]
    path = REPO.joinpath(*parts).with_suffix(".py")
    return path.is_file() and "_moved import alias" in path.read_text(encoding="utf-8")


def test_the_documents_show_the_import_paths_users_rely_on() -> None:
    """The checks below would pass on no paths at all."""
    paths = documented_paths()
    assert {"check", "assert_no_discovery"} <= paths["kubeprop.counterexamples"]
    assert "load_scenario" in paths["kubeprop.model.scenario"]
    assert "build_model" in paths["kubeprop.model.cluster"]
    assert "settle" in paths["kubeprop.model.cluster.drive"]
    assert len(paths) > 30


@pytest.mark.parametrize("module", sorted(documented_paths()))
def test_every_documented_import_path_resolves(module: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if _moved(module):
            sys.modules.pop(module, None)  # it warns when first imported
        imported = importlib.import_module(module)
    missing = sorted(name for name in documented_paths()[module] if not hasattr(imported, name))
    assert missing == []
    deprecated = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert bool(deprecated) == _moved(module), [str(w.message) for w in caught]


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_a_lazy_package_lists_and_resolves_every_public_name(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module.__all__) <= set(dir(module))
    assert all(getattr(module, name) is not None for name in module.__all__)
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


_FRESH = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for sub in pkgutil.iter_modules(package.__path__):
    if not sub.name.startswith("_") and sub.name != "pytest_plugin":
        importlib.import_module(f"{sys.argv[1]}.{sub.name}")
print(json.dumps({name: type(getattr(package, name)).__name__ for name in package.__all__}))
"""


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_no_public_name_is_a_module_even_after_every_submodule_is_imported(package: str) -> None:
    """`counterexamples.replay`, `.fingerprint` and `.render_html` are functions, also when the
    submodules of those names were imported first (which sets the package's attribute to the
    module): a fresh interpreter imports every submodule, then reads every public name."""
    done = subprocess.run([sys.executable, "-c", _FRESH, package], capture_output=True, text=True, timeout=120,
                          check=True)
    assert [name for name, kind in json.loads(done.stdout).items() if kind == "module"] == []


def test_importing_a_light_module_of_a_lazy_package_imports_no_engine() -> None:
    code = ("import sys, kubeprop.counterexamples.printable, kubeprop.model.scenario.variants, "
            "kubeprop.model.cluster.workload_commands; print(' '.join(sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    loaded = set(done.stdout.split())
    heavy = {"kubeprop.counterexamples.api", "kubeprop.model.scenario.load", "kubeprop.model.cluster.compose"}
    assert not loaded & heavy


def _moved_modules() -> list[str]:
    return sorted(f"kubeprop.model.{path.stem}" for path in (REPO / "model").glob("*.py")
                  if _moved(f"kubeprop.model.{path.stem}"))


def test_the_moved_modules_are_found() -> None:
    assert {"kubeprop.model.drive", "kubeprop.model.objects", "kubeprop.model.apiserver"} <= set(_moved_modules())


@pytest.mark.parametrize("module", _moved_modules())
def test_every_old_path_of_a_moved_module_resolves_with_a_deprecation_warning(module: str) -> None:
    """The old paths (`model/_moved.py`), also when the lazy packages they point into were not
    imported yet: their names (`from kubeprop.model.drive import settle`) are the new module's."""
    sys.modules.pop(module, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        old = importlib.import_module(module)
    assert old.__name__ != module and set(old.__dict__) >= {"__name__", "__file__"}
    assert any(issubclass(w.category, DeprecationWarning) and old.__name__ in str(w.message) for w in caught)
