"""Named model variants: the bug catalogue's failures, each the correct model with one mechanism
changed through an *ordinary* parameter or component choice (never a code path that exists only
to fail a test).

A variant is a set of parameter overrides applied over the scenario's own parameters
(`build_model(scenario, variant=...)`). `docs/variants.md` explains each one with its source.

Some of a variant's overrides are not its bug but what lets the bug show (`SETTINGS`): lagging
informer caches are how upstream runs, the variant only refuses the `instantCaches` reduction. The
variant's *correct twin* (`kubeprop.model.cluster.twin`) keeps those and drops the rest, its
`mechanism`: what the variant changes of upstream's behaviour.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.errors import UnknownName
from kubeprop.model.frozen import FrozenMap


@attrs.frozen
class Variant:
    """One named variant: what it changes, where the failure comes from, what catches it."""

    name: str
    parameters: FrozenMap[str, Any]
    source: str
    mechanism: str
    caught_by: str


def _v(name: str, parameters: dict[str, Any], source: str, mechanism: str, caught_by: str) -> Variant:
    return Variant(name, FrozenMap(parameters), source, mechanism, caught_by)


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    _v("correct", {}, "upstream Kubernetes", "the model as upstream behaves", "—"),
    _v("rs-no-expectations", {"replicaSetExpectations": False, "instantCaches": False},
       "kubernetes#129795, kubernetes PR #8138",
       "the ReplicaSet controller acts on a stale pod cache without expectations",
       "owned active pods ≤ spec.replicas; convergence"),
    _v("ds-no-expectations", {"daemonSetExpectations": False, "instantCaches": False},
       "mutation of pkg/controller/daemon/daemon_controller.go (expectations, as kubernetes#129795 for ReplicaSets)",
       "the DaemonSet controller acts on a stale pod cache without expectations and creates a second pod on a node",
       "daemonset-one-pod-per-node"),
    _v("job-legacy-tracking", {"jobTrackingWithFinalizers": False},
       "kubernetes#28486 and the issues of KEP-2307 (fixed by JobTrackingWithFinalizers, GA in v1.26)",
       "the Job controller counts the finished pods it finds in its cache; nothing holds a finished pod until it "
       "is counted, so one that podgc or a user deletes first is never counted and its work runs again",
       "job-pods-counted"),
    _v("cronjob-no-name-lock", {"cronJobNameLock": False},
       "the hazard pkg/controller/cronjob/cronjob_controllerv2.go syncCronJob names (\"we need to use the job name "
       "as a lock to prevent us from making the job twice\"; getJobName)",
       "the CronJob controller gives each Job a generated name: a sync that does not see its own last create (a "
       "failed status write, a restart between the create and the write) starts the same activation's Job again",
       "cronjob-one-job-per-schedule"),
    _v("endpoints-terminating", {"endpointsIncludeTerminating": True}, "kubernetes#54723",
       "a terminating pod that still reports Ready stays in the ready addresses",
       "endpoints' ready set ⊆ pods Ready ∧ not terminating ∧ matching"),
    _v("endpoints-liveness", {"endpointsReadinessSource": "containers-running"},
       "seed §4.3 'liveness probe failing → remove from Endpoints'",
       "endpoints follow container liveness (running) instead of the Ready condition",
       "endpoints' ready set ⊆ pods Ready ∧ not terminating ∧ matching"),
    _v("endpoints-stale-cache", {"endpointsStaleCacheTracking": False, "instantCaches": False},
       "kubernetes#125638, #127429 (fixed in v1.31 by PR #125675)",
       "the Endpoints controller compares desired addresses with a cached Endpoints older than its own last "
       "write (no stale-resourceVersion tracker) and skips the update",
       "endpoints' ready set ⊆ pods Ready ∧ not terminating ∧ matching; endpoints match the Ready pods"),
    _v("nodelifecycle-crash", {"markPodsNotReadyOnTransitionOnly": True}, "kubernetes#50067, #135205",
       "pods are marked NotReady only on the node's Ready→Unknown transition, remembered in memory; "
       "a crash in between loses it", "node NotReady ⇒ eventually its pods are not Ready and leave endpoints"),
    _v("sts-split-brain", {"statefulSetReplaceTerminatingPods": True},
       "seed §4.4 'New postgres-0 pod created on node-2'",
       "the StatefulSet controller force-deletes a pod on an unreachable node and replaces it before the "
       "kill is confirmed", "at most one running container per stateful identity and ReadWriteOnce volume"),
    _v("rollout-fencepost", {"rolloutUnavailableOneWhenBothZero": False}, "mutation of ResolveFenceposts",
       "maxSurge and maxUnavailable both resolve to 0 without the 'unavailable = 1' rule",
       "rollout convergence"),
    _v("scheduler-ignores-taints", {"schedulerDisabledFilters": ("TaintToleration",)},
       "mutation of the default scheduler", "the TaintToleration filter is disabled",
       "scheduler soundness: every binding satisfies all hard constraints"),
    _v("watch-time-travel", {"listFromWatchCache": True, "instantCaches": False}, "kubernetes#59848 (PR #60478)",
       "LISTs are served from a second API server's lagging watch cache; a restarted kubelet relists, sees a pod "
       "that was already deleted and replaced elsewhere, and runs it",
       "at most one running pod per name; no client sees resourceVersion go backwards"),
    _v("dual-scheduler", {"leaderElection": False, "schedulerInstances": 2, "instantCaches": False},
       "kubernetes#136782", "two scheduler instances without leader election, each with its own assume cache",
       "Σ requests ≤ allocatable and pods ≤ maxPods on every node"),
)}


SETTINGS: frozenset[str] = frozenset({"instantCaches"})
"""Parameters a variant may set that are no part of its bug: `instantCaches: false` is upstream's
own behaviour (every component reads an informer cache that lags the store), which the bug needs
to show. The correct twin of a variant's model keeps them."""


def mechanism(name: str) -> FrozenMap[str, Any]:
    """The overrides of a variant that are its bug (its parameters but `SETTINGS`)."""
    return FrozenMap({k: v for k, v in variant_parameters(name).items() if k not in SETTINGS})


def variant_parameters(name: str) -> FrozenMap[str, Any]:
    """The parameter overrides of a variant (KeyError names the valid variants)."""
    if name not in VARIANTS:
        raise UnknownName(f"unknown variant {name!r}; valid: {', '.join(VARIANTS)}")
    return VARIANTS[name].parameters
