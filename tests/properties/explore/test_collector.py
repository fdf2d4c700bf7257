"""`collector.fewer_collections`: survivors of young collections frozen, cyclic garbage collected
at a safe point once a full collection is due, and the collector as it was after the block."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from kubeprop.properties.explore import collector
from kubeprop.properties.explore.collector import fewer_collections, safe_point


class _Cycle:
    """An object in a reference cycle (only the cyclic collector frees it)."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_survivors_of_a_young_collection_are_frozen_and_unfrozen_after_the_block() -> None:
    before, callbacks = gc.get_threshold(), list(gc.callbacks)
    with fewer_collections():
        frozen = gc.get_freeze_count()
        kept = [_Cycle() for _ in range(100)]
        gc.collect(0)
        assert gc.get_freeze_count() >= frozen + 100
        with fewer_collections():  # nested: nothing changes
            assert gc.get_freeze_count() >= frozen + 100
        assert gc.get_freeze_count() >= frozen + 100
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before and gc.callbacks == callbacks
    assert len(kept) == 100


def test_cyclic_garbage_that_was_frozen_is_collected_when_a_full_collection_is_due(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with fewer_collections():
        cycle = _Cycle()
        gone = weakref.ref(cycle)
        gc.collect(0)  # survives: frozen
        del cycle
        gc.collect(0)
        assert gone() is not None  # frozen: a young collection does not see it
        safe_point()  # no full collection is due yet
        assert gone() is not None
        monkeypatch.setattr(collector, "MIN_KEPT", 0)
        monkeypatch.setattr(collector, "GROWTH", 0)
        gc.collect(0)  # now due: everything unfrozen, the collector works as usual
        assert gc.get_freeze_count() == 0
        safe_point()
        assert gone() is None
        assert gc.get_freeze_count() > 0  # frozen again after the full collection


def test_objects_someone_else_froze_stay_theirs() -> None:
    gc.freeze()
    frozen = gc.get_freeze_count()
    with fewer_collections():
        kept = [_Cycle() for _ in range(100)]
        gc.collect(0)
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == frozen
    assert len(kept) == 100
