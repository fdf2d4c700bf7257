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

__all__ = ["FingerprintSet"]

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
