"""Pod (anti-)affinity matchLabelKeys / mismatchLabelKeys: the API server merges them into the
term's labelSelector on create (`pkg/registry/core/pod/strategy.go` mutatePodAffinity, gate
MatchLabelKeysInPodAffinity on from v1.31, GA in v1.33; parameter `matchLabelKeysInPodAffinity`)
and validates them on the merged selector (`pkg/apis/core/validation/validation.go`
validateMatchLabelKeysAndMismatchLabelKeys). audit22b F1: the model's API server stored the keys
unmerged while its scheduler, like upstream's, reads the selector alone — a rolling update's new
pods were kept off the nodes of the old ones (a false alarm)."""

from __future__ import annotations

import attrs
from api_harness import ApiHarness, bare_scenario

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Node, NodeStatus, ObjectKey, Pod, PodSpec
from kubeprop.model.api.pod import Affinity, PodAffinity, PodAffinityTerm, WeightedPodAffinityTerm
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector, LabelSelectorRequirement
from kubeprop.model.api.server import Request, Response, handle
from kubeprop.model.api.store import Store
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scheduler.decide import build_node_infos, schedule_one

API = ApiHarness(bare_scenario())
HOST = "kubernetes.io/hostname"
WEB = LabelSelector({"app": "web"})


def _term(selector: LabelSelector | None = WEB, match: tuple[str, ...] = (), mismatch: tuple[str, ...] = ()
          ) -> PodAffinityTerm:
    return PodAffinityTerm(label_selector=selector, topology_key=HOST, match_label_keys=match,
                           mismatch_label_keys=mismatch)


def _pod(name: str, labels: dict[str, str], affinity: Affinity, node: str = "") -> Pod:
    return Pod(metadata=ObjectMeta(name=name, namespace="default", labels=FrozenMap(labels)),
               spec=PodSpec(containers=(Container(name="c", image="web:1"),), affinity=affinity, node_name=node))


def _create(pod: Pod, harness: ApiHarness = API, store: Store | None = None) -> tuple[Store, Response]:
    return harness.send(API.base if store is None else store, Request(verb="create", user="admin", obj=pod))


def _stored(store: Store, name: str) -> Pod:
    obj = store.get(ObjectKey("pods", "default", name))
    assert isinstance(obj, Pod)
    return obj


def node(name: str) -> Node:
    """A roomy node labelled with its hostname."""
    alloc = {k: Quantity.parse(v) for k, v in (("cpu", "4"), ("memory", "4Gi"), ("pods", "110"))}
    return Node(metadata=ObjectMeta(name=name, labels=FrozenMap({HOST: name})), status=NodeStatus(allocatable=alloc))


def _anti(*terms: PodAffinityTerm) -> Affinity:
    return Affinity(pod_anti_affinity=PodAffinity(terms))


def test_match_label_keys_merged_into_the_selector_on_create() -> None:
    """`key In (value)` for each matchLabelKeys key the pod carries, `NotIn` for mismatchLabelKeys;
    a key the pod lacks is skipped; the keys themselves stay in the term."""
    term = _term(match=("pod-template-hash", "absent"), mismatch=("tenant",))
    store, response = _create(_pod("p", {"app": "web", "pod-template-hash": "aaa", "tenant": "t1"}, _anti(term)))
    assert response.code == 201, response
    got = _stored(store, "p").spec.affinity
    assert got is not None and got.pod_anti_affinity is not None
    merged = got.pod_anti_affinity.required_during_scheduling_ignored_during_execution[0]
    assert merged.label_selector == LabelSelector({"app": "web"}, (
        LabelSelectorRequirement("pod-template-hash", "In", ("aaa",)),
        LabelSelectorRequirement("tenant", "NotIn", ("t1",))))
    assert merged.match_label_keys == ("pod-template-hash", "absent") and merged.mismatch_label_keys == ("tenant",)


def test_every_kind_of_term_is_merged() -> None:
    """Required and preferred terms, affinity and anti-affinity (mutatePodAffinity's four loops)."""
    term = _term(match=("v",))
    spec = PodAffinity((term,), (WeightedPodAffinityTerm(10, term),))
    store, response = _create(_pod("p", {"app": "web", "v": "1"}, Affinity(pod_affinity=spec, pod_anti_affinity=spec)))
    assert response.code == 201, response
    affinity = _stored(store, "p").spec.affinity
    assert affinity is not None
    want = LabelSelector({"app": "web"}, (LabelSelectorRequirement("v", "In", ("1",)),))
    for spec_ in (affinity.pod_affinity, affinity.pod_anti_affinity):
        assert spec_ is not None
        assert spec_.required_during_scheduling_ignored_during_execution[0].label_selector == want
        assert spec_.preferred_during_scheduling_ignored_during_execution[0].pod_affinity_term.label_selector == want


def _errors(response: Response) -> str:
    assert response.code == 422, response
    return response.message


def test_validation_of_the_merged_selector() -> None:
    """A matchLabelKeys key already in the selector is refused once merged (the error at the term's
    path indexed by the key's position, as upstream writes it); a key in both fields, or keys
    without a labelSelector, are refused too."""
    both = _term(LabelSelector({"app": "web", "v": "1"}), match=("v",))
    message = _errors(_create(_pod("p", {"app": "web", "v": "1"}, _anti(both)))[1])
    assert ('spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0][0]: Invalid value: '
            '"v": exists in both matchLabelKeys and labelSelector') in message
    overlap = _term(match=("v",), mismatch=("v",))
    message = _errors(_create(_pod("p", {"app": "web", "v": "1"}, _anti(overlap)))[1])
    assert "matchLabelKeys[0]: Invalid value: \"v\": exists in both matchLabelKeys and mismatchLabelKeys" in message
    nil = _term(None, match=("v",))
    message = _errors(_create(_pod("p", {"app": "web", "v": "1"}, _anti(nil)))[1])
    assert "matchLabelKeys: Forbidden: must not be specified when labelSelector is not set" in message


def test_gate_off_drops_the_keys() -> None:
    """`matchLabelKeysInPodAffinity: false` (v1.30 and before): dropDisabledMatchLabelKeysFieldInPodAffinity
    clears both fields and nothing is merged."""
    off = attrs.evolve(API.config, match_label_keys_in_pod_affinity=False)
    pod = _pod("p", {"app": "web", "v": "1"}, _anti(_term(match=("v",))))
    result = handle(API.base, Request(verb="create", user="admin", obj=pod), off, 1)
    assert result.response.code == 201, result.response
    affinity = _stored(result.store, "p").spec.affinity
    assert affinity is not None and affinity.pod_anti_affinity is not None
    assert affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution[0] == _term()


def test_rolling_update_new_revision_ignores_the_old_one() -> None:
    """The pattern the field exists for: anti-affinity app=web per node, matchLabelKeys
    [pod-template-hash]. The old revision's replica on the only node does not repel the new
    revision's (the false alarm: the model refused the new replica everywhere), while two
    replicas of one revision are still kept apart."""
    anti = _anti(_term(match=("pod-template-hash",)))
    store = API.base
    for name, revision, where in (("web-old", "aaa", "a"), ("web-new", "bbb", ""), ("web-new-2", "bbb", "")):
        store, response = _create(_pod(name, {"app": "web", "pod-template-hash": revision}, anti, where), store=store)
        assert response.code == 201, response
    old, new = _stored(store, "web-old"), _stored(store, "web-new")
    result = schedule_one(new, build_node_infos([node("a")], [old]))
    assert result.best == ("a",), result.filter_reasons
    placed = attrs.evolve(new, spec=attrs.evolve(new.spec, node_name="a"))
    again = schedule_one(_stored(store, "web-new-2"), build_node_infos([node("a")], [old, placed]))
    assert again.best == () and "didn't match pod anti-affinity rules" in again.message
