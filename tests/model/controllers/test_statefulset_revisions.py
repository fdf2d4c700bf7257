"""A StatefulSet's current and update revisions (trial 6, F2): a pod below the partition comes
back at the current revision, from its template; `status.currentRevision` moves only when a
rolling update completes; OnDelete re-creates at the update revision. Upstream:
`pkg/controller/statefulset/stateful_set_utils.go` newVersionedStatefulSetPod, completeRollingUpdate;
`stateful_set_control.go` getStatefulSetRevisions, updateStatefulSet, computeReplicaStatus."""

from __future__ import annotations

from pathlib import Path

import attrs
from api_harness import feastflow

from kubeprop.model.api.apps import RollingUpdateStatefulSetStrategy, StatefulSetUpdateStrategy
from kubeprop.model.api.meta import Condition, set_condition
from kubeprop.model.api.objects import ObjectKey, Pod, StatefulSet
from kubeprop.model.api.pod import PodTemplateSpec
from kubeprop.model.api.revisions import revision_name, template_revision_name
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.statefulset import REVISION_LABEL, StatefulSetController, current_revision
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.cluster import ClusterState

DATA = Path(__file__).parents[1] / "data"
CANARY = DATA / "sts-canary.yaml"
API = feastflow()
ok = API.ok
KEY = "default/postgres"


def _settled(scenario: Path) -> ClusterState:
    model = build_model(load_scenario(scenario))
    run = fair_run(model, initial_state(model))
    assert not run.exhausted
    return run.state


def _pods(state: ClusterState, namespace: str = "default") -> dict[str, Pod]:
    return {p.metadata.name: p for p in state.store.list("pods", namespace) if isinstance(p, Pod)}


def _web(state: ClusterState) -> StatefulSet:
    obj = state.store.get(ObjectKey("statefulsets.apps", "default", "web"))
    assert isinstance(obj, StatefulSet)
    return obj


def _image(template: PodTemplateSpec) -> str:
    return template.spec.containers[0].image


def test_trial6_canary_pod_deleted_below_the_partition_comes_back_at_the_current_revision() -> None:
    """sts3 of trial 6: partition 1, `setImage web:2`, then `kubectl delete pod web-0`."""
    state = _settled(CANARY)
    web, pods = _web(state), _pods(state)
    update = revision_name(web)
    old = web.status.current_revision_template
    assert old is not None and _image(old) == "web:1"
    current = template_revision_name("web", old)
    assert {n: (p.spec.containers[0].image, p.metadata.labels[REVISION_LABEL]) for n, p in pods.items()} == {
        "web-0": ("web:1", current), "web-1": ("web:2", update)}
    status = web.status
    assert (status.current_revision, status.update_revision) == (current, update)
    assert (status.replicas, status.current_replicas, status.updated_replicas, status.ready_replicas) == (2, 1, 1, 2)


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    """The canary scenario with its manifest edited (`old` → `new`)."""
    (tmp_path / "sts-canary").mkdir()
    text = (DATA / "sts-canary" / "web.yaml").read_text()
    assert old in text
    (tmp_path / "sts-canary" / "web.yaml").write_text(text.replace(old, new))
    scenario = tmp_path / "sts-canary.yaml"
    scenario.write_text(CANARY.read_text())
    return scenario


def test_on_delete_re_creates_a_deleted_pod_at_the_update_revision(tmp_path: Path) -> None:
    """OnDelete (newVersionedStatefulSetPod without `rollingUpdate`): the controller deletes
    nothing for the new image, the deleted web-0 comes back with it, and currentRevision stays
    (completeRollingUpdate is for RollingUpdate only)."""
    rolling = "    type: RollingUpdate\n    rollingUpdate: {partition: 1}\n"
    scenario = _variant(tmp_path, rolling, "    type: OnDelete\n")
    state = _settled(scenario)
    web, pods = _web(state), _pods(state)
    update = revision_name(web)
    assert {n: p.spec.containers[0].image for n, p in pods.items()} == {"web-0": "web:2", "web-1": "web:1"}
    assert pods["web-0"].metadata.labels[REVISION_LABEL] == update
    status = web.status
    assert status.current_revision == pods["web-1"].metadata.labels[REVISION_LABEL] != update
    assert (status.current_replicas, status.updated_replicas) == (1, 1)


# -- the same through direct requests on FeastFlow's postgres (api_harness)


def _sts(store: Store) -> StatefulSet:
    obj = store.get(ObjectKey("statefulsets.apps", "default", "postgres"))
    assert isinstance(obj, StatefulSet)
    return obj


def _pod(store: Store, name: str) -> Pod:
    obj = store.get(ObjectKey("pods", "default", name))
    assert isinstance(obj, Pod)
    return obj


def _reconcile(store: Store, ctl: StatefulSetController | None = None) -> Store:
    return API.reconcile(ctl or StatefulSetController(), store, KEY)[0]


def _update_spec(store: Store, **fields: object) -> Store:
    current = _sts(store)
    return ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(current, spec=attrs.evolve(
        current.spec, **fields))))


def _restarted(store: Store, stamp: str) -> PodTemplateSpec:
    template = _sts(store).spec.template
    return attrs.evolve(template, metadata=attrs.evolve(template.metadata, annotations={"restartedAt": stamp}))


def run_ready(store: Store, name: str, ip: str = "10.244.0.10") -> Store:
    """The scheduler binds the pod to worker-3 and the kubelet reports it Running and Ready."""
    store = ok(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default", name=name,
                              node_name="worker-3"))
    current = _pod(store, name)
    ready = Condition(type="Ready", status="True", last_transition_time=1)
    status = attrs.evolve(current.status, phase="Running", pod_ip=ip,
                          conditions=set_condition(current.status.conditions, ready))
    return ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(current, status=status)))


def _gone(store: Store, name: str) -> Store:
    """The pod deleted (an eviction, a node's loss) and its kill confirmed."""
    store = ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name=name))
    return ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name=name,
                             grace_period_seconds=0))


def _three_ready(ctl: StatefulSetController | None = None) -> Store:
    store = _update_spec(API.base, replicas=3)
    for i in range(3):
        store = _reconcile(store, ctl)
        store = run_ready(store, f"postgres-{i}", ip=f"10.244.0.{10 + i}")
    return _reconcile(store, ctl)


def _partitioned(partition: int) -> StatefulSetUpdateStrategy:
    return StatefulSetUpdateStrategy(type="RollingUpdate",
                                     rolling_update=RollingUpdateStatefulSetStrategy(partition=partition))


def test_the_api_server_keeps_the_current_revisions_template_while_a_rollout_is_partial() -> None:
    store = _three_ready()
    before = _sts(store)
    assert before.status.current_revision == revision_name(before)
    assert before.status.current_revision_template is None, "nothing kept while the set is at its revision"
    store = _update_spec(store, update_strategy=_partitioned(2), template=_restarted(store, "1"))
    assert _sts(store).status.current_revision_template == before.spec.template
    store = _update_spec(store, template=_restarted(store, "2"))
    assert _sts(store).status.current_revision_template == before.spec.template, "still the current revision's"
    assert current_revision(_sts(store)) == (before.status.current_revision, before.spec.template)
    store = _update_spec(store, template=before.spec.template)
    assert _sts(store).status.current_revision_template is None, "rolled back to the current revision"


def test_nothing_is_kept_for_a_set_the_controller_never_synced() -> None:
    store = _update_spec(API.base, template=_restarted(API.base, "1"))
    assert _sts(store).status.current_revision == ""
    assert _sts(store).status.current_revision_template is None
    assert current_revision(_sts(store)) == (revision_name(_sts(store)), _sts(store).spec.template)


def test_a_canary_survives_a_lost_pod_and_completes_when_the_partition_is_lowered() -> None:
    store = _three_ready()
    old = _sts(store)
    store = _update_spec(store, update_strategy=_partitioned(2), template=_restarted(store, "1"))
    update = revision_name(_sts(store))
    store = _reconcile(store)
    store = _gone(store, "postgres-2")
    store = _reconcile(store)
    assert _pod(store, "postgres-2").metadata.labels[REVISION_LABEL] == update
    store = _gone(store, "postgres-0")  # below the partition: evicted, or its node lost
    store = _reconcile(store)
    replaced = _pod(store, "postgres-0")
    assert replaced.metadata.labels[REVISION_LABEL] == old.status.current_revision
    assert replaced.metadata.annotations == old.spec.template.metadata.annotations
    store = run_ready(run_ready(store, "postgres-0"), "postgres-2", ip="10.244.0.12")
    store = _reconcile(store)
    status = _sts(store).status
    assert (status.current_revision, status.update_revision) == (old.status.current_revision, update)
    assert (status.current_replicas, status.updated_replicas) == (2, 1)
    store = _update_spec(store, update_strategy=_partitioned(0))
    for name in ("postgres-1", "postgres-0"):
        store = _reconcile(store)
        store = _gone(store, name)
        store = _reconcile(store)
        store = run_ready(store, name)
    store = _reconcile(store)
    status = _sts(store).status
    assert status.current_revision == status.update_revision == update
    assert (status.current_replicas, status.updated_replicas) == (3, 3)
    assert status.current_revision_template is None, "dropped with the rollout's completion"
