"""FrozenMap: its fast paths (`set`, `delete`, direct reads) give what building a map from scratch gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kubeprop.model.frozen import FrozenMap

keys = st.text(alphabet="abcde", max_size=3)
ops = st.lists(st.tuples(st.booleans(), keys, st.integers(0, 3)), max_size=30)


def same(fast: FrozenMap[str, int], plain: dict[str, int]) -> None:
    rebuilt = FrozenMap(plain)
    assert fast == rebuilt and hash(fast) == hash(rebuilt)
    assert fast.sorted_items() == rebuilt.sorted_items() == tuple(sorted(plain.items()))
    assert list(fast) == list(fast.keys()) == sorted(plain)
    assert list(fast.items()) == sorted(plain.items())
    assert list(fast.values()) == [v for _, v in sorted(plain.items())]
    assert all(fast.get(k) == v and fast[k] == v for k, v in plain.items())
    assert fast.get("zzzz") is None and fast.get("zzzz", 7) == 7


@given(st.dictionaries(keys, st.integers()), ops)
def test_set_and_delete_keep_key_order(start: dict[str, int], changes: list[tuple[bool, str, int]]) -> None:
    fast, plain = FrozenMap(start), dict(start)
    for put, key, value in changes:
        if put:
            fast, plain[key] = fast.set(key, value), value
        else:
            fast = fast.delete(key)
            plain.pop(key, None)
        same(fast, plain)


def test_set_to_the_same_value_is_the_same_map() -> None:
    value = ("x",)
    m = FrozenMap({"a": value})
    assert m.set("a", value) is m
    assert m.set("a", ("x",)) == m


def test_repeated_keys_keep_the_last_value() -> None:
    m = FrozenMap([("b", 1), ("a", 2), ("b", 3)])
    assert m.sorted_items() == (("a", 2), ("b", 3)) and len(m) == 2


def test_equal_to_plain_dicts_and_copies() -> None:
    m = FrozenMap({"b": 2, "a": 1})
    assert m == {"a": 1, "b": 2} and FrozenMap(m) == m and FrozenMap(m).sorted_items() == m.sorted_items()
    assert m != FrozenMap({"a": 1}) and m != {"a": 1}


@given(st.lists(st.tuples(keys, st.integers(0, 3)), max_size=12))
def test_every_way_of_building_gives_the_same_map(pairs: list[tuple[str, int]]) -> None:
    """From a dict (the fast path), from pairs, from another Mapping and from a FrozenMap."""
    from types import MappingProxyType

    plain = dict(pairs)
    built = [FrozenMap(plain), FrozenMap(pairs), FrozenMap(MappingProxyType(plain)), FrozenMap(FrozenMap(plain))]
    for m in built:
        same(m, plain)
        assert m._hash is None or m._hash == hash(built[0])


VALUES = [None, tuple([1]), tuple([2]), tuple([1])]
"""Values told apart by identity: the two `(1,)` are equal, not the same object."""


@given(st.dictionaries(keys, st.integers(0, 3)), st.dictionaries(keys, st.integers(0, 3)))
def test_differing_keys_are_those_whose_values_are_not_the_same_objects(
        old: dict[str, int], new: dict[str, int]) -> None:
    before = FrozenMap({k: VALUES[i] for k, i in old.items()})
    after = FrozenMap({k: VALUES[i] for k, i in new.items()})
    expected = {k for k in before.keys() | after.keys() if before.get(k) is not after.get(k)}
    found = before.differing_keys(after)
    assert len(found) == len(set(found)) and set(found) == expected


@given(st.dictionaries(keys, st.integers(0, 3)), st.dictionaries(keys, st.integers(0, 3)))
def test_get_reads_the_map_it_was_made_with(start: dict[str, int], more: dict[str, int]) -> None:
    """`get` is bound when a map is made (a slot holding `_data.get`): every way a map is made binds
    its own data — pickled and copied maps, `update`, `set` and `delete` — and it cannot be rebound."""
    import copy
    import pickle

    m = FrozenMap(start)
    first = next(iter(start), "")
    for made, plain in ((pickle.loads(pickle.dumps(m)), start), (copy.copy(m), start), (copy.deepcopy(m), start),
                        (m.update(more), start | more), (m.set("zz", 9), start | {"zz": 9}),
                        (m.delete(first), {k: v for k, v in start.items() if k != first})):
        same(made, plain)
    try:
        m.get = dict().get  # type: ignore[method-assign]
    except AttributeError:
        pass
    else:
        raise AssertionError("a FrozenMap's get was rebound")
    assert m.get("zzzz", 3) == 3 and all(m.get(k) == v for k, v in start.items())
