"""Python's cyclic garbage collector while an engine runs: seldom, and not again over what survived.

A search allocates states by the million and frees almost all of them by reference counting (a
state holds no cycles), while what it keeps — visited states, followed runs, the memos — only
grows. Python's collector cannot tell: at its defaults it scanned the young objects every 700
allocations (17% of the portfolio's CPU on FeastFlow), and every object that survived a young
collection was scanned again by the middle generation's collections and then by every full one.
Inside `fewer_collections`:

- the young generation is collected after `COLLECT_AFTER` allocations (net of frees) instead of
  700 (4.7% of the CPU then; a larger one costs more per object: it no longer fits the caches);
- what survives a young collection is frozen (`gc.freeze`: out of the collector's sight, freed by
  reference counting as before) instead of being scanned again: in the first 150,000 steps of
  FeastFlow's portfolio in one process the middle generation's 64 collections had taken 4.0 of the
  collector's 6.4 CPU seconds (docs/engines.md, "Fourteenth round");
- cyclic garbage that survived a young collection waits for a full collection: once the young
  collections since the last one have seen `GROWTH` times as many allocations (net of frees) as
  there were objects after it (at least `GROWTH` × `MIN_KEPT`), everything is unfrozen (the
  collector works as usual from then on) and the next `safe_point` — the sliced engines reach one
  at every step (`slicing.Slicer.pause`) — collects in full and freezes again. A full collection
  scans every object, and a search keeps many (FeastFlow's portfolio, 40 a step: 6.2 million at
  150,000 steps, whose full collection took 5 CPU seconds on a busy machine), so they come further
  apart as the search keeps more, as Python's own full collections do. What waits for one is
  little: the model's states hold no cycles, and in those 150,000 steps about 25,000 objects of
  cyclic garbage (most of them Hypothesis' own, 0.3% of the allocations) had survived a young
  collection; so with `GROWTH` 8, a few percent of the objects kept at most;
- Python's full collections of the unfrozen objects wait for `FULL_COLLECTION_AFTER` collections
  of the middle generation instead of 10;
- when the outermost block ends, everything frozen is unfrozen and the thresholds are put back
  (objects frozen by someone else before the block began leave it to them: nothing is frozen).

Nothing here changes what an engine computes: the model and the properties have no finalizers,
and the memos by identity hold the objects of their keys alive.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

COLLECT_AFTER = 10_000
"""Allocations (net of frees) of container objects between two young collections while an engine
runs (Python's default: 700)."""

FULL_COLLECTION_AFTER = 100
"""Collections of the middle generation before Python may scan every unfrozen object (a full
collection) while an engine runs (Python's default: 10; Python also waits until the objects that
survived since the last full collection are a quarter of those it would scan)."""

GROWTH = 8
"""A full collection of everything, frozen objects included, once the allocations (net of frees)
since the last one reach this many times the objects it left (or `MIN_KEPT`): the bound on how
long cyclic garbage waits, relative to what the search keeps."""

MIN_KEPT = 2_000_000
"""The objects kept counted as at least this many: no full collection before 16 million
allocations (about 300,000 steps of FeastFlow's portfolio), the cyclic garbage waiting meanwhile a
few megabytes."""


class _Collector:
    """The state of `fewer_collections` in this process (one: the collector is the process's)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # (a finalizer run by a collection may begin a search)
        self.depth = 0
        self.before = gc.get_threshold()
        self.freezing = False
        self.young = 0
        """Young collections since the last full one."""
        self.kept = 0
        """Objects frozen after the last full collection (0 before the first: counting them walks
        them all, which only a full collection is worth)."""
        self.due = False
        """Everything was unfrozen: the next `safe_point` collects in full."""

    def enter(self) -> None:
        with self.lock:
            self.depth += 1
            if self.depth > 1:
                return
            self.before = before = gc.get_threshold()
            gc.set_threshold(max(before[0], COLLECT_AFTER), before[1], max(before[2], FULL_COLLECTION_AFTER))
            self.young, self.due = 0, False
            if gc.get_freeze_count():  # someone else's frozen objects: leave freezing to them
                return
            gc.callbacks.append(self.collected)
            gc.freeze()  # what was set up before the search (modules, the scenario, the model)
            self.kept, self.freezing = 0, True

    def exit(self) -> None:
        with self.lock:
            self.depth -= 1
            if self.depth > 0:
                return
            gc.set_threshold(*self.before)
            if self.collected in gc.callbacks:
                self.freezing = self.due = False
                gc.callbacks.remove(self.collected)
                gc.unfreeze()

    def collected(self, phase: str, info: dict[str, Any]) -> None:
        """`gc.callbacks`: after a young collection, freeze what survived it; once `GROWTH` times
        the objects kept were allocated since the last full collection, unfreeze everything
        instead (a full collection is due)."""
        if phase != "stop" or not self.freezing or info["generation"] == 2:
            return
        self.young += 1
        if self.young * gc.get_threshold()[0] < GROWTH * max(self.kept, MIN_KEPT):
            gc.freeze()
            return
        gc.unfreeze()  # (a callback cannot collect: `gc.collect` does nothing during a collection)
        self.freezing, self.due = False, True

    def safe_point(self) -> None:
        """The full collection that is due, then freezing again."""
        with self.lock:
            self.due = False
            if self.depth == 0:
                return
            gc.collect()
            gc.freeze()
            self.young, self.kept, self.freezing = 0, gc.get_freeze_count(), True


_COLLECTOR = _Collector()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector seldom inside (see the module's docstring); put back what
    was set before when the outermost block ends."""
    _COLLECTOR.enter()
    try:
        yield
    finally:
        _COLLECTOR.exit()


def safe_point() -> None:
    """Where an engine may stand a full collection (between two of its steps): one runs here
    when one is due (see `GROWTH`)."""
    if _COLLECTOR.due:
        _COLLECTOR.safe_point()
