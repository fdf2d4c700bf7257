"""Ingress, IngressClass and NetworkPolicy (`networking.k8s.io/v1`), stored as data: decoding,
encoding, RBAC for the applying user, the status subresource and generation."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.networking import IngressClassSpec, IngressStatus, NetworkPolicySpec
from kubeprop.model.api.objects import (
    Ingress,
    IngressClass,
    NetworkPolicy,
    ObjectKey,
    decode_object,
    encode_object,
    is_stored_only,
)
from kubeprop.model.api.server import Request
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.schema import RoleGrant, UserDecl

DEVELOPER = UserDecl(name="developer", roles=(RoleGrant(namespace="default", cluster_role="edit"),))
API = ApiHarness(bare_scenario(DEVELOPER))

INGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
           "metadata": {"name": "web", "namespace": "default"},
           "spec": {"ingressClassName": "nginx", "rules": [{"host": "web.example", "http": {"paths": [
               {"path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "web", "port": {"number": 80}}}}]}}]}}
POLICY = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
          "metadata": {"name": "deny", "namespace": "default"},
          "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                   "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}}
CLASS = {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"},
         "spec": {"controller": "k8s.io/ingress-nginx"}}


@pytest.mark.parametrize("body", [INGRESS, POLICY, CLASS])
def test_round_trip(body: dict[str, Any]) -> None:
    obj = decode_object(body)
    assert is_stored_only(obj)
    assert encode_object(obj) == body


@pytest.mark.parametrize(("body", "user", "code"), [
    (INGRESS, "developer", 201), (POLICY, "developer", 201), (CLASS, "developer", 403), (CLASS, "admin", 201),
])
def test_rbac_applies_to_the_applying_user(body: dict[str, Any], user: str, code: int) -> None:
    _, response = API.send(API.base, Request(verb="create", user=user, obj=decode_object(body)))
    assert response.code == code, response.message


def test_network_policy_egress_rules_default_both_policy_types() -> None:
    store = API.ok(API.base, Request(verb="create", user="developer", obj=decode_object(POLICY)))
    stored = store.get(ObjectKey("networkpolicies.networking.k8s.io", "default", "deny"))
    assert isinstance(stored, NetworkPolicy)
    assert stored.spec.policy_types == ("Ingress", "Egress")
    written = decode_object(POLICY)
    assert isinstance(written, NetworkPolicy) and isinstance(stored.spec, NetworkPolicySpec)
    assert evolve(stored.spec, policy_types=()) == written.spec


def test_ingress_status_is_a_subresource_and_spec_changes_bump_generation() -> None:
    store = API.ok(API.base, Request(verb="create", user="admin", obj=decode_object(INGRESS)))
    key = ObjectKey("ingresses.networking.k8s.io", "default", "web")
    stored = store.get(key)
    assert isinstance(stored, Ingress) and stored.metadata.generation == 1
    balancer = IngressStatus(load_balancer=FrozenMap({"ingress": ({"ip": "192.0.2.1"},)}))
    store = API.ok(store, Request(verb="update-status", user="admin", obj=evolve(stored, status=balancer)))
    updated = store.get(key)
    assert isinstance(updated, Ingress) and updated.status == balancer and updated.metadata.generation == 1
    renamed = evolve(updated, spec=evolve(updated.spec, ingress_class_name="other"))
    store = API.ok(store, Request(verb="update", user="admin", obj=renamed))
    final = store.get(key)
    assert isinstance(final, Ingress) and final.metadata.generation == 2 and final.status == balancer


def test_network_policy_has_no_status_subresource() -> None:
    store = API.ok(API.base, Request(verb="create", user="admin", obj=decode_object(POLICY)))
    stored = store.get(ObjectKey("networkpolicies.networking.k8s.io", "default", "deny"))
    _, response = API.send(store, Request(verb="update-status", user="admin", obj=stored))
    assert response.code == 404


def test_ingress_class_controller_is_immutable() -> None:
    store = API.ok(API.base, Request(verb="create", user="admin", obj=decode_object(CLASS)))
    stored = store.get(ObjectKey("ingressclasses.networking.k8s.io", "", "nginx"))
    assert isinstance(stored, IngressClass)
    changed = evolve(stored, spec=IngressClassSpec(controller="example.com/other"))
    _, response = API.send(store, Request(verb="update", user="admin", obj=changed))
    assert response.code == 422 and "spec.controller: Invalid value" in response.message
    assert "field is immutable" in response.message


def _default_class(name: str) -> IngressClass:
    body = {**CLASS, "metadata": {"name": name, "annotations": {"ingressclass.kubernetes.io/is-default-class": "true"}}}
    obj = decode_object(body)
    assert isinstance(obj, IngressClass)
    return obj


def test_default_ingress_class_fills_in_the_newest_default_class() -> None:
    store = API.ok(API.base, Request(verb="create", user="admin", obj=_default_class("alpha")), now=1)
    store = API.ok(store, Request(verb="create", user="admin", obj=_default_class("beta")), now=5)
    unnamed = decode_object({**INGRESS, "spec": {"rules": INGRESS["spec"]["rules"]}})
    annotated = decode_object({**INGRESS, "metadata": {"name": "old-style", "namespace": "default", "annotations": {
        "kubernetes.io/ingress.class": "nginx"}}, "spec": {"rules": INGRESS["spec"]["rules"]}})
    store = API.ok(store, Request(verb="create", user="admin", obj=unnamed))
    store = API.ok(store, Request(verb="create", user="admin", obj=annotated))
    web = store.get(ObjectKey("ingresses.networking.k8s.io", "default", "web"))
    old_style = store.get(ObjectKey("ingresses.networking.k8s.io", "default", "old-style"))
    assert isinstance(web, Ingress) and web.spec.ingress_class_name == "beta"  # newest, though not first by name
    assert isinstance(old_style, Ingress) and old_style.spec.ingress_class_name is None


def test_without_a_default_class_the_ingress_keeps_no_class() -> None:
    unnamed = decode_object({**INGRESS, "spec": {"rules": INGRESS["spec"]["rules"]}})
    store = API.ok(API.base, Request(verb="create", user="admin", obj=unnamed))
    web = store.get(ObjectKey("ingresses.networking.k8s.io", "default", "web"))
    assert isinstance(web, Ingress) and web.spec.ingress_class_name is None
