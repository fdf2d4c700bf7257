"""The StatefulSet controller on FeastFlow's `postgres` set: pure reconciles, with the world
(scheduler, kubelet, users) played by direct API requests."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from api_harness import feastflow

from kubeprop.model.api.apps import RollingUpdateStatefulSetStrategy, StatefulSetOrdinals, StatefulSetUpdateStrategy
from kubeprop.model.api.meta import Condition, set_condition
from kubeprop.model.api.objects import (
    Node,
    ObjectKey,
    PersistentVolumeClaim,
    Pod,
    StatefulSet,
    Taint,
    decode_object,
    encode_object,
)
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.base import Controller
from kubeprop.model.controllers.podgc import PodGCController
from kubeprop.model.controllers.statefulset import (
    POD_NAME_LABEL,
    REVISION_LABEL,
    StatefulSetController,
    parent_and_ordinal,
    revision_name,
)
from kubeprop.model.scenario.load import ADMIN

API = feastflow()
BASE = API.base
ok = API.ok
KEY = "default/postgres"


def reconcile(ctl: Any, store: Store, key: str = KEY, now: int = 1) -> tuple[Store, tuple[Request, ...]]:
    """One reconcile with an instant cache (`ApiHarness.reconcile`); requests applied in order until one fails."""
    return API.reconcile(ctl, store, key, now)


def pod(store: Store, name: str) -> Pod | None:
    obj = store.get(ObjectKey("pods", "default", name))
    assert obj is None or isinstance(obj, Pod)
    return obj


def sts(store: Store) -> StatefulSet:
    obj = store.get(ObjectKey("statefulsets.apps", "default", "postgres"))
    assert isinstance(obj, StatefulSet)
    return obj


def run_ready(store: Store, name: str, node: str = "worker-3", ip: str = "10.244.0.10") -> Store:
    """The scheduler binds the pod and the kubelet reports it Running and Ready."""
    store = ok(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default", name=name,
                              node_name=node))
    current = pod(store, name)
    assert current is not None
    ready = Condition(type="Ready", status="True", last_transition_time=1)
    status = attrs.evolve(current.status, phase="Running", pod_ip=ip,
                          conditions=set_condition(current.status.conditions, ready))
    return ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(current, status=status)))


def scale(store: Store, replicas: int) -> Store:
    current = sts(store)
    return ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        current, spec=attrs.evolve(current.spec, replicas=replicas))))


def finish_termination(store: Store, name: str) -> Store:
    """The kubelet confirms the kill: delete with grace 0."""
    return ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name=name,
                             grace_period_seconds=0))


def test_satisfies_the_controller_protocol() -> None:
    ctl = StatefulSetController()
    assert isinstance(ctl, Controller)
    assert (ctl.name, ctl.identity) == ("statefulset", "system:kube-controller-manager")


def test_claim_is_created_before_its_pod_and_the_pod_references_it() -> None:
    store, requests = reconcile(StatefulSetController(), BASE)
    assert [(r.verb, type(r.obj).__name__) for r in requests][:2] == [
        ("create", "PersistentVolumeClaim"), ("create", "Pod")]
    claim = store.get(ObjectKey("persistentvolumeclaims", "default", "data-postgres-0"))
    assert isinstance(claim, PersistentVolumeClaim)
    assert claim.metadata.labels["app"] == "postgres"
    created = pod(store, "postgres-0")
    assert created is not None
    volumes = {v.name: v for v in created.spec.volumes}
    assert volumes["data"].persistent_volume_claim is not None
    assert volumes["data"].persistent_volume_claim.claim_name == "data-postgres-0"
    assert (created.spec.hostname, created.spec.subdomain) == ("postgres-0", "postgres")
    assert created.metadata.labels[POD_NAME_LABEL] == "postgres-0"
    assert created.metadata.labels[REVISION_LABEL] == revision_name(sts(store))
    ref = created.metadata.controller_ref()
    assert ref is not None and ref.uid == sts(store).metadata.uid and ref.block_owner_deletion


def test_ordered_ready_scale_up_waits_for_running_and_ready() -> None:
    ctl = StatefulSetController()
    store, _ = reconcile(ctl, scale(BASE, 3))
    assert pod(store, "postgres-0") is not None and pod(store, "postgres-1") is None
    store, _ = reconcile(ctl, store)
    assert pod(store, "postgres-1") is None, "postgres-0 is Pending: no successor yet"
    store = run_ready(store, "postgres-0")
    store, _ = reconcile(ctl, store)
    assert pod(store, "postgres-1") is not None and pod(store, "postgres-2") is None
    assert store.get(ObjectKey("persistentvolumeclaims", "default", "data-postgres-1")) is not None
    store = run_ready(store, "postgres-1", ip="10.244.0.11")
    store, _ = reconcile(ctl, store)
    assert pod(store, "postgres-2") is not None
    store = run_ready(store, "postgres-2", ip="10.244.0.12")
    store, _ = reconcile(ctl, store)
    status = sts(store).status
    assert (status.replicas, status.ready_replicas, status.available_replicas) == (3, 3, 3)
    assert status.current_revision == status.update_revision == revision_name(sts(store))
    assert status.observed_generation == sts(store).metadata.generation


def _three_ready() -> Store:
    ctl = StatefulSetController()
    store = scale(BASE, 3)
    for i in range(3):
        store, _ = reconcile(ctl, store)
        store = run_ready(store, f"postgres-{i}", ip=f"10.244.0.{10 + i}")
    return store


def test_scale_down_from_the_top_one_at_a_time() -> None:
    ctl = StatefulSetController()
    store = scale(_three_ready(), 1)
    store, _ = reconcile(ctl, store)
    top = pod(store, "postgres-2")
    assert top is not None and top.metadata.deletion_timestamp is not None
    assert pod(store, "postgres-1") is not None and pod(store, "postgres-1").metadata.deletion_timestamp is None  # type: ignore[union-attr]
    store, requests = reconcile(ctl, store)
    assert not [r for r in requests if r.verb == "delete"], "waits for postgres-2 to finish terminating"
    store = finish_termination(store, "postgres-2")
    store, _ = reconcile(ctl, store)
    assert pod(store, "postgres-1").metadata.deletion_timestamp is not None  # type: ignore[union-attr]
    assert pod(store, "postgres-0").metadata.deletion_timestamp is None  # type: ignore[union-attr]


def test_rolling_update_deletes_the_highest_outdated_pod_first() -> None:
    ctl = StatefulSetController()
    store = _three_ready()
    current = sts(store)
    template = current.spec.template
    new_template = attrs.evolve(template, metadata=attrs.evolve(
        template.metadata, annotations={"restartedAt": "1"}))
    store = ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        current, spec=attrs.evolve(current.spec, template=new_template))))
    assert revision_name(sts(store)) != revision_name(current)
    store, _ = reconcile(ctl, store)
    assert pod(store, "postgres-2").metadata.deletion_timestamp is not None  # type: ignore[union-attr]
    assert pod(store, "postgres-1").metadata.deletion_timestamp is None  # type: ignore[union-attr]
    store = finish_termination(store, "postgres-2")
    store, _ = reconcile(ctl, store)
    replaced = pod(store, "postgres-2")
    assert replaced is not None and replaced.metadata.labels[REVISION_LABEL] == revision_name(sts(store))
    assert pod(store, "postgres-1").metadata.deletion_timestamp is None  # type: ignore[union-attr]


def _terminating_on_lost_node() -> tuple[Store, str]:
    """postgres-0 runs on worker-3; worker-3 becomes unreachable and the pod is evicted
    (graceful delete), but no kubelet confirms the kill."""
    store, _ = reconcile(StatefulSetController(), BASE)
    store = run_ready(store, "postgres-0")
    old = pod(store, "postgres-0")
    assert old is not None
    store = ok(store, Request(verb="delete", user=ADMIN, resource="pods", namespace="default", name="postgres-0"))
    return store, old.metadata.uid


def test_terminating_pod_on_unreachable_node_is_not_replaced() -> None:
    store, uid = _terminating_on_lost_node()
    for _ in range(3):
        store, requests = reconcile(StatefulSetController(), store)
        assert not [r for r in requests if r.verb in ("create", "delete")]
    stuck = pod(store, "postgres-0")
    assert stuck is not None and stuck.metadata.uid == uid and stuck.metadata.deletion_timestamp is not None


def test_split_brain_variant_replaces_the_pod_before_its_kill_is_confirmed() -> None:
    store, uid = _terminating_on_lost_node()
    store, requests = reconcile(StatefulSetController(replace_terminating_pods=True), store)
    assert [(r.verb, r.grace_period_seconds, r.precondition_uid) for r in requests if r.verb == "delete"] == [
        ("delete", 0, uid)]
    replacement = pod(store, "postgres-0")
    assert replacement is not None and replacement.metadata.uid != uid
    assert replacement.metadata.deletion_timestamp is None
    # The old pod was bound to worker-3 and no kubelet confirmed its kill: its container still
    # runs there while the replacement, using the same claim, can be scheduled elsewhere.
    claim = {v.name: v for v in replacement.spec.volumes}["data"].persistent_volume_claim
    assert claim is not None and claim.claim_name == "data-postgres-0"
    store = run_ready(store, "postgres-0", node="worker-1", ip="10.244.1.10")
    assert pod(store, "postgres-0").spec.node_name == "worker-1"  # type: ignore[union-attr]


def test_out_of_service_taint_lets_podgc_release_the_identity() -> None:
    store, uid = _terminating_on_lost_node()
    node = store.get(ObjectKey("nodes", "", "worker-3"))
    assert isinstance(node, Node)
    not_ready = Condition(type="Ready", status="Unknown", last_transition_time=1)
    taint = Taint(key="node.kubernetes.io/out-of-service", value="nodeshutdown", effect="NoExecute")
    node = attrs.evolve(node, spec=attrs.evolve(node.spec, taints=(*node.spec.taints, taint)),
                        status=attrs.evolve(node.status, conditions=set_condition(node.status.conditions, not_ready)))
    store = ok(store, Request(verb="update", user=ADMIN, obj=node))
    store = ok(store, Request(verb="update-status", user=ADMIN, obj=attrs.evolve(node, metadata=attrs.evolve(
        node.metadata, resource_version=""))))
    gc = PodGCController()
    assert "default/postgres-0" in gc.keys_for(store.get(ObjectKey("nodes", "", "worker-3")), store)  # type: ignore[arg-type]
    store, requests = reconcile(gc, store, "default/postgres-0")
    assert [r.verb for r in requests] == ["patch-status", "delete"]
    assert pod(store, "postgres-0") is None
    store, _ = reconcile(StatefulSetController(), store)
    replacement = pod(store, "postgres-0")
    assert replacement is not None and replacement.metadata.uid != uid


def test_parent_and_ordinal() -> None:
    assert parent_and_ordinal("postgres-12") == ("postgres", 12)
    assert parent_and_ordinal("my-db-0") == ("my-db", 0)
    assert parent_and_ordinal("postgres") == ("", -1)


def test_keys_for_pods_name_their_set() -> None:
    store, _ = reconcile(StatefulSetController(), BASE)
    created = pod(store, "postgres-0")
    assert created is not None
    assert tuple(StatefulSetController().keys_for(created, store)) == (KEY,)
    assert tuple(StatefulSetController().keys_for(sts(store), store)) == (KEY,)


# -- spec.ordinals.start (GA in v1.31; stateful_set_utils.go getStartOrdinal, getEndOrdinal,
# podInOrdinalRange; stateful_set_control.go updateStatefulSet). Trial 5 finding M6: the field was
# dropped, so the first pod was postgres-0 whatever the start.


def with_spec(store: Store, **fields: object) -> Store:
    current = sts(store)
    return ok(store, Request(verb="update", user=ADMIN, obj=attrs.evolve(
        current, spec=attrs.evolve(current.spec, **fields))))


def test_the_first_pod_and_claim_take_the_start_ordinal() -> None:
    store, _ = reconcile(StatefulSetController(), with_spec(BASE, ordinals=StatefulSetOrdinals(start=5)))
    created = pod(store, "postgres-5")
    assert created is not None and pod(store, "postgres-0") is None
    assert created.metadata.labels["apps.kubernetes.io/pod-index"] == "5"
    assert store.get(ObjectKey("persistentvolumeclaims", "default", "data-postgres-5")) is not None


def test_moving_the_start_condemns_the_pods_below_it_highest_first() -> None:
    ctl = StatefulSetController()
    store = with_spec(BASE, replicas=2)
    for i in range(2):
        store, _ = reconcile(ctl, store)
        store = run_ready(store, f"postgres-{i}", ip=f"10.244.0.{10 + i}")
    store = with_spec(store, ordinals=StatefulSetOrdinals(start=1))
    store, _ = reconcile(ctl, store)
    created = pod(store, "postgres-2")
    assert created is not None, "postgres-1 stays (in range 1..2); postgres-2 is created first (ordered)"
    store = run_ready(store, "postgres-2", ip="10.244.0.12")
    store, _ = reconcile(ctl, store)
    old = pod(store, "postgres-0")
    assert old is not None and old.metadata.deletion_timestamp is not None
    assert pod(store, "postgres-1").metadata.deletion_timestamp is None  # type: ignore[union-attr]
    store = finish_termination(store, "postgres-0")
    store, _ = reconcile(ctl, store)
    assert sts(store).status.replicas == 2


def test_partition_counts_from_the_first_replica() -> None:
    """With start 3, replicas 2 and partition 1, only the replica at index 1 (postgres-4) is
    updated: upstream compares the partition with the index into its replicas slice."""
    ctl = StatefulSetController()
    store = with_spec(BASE, replicas=2, ordinals=StatefulSetOrdinals(start=3))
    for i in (3, 4):
        store, _ = reconcile(ctl, store)
        store = run_ready(store, f"postgres-{i}", ip=f"10.244.0.{10 + i}")
    current = sts(store)
    template = current.spec.template
    rolling = StatefulSetUpdateStrategy(type="RollingUpdate", rolling_update=RollingUpdateStatefulSetStrategy(
        partition=1))
    store = with_spec(store, update_strategy=rolling, template=attrs.evolve(
        template, metadata=attrs.evolve(template.metadata, annotations={"restartedAt": "1"})))
    store, _ = reconcile(ctl, store)
    assert pod(store, "postgres-4").metadata.deletion_timestamp is not None  # type: ignore[union-attr]
    store = finish_termination(store, "postgres-4")
    store, _ = reconcile(ctl, store)
    store = run_ready(store, "postgres-4", ip="10.244.0.14")
    store, requests = reconcile(ctl, store)
    assert pod(store, "postgres-4").metadata.labels[REVISION_LABEL] == revision_name(sts(store))  # type: ignore[union-attr]
    assert pod(store, "postgres-3").metadata.deletion_timestamp is None  # type: ignore[union-attr]
    assert not [r for r in requests if r.verb == "delete"]


def test_ordinals_decode_encode_and_validate() -> None:
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"ordinals": {"start": 5}, "selector": {"matchLabels": {"a": "b"}}, "serviceName": "web",
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    obj = decode_object(body)
    assert encode_object(obj)["spec"]["ordinals"] == {"start": 5}
    bad = {**body, "spec": {**body["spec"], "ordinals": {"start": -1}}}
    _, response = API.send(BASE, Request(verb="create", user=ADMIN, obj=decode_object(bad)))
    assert response.code == 422
    assert "spec.ordinals.start: Invalid value: -1: must be greater than or equal to 0" in response.message


@pytest.mark.parametrize("start", [0, 7])
def test_ordinals_may_change_on_update(start: int) -> None:
    store = with_spec(BASE, ordinals=StatefulSetOrdinals(start=start))
    assert sts(store).spec.ordinals == StatefulSetOrdinals(start=start)
