"""Pure rules of the node lifecycle and taint eviction controllers: zone states, the zone
tainters' rate limiters, and tolerations.

Upstream: `pkg/controller/nodelifecycle/node_lifecycle_controller.go` (ComputeZoneState,
handleDisruption, setLimiterInZone, HealthyQPSFunc / ReducedQPSFunc),
`pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go` (RateLimitedTimedQueue.Try,
SwapLimiter), `staging/src/k8s.io/client-go/util/flowcontrol/throttle.go` (the token bucket),
`pkg/controller/tainteviction/taint_eviction.go` (getMinTolerationTime),
`pkg/apis/core/v1/helper/helpers.go` (GetMatchingTolerations),
`staging/src/k8s.io/api/core/v1/toleration.go` (ToleratesTaint),
`staging/src/k8s.io/component-helpers/node/topology/helpers.go` (GetZoneKey).

Rate limiters at the model clock's resolution: each zone's NoExecute tainter is a token bucket of
burst 1 (`EvictionRateLimiterBurst`) at `--node-eviction-rate` 0.1 nodes/s (one taint per 10 s),
`--secondary-node-eviction-rate` 0.01 (one per 100 s) for a zone in PartialDisruption with more
than `--large-cluster-size-threshold` 50 nodes, 0 (stopped) for a smaller one, and 0 for every
zone while all are in FullDisruption. A bucket is `ZoneTainter(period, ready_at)`: a token is
available from `ready_at` on; taking it moves `ready_at` one period ahead (burst 1: the bucket
never holds two). SwapLimiter keeps the bucket when the rate is unchanged; otherwise the new
bucket starts full, or drained if the old one had no token ("If we're currently waiting on
limiter, we drain the new one").
"""

from __future__ import annotations

import attrs

from kubeprop.model.api.core import LABEL_TOPOLOGY_ZONE, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE, Node, Taint
from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.pod import Pod, Toleration
from kubeprop.model.evolve import evolve
from kubeprop.model.scheduler.filters import tolerates

UNHEALTHY_ZONE_THRESHOLD = 0.55
LARGE_CLUSTER_SIZE_THRESHOLD = 50
EXCLUDE_DISRUPTION_LABEL = "node.kubernetes.io/exclude-disruption"


def is_health_taint(taint: Taint) -> bool:
    """One of the controller's own NoExecute taints, not-ready or unreachable
    (`NotReadyTaintTemplate`, `UnreachableTaintTemplate` in node_lifecycle_controller.go)."""
    return taint.effect == "NoExecute" and taint.key in (TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE)


def ready_status(node: Node) -> str:
    """The node's Ready status ("Unknown" when it has none)."""
    cond = find_condition(node.status.conditions, "Ready")
    return "Unknown" if cond is None else cond.status


def zone_key(node: Node) -> str:
    """`GetZoneKey` (`staging/src/k8s.io/component-helpers/node/topology/helpers.go`): the
    deprecated `failure-domain.beta.kubernetes.io/zone` and `/region` labels first, the
    `topology.kubernetes.io/` ones only where the beta label is absent (present but empty still
    wins); "" when both region and zone are empty."""
    labels = node.metadata.labels
    region = labels.get("failure-domain.beta.kubernetes.io/region", labels.get("topology.kubernetes.io/region", ""))
    zone = labels.get("failure-domain.beta.kubernetes.io/zone", labels.get(LABEL_TOPOLOGY_ZONE, ""))
    return f"{region}:\x00:{zone}" if region or zone else ""


def compute_zone_state(ready: list[bool]) -> str:
    """`ComputeZoneState` over the zone's Ready conditions (True or not)."""
    not_ready = ready.count(False)
    if not_ready > 0 and not_ready == len(ready):
        return FULL
    if not_ready > 2 and not_ready / len(ready) >= UNHEALTHY_ZONE_THRESHOLD:
        return PARTIAL
    return NORMAL


def zone_states(nodes: list[Node], observed: dict[str, str] | None = None) -> dict[str, tuple[str, int]]:
    """Per zone: (FullDisruption | PartialDisruption | Normal, zone size), from each node's Ready
    status (`observed[name]` where given, else the node's own); excluded nodes do not count."""
    zones: dict[str, list[bool]] = {}
    for node in nodes:
        if EXCLUDE_DISRUPTION_LABEL not in node.metadata.labels:
            status = (observed or {}).get(node.metadata.name, ready_status(node))
            zones.setdefault(zone_key(node), []).append(status == "True")
    return {zone: (compute_zone_state(ready), len(ready)) for zone, ready in zones.items()}


def all_fully_disrupted(nodes: list[Node], observed: dict[str, str] | None = None) -> bool:
    """Every zone is in FullDisruption."""
    states = zone_states(nodes, observed)
    return bool(states) and all(s == FULL for s, _ in states.values())


# --- the zone tainters' rate limiters --------------------------------------------------------

NORMAL, PARTIAL, FULL = "Normal", "PartialDisruption", "FullDisruption"
HEALTHY_PERIOD = 10
"""1 / `--node-eviction-rate` (0.1 nodes per second)."""
SECONDARY_PERIOD = 100
"""1 / `--secondary-node-eviction-rate` (0.01 nodes per second)."""


@attrs.frozen(cache_hash=True)
class ZoneTainter:
    """A zone tainter's token bucket (burst 1): seconds per token (None: stopped, qps 0) and the
    model time from which a token is available."""

    period: int | None = HEALTHY_PERIOD
    ready_at: int = 0

    def available(self, now: int) -> bool:
        """TryAccept would succeed now."""
        return self.period is not None and now >= self.ready_at

    def take(self, now: int) -> ZoneTainter:
        """TryAccept: the token is used; the next one comes a period later."""
        assert self.period is not None and self.available(now)
        return evolve(self, ready_at=now + self.period)

    def swap(self, period: int | None, now: int) -> ZoneTainter:
        """SwapLimiter: unchanged rate keeps the bucket; a new one starts full, or drained if
        the old one had no token; qps 0 stops it."""
        if period == self.period:
            return self
        if period is None:
            return ZoneTainter(None, 0)
        return ZoneTainter(period, now + period if not self.available(now) else 0)


DEFAULT_TAINTER = ZoneTainter()
"""A new zone's tainter: `NewTokenBucketRateLimiter(evictionLimiterQPS, 1)`, full."""


def limiter_period(state: str, size: int) -> int | None:
    """setLimiterInZone: Normal and FullDisruption (of one zone among others) use the healthy
    rate, PartialDisruption the secondary rate in a large zone and 0 in a small one."""
    if state == PARTIAL:
        return SECONDARY_PERIOD if size > LARGE_CLUSTER_SIZE_THRESHOLD else None
    return HEALTHY_PERIOD


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


def no_execute_taints(node: Node) -> tuple[Taint, ...]:
    """The node's NoExecute taints in their order (`taint_eviction.go` getNoExecuteTaints)."""
    return tuple(t for t in node.spec.taints if t.effect == "NoExecute")


def eviction_delay(pod: Pod, node: Node | None) -> int | None:
    """Seconds until the taint eviction controller deletes `pod` (0 = now), None = never."""
    if node is None:
        return None
    taints = no_execute_taints(node)
    if not taints:
        return None
    tolerated, used = matching_tolerations(taints, pod.spec.tolerations)
    return min_toleration_seconds(used) if tolerated else 0
