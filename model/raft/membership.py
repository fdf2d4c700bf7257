"""Membership changes of the Raft model: single-member conf changes carried in the log.

etcd changes its membership (`etcdctl member add [--learner]`, `member promote`, `member remove`)
by proposing a `raftpb.ConfChange` to its raft node, which appends it to the log as an
`EntryConfChange` (`etcd-io/raft` `raft.go` stepLeader MsgProp). Such a change takes effect at a
member when that member *applies* the entry, not when it appends it (as in the Raft thesis): etcd
calls `RawNode.ApplyConfChange` from its apply loop (`server/etcdserver/server.go`
applyConfChange), which runs `raft.go` applyConfChange → `confchange/confchange.go`
Changer.Simple → switchToConfig. The model applies on commit (a member's applied index is its
commit index, as for the key-value store), so a member's configuration is a function of its log
prefix up to its commit index: `conf_at`, the initial voters (`RaftConfig.spares` not among them)
changed by every conf-change entry in that prefix, in order.

A configuration is (voters, learners), two bitmasks. Quorums count voters only
(`quorum/majority.go` over `tracker.Config.Voters`, `tracker.go` TallyVotes/QuorumActive): a
learner receives the log (it has a Progress) but its vote never counts and it never campaigns
(`raft.go` promotable: a Progress that is not a learner's).

Changes apply as etcd applies them: one that etcd's membership validation would refuse at apply
time (`server/etcdserver/api/membership/cluster.go` ValidateConfigurationChange: adding a member
that exists, removing one that does not) is applied as a no-op (etcd applies it to raft with
NodeID None); removing the last voter, which `confchange.go` refuses ("removed all voters") and
the leader never proposes, is a no-op too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

from kubeprop.model.raft.state import ADD_LEARNER, ADD_NODE, REMOVE_NODE, Log, RaftConfig

Conf = tuple[int, int, int]
"""A configuration: (voters, learners, removed) as bitmasks of members; `removed` are the members
ever removed, whose IDs etcd never admits again (`membership/cluster.go` ErrIDRemoved)."""


class Logs(Protocol):
    """What `conf_of` reads: a `RaftState` or a `Draft`."""

    @property
    def log(self) -> tuple[Log, ...]: ...

    @property
    def commit(self) -> tuple[int, ...]: ...


def conf_value(kind: int, member: int) -> int:
    """The log value of a conf change (`ADD_NODE`, `REMOVE_NODE` or `ADD_LEARNER` of `member`):
    negative, so that it is neither the empty entry (0) nor a client write (k > 0)."""
    return -(1 + 8 * kind + member)


def conf_change(value: int) -> tuple[int, int]:
    """(kind, member) of a conf-change log value."""
    return divmod(-value - 1, 8)


def initial_conf(config: RaftConfig) -> Conf:
    """Every server but the last `spares` is a voter; no learners, none removed."""
    return ((1 << (config.servers - config.spares)) - 1, 0, 0)


def apply_change(conf: Conf, value: int) -> Conf:
    """`confchange.go` Changer.Simple of one change, after etcd's apply-time validation (see the
    module docstring): AddNode makes a learner a voter (promotion) or adds a voter, AddLearnerNode
    adds a learner, RemoveNode removes a voter or learner; a removed member is never added again."""
    voters, learners, removed = conf
    kind, member = conf_change(value)
    bit = 1 << member
    if removed & bit:
        return conf
    if kind == ADD_NODE and not voters & bit:
        return voters | bit, learners & ~bit, removed
    if kind == ADD_LEARNER and not (voters | learners) & bit:
        return voters, learners | bit, removed
    if kind == REMOVE_NODE and (voters | learners) & bit and voters != bit:
        return voters & ~bit, learners & ~bit, removed | bit
    return conf


@lru_cache(maxsize=65536)
def _fold(start: Conf, values: tuple[int, ...]) -> Conf:
    conf = start
    for v in values:
        conf = apply_change(conf, v)
    return conf


def conf_at(config: RaftConfig, log: Log, upto: int) -> Conf:
    """The configuration after applying `log[:upto]` (the initial one with no change proposed)."""
    start = initial_conf(config)
    if not config.conf_changes:
        return start
    return _fold(start, tuple(v for _, v in log[:upto] if v < 0))


def conf_of(config: RaftConfig, st: Logs, s: int) -> Conf:
    """Member `s`'s configuration: that of its applied (committed) log prefix."""
    return conf_at(config, st.log[s], st.commit[s])


def quorum(config: RaftConfig, voters: int) -> int:
    """The quorum of a voter set: ⌊k/2⌋+1 of its k voters (`quorum/majority.go`), or ⌈k/2⌉ in the
    quorum-ceil variant."""
    k = bin(voters).count("1")
    return k // 2 + 1 if config.quorum == "majority" else (k + 1) // 2


def pending_conf(config: RaftConfig, log: Log, term: int, commit: int) -> bool:
    """`raft.go` stepLeader MsgProp `alreadyPending` (pendingConfIndex > applied) at the leader of
    `term` with this log: pendingConfIndex is the last index before the leader's own entries
    (becomeLeader sets it to lastIndex before appending the empty entry: "it's safe to delay any
    future proposals until we commit all our pending log entries"), raised to the index of each
    conf change the leader accepted since. Always False without the guard
    (`conf-change-no-pending-guard`, upstream's DisableConfChangeValidation)."""
    if config.conf_guard == "none":
        return False
    first = next((i for i, (t, _) in enumerate(log, 1) if t == term), len(log) + 1)
    pending = first - 1
    for i in range(first, len(log) + 1):
        if log[i - 1][1] < 0:
            pending = i
    return pending > commit


def proposals(config: RaftConfig, st: Logs, s: int) -> list[int]:
    """The conf changes an operator may ask leader `s` for, as log values: each valid against the
    leader's applied membership, as etcd's server checks it when the request arrives
    (`server/etcdserver/server.go` AddMember/PromoteMember/RemoveMember →
    ValidateConfigurationChange): add a non-member (never one removed before) as voter or learner,
    promote a learner, remove a member (the leader itself included) unless it is the last voter."""
    voters, learners, removed = conf_of(config, st, s)
    out = []
    for p in range(config.servers):
        bit = 1 << p
        if removed & bit:
            continue
        if not (voters | learners) & bit:
            out += [conf_value(ADD_NODE, p), conf_value(ADD_LEARNER, p)]
        elif learners & bit:
            out += [conf_value(ADD_NODE, p), conf_value(REMOVE_NODE, p)]
        elif voters != bit:
            out.append(conf_value(REMOVE_NODE, p))
    return out


def voters_of(config: RaftConfig, st: Logs, s: int) -> int:
    """The voters of member `s`'s configuration (bitmask)."""
    return conf_of(config, st, s)[0]


def tracked(config: RaftConfig, st: Logs, s: int) -> int:
    """The members leader `s` keeps a Progress for (`tracker` ProgressMap: its voters and
    learners): it sends appends and heartbeats only to those, and ignores the others' responses
    (stepLeader: "no progress available")."""
    voters, learners, _ = conf_of(config, st, s)
    return voters | learners
