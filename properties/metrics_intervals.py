"""Interval metrics of a run: how long something took, in model seconds and in steps.

Each metric follows one subject (a pod, a Deployment, a node's lost workload, a queued key) from
the state where its interval opens to the state where it closes. An interval still open when the
run ends is reported as open, with the time elapsed so far (a lower bound on the true value). An
interval whose subject goes away without the awaited event (a pod deleted before it was bound) is
dropped. What §8 of the seed tells operators to watch, and the upstream metric each stands for:

- `pod-scheduling-latency` — pod created → bound (`spec.nodeName` set): the end-to-end scheduling
  latency (`pkg/scheduler/metrics/metrics.go` pod_scheduling_sli_duration_seconds measures from
  the first time the pod is queued; creation and queueing coincide in the model);
- `pod-startup-latency` — bound → Ready condition True (`pkg/kubelet/metrics/metrics.go`
  kubelet_pod_start_sli_duration_seconds ends at Running; the seed's figure is Ready);
- `pod-replacement-time` — a node lost (crash or partition: its heartbeats stop) → every
  controller that had a pod on it has as many Ready, non-terminating pods on nodes that still
  reach the API server as it wants (`spec.replicas`);
- `rollout-duration` — a Deployment's generation changes (or it is created) → DeploymentComplete
  (`pkg/controller/deployment/util/deployment_util.go`);
- `eviction-latency` — a node's Ready condition leaves True → each pod bound to it is deleted or
  marked for deletion (the taint manager's eviction after `tolerationSeconds`);
- `workqueue-queue-duration` — a key enters a controller's work queue → a worker takes it
  (`staging/src/k8s.io/client-go/util/workqueue/metrics.go` queue_duration_seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

from kubeprop.model.api.meta import find_condition
from kubeprop.model.api.objects import Deployment, Node, Pod, ReplicaSet, StatefulSet
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.podutil import is_pod_ready
from kubeprop.model.state.cluster import ClusterState, pod_key
from kubeprop.properties.metrics_run import Run

__all__ = ["INTERVAL_METRICS", "Sample", "interval_samples", "owner_of", "restored"]


@attrs.frozen(order=True)
class Sample:
    """One interval: `seconds` and `steps` from the state it opened in (`start_step`) to the one it
    closed in (`end_step`), or to the run's last state when still `open`."""

    metric: str
    subject: str
    seconds: int
    steps: int
    start_step: int
    end_step: int
    open: bool = False

    def __str__(self) -> str:
        suffix = " (still open)" if self.open else ""
        return f"{self.metric} {self.subject}: {self.seconds} s, {self.steps} steps{suffix}"


class _Tracker:
    """Open intervals of one metric, by key (a uid, a name), each with the subject it reports."""

    def __init__(self, metric: str, run: Run) -> None:
        self.metric, self.run = metric, run
        self.started: dict[str, tuple[str, int, int]] = {}
        self.samples: list[Sample] = []

    def open(self, key: str, subject: str, step: int, at: int | None = None) -> None:
        """Open `key`'s interval at state `step` (model time `at`, default that state's clock)."""
        if key not in self.started:
            self.started[key] = (subject, step, self.run.clock(step) if at is None else at)

    def close(self, key: str, step: int) -> None:
        """Close `key`'s interval at state `step` (nothing if it is not open)."""
        begun = self.started.pop(key, None)
        if begun is not None:
            subject, first, at = begun
            self.samples.append(Sample(self.metric, subject, self.run.clock(step) - at, step - first, first, step))

    def keep_only(self, keys: set[str]) -> None:
        """Drop the open intervals of subjects that went away."""
        for key in [k for k in self.started if k not in keys]:
            del self.started[key]

    def finish(self) -> list[Sample]:
        """Every sample, open intervals measured up to the run's last state."""
        last = self.run.last
        for subject, first, at in sorted(self.started.values()):
            self.samples.append(Sample(self.metric, subject, self.run.clock(last) - at, last - first, first, last,
                                       open=True))
        return self.samples


def _pods(state: ClusterState) -> dict[str, Pod]:
    """Pods by uid."""
    return {p.metadata.uid: p for p in state.store.list("pods") if isinstance(p, Pod)}


def _pod_subject(pod: Pod) -> str:
    return f"Pod {pod_key(pod)}"


def scheduling_latency(run: Run) -> list[Sample]:
    """Pod created → bound; the start is the pod's creationTimestamp."""
    t = _Tracker("pod-scheduling-latency", run)
    for i, state in enumerate(run.states):
        pods = _pods(state)
        for uid, pod in pods.items():
            if pod.spec.node_name:
                t.close(uid, i)
            elif i == 0 or uid not in _pods(run.states[i - 1]):
                t.open(uid, _pod_subject(pod), i, pod.metadata.creation_timestamp)
        t.keep_only(set(pods))
    return t.finish()


def startup_latency(run: Run) -> list[Sample]:
    """Bound → Ready (the first time)."""
    t = _Tracker("pod-startup-latency", run)
    seen_ready: set[str] = set()
    for i, state in enumerate(run.states):
        pods = _pods(state)
        for uid, pod in pods.items():
            if uid in seen_ready or not pod.spec.node_name:
                continue
            if is_pod_ready(pod):
                seen_ready.add(uid)
                t.close(uid, i)
            elif pod.metadata.deletion_timestamp is None:
                t.open(uid, _pod_subject(pod), i)
        t.keep_only(set(pods))
    return t.finish()


def owner_of(pod: Pod) -> tuple[str, str, str] | None:
    """(kind, namespace/name, uid) of the pod's controller, or None."""
    ref = pod.metadata.controller_ref()
    return None if ref is None else (ref.kind, f"{pod.metadata.namespace}/{ref.name}", ref.uid)


def restored(state: ClusterState, owner: tuple[str, str, str]) -> bool | None:
    """For `pod-replacement-time`: True when the owner has its desired count of Ready,
    non-terminating pods on nodes whose heartbeats arrive; None if the owner is gone."""
    kind, key, uid = owner
    resource = {"ReplicaSet": "replicasets.apps", "StatefulSet": "statefulsets.apps"}.get(kind)
    namespace, _, name = key.partition("/")
    found = next((o for o in state.store.list(resource or "", namespace) if o.metadata.name == name), None) \
        if resource else None
    if not isinstance(found, ReplicaSet | StatefulSet) or found.metadata.uid != uid:
        return None
    healthy = sum(
        1 for p in state.store.list("pods", namespace)
        if isinstance(p, Pod) and (ref := p.metadata.controller_ref()) is not None and ref.uid == uid
        and is_pod_ready(p) and p.metadata.deletion_timestamp is None and p.spec.node_name
        and p.spec.node_name not in state.heartbeat_lost
    )
    return healthy >= (found.spec.replicas if found.spec.replicas is not None else 1)


def replacement_time(run: Run) -> list[Sample]:
    """Node lost → each controller that had a pod on it is back at its desired Ready count."""
    t = _Tracker("pod-replacement-time", run)
    owners: dict[str, tuple[str, str, str]] = {}
    for i, state in enumerate(run.states):
        before = run.states[i - 1] if i else None
        for node, lost_at in state.heartbeat_lost.sorted_items():
            if before is not None and node in before.heartbeat_lost:
                continue
            for pod in state.store.list("pods"):
                owner = owner_of(pod) if isinstance(pod, Pod) and pod.spec.node_name == node else None
                if owner is not None:
                    key = f"{node} lost: {owner[0]} {owner[1]}"
                    owners[key] = owner
                    t.open(key, key, i, lost_at)
        for key in sorted(t.started):
            done = restored(state, owners[key])
            if done is None:
                t.keep_only(set(t.started) - {key})
            elif done:
                t.close(key, i)
    return t.finish()


def _complete(d: Deployment) -> bool:
    want, s = d.spec.replicas if d.spec.replicas is not None else 1, d.status
    return (s.updated_replicas, s.replicas, s.available_replicas) == (want, want, want) and (
        s.observed_generation >= d.metadata.generation)


def rollout_duration(run: Run) -> list[Sample]:
    """A Deployment's generation changes (or it appears) → it is complete for that generation."""
    t = _Tracker("rollout-duration", run)
    generations: dict[str, int] = {}
    for i, state in enumerate(run.states):
        present = set()
        for d in state.store.list("deployments.apps"):
            if not isinstance(d, Deployment) or d.spec.paused:
                continue
            uid = d.metadata.uid
            present.add(uid)
            if generations.get(uid) != d.metadata.generation and not _complete(d):
                t.open(uid, f"Deployment {pod_key(d)}", i)
            generations[uid] = d.metadata.generation
            if _complete(d):
                t.close(uid, i)
        t.keep_only(present)
    return t.finish()


def _not_ready_nodes(state: ClusterState) -> set[str]:
    out = set()
    for n in state.store.list("nodes"):
        cond = find_condition(n.status.conditions, "Ready") if isinstance(n, Node) else None
        if cond is not None and cond.status != "True":
            out.add(n.metadata.name)
    return out


def eviction_latency(run: Run) -> list[Sample]:
    """A node's Ready condition leaves True → each pod bound to it gets a deletionTimestamp or is
    deleted; the node Ready again first cancels the wait."""
    t = _Tracker("eviction-latency", run)
    previous: set[str] = set()
    for i, state in enumerate(run.states):
        not_ready = _not_ready_nodes(state)
        pods = _pods(state)
        for uid in [u for u in t.started if u not in pods]:
            t.close(uid, i)
        for uid, pod in pods.items():
            if pod.metadata.deletion_timestamp is not None:
                t.close(uid, i)
            elif pod.spec.node_name in not_ready - previous:
                t.open(uid, f"{_pod_subject(pod)} on {pod.spec.node_name}", i)
            elif pod.spec.node_name not in not_ready:
                t.keep_only(set(t.started) - {uid})
        previous = not_ready
    return t.finish()


def _queues(state: ClusterState) -> Iterator[tuple[str, tuple[str, ...]]]:
    for name, ctl in state.controllers.sorted_items():
        queue = getattr(ctl, "queue", None)
        if isinstance(queue, tuple):
            yield name, queue


def queue_duration(run: Run) -> list[Sample]:
    """A key enters a controller's work queue → a worker takes it (`Reconcile`); keys a restart
    drops are not counted."""
    t = _Tracker("workqueue-queue-duration", run)
    for i, state in enumerate(run.states):
        act = run.actions[i - 1] if i else None
        if isinstance(act, Reconcile):
            t.close(f"{act.controller} {act.key}", i)
        queued = {f"{name} {key}" for name, queue in _queues(state) for key in queue}
        for subject in sorted(queued):
            t.open(subject, subject, i)
        t.keep_only(queued)
    return t.finish()


INTERVAL_METRICS: dict[str, Callable[[Run], list[Sample]]] = {
    "pod-scheduling-latency": scheduling_latency,
    "pod-startup-latency": startup_latency,
    "pod-replacement-time": replacement_time,
    "rollout-duration": rollout_duration,
    "eviction-latency": eviction_latency,
    "workqueue-queue-duration": queue_duration,
}
"""Every interval metric by name, in the order tables list them."""


def interval_samples(run: Run) -> tuple[Sample, ...]:
    """Every interval metric's samples over `run`."""
    return tuple(s for fn in INTERVAL_METRICS.values() for s in fn(run))
