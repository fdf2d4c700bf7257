"""A property the partial-order reduction can delay (tests/properties/explore/test_por.py and
tests/properties/cli/test_reduced_depth.py): it reads only the workload's progress, so at the
start `Quiesce`, which nothing it reads depends on, is an ample set on its own."""

from __future__ import annotations

from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import CheckResult, safety


@safety("workload-not-started", "The workload's first step is never taken (a probe of the search's depth).",
        "tests/properties/explore/data/reduced-depth", reads=("workload_next",))
def workload_not_started(model: ClusterModel, state: ClusterState) -> CheckResult:
    """Violated as soon as the user's first step is taken."""
    return "the workload's first step was taken" if state.workload_next else None
