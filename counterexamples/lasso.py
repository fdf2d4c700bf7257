"""Lassos as counterexample files: record a stem and a cycle, replay them, say where the cycle closes.

A lasso file (schema version 2, `lasso.cycleStart` = k) replays like any file — every action
must still be enabled and every state keep its fingerprint — and then:

- the cycle must *close*: the state after the last action has the cycle key of the state after
  the stem (step k); `Closure` says so, with the keys' fingerprints;
- the cycle runs once more from where it closed, each action matched by its abstract label, and
  must close again (`repeats`);
- the verdict is REPRODUCES when the cycle property fails on the cycle, PASSES when it holds on
  it, STALE as for any file — and when the cycle does not close: the cycle property is then not
  judged at all, so that is no evidence that the oscillation is gone (`open_cycle_reason`). Where
  every state keeps its recorded fingerprint, the file's own states are no cycle: `lasso.cycleStart`
  or the trace was edited (a cycle start moved, a trace cut inside its cycle), or kubeprop's cycle
  key changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.counterexamples.format_records import (
    Counterexample,
    CounterexampleError,
    EngineRecord,
    PropertyRecord,
    ViolationRecord,
)
from kubeprop.counterexamples.scenario_pack import pack
from kubeprop.model.api.codec import freeze_json
from kubeprop.model.api.manifests import Problem
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.cyclekey import Abstraction
from kubeprop.properties.explore.lasso import confirm
from kubeprop.properties.oscillation import CYCLE_PROPERTIES, Cycle, CycleProperty
from kubeprop.properties.registry import Violation


@attrs.frozen
class Closure:
    """Where a lasso's cycle closes: the cycle starts after step `start` and ends after step
    `end`; `closes` when both states have the same cycle key (`key` is its short hex); `repeats`
    when the cycle ran once more from the end and closed again."""

    start: int
    end: int
    closes: bool
    key: str
    end_key: str
    repeats: bool
    seconds: int


def cycle_property_named(name: str, file: str, given: Iterable[Any] = ()) -> CycleProperty:
    """The cycle property a lasso file names (given ones first, then the registry)."""
    for prop in given:
        if isinstance(prop, CycleProperty) and prop.name == name:
            return prop
    found = CYCLE_PROPERTIES.get(name)
    if found is None:
        raise CounterexampleError([Problem(file, 0, "property.name", f"{name!r} is not a registered cycle property; "
                                           f"known: {', '.join(sorted(CYCLE_PROPERTIES))}")])
    return found


def cycle_record(prop: CycleProperty) -> PropertyRecord:
    """A cycle property as a lasso file records it (`record_lasso` writes this; replay compares with it)."""
    return PropertyRecord(prop.name, prop.statement, "liveness", prop.upstream,
                          str(getattr(prop.check, "__module__", "") or ""))


def record_lasso(model: ClusterModel, stem: Sequence[Action], cycle: Sequence[Action], prop: CycleProperty, *,
                 engine: str = "lasso", seed: int | None = None, options: Mapping[str, Any] | None = None,
                 mode: Any = "inline", note: str = "", created: str | None = None) -> Counterexample:
    """A lasso Counterexample (from the model's initial state); TraceError unless the cycle closes
    and the property fails on it."""
    from kubeprop.counterexamples.trace import (
        TraceError,
        _check_controllers,
        kubeprop_version,
        now_utc,
        overrides,
        states_along,
    )

    _check_controllers(model)
    trace = (*stem, *cycle)
    states = states_along(model, trace)
    start = len(stem)
    abstraction = Abstraction.of(model, states[0])
    if abstraction.key(states[start]) != abstraction.key(states[-1]):
        raise TraceError(f"the cycle does not close: the state after step {len(trace)} differs from the one after "
                         f"step {start} beyond names, counters and the clock")
    found = prop(model, Cycle(tuple(states[start:]), tuple(cycle)))
    if found is None:
        raise TraceError(f"{prop.name} holds on the cycle: nothing to record")
    return Counterexample(
        scenario=pack(model.scenario, mode), variant=model.variant, parameters=FrozenMap(overrides(model)),
        property=cycle_record(prop),
        violation=ViolationRecord(len(trace), found.message, tuple(found.objects)),
        actions=tuple(trace), fingerprints=tuple(fingerprint(s) for s in states),
        engine=EngineRecord(engine, seed, FrozenMap(freeze_json(dict(options or {})))),
        kubeprop_version=kubeprop_version(), created=created or now_utc(), note=note, cycle_start=start,
    )


def closure(model: ClusterModel, ce: Counterexample, states: Sequence[ClusterState]) -> Closure | None:
    """Where the replayed cycle closes (None when the replay did not reach the cycle's end)."""
    start = ce.cycle_start
    if start is None or len(states) < len(ce.actions) + 1:
        return None
    abstraction = Abstraction.of(model, states[0])
    begin, end = abstraction.key(states[start]), abstraction.key(states[-1])
    repeats = begin == end and confirm(model, abstraction, states[start:], ce.actions[start:], 1)
    return Closure(start, len(ce.actions), begin == end, begin.hex()[:12], end.hex()[:12], repeats,
                   states[-1].clock - states[start].clock)


def judge(model: ClusterModel, ce: Counterexample, states: Sequence[ClusterState], file: str,
          given: Iterable[Any] = ()) -> tuple[Violation | None, Closure | None]:
    """The cycle property on the replayed cycle (None when it holds or the cycle no longer closes:
    replay tells the two apart by the `Closure`, and does not pass a cycle that is not closed)."""
    shut = closure(model, ce, states)
    if shut is None or not shut.closes or ce.cycle_start is None:
        return None, shut
    prop = cycle_property_named(ce.property.name, file, given)
    start = ce.cycle_start
    return prop(model, Cycle(tuple(states[start:]), tuple(ce.actions[start:]))), shut


def open_cycle_reason(ce: Counterexample, shut: Closure | None, states: Sequence[ClusterState], name: str) -> str:
    """Why a lasso whose cycle does not close (or was not reached: `shut` None) is STALE, naming the
    field to look at; it says that `name`, the cycle property, was not judged."""
    start, end = ce.cycle_start, len(ce.actions)
    skipped = f"{name} was not judged (it is judged on a closed cycle only)"
    if shut is None:
        return f"the replay did not reach the end of the cycle (steps {(start or 0) + 1}–{end}); {skipped}"
    cycle = (f"the cycle (steps {start + 1 if start is not None else '?'}–{end}) does not close: the state after step "
             f"{end} (cycle key {shut.end_key}) differs from the one after step {shut.start} (cycle key {shut.key})")
    last = fingerprint(states[end]) if len(states) > end else None
    if last is not None and last != ce.fingerprints[end]:
        return (f"the state after step {end} differs from the recorded one (fingerprint {last}, recorded "
                f"{ce.fingerprints[end]} in trace[{end - 1}].fingerprint) and {cycle}: the model changed (or the "
                f"file was edited), and the trace shows no cycle any more; {skipped} — run the lasso search again to "
                "see whether the oscillation is gone")
    return (f"lasso.cycleStart: {cycle}, although every state has its recorded fingerprint: the file's own states "
            f"form no cycle from lasso.cycleStart {start} (lasso.cycleStart or the trace was edited, or kubeprop's "
            f"cycle key changed); {skipped}")


def closure_lines(ce: Counterexample, shut: Closure | None) -> list[str]:
    """The lines `kubeprop replay` prints about the cycle."""
    if ce.cycle_start is None:
        return []
    if shut is None:
        return [f"lasso: the replay did not reach the end of the cycle (steps {ce.cycle_start + 1}–{len(ce.actions)})"]
    if not shut.closes:
        return [f"lasso: the cycle (steps {shut.start + 1}–{shut.end}) no longer closes: the state after step "
                f"{shut.end} (key {shut.end_key}) differs from the one after step {shut.start} (key {shut.key})"]
    again = "ran once more from there and closed again" if shut.repeats else "did NOT close again when run once more"
    return [f"lasso: stem of {shut.start} steps, cycle of {shut.end - shut.start} steps ({shut.seconds} s of model "
            f"time); the cycle closes after step {shut.end}: same cycle key ({shut.key}) as after step "
            f"{shut.start}, so steps {shut.start + 1}–{shut.end} repeat forever; the cycle {again}"]
