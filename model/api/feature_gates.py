"""Fields the API server keeps or drops by feature gate, as the modelled release has them.

Upstream each registry strategy drops, in PrepareForCreate and PrepareForUpdate, the fields of a
feature whose gate is off, unless the stored object already uses them (`dropXDisabledFields`:
"if !Enabled(gate) && !inUse(old) { new.field = nil }"), and the versioned defaults set a gated
field's default only where the gate is on. Validation runs after both, so a dropped field is
never validated. The gates follow the model's release parameters (docs/release.md):

- StatefulSet `spec.updateStrategy.rollingUpdate.maxUnavailable`: gate MaxUnavailableStatefulSet
  (alpha, off, from v1.24; beta, on, from v1.35: `pkg/features/kube_features.go`), parameter
  `maxUnavailableStatefulSet`; `pkg/registry/apps/statefulset/strategy.go`
  dropStatefulSetDisabledFields, maxUnavailableInUse; `pkg/apis/apps/v1/defaults.go`
  SetDefaults_StatefulSet (maxUnavailable 1 where the gate is on).

`GATED_FIELDS` lists them; `dropped_by_gates` names those a sent object set and the stored one
lacks, for `kubeprop validate` to report.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.codec import FieldPath, json_name
from kubeprop.model.evolve import evolve

__all__ = ["GATED_FIELDS", "GatedField", "apply_gates", "dropped_by_gates"]


@attrs.frozen
class GatedField:
    """A field of one kind that the API server stores only where its feature gate is on."""

    kind: type[Any]
    path: FieldPath
    gate: str
    parameter: str
    """The model parameter that turns the gate on (docs/release.md)."""


MAX_UNAVAILABLE = GatedField(StatefulSet, ("spec", "updateStrategy", "rollingUpdate", "maxUnavailable"),
                             "MaxUnavailableStatefulSet", "maxUnavailableStatefulSet")

GATED_FIELDS: tuple[GatedField, ...] = (MAX_UNAVAILABLE,)


def _max_unavailable(obj: StatefulSet) -> Any:
    rolling = obj.spec.update_strategy.rolling_update
    return None if rolling is None else rolling.max_unavailable


def _with_max_unavailable(obj: StatefulSet, value: Any) -> StatefulSet:
    strategy = obj.spec.update_strategy
    assert strategy.rolling_update is not None
    rolling = evolve(strategy.rolling_update, max_unavailable=value)
    return evolve(obj, spec=evolve(obj.spec, update_strategy=evolve(strategy, rolling_update=rolling)))


def apply_gates(new: Any, old: Any, max_unavailable_stateful_set: bool) -> Any:
    """`new` (defaulted; `old` the stored object of an update, None for a create) with the gated
    defaults and drops: SetDefaults_StatefulSet's `maxUnavailable: 1` for a RollingUpdate set with a
    `rollingUpdate` where MaxUnavailableStatefulSet is on; dropStatefulSetDisabledFields where it is
    off and the stored set does not use the field (maxUnavailableInUse)."""
    if not isinstance(new, StatefulSet) or new.spec.update_strategy.rolling_update is None:
        return new
    if max_unavailable_stateful_set:
        if new.spec.update_strategy.type == "RollingUpdate" and _max_unavailable(new) is None:
            return _with_max_unavailable(new, 1)
        return new
    in_use = isinstance(old, StatefulSet) and _max_unavailable(old) is not None
    if _max_unavailable(new) is not None and not in_use:
        return _with_max_unavailable(new, None)
    return new


def _value(obj: Any, path: FieldPath) -> Any:
    """The value at an (attrs) field path of `obj`, by JSON names; None where a step is absent."""
    value = obj
    for step in path:
        if value is None or not attrs.has(type(value)):
            return None
        names = {json_name(f): f.name for f in attrs.fields(type(value))}
        value = getattr(value, names[str(step)], None)
    return value


def dropped_by_gates(sent: Any, stored: Any) -> tuple[GatedField, ...]:
    """The gated fields `sent` sets and the API server did not store (`stored`: the object it wrote)."""
    return tuple(g for g in GATED_FIELDS if isinstance(sent, g.kind) and isinstance(stored, g.kind)
                 and _value(sent, g.path) is not None and _value(stored, g.path) is None)
