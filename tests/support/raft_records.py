"""A recorded Raft counterexample, as the data of its file, for tests of what reads Raft files
(`kubeprop.counterexamples.raft_trace`, `replay_file`, the gate's corpus)."""

from __future__ import annotations

from typing import Any

from kubeprop.counterexamples import raft_trace
from kubeprop.model.raft.state import LIBRARY_DEFAULTS, RaftAction, RaftConfig
from kubeprop.properties.raft import RAFT_CHECKS


def two_leaders_in_term_1() -> dict[str, Any]:
    """A recorded Raft trace: with the seed's ceil quorum (variant quorum-ceil), two of four members
    win term 1, violating ElectionSafety. Recorded with the raft library's election defaults (no
    pre-vote, no CheckQuorum), as a file written before those options existed."""
    config = RaftConfig(servers=4, quorum="ceil", max_term=1, max_log=0, **LIBRARY_DEFAULTS)
    trace = (RaftAction("Timeout", 0), RaftAction("Timeout", 1), RaftAction("Receive", msg=(0, 0, 2, 1, 0, 0)),
             RaftAction("Receive", msg=(0, 1, 3, 1, 0, 0)), RaftAction("Receive", msg=(1, 2, 0, 1, 1)),
             RaftAction("Receive", msg=(1, 3, 1, 1, 1)))
    [election_safety] = [c for c in RAFT_CHECKS if c.name == "ElectionSafety"]
    return raft_trace.to_data(raft_trace.record(config, "quorum-ceil", election_safety, trace))
