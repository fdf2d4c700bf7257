"""An eviction in a Terminating namespace (audit14: it went through, deleting the pod). Upstream the
Eviction create passes NamespaceLifecycle's Admit first (`staging/src/k8s.io/apiserver/pkg/admission/
plugin/namespace/lifecycle/admission.go`): 403 with the NamespaceTerminating cause, whatever the pod
and its budgets; kubectl drain (`staging/src/k8s.io/kubectl/pkg/drain/drain.go` evictPods) then
waits for a pod being deleted and retries any other, where any other 403 fails the drain."""

from __future__ import annotations

from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.admission import namespace_terminating
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Namespace, ObjectKey, Pod, PodSpec
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.maintenance import Drain, _after_eviction
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap

TERMINATING = ('pods "web" is forbidden: unable to create new content in namespace team because it is being '
               "terminated")


def _terminating_with_pod(api: ApiHarness) -> Store:
    store = api.ok(api.base, Request(verb="create", user="admin", obj=Namespace(metadata=ObjectMeta(name="team"))))
    pod = Pod(metadata=ObjectMeta(name="web", namespace="team"),
              spec=PodSpec(containers=(Container(name="main", image="app:1"),)))
    store = api.ok(store, Request(verb="create", user="admin", obj=pod))
    return api.ok(store, Request(verb="delete", user="admin", resource="namespaces", name="team"))


def test_an_eviction_in_a_terminating_namespace_is_forbidden() -> None:
    """Failed before: 201, and the pod was deleted."""
    api = ApiHarness(bare_scenario())
    store = _terminating_with_pod(api)
    after, response = api.send(store, Request(verb="evict", user="admin", resource="pods", namespace="team",
                                              name="web"))
    assert (response.code, response.message) == (403, TERMINATING)
    assert namespace_terminating(response.code, response.message)
    assert after.get(ObjectKey("pods", "team", "web")) == store.get(ObjectKey("pods", "team", "web"))


def test_admission_comes_before_the_pod_lookup() -> None:
    """Admit runs before the REST Create: a missing pod of a Terminating namespace is the 403 too,
    and a missing namespace is its 404, not the pod's."""
    api = ApiHarness(bare_scenario())
    store = _terminating_with_pod(api)
    _, response = api.send(store, Request(verb="evict", user="admin", resource="pods", namespace="team", name="x"))
    assert response.code == 403
    _, response = api.send(api.base, Request(verb="evict", user="admin", resource="pods", namespace="nope",
                                             name="web"))
    assert (response.code, response.message) == (404, 'namespaces "nope" not found')


def test_kubectl_drain_waits_for_a_deleted_pod_and_retries_a_live_one() -> None:
    """drain.go: the 403 with the NamespaceTerminating cause is a retry (the pod not deleted) or a
    wait (the pod being deleted), not the failure any other 403 is."""
    api = ApiHarness(bare_scenario())
    store = _terminating_with_pod(api)
    _, response = api.send(store, Request(verb="evict", user="admin", resource="pods", namespace="team", name="web"))
    model = build_model(bare_scenario())
    state = initial_state(model)
    pod = store.get(ObjectKey("pods", "team", "web"))
    assert isinstance(pod, Pod)
    drain = Drain(node="w1", pending=FrozenMap({"team/web": 0}))
    retried = _after_eviction(model, state, drain, "team/web", pod, response)
    assert retried is not None and retried.pending["team/web"] > state.clock and not retried.waiting
    deleted = evolve(pod, metadata=evolve(pod.metadata, deletion_timestamp=1))
    waiting = _after_eviction(model, state, drain, "team/web", deleted, response)
    assert waiting is not None and not waiting.pending and waiting.waiting["team/web"] == pod.metadata.uid
    other = evolve(response, message='pods "web" is forbidden: User "u" cannot create resource')
    assert _after_eviction(model, state, drain, "team/web", pod, other) is None
