"""Raft state fingerprints: equal states, equal fingerprints, in every process whatever its hash
salt; the canonical form refuses values it cannot make process-independent."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kubeprop.model.raft.fingerprint import canonical, fingerprint
from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import RaftConfig, RaftState
from kubeprop.model.raft.system import initial_state, next_states

SCRIPT = """
from kubeprop.model.raft.fingerprint import fingerprint
from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import RaftConfig
from kubeprop.model.raft.system import initial_state, next_states
config = RaftConfig(servers=2, max_term=1, max_log=2, history=True, reads=1, serial_reads=1,
                    ops=(Op("put", "k", "v1"), Op("cas", "k", "v2", expect=0)))
seen, todo = {}, [initial_state(config)]
while todo and len(seen) < 400:
    state = todo.pop(0)
    if state in seen:
        continue
    seen[state] = fingerprint(state)
    todo.extend(next_states(config, state))
print(" ".join(str(fp) for fp in seen.values()))
"""


def _fingerprints(seed: str) -> list[int]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    return [int(x) for x in out.stdout.split()]


def test_fingerprints_are_equal_across_processes_and_hash_seeds() -> None:
    first, second = _fingerprints("1"), _fingerprints("2")
    assert len(first) == 400 and first == second
    assert len(set(first)) == 400  # distinct states, distinct fingerprints


def test_equal_states_have_equal_fingerprints_and_history_counts() -> None:
    config = RaftConfig(servers=1, max_term=1, history=True, reads=1)
    start = initial_state(config)
    assert fingerprint(RaftState._make(list(start))) == fingerprint(start)
    leader = next_states(config, start)[0]  # a one-member cluster elects itself at once
    write = next(s for s in next_states(config, leader) if s.history)
    assert fingerprint(write) != fingerprint(write._replace(history=()))


def test_canonical_form() -> None:
    assert canonical(("a", 1, None, Op("put", "k", "v"))) == canonical(("a", 1, None, Op("put", "k", "v")))
    assert canonical(frozenset({("x", 1)})) == frozenset({canonical(("x", 1))})
    with pytest.raises(TypeError, match="float"):
        canonical(1.5)
