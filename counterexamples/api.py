"""The Python API for your own property runs, usable in any pytest file:

    from kubeprop.counterexamples import check, assert_discovery, assert_no_discovery

    report = check("my-scenario/", properties=["node-not-overcommitted"], engine="bfs", max_depth=10)
    assert_no_discovery(report)           # fails with the rendered trace if a property failed

`check` loads the scenario, builds the model (variant, parameters), runs an engine from the
initial state and, when a property fails, records the trace as a `Counterexample` (written to
`save_to` if given). Engines are looked up in `ENGINES` (name → function taking
`(model, start, EngineConfig)` and returning an `EngineResult`); `register_engine` adds one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from kubeprop.counterexamples.format import Counterexample, write
from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.replay import replay
from kubeprop.counterexamples.trace import TraceError, record_result
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import Scenario, load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.engine import ActionFilter, EngineConfig
from kubeprop.properties.registry import PROPERTIES, Property, Violation, register

EngineFn = Callable[[ClusterModel, ClusterState, EngineConfig], Any]

ENGINES: dict[str, str | EngineFn] = {
    "bfs": "kubeprop.properties.explore.engine:run_bfs",
    "walk": "kubeprop.properties.explore.walk:run_walks",
    "hypothesis": "kubeprop.properties.explore.stateful:find_with_hypothesis",
}
"""Engine name → function, or its `module:attribute` path (imported on first use)."""


def register_engine(name: str, fn: EngineFn) -> None:
    """Make an engine available to `check(engine=name)`."""
    ENGINES[name] = fn


def engine_function(name: str) -> EngineFn:
    """The engine called `name` (KeyError names the valid ones)."""
    if name not in ENGINES:
        raise KeyError(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")
    found = ENGINES[name]
    if isinstance(found, str):
        module, _, attr = found.partition(":")
        found = getattr(importlib.import_module(module), attr)
        ENGINES[name] = found
    return found


@attrs.frozen
class CheckReport:
    """What `check` found: why the engine stopped, its counters, and — when a property failed —
    the violation, the trace from the initial state and the recorded counterexample (with the
    path it was written to, if `save_to` was given)."""

    engine: str
    exit_reason: str
    model: ClusterModel = attrs.field(repr=False)
    stats: Any = None
    violation: Violation | None = None
    trace: tuple[Action, ...] = ()
    counterexample: Counterexample | None = attrs.field(default=None, repr=False)
    path: Path | None = None
    note: str = ""

    @property
    def complete(self) -> bool:
        """True when the (filtered) state space was exhausted without a violation."""
        return self.exit_reason == "exhausted"

    @property
    def discoveries(self) -> dict[str, Counterexample | None]:
        """Property name → its counterexample (None if it could not be recorded)."""
        return {} if self.violation is None else {self.violation.property: self.counterexample}


def _properties(properties: Iterable[str | Property] | None) -> tuple[str, ...] | None:
    if properties is None:
        return None
    names = []
    for p in properties:
        if isinstance(p, Property):
            if PROPERTIES.get(p.name) is not p:
                register(p)
            names.append(p.name)
        else:
            names.append(p)
    return tuple(names)


def check(scenario: Scenario | Path | str | None = None, properties: Iterable[str | Property] | None = None, *,
          engine: str = "bfs", budget: float | None = 60.0, bounds: Bounds | None = None, variant: str | None = None,
          parameters: Mapping[str, Any] | None = None, seed: int = 0, action_filter: ActionFilter | None = None,
          config: EngineConfig | None = None, save_to: Path | str | None = None) -> CheckReport:
    """Run `engine` on a scenario (a Scenario, a path, or None for FeastFlow) and report.

    `properties`: names or Property values (None: every registered one). `budget`: seconds.
    `bounds`: depth / distinct-state / seconds bounds (override `budget`). `config`: a full
    EngineConfig (its seed, budget and bounds are replaced by the arguments given here)."""
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    model = build_model(loaded, parameters=dict(parameters or {}), variant=variant)
    base = config or EngineConfig()
    changes: dict[str, Any] = {"seed": seed, "budget_seconds": budget, "properties": _properties(properties)}
    if bounds is not None:
        changes.update(max_steps=bounds.max_states, budget_seconds=bounds.max_seconds)
        if bounds.max_depth is not None:
            changes["max_depth"] = bounds.max_depth
    if action_filter is not None:
        changes["action_filter"] = action_filter
    cfg = attrs.evolve(base, **changes)
    result = engine_function(engine)(model, initial_state(model), cfg)
    report = CheckReport(engine, result.exit_reason, model, getattr(result, "stats", None), result.violation,
                         tuple(result.trace))
    if result.violation is None:
        return report
    try:
        ce = record_result(model, result, seed=None if engine == "bfs" else seed,
                           settle_steps=cfg.settle_steps, settle_ticks=cfg.settle_ticks)
    except TraceError as err:
        return attrs.evolve(report, note=f"not recorded: {err}")
    path = write(ce, save_to) if save_to is not None else None
    return attrs.evolve(report, trace=ce.actions, counterexample=ce, path=path)


def explain(report: CheckReport) -> str:
    """The rendered trace of a report's violation (or a one-line summary when there is none)."""
    if report.violation is None:
        return f"no violation ({report.engine}: {report.exit_reason})"
    if report.counterexample is None:
        steps = "\n".join(f"  {i + 1}. {a}" for i, a in enumerate(report.trace))
        return f"{report.violation}\n{steps}\n{report.note}"
    return render_text(replay(report.counterexample, file=str(report.path or report.counterexample.file_name)))


def assert_no_discovery(report: CheckReport) -> None:
    """Fail (AssertionError with the rendered trace) if the run found a violation."""
    if report.violation is not None:
        raise AssertionError(f"{report.violation.property} failed:\n{explain(report)}")


def assert_discovery(report: CheckReport, property_name: str, actions: Sequence[Action | str] | None = None) -> None:
    """Fail unless the run found a violation of `property_name` — with exactly `actions` (Action
    values or their one-line text) as the trace, when given."""
    found = report.violation
    if found is None:
        raise AssertionError(f"expected a violation of {property_name}, but {report.engine} found none "
                             f"({report.exit_reason})")
    if found.property != property_name:
        raise AssertionError(f"expected a violation of {property_name}, found {found.property}:\n{explain(report)}")
    if actions is not None:
        want = [a if isinstance(a, str) else str(a) for a in actions]
        got = [str(a) for a in report.trace]
        if want != got:
            raise AssertionError("the trace differs:\n  expected: " + "\n            ".join(want)
                                 + "\n  found:    " + "\n            ".join(got))
