"""The Raft model: pinned state counts (equal to TLC's on the TLA+ twin, which has the raft
library's election defaults), basic rules, faults. The election options are
test_election_options.py's."""

from __future__ import annotations

import pytest
from raft_explorations import READS, RESTARTS_CAS, explored

from kubeprop.model.raft.kv import Op, Store, apply_log, apply_op
from kubeprop.model.raft.state import (
    CANDIDATE,
    FOLLOWER,
    LEADER,
    LIBRARY_DEFAULTS,
    PRE_CANDIDATE,
    PV,
    RaftAction,
    RaftConfig,
    RaftState,
    describe,
)
from kubeprop.model.raft.system import (
    RaftConfigError,
    actions,
    initial_state,
    step,
    successors,
    validate,
    with_variant,
)
from kubeprop.properties.explore.bfs import search


def _do(config: RaftConfig, state: RaftState, prefix: str) -> RaftState:
    """Take the first enabled action whose description starts with `prefix`."""
    for a in actions(config, state):
        if describe(config, a).startswith(prefix):
            return step(config, state, a)
    raise AssertionError(f"{prefix!r} not enabled: {[describe(config, a) for a in actions(config, state)]}")


@pytest.mark.parametrize(("bounds", "generated", "distinct"), [
    (dict(max_term=1, max_log=1, max_msgs=2), 50195, 9517),
    (dict(max_term=2, max_log=2, max_msgs=1), 160676, 37929),
])
def test_pinned_state_counts(bounds: dict[str, int], generated: int, distinct: int) -> None:
    # The same numbers TLC reports for benchmarks/tla/Raft.tla at these bounds (no pre-vote, no
    # CheckQuorum: the raft library's defaults, which the twin has).
    config = RaftConfig(**bounds, **LIBRARY_DEFAULTS)  # type: ignore[arg-type]
    result = search(initial_state(config), successors(config), lambda s: None)
    assert result.exit_reason == "exhausted"
    assert (result.stats.states, result.stats.distinct) == (generated, distinct)


PINNED = {
    # (configuration, generated, distinct) under the default election options (etcd 3.5: pre-vote
    # and CheckQuorum). Re-derived when those became the defaults; the counts before, with the
    # raft library's options (issue 17's, unchanged there: "library-crash-partition" below), are
    # in the CHANGELOG.
    "restarts-cas-history": (RESTARTS_CAS, 370978, 50500),
    "reads": (READS, 527623, 98516),
    "copies-batch-2": (RaftConfig(servers=2, max_term=1, max_log=1, max_msgs=2, max_copies=2, batch=True), 8083, 1709),
    "crash-partition": (RaftConfig(max_term=1, max_log=1, max_msgs=1, max_down=1, partitions=True), 321911, 50184),
    "follower-read-1": (with_variant(RaftConfig(max_term=1, max_log=1, max_msgs=1, history=True, reads=1),
                                     "follower-read"), 17338, 3286),
    "figure8-two-values": (with_variant(RaftConfig(max_term=2, max_log=1, max_msgs=1, ops=(
        Op("put", "k", "v1"), Op("put", "k", "v2"))), "raft-figure8"), 319986, 71313),
    "library-crash-partition": (RaftConfig(max_term=1, max_log=1, max_msgs=1, max_down=1, partitions=True,
                                           **LIBRARY_DEFAULTS), 160089, 29820),
    "quorum-ceil-4": (with_variant(RaftConfig(servers=4, max_term=1, max_log=0, max_msgs=1), "quorum-ceil"),
                      183969, 35231),
}


PINNED_SLOW = {
    # the larger pins of two features (`slow`: 10 and 5.5 CPU s; the default run pins each feature
    # on a smaller configuration above, "copies-batch-2" with two servers, "follower-read-1" with
    # one message in flight: both counts change if copies, batching or the variant change)
    "copies-batch": (RaftConfig(max_term=1, max_log=1, max_msgs=2, max_copies=2, batch=True), 2125186, 309157),
    "follower-read": (with_variant(RaftConfig(max_term=1, max_log=1, max_msgs=2, history=True, reads=1),
                                   "follower-read"), 920930, 128086),
}

SHARED = {"restarts-cas-history", "reads"}
"""Pins whose search `test_raft_properties.py` needs too (every invariant on every reachable state):
one search with the invariants checked serves both (`raft_explorations.explored`; same counts)."""


@pytest.mark.parametrize("name", PINNED)
def test_pinned_counts_of_every_feature(name: str) -> None:
    """Every feature's pinned counts, in the default run: restarts, CAS, copies, batching, crashes
    and partitions are pinned nowhere else (marked `slow` once, they ran anyway: the marker's rule
    covered only tests/properties/explore and tests/etcd; 2–5 s each on the 2-core machine)."""
    config, generated, distinct = PINNED[name]
    if name in SHARED:
        run = explored(config)
        assert (run.exit_reason, run.generated, run.distinct) == ("exhausted", generated, distinct), run.violation
        return
    result = search(initial_state(config), successors(config), lambda s: None)
    assert (result.exit_reason, result.stats.states, result.stats.distinct) == ("exhausted", generated, distinct)


@pytest.mark.slow
@pytest.mark.parametrize("name", PINNED_SLOW)
def test_pinned_counts_of_the_larger_configurations(name: str) -> None:
    config, generated, distinct = PINNED_SLOW[name]
    result = search(initial_state(config), successors(config), lambda s: None)
    assert (result.exit_reason, result.stats.states, result.stats.distinct) == ("exhausted", generated, distinct)


def test_quorum_sizes() -> None:
    majority = [RaftConfig(servers=n).quorum_size for n in range(1, 8)]
    ceil = [RaftConfig(servers=n, quorum="ceil").quorum_size for n in range(1, 8)]
    assert majority == [1, 2, 2, 3, 3, 4, 4]
    assert ceil == [1, 1, 2, 2, 3, 3, 4]


@pytest.mark.parametrize("n", range(1, 8))
def test_every_size_can_elect(n: int) -> None:
    for config in (RaftConfig(servers=n, max_term=1), RaftConfig(servers=n, max_term=1, **LIBRARY_DEFAULTS)):
        state = _do(config, initial_state(config), "Timeout: s1")
        if n == 1:
            assert state.role[0] == LEADER and state.commit[0] == 1  # wins and commits its empty entry at once
        else:
            assert state.role[0] == (PRE_CANDIDATE if config.pre_vote else CANDIDATE) and len(state.msgs) == n - 1
            assert {m[0] == PV for m, _ in state.msgs} == {config.pre_vote}


def test_single_member_write_commits_at_once() -> None:
    config = RaftConfig(servers=1, max_log=2, history=True)
    state = _do(config, _do(config, initial_state(config), "Timeout"), "ClientWrite")
    assert state.commit == (2,)
    state = _do(config, state, "ClientAck")
    assert state.history[-1] == ("ret", ("w", 1), ("ok", 2))


def _campaign(config: RaftConfig, state: RaftState, cand: str, voter: str) -> RaftState:
    """`cand` times out and, with pre-vote, wins its pre-vote round with `voter`'s pre-vote: its
    RequestVotes are then in the network."""
    state = _do(config, state, f"Timeout: {cand}")
    if config.pre_vote:
        state = _do(config, state, f"Receive: PreVote {cand}→{voter}")
        state = _do(config, state, f"Receive: PreVoteResp {voter}→{cand}")
    return state


def _leader_with_write(config: RaftConfig) -> RaftState:
    state = _campaign(config, initial_state(config), "s1", "s2")
    for p in ("Receive: RequestVote s1→s2", "Receive: RequestVoteResp s2→s1", "ClientWrite"):
        state = _do(config, state, p)
    return state


def test_replication_and_commit_rule() -> None:
    config = RaftConfig(max_log=2, lose=False)
    state = _leader_with_write(config)
    assert state.log[0] == ((1, 0), (1, 1)) and state.commit[0] == 0
    state = _do(config, state, "SendAppend: s1 → s2")
    state = _do(config, state, "Receive: AppendEntries s1→s2")
    assert state.log[1] == state.log[0]
    state = _do(config, state, "Receive: AppendEntriesResp s2→s1")
    assert state.commit[0] == 2 and state.match[0][1] == 2


def test_append_consistency_check_rejects_and_truncates() -> None:
    config = RaftConfig(max_log=2)
    state = _leader_with_write(config)
    # s2 holds a conflicting entry of an older term at index 1
    state = state._replace(log=(state.log[0], ((0, 1),), ()))
    state = _do(config, state, "SendAppend: s1 → s2")
    state = _do(config, state, "Receive: AppendEntries s1→s2")
    assert state.log[1] == ((1, 0), (1, 1))  # conflict at index 1: truncated and replaced
    # a probe whose (prevIndex, prevTerm) does not match is rejected with a hint
    state = state._replace(next=((*state.next[0][:2], 3), *state.next[1:]))
    state = _do(config, state, "SendAppend: s1 → s3")
    state = _do(config, state, "Receive: AppendEntries s1→s3")
    reply = [m for m, _ in state.msgs if m[0] == 3 and m[1] == 2]
    assert reply == [(3, 2, 0, 1, 0, 2, 0)]
    state = _do(config, state, "Receive: AppendEntriesResp s3→s1")
    assert state.next[0][2] == 1


def test_vote_is_persisted_and_one_per_term() -> None:
    config = RaftConfig(restarts=True)
    state = _campaign(config, initial_state(config), "s1", "s2")
    state = _campaign(config, state, "s2", "s3")
    state = _do(config, state, "Receive: RequestVote s1→s3")
    assert state.vote[2] == 0
    state = _do(config, state, "Restart: s3")
    assert (state.term[2], state.vote[2]) == (1, 0)  # persisted across the restart
    state = _do(config, state, "Receive: RequestVote s2→s3")
    assert ((1, 2, 1, 1, 0), 1) in state.msgs  # rejected: already voted for s1 in term 1


def test_restart_keeps_persistent_state_and_loses_volatile() -> None:
    config = RaftConfig(max_log=2, restarts=True)
    state = _do(config, _leader_with_write(config), "Restart: s1")
    assert state.log[0] == ((1, 0), (1, 1)) and state.term[0] == 1 and state.vote[0] == 0
    assert state.role[0] == FOLLOWER and state.match[0] == (0, 0, 0) and state.lead[0] == -1


def test_down_and_partitioned_members_receive_nothing() -> None:
    config = RaftConfig(max_down=1, partitions=True)
    state = _do(config, initial_state(config), "Timeout: s1")
    down = _do(config, state, "Crash: s2")
    assert not any(a.kind == "Receive" and a.msg is not None and a.msg[2] == 1 for a in actions(config, down))
    assert RaftAction("Recover", 1) in actions(config, down)
    cut = _do(config, state, "Isolate: s1")
    assert not any(a.kind == "Receive" for a in actions(config, cut))
    assert RaftAction("Heal") in actions(config, cut)


def test_network_loses_and_duplicates_within_bounds() -> None:
    config = RaftConfig(max_copies=2, **LIBRARY_DEFAULTS)
    state = _do(config, initial_state(config), "Timeout: s1")
    dup = _do(config, state, "Duplicate: RequestVote s1→s2")
    assert dict(dup.msgs)[(0, 0, 1, 1, 0, 0)] == 2
    assert not any(a.kind == "Duplicate" and a.msg == (0, 0, 1, 1, 0, 0) for a in actions(config, dup))
    lost = _do(config, state, "Drop: RequestVote s1→s2")
    assert (0, 0, 1, 1, 0, 0) not in dict(lost.msgs)


def test_kv_put_and_cas_revisions() -> None:
    ops = (Op("put", "a", "1"), Op("cas", "a", "2", expect=2), Op("cas", "a", "3", expect=2))
    store, results = apply_log(ops, (0, 1, 2, 3))
    assert results == ((1, ("ok", 2)), (2, ("ok", 3)), (3, ("failed", 3)))
    assert store.get("a") == ("2", 3) and store.get("b") == ("", 0)
    assert apply_op(Store(), Op("read", "a"))[1] == ("", 0)


def test_config_validation_and_variants() -> None:
    with pytest.raises(RaftConfigError, match=r"servers must be 1\.\.7"):
        validate(RaftConfig(servers=8))
    with pytest.raises(RaftConfigError, match="reads need history"):
        validate(RaftConfig(reads=1))
    with pytest.raises(RaftConfigError, match="valid: quorum-ceil"):
        with_variant(RaftConfig(), "nope")
    assert with_variant(RaftConfig(), "raft-figure8").commit_rule == "count-replicas"
