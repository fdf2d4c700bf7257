"""A breadth-first frontier that fits: a FIFO queue spilled to disk (TLC's `DiskStateQueue`).

`SpillQueue` keeps the first `memory_items` entries in memory like a `deque`; past that, entries
are gathered in chunks of `chunk` and each full chunk is pickled (one `pickle.dumps` per chunk, so
sibling states share their common sub-objects in the pickle) into temporary files, read back in
order when the in-memory part runs out. A file is deleted as soon as every chunk in it was read,
so the disk holds about the frontier, not every state ever queued. Small searches never touch the
disk; a large one keeps at most `memory_items` + 2 chunks of entries in memory, whatever the
frontier's size. Entries must be picklable; the cluster model's states are.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections import deque
from typing import IO, Generic, TypeVar

__all__ = ["SpillQueue"]

T = TypeVar("T")

SEGMENT_BYTES = 64 << 20
"""Bytes of pickled chunks per temporary file before the next file is started."""


class _Segment:
    """One temporary file of pickled chunks: where each chunk starts and its length."""

    def __init__(self, folder: str | None) -> None:
        # closed by SpillQueue once read (or by close()); an unnamed file, gone if the process dies
        self.file: IO[bytes] = tempfile.TemporaryFile(prefix="kubeprop-frontier-", dir=folder)  # noqa: SIM115
        self.chunks: deque[tuple[int, int]] = deque()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.file.seek(self.size)
        self.file.write(data)
        self.chunks.append((self.size, len(data)))
        self.size += len(data)

    def read(self) -> bytes:
        offset, length = self.chunks.popleft()
        self.file.seek(offset)
        return self.file.read(length)


class SpillQueue(Generic[T]):
    """A FIFO queue (`append`, `popleft`, `len`) whose overflow lives on disk (module docstring)."""

    def __init__(self, memory_items: int = 50_000, chunk: int = 1_024, folder: str | None = None) -> None:
        if memory_items < 1 or chunk < 1:
            raise ValueError("memory_items and chunk must be positive")
        self.memory_items, self.chunk = memory_items, chunk
        self.folder = folder if folder is not None else os.environ.get("KUBEPROP_SPILL_DIR") or None
        """Where the temporary files go: `folder`, else `KUBEPROP_SPILL_DIR`, else the system default."""
        self._head: deque[T] = deque()
        self._tail: list[T] = []
        self._segments: deque[_Segment] = deque()
        self._spilled = 0  # entries in the segments
        self.spilled_bytes = 0
        """Bytes written to disk so far (all chunks, read or not)."""

    def __len__(self) -> int:
        return len(self._head) + self._spilled + len(self._tail)

    def __bool__(self) -> bool:
        return len(self) > 0

    def append(self, item: T) -> None:
        """Queue `item` last."""
        if not self._spilled and not self._tail and len(self._head) < self.memory_items:
            self._head.append(item)
            return
        self._tail.append(item)
        if len(self._tail) >= self.chunk:
            self._spill()

    def popleft(self) -> T:
        """The first item (IndexError when empty)."""
        if not self._head:
            self._refill()
        return self._head.popleft()

    def _spill(self) -> None:
        data = pickle.dumps(self._tail, protocol=pickle.HIGHEST_PROTOCOL)
        if not self._segments or self._segments[-1].size >= SEGMENT_BYTES:
            self._segments.append(_Segment(self.folder))
        self._segments[-1].write(data)
        self._spilled += len(self._tail)
        self.spilled_bytes += len(data)
        self._tail = []

    def _refill(self) -> None:
        while self._segments and not self._segments[0].chunks:
            self._segments.popleft().file.close()
        if self._segments:
            items: list[T] = pickle.loads(self._segments[0].read())
            self._spilled -= len(items)
            self._head.extend(items)
            if not self._segments[0].chunks and len(self._segments) > 1:
                self._segments.popleft().file.close()
        elif self._tail:
            self._head.extend(self._tail)
            self._tail = []
        else:
            raise IndexError("pop from an empty SpillQueue")

    def close(self) -> None:
        """Delete the temporary files (also done when the queue is garbage-collected)."""
        while self._segments:
            self._segments.popleft().file.close()
        self._head.clear()
        self._tail = []
        self._spilled = 0

    def __del__(self) -> None:
        self.close()

