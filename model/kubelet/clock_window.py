"""How long a kubelet's enabled actions stay what they are while only the clock moves.

`component.node_enabled` reads the clock only through comparisons with times of the node's own
state: a probe's next outcome (`probes`: `now >= readiness_turns_at(c)`, the startup success and
failure, the liveness failure), a container's SIGKILL deadline (`kill`, and a SIGTERM'd container's
exit before it), a pod's kill deadline, a container's back-off (`runtime.restart_at`) or
configuration retry (`component._retry_at`), the volume manager's retries of pending volumes
(`volumes.mount_retry_due`: true in `[r, r + tick)` for each retry time `r`), a pod's active
deadline with its cached spec (`deadline.past_deadline`), and the end of a pressure condition
(`pressure.conditions_held`, which `UpdateNodeStatus` reads). Whether a pod's status is in sync
(`SyncPodStatus`) does not depend on the clock: `status.pod_status` stamps `now` only on a condition
whose type, status, reason or message changed, and such a status differs from the API's whatever
the stamp.

So the answer at clock `c` holds for every clock in `[c, changes_at(...))`: `changes_at` is the
first of those times after `c` (a time that may flip nothing is harmless: the window only ends
sooner). `clock_epoch` gives the kubelet part's memo (`kubeprop.model.cluster.enabled_reads`) a key
part standing for the clock: the very same object while the node's kubelet state and pod cache are
the same objects and the clock stays within the window it was made in, so a `Tick` that reaches no
time of this node leaves its answer remembered. `tests/model/kubelet/test_clock_window.py` compares
the answers across each window with `node_enabled` computed afresh.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from kubeprop.model.kubelet.config import RETRY_SECONDS
from kubeprop.model.kubelet.local import cached_pods, kubelet_state
from kubeprop.model.kubelet.pressure import PRESSURE_CONDITIONS, observed_at, transition_period
from kubeprop.model.kubelet.probes import (
    liveness_failure_at,
    readiness_turns_at,
    startup_failure_at,
    startup_success_at,
)
from kubeprop.model.kubelet.runtime import PodRuntime, restart_at
from kubeprop.model.kubelet.volumes import next_mount_retry
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["Epoch", "changes_at", "clock_epoch"]


def _pod_times(runtime: PodRuntime, now: int, tick: int) -> Iterator[int]:
    """Every time at which a comparison of the clock with the pod's runtime may flip."""
    for c in (*runtime.init_containers, *runtime.containers):
        yield readiness_turns_at(c)
        yield startup_success_at(c)
        yield startup_failure_at(c)
        yield liveness_failure_at(c)
        if c.kill_deadline is not None:
            yield c.kill_deadline
        if c.config_error:
            yield c.config_failed_at + RETRY_SECONDS
        elif runtime.should_restart(c):
            yield restart_at(c)
    if runtime.kill_deadline is not None:
        yield runtime.kill_deadline
    if runtime.mount_pending:
        since = runtime.admitted_at if runtime.mount_from is None else runtime.mount_from
        yield next_mount_retry(since, now)  # the next retry: due from then
        yield next_mount_retry(since, now - tick) + tick  # the end of the tick the last one fell in


def changes_at(model: ClusterModel, state: ClusterState, node: str) -> int | float:
    """The first time after `state.clock` at which `node_enabled(model, state, node)` may change
    with nothing but the clock moved (`math.inf` if none)."""
    now = state.clock
    k = kubelet_state(state, node)
    times: list[int] = []
    cached = cached_pods(model, state, node)
    for key, runtime in k.pods.items():
        times.extend(_pod_times(runtime, now, model.tick_seconds))
        pod = cached.get(key)
        if pod is not None and pod.spec.active_deadline_seconds is not None:
            times.append(runtime.admitted_at + pod.spec.active_deadline_seconds)
    period = transition_period(model)
    times.extend(at + period for c in PRESSURE_CONDITIONS if (at := observed_at(k, c)) is not None)
    return min((t for t in times if t > now), default=math.inf)


class Epoch:
    """A stretch of the clock `[since, until)` over which one node's kubelet answers alike (compared
    by identity only)."""

    __slots__ = ("since", "until")

    def __init__(self, since: int, until: int | float) -> None:
        self.since, self.until = since, until

    def __repr__(self) -> str:
        return f"Epoch({self.since}, {self.until})"


RECENT = 4
"""Epochs remembered per node (a search moves between a few branches)."""
_EPOCHS: dict[str, list[tuple[Any, Any, Any, Epoch]]] = {}
"""Node → its last epochs, newest first: (model, kubelet state, pod cache, epoch)."""
_NODES_LIMIT = 1_024


def clock_epoch(model: ClusterModel, state: ClusterState, node: str, pods: Any) -> Epoch:
    """The epoch of `state.clock` for `node`'s kubelet, whose pod cache's objects are `pods`: the
    same object as long as the model, the node's kubelet state and `pods` are the same objects and
    the clock is within it."""
    k, now = state.kubelets.get(node), state.clock
    seen = _EPOCHS.get(node)
    if seen is None:
        if len(_EPOCHS) >= _NODES_LIMIT:
            _EPOCHS.clear()
        seen = _EPOCHS[node] = []
    for m, known, cached, epoch in seen:
        if known is k and cached is pods and m is model and epoch.since <= now < epoch.until:
            return epoch
    epoch = Epoch(now, changes_at(model, state, node))
    seen.insert(0, (model, k, pods, epoch))
    del seen[RECENT:]
    return epoch
