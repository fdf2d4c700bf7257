"""The Python API for your own property runs, usable in any pytest file:

    from kubeprop.counterexamples import check, assert_discovery, assert_no_discovery

    report = check("my-scenario/", properties=["node-not-overcommitted"], engine="bfs", max_depth=10)
    assert_no_discovery(report)           # fails with the rendered trace if a property failed

`check` loads the scenario, builds the model (variant, parameters), runs an engine from the
initial state and, when a property fails, records the trace as a `Counterexample` (written to
`save_to` if given). The engines and their registry are `kubeprop.properties.explore.runner`
(`ENGINES`, `register_engine`, re-exported here).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
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
from kubeprop.model.state.cluster import ClusterModel
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.engine import ActionFilter, EngineConfig
from kubeprop.properties.explore.runner import ENGINES, configure, register_engine, run_engine
from kubeprop.properties.registry import Property, Violation

__all__ = [
    "ENGINES", "CheckReport", "assert_discovery", "assert_no_discovery", "check", "explain", "register_engine",
]


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
    found_after: float | None = None
    """Seconds from the call until the violation was found (loading included; shrinking and
    recording it not), when the engine says."""

    @property
    def complete(self) -> bool:
        """True when the (filtered) state space was exhausted without a violation."""
        return self.exit_reason == "exhausted"

    @property
    def discoveries(self) -> dict[str, Counterexample | None]:
        """Property name → its counterexample (None if it could not be recorded)."""
        return {} if self.violation is None else {self.violation.property: self.counterexample}


def check(scenario: Scenario | Path | str | None = None, properties: Iterable[str | Property] | None = None, *,
          engine: str = "portfolio", budget: float | None = 60.0, bounds: Bounds | None = None,
          variant: str | None = None, parameters: Mapping[str, Any] | None = None, seed: int = 0,
          action_filter: ActionFilter | None = None, config: EngineConfig | None = None,
          save_to: Path | str | None = None) -> CheckReport:
    """Run `engine` on a scenario (a Scenario, a path, or None for FeastFlow) and report.

    `engine`: a name in `ENGINES`; the default, `portfolio`, runs every engine in turns and stops
    at the first counterexample (`kubeprop.properties.explore.portfolio`).
    `properties`: names of built-ins or Property values (None: every registered one); a Property
    value is checked without being registered. `budget`: wall-clock seconds for the whole call
    (loading, the search, shrinking and recording the counterexample), of which the engine gets
    all but `recording_reserve(budget)`.
    `bounds`: depth / distinct-state / seconds bounds (override `budget`). `config`: a full
    EngineConfig (its seed, budget and bounds are replaced by the arguments given here)."""
    began = time.perf_counter()
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    model = build_model(loaded, parameters=dict(parameters or {}), variant=variant)
    start = initial_state(model)
    if budget is not None:
        budget = max(0.0, budget - recording_reserve(budget) - (time.perf_counter() - began))
    cfg = configure(config, properties=properties, seed=seed, budget=budget, bounds=bounds,
                    action_filter=action_filter)
    engine_began = time.perf_counter() - began
    result = run_engine(engine, model, start, cfg)
    stats = getattr(result, "stats", None)
    found = getattr(stats, "found_after", None)
    report = CheckReport(engine, result.exit_reason, model, stats, result.violation, tuple(result.trace),
                         found_after=None if found is None else engine_began + found)
    if result.violation is None:
        return report
    try:
        ce = record_result(model, result, seed=None if engine == "bfs" else seed,
                           settle_steps=cfg.settle_steps, settle_ticks=cfg.settle_ticks,
                           properties=[p for p in cfg.properties or () if isinstance(p, Property)])
    except TraceError as err:
        return attrs.evolve(report, note=f"not recorded: {err}")
    path = write(ce, save_to) if save_to is not None else None
    return attrs.evolve(report, trace=ce.actions, counterexample=ce, path=path)


def recording_reserve(budget: float) -> float:
    """Seconds of a budget kept for recording a counterexample (replaying and fingerprinting its
    trace, and its fair continuation for a convergence property): a tenth, at most a second."""
    return min(1.0, budget / 10)


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
