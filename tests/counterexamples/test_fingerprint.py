"""Fingerprints are canonical: equal values agree however they were built, in any process."""

from __future__ import annotations

import os
import subprocess
import sys

import attrs

from kubeprop.counterexamples.fingerprint import clear_memo, fingerprint
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import load_scenario

SNIPPET = (
    "from kubeprop.model.cluster.compose import build_model, initial_state\n"
    "from kubeprop.model.scenario.load import load_scenario\n"
    "from kubeprop.counterexamples.fingerprint import fingerprint\n"
    "print(fingerprint(initial_state(build_model(load_scenario()))))\n"
)


def test_same_state_built_two_ways() -> None:
    a = initial_state(build_model(load_scenario()))
    b = initial_state(build_model(load_scenario()))
    assert a is not b and fingerprint(a) == fingerprint(b)
    rebuilt = attrs.evolve(attrs.evolve(a, clock=7), clock=0)
    assert rebuilt is not a and fingerprint(rebuilt) == fingerprint(a)
    assert fingerprint(FrozenMap({"x": 1, "y": 2})) == fingerprint(FrozenMap([("y", 2), ("x", 1)]))
    clear_memo()
    assert fingerprint(rebuilt) == fingerprint(a)


def test_different_states_differ() -> None:
    model = build_model(load_scenario())
    state = initial_state(model)
    after = step(model, state, actions(model, state)[0])
    assert fingerprint(after) != fingerprint(state)
    assert fingerprint(attrs.evolve(state, clock=1)) != fingerprint(state)


def test_type_tags_and_set_order() -> None:
    values = [1, True, "1", 1.0, None, (1,), frozenset({1})]
    assert len({fingerprint(v) for v in values}) == len(values)
    assert fingerprint(frozenset({"b", "a", "c"})) == fingerprint(frozenset(["c", "a", "b"]))
    assert len(fingerprint("x", 12)) == 12


def test_stable_across_processes_and_hash_seeds() -> None:
    """Two child processes with different hash seeds and this one agree (the children run side by
    side: each is mostly an interpreter importing kubeprop)."""
    children = [subprocess.Popen([sys.executable, "-c", SNIPPET], env=dict(os.environ, PYTHONHASHSEED=seed),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for seed in ("1", "2")]
    outputs = {fingerprint(initial_state(build_model(load_scenario())))}
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        outputs.add(out.strip())
    assert len(outputs) == 1 and len(outputs.pop()) == 16
