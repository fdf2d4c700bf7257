"""The universe of actions, for persistent sets: one *representative* per action kind and target
(`TARGETS`: node, component, controller, scheduler, resource), standing for every action of that
kind and target the model can take, now or later, with their common footprint — what the stubborn
sets of `kubeprop.properties.explore.ample` close over.

Imports: `kubeprop.model.cluster.footprint` (the footprints and the kinds with a rule) and what the
domains of the targets come from (`informers`, `controllers.cache_sync`, the add-ons'
`descheduler.component`, `state.metrics`); `footprint` does not import it.
"""

from __future__ import annotations

from typing import Any

import attrs

from kubeprop.model.cluster.footprint import Footprint, Footprints, crashable, ruled_kinds
from kubeprop.model.controllers import hpa
from kubeprop.model.controllers.base import SyncInformer
from kubeprop.model.controllers.cache_sync import blockable
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel

TARGETS = ("node", "component", "controller", "scheduler", "resource")
"""The fields a footprint (or an action filter of the catalogue) depends on; an action's other
fields (pod, key, revision…) never change its footprint."""

Key = tuple[Any, ...]


def key_of(act: Action) -> Key:
    """The representative an action belongs to: its kind and its target fields."""
    return (type(act), *(getattr(act, name, None) for name in TARGETS))


class _Wildcard:
    """Equal to everything: the value of a representative's non-target fields, so that a `Match`
    on such a field keeps the representative (it stands for every value)."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "*"


WILDCARD = _Wildcard()


@attrs.frozen
class Representative:
    """Every action of one kind and target, enabled now or later, with their common footprint."""

    kind: type[Action]
    key: Key
    footprint: Footprint


def _stand_in(kind: type[Action], values: dict[str, Any]) -> Action:
    """An instance of `kind` with the given target fields and `WILDCARD` elsewhere (built without
    `__init__`, which would validate the fields)."""
    obj = object.__new__(kind)
    for field in attrs.fields(kind):  # type: ignore[arg-type]
        object.__setattr__(obj, field.name, values.get(field.name, WILDCARD))
    return obj


def _domains(f: Footprints) -> dict[str, tuple[Any, ...]]:
    from kubeprop.model.cluster.informers import components

    model = f.model
    return {"node": tuple(model.nodes), "component": tuple(dict.fromkeys((*components(model), *crashable(model)))),
            "controller": f.controllers, "scheduler": tuple(model.scheduler_instances)}


def representatives(f: Footprints, action_filter: object = None) -> tuple[Representative, ...]:
    """One representative per known action kind and target of `f.model` — an over-approximation of
    every action the model can take. An `Allow`/`Match` filter (whose semantics are known) drops
    the representatives it rejects; any other filter is ignored (the universe stays larger)."""
    from kubeprop.model.cluster.informers import watched

    domains = _domains(f)
    keep = action_filter if type(action_filter).__name__ in ("Allow", "Match") else None
    out: dict[Key, Representative] = {}
    for kind in ruled_kinds():
        names = [a.name for a in attrs.fields(kind) if a.name in TARGETS]
        combos: list[dict[str, Any]] = [{}]
        for name in names:
            if name == "resource":
                combos = [{**c, "resource": r} for c in combos for r in watched(f.model, c.get("component", ""))]
            elif kind is SyncInformer:  # only a controller whose LISTs RBAC decides can wait for a sync
                combos = [{**c, name: v} for c in combos for v in blockable(f.model.controllers, f.model.api.users)]
            else:
                combos = [{**c, name: v} for c in combos for v in domains[name]]
        for values in combos:
            act = _stand_in(kind, values)
            if keep is not None and not keep(act):  # type: ignore[operator]
                continue
            out.setdefault(key_of(act), Representative(kind, key_of(act), f.of_kind(act)))
    return tuple(out.values())


def addon_kinds_possible(model: ClusterModel) -> bool:
    """True if the model may take an action of a kind without a footprint rule (`EVERYTHING`): the
    HPA controller, the descheduler, environment rules or changes, maintenance, etcd restores,
    overload."""
    from kubeprop.model.descheduler.component import policy
    from kubeprop.model.state.metrics import rules

    budget = model.budget
    return (hpa.uses_hpa(model) or policy(model) is not None or bool(rules(model))
            or any(getattr(budget, k) for k in ("maintenance", "usage_change", "etcd_restore", "overload")))
