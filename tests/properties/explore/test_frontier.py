"""The spilled frontier and the compact parent table (issue 17: a frontier that fits), and the
breadth-first search using them: the same states, counts and shortest traces as in memory."""

from __future__ import annotations

import pytest
from counter_system import counters

from kubeprop.properties.explore import bfs
from kubeprop.properties.explore.fpset import ROOT, StateTable
from kubeprop.properties.explore.frontier import SpillQueue


def test_spill_queue_is_fifo_across_memory_disk_and_tail(tmp_path: object) -> None:
    queue: SpillQueue[tuple[int, str]] = SpillQueue(memory_items=3, chunk=4)
    out: list[tuple[int, str]] = []
    for i in range(50):  # interleave pushes and pops so every path (head, spilled chunks, tail) is used
        queue.append((i, f"s{i}"))
        if i % 3 == 2:
            out.append(queue.popleft())
    assert queue.spilled_bytes > 0
    while queue:
        out.append(queue.popleft())
    assert out == [(i, f"s{i}") for i in range(50)]
    with pytest.raises(IndexError):
        queue.popleft()


def test_spill_queue_deletes_files_it_has_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from kubeprop.properties.explore import frontier

    monkeypatch.setattr(frontier, "SEGMENT_BYTES", 1)  # one chunk per file
    queue: SpillQueue[int] = SpillQueue(memory_items=1, chunk=2)
    for i in range(21):
        queue.append(i)
    assert len(queue._segments) == 10
    assert [queue.popleft() for _ in range(7)] == list(range(7))
    assert len(queue._segments) == 7  # three files fully read and gone
    assert [queue.popleft() for _ in range(14)] == list(range(7, 21))
    assert len(queue._segments) <= 1 and not any(s.chunks for s in queue._segments)  # the last file is reused


def test_state_table_numbers_states_keeps_the_first_link_and_rebuilds_paths() -> None:
    table = StateTable(capacity=4)
    assert table.add(10, ROOT, 0) == 0
    assert table.add(0, 0, 1) == 1  # fingerprint 0 is a fingerprint like any other
    assert table.add(-7, 1, 2) == 2 and table.add(-7, 0, 5) == ~2  # known: its number, negated; first link kept
    for fp in range(100, 5000):  # several growths
        assert table.add(fp, 2, fp % 3) == fp - 97
    assert table.add(1 << 62, 2, 70_000) == 4903  # an index past 16 bits widens the index column
    assert len(table) == 4 + 4900 and 10 in table and 0 in table and 99 not in table and "x" not in table
    assert table.find(-7) == 2 and table.find(99) == -1 and table.fingerprint(2) == -7
    assert table.link(2) == (1, 2) and table.link(0) == (ROOT, 0)
    assert table.path(0) == [] and table.path(2) == [1, 2] and table.path(4902) == [1, 2, 4999 % 3]
    assert table.path(4903) == [1, 2, 70_000]
    assert all(table.find(fp) == fp - 97 for fp in range(100, 5000))  # still found after the growths
    assert table.nbytes <= 18 * len(table) + 4 * len(table) / 0.35 + 4 * 16


grid = counters(30)


@pytest.mark.parametrize("target", [None, (17, 9)])
def test_search_with_a_spilled_frontier_equals_the_in_memory_search(monkeypatch: pytest.MonkeyPatch,
                                                                     target: tuple[int, int] | None) -> None:
    def check(s: tuple[int, int]) -> str | None:
        return "hit" if s == target else None

    exact = bfs.search((0, 0), grid, check, visited="states")
    monkeypatch.setattr(bfs, "SPILL_AFTER", 5)
    spilled = bfs.search((0, 0), grid, check, visited="hashes")
    assert (spilled.exit_reason, spilled.stats.distinct, spilled.stats.states) == \
        (exact.exit_reason, exact.stats.distinct, exact.stats.states)
    assert spilled.trace == exact.trace and spilled.final == exact.final
    if target is not None:
        assert len(spilled.trace) == sum(target)


@pytest.mark.parametrize("depth", [10, pytest.param(30, marks=pytest.mark.slow)])
def test_cluster_searches_with_a_spilled_frontier_reach_the_same_states(monkeypatch: pytest.MonkeyPatch,
                                                                        depth: int) -> None:
    """The cluster model's states survive the disk: the full and the reduced search, spilled after
    five entries in chunks of 64, reach the states and find the shortest violation (8 steps) they find in memory.
    The reduced search without properties goes to `depth`: 757 states to depth 10 (the default
    run); all 3,529 of them at 30, where it is exhausted at depth 23 (`-m slow`: 21 s of a loaded
    default run, run twice)."""
    from pathlib import Path

    from kubeprop.model.cluster.compose import build_model, initial_state
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.properties.explore import por
    from kubeprop.properties.explore.catalogue import DUAL_SCHEDULER
    from kubeprop.properties.registry import select

    data = Path(__file__).parents[2] / "model" / "data" / "variants" / "tight.yaml"
    model = build_model(load_scenario(data), variant="dual-scheduler")
    start = initial_state(model)
    props = select(names=["node-not-overcommitted"])
    bounds = bfs.Bounds(max_depth=depth)

    def runs() -> list[tuple[object, ...]]:
        reached: set[object] = set()
        gen = por.reduced_bfs_steps(model, start, (), bounds, DUAL_SCHEDULER, visit=reached.add)
        next(gen)
        with pytest.raises(StopIteration) as stop:
            gen.send(None)
        found = [bfs.bfs(model, start, props, bounds, DUAL_SCHEDULER), por.reduced_bfs(model, start, props, bounds,
                                                                                          DUAL_SCHEDULER)]
        report = stop.value.value
        return [(len(reached), report.stats.distinct, report.exit_reason),
                *((r.exit_reason, r.stats.distinct, r.violation, r.trace) for r in found)]

    in_memory = runs()
    for module in (bfs, por):  # on disk past 5 entries, in chunks of 64 (256 never spilt to depth 10)
        monkeypatch.setattr(module, "SPILL_AFTER", 5)
        monkeypatch.setattr(module, "SPILL_CHUNK", 64)
    assert runs() == in_memory
    assert in_memory[0][1] > 20 and in_memory[1][2] is not None
