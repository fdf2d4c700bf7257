"""Raft invariants: each fails on a hand-made state, holds on every state the BFS reaches at small
bounds; the three catalogue variants are found, the correct model is clean at the same bounds."""

from __future__ import annotations

import pytest
from raft_explorations import READS, RESTARTS_CAS, explored

from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import FOLLOWER, LEADER, LIBRARY_DEFAULTS, RaftConfig, RaftState
from kubeprop.model.raft.system import initial_state, with_variant
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.raft import FIGURE8_C, explore
from kubeprop.properties.raft import INVARIANTS, select_checks

CFG = RaftConfig(history=True)
PUT = ("call", ("w", 1), Op("put", "k", "v1"))


def _state(**changes: object) -> RaftState:
    return initial_state(CFG)._replace(**changes)


BAD_STATES = {
    "ElectionSafety": _state(elected=frozenset({(1, 0), (1, 2)})),
    "LeaderAppendOnly": _state(role=(LEADER, FOLLOWER, FOLLOWER), term=(2, 2, 2), log=(((1, 0),), (), ()),
                               lead_log=(((1, 0), (2, 0)), (), ())),
    "LogMatching": _state(log=(((1, 0), (2, 1)), ((1, 1), (2, 1)), ())),
    "LeaderCompleteness": _state(role=(FOLLOWER, LEADER, FOLLOWER), term=(1, 2, 2), log=(((1, 1),), ((2, 0),), ()),
                                 committed=frozenset({(1, 1, 1, 1)})),
    "StateMachineSafety": _state(log=(((1, 1),), ((2, 0),), ()), commit=(1, 1, 0),
                                 committed=frozenset({(1, 1, 1, 1), (1, 2, 0, 2)})),
    "AckedWritesDurable": _state(log=(((1, 1),), ((2, 0),), ()), commit=(1, 1, 0),
                                 committed=frozenset({(1, 1, 1, 1)}),
                                 history=(PUT, ("ret", ("w", 1), ("ok", 2)))),
    "Linearizable": _state(history=(PUT, ("ret", ("w", 1), ("ok", 2)),
                                    ("call", ("r", 1), Op("read", "k", mode="linearizable")),
                                    ("ret", ("r", 1), ("", 0)))),
}


@pytest.mark.parametrize("check", INVARIANTS, ids=lambda c: c.name)
def test_each_invariant_fails_on_its_hand_made_state(check: object) -> None:
    assert check.name in BAD_STATES  # type: ignore[attr-defined]
    found = check(CFG, BAD_STATES[check.name])  # type: ignore[attr-defined, operator]
    assert found is not None and found.property == check.name  # type: ignore[attr-defined]
    assert check(CFG, initial_state(CFG)) is None  # type: ignore[operator]


@pytest.mark.parametrize("config", [RaftConfig(max_term=2, max_log=2, max_msgs=1), RESTARTS_CAS, READS],
                         ids=["plain", "restarts-cas", "reads"])
def test_invariants_hold_on_every_reachable_state(config: RaftConfig) -> None:
    """(`raft_explorations.explored`: the search test_raft.py's pins of the same configurations use.)"""
    run = explored(config)
    assert run.exit_reason == "exhausted" and run.violation is None, run.violation
    assert run.distinct > 1000


# The variants' own bounds (properties/raft.py VARIANT_BOUNDS): the raft library's election options.
QUORUM_CEIL = RaftConfig(servers=4, max_term=1, max_log=0, **LIBRARY_DEFAULTS)
FOLLOWER_READ = RaftConfig(max_term=1, max_log=2, history=True, reads=1, **LIBRARY_DEFAULTS)
FIGURE8 = RaftConfig(max_term=4, max_log=2, batch=True, lose=False, max_msgs=5, **LIBRARY_DEFAULTS)


@pytest.mark.parametrize(("variant", "config", "depth", "script", "expected"), [
    ("quorum-ceil", QUORUM_CEIL, 6, (), "ElectionSafety"),
    ("follower-read", FOLLOWER_READ, 9, (), "Linearizable"),
    ("raft-figure8", FIGURE8, 7, FIGURE8_C, "LeaderCompleteness"),
])
def test_variant_found_and_correct_model_clean(variant: str, config: RaftConfig, depth: int | None,
                                               script: tuple[str, ...], expected: str) -> None:
    bounds = Bounds(max_depth=depth)
    found = explore(with_variant(config, variant), INVARIANTS, bounds, script)
    assert found.result.violation is not None and found.result.violation.property == expected
    clean = explore(config, INVARIANTS, bounds, script)
    assert clean.result.violation is None
    assert clean.result.exit_reason in ("exhausted", "depth-bound")


def test_seed_claim_all_replicas_is_refuted() -> None:
    run = explore(RaftConfig(max_term=1, max_log=2, history=True), select_checks(["AllReplicasBeforeAck"]),
                  Bounds(max_depth=10))  # 8 before pre-vote (etcd 3.5): two steps more per election
    assert run.result.violation is not None
    final = run.result.final
    assert final is not None and sum(1 for log in final.log if any(v == 1 for _, v in log)) == 2
