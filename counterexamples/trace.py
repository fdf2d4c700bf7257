"""Turning an engine's result into a Counterexample: re-run the trace from the initial state,
check every action is enabled and the property fails where claimed, and fingerprint every state.

    report = bfs(model, initial_state(model), props, bounds)
    ce = record(model, report.trace, report.violation, engine="bfs")
    path = write(ce, "counterexamples/found/")

Traces always start at `initial_state(model)`: an engine that started elsewhere (after a
`settle`, say) prepends the actions that led there.
"""

from __future__ import annotations

import datetime
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from typing import Any

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.counterexamples.format_records import (
    CONTINUATION_START,
    Counterexample,
    EngineRecord,
    Expectation,
    Mode,
    ViolationRecord,
)
from kubeprop.counterexamples.printable import shown
from kubeprop.counterexamples.recorded import property_record
from kubeprop.counterexamples.scenario_pack import pack
from kubeprop.model.api.codec import freeze_json
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import continuations
from kubeprop.model.errors import UsageError
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.scenario.variants import variant_parameters
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.shrink_continuation import shown_continuation
from kubeprop.properties.registry import Property, Violation, select


class TraceError(ValueError):
    """A trace that cannot be recorded: an action not enabled, or no violation where claimed."""


def kubeprop_version() -> str:
    """The installed kubeprop version (`unknown` when not installed)."""
    try:
        return metadata.version("kubeprop")
    except metadata.PackageNotFoundError:
        return "unknown"


def now_utc() -> str:
    """The current UTC time as RFC 3339 with a Z suffix, to the second — or, when the environment
    sets `SOURCE_DATE_EPOCH` (https://reproducible-builds.org/specs/source-date-epoch/: seconds
    since 1970, an ASCII integer), that time, so that two runs write byte-identical files. A value
    that is not one is a UsageError (exit 2), as the specification asks, not silently ignored."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        moment = datetime.datetime.now(datetime.UTC)
    else:
        if not re.fullmatch("[0-9]{1,12}", epoch):
            raise UsageError(f"SOURCE_DATE_EPOCH: expected seconds since 1970-01-01 (a non-negative integer), got "
                             f"{shown(repr(epoch[:40]))}")
        moment = datetime.datetime.fromtimestamp(int(epoch), datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def overrides(model: ClusterModel) -> dict[str, Any]:
    """The parameters the model was built with beyond the scenario's and its variant's."""
    base = dict(PARAMETERS)
    base.update(model.scenario.spec.parameters)
    base.update(variant_parameters(model.variant))
    return {k: v for k, v in model.parameters.items() if k not in base or base[k] != v}


def _check_controllers(model: ClusterModel) -> None:
    rebuilt = build_model(model.scenario, parameters=overrides(model), variant=model.variant)
    ours, theirs = [c.name for c in model.controllers], [c.name for c in rebuilt.controllers]
    if ours != theirs or any(type(a) is not type(b) for a, b in zip(model.controllers, rebuilt.controllers,
                                                                     strict=True)):
        raise TraceError("the model has controllers added in code; a counterexample file cannot record them "
                         "(name them in the scenario's `controllers:` instead)")


def states_along(model: ClusterModel, trace: Iterable[Action], start: ClusterState | None = None
                 ) -> list[ClusterState]:
    """The states of `trace` from `start` (default: the initial state), each action checked enabled."""
    state = initial_state(model) if start is None else start
    out = [state]
    for i, act in enumerate(trace):
        if act not in actions(model, state):
            raise TraceError(f"step {i + 1}: {act} is not enabled")
        state = step(model, state, act)
        out.append(state)
    return out


def _property(violation: Violation | None, prop: Property | None) -> Property:
    if prop is not None:
        return prop
    if violation is None:
        raise TraceError("record needs a violation or a property")
    try:
        return select([violation.property])[0]
    except KeyError:
        raise TraceError(f"property {violation.property!r} is not registered; pass it as `prop`") from None


def record(model: ClusterModel, trace: Sequence[Action], violation: Violation | None = None, *,
           prop: Property | None = None, engine: str = "bfs", seed: int | None = None,
           options: Mapping[str, Any] | None = None, mode: Mode = "inline",
           expectation: Expectation | None = None, note: str = "", verify: bool = True,
           created: str | None = None) -> Counterexample:
    """A Counterexample for `trace` (from the model's initial state) failing `prop` (default: the
    registered property `violation` names) in its last state, where every reader expects the
    violation (`format_read.step_problems`: a file with another `violation.step` is bad input).

    With `verify`, the property must fail at that step (TraceError otherwise); the recorded
    message and objects are the ones the property reports there. `verify=False` records a trace
    the property holds on (a corpus file expected to PASS): the message is then the given
    violation's, from the model where it failed.
    """
    _check_controllers(model)
    chosen = _property(violation, prop)
    states = states_along(model, trace)
    at = len(trace)
    found = chosen(model, states[at])
    if verify and found is None:
        raise TraceError(f"{chosen.name} holds at step {at}: nothing to record")
    shown = found or violation or Violation(chosen.name, "")
    return Counterexample(
        scenario=pack(model.scenario, mode),
        variant=model.variant,
        parameters=FrozenMap(overrides(model)),
        property=property_record(chosen),
        violation=ViolationRecord(at, shown.message, tuple(shown.objects)),
        actions=tuple(trace),
        fingerprints=tuple(fingerprint(s) for s in states),
        engine=EngineRecord(engine, seed, FrozenMap(freeze_json(dict(options or {})))),
        kubeprop_version=kubeprop_version(),
        created=created or now_utc(),
        expectation=expectation,
        note=note,
    )


OUT_OF_BUDGET = "the budget ran out while following the fair continuation (the violation stands; no file recorded)"


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() >= deadline


def _as_lasso(model: ClusterModel, result: Any, trace: tuple[Action, ...], violation: Violation, settle_steps: int,
              seed: int | None, options: Mapping[str, Any] | None, mode: Mode,
              deadline: float | None = None, note: str = "") -> Counterexample | None:
    """A lasso file for a lasso engine's result, or for a `settles` livelock of the convergence
    check (the fair continuation from the quiesced end state, until its cycle closes); None for
    any other result."""
    from kubeprop.counterexamples.lasso import cycle_property_named, record_lasso
    from kubeprop.properties.oscillation import select_cycle

    start = getattr(result, "cycle_start", None)
    engine = str(getattr(result, "engine", "bfs"))
    if start is not None:
        prop = cycle_property_named(violation.property, "<result>")
        return record_lasso(model, trace[:len(trace) - len(result.trace) + start], trace[len(trace) -
                            len(result.trace) + start:], prop, engine=engine, seed=seed, options=options, mode=mode,
                            note=note)
    if violation.property != "settles":
        return None
    from kubeprop.properties.explore.lasso import lasso_from_state

    found = lasso_from_state(model, states_along(model, trace)[-1], select_cycle(), max_steps=settle_steps,
                             deadline=deadline)
    if found is None and _past(deadline):
        raise TraceError(OUT_OF_BUDGET)
    if found is None:
        raise TraceError(f"the fair continuation closes no cycle within {settle_steps} steps (no lasso to record)")
    prefix, cycle, closed = found
    return record_lasso(model, (*trace, *prefix), cycle, cycle_property_named(closed.property, "<result>"),
                        engine=engine, seed=seed, options=options, mode=mode, note=note)


def _failing_continuation(model: ClusterModel, end: ClusterState, prop: Property, settle_steps: int,
                          settle_ticks: int, deadline: float | None = None) -> tuple[Action, ...]:
    """The fair continuation from `end` on which `prop` fails (the one where the environment
    recovers, else the one where it does not: `continuations`); the first one if none does.
    TraceError when `deadline` cuts it (a cut run proves nothing)."""
    runs = list(continuations(model, end, max_steps=settle_steps, max_ticks=settle_ticks, deadline=deadline))
    if any(run.interrupted for _, run in runs):  # (one that finished after the deadline still counts)
        raise TraceError(OUT_OF_BUDGET)
    for recovers, run in runs:
        if (recovers or not prop.needs_recovery) and prop(model, run.state) is not None:
            return shown_continuation(model, end, run.trace, prop)  # up to where it is stuck
    return runs[0][1].trace


def record_result(model: ClusterModel, result: Any, *, start_trace: Sequence[Action] = (), seed: int | None = None,
                  settle_steps: int = 5000, settle_ticks: int = 100, options: Mapping[str, Any] | None = None,
                  mode: Mode = "inline", properties: Sequence[Property] = (),
                  deadline: float | None = None, note: str = "") -> Counterexample:
    """A Counterexample from an engine result (`EngineResult` or the BFS `Report`: anything with
    `trace` and `violation`, and optionally `engine`). `start_trace` leads from the initial state
    to where the engine started. A convergence violation's trace ends where the fair
    continuation starts, so that continuation (`settle`) is appended: the file then ends in the
    settled state the property fails in. `properties`: the Property values the run checked (a
    caller's own property is found there without being registered). `deadline` (a
    `time.perf_counter()` value) bounds following the fair continuation: past it, TraceError.
    `note`: the file's note (what shrinking left undone, `shrink_clock.shrink_note`)."""
    violation: Violation | None = result.violation
    if violation is None:
        raise TraceError("the result has no violation")
    trace = (*start_trace, *result.trace)
    lasso = _as_lasso(model, result, trace, violation, settle_steps, seed, options, mode, deadline, note)
    if lasso is not None:
        return lasso
    given = [p for p in properties if p.name == violation.property]
    prop = _property(violation, given[0] if given else None)
    if prop.kind == "convergence":
        options = {**(options or {}), CONTINUATION_START: len(trace)}  # where the fair continuation starts
        trace = (*trace, *_failing_continuation(model, states_along(model, trace)[-1], prop, settle_steps,
                                                settle_ticks, deadline))
    return record(model, trace, violation, prop=prop, engine=str(getattr(result, "engine", "bfs")), seed=seed,
                  options=options, mode=mode, note=note)
