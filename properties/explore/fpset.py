"""A set of 64-bit fingerprints stored in one flat array (TLC's `FPSet`, in miniature).

A Python `set` of ints spends about 60–70 bytes per fingerprint (a 32-byte int object plus its
hash-table slot); this table stores the fingerprints themselves in an `array('q')` with open
addressing and linear probing, 8 bytes a slot at a load factor kept at most 0.7 (11–23 bytes per
fingerprint). The slot value 0 marks an empty slot, so the fingerprint 0 is stored as `_ZERO`
(two states whose fingerprints are 0 and `_ZERO` would be merged — one more 2⁻⁶⁴ collision).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

__all__ = ["ROOT", "FingerprintSet", "ParentTable"]

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
"""`ParentTable.link` of the start state: it has no parent."""


class ParentTable:
    """Visited fingerprints with their parent links — fingerprint → (parent fingerprint, successor
    index) — in three flat arrays under one open-addressing index (8 + 8 + 4 bytes a slot, load at
    most 0.7: 29–57 bytes per state, where a dict of int → tuple spends about 150). A breadth-first
    search rebuilds a trace by following the links back and replaying the indices from the start."""

    def __init__(self, capacity: int = 1 << 12) -> None:
        size = 1 << max(4, (capacity * _MAX_LOAD_DEN // _MAX_LOAD_NUM).bit_length())
        self._fps = array("q", bytes(8 * size))
        self._parents = array("q", bytes(8 * size))
        self._indices = array("i", bytes(4 * size))
        self._mask = size - 1
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def _find(self, fp: int) -> int:
        """The slot holding `fp`, or the empty slot where it would go."""
        fps, mask = self._fps, self._mask
        i = (fp ^ (fp >> 31)) & mask
        while True:
            v = fps[i]
            if v == fp or v == 0:
                return i
            i = (i + 1) & mask

    def __contains__(self, fp: object) -> bool:
        if not isinstance(fp, int):
            return False
        return self._fps[self._find(fp or _ZERO)] != 0

    def add(self, fp: int, parent: int, index: int) -> bool:
        """Record `fp` reached from `parent` by successor `index` (ROOT for the start); True if new
        (a known fingerprint keeps its first link)."""
        fp = fp or _ZERO
        i = self._find(fp)
        if self._fps[i] != 0:
            return False
        self._fps[i], self._parents[i], self._indices[i] = fp, parent or _ZERO, index
        self._len += 1
        if self._len * _MAX_LOAD_DEN > self._mask * _MAX_LOAD_NUM:
            self._grow()
        return True

    def link(self, fp: int) -> tuple[int, int]:
        """(parent fingerprint, successor index) of a recorded `fp` (KeyError if unknown)."""
        i = self._find(fp or _ZERO)
        if self._fps[i] == 0:
            raise KeyError(fp)
        parent = self._parents[i]
        return 0 if parent == _ZERO else parent, self._indices[i]

    def path(self, fp: int) -> list[int]:
        """The successor indices from the start to `fp`."""
        steps: list[int] = []
        parent, index = self.link(fp)
        while index != ROOT:
            steps.append(index)
            parent, index = self.link(parent)
        steps.reverse()
        return steps

    @property
    def nbytes(self) -> int:
        """Bytes the three arrays occupy."""
        return sum(a.itemsize * len(a) for a in (self._fps, self._parents, self._indices))

    def _grow(self) -> None:
        old = (self._fps, self._parents, self._indices)
        size = 2 * len(old[0])
        self._fps = array("q", bytes(8 * size))
        self._parents = array("q", bytes(8 * size))
        self._indices = array("i", bytes(4 * size))
        self._mask = size - 1
        for fp, parent, index in zip(*old, strict=True):
            if fp != 0:
                i = self._find(fp)
                self._fps[i], self._parents[i], self._indices[i] = fp, parent, index
