"""Pure rules of the node lifecycle and taint eviction controllers: zone states and tolerations.

Upstream: `pkg/controller/nodelifecycle/node_lifecycle_controller.go` (ComputeZoneState,
handleDisruption, setLimiterInZone / ReducedQPSFunc), `pkg/controller/tainteviction/taint_eviction.go`
(getMinTolerationTime), `pkg/apis/core/v1/helper/helpers.go` (GetMatchingTolerations),
`staging/src/k8s.io/api/core/v1/toleration.go` (ToleratesTaint),
`staging/src/k8s.io/component-helpers/node/topology/helpers.go` (GetZoneKey).
"""

from __future__ import annotations

from kubeprop.model.api.core import Node, Taint
from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.pod import Pod, Toleration
from kubeprop.model.scheduler.filters import tolerates

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
UNHEALTHY_ZONE_THRESHOLD = 0.55
LARGE_CLUSTER_SIZE_THRESHOLD = 50
EXCLUDE_DISRUPTION_LABEL = "node.kubernetes.io/exclude-disruption"


def ready_status(node: Node) -> str:
    """The node's Ready status ("Unknown" when it has none)."""
    cond = find_condition(node.status.conditions, "Ready")
    return "Unknown" if cond is None else cond.status


def zone_key(node: Node) -> str:
    """`nodetopology.GetZoneKey`: region and zone labels (new or deprecated names)."""
    labels = node.metadata.labels
    region = labels.get("topology.kubernetes.io/region", labels.get("failure-domain.beta.kubernetes.io/region", ""))
    zone = labels.get("topology.kubernetes.io/zone", labels.get("failure-domain.beta.kubernetes.io/zone", ""))
    return f"{region}:\x00:{zone}" if region or zone else ""


def zone_states(nodes: list[Node]) -> dict[str, tuple[str, int]]:
    """`ComputeZoneState` per zone: (FullDisruption | PartialDisruption | Normal, zone size)."""
    zones: dict[str, list[bool]] = {}
    for node in nodes:
        if EXCLUDE_DISRUPTION_LABEL not in node.metadata.labels:
            zones.setdefault(zone_key(node), []).append(ready_status(node) == "True")
    out = {}
    for zone, ready in zones.items():
        not_ready = ready.count(False)
        if not_ready > 0 and not_ready == len(ready):
            state = "FullDisruption"
        elif not_ready > 2 and not_ready / len(ready) >= UNHEALTHY_ZONE_THRESHOLD:
            state = "PartialDisruption"
        else:
            state = "Normal"
        out[zone] = (state, len(ready))
    return out


def all_fully_disrupted(nodes: list[Node]) -> bool:
    """Every zone is in FullDisruption: evictions stop and NoExecute taints are removed."""
    states = zone_states(nodes)
    return bool(states) and all(s == "FullDisruption" for s, _ in states.values())


def tainting_allowed(nodes: list[Node], node: Node) -> bool:
    """Whether the zone's NoExecute tainter may add a taint (its rate limiter is not 0)."""
    if all_fully_disrupted(nodes):
        return False
    state, size = zone_states(nodes).get(zone_key(node), ("Normal", 0))
    return not (state == "PartialDisruption" and size <= LARGE_CLUSTER_SIZE_THRESHOLD)


# --- tolerations -----------------------------------------------------------------------------


def matching_tolerations(taints: tuple[Taint, ...], tolerations: tuple[Toleration, ...]) -> tuple[
        bool, list[Toleration]]:
    """`GetMatchingTolerations`: all tolerated?, and for each taint the first toleration matching it."""
    used: list[Toleration] = []
    for taint in taints:
        match = next((t for t in tolerations if tolerates(t, taint)), None)
        if match is None:
            return False, []
        used.append(match)
    return True, used


def min_toleration_seconds(used: list[Toleration]) -> int | None:
    """`getMinTolerationTime`: 0 if none or any ≤ 0, None (forever) if none has seconds."""
    if not used:
        return 0
    seconds = [t.toleration_seconds for t in used if t.toleration_seconds is not None]
    if any(s <= 0 for s in seconds):
        return 0
    return min(seconds) if seconds else None


def eviction_delay(pod: Pod, node: Node | None) -> int | None:
    """Seconds until the taint eviction controller deletes `pod` (0 = now), None = never."""
    if node is None:
        return None
    taints = tuple(t for t in node.spec.taints if t.effect == "NoExecute")
    if not taints:
        return None
    tolerated, used = matching_tolerations(taints, pod.spec.tolerations)
    return min_toleration_seconds(used) if tolerated else 0
