"""Properties of a user's with mistakes (user trial 13): one raises, one returns a number. Values, not
registered: a scenario names the one it checks (`copier_props:RAISING`)."""

from __future__ import annotations

from typing import Any

from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import as_property


def raising_property(model: ClusterModel, state: ClusterState) -> None:
    return state.store.nope  # type: ignore[attr-defined,no-any-return]


def number_property(model: ClusterModel, state: ClusterState) -> Any:
    return 42 if state.store.revision > 0 else None


RAISING = as_property("copier-raising-property", "Raises.", "none", "safety", raising_property)
NUMBER = as_property("copier-number-property", "Returns a number.", "none", "safety", number_property)
