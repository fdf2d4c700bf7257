"""Message handling of the Raft model: what a member does when a message is delivered.

Follows `etcd-io/raft` `raft.go` Step (term comparison first, then the per-type handling shared
by all roles — votes — or done by stepLeader / stepCandidate / stepFollower) and `log.go`
(isUpToDate, maybeAppend/findConflict, commitTo).
"""

from __future__ import annotations

from collections.abc import Callable

from kubeprop.model.raft.rules import Draft, popcount
from kubeprop.model.raft.state import AE, AER, CANDIDATE, FOLLOWER, HB, HBR, LEADER, NONE, RV, RVR, Msg


def receive(d: Draft, m: Msg) -> None:
    """Deliver one copy of `m` to its destination (`raft.go` Step): a higher term makes the
    receiver a follower of that term (knowing the sender as leader for AppendEntries/Heartbeat);
    a message of a lower term is ignored (the library default: no CheckQuorum, no PreVote)."""
    d.discard(m)
    typ, src, dst, mterm = m[0], m[1], m[2], m[3]
    if mterm > d.term[dst]:
        d.become_follower(dst, mterm, src if typ in (AE, HB) else NONE)
    elif mterm < d.term[dst]:
        return
    _HANDLERS[typ](d, m)


def up_to_date(d: Draft, s: int, last_index: int, last_term: int) -> bool:
    """`log.go` isUpToDate: the candidate's last term is higher, or equal with an index at
    least as large."""
    my_term = d.term_at(s, d.last_index(s))
    return last_term > my_term or (last_term == my_term and last_index >= d.last_index(s))


def _on_vote(d: Draft, m: Msg) -> None:
    """`raft.go` Step MsgVote: grant iff this repeats our vote, or we have not voted and know no
    leader in this term, and the candidate's log is up to date; the vote is persisted (it is part
    of the state that survives a restart)."""
    s, cand = m[2], m[1]
    can_vote = d.vote[s] == cand or (d.vote[s] == NONE and d.lead[s] == NONE)
    if can_vote and up_to_date(d, s, m[4], m[5]):
        d.set("vote", s, cand)
        d.send((RVR, s, cand, m[3], 1))
    else:
        d.send((RVR, s, cand, d.term[s], 0))


def _on_vote_resp(d: Draft, m: Msg) -> None:
    """`raft.go` stepCandidate MsgVoteResp: count the grant; a quorum makes the candidate leader.
    (Rejections are not counted: etcd steps down on a lost vote, which only shortens runs.)"""
    s = m[2]
    if d.role[s] != CANDIDATE or not m[4]:
        return
    d.set("votes", s, d.votes[s] | (1 << m[1]))
    if popcount(d.votes[s]) >= d.config.quorum_size:
        d.become_leader(s)


def _accept_leader(d: Draft, s: int, leader: int) -> bool:
    """A candidate that hears from the leader of its term becomes its follower
    (`raft.go` stepCandidate MsgApp/MsgHeartbeat); a follower records the leader. False for a
    leader (stepLeader ignores them: only a second leader of the same term could send one)."""
    if d.role[s] == LEADER:
        return False
    if d.role[s] == CANDIDATE:
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
    """`raft.go` stepLeader MsgAppResp with `tracker/progress.go`: on success raise Match (and
    Next past it) and try to commit; on a rejection of the index we probed (Next−1), move Next
    back to max(min(rejected, hint+1), Match+1) (MaybeDecrTo); stale rejections are ignored."""
    s, peer = m[2], m[1]
    if d.role[s] != LEADER:
        return
    match, nxt = list(d.match[s]), list(d.next[s])
    if m[4]:
        if m[5] > match[peer]:
            match[peer] = m[5]
        nxt[peer] = max(nxt[peer], m[5] + 1)
        d.set("match", s, tuple(match))
        d.set("next", s, tuple(nxt))
        d.maybe_commit(s)
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
    """`raft.go` stepLeader MsgHeartbeatResp + `read_only.go` recvAck: count the confirmation of
    the pending ReadIndex request with this context."""
    s = m[2]
    pending = d.reads[s]
    if d.role[s] != LEADER or not pending or pending[0] != ("r", m[4]):
        return
    d.set("reads", s, (pending[0], pending[1], pending[2], pending[3] | (1 << m[1])))


_HANDLERS: dict[int, Callable[[Draft, Msg], None]] = {
    RV: _on_vote, RVR: _on_vote_resp, AE: _on_append, AER: _on_append_resp, HB: _on_heartbeat,
    HBR: _on_heartbeat_resp,
}

__all__ = ["FOLLOWER", "receive", "up_to_date"]
