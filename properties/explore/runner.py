"""The runner: one entry point that runs a named engine on a model with an explicit property set.

`ENGINES` maps an engine name to its function (`(model, start, EngineConfig) -> EngineResult`) or
to the function's `module:attribute` path, imported on first use; `register_engine` adds one. The
properties to check travel in the `EngineConfig` as names of built-ins or `Property` values, so a
caller's own property is checked without being registered anywhere global.

`kubeprop.counterexamples.check` is this runner plus recording the trace as a counterexample file;
the `kubeprop check` command builds on that.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from kubeprop.model.errors import UnknownName
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.calls import OutOfBudget, cut_at, grace, ledger, merged, since
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.collector import fewer_collections
from kubeprop.properties.explore.engine import ActionFilter, EngineConfig, EngineResult, EngineStats, ExitReason
from kubeprop.properties.explore.slicing import CUT_NOTE
from kubeprop.properties.registry import Property

__all__ = ["ENGINES", "EngineFn", "configure", "engine_function", "register_engine", "run_engine"]

EngineFn = Callable[[ClusterModel, ClusterState, EngineConfig], Any]

ENGINES: dict[str, str | EngineFn] = {
    "portfolio": "kubeprop.properties.explore.portfolio:run_portfolio",
    "around": "kubeprop.properties.explore.around:run_around_fair",
    "faults": "kubeprop.properties.explore.around:run_fault_injection",
    "perturb": "kubeprop.properties.explore.perturb:run_perturb",
    "pct": "kubeprop.properties.explore.pct:run_pct",
    "bfs": "kubeprop.properties.explore.engine:run_bfs",
    "walk": "kubeprop.properties.explore.walk:run_walks",
    "hypothesis": "kubeprop.properties.explore.stateful:find_with_hypothesis",
    "lasso": "kubeprop.properties.explore.lasso:run_lasso",
    "lasso-exhaustive": "kubeprop.properties.explore.lasso:run_lasso_exhaustive",
}
"""Engine name → function, or its `module:attribute` path (imported on first use)."""


def register_engine(name: str, fn: EngineFn) -> None:
    """Make an engine available under `name` (to `check(engine=name)` and the runner)."""
    ENGINES[name] = fn


def engine_function(name: str) -> EngineFn:
    """The engine called `name` (`UnknownName` lists the valid ones)."""
    if name not in ENGINES:
        raise UnknownName(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")
    found = ENGINES[name]
    if isinstance(found, str):
        module, _, attr = found.partition(":")
        found = getattr(importlib.import_module(module), attr)
        ENGINES[name] = found
    return found


def configure(base: EngineConfig | None = None, *, properties: Iterable[str | Property] | None = None,
              seed: int = 0, budget: float | None = 60.0, bounds: Bounds | None = None,
              action_filter: ActionFilter | None = None) -> EngineConfig:
    """An EngineConfig from `base` with these choices applied (`bounds` override `budget`)."""
    changes: dict[str, Any] = {"seed": seed, "budget_seconds": budget,
                               "properties": None if properties is None else tuple(properties)}
    if bounds is not None:
        changes.update(max_states=bounds.max_states, budget_seconds=bounds.budget_seconds)
        if bounds.max_depth is not None:
            changes["max_depth"] = bounds.max_depth
    if action_filter is not None:
        changes["action_filter"] = action_filter
    return attrs.evolve(base or EngineConfig(), **changes)


def run_engine(engine: str, model: ClusterModel, start: ClusterState, config: EngineConfig) -> Any:
    """Run the engine called `engine` from `start`; its result (exit reason, stats, violation, trace).

    No property call starts after `config.budget_seconds` and its `calls.grace` (`calls.cut_at`:
    the overrun is at most the call under way then); an engine that does not end by itself where a
    call is refused ends here, `time-bound`, with the seconds it ran and no other figure. The
    result's `stats.calls` adds this process's property calls to those its workers reported."""
    fn = engine_function(engine)  # (imported first: the engine's clock starts after it too)
    began, before = time.perf_counter(), ledger()
    budget = config.budget_seconds
    try:
        with fewer_collections(), cut_at(None if budget is None else began + budget + grace(budget)):
            result = fn(model, start, config)
    except OutOfBudget:
        result = EngineResult(engine, ExitReason.TIME_BOUND,
                              stats=EngineStats(time.perf_counter() - began, 0, note=CUT_NOTE))
    stats = getattr(result, "stats", None)
    if not isinstance(stats, EngineStats):
        return result
    return attrs.evolve(result, stats=attrs.evolve(stats, calls=merged(stats.calls, since(before))))
