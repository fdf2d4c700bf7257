"""The fault kinds a scenario may budget and a run may inject, as one count per kind.

`FaultCounts` is the shape both sides share: a scenario's budget (`model.scenario.schema.FaultBudget`,
how many of each kind exploration may inject before `Quiesce`) and what a run has spent so far
(`model.state.cluster.FaultsSpent`, part of every state). Adding a fault kind is one field here.
Kinds added after the first release are left out of state fingerprints while zero
(`"omit-if-default"`), so that pinned state counts and corpus fingerprints stay the same.
"""

from __future__ import annotations

import attrs

__all__ = ["FAULT_KINDS", "FaultCounts"]

_LATER = {"fingerprint": "omit-if-default"}


@attrs.frozen
class FaultCounts:
    """A count per fault kind (see the module docstring)."""

    node_crash: int = 0
    partition: int = 0
    container_crash: int = 0
    component_crash: int = 0
    watch_drop: int = 0
    request_failure: int = 0
    maintenance: int = attrs.field(default=0, metadata=_LATER)
    """Node maintenances (cordon, drain, uncordon of one node, started when the cluster is stable)."""
    usage_change: int = attrs.field(default=0, metadata=_LATER)
    """Changes of a declared usage level or load level (`environment.usage`)."""
    etcd_restore: int = attrs.field(default=0, metadata=_LATER)
    """Restores of etcd from a snapshot taken earlier (`model.cluster.restore`)."""
    overload: int = attrs.field(default=0, metadata=_LATER)
    """Overloads of the API server (`model.cluster.overload`)."""


FAULT_KINDS: tuple[str, ...] = tuple(f.name for f in attrs.fields(FaultCounts))
"""Every fault kind, in declaration order."""
