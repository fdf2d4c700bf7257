"""`counterexamples.diff.summary`: the one line a replay shows for an object."""

from __future__ import annotations

from kubeprop.counterexamples.diff import summary
from kubeprop.model.api.objects import decode_object


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
