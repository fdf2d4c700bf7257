"""`counterexamples.diff.summary`: the one line a replay shows for an object."""

from __future__ import annotations

from kubeprop.counterexamples.diff import FieldChange, field_diff, readable_key, summary
from kubeprop.model.api.objects import decode_object, encode_object


def _pod(affinity: dict[str, object] | None) -> object:
    spec: dict[str, object] = {"containers": [{"name": "a", "image": "agent:1"}]}
    if affinity is not None:
        spec["affinity"] = affinity
    return decode_object({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
                          "spec": spec})


def test_an_unscheduled_daemon_pod_names_the_node_it_is_for() -> None:
    """A daemon pod waits for the scheduler with a required node affinity on metadata.name
    (`pkg/controller/daemon/util/daemonset_util.go` ReplaceDaemonSetPodNodeNameNodeAffinity)."""
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    daemon = _pod({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}})
    assert summary(daemon).startswith("Pending on (unscheduled, for node n1)")  # type: ignore[arg-type]
    assert summary(_pod(None)).startswith("Pending on (unscheduled)")  # type: ignore[arg-type]


def _node(taints: list[dict[str, object]]) -> object:
    return decode_object({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"},
                          "spec": {"taints": taints}})


UNREACHABLE = "node.kubernetes.io/unreachable"


def test_a_taint_is_keyed_by_its_key_and_effect() -> None:
    """Trial 21 (u1 step 589): a second taint of one key with another effect read as the first
    one's effect changing, `spec.taints[…unreachable].effect: NoExecute → NoSchedule`. A Node's
    taints are unique by key and effect (pkg/apis/core/validation/validation.go ValidateNodeTaints)."""
    no_execute = {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": 60}
    before = _node([no_execute])
    after = _node([no_execute, {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": 70}])
    changes = field_diff(encode_object(before), encode_object(after))  # type: ignore[arg-type]
    assert changes == (FieldChange(f"spec.taints[{UNREACHABLE}:NoSchedule]", None,
                                   "added (effect=NoSchedule, timeAdded=70)"),)


def test_elements_named_alike_keep_apart() -> None:
    """Two elements with one name (env vars may repeat one) are two paths, never one overwritten."""
    env = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    changed = [{"name": "A", "value": "1"}, {"name": "A", "value": "3"}]
    assert field_diff({"env": env}, {"env": changed}) == (FieldChange("env[A#1].value", "2", "3"),)


def test_a_zone_key_reads_as_its_zone() -> None:
    """Trial 21: the node lifecycle controller's zone key (`region:\\x00:zone`, utilnode.GetZoneKey)
    showed as `tainters[:\\x00:zone-a]`."""
    assert readable_key(":\x00:zone-a") == "zone-a"
    assert readable_key("eu-west:\x00:zone-a") == "eu-west/zone-a"
    assert readable_key("shop/web") == "shop/web"
    changes = field_diff({"tainters": {}}, {"tainters": {":\x00:zone-a": {"period": 10, "ready_at": 70}}})
    assert [c.path for c in changes] == ["tainters[zone-a]"]
