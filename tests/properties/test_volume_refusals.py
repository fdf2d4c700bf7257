"""A pod its volumes keep Pending is no violation of `schedulable-pods-bound` (user trial 11).

Upstream VolumeBinding refuses a pod on every node while an Immediate claim of it is unbound
(`pkg/scheduler/framework/plugins/volumebinding/volume_binding.go` PreFilter: "pod has unbound
immediate PersistentVolumeClaims") and on each node its bound volume's nodeAffinity does not match
(Filter, `binder.go` FindPodVolumes checkBoundClaims: "node(s) had volume node affinity
conflict"). The property ran the model's scheduler cycle without the pod's volumes and reported
"Pod default/db is Pending although worker-2 could take it" where the model's own scheduler (and
Kubernetes) had said why not. The scenarios are the trial's (tests/model/data/volume-refusals),
and one whose claim does not exist (missing-claim: a scenario without claims runs no PV
controller, and both properties, `scheduler-decisions-sound`'s completeness too, reported the pod
the scheduler refuses with `persistentvolumeclaim "data" not found`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster_harness import fair_states, settled

from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "model" / "data" / "volume-refusals"
AFFINITY = "1 node(s) had volume node affinity conflict, 1 node(s) were unschedulable"
UNBOUND = "pod has unbound immediate PersistentVolumeClaims"
MISSING = 'persistentvolumeclaim "data" not found'


def _pending(state: ClusterState) -> dict[str, str]:
    """Each unbound pod's PodScheduled message."""
    return {p.metadata.name: next(c.message for c in p.status.conditions if c.type == "PodScheduled")
            for p in state.store.list("pods") if isinstance(p, Pod) and not p.spec.node_name}


def _drained() -> tuple[ClusterModel, ClusterState]:
    """drain-local where its fair run ends: worker-1, which holds db-0's node-local volume, drained."""
    model = build_model(load_scenario(DATA / "drain-local"))
    return model, fair_states(model)[0][-1]


@pytest.mark.parametrize(("name", "pod", "reason"), [
    ("affinity", "db", AFFINITY), ("unbound-claim", "db", UNBOUND), ("drain-local", "db-0", AFFINITY),
    ("missing-claim", "db", MISSING)])
def test_a_pod_its_volumes_refuse_every_node_is_no_violation(name: str, pod: str, reason: str) -> None:
    model, state = _drained() if name == "drain-local" else settled(DATA / name)
    assert f"0/{len(model.nodes)} nodes are available: {reason}." in _pending(state)[pod]
    assert first_violation(model, state, select(["schedulable-pods-bound", "scheduler-decisions-sound"])) is None


def test_the_drained_statefulset_is_still_not_ready() -> None:
    """What the drain really breaks stays reported: db-0 waits for worker-1's uncordon."""
    model, state = _drained()
    found = first_violation(model, state, select(["workloads-ready"]))
    assert found is not None and found.message.startswith("StatefulSet default/db: 0 ready of 1")
