"""Message handling of the Raft model: what a member does when a message is delivered.

Follows `etcd-io/raft` `raft.go` Step (term comparison first, then the per-type handling shared
by all roles — votes and pre-votes — or done by stepLeader / stepCandidate / stepFollower) and
`log.go` (isUpToDate, maybeAppend/findConflict, commitTo), with the options etcd sets
(`RaftConfig.pre_vote`, `RaftConfig.check_quorum`).
"""

from __future__ import annotations

from collections.abc import Callable

from kubeprop.model.raft.membership import quorum, tracked, voters_of
from kubeprop.model.raft.rules import Draft, popcount
from kubeprop.model.raft.state import (
    AE,
    AER,
    CANDIDATE,
    FOLLOWER,
    HB,
    HBR,
    LEADER,
    NONE,
    PRE_CANDIDATE,
    PV,
    PVR,
    RV,
    RVR,
    TN,
    Msg,
    RaftConfig,
    RaftState,
)


def receive(d: Draft, m: Msg) -> None:
    """Deliver one copy of `m` to its destination (`raft.go` Step). A higher term makes the
    receiver a follower of that term (knowing the sender as leader for AppendEntries/Heartbeat),
    except a PreVote and a granted PreVoteResp, which never change a term. A message of a lower
    term is ignored, except that with CheckQuorum or PreVote an AppendEntries/Heartbeat of a lower
    term is answered with an empty AppendEntriesResp of the receiver's term (which makes a stale
    leader step down), and a PreVote of a lower term is rejected with the receiver's term.

    Step's `inLease` check (CheckQuorum: a member that knows a leader ignores a higher-term
    (pre-)vote request within an election timeout of hearing from it) is not taken here: the model
    is untimed, so a delivery is the lease having expired, and the request being ignored is
    `Drop` (or `InLease`, `ignorable`). A MsgTimeoutNow of a higher term makes the receiver a
    follower of that term knowing no leader, one of a lower term is ignored (Step)."""
    d.discard(m)
    typ, src, dst, mterm = m[0], m[1], m[2], m[3]
    if mterm > d.term[dst]:
        if typ == PV or (typ == PVR and m[4]):
            pass  # pre-votes are asked and granted for a future term: no term change
        else:
            d.become_follower(dst, mterm, src if typ in (AE, HB) else NONE)
    elif mterm < d.term[dst]:
        cfg = d.config
        if (cfg.check_quorum or cfg.pre_vote) and typ in (AE, HB):
            d.send((AER, dst, src, d.term[dst], 1, 0, 0))
        elif typ == PV:
            d.send((PVR, dst, src, d.term[dst], 0))
        return
    _HANDLERS[typ](d, m)


def ignorable(config: RaftConfig, st: RaftState, m: Msg) -> bool:
    """Whether delivering `m` may find its receiver in lease (`raft.go` Step, CheckQuorum): a
    (pre-)vote request of a higher term at a member that knows a leader, which then ignores it
    (takes it out of the network and does nothing else) — unless it is a leadership transfer's
    RequestVote, whose `force` context bypasses the lease."""
    dst = m[2]
    return config.check_quorum and m[0] in (RV, PV) and m[3] > st.term[dst] and st.lead[dst] != NONE \
        and len(m) == 6


def up_to_date(d: Draft, s: int, last_index: int, last_term: int) -> bool:
    """`log.go` isUpToDate: the candidate's last term is higher, or equal with an index at
    least as large."""
    my_term = d.term_at(s, d.last_index(s))
    return last_term > my_term or (last_term == my_term and last_index >= d.last_index(s))


def _on_vote(d: Draft, m: Msg) -> None:
    """`raft.go` Step MsgVote/MsgPreVote: grant iff this repeats our vote, or we have not voted
    and know no leader in this term, or it is a PreVote for a later term than ours — and the
    candidate's log is up to date. A grant carries the request's term; only a real vote is
    recorded (persisted: it survives a restart). A rejection carries our term. A leadership
    transfer's RequestVote (`FORCE`) is judged alike (its context bypasses only the lease), except
    in the `transfer-no-log-check` variant, where it skips the log check."""
    s, cand, pre = m[2], m[1], m[0] == PV
    can_vote = d.vote[s] == cand or (d.vote[s] == NONE and d.lead[s] == NONE) or (pre and m[3] > d.term[s])
    resp = PVR if pre else RVR
    trusted = len(m) > 6 and d.config.transfer_vote == "no-log-check"
    if can_vote and (trusted or up_to_date(d, s, m[4], m[5])):
        if not pre:
            d.set("vote", s, cand)
        d.send((resp, s, cand, m[3], 1))
    else:
        d.send((resp, s, cand, d.term[s], 0))


def _on_vote_resp(d: Draft, m: Msg) -> None:
    """`raft.go` stepCandidate MsgVoteResp: count the grant; a quorum makes the candidate leader.
    (Rejections are not counted: etcd steps down on a lost vote, which only shortens runs.)"""
    if _granted_quorum(d, m, CANDIDATE):
        d.become_leader(m[2])


def _on_pre_vote_resp(d: Draft, m: Msg) -> None:
    """`raft.go` stepCandidate MsgPreVoteResp (StatePreCandidate): count the grant; a quorum
    starts the real election (`campaign(campaignElection)`). A candidate or follower ignores it.
    As for votes, rejections are not counted (a lost pre-vote makes etcd a follower again)."""
    if _granted_quorum(d, m, PRE_CANDIDATE):
        d.campaign(m[2])


def _granted_quorum(d: Draft, m: Msg, role: int) -> bool:
    """`raft.go` poll: a grant to a member still in `role` is recorded; True once the grants of
    voters of its configuration are a quorum (`tracker.go` TallyVotes: a learner's or non-member's
    grant is recorded but never counted)."""
    s = m[2]
    if d.role[s] != role or not m[4]:
        return False
    d.set("votes", s, d.votes[s] | (1 << m[1]))
    voters = voters_of(d.config, d, s)
    return popcount(d.votes[s] & voters) >= quorum(d.config, voters)


def _accept_leader(d: Draft, s: int, leader: int) -> bool:
    """A (pre-)candidate that hears from the leader of its term becomes its follower
    (`raft.go` stepCandidate MsgApp/MsgHeartbeat); a follower records the leader. False for a
    leader (stepLeader ignores them: only a second leader of the same term could send one)."""
    if d.role[s] == LEADER:
        return False
    if d.role[s] in (CANDIDATE, PRE_CANDIDATE):
        d.become_follower(s, d.term[s], leader)
    d.set("lead", s, leader)
    return True


def _on_append(d: Draft, m: Msg) -> None:
    """`raft.go` handleAppendEntries with `log.go` maybeAppend: below the commit index answer with
    it; if (prevIndex, prevTerm) matches, truncate at the first conflicting entry, append the
    rest, commit min(leaderCommit, last new index), and answer success; else reject with a hint
    (the last index, as `RejectHint`, capped at prevIndex)."""
    s, leader = m[2], m[1]
    if not _accept_leader(d, s, leader):
        return
    prev, prev_term, ents, leader_commit = m[4], m[5], m[6], m[7]
    if prev < d.commit[s]:
        d.send((AER, s, leader, d.term[s], 1, d.commit[s], 0))
        return
    if d.term_at(s, prev) != prev_term:
        d.send((AER, s, leader, d.term[s], 0, prev, min(prev, d.last_index(s))))
        return
    for j, entry in enumerate(ents):
        idx = prev + 1 + j
        if d.term_at(s, idx) != entry[0]:
            d.set_log(s, d.log[s][:idx - 1] + ents[j:])
            break
    last_new = prev + len(ents)
    d.commit_to(s, min(leader_commit, last_new))
    d.send((AER, s, leader, d.term[s], 1, last_new, 0))


def _on_append_resp(d: Draft, m: Msg) -> None:
    """`raft.go` stepLeader MsgAppResp with `tracker/progress.go`: the peer is recently active
    (`mark_active`); on success raise Match (and Next past it), try to commit and, if the peer is
    the leadership transferee and now has the leader's last index, send it MsgTimeoutNow; on a
    rejection of the index we probed (Next−1), move Next back to max(min(rejected, hint+1),
    Match+1) (MaybeDecrTo); stale rejections are ignored. Upstream handles a success only when it
    raises Match or confirms it in probe state (MaybeUpdate); without probe/replicate states the
    model takes every success at or above Match, which at most adds MsgTimeoutNows (a campaign,
    which every member may start anyway). A response from a member the leader does not track
    (removed, or not yet added in its configuration) is ignored (stepLeader: no Progress)."""
    s, peer = m[2], m[1]
    if d.role[s] != LEADER or not tracked(d.config, d, s) >> peer & 1:
        return
    d.mark_active(s, peer)
    match, nxt = list(d.match[s]), list(d.next[s])
    if m[4]:
        updated = m[5] >= match[peer]
        if m[5] > match[peer]:
            match[peer] = m[5]
        nxt[peer] = max(nxt[peer], m[5] + 1)
        d.set("match", s, tuple(match))
        d.set("next", s, tuple(nxt))
        d.maybe_commit(s)
        if updated and peer == d.transferee[s] and match[peer] == d.last_index(s):
            d.send((TN, s, peer, d.term[s]))
    elif nxt[peer] - 1 == m[5]:
        nxt[peer] = max(min(m[5], m[6] + 1), match[peer] + 1)
        d.set("next", s, tuple(nxt))


def _on_heartbeat(d: Draft, m: Msg) -> None:
    """`raft.go` handleHeartbeat: commit up to the leader's commit (min(Match, committed) as the
    leader sends it) and answer with the ReadIndex context."""
    s, leader = m[2], m[1]
    if not _accept_leader(d, s, leader):
        return
    d.commit_to(s, min(m[4], d.last_index(s)))
    d.send((HBR, s, leader, d.term[s], m[5]))


def _on_heartbeat_resp(d: Draft, m: Msg) -> None:
    """`raft.go` stepLeader MsgHeartbeatResp + `read_only.go` recvAck: the peer is recently active
    (`mark_active`); count the confirmation of the pending ReadIndex request with this context.
    A member the leader does not track is ignored (stepLeader: no Progress)."""
    s = m[2]
    if d.role[s] != LEADER or not tracked(d.config, d, s) >> m[1] & 1:
        return
    d.mark_active(s, m[1])
    pending = d.reads[s]
    if not pending or pending[0] != ("r", m[4]):
        return
    d.set("reads", s, (pending[0], pending[1], pending[2], pending[3] | (1 << m[1])))


def _on_timeout_now(d: Draft, m: Msg) -> None:
    """`raft.go` stepFollower MsgTimeoutNow → hup(campaignTransfer): the transferee starts an
    election at once, without pre-vote even when it is on ("we know we are not recovering from a
    partition"), its RequestVotes carrying the transfer context (`FORCE`, `Draft.campaign`). A
    (pre-)candidate ignores it (stepCandidate), and so does a leader (stepLeader has no case for
    it). A member at `max_term` ignores it too: the bound that disables `Timeout` there, the state
    being that of the message lost; and so does a member that is not a voter of its configuration
    (hup: not promotable)."""
    s = m[2]
    if d.role[s] == FOLLOWER and d.term[s] < d.config.max_term and voters_of(d.config, d, s) >> s & 1:
        d.campaign(s, transfer=True)


_HANDLERS: dict[int, Callable[[Draft, Msg], None]] = {
    RV: _on_vote, RVR: _on_vote_resp, AE: _on_append, AER: _on_append_resp, HB: _on_heartbeat,
    HBR: _on_heartbeat_resp, PV: _on_vote, PVR: _on_pre_vote_resp, TN: _on_timeout_now,
}

__all__ = ["FOLLOWER", "ignorable", "receive", "up_to_date"]
