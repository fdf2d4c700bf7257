"""What the DaemonSet controller decides per node, and the pods it creates.

Upstream (v1.33): `pkg/controller/daemon/daemon_controller.go` NodeShouldRunDaemonPod, predicates,
NewPod, podByCreationTimestampAndPhase; `pkg/controller/daemon/util/daemonset_util.go`
CreatePodTemplate, AddOrUpdateDaemonPodTolerations, ReplaceDaemonSetPodNodeNameNodeAffinity,
GetTargetNodeName, IsPodUpdated; `pkg/apis/core/v1/helper/helpers.go` AddOrUpdateTolerationInPodSpec.

- `node_should_run(node, ds)`: (shouldRun, shouldContinueRunning). A template `nodeName` other
  than the node's: neither. The pod the DaemonSet would run there (`daemon_pod_spec`, with the
  daemon tolerations) must match the node's required affinity (nodeSelector and required
  node-affinity terms: the scheduler's `required_node_affinity_matches`), else neither; an
  untolerated NoSchedule or NoExecute taint (the scheduler's `find_untolerated_taint`) makes
  shouldRun false, and shouldContinueRunning false only if one of the untolerated taints is
  NoExecute. A cordoned node carries `node.kubernetes.io/unschedulable:NoSchedule` (the node
  lifecycle controller's taint), which every daemon pod tolerates, so it still runs them; a
  NotReady or unreachable node's NoExecute taints are tolerated for ever too.
- The pod created for a node (`daemon_pod`): the template with the daemon tolerations, the
  `controller-revision-hash` label, the DaemonSet's controller reference, and its required node
  affinity replaced by `matchFields metadata.name In [<node>]` (the scheduler binds it there;
  `filters.node_affinity_candidates`).

Model choices: the deprecated template generation (annotation `deprecated.daemonset.template.
generation`, pod label `pod-template-generation`) is not modelled, so `IsPodUpdated` compares the
hash only. The network-unavailable toleration is added for a `hostNetwork` template only
(`NETWORK_UNAVAILABLE_TOLERATION`: a CNI agent runs on a node whose network is not up yet). The
hash is `revisions.template_revision_name`'s (not byte-identical to upstream's
`controller.ComputeHash`, which hashes Go's printing of the template).
"""

from __future__ import annotations

from collections.abc import Iterable

from kubeprop.model.api.apps import DaemonSet
from kubeprop.model.api.core import Node
from kubeprop.model.api.objects import ApiObject
from kubeprop.model.api.pod import Affinity, NodeAffinity, Pod, PodSpec, Toleration
from kubeprop.model.api.revisions import template_revision_name
from kubeprop.model.api.selectors import NodeSelector, NodeSelectorRequirement, NodeSelectorTerm
from kubeprop.model.controllers.podutil import pod_template_object
from kubeprop.model.evolve import evolve
from kubeprop.model.scheduler.filters import find_untolerated_taint, required_node_affinity_matches
from kubeprop.model.scheduler.nodeinfo import NodeInfo

__all__ = [
    "DAEMON_TOLERATIONS",
    "NETWORK_UNAVAILABLE_TOLERATION",
    "REVISION_HASH_LABEL",
    "daemon_pod",
    "daemon_pod_spec",
    "node_should_run",
    "oldest_first",
    "target_node_name",
    "template_hash",
]

REVISION_HASH_LABEL = "controller-revision-hash"
"""apps.DefaultDaemonSetUniqueLabelKey (= ControllerRevisionHashLabelKey)."""

DAEMON_TOLERATIONS: tuple[Toleration, ...] = (
    Toleration(key="node.kubernetes.io/not-ready", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/unreachable", operator="Exists", effect="NoExecute"),
    Toleration(key="node.kubernetes.io/disk-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/memory-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/pid-pressure", operator="Exists", effect="NoSchedule"),
    Toleration(key="node.kubernetes.io/unschedulable", operator="Exists", effect="NoSchedule"),
)
"""AddOrUpdateDaemonPodTolerations, in its order (not-ready and unreachable NoExecute without
tolerationSeconds: "DaemonSet pods shouldn't be deleted by NodeController in case of node
problems"; the TaintNodesByCondition NoSchedule taints; network-unavailable only for hostNetwork)."""

NETWORK_UNAVAILABLE_TOLERATION = Toleration(key="node.kubernetes.io/network-unavailable", operator="Exists",
                                            effect="NoSchedule")
"""AddOrUpdateDaemonPodTolerations' last one, `if spec.HostNetwork` only: the node lifecycle
controller's taint of a node whose NetworkUnavailable condition is True (`nodelifecycle`)."""


def _add_or_update(tolerations: tuple[Toleration, ...], toleration: Toleration) -> tuple[Toleration, ...]:
    """AddOrUpdateTolerationInPodSpec: a toleration with the same key, operator, value and effect
    (MatchToleration) is replaced by `toleration`; without one, it is appended."""
    same = [t for t in tolerations if (t.key, t.operator, t.value, t.effect)
            == (toleration.key, toleration.operator, toleration.value, toleration.effect)]
    if not same:
        return (*tolerations, toleration)
    return tuple(toleration if t in same else t for t in tolerations)


def daemon_pod_spec(spec: PodSpec) -> PodSpec:
    """The template's spec with AddOrUpdateDaemonPodTolerations' tolerations (the network-unavailable
    one for a host-network pod only)."""
    tolerations = spec.tolerations
    added = (*DAEMON_TOLERATIONS, NETWORK_UNAVAILABLE_TOLERATION) if spec.host_network else DAEMON_TOLERATIONS
    for toleration in added:
        tolerations = _add_or_update(tolerations, toleration)
    return spec if tolerations == spec.tolerations else evolve(spec, tolerations=tolerations)


def node_should_run(node: Node, ds: DaemonSet) -> tuple[bool, bool]:
    """NodeShouldRunDaemonPod: (shouldRun, shouldContinueRunning), see the module docstring."""
    template = ds.spec.template.spec
    if template.node_name and template.node_name != node.metadata.name:
        return False, False
    pod = Pod(spec=evolve(daemon_pod_spec(template), node_name=node.metadata.name))
    if not required_node_affinity_matches(pod, NodeInfo(node=node)):
        return False, False
    taints = node.spec.taints
    if find_untolerated_taint(taints, pod.spec.tolerations) is None:
        return True, True
    no_execute = tuple(t for t in taints if t.effect == "NoExecute")
    return False, find_untolerated_taint(no_execute, pod.spec.tolerations) is None


def template_hash(ds: DaemonSet) -> str:
    """The hash of the DaemonSet's current template (the `controller-revision-hash` of its current
    ControllerRevision, `constructHistory`), see the module docstring."""
    name = template_revision_name(ds.metadata.name, ds.spec.template)
    return name[len(ds.metadata.name) + 1:]


def _node_name_affinity(affinity: Affinity | None, node_name: str) -> Affinity:
    """ReplaceDaemonSetPodNodeNameNodeAffinity: the required node-affinity terms become the one
    term `matchFields metadata.name In [node]` (the preferred terms and pod affinities stay)."""
    required = NodeSelector(node_selector_terms=(NodeSelectorTerm(match_fields=(
        NodeSelectorRequirement(key="metadata.name", operator="In", values=(node_name,)),)),))
    affinity = affinity or Affinity()
    node_affinity = affinity.node_affinity or NodeAffinity()
    return evolve(affinity, node_affinity=evolve(
        node_affinity, required_during_scheduling_ignored_during_execution=required))


def daemon_pod(ds: DaemonSet, node_name: str, hash_: str) -> Pod:
    """The pod syncNodes creates for `node_name` (CreatePodTemplate, then the node-name affinity,
    then GetPodFromTemplate)."""
    template = ds.spec.template
    labels = template.metadata.labels.set(REVISION_HASH_LABEL, hash_) if hash_ else template.metadata.labels
    spec = daemon_pod_spec(template.spec)
    spec = evolve(spec, affinity=_node_name_affinity(spec.affinity, node_name))
    template = evolve(template, metadata=evolve(template.metadata, labels=labels), spec=spec)
    return pod_template_object(template, ds)


def target_node_name(pod: Pod) -> str | None:
    """GetTargetNodeName: spec.nodeName, else the value of the first `matchFields metadata.name In`
    requirement with exactly one value of the required node-affinity terms; None when there is
    none (such a pod is left out of the controller's per-node view)."""
    if pod.spec.node_name:
        return pod.spec.node_name
    affinity = pod.spec.affinity
    node_affinity = affinity.node_affinity if affinity else None
    required = node_affinity.required_during_scheduling_ignored_during_execution if node_affinity else None
    if required is None:
        return None
    for term in required.node_selector_terms:
        for req in term.match_fields:
            if req.key == "metadata.name" and req.operator == "In":
                return req.values[0] if len(req.values) == 1 else None
    return None


def oldest_first(pods: Iterable[Pod]) -> list[Pod]:
    """sort.Sort(podByCreationTimestampAndPhase): scheduled pods first, then by creation time,
    then by name."""
    return sorted(pods, key=lambda p: (not p.spec.node_name, p.metadata.creation_timestamp or 0, p.metadata.name))


def owned_by(obj: ApiObject, ds: DaemonSet) -> bool:
    """Whether `obj`'s controller reference names `ds` (its UID)."""
    ref = obj.metadata.controller_ref()
    return ref is not None and ref.kind == "DaemonSet" and ref.uid == ds.metadata.uid
