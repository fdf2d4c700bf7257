"""What a property needs to be able to fail (`Needs`), and the check that a declaration is one.

A property's `needs` (`kubeprop.properties.registry.Property.needs`) says what a scenario must be
able to produce for the property to be able to fail at all; `kubeprop.properties.vacuity` reports a
verdict on a scenario that cannot produce it as vacuous. A wrong declaration would crash that
judgement or make it false, so `needs_problems` checks one as the property is made
(`registry.as_property`) and before a check or gate runs (`vacuity.unknown_needs`). `registry`
re-exports these names.
"""

from __future__ import annotations

import difflib
import re

import attrs

from kubeprop.model.errors import UsageError

__all__ = ["NEEDS_EXAMPLE", "BadNeeds", "Needs", "needs_problems"]


@attrs.frozen
class Needs:
    """What a scenario must be able to produce for a property to be able to fail: an object of one
    of `resources` (qualified plurals: `services`, `statefulsets.apps`), and, for each group in
    `faults`, a budget for one of its fault kinds (`FaultBudget` field names: `node_crash`,
    `partition`, `component_crash`, …), and with `nodes` a node (a pod is bound to, runs on or
    overcommits only a node: a cluster without one cannot fail it). Empty means no requirement."""

    resources: tuple[str, ...] = ()
    faults: tuple[tuple[str, ...], ...] = ()
    nodes: bool = False


class BadNeeds(UsageError, TypeError):
    """A property's `needs` that is not a valid `Needs` (`needs_problems`): bad input, reported
    when the property is made (`as_property`, the decorators) and before a check or a gate runs
    (`kubeprop.properties.vacuity.unknown_needs`)."""


NEEDS_EXAMPLE = 'e.g. Needs(("pods",), faults=(("node_crash", "partition"),), nodes=True)'
"""What a valid `Needs` looks like, for the messages."""


def needs_problems(name: str, needs: object) -> list[str]:
    """Every problem of property `name`'s `needs` (None: it declares nothing): it must be a `Needs`
    whose `resources` are strings, whose `faults` are groups (tuples) of `FaultBudget` field names
    (`node_crash`, not the scenario's `nodeCrash`) and whose `nodes` is a bool. A wrong value would
    otherwise crash the check (a tuple has no `.faults`), or make the property read as vacuous —
    "no fault budget for nodeCrash" — where it could fail. Whether each resource names a kind of
    the scenario is `vacuity.unknown_needs`'s question (it takes the scenario's CRDs)."""
    if needs is None:
        return []
    if not isinstance(needs, Needs):
        hint = (f"; did you mean needs=Needs({tuple(needs)!r})?"
                if isinstance(needs, tuple | list) and needs and all(type(n) is str for n in needs) else "")
        return [f"property {name}: needs must be a Needs value (kubeprop.properties.registry.Needs, "
                f"{NEEDS_EXAMPLE}), got {_shown(needs)}{hint}"]
    problems = _resource_problems(name, needs.resources) + _fault_problems(name, needs.faults)
    if type(needs.nodes) is not bool:
        problems.append(f"property {name}: Needs' nodes must be True or False, got {_shown(needs.nodes)}")
    return problems


def _resource_problems(name: str, resources: object) -> list[str]:
    """What is wrong with a `Needs`' resources: a tuple of plain strings."""
    if not isinstance(resources, tuple | list):
        return [f"property {name}: Needs' resources must be a tuple of resource names "
                f"(e.g. Needs((\"jobs.batch\",))), got {_shown(resources)}"]
    return [f"property {name}: Needs names resource {_shown(r)}, not a plain string such as 'jobs.batch'"
            for r in resources if type(r) is not str]


def _fault_problems(name: str, faults: object) -> list[str]:
    """What is wrong with a `Needs`' faults: a tuple of non-empty groups of `FaultBudget` field names."""
    from kubeprop.model.fault_kinds import FAULT_KINDS

    shape = (f"property {name}: Needs' faults must be a tuple of groups, each a tuple of fault kinds one of which "
             f"needs a budget (e.g. faults=((\"node_crash\", \"partition\"),)), got {_shown(faults)}")
    if isinstance(faults, str) or not isinstance(faults, tuple | list):
        return [shape]
    if any(type(group) is str for group in faults):
        kinds = tuple(g for g in faults if type(g) is str)
        return [f"{shape}; did you mean faults=({kinds!r},)?"]
    problems = []
    for group in faults:
        if not isinstance(group, tuple | list) or not group:
            problems.append(f"{shape}: a group is {_shown(group)}")
            continue
        for kind in group:
            if type(kind) is not str:
                problems.append(f"property {name}: Needs names fault kind {_shown(kind)}, not a plain string such "
                                "as 'node_crash'")
            elif kind not in FAULT_KINDS:
                problems.append(f"property {name}: Needs names fault kind {kind!r}, which is not a FaultBudget "
                                f"field; {_meant_fault(kind, FAULT_KINDS)}")
    return problems


def _meant_fault(kind: str, kinds: tuple[str, ...]) -> str:
    """`did you mean 'node_crash'?` for a scenario's spelling (`nodeCrash`) or a close one, and the valid names."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", kind).lower()
    if snake in kinds:
        return (f"{kind!r} is how a scenario's `faults:` spells it: Needs takes the field name {snake!r}; "
                f"valid: {', '.join(kinds)}")
    close = difflib.get_close_matches(kind, kinds, n=1, cutoff=0.75)
    return (f"did you mean {close[0]!r}? " if close else "") + f"valid: {', '.join(sorted(kinds))}"


def _shown(value: object) -> str:
    """A wrong value as a message shows it: its type and repr (cut to 80 characters; a repr that
    raises — code of the user's — leaves only the type)."""
    kind = type(value).__name__
    if type(value) is not str and isinstance(value, str):
        return f"{str.__repr__(value)[:80]} ({kind}, a subclass of str: give a plain string)"
    try:
        text = repr(value)
    except Exception:  # (a repr of the user's that raises)
        return kind
    return f"{text[:77] + '...' if len(text) > 80 else text} ({kind})"
