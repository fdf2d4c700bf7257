"""The parallel explicit-state engine: the fingerprint set, and results (counts, shortest
counterexample) equal to the single-threaded BFS for any number of workers."""

from __future__ import annotations

import time
import types
from collections.abc import Iterator

import attrs
import pytest

from kubeprop.model.raft.state import LIBRARY_DEFAULTS, RaftConfig
from kubeprop.model.raft.system import initial_state, successors, with_variant
from kubeprop.properties.explore import parallel
from kubeprop.properties.explore.bfs import Bounds, search
from kubeprop.properties.explore.fpset import FingerprintSet
from kubeprop.properties.explore.parallel import ROOT_KEY, WorkerError, explore, path_of, replay
from kubeprop.properties.explore.raft import RaftSystem
from kubeprop.properties.explore.raft import explore as raft_explore
from kubeprop.properties.raft import INVARIANTS, first_failure


def test_fingerprint_set_adds_finds_and_grows() -> None:
    fps = FingerprintSet(capacity=4)
    values = [0, 1, -1, 2**63 - 1, -(2**63), *range(10_000, 20_000, 7)]
    assert all(fps.add(v) for v in values)
    assert not any(fps.add(v) for v in values)
    assert len(fps) == len(values) and all(v in fps for v in values)
    assert 3 not in fps and "x" not in fps
    assert fps.nbytes >= 8 * len(values) / 0.7


@attrs.frozen
class Grid:
    """Two counters up to `n`, as an ExplicitSystem; `bad` is a state the check rejects."""

    n: int = 6
    bad: tuple[int, int] | None = None
    fail_at: tuple[int, int] | None = None

    def start(self) -> tuple[int, int]:
        return (0, 0)

    def successors(self, state: tuple[int, int]) -> list[tuple[int, int]]:
        if state == self.fail_at:
            raise RuntimeError("successor function broke")
        a, b = state
        return [s for s in ((a + 1, b), (a, b + 1)) if max(s) <= self.n]

    def fingerprint(self, state: tuple[int, int]) -> int:
        return hash(state)  # a tuple of ints: the same in every process

    def check(self, state: tuple[int, int]) -> str | None:
        return "bad" if state == self.bad else None


def _grid_succ(state: tuple[int, int]) -> Iterator[tuple[str, tuple[int, int]]]:
    for nxt in Grid().successors(state):
        yield ("a+1" if nxt[0] > state[0] else "b+1"), nxt


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_grid_counts_and_shortest_violation(workers: int) -> None:
    done = explore(Grid(), workers)
    assert (done.exit_reason, done.stats.distinct, done.stats.states, done.stats.depth) == ("exhausted", 49, 85, 12)
    found = explore(Grid(bad=(2, 3)), workers)
    assert found.exit_reason == "violation" and found.violation == "bad"
    assert found.path == (0, 0, 1, 1, 1)  # the least path: a+1 first, as breadth-first search finds it
    trace, final = replay((0, 0), _grid_succ, found.path)
    assert final == (2, 3) and trace == ("a+1", "a+1", "b+1", "b+1", "b+1")


@pytest.mark.parametrize("workers", [1, 2])
def test_bounds(workers: int) -> None:
    assert explore(Grid(), workers, Bounds(max_depth=3)).exit_reason == "depth-bound"
    capped = explore(Grid(), workers, Bounds(max_states=10))
    assert capped.exit_reason == "state-bound" and capped.stats.distinct >= 10
    assert explore(Grid(), workers, Bounds(budget_seconds=0)).exit_reason == "time-bound"


def test_a_level_cut_by_the_budget_is_checked_only_within_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """`kubeprop check --model raft --budget 20` ran 24 s: the level the deadline cut was still
    checked whole. Here a state's expansion takes a second of a fake clock and the budget is 40 s:
    no state is checked after the deadline, and the search stops time-bound."""
    clock = [1000.0]
    checked_at: list[float] = []

    @attrs.frozen
    class SlowGrid(Grid):
        def successors(self, state: tuple[int, int]) -> list[tuple[int, int]]:
            clock[0] += 1.0
            return super().successors(state)

        def check(self, state: tuple[int, int]) -> str | None:
            checked_at.append(clock[0])
            return super().check(state)

    monkeypatch.setattr(parallel, "time", types.SimpleNamespace(time=lambda: clock[0], perf_counter=time.perf_counter))
    done = explore(SlowGrid(n=30), 1, Bounds(budget_seconds=40))
    assert done.exit_reason == "time-bound"
    assert checked_at and max(checked_at) <= 1040.0 < clock[0]


def test_a_failing_worker_is_reported() -> None:
    with pytest.raises(WorkerError, match="successor function broke"):
        explore(Grid(fail_at=(1, 1)), 2)
    with pytest.raises(RuntimeError, match="successor function broke"):
        explore(Grid(fail_at=(1, 1)), 1)


def test_path_keys() -> None:
    assert path_of(ROOT_KEY) == ()
    assert path_of((((ROOT_KEY << 16) | 3) << 16) | 0) == (3, 0)


PLAIN = RaftConfig(max_term=1, max_log=1, max_msgs=2, **LIBRARY_DEFAULTS)  # the TLA+ twin's election options


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_raft_counts_equal_the_single_threaded_bfs(workers: int) -> None:
    # the pinned numbers of tests/model/raft (equal to TLC's)
    run = raft_explore(PLAIN, (), workers=workers)
    assert run.result.exit_reason == "exhausted"
    assert (run.result.stats.states, run.result.stats.distinct) == (50195, 9517)
    assert run.engine is not None and run.engine.workers == workers and run.engine.visited_bytes > 9517 * 8


@pytest.mark.parametrize(("variant", "config", "depth"), [
    ("quorum-ceil", RaftConfig(servers=4, max_term=1, max_log=0, **LIBRARY_DEFAULTS), 6),  # the variants' bounds
    ("follower-read", RaftConfig(max_term=1, max_log=2, history=True, reads=1, **LIBRARY_DEFAULTS), 9),
])
def test_raft_counterexample_is_the_bfs_one_for_any_worker_count(variant: str, config: RaftConfig,
                                                                 depth: int) -> None:
    config = with_variant(config, variant)
    start = initial_state(config)
    expected = search(start, successors(config), lambda s: first_failure(config, s, INVARIANTS), Bounds(depth))
    assert expected.violation is not None
    for workers in (1, 2):
        run = raft_explore(config, INVARIANTS, Bounds(depth), workers=workers)
        assert run.result.violation == expected.violation
        assert run.result.trace == expected.trace and run.result.final == expected.final


def test_raft_system_pickles() -> None:
    import pickle

    system = RaftSystem(PLAIN, INVARIANTS, initial_state(PLAIN))
    assert pickle.loads(pickle.dumps(system)) == system
