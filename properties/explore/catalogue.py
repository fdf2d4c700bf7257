"""Action filters that restrict a search to the part of the cluster a catalogue bug lives in.

Shared by the tests, the catalogue benchmark and users' own searches; each is an `Allow` value, so
it pickles to walk workers. See docs/catalogue.md for how they are used.
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
