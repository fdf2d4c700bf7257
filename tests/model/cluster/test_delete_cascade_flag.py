"""A delete step's command line says its propagation policy as kubectl spells it (trial 11, the
operator author): a Foreground delete was printed `kubectl delete Widget w1 -n default`, which is
another command (kubectl's default cascade is background)."""

from __future__ import annotations

import pytest

from kubeprop.model.cluster.workload_commands import describe
from kubeprop.model.scenario.schema import DeleteStep, WorkloadStep


@pytest.mark.parametrize(("policy", "flags"), [
    ("Foreground", " --cascade=foreground"), ("Orphan", " --cascade=orphan"), ("Background", ""), ("", ""),
])
def test_the_propagation_policy_is_a_cascade_flag(policy: str, flags: str) -> None:
    step = WorkloadStep(delete=DeleteStep(kind="Widget", name="w1", propagation_policy=policy))
    assert describe(step) == f"kubectl delete Widget w1 -n default{flags}"
    quiet = WorkloadStep(delete=DeleteStep(kind="Widget", name="w1", propagation_policy=policy, wait=False))
    assert describe(quiet) == f"kubectl delete Widget w1 -n default{flags} --wait=false"
