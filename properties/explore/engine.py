"""The common interface of the engines: one configuration, one result type, one set of exit reasons.

`run_bfs` (explicit-state search, `bfs.py`), `find_with_hypothesis` (Hypothesis stateful
testing, `stateful.py`), `run_walks` (swarm random walks, `walk.py`), `run_around_fair`
(search around the fair run, `around.py`), `run_pct` (priority walks, `pct.py`) and
`run_portfolio` (all of them within one budget, `portfolio.py`) take
`(model, start, EngineConfig)` and return an `EngineResult`, so the CLI and the benchmarks treat
them alike. Properties are named (not passed as functions) so a configuration can travel to a
worker process; action filters that must travel too are built from `Match` rules (`allow(...)`),
which pickle by value.

One name per bound, everywhere: `max_depth` (actions from the start), `max_states` (distinct
states kept by an explicit search), `budget_seconds` (wall clock, shrinking included) and `runs`
(walks, Hypothesis examples).

An engine that a portfolio runs a slice at a time follows the protocol of `slicing.py` (`Limit`,
`Slicer`, `Sliced`).
"""

from __future__ import annotations

import math
import os
import pickle
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import attrs

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.calls import Calls
from kubeprop.properties.explore.shrink_clock import MAX_SHRINK_STEPS, check_shrink_steps
from kubeprop.properties.explore.slicing import STOP as STOP  # (re-exported: engines import the protocol from here)
from kubeprop.properties.explore.slicing import ActiveTimer as ActiveTimer
from kubeprop.properties.explore.slicing import Limit as Limit
from kubeprop.properties.explore.slicing import Sliced as Sliced
from kubeprop.properties.explore.slicing import SliceGen as SliceGen
from kubeprop.properties.explore.slicing import Slicer as Slicer
from kubeprop.properties.explore.slicing import out_of_time as out_of_time
from kubeprop.properties.explore.slicing import run_sliced as run_sliced
from kubeprop.properties.registry import Property, Violation, select


class ExitReason(StrEnum):
    """Why an engine stopped. String-valued: `str(reason)` and `reason == "exhausted"` work as the
    plain strings did, so outputs and counterexample files are unchanged."""

    EXHAUSTED = "exhausted"
    """Every state within the (filtered) action space was explored (explicit search only)."""
    DEPTH_BOUND = "depth-bound"
    """`max_depth` cut the search (and nothing else did)."""
    STATE_BOUND = "state-bound"
    """`max_states` distinct states were reached."""
    TIME_BOUND = "time-bound"
    """`budget_seconds` ran out."""
    RUNS_DONE = "runs-done"
    """Every requested run (walk, example, deviation bound) finished without a violation."""
    VIOLATION = "violation"
    """A property failed."""


ActionFilter = Callable[[Action], bool]


@attrs.frozen
class Match:
    """A picklable action predicate: the action's class is `kind` and, for every (field, values)
    pair, the action's field value is one of `values`."""

    kind: str
    fields: tuple[tuple[str, tuple[Any, ...]], ...] = ()

    def __call__(self, act: Action) -> bool:
        if type(act).__name__ != self.kind:
            return False
        return all(getattr(act, name, None) in values for name, values in self.fields)


@attrs.frozen
class Allow:
    """A picklable action filter: an action passes if any of `rules` matches it."""

    rules: tuple[Match, ...]

    def __call__(self, act: Action) -> bool:
        return any(rule(act) for rule in self.rules)


def match(kind: str, **fields: Any) -> Match:
    """`Match` from keyword arguments: `match("Reconcile", controller=("deployment", "replicaset"))`.
    A scalar value means that one value."""
    pairs = tuple((name, tuple(v) if isinstance(v, tuple | list) else (v,)) for name, v in sorted(fields.items()))
    return Match(kind, pairs)


def allow(*rules: Match | str) -> Allow:
    """An `Allow` filter; a bare string allows every action of that class."""
    return Allow(tuple(Match(r) if isinstance(r, str) else r for r in rules))


def _valid_shrink_steps(_: object, __: object, value: object) -> None:
    check_shrink_steps(value)


@attrs.frozen
class EngineConfig:
    """What every engine is told. Fields an engine does not use are ignored by it.

    - `seed`: the only source of randomness (walks, Hypothesis); equal seeds give equal results.
    - `budget_seconds`: wall-clock budget of the whole call, shrinking included (None: unbounded);
      a run cut by it is `time-bound`.
    - `max_depth`: BFS depth bound; length of each walk, PCT run and Hypothesis example
      (`stateful_step_count`). The default, 80, reaches the bugs of realistic scenarios, 36–80
      actions from the initial state (a rollout, a probe flap, a partition). The searches around
      the fair run follow runs to their end (at most `settle_steps` actions).
    - `max_states`: distinct-state bound of the explicit searches (BFS, around the fair run).
    - `runs`: how many walks / Hypothesis examples to run. None: keep going until the budget runs
      out (without a budget either: `DEFAULT_RUNS` of the engine).
    - `workers`: worker processes. The walk engine: walk workers (None: `os.cpu_count()`). The
      portfolio: its lanes, each running some of its members in its own process, with the same
      result as one lane (`lanes.py`; None: the cores or 3, whichever is fewer — beyond 3 the
      heaviest member's lane sets the pace; 1: every member in this process). Its members
      themselves always run with one.
    - `properties`: names of registered properties or `Property` values (None: all registered);
      safety ones are checked on every state, convergence ones where a fair fault-free continuation
      settles at the end of a run.
    - `action_filter`: restricts the explored actions (must pickle for `workers > 1`: use `allow`).
    - `swarm`: each walk enables a random half of the action kinds (else all of them).
    - `convergence`: check convergence properties at the end of walks and Hypothesis runs.
    - `settle_steps`, `settle_ticks`: bounds of the fair continuation (`settled_violation`).
    - `shrink`: shrink found traces (`shrink.shrink_trace`).
    - `max_shrink_steps`: the most steps shrinking one find replays and judges, fair
      continuations included (`shrink_clock`; None: no bound but the budget). Counted in steps,
      the bound stops shrinking at the same test on any machine, so the same find gives the same
      counterexample everywhere; shrinking never outlasts the budget either (the report then
      says so).
    - `shrink_share`: the fraction of the budget left when a find is made that shrinking it may
      take (1: all of it). `discoveries.discover` sets `shrink_clock.SHRINK_SHARE` while other
      properties remain to be searched for, so that the search goes on (trial 10: a find made at
      2.1 s was shrunk for 112 of 115 s, and five members never started).
    - `start_method`: multiprocessing start method of the walk workers (None: fork where available,
      else spawn); the portfolio's lanes need fork (with another one set, or none available, it
      runs one lane and its note says so).
    - `reduction`: partial-order reduction in the BFS (sleep sets and ample sets; `por.py`); False: full search.
      Ample sets keep every property-visible state reachable but not its depth: under a depth bound
      the reduced search covers fewer states (`EngineStats.narrowed`); False covers every one.
    - `deviations`: the largest number of deviations from the fair run `run_around_fair` tries
      (and of perturbations per run `run_perturb` makes).
    - `long_runs`: odd-numbered walks and PCT runs go on for the fair run's length and a quarter
      (`run_length`) when that is longer than `max_depth`, so that they reach the workload's last
      steps on long scenarios (FeastFlow's fair run is about 500 steps); False, or with an
      `action_filter`: every run is `max_depth` long.
    - `fair_length`: the length of the fair run from the start state, when known (None: computed
      by the first engine that needs it, `fair_length`).
    """

    seed: int = 0
    budget_seconds: float | None = 60.0
    max_depth: int = 80
    max_states: int | None = None
    runs: int | None = None
    workers: int | None = None
    properties: tuple[str | Property, ...] | None = None
    action_filter: ActionFilter | None = None
    swarm: bool = True
    convergence: bool = True
    settle_steps: int = 5000
    settle_ticks: int = 100
    shrink: bool = True
    max_shrink_steps: int | None = attrs.field(default=MAX_SHRINK_STEPS, validator=_valid_shrink_steps)
    shrink_share: float = 1.0
    start_method: str | None = None
    reduction: bool = True
    deviations: int = 3
    long_runs: bool = True
    fair_length: int | None = None
    progress: Callable[[Any], None] | None = attrs.field(default=None, eq=False, repr=False)
    """Called about once a second with how far the search got, for live progress on a terminal:
    the BFS with its counters (`bfs.SearchStats`), the portfolio with a
    `progress.PortfolioProgress` (before its lanes start, a `progress.ExpectedProgress` while it
    follows the run a user expects), and any engine shrinking a find with a
    `shrink_clock.ShrinkProgress`. Leave None for configurations sent to worker processes."""
    expected: Any = attrs.field(default=None, eq=False, repr=False)
    """The run a user expects from the start state (`expected.Expected`), computed once by the
    portfolio for its members that start from it (around, perturb, faults): each takes its steps
    and verdicts from there instead of computing them (None: each computes its own)."""
    on_run: Callable[[tuple[Action, ...]], None] | None = attrs.field(default=None, eq=False, repr=False)
    """Called with the trace of every run an engine finishes — each walk (run in this process
    when set), each PCT run, each Hypothesis example — for measurements over everything explored
    (`kubeprop check --metrics`). It observes and never changes the search."""

    excuse: Excuse | None = attrs.field(default=None, eq=False, repr=False)
    """After a property's violation was recognised as known upstream behaviour, the search for it
    goes on past such violations (`kubeprop.properties.upstream_behaviour_search.SearchPast`): an engine
    that finds a violation of a property `excuse.names` holds asks `excused` before stopping there,
    with the trace to the violating state, and goes on when nothing is left of it. None: every
    violation stops the engine."""

    def safety(self) -> tuple[Property, ...]:
        """The selected safety properties (KeyError names valid ones)."""
        return select(self.properties, kind="safety")

    def convergence_properties(self) -> tuple[Property, ...]:
        """The selected convergence properties, or none when convergence checking is off."""
        return select(self.properties, kind="convergence") if self.convergence else ()

    def run_count(self, default: int) -> int | None:
        """How many runs (walks, examples) to do: `runs` if given; else None (until the budget) when
        there is a budget, else the engine's `default`."""
        if self.runs is not None:
            return self.runs
        return None if self.budget_seconds is not None else default

    def deadline(self, began: float) -> float | None:
        """The `time.perf_counter()` value at which the budget runs out (None: no budget)."""
        return None if self.budget_seconds is None else began + self.budget_seconds


class Excuse(Protocol):
    """What `EngineConfig.excuse` is: the names of the properties whose known upstream violations an
    engine goes on past, and the judgement of one violation, given the trace to it and (for a
    safety violation) the violating state. An engine may pass over without asking a violation
    equal to the one passed over in the state one action before on the same trace — the same
    violation persisting past the race, as `SearchPast` judges it (the BFS does: it would rebuild
    the trace from its table to ask)."""

    names: frozenset[str]

    def __call__(self, found: Violation, trace: Sequence[Action], state: ClusterState | None) -> Violation | None:
        """`found`, or another violation of the state to report instead, or None to go on."""
        ...


def excused(excuse: Excuse | None, found: Violation | None, trace: Callable[[], Sequence[Action]],
            state: ClusterState | None = None) -> Violation | None:
    """The violation an engine reports for `found` (its `EngineConfig.excuse`): `found` itself
    unless its property is searched on past known upstream behaviour; then what the excuse leaves
    of it. `trace` is asked only then (the BFS rebuilds it from its table)."""
    if found is None or excuse is None or found.property not in excuse.names:
        return found
    return excuse(found, tuple(trace()), state)


LONG_RUN_FACTOR = 1.25
"""A long run's length, in fair runs (room for the detours a random schedule takes)."""


def run_length(config: EngineConfig, index: int) -> int:
    """How many steps walk or PCT run `index` takes at most: `max_depth`, or for odd indices
    with `long_runs` the fair run's length and a quarter when that is longer (`config.fair_length`
    must be known: `with_fair_length`)."""
    if not _long(config) or index % 2 == 0 or config.fair_length is None:
        return config.max_depth
    return max(config.max_depth, math.ceil(LONG_RUN_FACTOR * config.fair_length))


def _long(config: EngineConfig) -> bool:
    """Whether runs may be long: `long_runs`, and no action filter (a restricted search keeps the
    length it was given; the fair run is not restricted)."""
    return config.long_runs and config.action_filter is None


_FAIR_LENGTHS: list[tuple[ClusterModel, ClusterState, int]] = []
"""The last fair run length computed, by the identity of its model and start state (the members
of a portfolio share both)."""


def with_fair_length(model: ClusterModel, start: ClusterState, config: EngineConfig,
                     deadline: float | None = None) -> EngineConfig:
    """`config` with `fair_length` filled in (unless `long_runs` is off or it is known): the length
    of `drive.fair_run` from `start`, within `settle_steps` and the `time.perf_counter()`
    `deadline` (cut by it: `max_depth`)."""
    if not _long(config) or config.fair_length is not None:
        return config
    shared = None if config.expected is None else config.expected.fair_length(config)
    if shared is not None:  # the portfolio's expected run is that run (`expected.Expected.fair_length`)
        return attrs.evolve(config, fair_length=shared)
    for known, state, length in _FAIR_LENGTHS:
        if known is model and state is start:
            return attrs.evolve(config, fair_length=length)
    from kubeprop.model.cluster.drive import fair_run

    run = fair_run(model, start, max_steps=config.settle_steps, max_ticks=config.settle_ticks, deadline=deadline)
    if run.interrupted:
        return attrs.evolve(config, fair_length=config.max_depth)
    _FAIR_LENGTHS[:] = [(model, start, len(run.trace))]
    return attrs.evolve(config, fair_length=len(run.trace))


def process_age() -> float:
    """Seconds since this process started (0.0 where the kernel does not say): what a command's
    budget must count, since the user's clock started before Python imported anything. Linux:
    the process's start time (`/proc/self/stat`, field 22, in clock ticks since boot) against the
    time since boot (`/proc/uptime`)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            after_name = stat.read().rsplit(")", 1)[1].split()  # fields 3, 4, …; the name may hold spaces
        with open("/proc/uptime", encoding="ascii") as uptime:
            since_boot = float(uptime.read().split()[0])
        return max(0.0, since_boot - int(after_name[19]) / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


@attrs.frozen
class EngineStats:
    """Counters of one engine run. `steps` are transitions taken (BFS: states generated);
    `runs` are walks or Hypothesis examples (around the fair run: deviation bounds finished);
    `distinct` counts distinct states (explicit searches); `shrunk_from` is the trace length
    before shrinking; `note` says where the violation came from (walk index, kinds) or how far
    the search got; `parts` are the sub-engines' results of a portfolio; `found_after` the
    seconds (of this engine's run) after which the violation was found, before shrinking;
    `lanes` the CPU seconds each lane of a portfolio used (one entry per lane, the first the
    calling process's; `lanes.py`); `shrink_steps` the steps shrinking replayed and judged;
    `shrink_bound` the step bound when it stopped shrinking before its end (`max_shrink_steps`:
    any machine shrinks the find to the same trace then too); `shrink_cut` the seconds shrinking
    ran when the budget's clock cut it (the trace may then differ by machine; `shrink_clock`),
    and `shrink_shared` whether that clock was its share of the budget (`EngineConfig.shrink_share`);
    `narrowed` the states the BFS expanded with an ample set smaller than their enabled actions
    (partial-order reduction, `por.py`): when it is not 0 and a depth bound cut the search, "held"
    means held within the depth of the reduced search, which may reach a state within the depth of
    the start only deeper (`EngineConfig.reduction=False`, `kubeprop check --no-reduction`: every
    state within the depth)."""

    seconds: float
    steps: int
    runs: int = 0
    distinct: int = 0
    depth: int = 0
    shrunk_from: int | None = None
    note: str = ""
    parts: tuple[EngineResult, ...] = ()
    found_after: float | None = None
    lanes: tuple[float, ...] = ()
    shrink_steps: int = 0
    shrink_bound: int | None = None
    shrink_cut: float | None = None
    shrink_shared: bool = False
    narrowed: int = 0
    actors: int = 0
    """PCT: the most actors one run gave a priority (the n of its bound; 0 for other engines)."""
    calls: Calls | None = ()
    """The property calls the run made in worker processes, by property (`calls.Calls`);
    `runner.run_engine` adds the calling process's. None: not known (workers that do not say)."""

    @property
    def steps_per_second(self) -> float:
        """Transitions per second (BFS: generated states per second)."""
        return self.steps / self.seconds if self.seconds > 0 else 0.0


@attrs.frozen
class EngineResult:
    """An engine's outcome. For a safety violation the trace ends in the violating state; for a
    convergence violation it ends where the fair continuation (`settle`) starts, with the final
    `Quiesce` included when one was taken."""

    engine: str
    exit_reason: ExitReason
    violation: Any = None
    trace: tuple[Action, ...] = ()
    stats: EngineStats = EngineStats(0.0, 0)


@attrs.frozen
class ModelSpec:
    """A picklable description a worker process rebuilds the model from."""

    scenario: str
    variant: str
    parameters: tuple[tuple[str, Any], ...]

    def build(self) -> ClusterModel:
        """The model this describes."""
        return build_model(load_scenario(Path(self.scenario)), parameters=dict(self.parameters), variant=self.variant)

    @classmethod
    def of(cls, model: ClusterModel) -> ModelSpec:
        """The description of `model`; ValueError if rebuilding it gives a different model (e.g. it
        was built with extra controllers passed to `build_model` rather than named in the scenario)."""
        spec = cls(model.scenario.path, model.variant, tuple(sorted(model.parameters.items())))
        if spec.build() != model:
            raise ValueError("this model cannot be rebuilt from its scenario file, variant and parameters "
                             "(extra controllers?); run the walk engine with workers=1")
        return spec


def check_picklable(value: object, what: str) -> None:
    """ValueError naming `what` if it cannot be sent to a worker process."""
    try:
        pickle.dumps(value)
    except Exception as err:  # pickle raises many types (PicklingError, AttributeError, TypeError)
        raise ValueError(f"{what} cannot be sent to a worker process ({err}); with workers > 1 use "
                         "kubeprop.properties.explore.engine.allow(...) or a module-level function") from err


def run_bfs(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
    """Breadth-first search (`bfs.bfs`) through the common interface: safety properties on every
    state, bounded by `max_depth`, `max_states` and `budget_seconds`; convergence properties on the
    fair continuations of every quiesced state reached. With `config.reduction`, partial-order
    reduction (`por.py`) explores fewer transitions to reach the same states — and, where ample
    sets prune, may reach some of them only deeper: under a depth bound the result's
    `stats.narrowed` says how many states it expanded with an ample set."""
    return run_sliced(_bfs(model, start, config), "bfs")


def sliced_bfs(model: ClusterModel, start: ClusterState, config: EngineConfig) -> Sliced:
    """The same search, to be run a slice at a time (the portfolio)."""
    return Sliced(_bfs(model, start, config), "bfs")


def _bfs(model: ClusterModel, start: ClusterState, config: EngineConfig) -> SliceGen:
    from kubeprop.properties.explore.bfs import Bounds, bfs_steps
    from kubeprop.properties.explore.por import reduced_bfs_steps

    bounds = Bounds(max_depth=config.max_depth, max_states=config.max_states, budget_seconds=config.budget_seconds)
    search = reduced_bfs_steps if config.reduction else bfs_steps
    report = yield from search(model, start, config.safety(), bounds, action_filter=config.action_filter,
                               convergence=config.convergence_properties(), progress=config.progress,
                               excuse=config.excuse)
    s = report.stats
    stats = EngineStats(seconds=s.seconds, steps=s.states, distinct=s.distinct, depth=s.depth,
                        found_after=s.seconds if report.violation is not None else None, narrowed=s.narrowed)
    return EngineResult("bfs", report.exit_reason, report.violation, report.trace, stats)
