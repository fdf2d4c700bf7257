"""VolumeRestrictions: at most one pod uses a ReadWriteOncePod claim (user trial 12, fa1).

Upstream (`pkg/scheduler/framework/plugins/volumerestrictions/volume_restrictions.go`): while a pod
in the scheduler's cache uses a ReadWriteOncePod claim, every node refuses another pod naming it
("node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode",
Unschedulable: preemption may help, RemovePod lowering the count). The model had no such plug-in
and ran both pods of the trial's scenario (tests/model/data/volumes/rwop)."""

from __future__ import annotations

import io
from pathlib import Path

from cluster_harness import settled

from kubeprop.model.api.objects import Node, Pod
from kubeprop.model.evolve import evolve
from kubeprop.model.scheduler.decide import schedule_one
from kubeprop.model.scheduler.nodeinfo import build_node_infos, pod_key
from kubeprop.model.scheduler.volumebinding import PodVolumes
from kubeprop.model.scheduler.volumerestrictions import RWOP_CONFLICT
from kubeprop.properties.cli.schedule import run_schedule
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[1] / "data" / "volumes"


def test_the_second_pod_on_a_read_write_once_pod_claim_stays_pending() -> None:
    model, state = settled(DATA / "rwop")
    pods = {p.metadata.name: p for p in state.store.list("pods") if isinstance(p, Pod)}
    bound = sorted(name for name, p in pods.items() if p.spec.node_name)
    assert len(bound) == 1, bound
    (pending,) = set(pods) - set(bound)
    message = next(c.message for c in pods[pending].status.conditions if c.type == "PodScheduled")
    assert message.startswith(f"0/3 nodes are available: 3 {RWOP_CONFLICT}.")
    assert first_violation(model, state, select(["read-write-once-volume-on-one-node", "schedulable-pods-bound",
                                                 "scheduler-decisions-sound"])) is None


def test_a_higher_priority_pod_preempts_the_claims_user() -> None:
    """Filter refuses every node while the holder runs; preemption (RemovePod) picks the holder's node
    with the holder as the victim, and no other node (removing pods there does not free the claim)."""
    model, state = settled(DATA / "rwop")
    pods = [p for p in state.store.list("pods") if isinstance(p, Pod)]
    nodes = [n for n in state.store.list("nodes") if isinstance(n, Node)]
    holder = next(p for p in pods if p.spec.node_name)
    waiting = next(p for p in pods if not p.spec.node_name)
    volumes = PodVolumes(read_write_once_pod=frozenset({"shared"}))
    infos = build_node_infos(nodes, [holder])
    refused = schedule_one(waiting, infos, model.scheduler_profile, volumes=volumes)
    assert not refused.feasible and refused.preemption is None
    assert dict(refused.filter_reasons) == {n.metadata.name: RWOP_CONFLICT for n in nodes}
    urgent = evolve(waiting, spec=evolve(waiting.spec, priority=1000))
    preempting = schedule_one(urgent, infos, model.scheduler_profile, volumes=volumes)
    assert preempting.preemption is not None
    assert (preempting.preemption.node, preempting.preemption.victims) == (holder.spec.node_name, (pod_key(holder),))
    alone = schedule_one(waiting, build_node_infos(nodes, []), model.scheduler_profile, volumes=volumes)
    assert len(alone.feasible) == len(nodes)


def test_kubeprop_schedule_places_at_most_one_pod_per_read_write_once_pod_claim() -> None:
    """`kubeprop schedule` (properties/scheduling/volumes.py) said FEASIBLE, both pods on worker-1."""
    out, err = io.StringIO(), io.StringIO()
    run_schedule(DATA / "rwop", (), 0, (), 5_000_000, out, err)
    assert "INFEASIBLE as given" in out.getvalue(), out.getvalue() + err.getvalue()
    assert f"worker-1, worker-2, worker-3 excluded: {RWOP_CONFLICT}" in out.getvalue()
