"""A namespace being deleted whose spec.finalizers hold another token than `kubernetes`
(`kubeprop.model.controllers.namespace.terminating`). audit21a: upstream's namespace controller
empties it all the same (`Delete` in `pkg/controller/namespace/deletion/namespaced_resources_deleter.go`
returns early only when `finalized`, spec.finalizers empty), and its finalize write leaves the other
token; the model required `kubernetes` and did nothing, so the namespace's content stayed."""

from __future__ import annotations

from api_harness import feastflow

from kubeprop.model.api.core import Namespace, NamespaceSpec
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ConfigMap, ObjectKey
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.namespace import NamespaceController, terminating
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import ADMIN

API = feastflow()
NAMESPACE = ObjectKey("namespaces", "", "team-a")
SETTINGS = ObjectKey("configmaps", "team-a", "settings")


def _held(finalizers: tuple[str, ...]) -> Store:
    """team-a with ConfigMap `settings`, its spec.finalizers set to `finalizers`, then deleted."""
    store = API.ok(API.base, Request(verb="create", user=ADMIN, obj=Namespace(metadata=ObjectMeta(name="team-a"))))
    store = API.ok(store, Request(verb="create", user=ADMIN, obj=ConfigMap(metadata=ObjectMeta(
        name="settings", namespace="team-a"))))
    namespace = store.get(NAMESPACE)
    assert isinstance(namespace, Namespace)
    swapped = evolve(namespace, spec=NamespaceSpec(finalizers),
                     metadata=evolve(namespace.metadata, resource_version=""))
    store = API.ok(store, Request(verb="finalize", user=ADMIN, resource="namespaces", name="team-a", obj=swapped))
    return API.ok(store, Request(verb="delete", user=ADMIN, resource="namespaces", name="team-a"))


def _drive(store: Store, passes: int = 10) -> tuple[Store, list[str]]:
    """Reconcile team-a on an instant cache until a pass sends nothing or asks no requeue."""
    ctl = NamespaceController()
    memory = ctl.initial_memory()
    verbs: list[str] = []
    for now in range(10, 10 + passes):
        decision = ctl.reconcile(store, "team-a", memory, now)
        memory = decision.memory
        for request in decision.requests:
            result = API.handle(store, request, now)
            assert result.response.ok, result.response
            store, memory = result.store, ctl.observe(memory, request, result.response)
            verbs.append(request.verb)
        if not decision.requeue:
            break
    return store, verbs


def test_a_namespace_holding_another_token_is_emptied_and_keeps_that_token() -> None:
    store = _held(("example.com/hold",))
    namespace = store.get(NAMESPACE)
    assert terminating(namespace)
    store, verbs = _drive(store)
    assert "delete" in verbs and verbs[-1] == "finalize"
    assert store.get(SETTINGS) is None
    namespace = store.get(NAMESPACE)
    assert isinstance(namespace, Namespace) and namespace.spec.finalizers == ("example.com/hold",)
    assert namespace.status.phase == "Terminating"
    again, more = _drive(store)
    assert again.revision == store.revision, "the finalize is a no-op write: nothing more happens"
    assert "delete" not in more


def test_a_finalized_namespace_is_left_alone() -> None:
    """spec.finalizers empty (`finalized`): Delete returns before deleteAllContent; only the API
    server's metadata.finalizers keep such a namespace, and nothing of its content is touched."""
    store = API.ok(API.base, Request(verb="create", user=ADMIN, obj=Namespace(metadata=ObjectMeta(
        name="team-a", finalizers=("example.com/meta",)))))
    store = API.ok(store, Request(verb="create", user=ADMIN, obj=ConfigMap(metadata=ObjectMeta(
        name="settings", namespace="team-a"))))
    namespace = store.get(NAMESPACE)
    assert isinstance(namespace, Namespace)
    emptied = evolve(namespace, spec=NamespaceSpec(()), metadata=evolve(namespace.metadata, resource_version=""))
    store = API.ok(store, Request(verb="finalize", user=ADMIN, resource="namespaces", name="team-a", obj=emptied))
    store = API.ok(store, Request(verb="delete", user=ADMIN, resource="namespaces", name="team-a"))
    assert not terminating(store.get(NAMESPACE))
    after, verbs = _drive(store)
    assert verbs == [] and after.get(SETTINGS) is not None
