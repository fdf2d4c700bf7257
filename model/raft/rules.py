"""The shared Raft rules (role changes, sending, log writes, the commit rule) on a mutable draft.

Each transition copies the state into a `Draft`, applies rules that follow `etcd-io/raft`
(`raft.go`, `log.go`, `quorum/majority.go`; cited per rule), and freezes it again. Every log
write goes through `set_log` and every commit advance through `commit_to`, so the ghost history
the properties read (`lead_log`, `committed`) cannot be bypassed.
"""

from __future__ import annotations

from kubeprop.model.raft.state import (
    FOLLOWER,
    LEADER,
    NONE,
    Event,
    Log,
    Msg,
    PendingRead,
    RaftConfig,
    RaftState,
    Role,
)


class Draft:
    """A mutable copy of a RaftState for one transition (per-server fields as lists, the network
    bag as a dict made on first touch); `freeze` makes the new state."""

    def __init__(self, config: RaftConfig, s: RaftState) -> None:
        self.config = config
        self.state = s
        self.term = list(s.term)
        self.role: list[Role] = list(s.role)
        self.vote = list(s.vote)
        self.lead = list(s.lead)
        self.log: list[Log] = list(s.log)
        self.commit = list(s.commit)
        self.votes = list(s.votes)
        self.next = list(s.next)
        self.match = list(s.match)
        self.down = s.down
        self.cut = s.cut
        self._bag: dict[Msg, int] | None = None
        self.elected = s.elected
        self.committed = s.committed
        self.lead_log: list[Log] = list(s.lead_log)
        self.history: tuple[Event, ...] = s.history
        self.reads: list[PendingRead | None] = list(s.reads)

    @property
    def msgs(self) -> dict[Msg, int]:
        """The network bag, message → copies."""
        if self._bag is None:
            self._bag = dict(self.state.msgs)
        return self._bag

    def freeze(self) -> RaftState:
        """The new state."""
        msgs = self.state.msgs if self._bag is None else tuple(sorted(self._bag.items()))
        return RaftState(
            tuple(self.term), tuple(self.role), tuple(self.vote), tuple(self.lead), tuple(self.log),
            tuple(self.commit), tuple(self.votes), tuple(self.next), tuple(self.match), self.down,
            self.cut, msgs, self.elected, self.committed, tuple(self.lead_log), self.history,
            tuple(self.reads))

    # --- the network -------------------------------------------------------------------------
    def send(self, m: Msg) -> None:
        """Put a message in the network bag; beyond `max_copies` copies of it or `max_msgs` in
        flight the send is lost (the network may lose any message anyway)."""
        count = self.msgs.get(m, 0)
        if count >= self.config.max_copies:
            return
        if self.config.max_msgs is not None and sum(self.msgs.values()) >= self.config.max_msgs:
            return
        self.msgs[m] = count + 1

    def discard(self, m: Msg) -> None:
        """Take one copy of a message out of the network (received or lost)."""
        count = self.msgs[m]
        if count <= 1:
            del self.msgs[m]
        else:
            self.msgs[m] = count - 1

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
        self.log[s] = log
        if self.role[s] == LEADER:
            ghost = self.lead_log[s]
            if log[:len(ghost)] == ghost:
                self.lead_log[s] = log

    def commit_to(self, s: int, index: int) -> None:
        """Raise a server's commit index (`log.go` commitTo never lowers it) and record every
        newly committed entry in the ghost set `committed` as (index, term, value, the term in
        which it was first seen committed)."""
        if index <= self.commit[s]:
            return
        known = {(i, t, v) for i, t, v, _ in self.committed}
        added = [(i, *self.log[s][i - 1], self.term[s]) for i in range(self.commit[s] + 1, index + 1)
                 if (i, *self.log[s][i - 1]) not in known]
        if added:
            self.committed = self.committed | frozenset(added)
        self.commit[s] = index

    # --- roles --------------------------------------------------------------------------------
    def reset_volatile(self, s: int) -> None:
        """Forget leader/candidate state (`raft.go` reset): votes, progress, pending reads."""
        n = self.config.servers
        self.votes[s] = 0
        self.next[s] = (0,) * n
        self.match[s] = (0,) * n
        self.reads[s] = None
        self.lead_log[s] = ()

    def become_follower(self, s: int, term: int, lead: int) -> None:
        """`raft.go` becomeFollower: adopt the term (clearing the vote when it is new), know `lead`."""
        if term != self.term[s]:
            self.vote[s] = NONE
        self.term[s] = term
        self.role[s] = FOLLOWER
        self.lead[s] = lead
        self.reset_volatile(s)

    def become_leader(self, s: int) -> None:
        """`raft.go` becomeLeader: progress Next = lastIndex+1, Match = 0 for peers, then append
        the empty entry of the new term and try to commit (a one-member cluster commits at once)."""
        n = self.config.servers
        nxt = self.last_index(s) + 1
        self.role[s] = LEADER
        self.lead[s] = s
        self.votes[s] = 0
        self.next[s] = tuple(nxt for _ in range(n))
        self.match[s] = (0,) * n
        self.elected = self.elected | {(self.term[s], s)}
        self.lead_log[s] = self.log[s]
        self.append(s, 0)

    def append(self, s: int, value: int) -> None:
        """The leader appends an entry of its term (`raft.go` appendEntry): its own Match follows
        its last index, then `maybe_commit`."""
        self.set_log(s, self.log[s] + ((self.term[s], value),))
        row = list(self.match[s])
        row[s] = self.last_index(s)
        self.match[s] = tuple(row)
        self.maybe_commit(s)

    def maybe_commit(self, s: int) -> None:
        """`raft.go` maybeCommit: N = the quorum-th largest Match (`quorum/majority.go`
        CommittedIndex: sort ascending, take position n − q); commit N only if the entry at N has
        the current term (`log.go` maybeCommit). The raft-figure8 variant drops that term check,
        committing an earlier-term entry by counting replicas (Raft paper, Figure 8)."""
        cfg = self.config
        ordered = sorted(self.match[s])
        n_idx = ordered[cfg.servers - cfg.quorum_size]
        if n_idx <= self.commit[s]:
            return
        if cfg.commit_rule == "current-term" and self.term_at(s, n_idx) != self.term[s]:
            return
        self.commit_to(s, n_idx)


def popcount(mask: int) -> int:
    """Number of servers in a bitmask."""
    return bin(mask).count("1")
