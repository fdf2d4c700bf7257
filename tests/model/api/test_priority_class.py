"""PriorityClass (`scheduling.k8s.io/v1`): decoding, defaults, validation, RBAC and the Priority
admission plug-in (`plugin/pkg/admission/priority/admission.go`) resolving stored classes."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.codec import DecodeError
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, ObjectKey, Pod, PodSpec, PriorityClass, decode_object, encode_object
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.schema import RoleGrant, UserDecl

DEVELOPER = UserDecl(name="developer", roles=(RoleGrant(namespace="default", cluster_role="edit"),))
API = ApiHarness(bare_scenario(DEVELOPER))


def klass(name: str, value: int, **fields: Any) -> PriorityClass:
    return PriorityClass(metadata=ObjectMeta(name=name), value=value, **fields)


def pod(name: str, class_name: str = "", **spec: Any) -> Pod:
    return Pod(metadata=ObjectMeta(name=name, namespace="default"),
               spec=PodSpec(containers=(Container(name="c", image="app:1"),), priority_class_name=class_name, **spec))


def create(store: Store, obj: Any, user: str = "admin") -> tuple[Store, Response]:
    return API.send(store, Request(verb="create", user=user, obj=obj))


def with_classes(*classes: PriorityClass) -> Store:
    store = API.base
    for pc in classes:
        store = API.ok(store, Request(verb="create", user="admin", obj=pc))
    return store


def stored_pod(store: Store, name: str) -> Pod:
    found = store.get(ObjectKey("pods", "default", name))
    assert isinstance(found, Pod)
    return found


def test_decodes_and_encodes_with_upstream_field_names() -> None:
    body = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"},
            "value": 1000, "globalDefault": True, "preemptionPolicy": "Never", "description": "batch"}
    obj = decode_object(body)
    assert obj == klass("high", 1000, global_default=True, preemption_policy="Never", description="batch")
    assert encode_object(obj) == body
    with pytest.raises(DecodeError, match="valid fields are: description, globalDefault, metadata"):
        decode_object({**body, "spec": {}})


def test_create_defaults_preemption_policy_and_is_cluster_scoped() -> None:
    store = with_classes(klass("high", 1000))
    stored = store.get(ObjectKey("priorityclasses.scheduling.k8s.io", "", "high"))
    assert isinstance(stored, PriorityClass)
    assert stored.preemption_policy == "PreemptLowerPriority"
    assert stored.metadata.namespace == ""


@pytest.mark.parametrize(("pc", "message"), [
    (klass("huge", 1_000_000_001),
     "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"),
    (klass("system-mine", 10),
     "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. "
     "error: system-mine is not a known system priority class"),
    (klass("system-cluster-critical", 10),
     "error: value of system-cluster-critical PriorityClass must be 2000000000"),
    (klass("odd", 10, preemption_policy="Sometimes"),
     'preemptionPolicy: Unsupported value: "Sometimes": supported values: "Never", "PreemptLowerPriority"'),
    (klass("Bad_Name", 10), "metadata.name: Invalid value: \"Bad_Name\""),
])
def test_validation_refuses(pc: PriorityClass, message: str) -> None:
    _, response = create(API.base, pc)
    assert response.code == 422
    assert message in response.message


def test_the_highest_user_value_is_accepted() -> None:
    _, response = create(API.base, klass("top", 1_000_000_000))
    assert response.ok, response.message


def test_a_system_class_already_exists() -> None:
    _, response = create(API.base, klass("system-node-critical", 2_000_001_000))
    assert (response.code, response.reason) == (409, "AlreadyExists")


def test_value_and_preemption_policy_are_immutable_description_is_not() -> None:
    store = with_classes(klass("high", 1000))
    stored = store.get(ObjectKey("priorityclasses.scheduling.k8s.io", "", "high"))
    assert isinstance(stored, PriorityClass)
    _, response = API.send(store, Request(verb="update", user="admin", obj=evolve(stored, value=5)))
    assert response.code == 422 and "value: Forbidden: may not be changed in an update." in response.message
    _, response = API.send(store, Request(verb="update", user="admin", obj=evolve(stored, preemption_policy="Never")))
    assert response.code == 422 and "preemptionPolicy: Invalid value: \"Never\": field is immutable" in response.message
    _, response = API.send(store, Request(verb="update", user="admin", obj=evolve(stored, description="x")))
    assert response.ok, response.message


def test_only_one_global_default() -> None:
    store = with_classes(klass("low", 10, global_default=True))
    _, response = create(store, klass("other", 20, global_default=True))
    assert response.code == 403
    assert "PriorityClass low is already marked as default. Only one default can exist" in response.message
    other = with_classes(klass("low", 10, global_default=True), klass("other", 20))
    stored = other.get(ObjectKey("priorityclasses.scheduling.k8s.io", "", "other"))
    assert isinstance(stored, PriorityClass)
    _, response = API.send(other, Request(verb="update", user="admin", obj=evolve(stored, global_default=True)))
    assert response.code == 403
    low = other.get(ObjectKey("priorityclasses.scheduling.k8s.io", "", "low"))
    assert isinstance(low, PriorityClass)
    _, response = API.send(other, Request(verb="update", user="admin", obj=evolve(low, description="still")))
    assert response.ok, response.message


def test_rbac_edit_may_not_create_priority_classes() -> None:
    _, response = create(API.base, klass("high", 1000), user="developer")
    assert response.code == 403
    assert 'cannot create resource "priorityclasses" in API group "scheduling.k8s.io"' in response.message


def test_pod_gets_a_user_class_value_and_preemption_policy() -> None:
    store = with_classes(klass("batch", 500, preemption_policy="Never"))
    store, response = create(store, pod("p", "batch"), user="developer")
    assert response.ok, response.message
    spec = stored_pod(store, "p").spec
    assert (spec.priority_class_name, spec.priority, spec.preemption_policy) == ("batch", 500, "Never")


def test_global_default_applies_when_no_name_is_given() -> None:
    store = with_classes(klass("high", 900), klass("std", 100, global_default=True, preemption_policy="Never"))
    store = API.ok(store, Request(verb="create", user="admin", obj=pod("p")))
    spec = stored_pod(store, "p").spec
    assert (spec.priority_class_name, spec.priority, spec.preemption_policy) == ("std", 100, "Never")


def test_without_any_class_priority_is_zero_and_the_policy_unset() -> None:
    store = API.ok(API.base, Request(verb="create", user="admin", obj=pod("p")))
    spec = stored_pod(store, "p").spec
    assert (spec.priority_class_name, spec.priority, spec.preemption_policy) == ("", 0, "")


def test_without_any_class_a_pod_asking_never_is_refused() -> None:
    """getDefaultPriority computes PreemptLowerPriority when no class is named and none is the
    global default (`plugin/pkg/admission/priority/admission.go`): a pod setting Never differs."""
    _, response = create(API.base, pod("p", preemption_policy="Never"))
    assert response.code == 403
    assert ("the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission "
            "controller computed PreemptLowerPriority from the given PriorityClass name") in response.message
    lower = pod("p", preemption_policy="PreemptLowerPriority")
    store = API.ok(API.base, Request(verb="create", user="admin", obj=lower))
    assert stored_pod(store, "p").spec.preemption_policy == "PreemptLowerPriority"


def test_system_classes_still_resolve() -> None:
    store = API.ok(API.base, Request(verb="create", user="admin", obj=pod("p", "system-cluster-critical")))
    spec = stored_pod(store, "p").spec
    assert (spec.priority, spec.preemption_policy) == (2_000_000_000, "PreemptLowerPriority")


def test_unknown_class_is_refused() -> None:
    _, response = create(API.base, pod("p", "missing"))
    assert response.code == 403
    assert "no PriorityClass with name missing was found" in response.message


@pytest.mark.parametrize(("spec", "message"), [
    ({"priority": 7}, "the integer value of priority (7) must not be provided in pod spec; priority admission "
                      "controller computed 500 from the given PriorityClass name"),
    ({"preemption_policy": "PreemptLowerPriority"},
     "the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority "
     "admission controller computed Never from the given PriorityClass name"),
])
def test_a_pod_setting_other_values_than_its_class_is_refused(spec: dict[str, Any], message: str) -> None:
    store = with_classes(klass("batch", 500, preemption_policy="Never"))
    _, response = create(store, pod("p", "batch", **spec))
    assert response.code == 403
    assert message in response.message


def test_a_pod_repeating_its_class_values_is_admitted() -> None:
    store = with_classes(klass("batch", 500, preemption_policy="Never"))
    _, response = create(store, pod("p", "batch", priority=500, preemption_policy="Never"))
    assert response.ok, response.message


def _replace(store: Store, name: str, **spec: Any) -> Response:
    """PUT the stored pod back with `spec` fields changed (as a client that omits them would)."""
    stored = stored_pod(store, name)
    _, response = API.send(store, Request(verb="update", user="admin",
                                          obj=evolve(stored, spec=evolve(stored.spec, **spec))))
    return response


def test_an_update_omitting_priority_and_policy_keeps_the_stored_ones() -> None:
    """admitPod on update copies an omitted priority / preemptionPolicy from the stored pod; before
    this, the omission reached ValidatePodUpdate as a spec change and the PUT was refused (422)."""
    store = with_classes(klass("batch", 500, preemption_policy="Never"))
    store = API.ok(store, Request(verb="create", user="admin", obj=pod("p", "batch")))
    response = _replace(store, "p", priority=None, preemption_policy="")
    assert response.ok, response.message
    assert isinstance(response.obj, Pod)
    assert (response.obj.spec.priority, response.obj.spec.preemption_policy) == (500, "Never")


@pytest.mark.parametrize("spec", [
    {"priority": 7}, {"priority_class_name": ""}, {"priority_class_name": "other"},
    {"preemption_policy": "PreemptLowerPriority"},
])
def test_an_update_changing_priority_fields_is_refused_by_validation(spec: dict[str, Any]) -> None:
    """The plug-in copies only what is omitted; a changed value (or a changed or dropped class
    name, which it never copies) is a pod spec change ValidatePodUpdate forbids."""
    store = with_classes(klass("batch", 500, preemption_policy="Never"), klass("other", 500, preemption_policy="Never"))
    store = API.ok(store, Request(verb="create", user="admin", obj=pod("p", "batch")))
    response = _replace(store, "p", **spec)
    assert response.code == 422
    assert "spec: Forbidden: pod updates may not change fields other than" in response.message
