"""Swarm random walks on a dask.distributed cluster: a campaign beyond one machine.

`run_walks_on_dask(model, start, config, address)` does what `walk.run_walks` does — the same
walks, each decided by `(seed, walk index)` alone — but sends chunks of consecutive walks as tasks
to the scheduler at `address` (`tcp://HOST:8786`; None: the `DASK_SCHEDULER_ADDRESS` environment
variable). A task runs `walk.run_chunk` on a `walk.Walker` scattered once to every worker, so the
walk logic is the walk engine's own; the model travels pickled (workers need the same kubeprop
version installed, not the scenario file). Results are taken in walk-index order: the reported
violation is the lowest failing walk's, so a seed gives the same result whatever the number of
workers (unless the time budget runs out first, as with local workers). The failing walk's trace
comes back in the task's result and is shrunk here; `kubeprop check` then writes the
counterexample file locally. Progress comes from the cluster's task stream: each finished task
reports walks and steps, shown by the `progress` callback (stderr on a terminal).

Past known upstream behaviour (`EngineConfig.excuse`, `upstream_behaviour_search`) they search on
as the local walks do, with the same result for the same seed: the excuse stays in this process
(its model, its counts and its cap are this process's), so the cluster runs the walks without it
and a walk that ends at a violation of a property searched on is not a failure there but *deferred*
(`DaskChunk`): the task goes on with its next walk, and this process walks it again, with the
excuse, in walk-index order — it asks the excuse exactly what the local walks ask it, in the same
order, and goes on past what it passes over. A walk that meets no such violation is the same with
or without the excuse, so the others stay on the cluster.

Needs the optional extra: `pip install 'kubeprop[dask]'`.
"""

from __future__ import annotations

import importlib
import itertools
import os
import sys
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any
from urllib.parse import urlsplit

import attrs

from kubeprop.model.errors import UsageError
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.engine import (
    EngineConfig,
    EngineResult,
    EngineStats,
    ExitReason,
    run_length,
    with_fair_length,
)
from kubeprop.properties.explore.runner import register_engine
from kubeprop.properties.explore.slicing import out_of_time
from kubeprop.properties.explore.walk import DEFAULT_RUNS, ChunkOutcome, Walker, WalkOutcome, walk_once
from kubeprop.properties.explore.walk import _report as report_failure
from kubeprop.properties.registry import first_violation

__all__ = [
    "ADDRESS_VARIABLE", "DaskChunk", "DaskProgress", "DaskUnavailable", "dask_engine", "run_dask_chunk",
    "run_walks_on_dask", "terminal_progress",
]

ADDRESS_VARIABLE = "DASK_SCHEDULER_ADDRESS"
CHUNK_WALKS = 16
"""Walks per task: large enough that scheduling costs little, small enough to spread the work."""
CONNECT_TIMEOUT = 20.0
"""Seconds to wait for the scheduler before giving up (a clear error, exit 2)."""
MAX_IN_FLIGHT_PER_THREAD = 4
"""Tasks submitted ahead per worker thread, so a budget-bound run does not queue every walk."""


class DaskUnavailable(UsageError, RuntimeError):
    """dask.distributed is not installed, or no scheduler address was given or reachable."""


@attrs.frozen
class DaskProgress:
    """What the task stream has reported so far."""

    walks_done: int
    walks_total: int | None
    """None: walks go on until the budget runs out."""
    steps: int
    seconds: float
    threads: int

    @property
    def steps_per_second(self) -> float:
        """Walk steps per second over the whole cluster."""
        return self.steps / self.seconds if self.seconds > 0 else 0.0


@attrs.frozen
class DaskChunk:
    """A task's chunk of walks, run without the excuse: its outcome as `walk.run_chunk` gives it but
    for the walks `deferred` — each ended at a violation of a property searched on past known
    upstream behaviour, and is given as (walk index, the chunk's steps before it, its own steps) for
    this process to walk again with the excuse (module docstring)."""

    outcome: ChunkOutcome
    deferred: tuple[tuple[int, int, int], ...] = ()


def run_dask_chunk(walker: Walker, indices: range, deadline: float | None,
                   searched: frozenset[str] = frozenset()) -> DaskChunk:
    """`walk.run_chunk` on a worker, but a walk whose violation is of a property in `searched`
    (`EngineConfig.excuse.names`) is deferred, not a failure: the chunk goes on with its next walk."""
    steps = 0
    deferred: list[tuple[int, int, int]] = []
    local = None if deadline is None else time.perf_counter() + (deadline - time.time())
    for done, index in enumerate(indices):
        if out_of_time(local):
            return DaskChunk(ChunkOutcome(done, steps, None, True), tuple(deferred))
        outcome, taken = walk_once(walker, index, local)
        if outcome.violation is not None and outcome.violation.property in searched:
            deferred.append((index, steps, taken))
        elif outcome.violation is not None:
            return DaskChunk(ChunkOutcome(done + 1, steps + taken, outcome, False), tuple(deferred))
        steps += taken
        if out_of_time(local):
            return DaskChunk(ChunkOutcome(done, steps, None, True), tuple(deferred))  # the last walk was cut
    return DaskChunk(ChunkOutcome(len(indices), steps, None, False), tuple(deferred))


def _walked_here(walker: Walker, chunk: DaskChunk, first: int, deadline: float | None) -> ChunkOutcome:
    """The chunk's outcome once its deferred walks are walked again here with `walker` (the
    excuse's), in order, until the `time.perf_counter()` `deadline`, as `walk.run_chunk` would
    have counted it: a deferred walk that fails here is the chunk's failure."""
    extra = 0  # the steps the deferred walks took here beyond what they took on the cluster
    for index, before, own in chunk.deferred:
        done = index - first
        if out_of_time(deadline):
            return ChunkOutcome(done, before + extra, None, True)
        outcome, taken = walk_once(walker, index, deadline)
        steps = before + extra + taken
        if outcome.violation is not None:
            return ChunkOutcome(done + 1, steps, outcome, False)
        if out_of_time(deadline):
            return ChunkOutcome(done, steps, None, True)
        extra += taken - own
    return attrs.evolve(chunk.outcome, steps=chunk.outcome.steps + extra)


def _distributed() -> Any:
    """The dask.distributed module (imported only when a cluster is used)."""
    try:
        return importlib.import_module("distributed")
    except ImportError as err:
        raise DaskUnavailable("walks on a cluster need dask.distributed: pip install 'kubeprop[dask]'") from err


SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")
"""The address schemes dask.distributed's comms understand (`distributed.comm.registry`); an
`inproc://` address (a cluster in this process) carries a path."""


def _checked_address(address: str) -> str:
    """`address` if it reads `SCHEME://HOST[:PORT]` with a known scheme; DaskUnavailable (exit 2)
    otherwise, before any connection is tried."""
    parts = urlsplit(address)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    path_ok = parts.scheme == "inproc" or parts.path in ("", "/")
    if parts.scheme not in SCHEMES or not parts.hostname or not port_ok or not path_ok:
        raise DaskUnavailable(f"--cluster {address!r}: not a Dask scheduler address; expected SCHEME://HOST:PORT "
                              f"with SCHEME one of {', '.join(SCHEMES)}, e.g. tcp://scheduler:8786")
    return address


def _client(address: str | None, budget: float | None = None) -> Any:
    address = address or os.environ.get(ADDRESS_VARIABLE)
    if not address:
        raise DaskUnavailable(f"no Dask scheduler: pass --cluster tcp://HOST:8786 or set {ADDRESS_VARIABLE}")
    address = _checked_address(address)
    client_class = _distributed().Client
    wait = CONNECT_TIMEOUT if budget is None else max(1.0, min(CONNECT_TIMEOUT, budget))
    try:
        return client_class(address, timeout=wait, set_as_default=False)
    except OSError as err:
        raise DaskUnavailable(f"cannot reach the Dask scheduler at {address}: {err}") from err


def _chunks(total: int | None) -> Iterator[range]:
    """Consecutive ranges of `CHUNK_WALKS` walk indices (endless when `total` is None)."""
    at = 0
    while total is None or at < total:
        end = at + CHUNK_WALKS if total is None else min(at + CHUNK_WALKS, total)
        yield range(at, end)
        at = end


def _ordered_outcomes(client: Any, walker_future: Any, chunks: Iterator[range], deadline: float | None,
                      report: Callable[[ChunkOutcome], None], searched: frozenset[str] = frozenset()
                      ) -> Generator[tuple[range, DaskChunk], None, None]:
    """Chunks with their outcomes (`run_dask_chunk`, deferring the walks that end at a violation
    of a property in `searched`), in walk-index order. Tasks are kept `MAX_IN_FLIGHT_PER_THREAD`
    per worker thread ahead of the first unfinished chunk; `report` sees each one as the cluster
    finishes it (the task stream); tasks still pending when the caller stops are cancelled."""
    window = max(1, sum(client.nthreads().values())) * MAX_IN_FLIGHT_PER_THREAD
    position_of: dict[str, int] = {}
    pending: dict[str, Any] = {}
    ranges: dict[int, range] = {}
    done: dict[int, DaskChunk] = {}
    stream = _distributed().as_completed(loop=client.loop)
    submitted = position = 0
    try:
        while True:
            for chunk in itertools.islice(chunks, max(0, position + window - submitted)):
                fut = client.submit(run_dask_chunk, walker_future, chunk, deadline, searched, pure=False)
                position_of[fut.key], pending[fut.key], ranges[submitted] = submitted, fut, chunk
                stream.add(fut)
                submitted += 1
            if position >= submitted:
                return
            while position not in done:
                fut = next(stream)
                del pending[fut.key]
                done[position_of.pop(fut.key)] = outcome = fut.result()
                report(outcome.outcome)
            yield ranges.pop(position), done.pop(position)
            position += 1
    finally:
        if pending:
            client.cancel(list(pending.values()))


def run_walks_on_dask(model: ClusterModel, start: ClusterState, config: EngineConfig, address: str | None = None,
                      progress: Callable[[DaskProgress], None] | None = None) -> EngineResult:
    """Swarm random walks (`walk.run_walks`) on the Dask scheduler at `address` (module
    docstring); the same `EngineResult`, with the lowest failing walk's trace shrunk locally."""
    began = time.perf_counter()
    config = with_fair_length(model, start, config, config.deadline(began))  # the same run lengths as local walks
    walker = Walker(model, start, config, config.safety(), config.convergence_properties())
    # the cluster's walks without the excuse (it stays here, module docstring): theirs are deferred
    remote = attrs.evolve(walker, config=attrs.evolve(config, excuse=None))
    searched = frozenset() if config.excuse is None else frozenset(config.excuse.names)
    initial = first_violation(model, start, walker.safety)
    if initial is not None:
        return EngineResult("walk", ExitReason.VIOLATION, initial, (), EngineStats(time.perf_counter() - began, 0))
    total = config.run_count(DEFAULT_RUNS)
    deadline = None if config.budget_seconds is None else time.time() + config.budget_seconds
    here = config.deadline(began)
    client = _client(address, config.budget_seconds)
    seen = {"walks": 0, "steps": 0}

    def report(outcome: ChunkOutcome) -> None:
        seen["walks"] += outcome.completed
        seen["steps"] += outcome.steps
        if progress is not None:
            threads = sum(client.nthreads().values())
            progress(DaskProgress(seen["walks"], total, seen["steps"], time.perf_counter() - began, threads))

    runs = steps = 0
    failure: WalkOutcome | None = None
    timed_out = False
    try:
        walker_future = client.scatter(remote, broadcast=True, hash=False)
        outcomes = _ordered_outcomes(client, walker_future, _chunks(total), deadline, report, searched)
        for indices, ran in outcomes:
            chunk = _walked_here(walker, ran, indices.start, here) if ran.deferred else ran.outcome
            runs, steps = runs + chunk.completed, steps + chunk.steps
            if chunk.failure is not None or chunk.timed_out:
                failure, timed_out = chunk.failure, chunk.timed_out
                break
        outcomes.close()
    finally:
        client.close()
    stats = EngineStats(time.perf_counter() - began, steps, runs, depth=run_length(config, 1),
                        note=f"on the Dask cluster at {address or os.environ.get(ADDRESS_VARIABLE)}",
                        calls=None)  # (the cluster's workers do not report their property calls)
    if failure is None:
        return EngineResult("walk", ExitReason.TIME_BOUND if timed_out else ExitReason.RUNS_DONE, stats=stats)
    return _shrunk(walker, failure, stats, began)


def _shrunk(walker: Walker, failure: WalkOutcome, stats: EngineStats, began: float) -> EngineResult:
    """The failing walk, delta-debugged here exactly as the local walk engine does it (`walk._report`:
    within its step bound and the budget), the cluster named in the note."""
    result = report_failure(walker, failure, attrs.evolve(stats, seconds=time.perf_counter() - began), began)
    return attrs.evolve(result, stats=attrs.evolve(result.stats, note=f"{result.stats.note}; {stats.note}"))


def terminal_progress(seen: DaskProgress) -> None:
    """One overwritten stderr line per finished task: walks done, cluster threads, steps/s."""
    of = "" if seen.walks_total is None else f"/{seen.walks_total:,}"
    sys.stderr.write(f"\r  walk (dask, {seen.threads} threads): {seen.walks_done:,}{of} walks, "
                     f"{seen.steps:,} steps, {seen.steps_per_second:,.0f} steps/s   ")
    sys.stderr.flush()


def dask_engine(address: str | None, progress: Callable[[DaskProgress], None] | None = None) -> str:
    """Register the walk engine bound to the scheduler at `address` with the runner and return
    its engine name (for `check(engine=...)`; `kubeprop check --cluster` uses this)."""
    name = "walk-dask"

    def engine(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
        return run_walks_on_dask(model, start, config, address, progress)

    register_engine(name, engine)
    return name
