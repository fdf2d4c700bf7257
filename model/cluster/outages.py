"""A crashed process comes back within its bounded outage (a tick guard, `Hooks.tick_guards`).

`CrashComponent` takes a process down; `RestartComponent` brings it back and is enabled at any
point before. What bounds the outage is the process's supervisor, which the scenario does not
choose: the clock may not pass the crash time + the process's maximum outage while it is down
(`outage_holds_clock`), and a `Tick` that would jump past that time is shortened to land on it
(`tick_step`). Each crash spends the fault budget (`componentCrash`): a crash loop is several
crashes. The bounds are model parameters (docs/scenario.md, docs/release.md):

- **the controller manager and the scheduler** (`controllerManagerMaxOutageSeconds`,
  `schedulerMaxOutageSeconds`, 20 s): static pods of a kubeadm cluster. The kubelet notices the
  exit at its next relist (`pkg/kubelet/pleg/generic.go`, relist period 1 s: `pkg/kubelet/kubelet.go`
  genericPlegRelistPeriod) and starts the container again at once: no back-off before the first
  restart (`pkg/kubelet/kuberuntime/kuberuntime_manager.go` doBackOff: `IsInBackOffSince` is false
  for a container with no back-off entry; the back-off of 10 s doubling to 300 s applies only to
  exits that follow). The new process has a new identity, so it waits out its predecessor's leader
  lease: it takes the lock once the record it first observed is `LeaseDuration` old (15 s), trying
  every `RetryPeriod` (2 s) with a jitter of up to 1.2 times that
  (`staging/src/k8s.io/client-go/tools/leaderelection/leaderelection.go` tryAcquireOrRenew,
  isLeaseValid, acquire's `wait.JitterUntil(…, RetryPeriod, JitterFactor 1.2, …)`; the defaults:
  `staging/src/k8s.io/component-base/config/v1alpha1/defaults.go`
  RecommendedDefaultLeaderElectionConfiguration, LeaseDuration 15 s, RenewDeadline 10 s,
  RetryPeriod 2 s). 1 + 15 + 4.4 s: 20 s in the model's whole seconds.
- **a kubelet** (`kubeletMaxOutageSeconds`, 10 s): a systemd service, `Restart=always`,
  `RestartSec=10`, `StartLimitInterval=0` (kubeadm's packages: kubernetes/release
  `cmd/kubepkg/templates/latest/deb/kubelet/lib/systemd/system/kubelet.service`): started again
  10 s after it exits, however often. A kubelet whose node is down (`CrashNode`) has no bound:
  it cannot restart before its node does, and a node's recovery is the environment's choice
  (`RestartNode` may or may not happen: docs/engines.md). Once the node is back the bound applies
  again, from the kubelet's crash time (it starts with the node's boot).
- **an etcd member** (`etcdMemberMaxOutageSeconds`, 5 s): a static pod too (kubeadm's
  `/etc/kubernetes/manifests/etcd.yaml`), restarted at once like the others; it holds no lease and
  rejoins as soon as it has opened its data (its Raft term, vote and log persist): the kubelet's
  relist (1 s) and the member's start.

Left out: the kubelet's back-off on repeated exits of the same static pod. A second crash within
the back-off window restarts after 10 s, within the lease's wait; a third one of the same process
waits 20 s and more (doubling to 300 s) — the model still bounds it as above (budgets of three
component crashes are rare). The API server is not a process of the model (it is always up).

What the guard reads (`Tick`'s footprint, `kubeprop.model.cluster.footprint`, and the enabled-actions
cache's `_tick` key, `kubeprop.model.cluster.enabled_reads`, include it): the crash times, what is down
(a kubelet's node) and the clock.
"""

from __future__ import annotations

from kubeprop.model.cluster.exit_deadlines import next_deadline
from kubeprop.model.controllers.processes import OPERATOR_PREFIX
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ETCD_PREFIX, KUBELET_PREFIX, ClusterModel, ClusterState

__all__ = ["OUTAGE_PARAMETERS", "max_outage", "outage_holds_clock", "restart_deadline", "tick_step"]

OUTAGE_PARAMETERS = {
    "controller-manager": "controllerManagerMaxOutageSeconds",
    "scheduler": "schedulerMaxOutageSeconds",
    "kubelet": "kubeletMaxOutageSeconds",
    "etcd": "etcdMemberMaxOutageSeconds",
}
"""Kind of process → the model parameter of its maximum outage."""


def _kind(component: str) -> str:
    if component == CONTROLLER_MANAGER or component.startswith(OPERATOR_PREFIX):
        return "controller-manager"  # (an operator's own process: a Deployment's pod, restarted as promptly)
    if component.startswith(KUBELET_PREFIX):
        return "kubelet"
    if component.startswith(ETCD_PREFIX):
        return "etcd"
    return "scheduler"  # (the other processes that crash: the scheduler instances)


def max_outage(model: ClusterModel, component: str) -> int:
    """The longest a crashed `component` stays down, in seconds (its kind's parameter)."""
    return int(model.parameter(OUTAGE_PARAMETERS[_kind(component)]))


def restart_deadline(model: ClusterModel, state: ClusterState) -> int | None:
    """The earliest time a crashed process must be back by (its crash time + its maximum outage),
    over the processes that are down and can restart now; None when there is none (a kubelet
    whose node is down waits for the node)."""
    crashed = state.crashed_at
    if not crashed:  # (the common case: nothing crashed)
        return None
    due = [at + max_outage(model, c) for c, at in crashed.items()
           if not (c.startswith(KUBELET_PREFIX) and f"node/{c[len(KUBELET_PREFIX):]}" in state.down)]
    return min(due) if due else None


def outage_holds_clock(model: ClusterModel, state: ClusterState) -> bool:
    """True while some crashed process has reached its maximum outage: no `Tick` until it is
    restarted (`RestartComponent`)."""
    due = restart_deadline(model, state)
    return due is not None and due <= state.clock


def tick_step(model: ClusterModel, state: ClusterState) -> int:
    """The seconds a `Tick` from `state` moves the clock: the scenario's tick, shortened to land
    on the earliest restart deadline (`restart_deadline`) or deadline of a container's exit
    (`exit_deadlines.next_deadline`: `environment.exits`) when that comes sooner."""
    due = restart_deadline(model, state)
    ends = next_deadline(model, state)
    if ends is not None:
        due = ends if due is None else min(due, ends)
    if due is None:
        return model.tick_seconds
    return max(1, min(model.tick_seconds, due - state.clock))
