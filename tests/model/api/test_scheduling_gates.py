"""spec.schedulingGates at the API server: decoded and encoded (no longer dropped), validated on
create and update as upstream (`pkg/apis/core/validation/validation.go`), the SchedulingGated
condition written at creation (`pkg/registry/core/pod/strategy.go`) and bindings refused while a
gate remains (`pkg/registry/core/pod/storage/storage.go`)."""

from __future__ import annotations

import attrs
from api_harness import ApiHarness, bare_scenario

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.model.api.codec import decode, encode
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Pod, PodSpec
from kubeprop.model.api.pod import PodSchedulingGate
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store
from kubeprop.model.frozen import FrozenMap

API = ApiHarness(bare_scenario())
GATE = PodSchedulingGate("kueue.x-k8s.io/admission")


def gated(*gates: PodSchedulingGate, node: str = "", selector: dict[str, str] | None = None) -> Pod:
    return Pod(metadata=ObjectMeta(name="p", namespace="default"),
               spec=PodSpec(containers=(Container(name="c", image="c:1"),), node_name=node,
                            node_selector=FrozenMap(selector or {}), scheduling_gates=gates))


def created(pod: Pod) -> tuple[Store, Pod]:
    store, response = API.send(API.base, Request(verb="create", user="admin", obj=pod), now=7)
    assert response.ok, response.message
    assert isinstance(response.obj, Pod)
    return store, response.obj


def update(store: Store, pod: Pod) -> Response:
    return API.send(store, Request(verb="update", user="admin", obj=pod))[1]


def with_spec(pod: Pod, **changes: object) -> Pod:
    return attrs.evolve(pod, spec=attrs.evolve(pod.spec, **changes))


def test_the_field_round_trips_and_an_ungated_spec_fingerprints_as_before() -> None:
    spec = decode(PodSpec, {"containers": [{"name": "c"}], "schedulingGates": [{"name": "a"}, {"name": "b/c"}]})
    assert spec.scheduling_gates == (PodSchedulingGate("a"), PodSchedulingGate("b/c"))
    assert encode(spec)["schedulingGates"] == [{"name": "a"}, {"name": "b/c"}]
    assert "schedulingGates" not in encode(attrs.evolve(spec, scheduling_gates=()))
    # left out of fingerprints while empty: the values computed before the field existed (bc34d10)
    plain = PodSpec(containers=(Container(name="c", image="c:1"),), node_name="n1")
    assert (fingerprint(PodSpec()), fingerprint(plain)) == ("2368b4c913a6c285", "db459af2c169457c")
    assert fingerprint(attrs.evolve(plain, scheduling_gates=(PodSchedulingGate("a"),))) != fingerprint(plain)


def test_a_gated_pod_is_created_with_the_scheduling_gated_condition() -> None:
    _, pod = created(gated(GATE))
    [cond] = pod.status.conditions
    assert (cond.type, cond.status, cond.reason, cond.message, cond.last_transition_time) == (
        "PodScheduled", "False", "SchedulingGated", "Scheduling is blocked due to non-empty scheduling gates", 7)
    assert created(gated())[1].status.conditions == ()


def test_gate_names_are_qualified_names_without_duplicates() -> None:
    _, response = API.send(API.base, Request(verb="create", user="admin", obj=gated(
        PodSchedulingGate("a"), PodSchedulingGate("not a name"), PodSchedulingGate("a"))))
    assert response.code == 422
    assert 'spec.schedulingGates[1]: Invalid value: "not a name": name part must consist of' in response.message
    assert 'spec.schedulingGates[2]: Duplicate value: "a"' in response.message


def test_a_gated_pod_may_not_be_created_with_a_node_name() -> None:
    _, response = API.send(API.base, Request(verb="create", user="admin", obj=gated(GATE, node="worker-1")))
    assert response.code == 422
    assert "spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared" in response.message


def test_gates_may_only_be_removed() -> None:
    store, pod = created(gated(GATE))
    added = update(store, with_spec(pod, scheduling_gates=(GATE, PodSchedulingGate("x"))))
    assert added.code == 422
    assert ("spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new scheduling gate 'x'"
            in added.message)
    assert update(store, with_spec(pod, scheduling_gates=())).ok
    store, plain = created(gated())
    assert update(store, with_spec(plain, scheduling_gates=(GATE,))).code == 422


def test_a_gated_pod_may_gain_node_selector_entries_only() -> None:
    store, pod = created(gated(GATE, selector={"a": "b"}))
    assert update(store, with_spec(pod, node_selector=FrozenMap({"a": "b", "c": "d"}))).ok
    changed = update(store, with_spec(pod, node_selector=FrozenMap({"a": "z", "c": "d"})))
    assert changed.code == 422
    assert ('spec.nodeSelector: Invalid value: {"a":"z","c":"d"}: only additions to spec.nodeSelector are allowed '
            "(no mutations or deletions)") in changed.message
    store, plain = created(gated(selector={"a": "b"}))
    refused = update(store, with_spec(plain, node_selector=FrozenMap({"a": "b", "c": "d"})))
    assert refused.code == 422 and "pod updates may not change fields" in refused.message


def test_a_gated_pod_cannot_be_bound() -> None:
    store, _ = created(gated(GATE))
    bind = Request(verb="bind", user="admin", resource="pods", namespace="default", name="p", node_name="worker-1")
    store, response = API.send(store, bind)
    assert (response.code, response.message) == (
        409, 'Operation cannot be fulfilled on pods/binding "p": pod p has non-empty .spec.schedulingGates')
    store, pod = created(gated(GATE))
    store = API.ok(store, Request(verb="update", user="admin", obj=with_spec(pod, scheduling_gates=())))
    assert API.send(store, bind)[1].code == 201
