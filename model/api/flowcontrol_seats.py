"""API Priority and Fairness seats: how many a priority level may use (borrowing), how many a
request takes (the work estimator), and whether a request is dispatched, queued or rejected.

Upstream (`kubernetes/kubernetes` v1.33, `staging/src/k8s.io/apiserver/pkg/util/flowcontrol/`):

- **Concurrency limits** (`apf_controller.go` finishQueueSetReconfigsLocked): a level's nominal
  limit is `ceil(serverCL × NCS / Σ NCS)`; `lendableCL = round(nominal × lendablePercent / 100)`,
  `borrowingCL = round(nominal × borrowingLimitPercent / 100)` (no limit: `serverCL`);
  `minCL = nominal − lendableCL`, `maxCL = nominal + borrowingCL`. Go's `math.Round` rounds halves
  away from zero (`go_round`).
- **Borrowing** (`apf_controller.go` updateBorrowingLocked, every `borrowingAdjustmentPeriod` = 10 s):
  each level's seat demand (seats in use + seats waiting) over the last period gives a high
  watermark and a smoothed envelope; the allocation problem has, per level, lower bound
  `max(minCL, min(nominal, highWatermark))`, upper bound `maxCL`, target `max(lower, smoothed)`,
  and must sum to Σ nominal (`conc_alloc.go` computeConcurrencyAllocation, ported by `allocate`);
  `currentCL = round(alloc)`. Lending and borrowing came with flowcontrol v1beta3 in v1.26
  (KEP-1040); before, every level's limit was its nominal one (`apfBorrowing: false`).
- **Max seats per level** (`apf_controller.go`, v1.28+): `max(1, min(ceil(0.15 × nominal),
  nominal / handSize))` for queuing levels; the work estimator caps it at 10
  (`request/config.go` maximumSeats). Before v1.28 every level's cap was 10
  (`apfPerLevelMaxSeats: false`).
- **Work estimator** (`request/list_work_estimator.go`, `request/mutating_work_estimator.go`,
  `request/config.go`): a LIST of a single name takes 1 seat; otherwise
  `ceil(objects / 100)` seats with objects = the resource's stored count when served from the watch
  cache, `count + limit` from etcd with a selector, `2 × limit` from etcd without; clamped to
  [1, max seats]. Whether a LIST is served from etcd is `shouldListFromStorage` (v1.33: exact
  resourceVersionMatch, a legacy exact match, a continue token, or a consistent read (empty
  resourceVersion) without `ConsistentListFromCache` — on by default since v1.31,
  `consistentListFromCache`). A mutating request takes 1 seat, then `ceil(watchers / 10)` final
  seats (capped at max seats) when at least 10 watchers get its event. v1.34's size-based LIST
  estimate (`SizeBasedListCostEstimate`) is not modelled: the model has no object sizes.
- **Dispatching** (`fairqueuing/queueset/queueset.go` StartRequest): a level without queues rejects
  a request it cannot accommodate (`canAccommodateSeatsLocked`: the seats fit, or nothing is
  executing); a queuing level puts the request on the queue of its hand with the fewest seats
  waiting and executing (chooseQueueIndexLocked) and rejects it only if every seat is in use
  *and* that queue is at its length limit (rejectOrEnqueueToBoundLocked).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import attrs

from kubeprop.model.api.flowcontrol import PRIORITY_LEVELS, SERVER_CONCURRENCY_LIMIT, PriorityLevel

__all__ = [
    "BORROWING_LIMIT_PERCENT", "LENDABLE_PERCENT", "MAXIMUM_SEATS", "AllocItem", "LevelLimits", "QueueUse",
    "admit", "allocate", "current_limits", "go_round", "level_limits", "list_from_storage", "list_seats",
    "mutating_seats",
]

LENDABLE_PERCENT: dict[str, int] = {
    "exempt": 0, "catch-all": 0, "system": 33, "node-high": 25, "leader-election": 0, "workload-high": 50,
    "workload-low": 90, "global-default": 50,
}
"""The bootstrap levels' `lendablePercent` (`apis/flowcontrol/bootstrap/default.go`, v1.26+)."""

BORROWING_LIMIT_PERCENT: dict[str, int | None] = {name: None for name in LENDABLE_PERCENT}
"""The bootstrap levels' `borrowingLimitPercent`: unset (no limit) for every level."""

MINIMUM_SEATS = 1
MAXIMUM_SEATS = 10
OBJECTS_PER_SEAT = 100
WATCHES_PER_SEAT = 10
MAX_SEATS_PERCENT = 0.15
"""`request/config.go` minimumSeats, maximumSeats, objectsPerSeat, watchesPerSeat;
`apf_controller.go` priorityLevelMaxSeatsPercent."""

MIN_TARGET = 0.001
EPSILON = 0.0000001


def go_round(x: float) -> int:
    """Go's `math.Round` for x ≥ 0: halves round away from zero (Python's `round` rounds to even)."""
    return math.floor(x + 0.5)


@attrs.frozen
class LevelLimits:
    """A priority level's seat limits: nominal, min (nominal − lendable), max (nominal +
    borrowing limit), and the most seats one request may take there."""

    name: str
    nominal: int
    min: int
    max: int
    max_seats: int


def _max_seats(pl: PriorityLevel, nominal: int, per_level: bool) -> int:
    if not per_level or not pl.queues:
        return MAXIMUM_SEATS  # the tracker has no entry: the estimator uses its own limit
    return min(MAXIMUM_SEATS, max(1, min(math.ceil(nominal * MAX_SEATS_PERCENT), nominal // pl.hand_size)))


def level_limits(server_limit: int = SERVER_CONCURRENCY_LIMIT, borrowing: bool = True,
                 per_level_max_seats: bool = True) -> dict[str, LevelLimits]:
    """Every bootstrap level's limits (exempt included: nominal 0, it borrows what it uses)."""
    total = sum(p.shares for p in PRIORITY_LEVELS)
    out = {}
    for pl in PRIORITY_LEVELS:
        nominal = math.ceil(server_limit * pl.shares / total)
        lendable = go_round(nominal * LENDABLE_PERCENT[pl.name] / 100) if borrowing else 0
        limit = BORROWING_LIMIT_PERCENT[pl.name]
        borrow = (server_limit if limit is None else go_round(nominal * limit / 100)) if borrowing else 0
        out[pl.name] = LevelLimits(pl.name, nominal, nominal - lendable, nominal + borrow,
                                   _max_seats(pl, nominal, per_level_max_seats))
    return out


@attrs.frozen
class AllocItem:
    """One class of the allocation problem: target, lower and upper bound."""

    target: float
    lower: float
    upper: float


def _bounded(required: float, items: Sequence[AllocItem], targets: list[float]) -> float:
    """The fair proportion when some bounds bind: scan the bounds in increasing order
    (`conc_alloc.go`, the loop after "Sadly, some bounds matter")."""
    bounds = sorted(((b, i, lower) for i, it in enumerate(items)
                     for b, lower in ((it.lower / targets[i], True), (it.upper / targets[i], False))),
                    key=lambda t: t[0])
    so_far = sum(it.lower for it in items)
    prop = min(it.lower / targets[i] for i, it in enumerate(items))
    sensitive, delta_sum, count, delta_count, nxt = 0.0, 0.0, 0, 0, 0
    while so_far < required:
        while True:
            sensitive += delta_sum
            count += delta_count
            if nxt >= len(bounds):
                raise ValueError("ran out of bounds in a bound-constrained allocation")
            bound, i, lower = bounds[nxt]
            delta_count, delta_sum = (1, targets[i]) if lower else (-1, -targets[i])
            nxt += 1
            if bound > prop:
                break
        if count == 0:
            prop = bound
            continue
        step = prop + (required - so_far) / sensitive
        if step <= bound:
            return step
        so_far += (bound - prop) * sensitive
        prop = bound
    return prop


def allocate(required_sum: int, items: Sequence[AllocItem]) -> tuple[list[float], float]:
    """`computeConcurrencyAllocation`: allocations summing to `required_sum`, each within its
    bounds and otherwise `fair × target`; returns them and the fair proportion. ValueError where
    upstream returns an error (bounds that cannot meet the sum)."""
    targets = [max(it.target, MIN_TARGET) for it in items]
    low, high = sum(it.lower for it in items), sum(it.upper for it in items)
    if any(it.lower < 0 or it.target < it.lower or it.upper < it.lower for it in items):
        raise ValueError("each item needs target >= lower >= 0 and upper >= lower")
    if low - required_sum > EPSILON or required_sum - high > EPSILON:
        raise ValueError(f"bounds [{low}, {high}] cannot sum to {required_sum}")
    if required_sum == 0:
        return [0.0] * len(items), 0.0
    relative_low = [it.lower / t for it, t in zip(items, targets, strict=True)]
    relative_high = [it.upper / t for it, t in zip(items, targets, strict=True)]
    if low - required_sum > -EPSILON:
        return [it.lower for it in items], min(relative_low)
    if required_sum - high > -EPSILON:
        return [it.upper for it in items], max(relative_high)
    fair = required_sum / sum(targets)
    if not (max(relative_low) <= fair <= min(relative_high)):
        fair = _bounded(required_sum, items, targets)
    return [max(it.lower, min(it.upper, fair * t)) for it, t in zip(items, targets, strict=True)], fair


def current_limits(limits: Mapping[str, LevelLimits], high_watermark: Mapping[str, float],
                   smoothed: Mapping[str, float] | None = None, borrowing: bool = True) -> dict[str, int]:
    """Each level's currentCL after an adjustment, from its seat demand over the last period
    (`updateBorrowingLocked`; a level missing from `smoothed` uses its high watermark). Without
    borrowing every level keeps its nominal limit."""
    if not borrowing:
        return {name: lim.nominal for name, lim in limits.items()}
    names = sorted(limits)
    items = []
    for name in names:
        lim = limits[name]
        lower = max(float(lim.min), min(float(lim.nominal), high_watermark.get(name, 0.0)))
        demand = (smoothed or {}).get(name, high_watermark.get(name, 0.0))
        items.append(AllocItem(max(lower, demand), lower, float(lim.max)))
    allocs, _ = allocate(sum(lim.nominal for lim in limits.values()), items)
    return {name: go_round(a) for name, a in zip(names, allocs, strict=True)}


def list_from_storage(resource_version: str = "", limit: int = 0, continue_token: str = "", match: str = "",
                      consistent_list_from_cache: bool = True) -> bool:
    """`shouldListFromStorage` (v1.33): whether a LIST is served from etcd rather than the watch
    cache (etcd is assumed to support watch progress requests, as 3.4.31+ / 3.5.13+ do)."""
    if match == "Exact":
        return True
    if match not in ("", "NotOlderThan"):
        return True
    if match == "" and limit > 0 and resource_version not in ("", "0"):
        return True
    if continue_token:
        return True
    return resource_version == "" and not consistent_list_from_cache


def list_seats(stored: int, max_seats: int = MAXIMUM_SEATS, *, name: str = "", limit: int = 0,
               selector: bool = False, from_storage: bool = False) -> int:
    """The list work estimator's seats for a LIST of a resource with `stored` objects."""
    if name:
        return MINIMUM_SEATS
    bounded = limit if 0 < limit < stored else stored
    if not from_storage:
        objects = stored
    elif selector:
        objects = stored + bounded
    else:
        objects = 2 * bounded
    return max(MINIMUM_SEATS, min(max_seats, math.ceil(objects / OBJECTS_PER_SEAT)))


def mutating_seats(watchers: int, max_seats: int = MAXIMUM_SEATS) -> tuple[int, int]:
    """The mutating work estimator: (initial seats, final seats while the event is sent to
    `watchers` watches)."""
    final = min(max_seats, math.ceil(watchers / WATCHES_PER_SEAT)) if watchers >= WATCHES_PER_SEAT else 0
    return MINIMUM_SEATS, final


@attrs.frozen
class QueueUse:
    """One queue of a level: requests and seats waiting in it, seats its requests hold."""

    waiting: int = 0
    waiting_seats: int = 0
    seats_in_use: int = 0


def admit(pl: PriorityLevel, current_cl: int, queues: Mapping[int, QueueUse], hand: Sequence[int],
          seats: int, executing: int | None = None) -> str:
    """What a level does with a request of `seats` seats: "dispatch", "queue" or "reject".
    `queues` holds the level's non-idle queues (queue index → use); `executing` the number of
    requests executing (default: whether any seat is in use)."""
    if pl.exempt:
        return "dispatch"
    in_use = sum(q.seats_in_use for q in queues.values())
    running = executing if executing is not None else (1 if in_use else 0)
    fits = in_use + seats <= current_cl or (seats > current_cl and running == 0)
    if not pl.queues:
        return "dispatch" if fits else "reject"
    chosen = min(hand, key=lambda i: queues.get(i, QueueUse()).waiting_seats + queues.get(i, QueueUse()).seats_in_use)
    if in_use >= current_cl and queues.get(chosen, QueueUse()).waiting >= pl.queue_length_limit:
        return "reject"
    waiting = any(q.waiting for q in queues.values())
    return "dispatch" if fits and not waiting else "queue"
