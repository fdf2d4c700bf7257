"""Leadership transfer in the Raft model (`RaftConfig.transfers`, etcd's move-leader and graceful
stop; `etcd-io/raft` raft.go MsgTransferLeader, MsgTimeoutNow, campaignTransfer): the rules one
by one, the budget, and the `transfer-no-log-check` variant found where the correct model holds."""

from __future__ import annotations

import pytest
from raft_explorations import explored

from kubeprop.model.raft.handlers import ignorable
from kubeprop.model.raft.state import (
    AE,
    CANDIDATE,
    FOLLOWER,
    FORCE,
    LEADER,
    LIBRARY_DEFAULTS,
    NONE,
    RV,
    TN,
    RaftConfig,
    RaftState,
    describe,
)
from kubeprop.model.raft.system import RaftConfigError, actions, initial_state, step, validate, with_variant
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.raft import TRANSFER, ScriptError, explore, replay_script, script_steps
from kubeprop.properties.raft import INVARIANTS, first_failure, variant_vacuity

ELECT = ("Timeout: s1", "Receive: RequestVote s1→s2", "Receive: RequestVoteResp s2→s1")
ELECT_PRE_VOTE = ("Timeout: s1", "Receive: PreVote s1→s2", "Receive: PreVoteResp s2→s1",
                  "Receive: RequestVote s1→s2", "Receive: RequestVoteResp s2→s1")
ABORT_AND_COMMIT = ("AbortTransfer: s1", "ClientWrite: s1", "SendAppend: s1 → s3", "Receive: AppendEntries s1→s3",
                    "Receive: AppendEntriesResp s3→s1")
"""After `TRANSFER`: the transfer times out, s1 takes a write and commits it with s3; the
MsgTimeoutNow to s2, which lacks the write, is still in flight (tikv/raft-rs issue 234)."""
TRANSFEREE_CAMPAIGNS = ("Receive: TimeoutNow s1→s2", "Receive: RequestVote s2→s3", "Receive: RequestVoteResp s3→s2")


def _names(config: RaftConfig, state: RaftState) -> list[str]:
    return [describe(config, a) for a in actions(config, state)]


def _run(config: RaftConfig, *steps: str, state: RaftState | None = None) -> RaftState:
    state = initial_state(config) if state is None else state
    for wanted in steps:
        match = [a for a in actions(config, state) if describe(config, a).startswith(wanted)]
        assert match, f"{wanted!r} not enabled: {_names(config, state)}"
        state = step(config, state, match[0])
    return state


def _library(**changes: object) -> RaftConfig:
    fields = {"max_term": 2, "max_log": 2, "transfers": 1, **LIBRARY_DEFAULTS, **changes}
    return RaftConfig(**fields)  # type: ignore[arg-type]


def test_no_transfer_unless_the_budget_allows_one() -> None:
    leader = _run(RaftConfig(max_log=2), *ELECT_PRE_VOTE)
    assert not [n for n in _names(RaftConfig(max_log=2), leader) if "Transfer" in n]
    config = RaftConfig(max_log=2, transfers=1)
    leader = _run(config, *ELECT_PRE_VOTE)
    assert [n for n in _names(config, leader) if "Transfer" in n] == ["TransferLeader: s1 → s2",
                                                                      "TransferLeader: s1 → s3"]
    moved = _run(config, "TransferLeader: s1 → s3", state=leader)
    assert (moved.transferee[0], moved.transfers) == (2, 1)
    assert [n for n in _names(config, moved) if "Transfer" in n] == ["AbortTransfer: s1"]  # budget spent


def test_a_transfer_to_a_member_behind_sends_its_log_then_timeout_now_once_it_caught_up() -> None:
    config = _library()
    leader = _run(config, *ELECT)
    state = _run(config, "TransferLeader: s1 → s2", state=leader)
    assert (AE, 0, 1, 1, 0, 0, ((1, 0),), 0) in dict(state.msgs)  # sendAppend: s2's Match 0 < last index 1
    assert not [m for m, _ in state.msgs if m[0] == TN]
    state = _run(config, "Receive: AppendEntries s1→s2", "Receive: AppendEntriesResp s2→s1", state=state)
    assert ((TN, 0, 1, 1), 1) in state.msgs


def test_a_transfer_to_an_up_to_date_member_sends_timeout_now_at_once_and_a_new_request_replaces_it() -> None:
    config = _library(transfers=2)
    state = _run(config, *ELECT, "SendAppend: s1 → s3", "Receive: AppendEntries s1→s3",
                 "Receive: AppendEntriesResp s3→s1", "TransferLeader: s1 → s2")
    assert state.transferee[0] == 1
    state = _run(config, "TransferLeader: s1 → s3", state=state)  # the transfer to s2 is aborted
    assert state.transferee[0] == 2 and ((TN, 0, 2, 1), 1) in state.msgs


def test_proposals_are_dropped_while_transferring_and_accepted_after_the_abort() -> None:
    config = _library()
    transferring = _run(config, *ELECT, "TransferLeader: s1 → s2")
    assert not [n for n in _names(config, transferring) if n.startswith("ClientWrite")]  # ErrProposalDropped
    assert "ClientWrite: s1 accepts 'put k=v1'" in _names(config, _run(config, "AbortTransfer: s1", state=transferring))


def test_timeout_now_starts_an_election_without_pre_vote_whose_votes_bypass_the_lease() -> None:
    config = RaftConfig(max_term=2, max_log=2, transfers=1, lose=False)  # pre-vote and CheckQuorum on
    state = _run(config, *ELECT_PRE_VOTE, "Receive: PreVote s1→s3", "Receive: RequestVote s1→s3",
                 "SendAppend: s1 → s3", "Receive: AppendEntries s1→s3", "TransferLeader: s1 → s2",
                 "Receive: AppendEntries s1→s2", "Receive: AppendEntriesResp s2→s1",
                 "Receive: TimeoutNow s1→s2")
    assert (state.role[1], state.term[1], state.vote[1]) == (CANDIDATE, 2, 1)  # no pre-candidate round
    forced = (RV, 1, 2, 2, 1, 1, FORCE)
    assert (forced, 1) in state.msgs
    # s3 knows leader s1: a plain vote request of a higher term may find it in lease, this one may not
    assert state.lead[2] == 0 and ignorable(config, state, forced[:6]) and not ignorable(config, state, forced)
    assert "InLease" not in {a.kind for a in actions(config, state) if a.msg == forced}
    state = _run(config, "Receive: RequestVote s2→s3", "Receive: RequestVoteResp s3→s2", state=state)
    assert (state.role[1], state.role[0]) == (LEADER, LEADER)  # s1 (term 1) learns of term 2 later
    assert state.term[0] == 1 and state.transferee[0] == 1
    state = _run(config, "Receive: RequestVote s2→s1", state=state)
    assert (state.role[0], state.term[0], state.transferee[0]) == (FOLLOWER, 2, NONE)  # reset: abortLeaderTransfer


def test_a_candidate_and_a_member_at_the_term_bound_ignore_timeout_now() -> None:
    config = _library(max_term=1)
    state = _run(config, *ELECT, "TransferLeader: s1 → s2", "Receive: AppendEntries s1→s2",
                 "Receive: AppendEntriesResp s2→s1")
    after = _run(config, "Receive: TimeoutNow s1→s2", state=state)
    assert (after.role[1], after.term[1]) == (FOLLOWER, 1)
    config = _library()
    state = _run(config, *ELECT, "TransferLeader: s1 → s2", "Receive: AppendEntries s1→s2",
                 "Receive: AppendEntriesResp s2→s1", "Timeout: s2")
    after = _run(config, "Receive: TimeoutNow s1→s2", state=state)
    assert (after.role[1], after.term[1]) == (CANDIDATE, 2) and after.votes == state.votes


def test_the_vote_still_checks_the_transferees_log_and_the_variant_does_not() -> None:
    correct = _library(history=True)
    state = _run(correct, *TRANSFER, *ABORT_AND_COMMIT, *TRANSFEREE_CAMPAIGNS)
    assert state.role[1] == CANDIDATE and first_failure(correct, state, INVARIANTS) is None  # s3 said no
    variant = with_variant(correct, "transfer-no-log-check")
    state = _run(variant, *TRANSFER, *ABORT_AND_COMMIT, *TRANSFEREE_CAMPAIGNS)
    found = first_failure(variant, state, INVARIANTS)
    assert state.role[1] == LEADER and found is not None and found.property == "LeaderCompleteness"


@pytest.mark.parametrize(("variant", "found"), [(None, None), ("transfer-no-log-check", "LeaderCompleteness")])
def test_the_search_from_a_transfer_under_way(variant: str | None, found: str | None) -> None:
    # the variant's bounds (properties/raft.py VARIANT_BOUNDS): the search finds its counterexample 10
    # steps after the scripted transfer, where every invariant holds on every state of the correct
    # model to that depth (2,821 states; the exhaustive search is test_transfer_slow.py's)
    config = with_variant(_library(max_msgs=2, lose=False), variant)
    run = explore(config, INVARIANTS, Bounds(max_depth=10), script=script_steps("transfer", config))
    assert (None if run.result.violation is None else run.result.violation.property) == found
    assert run.result.exit_reason == ("violation" if found else "depth-bound")
    if found:
        assert len(run.trace) == 16 and describe(config, run.trace[-3]) == "Receive: TimeoutNow s1→s2 term=1"


def test_the_variant_is_found_under_etcd_3_5s_options_too() -> None:
    # pre-vote and CheckQuorum on: the transfer's campaign skips the one and bypasses the other's lease
    config = with_variant(RaftConfig(max_term=2, max_log=2, max_msgs=2, lose=False, transfers=1),
                          "transfer-no-log-check")
    run = explore(config, INVARIANTS, Bounds(max_depth=10), script=script_steps("transfer", config))
    assert run.result.violation is not None and run.result.violation.property == "LeaderCompleteness"
    assert len(run.prefix) == 8 and len(run.trace) == 18


def test_configuration_errors() -> None:
    with pytest.raises(RaftConfigError, match="transfers must be ≥ 0"):
        validate(RaftConfig(transfers=-1))
    with pytest.raises(RaftConfigError, match="transfer_vote must be"):
        validate(RaftConfig(transfer_vote="maybe"))  # type: ignore[arg-type]
    with pytest.raises(ScriptError, match="needs --transfers 1"):
        script_steps("transfer", RaftConfig())
    assert replay_script(_library(), TRANSFER)[0].transferee[0] == 1


def test_the_variant_is_vacuous_without_a_transfer_a_second_term_or_a_third_member() -> None:
    variant = "transfer-no-log-check"
    assert variant_vacuity(_library(), variant) is None
    for config in (_library(transfers=0), _library(max_term=1), _library(servers=2)):
        assert "transfer-no-log-check changes only" in str(variant_vacuity(config, variant))


PINNED = {
    # this model's own counts, derived by running it (the TLA+ twin, benchmarks/tla/Raft.tla, has no
    # leadership transfer; with transfers=0, the default, every pin of test_raft.py is unchanged)
    "two-members": (RaftConfig(servers=2, max_term=2, max_log=2, max_msgs=1, transfers=1), 24095, 6842),
}
PINNED_SLOW = {
    "etcd-3.5": (RaftConfig(max_term=2, max_log=1, max_msgs=1, transfers=1), 1481077, 259326),
    "library-write": (_library(max_msgs=1, history=True), 1443252, 257855),
}


@pytest.mark.parametrize("name", PINNED)
def test_every_invariant_holds_with_transfers(name: str) -> None:
    config, generated, distinct = PINNED[name]
    run = explored(config)
    assert (run.exit_reason, run.generated, run.distinct, run.violation) == ("exhausted", generated, distinct, None)


@pytest.mark.slow
@pytest.mark.parametrize("name", PINNED_SLOW)
def test_every_invariant_holds_with_transfers_on_three_members(name: str) -> None:
    config, generated, distinct = PINNED_SLOW[name]
    run = explored(config)
    assert (run.exit_reason, run.generated, run.distinct, run.violation) == ("exhausted", generated, distinct, None)


@pytest.mark.slow
def test_the_variants_bounds_hold_exhaustively_on_the_correct_model() -> None:
    config = _library(max_msgs=2, lose=False)
    run = explore(config, INVARIANTS, script=script_steps("transfer", config))
    assert (run.result.exit_reason, run.result.stats.distinct, run.result.violation) == ("exhausted", 28515, None)


@pytest.mark.slow
def test_the_variant_is_found_from_the_initial_state_without_the_script() -> None:
    # no scripted start: the search finds the transfer, its abort and the stale MsgTimeoutNow itself
    config = with_variant(_library(max_msgs=2, lose=False), "transfer-no-log-check")
    run = explore(config, INVARIANTS)
    assert run.result.violation is not None and run.result.violation.property == "LeaderCompleteness"
    assert len(run.trace) == 15 and [a.kind for a in run.trace].count("TransferLeader") == 1
