"""`kubeprop.model.evolve.evolve` gives what `attrs.evolve` gives, for every attrs class of the model."""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kubeprop.model
from kubeprop.model import evolve as evolve_module
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.evolve import _fast_evolve
from kubeprop.model.frozen import FrozenMap


def _model_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(kubeprop.model.__path__, "kubeprop.model."):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the old names of moved modules
            module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value) and value.__module__.startswith("kubeprop.model."):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[name] for name in sorted(found)]


CLASSES = _model_classes()

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "a", "web-1", "default"]),
    st.tuples(st.sampled_from(["a", "b"])),
    st.dictionaries(st.sampled_from(["app", "tier"]), st.sampled_from(["x", "y"])),
    st.builds(FrozenMap, st.dictionaries(st.sampled_from(["app", "tier"]), st.integers(0, 2))),
    st.frozensets(st.sampled_from(["n1", "n2"])),
)
"""Field values of every shape the model's fields and converters take (attrs checks no types)."""


def _outcome(make: Any) -> tuple[str, Any]:
    try:
        return "value", make()
    except Exception as error:  # both must fail alike
        return "error", type(error)


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_evolve_equals_attrs_evolve_on_every_model_class(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(CLASSES))
    fields = attrs.fields(cls)
    required = {f.alias: data.draw(VALUES) for f in fields if f.init and f.default is attrs.NOTHING}
    kind, inst = _outcome(lambda: cls(**required))
    if kind == "error":
        return
    if data.draw(st.booleans()):
        _outcome(lambda: hash(inst))  # a cached hash that the copy must not keep
    names = [f.alias for f in fields if f.init]
    changed = data.draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    changes = {name: data.draw(VALUES) for name in changed}
    if data.draw(st.integers(0, 9)) == 0:
        changes["not_a_field"] = 1
    expected = _outcome(lambda: attrs.evolve(inst, **changes))
    got = _outcome(lambda: _fast_evolve(inst, **changes))
    assert got[0] == expected[0]
    if got[0] == "error":
        assert got[1] is expected[1]
        return
    new, want = got[1], expected[1]
    assert type(new) is type(want) and new is not inst
    for f in fields:  # the very same values, not merely equal ones
        assert getattr(new, f.name) is getattr(want, f.name) or getattr(new, f.name) == getattr(want, f.name), f.name
        if f.name not in changes:
            assert getattr(new, f.name) is getattr(inst, f.name) or f.converter is not None
    if cls.__eq__ is not object.__eq__:  # (an `eq=False` class compares and hashes by identity)
        assert new == want
        assert _outcome(lambda: hash(new)) == _outcome(lambda: hash(want))


def test_the_hot_classes_take_the_fast_path() -> None:
    from kubeprop.model.controllers.base import ControllerState
    from kubeprop.model.state.cluster import ClusterState

    for cls in (ObjectMeta, ClusterState, ControllerState):
        assert evolve_module._evolver(cls) is not None, cls


def test_a_class_with_a_validator_or_hook_goes_to_attrs() -> None:
    @attrs.frozen
    class Checked:
        size: int = attrs.field(default=0, validator=attrs.validators.ge(0))

    @attrs.frozen
    class Hooked:
        size: int = 0
        twice: int = attrs.field(init=False, default=0)

        def __attrs_post_init__(self) -> None:
            object.__setattr__(self, "twice", 2 * self.size)

    class Subclassed(ObjectMeta):  # (its own __init__, which attrs.evolve calls)
        __slots__ = ()

        def __init__(self, **fields: Any) -> None:
            super().__init__(**{**fields, "name": fields.get("name", "").upper()})

    assert evolve_module._evolver(Checked) is None and evolve_module._evolver(Hooked) is None
    assert evolve_module._evolver(Subclassed) is None
    assert _fast_evolve(Subclassed(name="a"), name="b").name == "B"
    with pytest.raises(ValueError, match="size"):
        _fast_evolve(Checked(), size=-1)
    assert _fast_evolve(Hooked(1), size=3).twice == 6


def test_a_converted_field_is_converted_and_the_cached_hash_cleared() -> None:
    meta = ObjectMeta(name="a", labels={"app": "web"})
    hash(meta)
    new = _fast_evolve(meta, labels={"app": "db"})
    assert isinstance(new.labels, FrozenMap) and new.labels == {"app": "db"}
    assert hash(new) == hash(ObjectMeta(name="a", labels={"app": "db"})) != hash(meta)
    assert new.annotations is meta.annotations
