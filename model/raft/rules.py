"""The shared Raft rules (role changes, sending, log writes, the commit rule) on a mutable draft.

Each transition opens a `Draft` on the state, applies rules that follow `etcd-io/raft`
(`raft.go`, `log.go`, `quorum/majority.go`; cited per rule), and freezes it again. Every log
write goes through `set_log` and every commit advance through `commit_to`, so the ghost history
the properties read (`lead_log`, `committed`) cannot be bypassed.
"""

from __future__ import annotations

from bisect import bisect_left

from kubeprop.model.raft.membership import conf_at, quorum, voters_of
from kubeprop.model.raft.state import (
    CANDIDATE,
    FOLLOWER,
    FORCE,
    LEADER,
    NO_READ,
    NONE,
    RV,
    Log,
    Msg,
    RaftConfig,
    RaftState,
)

_new = tuple.__new__

Bag = tuple[tuple[Msg, int], ...]
"""The network: (message, copies) pairs sorted by message, as `RaftState.msgs` holds it."""


def bag_send(config: RaftConfig, bag: Bag, m: Msg) -> Bag:
    """The bag with one more copy of `m`; beyond `max_copies` copies of it or `max_msgs` in
    flight the send is lost (the network may lose any message anyway) and the bag is unchanged."""
    i = bisect_left(bag, (m,))
    count = bag[i][1] if i < len(bag) and bag[i][0] == m else 0
    if count >= config.max_copies:
        return bag
    if config.max_msgs is not None and (len(bag) if config.max_copies == 1 else sum(c for _, c in bag)) \
            >= config.max_msgs:
        return bag
    if count:
        return (*bag[:i], (m, count + 1), *bag[i + 1:])
    return (*bag[:i], (m, 1), *bag[i:])


def bag_discard(bag: Bag, m: Msg) -> Bag:
    """The bag with one copy of `m` (which must be in it) taken out."""
    i = bisect_left(bag, (m,))
    count = bag[i][1]
    if count <= 1:
        return (*bag[:i], *bag[i + 1:])
    return (*bag[:i], (m, count - 1), *bag[i + 1:])


def bag_duplicate(bag: Bag, m: Msg) -> Bag:
    """The bag with one more copy of `m` (which must be in it); the caller checks the bounds."""
    i = bisect_left(bag, (m,))
    return (*bag[:i], (m, bag[i][1] + 1), *bag[i + 1:])


class Draft:
    """The state being built by one transition: every field holds the parent's value (a tuple,
    shared) until a rule writes it through `set`, which builds a new tuple for that field only;
    rules read fields as plain tuples (`d.term[s]`). `freeze` makes the new state from the current
    fields, so every field no rule changed is shared with the parent."""

    def __init__(self, config: RaftConfig, st: RaftState) -> None:
        self.config = config
        self.state = st
        (self.term, self.role, self.vote, self.lead, self.log, self.commit, self.votes, self.next, self.match,
         self.down, self.cut, self.msgs, self.elected, self.committed, self.lead_log, self.history,
         self.reads, self.transferee, self.transfers, self.conf_changes) = st

    def set(self, field: str, s: int, value: object) -> None:
        """Write server `s`'s entry of the per-server `field` (a new tuple for that field; none if
        the value is unchanged)."""
        old = getattr(self, field)
        if old[s] != value:
            setattr(self, field, (*old[:s], value, *old[s + 1:]))

    def freeze(self) -> RaftState:
        """The new state."""
        return _new(RaftState, (self.term, self.role, self.vote, self.lead, self.log, self.commit, self.votes,
                                self.next, self.match, self.down, self.cut, self.msgs, self.elected, self.committed,
                                self.lead_log, self.history, self.reads, self.transferee, self.transfers,
                                self.conf_changes))

    # --- the network -------------------------------------------------------------------------
    def send(self, m: Msg) -> None:
        """Put a message in the network bag (`bag_send`)."""
        self.msgs = bag_send(self.config, self.msgs, m)

    def discard(self, m: Msg) -> None:
        """Take one copy of a message out of the network (received or lost)."""
        self.msgs = bag_discard(self.msgs, m)

    # --- the log ------------------------------------------------------------------------------
    def last_index(self, s: int) -> int:
        """Index of the last entry (0 for an empty log)."""
        return len(self.log[s])

    def term_at(self, s: int, index: int) -> int:
        """Term of the entry at `index` (1-based; 0 for index 0 or beyond the log)."""
        log = self.log[s]
        return log[index - 1][0] if 0 < index <= len(log) else 0

    def set_log(self, s: int, log: Log) -> None:
        """Write a server's log. The Leader Append-Only ghost follows a leader's log only while
        the new log extends it, so a leader that loses an entry is caught by the property."""
        self.set("log", s, log)
        if self.role[s] == LEADER:
            ghost = self.lead_log[s]
            if log[:len(ghost)] == ghost:
                self.set("lead_log", s, log)

    def commit_to(self, s: int, index: int) -> None:
        """Raise a server's commit index (`log.go` commitTo never lowers it) and record every
        newly committed entry in the ghost set `committed` as (index, term, value, the term in
        which it was first seen committed)."""
        old = self.commit[s]
        if index <= old:
            return
        known = {(i, t, v) for i, t, v, _ in self.committed}
        added = [(i, *self.log[s][i - 1], self.term[s]) for i in range(old + 1, index + 1)
                 if (i, *self.log[s][i - 1]) not in known]
        if added:
            self.committed = self.committed | frozenset(added)
        self.set("commit", s, index)
        if self.config.conf_changes and any(v < 0 for _, v in self.log[s][old:index]):
            self.switch_conf(s, conf_at(self.config, self.log[s], old))

    def switch_conf(self, s: int, before: tuple[int, int, int]) -> None:
        """Member `s` applied conf changes (`commit_to`; `raft.go` applyConfChange →
        switchToConfig). A member that applied its own removal stops for good: etcd's server
        stops itself ("the member has been permanently removed from the cluster",
        `server/etcdserver/server.go` applyConfChange's shouldStop → applyEntries stopWithDelay; at
        once here). A leader still a member tracks a new member with Match 0, Next = max(lastIndex,
        1) and RecentActive (`confchange/confchange.go` initProgress), forgets a removed one, aborts
        a transfer to a member no longer a voter, and tries to commit under the new quorum
        (maybeCommit)."""
        voters, learners, removed = conf_at(self.config, self.log[s], self.commit[s])
        if removed >> s & 1:
            self.down |= 1 << s
            self.become_follower(s, self.term[s], NONE)
            return
        if self.role[s] != LEADER:
            return
        members, was = voters | learners, before[0] | before[1]
        nxt, match, active = list(self.next[s]), list(self.match[s]), self.votes[s]
        for p in range(self.config.servers):
            bit = 1 << p
            if members & bit and not was & bit:
                nxt[p], match[p] = max(self.last_index(s), 1), 0
                active |= bit if self.config.check_quorum else 0
            elif was & bit and not members & bit:
                nxt[p], match[p], active = 0, 0, active & ~bit
        self.set("next", s, tuple(nxt))
        self.set("match", s, tuple(match))
        self.set("votes", s, active)
        if self.transferee[s] != NONE and not voters >> self.transferee[s] & 1:
            self.set("transferee", s, NONE)
        self.maybe_commit(s)

    # --- roles --------------------------------------------------------------------------------
    def reset_volatile(self, s: int) -> None:
        """Forget leader/candidate state (`raft.go` reset): votes, progress, pending reads, and a
        leadership transfer in progress (abortLeaderTransfer)."""
        n = self.config.servers
        self.set("votes", s, 0)
        self.set("transferee", s, NONE)
        self.set("next", s, (0,) * n)
        self.set("match", s, (0,) * n)
        self.set("reads", s, NO_READ)
        self.set("lead_log", s, ())

    def become_follower(self, s: int, term: int, lead: int) -> None:
        """`raft.go` becomeFollower: adopt the term (clearing the vote when it is new), know `lead`."""
        if term != self.term[s]:
            self.set("vote", s, NONE)
        self.set("term", s, term)
        self.set("role", s, FOLLOWER)
        self.set("lead", s, lead)
        self.reset_volatile(s)

    def campaign(self, s: int, transfer: bool = False) -> None:
        """`raft.go` campaign(campaignElection)/becomeCandidate: term+1, vote for itself
        (persisted), ask every peer with (lastIndex, lastTerm); a one-vote quorum wins at once.
        With `transfer`, campaign(campaignTransfer): the same, the RequestVotes carrying `FORCE`."""
        self.become_follower(s, self.term[s] + 1, NONE)
        self.set("role", s, CANDIDATE)
        self.set("vote", s, s)
        if self.poll(s, RV, self.term[s], transfer):
            self.become_leader(s)

    def poll(self, s: int, kind: int, term: int, force: bool = False) -> bool:
        """Count `s`'s own vote (or pre-vote) and, unless that alone is a quorum (True), ask every
        voter of its configuration for one for `term` with (lastIndex, lastTerm), and `FORCE` if
        `force`: what `raft.go` campaign does for every campaign type (`RV` for term, `PV` for
        term+1; only voters are asked, `r.trk.Voters.IDs()`)."""
        self.set("votes", s, 1 << s)
        voters = voters_of(self.config, self, s)
        if popcount(self.votes[s] & voters) >= quorum(self.config, voters):
            return True
        last = self.last_index(s)
        for p in range(self.config.servers):
            if p != s and voters >> p & 1:
                m = (kind, s, p, term, last, self.term_at(s, last))
                self.send((*m, FORCE) if force else m)
        return False

    def mark_active(self, s: int, peer: int) -> None:
        """A response from `peer` reached leader `s`: under CheckQuorum the peer is recently
        active (`raft.go` stepLeader MsgAppResp/MsgHeartbeatResp set Progress.RecentActive), kept
        in `votes` (see `RaftState`)."""
        if self.config.check_quorum:
            self.set("votes", s, self.votes[s] | (1 << peer))

    def become_leader(self, s: int) -> None:
        """`raft.go` becomeLeader: progress Next = lastIndex+1, Match = 0 for peers, then append
        the empty entry of the new term and try to commit (a one-member cluster commits at once).
        Under CheckQuorum only the leader itself is recently active (`reset`, then
        `pr.RecentActive = true` for itself)."""
        n = self.config.servers
        nxt = self.last_index(s) + 1
        self.set("role", s, LEADER)
        self.set("lead", s, s)
        self.set("votes", s, 1 << s if self.config.check_quorum else 0)
        self.set("next", s, (nxt,) * n)
        self.set("match", s, (0,) * n)
        self.elected = self.elected | {(self.term[s], s)}
        self.set("lead_log", s, self.log[s])
        self.append(s, 0)

    def append(self, s: int, value: int) -> None:
        """The leader appends an entry of its term (`raft.go` appendEntry): its own Match follows
        its last index, then `maybe_commit`."""
        self.set_log(s, self.log[s] + ((self.term[s], value),))
        row = list(self.match[s])
        row[s] = self.last_index(s)
        self.set("match", s, tuple(row))
        self.maybe_commit(s)

    def maybe_commit(self, s: int) -> None:
        """`raft.go` maybeCommit: N = the quorum-th largest Match (`quorum/majority.go`
        CommittedIndex: sort ascending, take position n − q); commit N only if the entry at N has
        the current term (`log.go` maybeCommit). The raft-figure8 variant drops that term check,
        committing an earlier-term entry by counting replicas (Raft paper, Figure 8). Only the
        voters of the leader's configuration count (`tracker.go` Committed over Voters)."""
        cfg = self.config
        voters = voters_of(cfg, self, s)
        ordered = sorted(m for p, m in enumerate(self.match[s]) if voters >> p & 1)
        if not ordered:
            return
        n_idx = ordered[len(ordered) - quorum(cfg, voters)]
        if n_idx <= self.commit[s]:
            return
        if cfg.commit_rule == "current-term" and self.term_at(s, n_idx) != self.term[s]:
            return
        self.commit_to(s, n_idx)


def popcount(mask: int) -> int:
    """Number of servers in a bitmask."""
    return bin(mask).count("1")
