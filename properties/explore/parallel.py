"""A parallel breadth-first explicit-state engine: worker processes, a fingerprint set partitioned
by hash, a frontier level by level, and the same result for any number of workers.

Design (after TLC's fingerprint server and Stateright's sharded visited set). Every state has a
64-bit fingerprint that all processes compute alike (`ExplicitSystem.fingerprint`, never a salted
`hash()`); the worker `fp >> 40 mod W` *owns* it: it alone keeps that fingerprint in its
`FingerprintSet` and expands that state. Every state also carries a *key*: the successor indices
of a path from the start, packed 16 bits per step behind a leading 1 bit. The search goes level
by level (depth d → d+1); in one level every worker

1. expands the states of its frontier in key order, recording every successor it owns and has
   not seen, and every successor another worker owns (once per fingerprint, smallest key kept);
2. asks each owner about the foreign successors (fingerprints and keys); the owner keeps the
   ones it has not seen with the smallest key offered, and for each one that only other workers
   hold it asks the one with the smallest key for the state — so a state crosses a process
   boundary at most once, and only when it is new;
3. sorts its new states by key and checks them in that order.

Keys make the result independent of the number of workers: all keys of one level have the same
length, so comparing them as ints compares paths index by index, and a state's key is the least
path over all its parents — exactly the order in which a single-threaded breadth-first search
(`bfs.search`) discovers the states. The violation reported is the one with the least key in the
first level that has one: the same shortest counterexample `bfs.search` returns, and its key is
its trace (`path_of`, `replay`). Distinct and generated counts do not depend on the partition.
Per visited state the engine keeps only the fingerprint (8 bytes a slot at a load factor
≤ 0.7); whole states, with their keys, live only in the current and the next frontier.

Bounds are checked between levels (`max_depth` exactly; `max_states` when a level ends, so the
count may overshoot by up to one level); `budget_seconds` also stops a worker inside a level,
expanding or checking it (states past the deadline are counted as reached, not checked). One
worker runs in this process; more run in forked processes (spawned where fork is unavailable,
which needs a picklable system). The bytes that travel between workers (frontier chunks, batches
of states, queries) are made and read by `parallel_wire.py`.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import pickle
import queue
import resource
import threading
import time
import traceback
from array import array
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from operator import itemgetter
from typing import Any, Generic, Literal, Protocol, TypeVar, cast

import attrs

from kubeprop.model.errors import UserCodeError
from kubeprop.properties.explore.bfs import Bounds, SearchStats, replay
from kubeprop.properties.explore.engine import ExitReason
from kubeprop.properties.explore.fpset import FingerprintSet
from kubeprop.properties.explore.parallel_wire import (
    frontier_chunks,
    pack_states,
    read_chunk,
    read_ints,
    read_query,
    unpack_states,
)

__all__ = ["Exit", "ExplicitSystem", "LevelReport", "ParallelResult", "WorkerError", "explore", "path_of", "replay"]

S = TypeVar("S")
S_co = TypeVar("S_co", covariant=True)

IDX_BITS = 16
"""A state's key is its parent's key << IDX_BITS | its successor index: at most 2¹⁶−1
successors per state."""
ROOT_KEY = 1
"""The key of the start state: the leading 1 bit makes all keys of one level equally long, so
comparing keys as ints compares the paths index by index."""
_IDX_MASK = (1 << IDX_BITS) - 1
_SHARD_SHIFT = 40


class ExplicitSystem(Protocol[S]):
    """What the engine explores: successors in a fixed order, a process-independent 64-bit
    fingerprint, and a check that returns None or a violation (any picklable value)."""

    def start(self) -> S:
        """The initial state."""

    def successors(self, state: S) -> Sequence[S]:
        """Every successor, in a deterministic order (the index is the action's position)."""

    def fingerprint(self, state: S) -> int:
        """A 64-bit fingerprint, equal for equal states in every process."""

    def check(self, state: S) -> object | None:
        """None, or what fails in `state`."""


Exit = ExitReason | Literal["memory-bound"]
"""Why a search stopped: `bfs.ExitReason`, or the memory budget (`explore(max_memory=...)`)."""
StopReason = Literal["time", "memory"]
"""Why a worker stopped inside a level: the wall-clock deadline, or its memory budget."""


class WorkerError(RuntimeError):
    """A worker process failed (its traceback is the message) or died."""


@attrs.frozen
class LevelReport:
    """One worker's account of one level."""

    generated: int
    new: int
    violation: tuple[int, Any] | None
    stopped: StopReason | None
    visited_bytes: int
    peak_rss: int


@attrs.frozen
class ParallelResult:
    """The outcome: why the search stopped, counters, the violation and the successor indices
    leading to it from the start (`replay` turns them into actions), plus memory figures: the
    bytes of the fingerprint sets and parent links, and the peak resident set size summed over
    the processes (forked workers count the pages they share with the parent once each)."""

    exit_reason: Exit
    stats: SearchStats
    violation: Any = None
    path: tuple[int, ...] = ()
    workers: int = 1
    visited_bytes: int = 0
    peak_rss: int = 0


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Worker(Generic[S]):
    """One shard: its fingerprints and its part of the frontier, each state with its key."""

    def __init__(self, system: ExplicitSystem[S], me: int, count: int, peers: dict[int, Connection]) -> None:
        self.system, self.me, self.count, self.peers = system, me, count, peers
        self.seen = FingerprintSet()
        self.frontier: list[bytes] = []
        """The current level as pickled chunks of (keys, states), in key order."""
        self.tick: Callable[[int, int], None] | None = None
        """Called after each chunk of the frontier expanded, with the states generated and the new
        ones kept so far in this level: the in-process worker's progress within a level (a level
        of a long search takes minutes). Forked workers report at the level's end only."""
        self._outbox: queue.SimpleQueue[tuple[Connection, bytes]] = queue.SimpleQueue()
        if peers:
            threading.Thread(target=self._send_loop, daemon=True, name=f"kubeprop-bfs-send-{me}").start()

    def _send_loop(self) -> None:
        """Send queued messages in order (a thread: two workers sending large messages to each
        other cannot block each other)."""
        while True:
            conn, blob = self._outbox.get()
            conn.send_bytes(blob)

    def seed(self) -> None:
        """Take the initial state if this worker owns it."""
        start = self.system.start()
        fp = self.system.fingerprint(start)
        if (fp >> _SHARD_SHIFT) % self.count == self.me:
            self.seen.add(fp)
            self.frontier = frontier_chunks([ROOT_KEY], [start])

    def level(self, deadline: float | None, max_rss: int | None) -> LevelReport:
        """Expand the frontier into the next level (module docstring, steps 1–3), stopping early
        past the wall-clock `deadline` or when this process's resident set exceeds `max_rss`."""
        local, foreign, generated, stopped = self._expand(deadline, max_rss)
        fvals = {o: list(foreign[o].values()) for o in self.peers}
        asked = self._exchange({o: pickle.dumps((array("q", foreign[o]).tobytes(), [k for k, _ in fvals[o]]),
                                                protocol=5) for o in self.peers})
        queries = {s: read_query(blob) for s, blob in asked.items()}
        pending, needs = self._arbitrate(local, queries)
        wanted = self._exchange({s: array("q", needs[s]).tobytes() for s in self.peers})
        supplied = self._exchange({o: pack_states([fvals[o][p][1] for p in read_ints(wanted[o])]) for o in self.peers})
        for s, blob in supplied.items():
            fps = queries[s][0]
            for pos, state in zip(needs[s], unpack_states(blob), strict=True):
                local[fps[pos]] = [pending[fps[pos]], state]
        ordered = sorted(local.values(), key=itemgetter(0))
        del local
        # States are checked only while the budget lasts (checking a level's states could take
        # seconds past it); a level cut short ends the search, so its states are no next frontier.
        violation, cut = self._check(ordered, deadline)
        stopped = stopped or cut
        if stopped is None:
            self.frontier = frontier_chunks([k for k, _ in ordered], [state for _, state in ordered])
        return LevelReport(generated, len(ordered), violation, stopped, self.seen.nbytes, _peak_rss())

    def _expand(self, deadline: float | None, max_rss: int | None
                ) -> tuple[dict[int, list[Any]], list[dict[int, tuple[int, S]]], int, StopReason | None]:
        succ, fpf, seen_add = self.system.successors, self.system.fingerprint, self.seen.add
        me, count = self.me, self.count
        local: dict[int, list[Any]] = {}
        foreign: list[dict[int, tuple[int, S]]] = [{} for _ in range(count)]
        generated, stopped = 0, None
        chunks, self.frontier = self.frontier[::-1], []
        while chunks and stopped is None:
            keys, states = read_chunk(chunks.pop())
            stopped = _stop(deadline, max_rss)
            for key, state in zip(keys, states, strict=True) if stopped is None else ():
                base = key << IDX_BITS
                nexts = succ(state)
                if len(nexts) > _IDX_MASK:
                    raise ValueError(f"a state has {len(nexts)} successors; at most {_IDX_MASK} are supported")
                generated += len(nexts)
                for idx, nxt in enumerate(nexts):
                    if nxt is state:  # a self-loop (e.g. a lost send): the parent is visited already
                        continue
                    fp = fpf(nxt)
                    owner = (fp >> _SHARD_SHIFT) % count
                    if owner == me:
                        if seen_add(fp):
                            local[fp] = [base | idx, nxt]
                    else:
                        bucket = foreign[owner]
                        if fp not in bucket:
                            bucket[fp] = (base | idx, nxt)
            if self.tick is not None:
                self.tick(generated, len(local))
        return local, foreign, generated, stopped

    def _arbitrate(self, local: dict[int, list[Any]], queries: dict[int, tuple[array[int], list[int]]]
                   ) -> tuple[dict[int, int], dict[int, list[int]]]:
        """Keep the smallest key per new fingerprint; for a state only peers hold, ask the peer
        with the smallest key for it. Returns fingerprint → key for those, and per peer the
        positions (in its query) wanted."""
        best: dict[int, tuple[int, int, int]] = {}
        seen_add = self.seen.add
        for s in sorted(queries):
            fps, keys = queries[s]
            for pos, (fp, key) in enumerate(zip(fps, keys, strict=True)):
                hit = local.get(fp)
                if hit is not None:
                    if key < hit[0]:
                        hit[0] = key
                    continue
                prev = best.get(fp)
                if prev is not None:
                    if key < prev[0]:
                        best[fp] = (key, s, pos)
                elif seen_add(fp):
                    best[fp] = (key, s, pos)
        needs: dict[int, list[int]] = {s: [] for s in self.peers}
        for _key, s, pos in best.values():
            needs[s].append(pos)
        for positions in needs.values():
            positions.sort()
        return {fp: key for fp, (key, _s, _p) in best.items()}, needs

    def _check(self, ordered: list[list[Any]], deadline: float | None
               ) -> tuple[tuple[int, Any] | None, StopReason | None]:
        """The first violating state of the level in key order (`[key, state]` pairs), checking
        no further once the wall-clock `deadline` (if any) has passed ("time")."""
        check = self.system.check
        for n, (key, state) in enumerate(ordered):
            if deadline is not None and n % CHECKS_BETWEEN_CLOCK_READS == 0 and time.time() > deadline:
                return None, "time"
            found = check(state)
            if found is not None:
                return (key, found), None
        return None, None

    def _exchange(self, payloads: dict[int, bytes]) -> dict[int, bytes]:
        """Send one message to every peer and receive one from each."""
        if not self.peers:
            return {}
        for o in sorted(payloads):
            self._outbox.put((self.peers[o], payloads[o]))
        got: dict[int, bytes] = {}
        waiting = {conn: o for o, conn in self.peers.items()}
        while waiting:
            for conn in wait(list(waiting)):
                got[waiting.pop(conn)] = conn.recv_bytes()  # type: ignore[union-attr, call-overload]
        return got


CHECKS_BETWEEN_CLOCK_READS = 256
"""States checked between two reads of the clock against the budget's deadline."""


def _current_rss() -> int:
    """This process's resident set now (Linux /proc; elsewhere its peak so far)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize()
    except OSError:
        return _peak_rss()


def _stop(deadline: float | None, max_rss: int | None) -> StopReason | None:
    if deadline is not None and time.time() > deadline:
        return "time"
    if max_rss is not None and _current_rss() > max_rss:
        return "memory"
    return None


def path_of(key: int) -> tuple[int, ...]:
    """The successor indices a key encodes (the key of the start state is `ROOT_KEY`)."""
    out = []
    while key > ROOT_KEY:
        out.append(key & _IDX_MASK)
        key >>= IDX_BITS
    return tuple(reversed(out))


def _serve(system: ExplicitSystem[Any], me: int, count: int, cmd: Connection, peers: dict[int, Connection]) -> None:
    """A worker process: run the coordinator's commands until told to stop (without the cyclic
    garbage collector: see `explore`)."""
    gc.disable()
    worker = _Worker(system, me, count, peers)
    while True:
        name, args = cmd.recv()
        if name == "stop":
            return
        try:
            reply: tuple[str, Any] = ("ok", getattr(worker, name)(*args))
        except UserCodeError as err:  # the user's controller or property: the same error as in one process
            reply = ("user-error", UserCodeError(str(err)))
        except BaseException:
            reply = ("error", f"worker {me}: {traceback.format_exc()}")
        cmd.send(reply)


class _Pool:
    """The workers: one in this process, or `count` processes linked pairwise by pipes."""

    def __init__(self, system: ExplicitSystem[Any], count: int) -> None:
        self.local: _Worker[Any] | None = None
        self.cmds: list[Connection] = []
        self.procs: list[multiprocessing.process.BaseProcess] = []
        if count == 1:
            self.local = _Worker(system, 0, 1, {})
            return
        methods = multiprocessing.get_all_start_methods()
        ctx: Any = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        ends: list[dict[int, Connection]] = [{} for _ in range(count)]
        for a in range(count):
            for b in range(a + 1, count):
                ends[a][b], ends[b][a] = ctx.Pipe(duplex=True)
        for me in range(count):
            parent, child = ctx.Pipe(duplex=True)
            proc = ctx.Process(target=_serve, args=(system, me, count, child, ends[me]), daemon=True,
                               name=f"kubeprop-bfs-{me}")
            proc.start()
            child.close()
            self.cmds.append(parent)
            self.procs.append(proc)
        for peer_ends in ends:
            for conn in peer_ends.values():
                conn.close()

    def call(self, name: str, *args: Any) -> list[Any]:
        """Run a worker method on every worker; their results in worker order."""
        if self.local is not None:
            return [getattr(self.local, name)(*args)]
        for conn in self.cmds:
            conn.send((name, args))
        results: dict[int, Any] = {}
        waiting = {conn: i for i, conn in enumerate(self.cmds)}
        while waiting:
            for ready in wait(list(waiting)):
                conn = cast(Connection, ready)
                i = waiting.pop(conn)
                try:
                    status, value = conn.recv()
                except EOFError:
                    status, value = "error", f"worker {i} died (exit code {self.procs[i].exitcode})"
                if status != "ok":
                    self.close(force=True)
                    raise value if status == "user-error" else WorkerError(value)
                results[i] = value
        return [results[i] for i in range(len(self.cmds))]

    def close(self, force: bool = False) -> None:
        """Stop the workers."""
        for conn, proc in zip(self.cmds, self.procs, strict=True):
            if not force and proc.is_alive():
                with contextlib.suppress(OSError):
                    conn.send(("stop", ()))
            proc.join(timeout=None if not force else 0)
            if proc.is_alive():
                proc.terminate()
                proc.join()
            conn.close()
        self.cmds, self.procs = [], []


@attrs.define
class _Tally:
    """The coordinator's running counts."""

    began: float
    generated: int = 1
    distinct: int = 1
    depth: int = 0
    visited_bytes: int = 0
    peak_rss: int = 0

    def stats(self) -> SearchStats:
        return SearchStats(self.generated, self.distinct, self.depth, time.perf_counter() - self.began)

    def within(self, progress: Callable[[SearchStats], None], every: float = 1.0) -> Callable[[int, int], None]:
        """A `_Worker.tick` that calls `progress` at most every `every` seconds with the counts so
        far, the level under way's included (its depth is the last level done)."""
        last = time.perf_counter()

        def tick(generated: int, new: int) -> None:
            nonlocal last
            now = time.perf_counter()
            if now - last >= every:
                last = now
                progress(SearchStats(self.generated + generated, self.distinct + new, self.depth, now - self.began))

        return tick

    def add(self, level: int, reports: list[LevelReport]) -> int:
        """Fold one level's reports in; the number of new states."""
        new = sum(r.new for r in reports)
        self.generated += sum(r.generated for r in reports)
        self.distinct += new
        if new:
            self.depth = level
        self.visited_bytes = sum(r.visited_bytes for r in reports)
        self.peak_rss = max(self.peak_rss, sum(r.peak_rss for r in reports))
        return new


def explore(system: ExplicitSystem[S], workers: int = 1, bounds: Bounds = Bounds(),
            progress: Callable[[SearchStats], None] | None = None, max_memory: int | None = None) -> ParallelResult:
    """Breadth-first search of `system` with `workers` processes (module docstring). With
    `max_memory` (bytes), a worker whose resident set exceeds its share stops the search
    ("memory-bound")."""
    if workers < 1:
        raise ValueError(f"workers must be ≥ 1, got {workers}")
    tally = _Tally(time.perf_counter())
    deadline = None if bounds.budget_seconds is None else time.time() + bounds.budget_seconds
    found = system.check(system.start())
    if found is not None:
        return ParallelResult(ExitReason.VIOLATION, tally.stats(), found, (), workers)
    collecting = gc.isenabled()
    gc.disable()  # states are acyclic: the collector would only rescan the ever-growing frontier
    try:
        pool = _Pool(system, workers)
        try:
            limits = (deadline, None if max_memory is None else max_memory // workers)
            return _levels(pool, tally, workers, bounds, limits, progress)
        finally:
            pool.close()
    finally:
        if collecting:
            gc.enable()


def _levels(pool: _Pool, tally: _Tally, workers: int, bounds: Bounds, limits: tuple[float | None, int | None],
            progress: Callable[[SearchStats], None] | None) -> ParallelResult:
    pool.call("seed")
    if progress is not None and pool.local is not None:
        pool.local.tick = tally.within(progress)
    level, frontier = 0, 1

    def done(reason: Exit, violation: Any = None, path: tuple[int, ...] = ()) -> ParallelResult:
        return ParallelResult(reason, tally.stats(), violation, path, workers, tally.visited_bytes,
                              max(tally.peak_rss, _peak_rss()))

    while frontier:
        if bounds.max_depth is not None and level >= bounds.max_depth:
            return done(ExitReason.DEPTH_BOUND)
        reports: list[LevelReport] = pool.call("level", *limits)
        level += 1
        frontier = tally.add(level, reports)
        violations = [r.violation for r in reports if r.violation is not None]
        if violations:
            key, violation = min(violations, key=lambda kv: kv[0])
            return done(ExitReason.VIOLATION, violation, path_of(key))
        stops = {r.stopped for r in reports}
        if "time" in stops:
            return done(ExitReason.TIME_BOUND)
        if "memory" in stops:
            return done("memory-bound")
        if bounds.max_states is not None and tally.distinct >= bounds.max_states:
            return done(ExitReason.STATE_BOUND)
        if progress is not None:
            progress(tally.stats())
    return done(ExitReason.EXHAUSTED)
