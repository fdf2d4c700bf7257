"""Exhaustive searches of the Raft model that two test files need: the pinned state counts
(`tests/model/raft/test_raft.py`) and the invariants on every reachable state
(`tests/properties/test_raft_properties.py`) explored the same configurations twice (the `reads` and
`restarts-cas` ones, 6 CPU seconds of the default run). One search, checking every invariant, serves
both; kept for the session as its figures only (not the engine's visited set)."""

from __future__ import annotations

import functools

import attrs

from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import RaftConfig
from kubeprop.properties.explore.raft import explore
from kubeprop.properties.raft import INVARIANTS
from kubeprop.properties.registry import Violation

RESTARTS_CAS = RaftConfig(max_term=1, max_log=2, max_msgs=1, restarts=True, history=True,
                          ops=(Op("cas", "k", "v2", expect=0),))
READS = RaftConfig(servers=2, max_term=1, max_log=2, max_msgs=2, history=True, reads=1, serial_reads=1)


@attrs.frozen
class Explored:
    """How an exhaustive search with every invariant ended: exit reason, states generated and
    distinct, and the violation (None: every invariant held on every reachable state)."""

    exit_reason: str
    generated: int
    distinct: int
    violation: Violation | None


@functools.cache
def explored(config: RaftConfig) -> Explored:
    """The breadth-first search of `config` from its initial state, checking `INVARIANTS` (the same
    generated and distinct counts as `bfs.search` without checks, as long as nothing is violated)."""
    run = explore(config, INVARIANTS)
    stats = run.result.stats
    return Explored(str(run.result.exit_reason), stats.states, stats.distinct, run.result.violation)
