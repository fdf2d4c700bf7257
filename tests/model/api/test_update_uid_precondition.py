"""An update carrying a UID is conditional on it (`staging/src/k8s.io/apiserver/pkg/registry/rest/update.go`,
`defaultUpdatedObjectInfo.Preconditions`): a write made from a cached copy of an object that was
since deleted and recreated under the same name is refused with 409 instead of landing on the new
one. Regression: a kubelet whose pod cache still held a deleted StatefulSet pod wrote that pod's
terminal status onto its replacement running on another node (found by the perturbation search on
the correct model, tests/model/data/catalogue/db-failover.yaml)."""

from __future__ import annotations

import attrs
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import ConfigMap, Container, Pod, PodSpec
from kubeprop.model.api.server import Request
from kubeprop.model.frozen import FrozenMap

API = ApiHarness(bare_scenario())


def _pod() -> Pod:
    return Pod(metadata=ObjectMeta(name="db-0", namespace="default"),
               spec=PodSpec(containers=(Container(name="db", image="db:1"),)))


def test_a_status_write_from_a_stale_copy_does_not_land_on_the_recreated_object() -> None:
    store, created = API.send(API.base, Request(verb="create", user="admin", obj=_pod()))
    old = created.obj
    assert isinstance(old, Pod)
    store = API.ok(store, Request(verb="delete", user="admin", resource="pods", namespace="default", name="db-0",
                                  grace_period_seconds=0))
    store, recreated = API.send(store, Request(verb="create", user="admin", obj=_pod()))
    assert isinstance(recreated.obj, Pod) and recreated.obj.metadata.uid != old.metadata.uid
    stale = attrs.evolve(old, metadata=attrs.evolve(old.metadata, resource_version=""),
                         status=attrs.evolve(old.status, phase="Failed"))
    _, refused = API.send(store, Request(verb="update-status", user="admin", obj=stale))
    assert refused.code == 409 and "Precondition failed: UID in precondition" in refused.message
    _, refused = API.send(store, Request(verb="update", user="admin", obj=stale))
    assert refused.code == 409
    fresh = attrs.evolve(recreated.obj, metadata=attrs.evolve(recreated.obj.metadata, resource_version=""),
                         status=attrs.evolve(recreated.obj.status, phase="Running"))
    _, accepted = API.send(store, Request(verb="update-status", user="admin", obj=fresh))
    assert accepted.code == 200


def test_an_update_without_a_uid_is_not_conditional_on_it() -> None:
    store, created = API.send(API.base, Request(verb="create", user="admin", obj=ConfigMap(
        metadata=ObjectMeta(name="c", namespace="default"), data=FrozenMap({"a": "1"}))))
    assert isinstance(created.obj, ConfigMap)
    blank = attrs.evolve(created.obj, metadata=attrs.evolve(created.obj.metadata, uid="", resource_version=""),
                         data=FrozenMap({"a": "2"}))
    _, response = API.send(store, Request(verb="update", user="admin", obj=blank))
    assert response.code == 200 and isinstance(response.obj, ConfigMap)
    assert response.obj.metadata.uid == created.obj.metadata.uid
