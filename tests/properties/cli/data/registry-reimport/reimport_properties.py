"""A user's property module that a gate's config loads (the scenario's `properties:`) and its
corpus replays (trial 21: the second import found the module cached, so its decorators did not
run again, and the gate refused a valid corpus file; tests/properties/cli/test_gate_registry_reimport.py)."""

from __future__ import annotations

from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import CheckResult, safety


@safety("first-step-never-taken", "The workload's first step is never taken (fails at step 1).",
        "tests/properties/cli/data/registry-reimport", reads=("workload_next",))
def first_step_never_taken(model: ClusterModel, state: ClusterState) -> CheckResult:
    """Violated as soon as the user's first step is taken."""
    return "the workload's first step was taken" if state.workload_next else None
