"""Code of a user's that calls `sys.exit(0)` (audit 20b, F0): left alone, the check ended with exit 0
and printed nothing, which CI reads as "held". A controller whose reconcile, or whose event handler,
exits; properties that exit, one made with `as_property` (the boundary reports it) and one built as a
bare `Property` (no boundary: the CLI's last line of defence, exit 4); a property raising kubeprop's own
`OutOfBudget` (the user's error, not the budget's end)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

import attrs
from copier import Copier

from kubeprop.model.api.objects import ApiObject
from kubeprop.model.controllers.base import Reconciliation
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.state.informer import ObjectView
from kubeprop.properties.calls import OutOfBudget
from kubeprop.properties.registry import Property, Violation, as_property


@attrs.frozen
class ExitingReconcile(Copier):
    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        sys.exit(0)


@attrs.frozen
class ExitingKeys(Copier):
    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        sys.exit(0)


def exiting_property(model: ClusterModel, state: ClusterState) -> None:
    sys.exit(0)


def out_of_budget_property(model: ClusterModel, state: ClusterState) -> None:
    raise OutOfBudget("not kubeprop's cutoff")


def unguarded(model: ClusterModel, state: ClusterState) -> Violation | None:
    sys.exit(0)


FIRST: list[int] = []
"""The store revision of the first state `unguarded_later` judged (the initial one: in the checking
process, before walk workers are forked, which inherit it)."""


def unguarded_later(model: ClusterModel, state: ClusterState) -> Violation | None:
    """Calls sys.exit(0) on any state after the first write: in a walk worker process."""
    if not FIRST:
        FIRST.append(state.store.revision)
    if state.store.revision > FIRST[0]:
        sys.exit(0)
    return None


EXITING_RECONCILE = ExitingReconcile()
EXITING_KEYS = ExitingKeys()
EXITING = as_property("exiting-property", "Calls sys.exit(0).", "none", "safety", exiting_property)
OUT_OF_BUDGET = as_property("out-of-budget-property", "Raises OutOfBudget.", "none", "safety", out_of_budget_property)
UNGUARDED = Property("unguarded-exit", "A bare Property calling sys.exit(0).", "none", unguarded)
UNGUARDED_LATER = Property("unguarded-exit-later", "A bare Property calling sys.exit(0) after a write.", "none",
                           unguarded_later)
