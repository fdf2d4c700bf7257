"""Interning (`kubeprop.model.memo.Interner`): a value is given back as the first equal value met,
never as an unequal one; the API store interns the objects it writes only within a search
(`incremental.memoised`), so that one write reached along two paths is one object."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.incremental import memoised
from kubeprop.model.memo import INTERNERS, Interner, intern
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState

values = st.lists(st.lists(st.integers(-3, 3), max_size=3).map(tuple), max_size=40)


@given(values, st.integers(1, 8))
def test_an_interned_value_is_the_first_equal_one_kept(items: list[tuple[int, ...]], limit: int) -> None:
    interner: Interner[tuple[int, ...]] = Interner(limit)
    for item in items:
        kept = dict(interner.values)
        out = interner(item)
        assert out == item
        assert out is kept.get(item, item)  # the one kept if an equal one was, else this one
        assert len(interner.values) <= limit


def test_nothing_is_interned_outside_a_search() -> None:
    assert not INTERNERS
    value = tuple([1, 2])
    assert intern(value) is value
    assert intern(tuple([1, 2])) is not value


def _run(model: ClusterModel, start: ClusterState, length: int) -> ClusterState:
    """The first enabled action taken `length` times (a run that writes to the store)."""
    state = start
    for _ in range(length):
        state = step(model, state, actions(model, state)[0])
    return state


def test_one_write_reached_along_two_paths_is_one_object_within_a_search() -> None:
    model = build_model(load_scenario(None))
    start = initial_state(model)
    apart = (_run(model, start, 12), _run(model, start, 12))
    with memoised(model):
        together = (_run(model, start, 12), _run(model, start, 12))
    assert apart[0] == apart[1] == together[0] == together[1]
    written = [k for k, obj in together[0].store.objects.items() if start.store.objects.get(k) is not obj]
    assert written, "the run wrote nothing"
    for key in written:
        assert together[0].store.objects[key] is together[1].store.objects[key], key
        assert apart[0].store.objects[key] is not apart[1].store.objects[key], key
    assert not INTERNERS
