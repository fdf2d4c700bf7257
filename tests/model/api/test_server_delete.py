"""DELETE and deletion during update, against upstream's generic registry.

Sources: `staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go` (Store.Delete,
ShouldDeleteDuringUpdate, markAsDeleting), `staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go`
(BeforeDelete), `pkg/registry/core/pod/strategy.go` (CheckGracefulDelete),
`pkg/registry/core/namespace/storage/storage.go` (Delete).
"""

from __future__ import annotations

import attrs
import pytest
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ConfigMap, Container, Namespace, ObjectKey, Pod, PodSpec
from kubeprop.model.api.server import Request, Result, handle
from kubeprop.model.api.server_delete import before_delete, deletion_finalizers, should_delete_during_update
from kubeprop.model.api.store import Store

API = ApiHarness(bare_scenario())
CONFIG, BASE = API.config, API.base
KEY = ObjectKey("pods", "default", "p")


def send(store: Store, request: Request, now: int = 100) -> Result:
    return handle(store, request, CONFIG, now)


def create(store: Store, obj: object, now: int = 100) -> Result:
    return send(store, Request(verb="create", user="admin", obj=obj), now)  # type: ignore[arg-type]


def pod(node: str = "") -> Pod:
    """A pod `p` (terminationGracePeriodSeconds defaults to 30), bound to `node` if given."""
    return Pod(metadata=ObjectMeta(name="p", namespace="default"),
               spec=PodSpec(containers=(Container(name="app", image="app:1.0"),), node_name=node))


def _delete(store: Store, now: int, grace: int | None = None, policy: str | None = None,
            resource: str = "pods", name: str = "p", namespace: str = "default") -> tuple[Store, list[str]]:
    result = send(store, Request(verb="delete", user="admin", resource=resource, namespace=namespace, name=name,
                                 grace_period_seconds=grace, propagation_policy=policy), now)
    assert result.response.code == 200, result.response
    return result.store, [e.type for e in result.events]


def _terminating(grace: int = 30, now: int = 200) -> Store:
    """A bound pod deleted with `grace` seconds at `now`."""
    store = create(BASE, pod(node="worker-1")).store
    store, events = _delete(store, now, grace)
    assert events == ["MODIFIED"]
    return store


def _stored(store: Store) -> Pod:
    obj = store.get(KEY)
    assert isinstance(obj, Pod)
    return obj


def test_status_update_of_a_gracefully_terminating_pod_keeps_it() -> None:
    """Issue 12: the kubelet's status write after a grace-30 delete must not remove the pod."""
    store = _terminating(30)
    current = _stored(store)
    running = attrs.evolve(current, status=attrs.evolve(current.status, phase="Running"))
    result = send(store, Request(verb="update-status", user="admin", obj=running), now=205)
    assert result.response.code == 200
    assert [e.type for e in result.events] == ["MODIFIED"]
    kept = _stored(result.store)
    assert kept.status.phase == "Running" and kept.metadata.deletion_timestamp == 230


def test_update_of_a_gracefully_terminating_pod_keeps_it() -> None:
    store = _terminating(30)
    labelled = _stored(store)
    labelled = attrs.evolve(labelled, metadata=attrs.evolve(labelled.metadata, labels=labelled.metadata.labels.set(
        "x", "y")))
    result = send(store, Request(verb="update", user="admin", obj=labelled), now=205)
    assert [e.type for e in result.events] == ["MODIFIED"]
    assert result.store.get(KEY) is not None


def test_update_removes_an_object_being_deleted_with_grace_zero_once_finalizers_are_gone() -> None:
    cm = ConfigMap(metadata=ObjectMeta(name="c", namespace="default", finalizers=("example.com/hold",)))
    store = create(BASE, cm).store
    store, events = _delete(store, 100, resource="configmaps", name="c")
    assert events == ["MODIFIED"]
    held = store.get(ObjectKey("configmaps", "default", "c"))
    assert held is not None and held.metadata.deletion_grace_period_seconds == 0  # markAsDeleting
    released = attrs.evolve(held, metadata=attrs.evolve(held.metadata, finalizers=()))
    result = send(store, Request(verb="update", user="admin", obj=released))
    assert [e.type for e in result.events] == ["DELETED"]


def test_should_delete_during_update_reads_the_stored_object() -> None:
    base = pod(node="worker-1")
    old = attrs.evolve(base, metadata=attrs.evolve(base.metadata, deletion_timestamp=10,
                                                   deletion_grace_period_seconds=30))
    assert not should_delete_during_update(old, old)
    zero = attrs.evolve(old, metadata=attrs.evolve(old.metadata, deletion_grace_period_seconds=0))
    assert should_delete_during_update(zero, zero)
    held = attrs.evolve(zero, metadata=attrs.evolve(zero.metadata, finalizers=("a/b",)))
    assert not should_delete_during_update(held, zero)
    assert not should_delete_during_update(base, base)


@pytest.mark.parametrize(("grace", "now", "deadline", "period"), [
    (10, 205, 210, 10),   # 230 - 30 + 10
    (1, 205, 205, 1),     # 230 - 30 + 1 = 201 is in the past: clamped to now, grace 1
    (0, 205, 205, 0),     # 200 is in the past: clamped to now, grace 0
])
def test_shortening_the_grace_period_follows_before_delete(grace: int, now: int, deadline: int, period: int) -> None:
    store = _terminating(30, now=200)
    decision = before_delete(_stored(store), grace, now)
    assert decision.graceful and not decision.pending
    assert (decision.meta.deletion_timestamp, decision.meta.deletion_grace_period_seconds) == (deadline, period)


def test_a_shorter_grace_delete_moves_the_deadline_and_keeps_the_pod() -> None:
    store, events = _delete(_terminating(30, now=200), 205, grace=10)
    assert events == ["MODIFIED"]
    p = _stored(store)
    assert (p.metadata.deletion_timestamp, p.metadata.deletion_grace_period_seconds) == (210, 10)


@pytest.mark.parametrize("grace", [None, 30, 45])
def test_a_longer_or_unset_grace_delete_is_pending_and_writes_nothing(grace: int | None) -> None:
    store = _terminating(30)
    after, events = _delete(store, 205, grace=grace)
    assert events == [] and after == store


def test_grace_zero_delete_of_a_terminating_pod_is_modified_then_deleted() -> None:
    store, events = _delete(_terminating(30, now=200), 205, grace=0)
    assert events == ["MODIFIED", "DELETED"]
    modified, deleted = store.events[-2:]
    assert modified.object.metadata.deletion_grace_period_seconds == 0
    assert modified.object.metadata.deletion_timestamp == 205
    assert deleted.object.metadata.deletion_grace_period_seconds == 0
    assert store.get(KEY) is None


def test_unbound_pod_delete_is_graceful_with_zero_grace() -> None:
    _, events = _delete(create(BASE, pod()).store, 100)
    assert events == ["MODIFIED", "DELETED"]


def test_non_pod_without_finalizers_is_removed_at_once() -> None:
    store = create(BASE, ConfigMap(metadata=ObjectMeta(name="c", namespace="default"))).store
    _, events = _delete(store, 100, resource="configmaps", name="c")
    assert events == ["DELETED"]


@pytest.mark.parametrize(("finalizers", "policy", "want"), [
    ((), None, (False, ())),
    ((), "Foreground", (True, ("foregroundDeletion",))),
    ((), "Orphan", (True, ("orphan",))),
    (("foregroundDeletion",), "Background", (True, ())),
    (("a/b", "orphan"), None, (False, ("a/b", "orphan"))),
    (("a/b", "orphan"), "Foreground", (True, ("a/b", "foregroundDeletion"))),
])
def test_deletion_finalizers_follow_the_policy(finalizers: tuple[str, ...], policy: str | None,
                                               want: tuple[bool, tuple[str, ...]]) -> None:
    assert deletion_finalizers(finalizers, policy) == want


def test_namespace_first_delete_only_marks_it_terminating() -> None:
    store = create(BASE, Namespace(metadata=ObjectMeta(name="team"))).store
    store, events = _delete(store, 100, resource="namespaces", name="team", namespace="")
    ns = store.get(ObjectKey("namespaces", "", "team"))
    assert events == ["MODIFIED"] and isinstance(ns, Namespace)
    assert ns.status.phase == "Terminating" and ns.metadata.deletion_timestamp == 100
    assert ns.metadata.finalizers == () and ns.spec.finalizers == ("kubernetes",)
    again, events = _delete(store, 110, resource="namespaces", name="team", namespace="")
    assert events == [] and again == store
