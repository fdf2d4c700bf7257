"""The hashes of the maps in reachable states, each worked out from the hash of the map it was
copied from (`FrozenMap.set`/`delete` on a hashed map), are those of the same items hashed afresh:
along random runs of several scenarios, with every state hashed before the step from it (as the
searches' visited sets hash it), every map of the next state is compared with a rebuilt one."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import feastflow_path, load_scenario

DATA = Path(__file__).parent / "data"


def maps_in(value: object, depth: int = 0) -> Iterator[FrozenMap[object, object]]:
    """The FrozenMaps within `value` (attrs objects, maps, tuples), a few levels deep."""
    if depth > 6:
        return
    if isinstance(value, FrozenMap):
        yield value
        for item in value.values():
            yield from maps_in(item, depth + 1)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            yield from maps_in(getattr(value, field.name), depth + 1)
    elif isinstance(value, tuple):
        for item in value:
            yield from maps_in(item, depth + 1)


@pytest.mark.parametrize("scenario", [feastflow_path(), DATA / "variants" / "tight.yaml",
                                      DATA / "catalogue" / "web.yaml"], ids=lambda p: p.name)
def test_maps_hashed_from_their_originals_hash_as_rebuilt(scenario: Path) -> None:
    model = build_model(load_scenario(scenario))
    rng = random.Random(4)
    checked = 0
    for _ in range(3):
        state = initial_state(model)
        for _ in range(40):
            hash(state)
            enabled = actions(model, state)
            if not enabled:
                break
            state = step(model, state, enabled[rng.randrange(len(enabled))])
            for found in maps_in(state):
                if found._hash is not None:  # (worked out already: from its original's)
                    assert found._hash == hash(FrozenMap(dict(found.items())))
                    checked += 1
    assert checked > 100
