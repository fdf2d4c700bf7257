"""Scenarios: the scenario file schema, loading (manifests + topology + users + workload + fault
budget + bounds + variant), the built-in FeastFlow scenario, model variants, and bootstrap (the
initial store, built by sending every object through the API server). Loading reports every
problem of a file at once (`decode`, `checks`) and imports `admission:`/`controllers:` entries under
a policy (`imports`: a file under review imports only what the user allowed).

May import: `kubeprop.model.api`, `kubeprop.model.state`, `kubeprop.model.frozen`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeprop.model.scenario.load import Scenario, ScenarioError, feastflow_path, load_scenario

__all__ = ["Scenario", "ScenarioError", "feastflow_path", "load_scenario"]


def __getattr__(name: str) -> Any:
    """A public name, imported from `load` on first use (PEP 562): importing a light module of
    this package (`schema`) does not import `load` and what it needs."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module("kubeprop.model.scenario.load"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
