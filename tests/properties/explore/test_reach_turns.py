"""The portfolio's reach from the initial state, in steps (one lane, seed 0: the same on any
machine; a wall-clock budget only bounds a regression): its members keep to their turns (a PCT run
or a walk pauses within the run when its turn is over), and the one-deviation layer of the search
around the fair run takes Sieve's targeted deviations first."""

from __future__ import annotations

from pathlib import Path

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Deliver
from kubeprop.properties.explore.around import _Node, _Search, run_around_fair
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.explore.pct import sliced_pct
from kubeprop.properties.explore.slicing import Limit
from kubeprop.properties.explore.walk import sliced_walks

CATALOGUE = Path(__file__).parents[2] / "model" / "data" / "catalogue"


def test_a_pct_run_and_a_walk_pause_within_the_run_when_their_turn_is_over() -> None:
    """A turn of 30 steps ends after 30 steps, not at the end of the run it is in (up to the
    fair run's length and a quarter, then its convergence judgement: on FeastFlow a PCT run went
    ~600 steps past a turn of 120); the next turn goes on with the same run."""
    model = build_model(load_scenario(CATALOGUE / "web.yaml"))
    config = EngineConfig(max_depth=80, budget_seconds=60.0, shrink=False)
    pct = sliced_pct(model, initial_state(model), config)
    for sliced in (pct, sliced_walks(model, initial_state(model), config)):
        turn = Limit(steps=30)
        assert sliced.run(turn) is None
        assert turn.used == 30
        again = Limit(steps=30)
        assert sliced.run(again) is None
        assert again.used == 30
        result = sliced.stop()
        assert result.stats.steps == 60, result.stats
        if sliced is pct:
            assert result.stats.runs == 0  # still within its first run (80 steps)


ROUND_STEPS = 200
"""At most this many of the search's steps past the fair run before the one-deviation layer
finds FeastFlow's rs-no-expectations (measured: 37, the ReplicaSet controller reconciling again
before the first pod it created reached its cache; 292 when every deviation of the layer went
in depth order)."""


def test_around_takes_the_targeted_deviations_of_the_one_deviation_layer_first() -> None:
    model = build_model(load_scenario(None), variant="rs-no-expectations")
    start = initial_state(model)
    config = EngineConfig(shrink=False, budget_seconds=120.0)
    fair = run_around_fair(model, start, attrs_deviations(config, 0))
    found = run_around_fair(model, start, config)
    assert found.violation is not None and found.violation.property == "replicaset-no-overcreation"
    assert found.stats.steps - fair.stats.steps <= ROUND_STEPS, (found.stats.steps, fair.stats.steps)
    assert found.stats.note.startswith("1 deviation"), found.stats.note


def attrs_deviations(config: EngineConfig, deviations: int) -> EngineConfig:
    """`config` with `deviations` (0: the fair run alone)."""
    import attrs

    return attrs.evolve(config, deviations=deviations)


def test_targeted_deviations_are_a_components_own_stale_read_and_its_intermediate_states() -> None:
    """On FeastFlow's fair run, once the ReplicaSet controller created a backend's pods and the
    first pod's watch event requeued that ReplicaSet: reconciling it again before the next pod's
    event arrives is targeted (its own write not yet in its cache); the endpoints controller's
    reconcile there is not."""
    from kubeprop.model.cluster.incremental import memoised
    from kubeprop.properties.explore.incremental import Checker

    model = build_model(load_scenario(None), variant="rs-no-expectations")
    config = EngineConfig()
    with memoised(model) as cache:
        search = _Search(model, config, Checker(model, config.safety()), None, cache)
        node, policy = _Node(initial_state(model), None, None, 0, 0), search.policy()
        key = None
        while True:
            enabled = search.enabled(node)
            fair = policy.choose(enabled)
            assert fair is not None and node.depth < 100
            if key is not None and Reconcile("replicaset", key) in enabled and isinstance(fair, Deliver):
                break
            if isinstance(fair, Reconcile) and fair.controller == "replicaset" and key is None:
                key = fair.key
            policy.taken(fair)
            node = _Node(search.successor(node, fair), node, fair, node.depth + 1, 0)
        other = next(a for a in enabled if isinstance(a, Reconcile) and a.controller == "endpoints")
        assert search.targeted(node, Reconcile("replicaset", key), fair)
        assert not search.targeted(node, other, fair)
