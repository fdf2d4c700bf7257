"""Scenarios: the scenario file schema, loading (manifests + topology + users + workload + fault
budget + bounds + variant), the built-in FeastFlow scenario, model variants, and bootstrap (the
initial store, built by sending every object through the API server). Loading reports every
problem of a file at once (`decode`, `checks`) and imports `admission:`/`controllers:` entries under
a policy (`imports`: a file under review imports only what the user allowed).

May import: `kubeprop.model.api`, `kubeprop.model.state`, `kubeprop.model.frozen`.
"""

from kubeprop.model.scenario.load import Scenario, ScenarioError, feastflow_path, load_scenario

__all__ = ["Scenario", "ScenarioError", "feastflow_path", "load_scenario"]
