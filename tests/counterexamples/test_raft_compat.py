"""Raft counterexample files recorded before leadership transfer still replay.

`tests/counterexamples/data/raft-before-transfer.json` was written by `kubeprop check --model raft
--variant quorum-ceil` at commit b14190b, before `RaftState` gained `transferee` and `transfers`
(twentieth round). Its recorded fingerprints are of the states without those fields.
"""

from __future__ import annotations

from pathlib import Path

from kubeprop.counterexamples import raft_trace
from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.counterexamples.replay import Verdict
from kubeprop.model.raft.state import LIBRARY_DEFAULTS, RaftConfig
from kubeprop.properties.explore.raft import TRANSFER, replay_script

OLD_FILE = Path(__file__).parent / "data" / "raft-before-transfer.json"


def test_a_file_recorded_before_transfer_still_reproduces() -> None:
    result = raft_trace.replay(OLD_FILE)
    assert result.verdict is Verdict.REPRODUCES, result.reason


def test_a_state_that_saw_a_transfer_is_told_apart() -> None:
    config = RaftConfig(max_log=2, transfers=1, **LIBRARY_DEFAULTS)  # type: ignore[arg-type]
    before, _ = replay_script(config, TRANSFER[:3])
    after, _ = replay_script(config, TRANSFER[:4])
    assert raft_trace.state_fingerprint(before) == fingerprint(tuple(before)[:17])
    assert raft_trace.state_fingerprint(after) == fingerprint(tuple(after)[:19])
    assert raft_trace.state_fingerprint(after) != raft_trace.state_fingerprint(before)
