"""How a level's states, keys and fingerprints travel between the workers of the parallel engine
(`parallel.py`): pickled chunks of a frontier, batches of states (named tuples sent as plain tuples),
and the reading of the fingerprint/key queries and position lists an owner receives (the worker packs
those two inline, `parallel._Worker.level`).

Imports: the standard library only; `parallel` imports it, nothing else does.
"""

from __future__ import annotations

import pickle
from array import array
from typing import Any


def read_ints(blob: bytes) -> array[int]:
    """The 64-bit ints (fingerprints, positions) a peer sent as `array("q").tobytes()`."""
    out = array("q")
    out.frombytes(blob)
    return out


CHUNK = 1024
"""States per pickled frontier chunk (pickle shares the sub-tuples states of one chunk have in
common, so a chunk takes a fraction of the memory of its states as objects)."""


def frontier_chunks(keys: list[int], states: list[Any]) -> list[bytes]:
    """A level as pickled chunks of (keys, states)."""
    return [pickle.dumps((keys[i:i + CHUNK], pack_states(states[i:i + CHUNK])), protocol=5)
            for i in range(0, len(keys), CHUNK)]


def read_chunk(blob: bytes) -> tuple[list[int], list[Any]]:
    """The (keys, states) of one chunk `frontier_chunks` made."""
    keys, states = pickle.loads(blob)
    return keys, unpack_states(states)


def pack_states(states: list[Any]) -> bytes:
    """Pickle a batch of states. States of one named-tuple type travel as plain tuples (the
    pickler then runs no Python code per state) and are rebuilt with `tuple.__new__`."""
    kind = type(states[0]) if states else tuple
    if issubclass(kind, tuple) and kind is not tuple and all(type(x) is kind for x in states):
        return pickle.dumps((kind, [tuple(x) for x in states]), protocol=5)
    return pickle.dumps((None, states), protocol=5)


def unpack_states(blob: bytes) -> list[Any]:
    """The states `pack_states` pickled, as the same types."""
    kind, states = pickle.loads(blob)
    if kind is None:
        return list(states)
    new = tuple.__new__
    return [new(kind, x) for x in states]


def read_query(blob: bytes) -> tuple[array[int], list[int]]:
    """A peer's query: the fingerprints of the successors it found that this worker owns, and their keys."""
    fps, keys = pickle.loads(blob)
    return read_ints(fps), keys
