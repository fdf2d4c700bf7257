"""The common interface of the three engines: one configuration, one result type.

`run_bfs` (explicit-state search, `bfs.py`), `find_with_hypothesis` (Hypothesis stateful
testing, `stateful.py`) and `run_walks` (swarm random walks, `walk.py`) all take
`(model, start, EngineConfig)` and return an `EngineResult`, so the CLI and the benchmarks treat
them alike. Properties are named (not passed as functions) so a configuration can travel to a
worker process; action filters that must travel too are built from `Match` rules (`allow(...)`),
which pickle by value.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import attrs

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds, bfs
from kubeprop.properties.registry import Property, select

ExitReason = Literal["exhausted", "depth-bound", "state-bound", "time-bound", "runs-done", "violation"]
"""Why an engine stopped: the (filtered) space was exhausted (BFS only); a depth or state bound
cut the search; the time budget ran out; every requested run (walk, Hypothesis example)
finished without a violation; or a property failed."""

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


@attrs.frozen
class EngineConfig:
    """What every engine is told. Fields an engine does not use are ignored by it.

    - `seed`: the only source of randomness (walks, Hypothesis); equal seeds give equal results.
    - `budget_seconds`: wall-clock budget (None: unbounded); a run cut by it is `time-bound`.
    - `max_depth`: BFS depth bound; length of each walk; Hypothesis' `stateful_step_count`.
    - `max_steps`: BFS distinct-state bound; for walks and Hypothesis a total step budget, turned
      into a run count (`max_steps // max_depth`) so that it stays deterministic.
    - `workers`: walk worker processes (None: `os.cpu_count()`).
    - `properties`: names of registered properties or `Property` values (None: all registered);
      safety ones are checked on every state, convergence ones where a fair fault-free continuation
      settles at the end of a run.
    - `action_filter`: restricts the explored actions (must pickle for `workers > 1`: use `allow`).
    - `walks`, `max_examples`: run counts of the walk and Hypothesis engines.
    - `swarm`: each walk enables a random half of the action kinds (else all of them).
    - `convergence`: check convergence properties at the end of walks and Hypothesis runs.
    - `settle_steps`, `settle_ticks`: bounds of the fair continuation (`settled_violation`).
    - `shrink`, `max_shrink_tests`: delta-debug walk traces, with at most this many replays.
    - `start_method`: multiprocessing start method (None: fork where available, else spawn).
    """

    seed: int = 0
    budget_seconds: float | None = 60.0
    max_depth: int = 30
    max_steps: int | None = None
    workers: int | None = None
    properties: tuple[str | Property, ...] | None = None
    action_filter: ActionFilter | None = None
    walks: int = 2000
    max_examples: int = 200
    swarm: bool = True
    convergence: bool = True
    settle_steps: int = 5000
    settle_ticks: int = 100
    shrink: bool = True
    max_shrink_tests: int = 3000
    start_method: str | None = None
    progress: Callable[[Any], None] | None = attrs.field(default=None, eq=False, repr=False)
    """BFS only: called about once a second with the search's counters (live progress on a
    terminal). Leave None for configurations sent to worker processes."""

    def safety(self) -> tuple[Property, ...]:
        """The selected safety properties (KeyError names valid ones)."""
        return select(self.properties, kind="safety")

    def convergence_properties(self) -> tuple[Property, ...]:
        """The selected convergence properties, or none when convergence checking is off."""
        return select(self.properties, kind="convergence") if self.convergence else ()

    def runs(self, requested: int) -> int:
        """How many runs (walks, examples) to do: `requested`, capped by `max_steps // max_depth`."""
        if self.max_steps is None:
            return requested
        return max(1, min(requested, self.max_steps // max(1, self.max_depth)))


@attrs.frozen
class EngineStats:
    """Counters of one engine run. `steps` are transitions taken (BFS: states generated);
    `runs` are walks or Hypothesis examples; `distinct` is BFS-only; `shrunk_from` is the trace
    length before shrinking; `note` says where the violation came from (walk index, kinds)."""

    seconds: float
    steps: int
    runs: int = 0
    distinct: int = 0
    depth: int = 0
    shrunk_from: int | None = None
    note: str = ""

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
    state, bounded by `max_depth`, `max_steps` (distinct states) and `budget_seconds`; convergence
    properties on the fair continuation of every quiesced state reached."""
    bounds = Bounds(max_depth=config.max_depth, max_states=config.max_steps, max_seconds=config.budget_seconds)
    report = bfs(model, start, config.safety(), bounds, action_filter=config.action_filter,
                 convergence=config.convergence_properties(), progress=config.progress)
    s = report.stats
    stats = EngineStats(seconds=s.seconds, steps=s.states, distinct=s.distinct, depth=s.depth)
    return EngineResult("bfs", report.exit_reason, report.violation, report.trace, stats)
