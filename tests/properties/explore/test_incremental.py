"""`Checker` gives the same first violation as `first_violation` on every state of random runs:
declared reads only decide when a verdict is computed, never what it is."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from random_runs import random_run_states

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.incremental import Checker, parts_function
from kubeprop.properties.registry import first_violation, select

DATA = Path(__file__).parents[2] / "model" / "data" / "variants"


@pytest.mark.parametrize(("scenario", "variant"), [
    ("web", "rs-no-expectations"), ("web", "endpoints-terminating"), ("db", "sts-split-brain"),
    ("tight", "dual-scheduler"), ("db-restart", "watch-time-travel"),
])
def test_checker_agrees_with_first_violation(scenario: str, variant: str) -> None:
    model = build_model(load_scenario(DATA / f"{scenario}.yaml"), variant=variant)
    props = select(kind="safety")
    checker, rng = Checker(model, props), random.Random(11)
    identity_only = Checker(model, props, by_value=False)  # the breadth-first searches' memo
    states = list(random_run_states(model, rng, runs=5, length=40))
    rng.shuffle(states)  # revisit states out of order: the memo must not depend on it
    for state in states + states[:20]:
        expected = first_violation(model, state, props)
        assert checker.violation(state) == expected and identity_only.violation(state) == expected
    assert all(memo.memo.values is None for memo in identity_only.memos)  # it keeps no state parts by value


def test_unknown_state_part_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown state part 'nope'"):
        parts_function(("objects", "nope"))


@pytest.mark.parametrize(("path", "variant"), [
    (DATA / "web.yaml", "endpoints-terminating"), (DATA.parent / "catalogue" / "web-rollout.yaml", None),
    (DATA / "web.yaml", "rs-no-expectations"),
])
def test_each_property_agrees_with_its_check(path: Path, variant: str | None) -> None:
    """Property by property (not only the first violation): each memo gives its property's own
    verdict, also for reads of one map entry (`controllers:endpoints`) and derived values
    (`controller-manager-caught-up`)."""
    model = build_model(load_scenario(path), variant=variant)
    props = select(kind="safety")
    checkers, rng = [Checker(model, [p]) for p in props], random.Random(7)
    states = list(random_run_states(model, rng, runs=4, length=60))
    rng.shuffle(states)
    for state in states + states[:30]:
        for prop, checker in zip(props, checkers, strict=True):
            assert checker.violation(state) == prop(model, state), prop.name


def test_entry_and_derived_parts() -> None:
    model = build_model(load_scenario(DATA / "web.yaml"))
    state = initial_state(model)
    parts = parts_function(("controllers:endpoints", "controller-manager-caught-up", "objects"))
    assert parts is not None
    endpoints, caught_up, objects = parts(state)
    assert endpoints is state.controllers.get("endpoints") and objects is state.store.objects
    assert caught_up is True
    with pytest.raises(ValueError, match="unknown state part 'nope:x'"):
        parts_function(("nope:x",))
