"""Visited sets of 64-bit fingerprints in flat arrays (TLC's `FPSet`, in miniature).

`FingerprintSet` (the parallel engine's shards) and `StateTable` (the breadth-first searches: each
state's number, parent and successor index too). Fingerprints are compared within one process
only; what a search persists (its spilled frontier) or sends to another process never includes
Python's salted `hash()`.

A Python `set` of ints spends about 60–70 bytes per fingerprint (a 32-byte int object plus its
hash-table slot); `FingerprintSet` stores the fingerprints themselves in an `array('q')` with open
addressing and linear probing, 8 bytes a slot at a load factor kept at most 0.7 (11–23 bytes per
fingerprint). Its slot value 0 marks an empty slot, so the fingerprint 0 is stored as `_ZERO`
(two states whose fingerprints are 0 and `_ZERO` would be merged — one more 2⁻⁶⁴ collision).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

__all__ = ["ROOT", "FingerprintSet", "StateTable"]

_ZERO = 0x2545F4914F6CDD1D
_MAX_LOAD_NUM, _MAX_LOAD_DEN = 7, 10


def _slot(fp: int, mask: int) -> int:
    """The first slot probed for `fp`: its bits folded so high and low bits both count."""
    return (fp ^ (fp >> 31)) & mask


class FingerprintSet:
    """Fingerprints (ints in −2⁶³ … 2⁶³−1) in an open-addressing table; `add` reports whether the
    fingerprint was new."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        size = 1 << max(4, (capacity * _MAX_LOAD_DEN // _MAX_LOAD_NUM).bit_length())
        self._table = array("q", bytes(8 * size))
        self._mask = size - 1
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __contains__(self, fp: object) -> bool:
        if not isinstance(fp, int):
            return False
        if fp == 0:
            fp = _ZERO
        table, mask = self._table, self._mask
        i = _slot(fp, mask)
        while True:
            v = table[i]
            if v == fp:
                return True
            if v == 0:
                return False
            i = (i + 1) & mask

    def add(self, fp: int) -> bool:
        """Insert `fp`; True if it was not in the set."""
        if fp == 0:
            fp = _ZERO
        table, mask = self._table, self._mask
        i = (fp ^ (fp >> 31)) & mask
        while True:
            v = table[i]
            if v == fp:
                return False
            if v == 0:
                break
            i = (i + 1) & mask
        table[i] = fp
        self._len += 1
        if self._len * _MAX_LOAD_DEN > mask * _MAX_LOAD_NUM:
            self._grow()
        return True

    def update(self, fps: Iterable[int]) -> None:
        """Insert every fingerprint of `fps`."""
        for fp in fps:
            self.add(fp)

    def __iter__(self) -> Iterator[int]:
        return (fp for fp in self._table if fp != 0)

    @property
    def nbytes(self) -> int:
        """Bytes the table occupies."""
        return self._table.itemsize * len(self._table)

    def _grow(self) -> None:
        old = self._table
        size = 2 * len(old)
        self._table = array("q", bytes(8 * size))
        self._mask = size - 1
        table, mask = self._table, self._mask
        for fp in old:
            if fp == 0:
                continue
            i = (fp ^ (fp >> 31)) & mask
            while table[i] != 0:
                i = (i + 1) & mask
            table[i] = fp


ROOT = -1
"""The parent number of the start state in a `StateTable`: it has no parent."""


class StateTable:
    """The visited states of a breadth-first search, numbered 0, 1, 2, … in the order they were
    first reached: each one's fingerprint, the number of the state it was first reached from and
    which successor of that state it was (TLC's fingerprint set with its trace file, in flat arrays).

    Dense columns by number — fingerprint (8 bytes), parent number (4), successor index (2, widened
    to 4 past 65,535) — under an open-addressing index of numbers + 1 (4 bytes a slot, 0 for empty,
    load at most 0.7): 20–26 bytes per state, where a dict of int → tuple spends about 150. A search
    keeps a state's number with it in the frontier, so recording a successor's link needs no lookup
    of the parent, and rebuilds a trace by following the numbers back (`path`) and replaying the
    successor indices from the start. Any 64-bit int is a valid fingerprint (0 included)."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        size = 1 << max(4, (capacity * _MAX_LOAD_DEN // _MAX_LOAD_NUM).bit_length())
        self._slots = array("i", bytes(4 * size))
        self._mask = size - 1
        self._fps = array("q")
        self._parents = array("i")
        self._indices = array("H")

    def __len__(self) -> int:
        return len(self._fps)

    def find(self, fp: int) -> int:
        """The number of the state with fingerprint `fp`, or -1 if none was added."""
        slots, fps, mask = self._slots, self._fps, self._mask
        i = (fp ^ (fp >> 31)) & mask
        while True:
            n = slots[i]
            if n == 0:
                return -1
            if fps[n - 1] == fp:
                return n - 1
            i = (i + 1) & mask

    def __contains__(self, fp: object) -> bool:
        return isinstance(fp, int) and self.find(fp) >= 0

    def add(self, fp: int, parent: int, index: int) -> int:
        """Record a state reached from state number `parent` (ROOT for the start) as its successor
        number `index` (≥ 0): its new number, or `~number` (negative) if `fp` was added before — a
        known state keeps its first link."""
        slots, fps, mask = self._slots, self._fps, self._mask
        i = (fp ^ (fp >> 31)) & mask
        while True:
            n = slots[i]
            if n == 0:
                break
            if fps[n - 1] == fp:
                return ~(n - 1)
            i = (i + 1) & mask
        number = len(fps)
        slots[i] = number + 1
        fps.append(fp)
        self._parents.append(parent)
        if index > 0xFFFF and self._indices.typecode == "H":
            self._indices = array("I", self._indices)
        self._indices.append(index)
        if (number + 1) * _MAX_LOAD_DEN > mask * _MAX_LOAD_NUM:
            self._grow()
        return number

    def fingerprint(self, number: int) -> int:
        """The fingerprint of state `number`."""
        return self._fps[number]

    def link(self, number: int) -> tuple[int, int]:
        """(parent number, successor index) of state `number` (ROOT and 0 for the start)."""
        return self._parents[number], self._indices[number]

    def path(self, number: int) -> list[int]:
        """The successor indices from the start to state `number`."""
        steps: list[int] = []
        parents, indices = self._parents, self._indices
        while parents[number] != ROOT:
            steps.append(indices[number])
            number = parents[number]
        steps.reverse()
        return steps

    @property
    def nbytes(self) -> int:
        """Bytes the index and the columns occupy."""
        return sum(a.itemsize * len(a) for a in (self._slots, self._fps, self._parents, self._indices))

    def _grow(self) -> None:
        size = 2 * len(self._slots)
        slots = array("i", bytes(4 * size))
        mask = size - 1
        for n, fp in enumerate(self._fps, start=1):
            i = (fp ^ (fp >> 31)) & mask
            while slots[i]:
                i = (i + 1) & mask
            slots[i] = n
        self._slots, self._mask = slots, mask
