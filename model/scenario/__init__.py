"""Scenarios: the scenario file schema, loading (manifests + topology + users + workload + fault
budget + bounds + variant), the built-in FeastFlow scenario, model variants, and bootstrap (the
initial store, built by sending every object through the API server).

May import: `kubeprop.model.api`, `kubeprop.model.state`, `kubeprop.model.frozen`.
"""

from kubeprop.model.scenario.load import Scenario, ScenarioError, feastflow_path, load_scenario

__all__ = ["Scenario", "ScenarioError", "feastflow_path", "load_scenario"]
