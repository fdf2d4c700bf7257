"""The Python API for your own property runs, usable in any pytest file:

    from kubeprop.counterexamples import check, assert_discovery, assert_no_discovery

    report = check("my-scenario/", properties=["node-not-overcommitted"], engine="bfs", max_depth=10)
    assert_no_discovery(report)           # fails with the rendered trace if a property failed

`check` loads the scenario, builds the model (variant, parameters), runs an engine from the
initial state and, when a property fails, records the trace as a `Counterexample` (written to
`save_to` if given). A violation that is known behaviour of Kubernetes itself
(`kubeprop.properties.upstream_behaviour`; `Discovery.upstream`) does not end the search, as it
does not for `kubeprop check`: the search goes on for the other properties until one fails in a
way not known upstream (`stop_at_upstream=True`: stop at any violation). With
`all_discoveries=True` it keeps searching for every property not yet violated
(`kubeprop.properties.explore.discoveries`) and records one counterexample per violated property
(`CheckReport.found`). Without `properties`, it checks every registered property
and the scenario's own (`properties:`). The engines and their registry are `kubeprop.properties.explore.runner`
(`ENGINES`, `register_engine`, re-exported here).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from kubeprop.counterexamples.check_bounds import UNSET, CheckBounds, Unset, check_bounds
from kubeprop.counterexamples.format import write
from kubeprop.counterexamples.format_records import Counterexample
from kubeprop.counterexamples.output import OutputError
from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.replay import replay
from kubeprop.counterexamples.trace import TraceError, record_result
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.errors import UsageError
from kubeprop.model.scenario.load import Scenario
from kubeprop.model.scenario.schema import parameter_problem
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.discoveries import SearchOn, Unfinished, discover, merged_stats
from kubeprop.properties.explore.engine import ActionFilter, EngineConfig
from kubeprop.properties.explore.runner import ENGINES, configure, register_engine, run_engine
from kubeprop.properties.explore.shrink_clock import shrink_note
from kubeprop.properties.modules import checked_properties, load_own_scenario, scenario_properties
from kubeprop.properties.registry import Property, Violation, select
from kubeprop.properties.upstream_behaviour import UpstreamBehaviour, explanation, match
from kubeprop.properties.upstream_behaviour_search import SearchedOn, SearchPast, searchable, searched_on

__all__ = [
    "ENGINES", "CheckInterrupted", "CheckReport", "Discovery", "assert_discovery", "assert_no_discovery", "check",
    "explain", "register_engine",
]


@attrs.frozen
class Discovery:
    """One violated property: the violation, the trace from the initial state, the recorded
    counterexample and where it was written (or a note saying why it was not recorded)."""

    violation: Violation
    trace: tuple[Action, ...] = ()
    counterexample: Counterexample | None = attrs.field(default=None, repr=False)
    path: Path | None = None
    note: str = ""
    found_length: int = 0
    """How many of `trace`'s actions the engine found; the rest is the fair continuation recording
    appended to a convergence counterexample (its file ends in the state the property fails in)."""
    unshrunk: bool = False
    """Found by a run that was interrupted (Ctrl-C) before it could shrink the trace."""
    upstream: UpstreamBehaviour | None = None
    """The known upstream behaviour this violation is (`kubeprop.properties.upstream_behaviour.match`
    on the recorded trace, as `kubeprop check` lists it apart), or None. Under a variant, one the
    variant plays no part in (the trace replays on the correct twin to the same violation:
    `kubeprop.properties.upstream_twin`)."""
    shrink_cut: float | None = None
    """Seconds shrinking ran when the budget's clock cut it short (`EngineStats.shrink_cut`): a
    faster or quieter machine may shrink the same find further. None: it did not."""
    shrink_bound: int | None = None
    """The step bound that stopped shrinking before its end (`EngineStats.shrink_bound`,
    `EngineConfig.max_shrink_steps`): the same on any machine. None: it did not."""
    shrink_steps: int = 0
    """The steps shrinking replayed and judged (`EngineStats.shrink_steps`)."""
    shrink_shared: bool = False
    """The clock that cut shrinking was its share of the budget (`EngineStats.shrink_shared`)."""

    @property
    def shrink_note(self) -> str:
        """What the report and the counterexample file say of a shrinking stopped before its end
        ("" if it was not)."""
        return shrink_note(self.shrink_cut, self.shrink_bound, self.shrink_shared)


@attrs.frozen
class CheckReport:
    """What `check` found: why the engine stopped, its counters, and — when a property failed —
    the violation, the trace from the initial state and the recorded counterexample (with the
    path it was written to, if `save_to` was given). `found` holds every discovery in the order
    found (with `all_discoveries=False`: the known upstream behaviours found on the way, then at most
    one other); the fields `violation` … `note` are the first one's that is not known upstream
    behaviour, or the first one's when all are."""

    engine: str
    exit_reason: str
    model: ClusterModel = attrs.field(repr=False)
    stats: Any = None
    violation: Violation | None = None
    trace: tuple[Action, ...] = ()
    counterexample: Counterexample | None = attrs.field(default=None, repr=False)
    path: Path | None = None
    note: str = ""
    found: tuple[Discovery, ...] = ()
    properties: tuple[Property, ...] = attrs.field(default=(), repr=False)
    """The properties the run checked."""
    found_after: float | None = None
    """Seconds into the engine's search until the violation was found (before shrinking and
    recording it), when the engine says: on the clock of `stats.seconds`, so that the two can be
    printed side by side (loading the scenario and building the model count in neither)."""
    bounds: CheckBounds | None = attrs.field(default=None, repr=False)
    """The depth, state and time bounds the check ran with, and where each came from (given, the
    scenario's `bounds:`, or the default)."""
    searched_on: tuple[SearchedOn, ...] = ()
    """For each property whose violation was known upstream behaviour, what the search for it found
    after (`upstream_behaviour_search.SearchedOn`: a violation of the user's, a later entry of
    `found`, or how far it searched on without one)."""

    @property
    def complete(self) -> bool:
        """True when the (filtered) state space was exhausted without a violation."""
        return self.exit_reason == "exhausted"

    @property
    def discoveries(self) -> dict[str, Counterexample | None]:
        """Property name → its counterexample (None if it could not be recorded)."""
        return {d.violation.property: d.counterexample for d in self.found}

    def discovery(self, name: str) -> Discovery | None:
        """The discovery of property `name`, if the run found one."""
        return next((d for d in self.found if d.violation.property == name), None)


def check(scenario: Scenario | Path | str | None = None, properties: Iterable[str | Property] | None = None, *,
          engine: str = "portfolio", budget: float | Unset | None = UNSET, bounds: Bounds | None = None,
          variant: str | None = None, parameters: Mapping[str, Any] | None = None, seed: int = 0,
          action_filter: ActionFilter | None = None, config: EngineConfig | None = None,
          save_to: Path | str | None = None, all_discoveries: bool = False,
          stop_at_upstream: bool = False) -> CheckReport:
    """Run `engine` on a scenario (a Scenario, a path, or None for FeastFlow) and report.

    `engine`: a name in `ENGINES`; the default, `portfolio`, runs every engine in turns and stops
    at the first counterexample (`kubeprop.properties.explore.portfolio`).
    `properties`: names of registered properties or of the scenario's own (`properties:`), or
    Property values (None: what `kubeprop check` checks, `modules.checked_properties`: every
    registered one, the opt-in built-ins the scenario enables and the scenario's); a Property value is checked
    without being registered. `budget`: wall-clock seconds for the whole call (loading, the
    search, shrinking and recording the counterexample), of which the engine gets all but
    `recording_reserve(budget)`; recording a counterexample found late gets at least that reserve,
    so the call may end up to `recording_reserve(budget)` past the budget (None: unbounded).
    `bounds`: depth / distinct-state / seconds bounds; a field left None is not set here (its
    seconds, when set, override `budget`). `config`: a
    full EngineConfig (its seed, budget and bounds are replaced by the arguments given here).
    The scenario's `bounds:` (maxDepth, maxStates, timeLimitSeconds) are the defaults, as for
    `kubeprop check`: each applies when the call leaves its bound unset — `budget` not passed and
    no `bounds`; a depth or state bound neither in `bounds` (not None) nor set in `config` (other
    than EngineConfig's default) — else 60 s, EngineConfig's depth, no state bound
    (`check_bounds.check_bounds`; `CheckReport.bounds` says which applied).
    `all_discoveries`: go on after a violation until every property has one (or the engine is
    done), one counterexample each. Without it the search stops at the first violation that is
    not known upstream behaviour: one that is (`Discovery.upstream`; under a `variant`, only one the
    variant plays no part in: its trace replays on the correct twin, `upstream_twin`) is recorded
    and the search goes on for the other properties — for the variant's own bug — as
    `kubeprop check` does (its `--strict` only changes the exit code); `stop_at_upstream=True`
    stops at the first violation of any kind."""
    began = time.perf_counter()
    for name, value in (parameters or {}).items():
        problem = parameter_problem(name, value)
        if problem is not None:
            raise UsageError(f"parameter {name}: {problem}")
    loaded = scenario if isinstance(scenario, Scenario) else load_own_scenario(scenario)
    chosen_bounds = _chosen_bounds(loaded, budget, bounds, config)
    return _check(loaded, properties, engine, chosen_bounds, began, variant=variant, parameters=parameters,
                  seed=seed, action_filter=action_filter, config=config, save_to=save_to,
                  mode=_Mode(all_discoveries, stop_at_upstream))


def _chosen_bounds(loaded: Scenario, budget: float | Unset | None, bounds: Bounds | None,
                   config: EngineConfig | None) -> CheckBounds:
    """The bounds `check` runs with (see its docstring)."""
    default = EngineConfig()
    depth: int | Unset | None = UNSET
    states: int | Unset | None = UNSET
    if bounds is not None and bounds.max_depth is not None:
        depth = bounds.max_depth
    elif config is not None and config.max_depth != default.max_depth:
        depth = config.max_depth
    if bounds is not None and bounds.max_states is not None:
        states = bounds.max_states
    elif config is not None and config.max_states is not None:
        states = config.max_states
    seconds = bounds.budget_seconds if bounds is not None and bounds.budget_seconds is not None else budget
    return check_bounds(loaded.spec.bounds, max_depth=depth, max_states=states, budget=seconds,
                        default_depth=default.max_depth)


def _check(loaded: Scenario, properties: Iterable[str | Property] | None, engine: str, chosen_bounds: CheckBounds,
           began: float, *, variant: str | None, parameters: Mapping[str, Any] | None, seed: int,
           action_filter: ActionFilter | None, config: EngineConfig | None, save_to: Path | str | None,
           mode: _Mode) -> CheckReport:
    """`check` once its scenario is loaded and its bounds chosen."""
    model = build_model(loaded, parameters=dict(parameters or {}), variant=variant)
    wanted = None if properties is None else list(properties)
    if wanted is None:  # what `kubeprop check` checks: the opt-in built-ins the scenario enables too
        chosen = checked_properties(loaded)
    else:
        known = {p.name for p in select()}
        own = any(isinstance(n, str) and n not in known for n in wanted)
        chosen = select(wanted, extra=scenario_properties(loaded) if own else ())
    start = initial_state(model)
    total = chosen_bounds.budget.value
    budget = None if total is None else max(0.0, total - recording_reserve(total) - (time.perf_counter() - began))
    depth, states = chosen_bounds.max_depth.value, chosen_bounds.max_states.value
    cfg = configure(config, properties=chosen, seed=seed, budget=budget, action_filter=action_filter,
                    bounds=Bounds(None if depth is None else int(depth), None if states is None else int(states),
                                  budget))
    # recording keeps to the whole budget, though it gets at least its reserve after the engine
    results, found, searched = _run_and_record(
        engine, model, start, cfg, mode, None if engine == "bfs" else seed,
        save_to, lambda: None if total is None else max(began + total, time.perf_counter() + recording_reserve(total)))
    last = results[-1]
    stats = getattr(last, "stats", None) if len(results) == 1 else merged_stats(results)
    found_at = getattr(getattr(results[0], "stats", None), "found_after", None)
    report = CheckReport(engine, last.exit_reason, model, stats, found=found, properties=chosen,
                         found_after=found_at, bounds=chosen_bounds, searched_on=searched)
    if not found:
        return report
    first = next((d for d in found if d.upstream is None), found[0])
    return attrs.evolve(report, violation=first.violation, trace=first.trace, counterexample=first.counterexample,
                        path=first.path, note=first.note)


@attrs.frozen
class _Mode:
    """When `check` stops searching: `all_discoveries`, or at the first violation (of any kind with
    `stop_at_upstream`, else the first not known upstream)."""

    all_discoveries: bool
    stop_at_upstream: bool


def _run_and_record(engine: str, model: ClusterModel, start: ClusterState, cfg: EngineConfig, mode: _Mode,
                    seed: int | None, save_to: Path | str | None, recording_deadline: Callable[[], float | None]
                    ) -> tuple[tuple[Any, ...], tuple[Discovery, ...], tuple[SearchedOn, ...]]:
    """The engine's runs (see `_Mode`), their violations recorded by `recording_deadline()`, and
    what the search on past each known upstream one found (`upstream_behaviour_search`); a
    violation is recorded as it is found, since whether it is known upstream decides how the search
    goes on. Ctrl-C raises `CheckInterrupted` with what was found before it."""
    results: tuple[Any, ...] = ()
    recorded: list[tuple[Any, Discovery]] = []

    def record(result: Any) -> Discovery:
        done = next((d for r, d in recorded if r is result), None)
        if done is None:
            done = _discovery(model, result, cfg, seed, save_to, recording_deadline())
            recorded.append((result, done))
        return done

    def run(c: EngineConfig) -> Any:
        return run_engine(engine, model, start, c)

    def known(result: Any) -> bool:
        return searchable(result.violation.property) and record(result).upstream is not None

    searching = SearchPast(model, ())
    hooks = SearchOn(known, searching.searching)
    try:
        if mode.all_discoveries:
            results = discover(run, cfg, search_on=hooks)
        elif mode.stop_at_upstream:
            results = (run(cfg),)
        else:
            results = discover(run, cfg, stop=lambda r: record(r).upstream is None, search_on=hooks)
        return results, _once(record(r) for r in results if r.violation is not None), searched_on(
            results, known, searching)
    except KeyboardInterrupt as err:
        unfinished = err if isinstance(err, Unfinished) else Unfinished(
            tuple(r for r in results if r.violation is not None))
        found = _record_interrupted(model, unfinished, cfg, seed, save_to)
        raise CheckInterrupted(CheckReport(engine, INTERRUPTED, model, found=found, properties=_properties(cfg))
                               ) from None


def _once(found: Iterable[Discovery]) -> tuple[Discovery, ...]:
    """The discoveries, each property's known upstream behaviour once: an engine that does not ask
    `EngineConfig.excuse` (one registered by a user) reports it again when searched on past it."""
    kept: list[Discovery] = []
    for d in found:
        if d.upstream is None or not any(k.upstream is not None and k.violation.property == d.violation.property
                                         for k in kept):
            kept.append(d)
    return tuple(kept)


def _properties(cfg: EngineConfig) -> tuple[Property, ...]:
    """The Property values a configuration checks."""
    return tuple(p for p in cfg.properties or () if isinstance(p, Property))


def _discovery(model: ClusterModel, result: Any, cfg: EngineConfig, seed: int | None,
               save_to: Path | str | None, deadline: float | None = None) -> Discovery:
    """An engine result with a violation, recorded as a counterexample (and written to `save_to`)
    by `deadline` (else noted as not recorded)."""
    stats = getattr(result, "stats", None)
    cut, bound = getattr(stats, "shrink_cut", None), getattr(stats, "shrink_bound", None)
    shared = bool(getattr(stats, "shrink_shared", False))
    try:
        ce = record_result(model, result, seed=seed, settle_steps=cfg.settle_steps, settle_ticks=cfg.settle_ticks,
                           properties=list(_properties(cfg)), deadline=deadline, note=shrink_note(cut, bound, shared))
    except TraceError as err:
        trace = tuple(result.trace)
        return Discovery(result.violation, trace, note=f"not recorded: {err}", found_length=len(trace),
                         upstream=match(model, result.violation, trace))
    upstream = match(model, result.violation, ce.actions)
    try:
        path = write(ce, save_to) if save_to is not None else None
    except OutputError as err:  # the violation stands; only its file is missing (a link planted at its name)
        return Discovery(result.violation, ce.actions, ce, None, note=f"not recorded: {err}",
                         found_length=len(result.trace), upstream=upstream)
    return Discovery(result.violation, ce.actions, ce, path, found_length=len(result.trace), upstream=upstream,
                     shrink_cut=cut, shrink_bound=bound, shrink_steps=getattr(stats, "shrink_steps", 0),
                     shrink_shared=shared)


INTERRUPTED = "interrupted"
"""The exit reason of a check stopped by Ctrl-C (`CheckInterrupted`)."""

RECORDING_AFTER_INTERRUPT = 2.0
"""Seconds a check interrupted by Ctrl-C spends recording what it had found (replaying each trace,
writing its file); a violation not recorded by then is listed with its trace's length only."""


class CheckInterrupted(KeyboardInterrupt):
    """A Ctrl-C during `check`: `report` (exit reason `INTERRUPTED`, no figures) holds every
    violation found before it, recorded and written as usual where that took no more than
    `RECORDING_AFTER_INTERRUPT` seconds — unshrunk if the interrupt came before shrinking."""

    def __init__(self, report: CheckReport) -> None:
        super().__init__()
        self.report = report


def _record_interrupted(model: ClusterModel, unfinished: Unfinished, cfg: EngineConfig, seed: int | None,
                        save_to: Path | str | None) -> tuple[Discovery, ...]:
    """The violations an interrupted search had found (`Unfinished`), recorded within
    `RECORDING_AFTER_INTERRUPT` seconds; a second Ctrl-C stops the recording (files are written
    atomically: each is whole or absent) and the rest are listed as not recorded."""
    results = [(r, False) for r in unfinished.found] + [(r, True) for r in unfinished.unshrunk]
    deadline = time.perf_counter() + RECORDING_AFTER_INTERRUPT
    found: list[Discovery] = []
    try:
        for result, unshrunk in results:
            found.append(attrs.evolve(_discovery(model, result, cfg, seed, save_to, deadline), unshrunk=unshrunk))
    except KeyboardInterrupt:
        for result, unshrunk in results[len(found):]:
            trace = tuple(result.trace)
            found.append(Discovery(result.violation, trace, note="not recorded: interrupted again",
                                   found_length=len(trace), unshrunk=unshrunk,
                                   upstream=match(model, result.violation, trace)))
    return tuple(found)


def recording_reserve(budget: float) -> float:
    """Seconds of a budget kept for recording a counterexample (replaying and fingerprinting its
    trace, and its fair continuation for a convergence property): a tenth, at most a second."""
    return min(1.0, budget / 10)


UNWRITTEN = ("not written to a file (check() was called without save_to=)",
             'pass save_to= to check() (save_to="kubeprop-out", say): it then writes the counterexample file, and '
             "this message names the file and the kubeprop replay command that replays it")
"""What `explain` says in place of the file and its replay command when `check` wrote no file: a
`kubeprop replay` line naming a file that does not exist would send the user after it."""


def explain(report: CheckReport) -> str:
    """The rendered trace of a report's violation (or a one-line summary when there is none); the
    file and the command that replays it when `check` wrote one (`save_to`), else `UNWRITTEN`."""
    if report.violation is None:
        return f"no violation ({report.engine}: {report.exit_reason})"
    if report.counterexample is None:
        steps = "\n".join(f"  {i + 1}. {a}" for i, a in enumerate(report.trace))
        return f"{report.violation}\n{steps}\n{report.note}"
    ce = report.counterexample
    # Recorded in this process from the caller's own scenario: its modules are trusted, as when it was loaded.
    spec = report.model.scenario.spec
    trusted = {ref.partition(":")[0] for ref in (*spec.admission, *spec.controllers)} | {ce.property.module}
    result = replay(ce, file=str(report.path or ce.file_name), allow_imports=trusted)
    return render_text(result, unwritten=None if report.path is not None else UNWRITTEN)


def assert_no_discovery(report: CheckReport) -> None:
    """Fail (AssertionError with the rendered trace) if the run found a violation — known upstream
    behaviour too (the message then says which, with its citations)."""
    if report.violation is not None:
        first = next((d for d in report.found if d.violation == report.violation), None)
        known = "" if first is None or first.upstream is None else "\n".join(
            ("", "known upstream behaviour:", *explanation(first.upstream, variant=report.model.variant)))
        raise AssertionError(f"{report.violation.property} failed:{known}\n{explain(report)}")


def assert_discovery(report: CheckReport, property_name: str, actions: Sequence[Action | str] | None = None) -> None:
    """Fail unless the run found a violation of `property_name` (among all its discoveries) — with
    exactly `actions` (Action values or their one-line text) as the trace, when given."""
    found = report.discovery(property_name)
    if report.violation is None:
        raise AssertionError(f"expected a violation of {property_name}, but {report.engine} found none "
                             f"({report.exit_reason})")
    if found is None:
        others = ", ".join(d.violation.property for d in report.found)
        raise AssertionError(f"expected a violation of {property_name}, found {others}:\n{explain(report)}")
    if actions is not None:
        want = [a if isinstance(a, str) else str(a) for a in actions]
        got = [str(a) for a in found.trace]
        if want != got:
            raise AssertionError("the trace differs:\n  expected: " + "\n            ".join(want)
                                 + "\n  found:    " + "\n            ".join(got))
