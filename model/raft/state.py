"""Configuration, state and actions of the Raft model (`kubeprop.model.raft.system`).

Kept apart from the transition rules so that properties, the CLI and the TLA+ comparison can
share the vocabulary. Servers are numbered 0..n-1 inside the model and shown by name (etcd-1 …).
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, TypedDict

import attrs

from kubeprop.model.raft.kv import Op, Result

Role = int
"""A member's role: FOLLOWER, CANDIDATE, LEADER or PRE_CANDIDATE (ints, so that a state is made
of ints and tuples only — see `RaftState`); `ROLE_NAMES` spells them."""
FOLLOWER: Role = 0
CANDIDATE: Role = 1
LEADER: Role = 2
PRE_CANDIDATE: Role = 3
"""`raft.go` StatePreCandidate: asking for pre-votes (`RaftConfig.pre_vote`), term unchanged."""
ROLE_NAMES = ("F", "C", "L", "P")
NONE = -1
"""No server (no vote cast, no known leader)."""

Entry = tuple[int, int]
"""A log entry: (term, value); value 0 is the empty entry a new leader appends, k > 0 the k-th
client write operation of the configuration, k < 0 a membership change (EntryConfChange,
`kubeprop.model.raft.membership.conf_value`)."""
Log = tuple[Entry, ...]
Msg = tuple[Any, ...]
"""A message, a plain tuple whose first field is its type (see the RV … PVR constants)."""
RV, RVR, AE, AER, HB, HBR, PV, PVR, TN = 0, 1, 2, 3, 4, 5, 6, 7, 8
MSG_NAMES = ("RequestVote", "RequestVoteResp", "AppendEntries", "AppendEntriesResp", "Heartbeat",
             "HeartbeatResp", "PreVote", "PreVoteResp", "TimeoutNow")
FORCE = 1
"""The last field of a RequestVote sent by a leadership transfer's campaign: (RV, from, to, term,
lastIndex, lastTerm, FORCE), `raft.go` campaign(campaignTransfer) setting the message's Context to
"CampaignTransfer" (Step's `force`). Every other RequestVote has six fields."""
ADD_NODE, REMOVE_NODE, ADD_LEARNER = 0, 1, 3
"""`raftpb.ConfChangeType` values (`raftpb/raft.proto`): ConfChangeAddNode (a new voter, or a
learner's promotion: etcd's `member promote` proposes it), ConfChangeRemoveNode,
ConfChangeAddLearnerNode."""
CONF_KIND_NAMES = {ADD_NODE: "add-node", REMOVE_NODE: "remove-node", ADD_LEARNER: "add-learner"}
OpRef = tuple[str, int]
"""A client operation's identity in the history: ("w", op id) or ("r", read number)."""
Event = tuple[str, OpRef, "Op | Result"]
"""A history event: ("call", ref, op) or ("ret", ref, result)."""
PendingRead = tuple[OpRef, str, int, int] | tuple[()]
"""A ReadIndex request at a leader: (ref, key, read index, bitmask of servers that confirmed), or
`NO_READ` (the empty tuple) when none is pending."""
NO_READ: tuple[()] = ()

Quorum = Literal["majority", "ceil"]
ReadPath = Literal["read-index", "follower-read"]
CommitRule = Literal["current-term", "count-replicas"]
TransferVote = Literal["log-check", "no-log-check"]
ConfGuard = Literal["pending-index", "none"]

RAFT_VARIANTS: dict[str, dict[str, str]] = {
    "quorum-ceil": {"quorum": "ceil"},
    "follower-read": {"read_path": "follower-read"},
    "raft-figure8": {"commit_rule": "count-replicas"},
    "transfer-no-log-check": {"transfer_vote": "no-log-check"},
    "conf-change-no-pending-guard": {"conf_guard": "none"},
}
"""The catalogue variants (../shared/reference/bug-catalogue.md) as ordinary parameter values, and
two bugs of this model's own (docs/variants.md): `transfer-no-log-check`, a vote for a leadership
transfer's campaign skips the log check (`RaftConfig.transfer_vote`), and
`conf-change-no-pending-guard`, a leader accepts a membership change while an earlier one may be
unapplied (`RaftConfig.conf_guard`)."""

class ElectionOptions(TypedDict):
    """`RaftConfig`'s election options, to pass as keyword arguments."""

    pre_vote: bool
    check_quorum: bool


ETCD_3_4: ElectionOptions = {"pre_vote": False, "check_quorum": True}
"""The election options of etcd 3.4 (Debian bookworm's package, which `tests/etcd` runs): pre-vote
off (`--pre-vote` defaults to false before 3.5), CheckQuorum on (etcd always sets it)."""
LIBRARY_DEFAULTS: ElectionOptions = {"pre_vote": False, "check_quorum": False}
"""`etcd-io/raft`'s own Config defaults (both off): the model before these options existed, what a
counterexample file written then ran, and the TLA+ twin (`benchmarks/tla/Raft.tla`)."""

_OMIT = {"fingerprint": "omit-if-default"}


def _default_ops() -> tuple[Op, ...]:
    return (Op("put", "k", "v1"),)


@attrs.frozen
class RaftConfig:
    """One Raft configuration: cluster size, rule choices (the variants) and the bounds that keep
    the state space finite.

    `max_log` bounds client writes (a leader accepts one only while its log is shorter); the empty
    entry a new leader appends is not bounded by it, so logs are at most max_log + max_term long.
    `max_copies` bounds the copies of one message in the network and `max_msgs` (if set) the
    messages in flight: a send beyond either bound is a loss, which the network may do anyway.
    `max_down` > 0 enables Crash/Recover (at most that many members down at once); members in
    `initially_down` stay down unless Crash/Recover is enabled.

    The election options default to the etcd that Kubernetes v1.33 ships (3.5.x; `ETCD_3_4` has
    the packaged 3.4's, `LIBRARY_DEFAULTS` the raft library's):

    - `pre_vote` (etcd `--pre-vote`, default true since 3.5: `server/embed/config.go` NewConfig,
      passed as `raft.Config.PreVote`): an election timeout makes the member a pre-candidate that
      asks for votes for term+1 without raising its own term (`raft.go` campaign
      campaignPreElection, becomePreCandidate); only a quorum of pre-votes starts the real
      election. A member cut off from a quorum therefore never raises its term.
    - `check_quorum` (`raft.Config.CheckQuorum`, which etcd always sets true: etcd 3.4
      `etcdserver/raft.go`, 3.5 `server/etcdserver/raft.go`/`bootstrap.go`): a leader steps down
      when it has not heard from a quorum within an election timeout (`raft.go` stepLeader
      MsgCheckQuorum), and a member that knows a leader ignores a higher-term (pre-)vote request
      within that timeout (the `inLease` check of Step).

    The model is untimed, so both are over-approximated: the in-lease check is a nondeterministic
    choice (`Receive` of such a request is the lease having expired; ignoring it is `Drop`, or the
    `InLease` action where the network does not lose messages), and the periodic check is a
    `CheckQuorum` action a leader may take at any moment. That action follows the library exactly
    on the peers it counts (Progress.RecentActive, kept in `RaftState.votes`): it steps down only
    when fewer than a quorum were heard from since the previous check, and otherwise starts a new
    period. Every behaviour of real etcd is then a model behaviour, while a member that raised its
    term while cut off (pre-vote) and a leader cut off for good that can never step down (check
    quorum) are gone.

    `transfers` (default 0: no transfer, the state space of before) bounds the leadership transfers
    requested over a run: etcd's `etcdctl move-leader` (`server/etcdserver/server.go` MoveLeader)
    and a leader member's graceful stop (TransferLeadership) both step `MsgTransferLeader` into the
    leader's raft node (`raft.go` stepLeader; a follower forwards it to its leader, which is the
    request reaching that leader later). Which member is asked, and when, is a `TransferLeader`
    action; the election-timeout abort (`raft.go` tickHeartbeat → abortLeaderTransfer) is an
    `AbortTransfer` action a transferring leader may take at any moment (untimed, like
    CheckQuorum). `transfer_vote` is the voters' rule for a transfer's RequestVote: `log-check`
    (`raft.go` Step: the `force` context bypasses only the lease, the vote still needs an up-to-date
    log) or, in the `transfer-no-log-check` variant, none.

    `spares` (default 0) is how many of the `servers` (the last ones) are not members at the start:
    machines an operator may add (`etcdctl member add`, `--learner`); the others are the initial
    voters. `conf_changes` (default 0: no change, the state space of before) bounds the membership
    changes proposed over a run, each a `ConfChange` action of a leader (`kubeprop.model.raft.
    membership`: add a voter, add a learner, promote a learner, remove a member); `conf_guard` is the
    leader's propose-time guard, `pending-index` (`raft.go` stepLeader MsgProp: one unapplied
    change at a time, `pendingConfIndex`) or, in the `conf-change-no-pending-guard` variant, none
    (upstream's `Config.DisableConfChangeValidation`).
    """

    servers: int = 3
    names: tuple[str, ...] = ()
    quorum: Quorum = "majority"
    read_path: ReadPath = "read-index"
    commit_rule: CommitRule = "current-term"
    max_term: int = 2
    max_log: int = 2
    ops: tuple[Op, ...] = attrs.field(factory=_default_ops)
    max_copies: int = 1
    max_msgs: int | None = None
    lose: bool = True
    batch: bool = False
    restarts: bool = False
    max_down: int = 0
    initially_down: frozenset[int] = frozenset()
    partitions: bool = False
    history: bool = False
    reads: int = 0
    serial_reads: int = 0
    pre_vote: bool = attrs.field(default=True, metadata=_OMIT)
    check_quorum: bool = attrs.field(default=True, metadata=_OMIT)
    transfers: int = attrs.field(default=0, metadata=_OMIT)
    transfer_vote: TransferVote = attrs.field(default="log-check", metadata=_OMIT)
    spares: int = attrs.field(default=0, metadata=_OMIT)
    conf_changes: int = attrs.field(default=0, metadata=_OMIT)
    conf_guard: ConfGuard = attrs.field(default="pending-index", metadata=_OMIT)

    @property
    def quorum_size(self) -> int:
        """⌊n/2⌋+1 (`etcd-io/raft` `quorum/majority.go` CommittedIndex/VoteResult) or, in the
        quorum-ceil variant, the seed's ⌈n/2⌉."""
        n = self.servers
        return n // 2 + 1 if self.quorum == "majority" else (n + 1) // 2

    def name(self, server: int) -> str:
        """The display name of a server."""
        return self.names[server] if server < len(self.names) else f"s{server + 1}"

    @property
    def read_keys(self) -> tuple[str, ...]:
        """The keys clients read: every key some write op touches."""
        return tuple(sorted({op.key for op in self.ops}))


class RaftState(NamedTuple):
    """A state of the cluster: per-server persistent state (term, vote, log, commit — etcd's
    HardState and its log), per-server volatile state (role, known leader, votes granted, leader
    progress next/match, pending ReadIndex), the network bag, faults, and ghost history
    (`elected`, `committed`, `lead_log`, `history`) that only the properties read.

    `transferee` is a leader's leadership-transfer target (`raft.go` leadTransferee; NONE when no
    transfer is in progress, and at every non-leader) and `transfers` the number of transfers
    requested so far (bounded by `RaftConfig.transfers`). `conf_changes` is the number of membership
    changes proposed so far (bounded by `RaftConfig.conf_changes`); a member's configuration is not
    a field but a function of its applied log (`kubeprop.model.raft.membership.conf_at`).

    `votes` is a bitmask of members: the (pre-)votes granted to a (pre-)candidate, and at a leader
    under `check_quorum` the peers heard from since its last check (`tracker/progress.go`
    RecentActive, itself included); a leader's vote tally is empty in etcd, and the field stays 0
    at a leader without check_quorum, so configurations without it have the states they had.

    A named tuple of tuples, ints and frozensets of int tuples: building one is a single tuple
    allocation, a successor shares every field it does not change with its parent, and — as
    long as the client history is empty — the state contains no str, None or object whose
    `hash()` is salted or address-based, which `kubeprop.model.raft.fingerprint` relies on."""

    term: tuple[int, ...]
    role: tuple[Role, ...]
    vote: tuple[int, ...]
    lead: tuple[int, ...]
    log: tuple[Log, ...]
    commit: tuple[int, ...]
    votes: tuple[int, ...]
    next: tuple[tuple[int, ...], ...]
    match: tuple[tuple[int, ...], ...]
    down: int
    cut: int
    msgs: tuple[tuple[Msg, int], ...]
    elected: frozenset[tuple[int, int]]
    committed: frozenset[tuple[int, int, int, int]]
    lead_log: tuple[Log, ...]
    history: tuple[Event, ...]
    reads: tuple[PendingRead, ...]
    transferee: tuple[int, ...]
    transfers: int
    conf_changes: int

    def is_up(self, server: int) -> bool:
        """Whether the server is running."""
        return not (self.down >> server) & 1


class RaftAction(NamedTuple):
    """One step: `kind` names the rule; `server`/`peer`/`arg`/`msg` its parameters (a named
    tuple: the BFS makes one per generated state)."""

    kind: str
    server: int = NONE
    peer: int = NONE
    arg: int = 0
    msg: Msg | None = None

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in (("server", self.server), ("peer", self.peer)) if v != NONE]
        if self.arg:
            parts.append(f"arg={self.arg}")
        if self.msg is not None:
            parts.append(f"msg={self.msg}")
        return f"{self.kind}({', '.join(parts)})"


def describe_msg(config: RaftConfig, m: Msg) -> str:
    """A message in words: `AppendEntries etcd-1→etcd-2 term=2 prev=(1,1) entries=[(2,v1)] commit=1`."""
    head = f"{MSG_NAMES[m[0]]} {config.name(m[1])}→{config.name(m[2])} term={m[3]}"
    if m[0] in (RV, PV):
        return f"{head} lastIndex={m[4]} lastTerm={m[5]}{' transfer' if len(m) > 6 else ''}"
    if m[0] in (RVR, PVR):
        return f"{head} {'granted' if m[4] else 'rejected'}"
    if m[0] == AE:
        ents = ", ".join(f"({t},{_value(config, v)})" for t, v in m[6])
        return f"{head} prev=({m[4]},{m[5]}) entries=[{ents}] commit={m[7]}"
    if m[0] == AER:
        return f"{head} {'success index=' + str(m[5]) if m[4] else f'reject index={m[5]} hint={m[6]}'}"
    if m[0] == HB:
        return f"{head} commit={m[4]} ctx=read{m[5]}"
    if m[0] == TN:
        return head
    return f"{head} ctx=read{m[4]}"


def _value(config: RaftConfig, v: int) -> str:
    if v < 0:
        kind, member = divmod(-v - 1, 8)
        return f"conf {CONF_KIND_NAMES.get(kind, '?')} {config.name(member)}"
    return "noop" if v == 0 else str(config.ops[v - 1])


def describe(config: RaftConfig, action: RaftAction) -> str:
    """An action in words, with server names and message contents."""
    who = config.name(action.server) if action.server != NONE else ""
    if action.msg is not None:
        return f"{action.kind}: {describe_msg(config, action.msg)}"
    if action.kind == "SendAppend":
        return f"SendAppend: {who} → {config.name(action.peer)} ({action.arg} entries)"
    if action.kind == "ClientWrite":
        return f"ClientWrite: {who} accepts '{config.ops[action.arg - 1]}'"
    if action.kind == "ClientAck":
        return f"ClientAck: '{config.ops[action.arg - 1]}' acknowledged by {who}"
    if action.kind in ("ReadIndex", "ReadLocal", "ReadSerializable"):
        return f"{action.kind}: client reads {config.read_keys[action.arg]} at {who}"
    if action.kind == "ConfChange":
        return f"ConfChange: {who} proposes {_value(config, action.arg)}"
    if action.kind == "TransferLeader":
        return f"TransferLeader: {who} → {config.name(action.peer)}"
    if action.kind == "Heal":
        return "Heal: the partition ends"
    return f"{action.kind}: {who}"


def short_value(config: RaftConfig, v: int) -> str:
    """A log entry's value as the final-state table shows it: `noop`, the written value, or the
    membership change (`conf remove-node s3`)."""
    return _value(config, v) if v <= 0 else config.ops[v - 1].value


def entry_text(config: RaftConfig, entry: Entry) -> str:
    """A log entry in words: `(2, put k=v1)`."""
    return f"({entry[0]}, {_value(config, entry[1])})"
