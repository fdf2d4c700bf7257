"""`around_search._kind`: what `_Search.deviations` makes of an action's class, worked out once per
class, is what the `isinstance` checks it stands for say — for every action class of the model
(`Quiesce` never a deviation, the faults costed, the other environment actions kept by the fault
injection member, any other action left to the full search)."""

from __future__ import annotations

from kubeprop.model.cluster import compose  # noqa: F401  (imports every component's actions)
from kubeprop.model.state.actions import Action, Quiesce
from kubeprop.properties.explore.around_cost import ENVIRONMENT_KINDS, FAULT_KINDS
from kubeprop.properties.explore.around_search import _ENVIRONMENT, _FAULT, _OTHER, _SKIP, _kind


def _classes(cls: type) -> set[type]:
    out = {cls}
    for sub in cls.__subclasses__():
        out |= _classes(sub)
    return out


def test_each_action_class_is_of_the_kind_its_isinstance_checks_say() -> None:
    classes = _classes(Action)
    assert len(classes) > 50  # (the model's actions were imported)
    kinds = set()
    for cls in classes:
        kind = _kind(cls)
        kinds.add(kind)
        assert (kind == _SKIP) == issubclass(cls, Quiesce), cls
        if kind != _SKIP:
            assert (kind == _FAULT) == issubclass(cls, FAULT_KINDS), cls
            assert (kind == _OTHER) == (not issubclass(cls, ENVIRONMENT_KINDS)), cls
    assert kinds == {_SKIP, _FAULT, _ENVIRONMENT, _OTHER}
