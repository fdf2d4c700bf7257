"""A GET of a namespaced kind without a namespace (`kubeprop.model.api.server._get`): upstream's
API server has no route `/{resource}/{name}` for a namespaced resource (installer.go registers the
cluster-wide path for LIST and WATCH only), so it is a 404 — the model answered it from `default`
(audit21a: the garbage collector's GET for a cluster-scoped dependent's namespaced owner found
`default`'s object). A namespaced write without a namespace still goes to `default`; a LIST
without one lists every namespace."""

from __future__ import annotations

from api_harness import feastflow

from kubeprop.model.api.core import ConfigMap
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.server import Request
from kubeprop.model.scenario.load import ADMIN

API = feastflow()


def test_a_get_of_a_namespaced_kind_without_a_namespace_is_a_404() -> None:
    store = API.ok(API.base, Request(verb="create", user=ADMIN, obj=ConfigMap(metadata=ObjectMeta(name="anchor"))))
    named = API.handle(store, Request(verb="get", user=ADMIN, resource="configmaps", namespace="default",
                                      name="anchor"), 1).response
    assert named.ok and named.obj is not None and named.obj.metadata.namespace == "default"
    bare = API.handle(store, Request(verb="get", user=ADMIN, resource="configmaps", name="anchor"), 1).response
    assert (bare.code, bare.message) == (404, "the server could not find the requested resource")
    everywhere = API.handle(store, Request(verb="list", user=ADMIN, resource="configmaps"), 1).response
    assert "anchor" in {o.metadata.name for o in everywhere.items}


def test_a_get_of_a_cluster_scoped_kind_ignores_a_namespace() -> None:
    response = API.handle(API.base, Request(verb="get", user=ADMIN, resource="namespaces", namespace="x",
                                            name="default"), 1).response
    assert response.ok
