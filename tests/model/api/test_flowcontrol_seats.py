"""APF seats (`kubeprop.model.api.flowcontrol_seats`): each rule on hand-made inputs with the
figures worked out by hand from the upstream formulas (docs/overload.md)."""

from __future__ import annotations

import pytest

from kubeprop.model.api.flowcontrol import level
from kubeprop.model.api.flowcontrol_seats import (
    AllocItem,
    QueueUse,
    admit,
    allocate,
    current_limits,
    go_round,
    level_limits,
    list_from_storage,
    list_seats,
    mutating_seats,
)


def test_go_round_rounds_halves_away_from_zero() -> None:
    assert [go_round(x) for x in (24.5, 24.49, 220.5, 0.5, 3.0)] == [25, 24, 221, 1, 3]


def test_level_limits_of_the_bootstrap_levels() -> None:
    limits = level_limits()
    # node-high: nominal ceil(600*40/245) = 98, lendable round(24.5) = 25 (Go), min 73, max 98 + 600
    assert (limits["node-high"].nominal, limits["node-high"].min, limits["node-high"].max) == (98, 73, 698)
    # workload-low: 245, lendable round(220.5) = 221; leader-election lends nothing
    assert (limits["workload-low"].min, limits["leader-election"].min) == (24, 25)
    assert limits["exempt"].nominal == 0 and limits["exempt"].max == 600
    assert sum(lim.nominal for lim in limits.values()) == 602  # ceil rounding overshoots 600


def test_max_seats_per_level_and_before_v1_28() -> None:
    limits = level_limits()
    # leader-election: min(ceil(0.15*25) = 4, 25 // 4 = 6) = 4; global-default: min(8, 49 // 6 = 8) = 8
    assert (limits["leader-election"].max_seats, limits["global-default"].max_seats) == (4, 8)
    assert limits["workload-low"].max_seats == 10 and limits["catch-all"].max_seats == 10  # capped; no queues
    assert {lim.max_seats for lim in level_limits(per_level_max_seats=False).values()} == {10}


def test_without_borrowing_every_level_is_fixed_at_its_nominal_limit() -> None:
    limits = level_limits(borrowing=False)
    assert all(lim.min == lim.nominal == lim.max for lim in limits.values())
    flood = {"workload-low": 845.0}
    assert current_limits(limits, flood, borrowing=False) == {n: lim.nominal for n, lim in limits.items()}


def test_allocate_without_binding_bounds_is_proportional_to_targets() -> None:
    allocs, fair = allocate(8, [AllocItem(1, 0, 10), AllocItem(3, 0, 10)])
    assert allocs == [2.0, 6.0] and fair == 2.0


def test_allocate_with_a_binding_lower_bound() -> None:
    allocs, _ = allocate(10, [AllocItem(5, 5, 10), AllocItem(10, 0, 10)])
    assert allocs == pytest.approx([5.0, 5.0])  # fair 0.5: the first item is held at its lower bound


def test_allocate_with_a_binding_upper_bound() -> None:
    allocs, _ = allocate(10, [AllocItem(10, 0, 2), AllocItem(10, 0, 20)])
    assert allocs == pytest.approx([2.0, 8.0])


def test_allocate_rejects_bounds_that_cannot_meet_the_sum() -> None:
    with pytest.raises(ValueError, match="cannot sum"):
        allocate(100, [AllocItem(1, 0, 10), AllocItem(1, 0, 10)])


def test_a_flooded_level_borrows_every_lendable_seat() -> None:
    limits = level_limits()
    current = current_limits(limits, {"workload-low": float(limits["workload-low"].max)})
    others = {n: c for n, c in current.items() if n != "workload-low"}
    assert others == {n: limits[n].min for n in others}  # idle levels keep only their unlendable seats
    assert current["workload-low"] == 602 - sum(others.values()) == 368


def test_a_level_busy_in_the_last_period_keeps_its_nominal_seats() -> None:
    limits = level_limits()
    current = current_limits(limits, {"workload-low": 845.0, "node-high": 98.0})
    assert current["node-high"] == 98 and current["workload-low"] == 368 - (98 - 73)


def test_list_from_storage_v1_33() -> None:
    assert not list_from_storage("", 500)  # consistent read served from the cache (v1.31+)
    assert list_from_storage("", 500, consistent_list_from_cache=False)
    assert not list_from_storage("0", 500)
    assert list_from_storage("123", 500)  # legacy exact match
    assert not list_from_storage("123", 0)  # a reflector's relist: no limit
    assert list_from_storage("123", 0, match="Exact") and list_from_storage("", 0, continue_token="x")


def test_list_seats_by_object_count() -> None:
    assert list_seats(250) == 3 and list_seats(1234) == 10 and list_seats(0) == 1
    assert list_seats(120, limit=500, from_storage=True) == 3  # 2 x min(limit, stored) = 240
    assert list_seats(1000, limit=100, selector=True, from_storage=True) == 10  # 1100 objects, capped
    assert list_seats(1000, 4, limit=100, selector=True, from_storage=True) == 4
    assert list_seats(5000, name="web-1") == 1


def test_mutating_seats_by_watch_count() -> None:
    assert [mutating_seats(w) for w in (0, 9, 10, 25, 500)] == [(1, 0), (1, 0), (1, 1), (1, 3), (1, 10)]
    assert mutating_seats(500, 4) == (1, 4)


def test_a_level_without_queues_rejects_what_it_cannot_accommodate() -> None:
    catch_all = level("catch-all")
    busy = {0: QueueUse(seats_in_use=10)}
    assert admit(catch_all, 13, busy, (), 3) == "dispatch"
    assert admit(catch_all, 13, busy, (), 4) == "reject"
    assert admit(catch_all, 13, {}, (), 20) == "dispatch"  # too wide, but nothing is executing
    assert admit(catch_all, 13, busy, (), 20) == "reject"


def test_a_queuing_level_rejects_only_when_seats_and_the_chosen_queue_are_full() -> None:
    pl = level("workload-low")
    full = QueueUse(waiting=pl.queue_length_limit, waiting_seats=pl.queue_length_limit, seats_in_use=0)
    flood = {1: full, 2: full, 3: QueueUse(pl.queue_length_limit, 50, 368)}
    assert admit(pl, 368, flood, (1, 2, 3), 1) == "reject"
    assert admit(pl, 368, flood, (1, 2, 7), 1) == "queue"  # queue 7 is empty: fair queuing serves it in turn
    assert admit(pl, 400, flood, (1, 2, 3), 1) == "queue"  # a free seat: never rejected
    assert admit(pl, 368, {}, (1, 2, 3), 1) == "dispatch"
    assert admit(level("exempt"), 0, flood, (), 10) == "dispatch"
