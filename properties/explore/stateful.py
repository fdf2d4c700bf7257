"""The Hypothesis engine: a `RuleBasedStateMachine` over the cluster's action space.

One rule draws an action with `sampled_from` over `actions(model, state)` (the enabled actions,
in their deterministic order) and takes it, so the machine is deterministic given Hypothesis'
choices, shrinking moves towards fewer steps and earlier-listed actions, and a falsifying example
prints each action (`action=Deliver(...)`), not an index. An `@invariant()`
checks the safety properties on every state; `teardown` — the final phase of every run —
quiesces the cluster (`Quiesce` if enabled) and checks the convergence properties where a fair,
fault-free continuation settles (`settled_violation`).

Two ways in:

- `find_with_hypothesis(model, start, config)` runs a generated machine and returns an
  `EngineResult` with the shrunk trace (the machine records its actions; the last run Hypothesis
  makes is the minimal failing one, replayed for reporting).
- Subclass `ClusterMachine` in a pytest file (set `model` and `properties`) and expose its
  `TestCase`; see docs/engines.md.

The settings profile "kubeprop-ci" (derandomized, no example database, no deadline, no blob)
is registered on import and is what the engine uses, seeded with `config.seed`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Literal

import attrs
from hypothesis import HealthCheck, Phase, Verbosity, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from kubeprop.model.cluster.compose import actions, initial_state, step
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.calls import OutOfBudget
from kubeprop.properties.explore import hypothesis_home
from kubeprop.properties.explore.discoveries import Unfinished
from kubeprop.properties.explore.engine import (
    ActionFilter,
    EngineConfig,
    EngineResult,
    EngineStats,
    Excuse,
    ExitReason,
    excused,
)
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.progress import EngineProgress, Ticker
from kubeprop.properties.explore.shrink import Judge, shrink_within
from kubeprop.properties.explore.slicing import ActiveTimer, Sliced, SliceGen, Slicer, out_of_time, run_sliced
from kubeprop.properties.registry import Property, Violation

hypothesis_home.apply()  # the folder `kubeprop check` chose for Hypothesis' files, if it did

CI_PROFILE = "kubeprop-ci"
BATCH = 10
"""Examples per Hypothesis run when the engine has a time budget (checked between runs)."""
settings.register_profile(
    CI_PROFILE, derandomize=True, database=None, deadline=None, print_blob=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),  # no `explain`: it replays a lot
)


class BudgetSpent(BaseException):
    """Raised by a machine's rules once its `deadline` has passed. Not an `Exception`, so
    Hypothesis does not take it for a failure (to replay and shrink) but lets it through at once:
    the run in progress ends within a step, whatever number of examples and steps it had left."""


class PropertyViolated(AssertionError):
    """A property failed during a Hypothesis run; `violation` says which and why."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(str(violation))
        self.violation = violation


@attrs.define
class Recorder:
    """Shared by every run of one generated machine: the last run's actions and violation, and counters."""

    trace: list[Action] = attrs.Factory(list)
    violation: Violation | None = None
    steps: int = 0
    runs: int = 0
    on_run: Callable[[tuple[Action, ...]], None] | None = None
    """`EngineConfig.on_run`: told every example's actions when it ends without a violation."""
    tick: Callable[[int], None] | None = None
    """Told the step count after every step (the engine's progress, `progress.Ticker`)."""


class ClusterMachine(RuleBasedStateMachine):
    """A state machine over one cluster model. Subclasses set `model` and `properties` (safety and
    convergence `Property` values, e.g. `select([...])`); optionally `start` (default
    `initial_state(model)`), `action_filter`, `check_convergence`, and the fair continuation's
    bounds `settle_steps`/`settle_ticks`."""

    model: ClassVar[ClusterModel | None] = None
    properties: ClassVar[tuple[Property, ...]] = ()
    start: ClassVar[ClusterState | None] = None
    action_filter: ClassVar[ActionFilter | None] = None
    check_convergence: ClassVar[bool] = True
    settle_steps: ClassVar[int] = 5000
    settle_ticks: ClassVar[int] = 100
    recorder: ClassVar[Recorder | None] = None
    deadline: ClassVar[float | None] = None
    """A `time.perf_counter()` value after which every rule, invariant and teardown is a no-op, so
    that a run in progress ends at once (the engine's hard budget)."""
    excuse: ClassVar[Excuse | None] = None
    """Known upstream behaviour to search on past (`EngineConfig.excuse`; None: none)."""
    _cached_start: ClassVar[ClusterState | None] = None

    def __init__(self) -> None:
        super().__init__()
        cls = type(self)
        if cls.model is None:
            raise TypeError(f"{cls.__name__}.model is not set: subclass ClusterMachine and set `model` "
                            "(build_model(...)) and `properties` (select([...]))")
        self.cluster: ClusterModel = cls.model
        if cls.start is None and "_cached_start" not in cls.__dict__:
            cls._cached_start = initial_state(self.cluster)  # computed once per machine class
        self.state: ClusterState = cls.start if cls.start is not None else cls.__dict__["_cached_start"]
        self.safety = tuple(p for p in cls.properties if p.kind == "safety")
        self.convergence = tuple(p for p in cls.properties if p.kind == "convergence") if cls.check_convergence \
            else ()
        self.trace: list[Action] = []
        self.checker = Checker(self.cluster, self.safety, by_value=False)  # the verdicts of the run's last states
        self.failed = False
        if cls.recorder is not None:
            cls.recorder.runs += 1

    def enabled(self) -> tuple[Action, ...]:
        """The actions this machine may take now (filtered by `action_filter`)."""
        flt = type(self).action_filter
        found = actions(self.cluster, self.state)
        return found if flt is None else tuple(a for a in found if flt(a))

    def out_of_time(self) -> bool:
        """True once the class's `deadline` has passed."""
        deadline = type(self).deadline
        return deadline is not None and time.perf_counter() >= deadline

    def _budget(self) -> None:
        """End the Hypothesis run at once (`BudgetSpent`) when the deadline has passed."""
        if self.out_of_time():
            raise BudgetSpent

    @rule(data=st.data())
    def take_action(self, data: st.DataObject) -> None:
        """Take one enabled action, drawn with `sampled_from` over the enabled actions in their
        deterministic order (a no-op when none is enabled; `BudgetSpent` once time is up)."""
        recorder = type(self).recorder
        self._budget()
        enabled = self.enabled()
        if not enabled:
            return
        act = data.draw(st.sampled_from(enabled), label="action")  # a falsifying example prints the action
        self.state = step(self.cluster, self.state, act)
        self.trace.append(act)
        if recorder is not None:
            recorder.steps += 1
            if recorder.tick is not None:
                recorder.tick(recorder.steps)

    @invariant()
    def safety_holds(self) -> None:
        """Every safety property holds in the current state."""
        self._budget()
        found = excused(type(self).excuse, self.checker.violation(self.state), lambda: self.trace, self.state)
        if found is not None:
            self._fail(found)

    def teardown(self) -> None:
        """Quiesce, let a fair continuation settle, and check the convergence properties (and
        tell the recorder's `on_run` the example's actions)."""
        recorder = type(self).recorder
        if not self.failed and recorder is not None and recorder.on_run is not None:
            recorder.on_run(tuple(self.trace))
        if self.failed or not self.convergence:
            return
        self._budget()
        cls = type(self)
        judge = Judge(self.cluster, self.state, self.safety, self.convergence, cls.settle_steps, cls.settle_ticks,
                      cls.deadline)
        found, tail = judge(())
        self._budget()  # a continuation cut by the deadline judged nothing
        found = excused(cls.excuse, found, lambda: (*self.trace, *tail))
        if found is not None:
            self.trace.extend(tail)
            self._fail(found)

    def _fail(self, found: Violation) -> None:
        self.failed = True
        recorder = type(self).recorder
        if recorder is not None:
            recorder.trace, recorder.violation = list(self.trace), found
        raise PropertyViolated(found)


GENERATED = "kubeprop.properties.explore.stateful.<generated>"
"""The `__module__` of the machine classes `machine_for` makes (no module of the process)."""


def machine_for(model: ClusterModel, properties: tuple[Property, ...], start: ClusterState | None = None,
                action_filter: ActionFilter | None = None, check_convergence: bool = True,
                name: str = "GeneratedClusterMachine", **extra: Any) -> type[ClusterMachine]:
    """A `ClusterMachine` subclass for `model` and `properties` (`extra` sets further class attributes).

    The class is made here and has no source, which its `__module__` (`GENERATED`, no module of
    the process) says at once: Hypothesis digests a machine's source for every batch it runs
    (`hypothesis.internal.reflection.function_digest`), and `inspect.getsource` would otherwise
    parse this whole module each time to find no such class (1% of `kubeprop check`'s CPU on
    FeastFlow) — to fall back on the class's name either way, so the digest is the same."""
    attributes: dict[str, Any] = {
        "model": model, "properties": tuple(properties), "start": start,
        "action_filter": staticmethod(action_filter) if action_filter is not None else None,
        "check_convergence": check_convergence, "__module__": GENERATED, **extra,
    }
    return type(name, (ClusterMachine,), attributes)


def engine_settings(config: EngineConfig, examples: int) -> settings:
    """The "kubeprop-ci" profile with this many examples and the engine's depth, quiet, one bug
    reported. With a budget, Hypothesis does not shrink (a run cut by the deadline would look
    flaky): the engine's own delta debugging, bounded by the budget, shortens the trace instead."""
    phases = (Phase.explicit, Phase.generate) if config.budget_seconds is not None else (
        Phase.explicit, Phase.generate, Phase.shrink)
    return settings(
        settings.get_profile(CI_PROFILE), max_examples=examples,
        stateful_step_count=max(1, config.max_depth), report_multiple_bugs=False, verbosity=Verbosity.quiet,
        phases=phases,
    )


DEFAULT_RUNS = 200
"""Examples to run when neither a run count nor a budget is given."""


def _batches(config: EngineConfig, slicer: Slicer) -> Iterator[tuple[int, int]]:
    """(batch index, examples) to run: one batch of the whole count without a budget; batches of
    `BATCH` otherwise — or, when run a slice at a time, as many examples of `max_depth` steps as
    the slice allows — endless when no run count is given (until the budget runs out)."""
    total = config.run_count(DEFAULT_RUNS)
    if config.budget_seconds is None and total is not None and (slicer.limit is None or slicer.limit.unbounded):
        yield 0, total
        return
    batch = done = 0
    while total is None or done < total:
        quota = slicer.limit.steps if slicer.limit is not None else None
        size = BATCH if quota is None else max(1, quota // max(1, config.max_depth))
        size = size if total is None else min(size, total - done)
        yield batch, size
        batch, done = batch + 1, done + size


def _explore(model: ClusterModel, start: ClusterState, config: EngineConfig) -> SliceGen:
    """The engine as a sliced run (`slicing.Sliced`): it yields between batches."""
    limit = yield
    timer = ActiveTimer()
    slicer = Slicer(timer, limit)
    deadline = config.deadline(timer.began)
    machine, recorder = _recorded_machine(model, start, config, timer, deadline)
    failure: Violation | None = None
    timed_out = False
    with memoised(model):
        for batch, size in _batches(config, slicer):
            if out_of_time(deadline):
                timed_out = True
                break
            yield from slicer.pause(recorder.steps)
            if slicer.stopped or out_of_time(deadline):
                timed_out = True
                break
            stopped = _run_batch(machine, recorder, config, batch, size, deadline, timer)
            if stopped == "violation":
                failure = recorder.violation
                break
            if stopped == "time":
                timed_out = True
                break
        timed_out = timed_out or out_of_time(deadline)
        stats = EngineStats(timer.seconds(), recorder.steps, recorder.runs, depth=config.max_depth,
                            note=f"seed {config.seed}")
        if failure is None:
            return EngineResult("hypothesis", ExitReason.TIME_BOUND if timed_out else ExitReason.RUNS_DONE,
                                stats=stats)
        return _shrunk(model, start, config, recorder, failure, stats, timer)


def _recorded_machine(model: ClusterModel, start: ClusterState, config: EngineConfig, timer: ActiveTimer,
                      deadline: float | None) -> tuple[type[ClusterMachine], Recorder]:
    """`_explore`'s generated machine for `config`'s properties, with the Recorder its runs report
    to (ticking `config.progress`, if any, with the steps taken)."""
    recorder = Recorder(on_run=config.on_run)
    if config.progress is not None:
        ticker = Ticker(config.progress)
        recorder.tick = lambda steps: ticker.tick(steps, lambda: EngineProgress(steps, timer.seconds(), recorder.runs))
    machine = machine_for(model, (*config.safety(), *config.convergence_properties()), start,
                          config.action_filter, config.convergence, recorder=recorder,
                          settle_steps=config.settle_steps, settle_ticks=config.settle_ticks, deadline=deadline,
                          excuse=config.excuse)
    return machine, recorder


def _run_batch(machine: type[ClusterMachine], recorder: Recorder, config: EngineConfig, batch: int, size: int,
               deadline: float | None, timer: ActiveTimer) -> Literal["violation", "time"] | None:
    """Run batch `batch` (`size` examples) of the generated machine: "violation" when a property
    failed (the Recorder holds it), "time" when the budget ended during it, None when it ran out.
    Ctrl-C during it raises Unfinished carrying a find already recorded (else goes on up)."""
    # A batch still running when the budget ends stops within a step (`BudgetSpent`).
    machine.deadline = deadline
    seed(config.seed if config.budget_seconds is None else config.seed * 1_000_003 + batch)(machine)
    try:
        run_state_machine_as_test(machine, settings=engine_settings(config, size))
    except KeyboardInterrupt:  # Ctrl-C, maybe in Hypothesis' shrinking: a find goes with it, as recorded
        if recorder.violation is None:
            raise
        raise Unfinished(unshrunk=(_unshrunk(recorder, config, timer),)) from None
    except PropertyViolated:
        return "violation"
    except (BudgetSpent, OutOfBudget):  # (a property call refused past the budget: `calls.py`)
        return "time"
    except Flaky:
        # The deadline passed between two draws of an example, or before its first: the
        # example stopped where an earlier one with the same choices went on, which
        # Hypothesis reports as inconsistent data generation. Time is up all the same.
        if not out_of_time(deadline):
            raise
        return "time"
    return None


def find_with_hypothesis(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
    """Run the generated machine from `start` under `config`; the shrunk trace of the failing run, if
    any. Without a budget: one Hypothesis run of `config.runs` examples (default 200) seeded
    `seed`. With one: batches of `BATCH` examples (batch `b` seeded `seed * 1_000_003 + b`) until
    `runs` examples ran or the budget is spent; a batch in progress when the budget runs out ends
    within a step (`BudgetSpent`), so the budget is honoured to within one step."""
    return run_sliced(_explore(model, start, config), "hypothesis")


def sliced_hypothesis(model: ClusterModel, start: ClusterState, config: EngineConfig) -> Sliced:
    """The same engine, to be run a batch at a time (the portfolio)."""
    return Sliced(_explore(model, start, config), "hypothesis")


def _unshrunk(recorder: Recorder, config: EngineConfig, timer: ActiveTimer) -> EngineResult:
    """The recorded failing run as found (the last failing example Hypothesis ran), not delta-debugged."""
    stats = EngineStats(timer.seconds(), recorder.steps, recorder.runs, depth=config.max_depth,
                        note=f"seed {config.seed}")
    return EngineResult("hypothesis", ExitReason.VIOLATION, recorder.violation, tuple(recorder.trace), stats)


def _shrunk(model: ClusterModel, start: ClusterState, config: EngineConfig, recorder: Recorder, failure: Violation,
            stats: EngineStats, timer: ActiveTimer) -> EngineResult:
    """The result for a failure: Hypothesis' trace (shrunk by Hypothesis without a budget), then
    delta-debugged when `config.shrink`, within the budget."""
    trace = tuple(recorder.trace)
    found: Violation | None = failure
    if config.shrink:
        judge = Judge.for_config(model, start, config)
        try:
            shrunk = shrink_within(judge, trace, failure.property, config, timer.began, known=recorder.violation)
        except KeyboardInterrupt:  # Ctrl-C: the find goes with it, as Hypothesis left it
            raise Unfinished(unshrunk=(_unshrunk(recorder, config, timer),)) from None
        found, trace = shrunk.violation, shrunk.trace
        assert found is not None, "the recorded trace no longer fails on replay: the model is not deterministic"
        stats = attrs.evolve(shrunk.stats(stats), seconds=timer.seconds(), shrunk_from=len(recorder.trace),
                             found_after=stats.seconds)
    return EngineResult("hypothesis", ExitReason.VIOLATION, found, trace, stats)
