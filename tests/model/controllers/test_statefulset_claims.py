"""The StatefulSet controller's claims and deletes against upstream's `stateful_pod_control.go`:
createPersistentVolumeClaims creates every absent claim and returns an aggregate error when one is
being deleted (the sync is retried); PodClaimIsStale returns `true, nil` (the sync ends, nothing
retries it: `stale_claim_wait`); DeletePod deletes by name with default options (no UID
precondition; the sts-split-brain variant's force delete keeps its own)."""

from __future__ import annotations

from pathlib import Path

from api_harness import feastflow

from kubeprop.model.api.objects import ObjectKey, Pod, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.controllers.statefulset import StatefulSetController
from kubeprop.model.scenario.load import ADMIN, load_scenario

API = feastflow()
STALE_CLAIM = Path(__file__).parent.parent / "data" / "resync" / "sts-stale-claim.yaml"


def _two_claim_set(store: Store) -> Store:
    """A set `kv2` with two claim templates, `data` and `logs`, and data-kv2-0 being deleted (a
    finalizer holds it)."""
    template = {"metadata": {"labels": {"app": "kv2"}},
                "spec": {"containers": [{"name": "kv", "image": "kv:1"}]}}
    claims = [{"metadata": {"name": n}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                 "resources": {"requests": {"storage": "1Gi"}}}}
              for n in ("data", "logs")]
    sts = decode_object({"apiVersion": "apps/v1", "kind": "StatefulSet",
                         "metadata": {"name": "kv2", "namespace": "default"},
                         "spec": {"serviceName": "kv2", "replicas": 1, "selector": {"matchLabels": {"app": "kv2"}},
                                  "template": template, "volumeClaimTemplates": claims}})
    held = decode_object({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                          "metadata": {"name": "data-kv2-0", "namespace": "default",
                                       "finalizers": ["example.com/hold"]},
                          "spec": claims[0]["spec"]})
    store = API.ok(store, Request(verb="create", user=ADMIN, obj=sts))
    store = API.ok(store, Request(verb="create", user=ADMIN, obj=held))
    return API.ok(store, Request(verb="delete", user=ADMIN, resource="persistentvolumeclaims", namespace="default",
                                 name="data-kv2-0"))


def test_a_claim_being_deleted_stops_the_pod_but_its_sibling_claims_are_created() -> None:
    """createPersistentVolumeClaims goes on past the claim being deleted (logs-kv2-0 is created),
    then returns its aggregate error: no pod, and the key is requeued (F4 of audit20a)."""
    store = _two_claim_set(API.base)
    held = store.get(ObjectKey("persistentvolumeclaims", "default", "data-kv2-0"))
    assert held is not None and held.metadata.deletion_timestamp is not None
    decision = StatefulSetController().reconcile(store, "default/kv2", None, 1)
    created = [(r.verb, type(r.obj).__name__, r.obj.metadata.name) for r in decision.requests
               if r.verb == "create" and r.obj is not None]
    assert created == [("create", "PersistentVolumeClaim", "logs-kv2-0")]
    assert decision.requeue
    assert not StatefulSetController().stale_claim_wait(store, "default/kv2", 1)


def test_pod_deletes_go_by_name_without_a_uid_precondition() -> None:
    """DeletePod: `Delete(ctx, pod.Name, metav1.DeleteOptions{})` (F2 of audit20a): a Failed pod's
    delete names no UID (the sts-split-brain variant's force delete keeps its own: test_statefulset.py)."""
    store, _ = API.reconcile(StatefulSetController(), API.base, "default/postgres", 1)
    pod = store.get(ObjectKey("pods", "default", "postgres-0"))
    assert isinstance(pod, Pod)
    failed = pod.__class__(metadata=pod.metadata, spec=pod.spec, status=pod.status.__class__(phase="Failed"))
    store = API.ok(store, Request(verb="update-status", user=ADMIN, obj=failed))
    decision = StatefulSetController().reconcile(store, "default/postgres", None, 2)
    deletes = [r for r in decision.requests if r.verb == "delete"]
    assert [(r.name, r.precondition_uid, r.grace_period_seconds) for r in deletes] == [("postgres-0", None, None)]


def test_a_stale_claim_ends_the_sync_without_a_requeue() -> None:
    """PodClaimIsStale (`true, nil`): data-kv-0 names an earlier kv-0, so the sync creates nothing
    and is not requeued (`stale_claim_wait`); once the claim is gone a sync creates claim and pod."""
    model = build_model(load_scenario(STALE_CLAIM))
    store = initial_state(model).store
    controller = StatefulSetController()
    decision = controller.reconcile(store, "default/kv", None, 0)
    assert not [r for r in decision.requests if r.verb == "create"] and not decision.requeue
    assert controller.stale_claim_wait(store, "default/kv", 0)
    deleting = API.ok(store, Request(verb="delete", user=ADMIN, resource="persistentvolumeclaims",
                                     namespace="default", name="data-kv-0"))
    assert controller.stale_claim_wait(deleting, "default/kv", 0)  # still stale while pvc-protection holds it
    gone = API.ok(deleting, Request(verb="patch", user=ADMIN, resource="persistentvolumeclaims", namespace="default",
                                    name="data-kv-0", patch={"metadata": {"finalizers": None}}))
    assert gone.get(ObjectKey("persistentvolumeclaims", "default", "data-kv-0")) is None
    after = controller.reconcile(gone, "default/kv", None, 0)
    assert [type(r.obj).__name__ for r in after.requests if r.verb == "create"] == ["PersistentVolumeClaim", "Pod"]
    assert not controller.stale_claim_wait(gone, "default/kv", 0)
