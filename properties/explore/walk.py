"""Swarm random walks: many short seeded walks, each with a random subset of action kinds.

Swarm testing (Groce, Zhang, Eide, Chen, Regehr: "Swarm Testing", ISSTA 2012) leaves a random
half of the features out of each test, so that no single feature (here: an action class such as
`Tick` or `CrashComponent`) crowds out the interleavings another one needs. Walk `i` draws its
choices from `random.Random(seed * 1_000_003 + i)` and decides whether a kind is enabled with
`random.Random(f"{seed}/{i}/{kind}")` (string seeds go through SHA-512, not the salted `hash()`),
so a walk is the same in every process.

A configuration omits kinds; it does not end runs. Where none of the walk's kinds is enabled (a walk
without `UserStep` once the cluster is quiet, one without `Deliver` once every controller waits on a
watch event), the walk takes the move of the run a user expects (`drive.expected_policy`: weakly
fair control-plane progress, the workload's next step, then time) and goes on: an omitted kind is
starved — taken only when nothing of the walk's kinds is left — never removed from the cluster,
which is what the kind means in swarm testing (a test without a feature still runs; the features it
has get the room). Faults and recoveries the walk omits stay omitted (the fair run takes neither).
Time is no reason to starve an omitted kind: where the walk's own enabled actions are only `Tick`,
the fair run's other move goes first (`_next_move`), else a readiness probe or a process exit the
walk omits would never come while the clock runs on — the world made slow without a cause.
Before this a walk simply ended there: on a workload-driven scenario whose start enables only
`UserStep` and `Quiesce`, a quarter of the walks took no step and the mean was 2.5 steps a run
(docs/engines.md, "Walks go on where their kinds run out"). Safety properties are checked on every state; at the end
of a walk the cluster quiesces (`Quiesce` if enabled) and the convergence properties are checked
where a fair fault-free continuation settles. Walks are `max_depth` steps long, odd-numbered ones
as long as the fair run and a quarter when that is longer (`engine.run_length`).

Walks run in index order, split into chunks over worker processes; the reported violation is the
one of the lowest failing walk index, so a seed gives the same result with 1 or N workers (unless
the time budget runs out first). Its trace is then shortened by delta debugging (`shrink.py`).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import multiprocessing
import os
import random
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from multiprocessing.connection import Connection

import attrs

from kubeprop.model.cluster.compose import actions, actions_but_tick, step
from kubeprop.model.cluster.drive import FairPolicy, expected_policy
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.errors import UserCodeError
from kubeprop.model.state.actions import Action, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.user_code import raised_where
from kubeprop.properties.calls import Calls, OutOfBudget, ledger, merged, since
from kubeprop.properties.explore.discoveries import Unfinished
from kubeprop.properties.explore.engine import (
    ActionFilter,
    EngineConfig,
    EngineResult,
    EngineStats,
    ExitReason,
    ModelSpec,
    check_picklable,
    excused,
    run_length,
    with_fair_length,
)
from kubeprop.properties.explore.incremental import Checker
from kubeprop.properties.explore.progress import ENGINE_EVERY, EngineProgress, Ticker
from kubeprop.properties.explore.series import RunSteps, Series, begin_series, run_series, to_end
from kubeprop.properties.explore.shrink import Judge, shrink_within
from kubeprop.properties.explore.slicing import Sliced, SliceGen, out_of_time, run_sliced
from kubeprop.properties.explore.workers import ignore_interrupts, started, stop_workers
from kubeprop.properties.registry import Property, Violation, first_violation

SWARM_PROBABILITY = 0.5
"""The chance that a walk enables a given action kind (Groce et al. use one half)."""
DEFAULT_RUNS = 2000
"""Walks to run when neither a run count nor a budget is given."""


@attrs.frozen
class Walker:
    """Everything one process needs to run walks."""

    model: ClusterModel
    start: ClusterState
    config: EngineConfig
    safety: tuple[Property, ...]
    convergence: tuple[Property, ...]

    def judge(self, deadline: float | None = None) -> Judge:
        """The replay judge used for walk ends (cut at the `time.perf_counter()` `deadline`) and
        for shrinking."""
        c = self.config
        return Judge(self.model, self.start, self.safety, self.convergence, c.settle_steps, c.settle_ticks, deadline,
                     excuse=c.excuse)


@attrs.frozen
class WalkOutcome:
    """One walk: its index, the actions taken, the violation (if any) and the kinds it enabled."""

    index: int
    trace: tuple[Action, ...]
    violation: Violation | None
    kinds: tuple[str, ...]
    fair: int = 0
    """The steps it took the fair run's move because none of its kinds was enabled."""
    cut: bool = False
    """A property call was refused past the budget (`calls.OutOfBudget`): it stopped there, unjudged."""


@attrs.frozen
class ChunkOutcome:
    """A chunk of consecutive walks: how many ran, steps taken, and the first failing walk."""

    completed: int
    steps: int
    failure: WalkOutcome | None
    timed_out: bool
    calls: Calls = ()
    """The property calls of a worker process's chunk (`calls.since`; in the calling process: none)."""


def walk_seed(seed: int, index: int) -> int:
    """The RNG seed of walk `index` (no salted hashing)."""
    return seed * 1_000_003 + index


class _Kinds:
    """The swarm's per-walk choice of action kinds, decided lazily per kind, hash-free; it records
    the kinds the walk met (`enabled` names those of them it enabled)."""

    def __init__(self, seed: int, index: int, swarm: bool) -> None:
        self.prefix, self.swarm, self.chosen = f"{seed}/{index}/", swarm, dict[str, bool]()
        self.decided = dict[str, bool]()
        """Every kind decided on, met or not (`takes`)."""

    def __call__(self, kind: str) -> bool:
        """Whether the walk takes actions of `kind`, one of the kinds met."""
        if not self.swarm:
            return True
        if kind not in self.chosen:
            self.chosen[kind] = self.takes(kind)
        return self.chosen[kind]

    def takes(self, kind: str) -> bool:
        """Whether the walk takes actions of `kind`, without counting it among the kinds met (a walk
        asks before listing what may contain it: `_enabled`)."""
        if not self.swarm:
            return True
        if kind not in self.decided:
            self.decided[kind] = random.Random(self.prefix + kind).random() < SWARM_PROBABILITY
        return self.decided[kind]

    def enabled(self) -> tuple[str, ...]:
        return tuple(sorted(k for k, on in self.chosen.items() if on)) if self.swarm else ("*",)


def _enabled(model: ClusterModel, state: ClusterState, flt: ActionFilter | None, kinds: _Kinds) -> list[Action]:
    """The actions of `state` the walk may take, in `actions` order: the enabled ones that `flt`
    lets through, of the kinds the swarm enables. A walk without `Tick` lists the actions without
    its part (`actions_but_tick`: the same list but for `Tick`), whose clock guards cost about half a
    walk's list and almost never let time pass while faults keep the controllers busy (one `Tick`
    in 5,067 of FeastFlow's walk states: docs/engines.md, "Twenty-sixth round")."""
    listed = actions(model, state) if kinds.takes(Tick.__name__) else actions_but_tick(model, state)
    return [a for a in listed if (flt is None or flt(a)) and kinds(type(a).__name__)]


def _fair_move(model: ClusterModel, state: ClusterState, flt: ActionFilter | None,
               policy: FairPolicy) -> Action | None:
    """The move of the run a user expects among the enabled actions `flt` lets through (None when
    that run is over): where none of a walk's kinds is enabled, the walk takes it and goes on."""
    return policy.choose([a for a in actions(model, state) if flt is None or flt(a)])


def _next_move(model: ClusterModel, state: ClusterState, flt: ActionFilter | None, enabled: list[Action],
               policy: FairPolicy, rng: random.Random) -> tuple[Action | None, bool]:
    """The walk's next action, and whether it is one of its own kinds: a random one of `enabled`
    (its kinds'), except where those are none, or only `Tick`, and the fair run has another move
    (an omitted kind's): then that move. Time passing is no reason to starve an omitted kind — it
    would never come (a readiness probe that never passes, a process that never exits: the world
    made slow without a cause); in the fair run too, time passes only when nothing else is left."""
    only_time = bool(enabled) and all(type(a) is Tick for a in enabled)
    if enabled and not only_time:
        return enabled[rng.randrange(len(enabled))], True
    move = _fair_move(model, state, flt, policy)
    if only_time and (move is None or type(move) is Tick):
        return enabled[rng.randrange(len(enabled))], True
    return move, False


def walk_once(walker: Walker, index: int, deadline: float | None = None) -> tuple[WalkOutcome, int]:
    """Run walk `index`; returns its outcome and the number of steps taken. A walk still running
    at the `time.perf_counter()` `deadline` stops there, unjudged; so does one whose property call
    was refused past the budget (`calls.OutOfBudget`), without the step whose check it cut."""
    return to_end(walk_steps(walker, index, deadline))


def walk_steps(walker: Walker, index: int, deadline: float | None = None) -> RunSteps[WalkOutcome]:
    """`walk_once` a step at a time (`series.RunSteps`: it yields after each step of the walk)."""
    config, model = walker.config, walker.model
    rng, kinds = random.Random(walk_seed(config.seed, index)), _Kinds(config.seed, index, config.swarm)
    state, trace = walker.start, list[Action]()
    checker = Checker(model, walker.safety, by_value=False)  # consecutive states share what the properties read
    policy, fair = expected_policy(config.settle_ticks), 0  # the move where none of the walk's kinds is enabled
    for _ in range(run_length(config, index)):
        if out_of_time(deadline):
            return WalkOutcome(index, tuple(trace), None, kinds.enabled(), fair), len(trace)
        enabled = _enabled(model, state, config.action_filter, kinds)
        move, own = _next_move(model, state, config.action_filter, enabled, policy, rng)
        if move is None:
            break
        act, fair = move, fair + (not own)
        policy.taken(act)
        state = step(model, state, act)
        try:
            verdict = checker.violation(state)
        except OutOfBudget:  # a property call refused past the budget: this step concluded nothing
            return WalkOutcome(index, tuple(trace), None, kinds.enabled(), fair, cut=True), len(trace)
        trace.append(act)
        found = excused(config.excuse, verdict, lambda: trace, state)
        if found is not None:
            return WalkOutcome(index, tuple(trace), found, kinds.enabled(), fair), len(trace)
        yield
    violation: Violation | None = None
    if walker.convergence and not out_of_time(deadline):
        ending = attrs.evolve(walker.judge(deadline), start=state)
        try:
            violation, tail = ending(())
        except OutOfBudget:  # refused past the budget: the walk's end is not judged, as at the deadline
            return WalkOutcome(index, tuple(trace), None, kinds.enabled(), fair, cut=True), len(trace)
        trace.extend(tail)
        violation = excused(config.excuse, violation, lambda: trace)
    return WalkOutcome(index, tuple(trace), violation, kinds.enabled(), fair), len(trace)


def run_chunk(walker: Walker, indices: range, deadline: float | None) -> ChunkOutcome:
    """Run the walks of `indices` in order until one fails or the wall-clock (`time.time()`, the
    same in every process) `deadline` passes; a walk running then stops within a step, or within
    a property call (`calls.OutOfBudget`: the cutoff a forked worker inherited)."""
    steps = 0
    local = None if deadline is None else time.perf_counter() + (deadline - time.time())
    for done, index in enumerate(indices):
        if out_of_time(local):
            return ChunkOutcome(done, steps, None, True)
        try:
            outcome, taken = walk_once(walker, index, local)
        except OutOfBudget:  # the walk cut inside a step concluded nothing: it does not count
            return ChunkOutcome(done, steps, None, True)
        steps += taken
        if outcome.cut:  # past the budget's cutoff of property calls: the walk does not count
            return ChunkOutcome(done, steps, None, True)
        if outcome.violation is not None:
            return ChunkOutcome(done + 1, steps, outcome, False)
        if out_of_time(local):
            return ChunkOutcome(done, steps, None, True)  # the last walk was cut: it does not count
    return ChunkOutcome(len(indices), steps, None, False)


def _serve(conn: Connection, spec: ModelSpec, start: ClusterState, config: EngineConfig) -> None:
    """A walk worker: builds the model once, then runs the chunks it is sent (`run_chunk`) until
    it is sent None or the parent is gone; an exception goes back as its traceback's text."""
    ignore_interrupts()  # Ctrl-C is the parent's: it stops the walks and the workers
    walker = Walker(spec.build(), start, config, config.safety(), config.convergence_properties())
    with contextlib.suppress(EOFError, BrokenPipeError, ConnectionResetError):
        while (task := conn.recv()) is not None:
            try:
                before = ledger()
                chunk = run_chunk(walker, *task)
                conn.send(attrs.evolve(chunk, calls=since(before)))
            except UserCodeError as err:  # the user's controller or property: the same error as in one process
                conn.send(UserCodeError(str(err)))
                return
            except Exception:  # a bug (the model's, a user's controller): the parent raises it
                conn.send(f"walk worker: {traceback.format_exc()}")
                return
            except SystemExit as err:  # code it ran called sys.exit outside the user-code boundaries
                conn.send(f"walk worker: {_stray_exit(err)}")
                return


def _stray_exit(err: SystemExit) -> str:
    """What a walk worker tells its parent of a `sys.exit` in code it ran (a bare `Property`, say):
    where it was raised — not the worker's end, which the parent would see only as a lost
    connection."""
    return (f"SystemExit({err.code!r}) raised{raised_where(err)}: code that kubeprop runs (a property, a controller, "
            "environment rules) must not call sys.exit")


WAVE = 4
"""Chunks per worker handed out at a time when walks run until the budget (no fixed count)."""


def _chunks(total: int | None, workers: int) -> Iterator[range]:
    """Consecutive ranges of walk indices (endless when `total` is None)."""
    size = 8 if total is None else max(1, min(16, total // (workers * 8) or 1))
    at = 0
    while total is None or at < total:
        end = at + size if total is None else min(at + size, total)
        yield range(at, end)
        at = end


def _outcomes(walker: Walker, total: int | None, workers: int, deadline: float | None,
              waiting: Callable[[], None] = lambda: None) -> Generator[ChunkOutcome, None, None]:
    """Chunk outcomes in walk-index order, from this process or from a pool of workers (handed
    out in waves, so an endless run keeps only a few chunks in flight); `waiting` is called about
    once a second while no outcome has come back."""
    chunks = _chunks(total, workers)
    if workers <= 1:
        for chunk in chunks:
            yield run_chunk(walker, chunk, deadline)
        return
    config = attrs.evolve(walker.config, progress=None)  # the progress is this process's (`run_walks`)
    spec = ModelSpec.of(walker.model)
    check_picklable(config, "the engine configuration (its action_filter)")
    method = config.start_method or ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    procs, conns = started(multiprocessing.get_context(method), _serve, [(spec, walker.start, config)] * workers,
                           "kubeprop-walk")
    done = False
    try:
        yield from _in_order(conns, chunks, deadline, waiting)
        done = True
    finally:
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        stop_workers(procs, conns, patient=done)


def _in_order(conns: list[Connection], chunks: Iterator[range], deadline: float | None,
              waiting: Callable[[], None]) -> Generator[ChunkOutcome, None, None]:
    """The chunks' outcomes in walk-index order: chunk i runs on worker i mod N, each worker with
    up to `WAVE` chunks in hand (a pipe delivers in order, so its outcomes come back in order);
    `waiting()` about once a second meanwhile."""
    on: collections.deque[Connection] = collections.deque()  # the worker of each chunk in hand, in order
    handed = 0

    def hand(chunk: range) -> None:
        nonlocal handed
        conn = conns[handed % len(conns)]
        conn.send((chunk, deadline))
        on.append(conn)
        handed += 1

    for first in itertools.islice(chunks, len(conns) * WAVE):
        hand(first)
    while on:
        try:
            conn = on.popleft()
            while not conn.poll(ENGINE_EVERY):
                waiting()
            outcome = conn.recv()
        except (EOFError, ConnectionResetError, BrokenPipeError):
            raise RuntimeError("a walk worker process ended unexpectedly") from None
        if isinstance(outcome, str):
            raise RuntimeError(outcome)
        if isinstance(outcome, UserCodeError):
            raise outcome
        following = next(chunks, None)
        if following is not None:
            hand(following)
        yield outcome


def run_walks(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
    """Swarm random walks from `start` over `workers` processes, each of up to `run_length` steps:
    `config.runs` of them, or — without a run count — as many as the budget allows. The lowest
    failing walk's trace, delta-debugged within what is left of the budget."""
    workers = config.workers or os.cpu_count() or 1
    if workers <= 1 or config.on_run is not None or config.excuse is not None:
        # an observer (`on_run`) sees the walks in this process; a search past known upstream
        # behaviour (`excuse`) recognises it here, where its model is
        return run_sliced(_explore(model, start, config), "walk")
    began = time.perf_counter()
    config = with_fair_length(model, start, config, config.deadline(began))
    walker = Walker(model, start, config, config.safety(), config.convergence_properties())
    initial = first_violation(model, start, walker.safety)
    if initial is not None:
        return EngineResult("walk", ExitReason.VIOLATION, initial, (), EngineStats(time.perf_counter() - began, 0))
    deadline = None if config.budget_seconds is None else time.time() + config.budget_seconds
    runs = steps = 0
    calls: Calls | None = ()
    failure: WalkOutcome | None = None
    timed_out = False
    ticker = Ticker(config.progress)

    def measure() -> EngineProgress:
        return EngineProgress(steps, time.perf_counter() - began, runs)

    outcomes = _outcomes(walker, config.run_count(DEFAULT_RUNS), workers, deadline,
                         lambda: ticker.report(measure()))
    try:
        for chunk in outcomes:
            runs, steps, calls = runs + chunk.completed, steps + chunk.steps, merged(calls, chunk.calls)
            ticker.tick(steps, measure)
            if chunk.failure is not None or chunk.timed_out:
                failure, timed_out = chunk.failure, chunk.timed_out
                break
    finally:
        outcomes.close()  # stops the worker pool
    stats = EngineStats(time.perf_counter() - began, steps, runs, depth=run_length(config, 1), calls=calls)
    if failure is None:
        return EngineResult("walk", ExitReason.TIME_BOUND if timed_out else ExitReason.RUNS_DONE, stats=stats)
    return _report(walker, failure, stats, began)


def _explore(model: ClusterModel, start: ClusterState, config: EngineConfig) -> SliceGen:
    """Walks in this process as a sliced run (`slicing.Sliced`): it yields between two steps of a walk."""
    slicer, deadline, config = yield from begin_series(model, start, config)
    walker = Walker(model, start, config, config.safety(), config.convergence_properties())
    total = config.run_count(DEFAULT_RUNS)
    with memoised(model):
        initial = first_violation(model, start, walker.safety)
        if initial is not None:
            series = Series(0, 0, WalkOutcome(0, (), initial, ()))
        else:
            series = yield from run_series(config, slicer, deadline, total,
                                           lambda index: _uncut(walk_steps(walker, index, deadline)))
        stats = EngineStats(slicer.timer.seconds(), series.steps, series.runs, depth=run_length(config, 1))
        failure = series.failure
        if failure is None:
            done = total is not None and series.runs >= total
            return EngineResult("walk", ExitReason.RUNS_DONE if done else ExitReason.TIME_BOUND, stats=stats)
        if not failure.trace:
            return EngineResult("walk", ExitReason.VIOLATION, failure.violation, (), stats)
        return _report(walker, failure, stats, slicer.timer.began)


def _uncut(walk: RunSteps[WalkOutcome]) -> RunSteps[WalkOutcome]:
    """`walk`, raising `calls.OutOfBudget` at its end if a refused property call cut it (the
    series would count it as a run; `Sliced` ends the engine with the steps of its last pause)."""
    outcome, taken = yield from walk
    if outcome.cut:
        raise OutOfBudget(f"walk {outcome.index}")
    return outcome, taken


def sliced_walks(model: ClusterModel, start: ClusterState, config: EngineConfig) -> Sliced:
    """Walks in this process, to be run a slice at a time (the portfolio)."""
    return Sliced(_explore(model, start, config), "walk")


def _report(walker: Walker, failure: WalkOutcome, stats: EngineStats, began: float) -> EngineResult:
    """The result for the failing walk: its trace delta-debugged before the budget (counted from
    `began`) runs out; `stats.seconds` grows by the time shrinking took."""
    shrinking = time.perf_counter()
    violation: Violation | None = failure.violation
    trace = failure.trace
    assert violation is not None
    fair = f"; {failure.fair} steps the fair run's, none of its kinds enabled" if failure.fair else ""
    note = f"walk {failure.index} (kinds: {', '.join(failure.kinds)}{fair})"
    if walker.config.shrink:
        try:
            shrunk = shrink_within(walker.judge(), trace, violation.property, walker.config, began, known=violation)
        except KeyboardInterrupt:  # Ctrl-C: the find goes with it, as found
            raise Unfinished(unshrunk=(EngineResult("walk", ExitReason.VIOLATION, violation, trace, stats),)) from None
        assert shrunk.violation is not None, "the walk's trace fails no more on replay: the model is not deterministic"
        violation, trace, stats = shrunk.violation, shrunk.trace, shrunk.stats(stats)
    seconds = stats.seconds + time.perf_counter() - shrinking
    stats = attrs.evolve(stats, seconds=seconds, shrunk_from=len(failure.trace), note=note, found_after=stats.seconds)
    return EngineResult("walk", ExitReason.VIOLATION, violation, trace, stats)
