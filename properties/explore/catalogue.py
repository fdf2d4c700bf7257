"""The bug catalogue as the engines meet it: which user-written scenario shows each cluster-level
variant and which properties catch it (`USER_SCENARIOS`), and action filters that restrict a
search to the part of the cluster a catalogue bug lives in (the prepared-start figures).

Shared by the tests, the catalogue benchmark and users' own searches; each filter is an `Allow`
value, so it pickles to walk workers. See docs/catalogue.md for how they are used.
"""

from __future__ import annotations

from kubeprop.properties.explore.engine import Allow, allow, match

REPLICASET_RACE: Allow = allow(
    match("Reconcile", controller=("deployment", "replicaset")),
    match("Deliver", component="controller-manager", resource=("pods", "replicasets.apps")),
)
"""The Deployment and ReplicaSet controllers and their pod/ReplicaSet watch events (rs-no-expectations)."""

DUAL_SCHEDULER: Allow = allow(
    "Schedule", "Bind", match("Reconcile", controller="replicaset"),
    match("Deliver", resource="pods", component=("scheduler", "scheduler-2", "controller-manager")),
)
"""Two schedulers, the ReplicaSet controller and pod watch events (dual-scheduler)."""


USER_SCENARIOS: dict[str, tuple[str, tuple[str, ...]]] = {
    "rs-no-expectations": ("web", ("replicaset-no-overcreation",)),
    "endpoints-terminating": ("web", ("endpoints-ready-pods",)),
    "endpoints-liveness": ("web", ("endpoints-ready-pods",)),
    "endpoints-stale-cache": ("web-flap", ("endpoints-ready-pods", "endpoints-match-ready-pods")),
    "nodelifecycle-crash": ("web", ("pods-on-unknown-nodes-not-ready", "endpoints-match-ready-pods")),
    "rollout-fencepost": ("web-rollout", ("deployments-complete",)),
    "sts-split-brain": ("db", ("one-running-pod-per-identity", "read-write-once-volume-on-one-node")),
    "watch-time-travel": ("db-failover", ("one-running-pod-per-identity", "resource-versions-monotonic")),
    "scheduler-ignores-taints": ("tainted", ("bindings-respect-hard-constraints", "scheduler-decisions-sound")),
    "dual-scheduler": ("tight", ("node-not-overcommitted", "scheduler-decisions-sound")),
}
"""Variant → (the scenario of tests/model/data/catalogue, as a user writes it, that shows it; the
properties that catch it, the bug catalogue's first)."""

MORE_USER_SCENARIOS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("sts-split-brain", "shop", ("one-running-pod-per-identity", "read-write-once-volume-on-one-node")),
)
"""Further (variant, scenario, properties that catch it) rows: a variant on a larger scenario of
tests/model/data/catalogue that a user wrote for their whole app rather than for the variant (shop:
a web Deployment with a PodDisruptionBudget and a database StatefulSet on three workers, a node
crash and a partition in the fault budget)."""
