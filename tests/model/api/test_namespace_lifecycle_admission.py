"""NamespaceLifecycle as upstream runs it: a mutating plug-in (`staging/src/k8s.io/apiserver/pkg/
admission/plugin/namespace/lifecycle/admission.go` Lifecycle.Admit, v1.33; no Validate).

The model ran it as a validating plug-in: after the name was generated (a ReplicaSet's pod refused in
a Terminating namespace was named by its generated name, upstream by its generateName prefix:
`admission.NewForbidden` → extractResourceName), after validation (an invalid object in a missing
or Terminating namespace got the 422, upstream the 404 or 403) and after the later mutating plug-ins'
refusals (ServiceAccount's Admit answered first)."""

from __future__ import annotations

from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.admission import NAMESPACE_LIFECYCLE
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Namespace, ObjectKey, Pod, PodSpec
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store

TERMINATING = "unable to create new content in namespace team because it is being terminated"


def _pod(namespace: str, name: str = "", generate_name: str = "", image: str = "app:1", account: str = "") -> Pod:
    return Pod(metadata=ObjectMeta(name=name, generate_name=generate_name, namespace=namespace),
               spec=PodSpec(containers=(Container(name="main", image=image),), service_account_name=account))


def _create(api: ApiHarness, store: Store, obj: object) -> Response:
    return api.send(store, Request(verb="create", user="admin", obj=obj))[1]  # type: ignore[arg-type]


def _terminating(api: ApiHarness) -> Store:
    """Namespace `team`, deleted: Terminating while its `kubernetes` finalizer stays."""
    store = api.ok(api.base, Request(verb="create", user="admin", obj=Namespace(metadata=ObjectMeta(name="team"))))
    store = api.ok(store, Request(verb="delete", user="admin", resource="namespaces", name="team"))
    namespace = store.get(ObjectKey("namespaces", "", "team"))
    assert namespace is not None and namespace.metadata.deletion_timestamp is not None
    return store


def test_the_plugin_is_mutating_only() -> None:
    assert NAMESPACE_LIFECYCLE.admit is not None
    assert NAMESPACE_LIFECYCLE.validate is None and NAMESPACE_LIFECYCLE.mutate is None


def test_a_generate_name_pod_in_a_terminating_namespace_is_named_by_its_prefix() -> None:
    api = ApiHarness(bare_scenario())
    store = _terminating(api)
    response = _create(api, store, _pod("team", generate_name="web-7d8b-"))
    assert (response.code, response.message) == (403, f'pods "web-7d8b-" is forbidden: {TERMINATING}')


def test_the_refusal_comes_before_validation() -> None:
    """An invalid pod (no image): the 404 of a missing namespace and the 403 of a Terminating one,
    not validation's 422 (`create.go`: Admit, then `BeforeCreate`'s validation)."""
    api = ApiHarness(bare_scenario())
    response = _create(api, api.base, _pod("nope", name="web", image=""))
    assert (response.code, response.message) == (404, 'namespaces "nope" not found')
    response = _create(api, _terminating(api), _pod("team", name="web", image=""))
    assert (response.code, response.message) == (403, f'pods "web" is forbidden: {TERMINATING}')
    assert _create(api, api.base, _pod("default", name="web", image="")).code == 422


def test_the_refusal_comes_before_service_account_admission() -> None:
    """NamespaceLifecycle is first in AllOrderedPlugins: its Admit refuses before ServiceAccount's."""
    api = ApiHarness(bare_scenario())
    response = _create(api, _terminating(api), _pod("team", name="web", account="missing-sa"))
    assert (response.code, response.message) == (403, f'pods "web" is forbidden: {TERMINATING}')


def test_a_namespace_is_still_deleted_and_other_deletes_pass() -> None:
    """Admit on DELETE: only the immortal namespaces are refused (their test is in test_namespace)."""
    api = ApiHarness(bare_scenario())
    store = api.ok(api.base, Request(verb="create", user="admin", obj=_pod("default", name="web")))
    store, response = api.send(store, Request(verb="delete", user="admin", resource="pods", namespace="default",
                                              name="web"))
    assert response.ok, response
