"""kubectl drain and DaemonSet pods now that DaemonSets exist (`staging/src/k8s.io/kubectl/pkg/drain/
filters.go` daemonSetFilter): with --ignore-daemonsets a daemon pod stays, a finished one is evicted,
and one whose DaemonSet is gone needs --force; and `kubectl rollout status daemonset/NAME`
(`staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go` DaemonSetStatusViewer)."""

from __future__ import annotations

import attrs

from kubeprop.model.api.apps import DaemonSet, DaemonSetSpec, DaemonSetStatus, DaemonSetUpdateStrategy
from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.pod import Container, Pod, PodSpec, PodStatus
from kubeprop.model.cluster.maintenance import drain_filter
from kubeprop.model.cluster.workload_wait import rollout_verdict
from kubeprop.model.scenario.schema import DrainStep


def _daemon_pod(name: str, owner: str, phase: str = "Running") -> Pod:
    ref = OwnerReference(api_version="apps/v1", kind="DaemonSet", name=owner, uid="u", controller=True)
    return Pod(metadata=ObjectMeta(name=name, namespace="default", owner_references=(ref,)),
               spec=PodSpec(node_name="n1", containers=(Container(name="c"),)), status=PodStatus(phase=phase))


def test_daemon_pods_stay_unless_finished_or_orphaned() -> None:
    pods = [_daemon_pod("live", "agent"), _daemon_pod("done", "agent", "Failed"), _daemon_pod("orphan", "gone")]
    exists = frozenset({("default", "agent")})
    out, errors = drain_filter(pods, "n1", DrainStep(node="n1"), exists)
    assert [p.metadata.name for p in out] == ["done"]
    assert errors == ['daemonsets.apps "gone" not found: default/orphan']
    out, errors = drain_filter(pods, "n1", DrainStep(node="n1", force=True), exists)
    assert [p.metadata.name for p in out] == ["done", "orphan"] and errors == []


def _ds(generation: int, observed: int, desired: int, updated: int, available: int,
        strategy: str = "RollingUpdate") -> DaemonSet:
    return DaemonSet(metadata=ObjectMeta(name="agent", namespace="default", generation=generation),
                     spec=DaemonSetSpec(update_strategy=DaemonSetUpdateStrategy(type=strategy)),
                     status=DaemonSetStatus(observed_generation=observed, desired_number_scheduled=desired,
                                            updated_number_scheduled=updated, number_available=available))


def test_rollout_status_of_a_daemonset() -> None:
    assert rollout_verdict(_ds(2, 1, 3, 3, 3)).status == "Waiting for daemon set spec update to be observed..."
    assert rollout_verdict(_ds(2, 2, 3, 1, 3)).status == (
        'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...')
    assert rollout_verdict(_ds(2, 2, 3, 3, 2)).status == (
        'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...')
    done = rollout_verdict(_ds(2, 2, 3, 3, 3))
    assert done.done and done.status == 'daemon set "agent" successfully rolled out'
    on_delete = rollout_verdict(attrs.evolve(_ds(1, 1, 1, 1, 1, "OnDelete")))
    assert on_delete.error == "rollout status is only available for RollingUpdate strategy type"
