"""The RuntimeClass admission plug-in's Validate (`kubeprop.model.api.admission.RUNTIME_CLASS`)
against upstream `plugin/pkg/admission/runtimeclass/admission.go` validateOverhead.

Trial 22 finding 2: a pod with `spec.overhead` and no `runtimeClassName` was admitted and its
overhead counted by the scheduler; upstream refuses it at create (403 `pod rejected: Pod Overhead
set without corresponding RuntimeClass defined Overhead`).
"""

from __future__ import annotations

from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.admission import DEFAULT_PLUGINS
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Pod, PodSpec
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store


def _pod(name: str, overhead: dict[str, str] | None = None) -> Pod:
    spec = PodSpec(containers=(Container(name="main", image="app:1"),),
                   overhead={k: Quantity.parse(v) for k, v in (overhead or {}).items()})
    return Pod(metadata=ObjectMeta(name=name, namespace="default"), spec=spec)


def _create(api: ApiHarness, store: Store, obj: Pod) -> tuple[Store, Response]:
    return api.send(store, Request(verb="create", user="admin", obj=obj))


def test_the_default_plugins_run_in_upstreams_order() -> None:
    """AllOrderedPlugins (`pkg/kubeapiserver/options/plugins.go`), restricted to those modelled."""
    assert [p.name for p in DEFAULT_PLUGINS] == [
        "NamespaceLifecycle", "ServiceAccount", "Priority", "DefaultTolerationSeconds", "DefaultStorageClass",
        "StorageObjectInUseProtection", "RuntimeClass", "DefaultIngressClass"]


def test_a_pod_with_overhead_and_no_runtime_class_is_forbidden() -> None:
    api = ApiHarness(bare_scenario())
    store, response = _create(api, api.base, _pod("web", {"cpu": "100m"}))
    assert response.code == 403 and response.reason == "Forbidden"
    assert response.message == ('pods "web" is forbidden: pod rejected: Pod Overhead set without '
                                'corresponding RuntimeClass defined Overhead')
    assert not [p for p in store.list("pods", "default") if p.metadata.name == "web"]


def test_a_pod_without_overhead_is_created() -> None:
    api = ApiHarness(bare_scenario())
    _, response = _create(api, api.base, _pod("web"))
    assert response.ok, response
