"""etcd members as a Raft transition system (its own model, apart from ClusterState).

Follows `etcd-io/raft` (`raft.go`, `log.go`, `quorum/majority.go`, `read_only.go`): messages are
state (a bounded bag that loses, duplicates and reorders), election timeouts are nondeterministic
`Timeout` actions (a pre-vote round first with `pre_vote`), CheckQuorum's periodic check a
nondeterministic `CheckQuorum` action and its in-lease check a nondeterministic ignore
(`RaftConfig` says how these over-approximate etcd's timers), terms/votes/logs/commit are
persistent and survive `Restart`/`Crash`+`Recover`, partitions cut the network, clients write (put,
compare-and-swap) and read linearizably (ReadIndex) or serializably (local), leadership
transfers (`TransferLeader`, `AbortTransfer`, MsgTimeoutNow) are requested within a budget, and so
are membership changes (`ConfChange`, `kubeprop.model.raft.membership`). The variants of the
bug catalogue are parameter values of `RaftConfig` (`RAFT_VARIANTS`). Use: `initial_state(config)`,
`actions(config, state)`, `step(config, state, action)`, or `successors(config)` for the generic
BFS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kubeprop.model.errors import InputError
from kubeprop.model.evolve import evolve
from kubeprop.model.raft.handlers import ignorable, receive
from kubeprop.model.raft.kv import Op, apply_log
from kubeprop.model.raft.membership import conf_of, pending_conf, proposals, quorum, tracked, voters_of
from kubeprop.model.raft.rules import Bag, Draft, bag_discard, bag_duplicate, bag_send, popcount
from kubeprop.model.raft.state import (
    AE,
    CANDIDATE,
    FOLLOWER,
    HB,
    LEADER,
    NO_READ,
    NONE,
    PRE_CANDIDATE,
    PV,
    RAFT_VARIANTS,
    TN,
    Event,
    Msg,
    RaftAction,
    RaftConfig,
    RaftState,
)

MAX_SERVERS = 7
_new = tuple.__new__
"""Builds the most frequent `RaftAction`s without the named tuple's Python-level `__new__`."""


class RaftConfigError(InputError, ValueError):
    """A configuration that cannot be explored; the message names the field and valid values."""


def validate(config: RaftConfig) -> RaftConfig:
    """Check a configuration's fields; raises RaftConfigError naming the bad one."""
    checks = [
        (1 <= config.servers <= MAX_SERVERS, f"servers must be 1..{MAX_SERVERS}, got {config.servers}"),
        (config.max_term >= 1, f"max_term must be ≥ 1, got {config.max_term}"),
        (config.max_log >= 0, f"max_log must be ≥ 0, got {config.max_log}"),
        (config.max_copies >= 1, f"max_copies must be ≥ 1, got {config.max_copies}"),
        (config.max_msgs is None or config.max_msgs >= 1, f"max_msgs must be ≥ 1, got {config.max_msgs}"),
        (0 <= config.max_down < config.servers, f"max_down must be 0..{config.servers - 1}"),
        (all(0 <= s < config.servers for s in config.initially_down), "initially_down names no member"),
        (config.reads >= 0 and config.serial_reads >= 0, "reads must be ≥ 0"),
        (not (config.reads or config.serial_reads) or config.history, "reads need history=True"),
        (all(op.kind in ("put", "cas") for op in config.ops), "ops must be put or cas operations"),
        (config.transfers >= 0, f"transfers must be ≥ 0, got {config.transfers}"),
        (config.transfer_vote in ("log-check", "no-log-check"),
         f"transfer_vote must be log-check or no-log-check, got {config.transfer_vote!r}"),
        (0 <= config.spares < config.servers, f"spares must be 0..{config.servers - 1}, got {config.spares}"),
        (config.conf_changes >= 0, f"conf_changes must be ≥ 0, got {config.conf_changes}"),
        (config.conf_guard in ("pending-index", "none"),
         f"conf_guard must be pending-index or none, got {config.conf_guard!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise RaftConfigError(message)
    return config


def with_variant(config: RaftConfig, variant: str | None) -> RaftConfig:
    """The configuration with a catalogue variant's parameter applied."""
    if variant is None:
        return config
    if variant not in RAFT_VARIANTS:
        raise RaftConfigError(f"unknown Raft variant {variant!r}; valid: {', '.join(RAFT_VARIANTS)}")
    return evolve(config, **RAFT_VARIANTS[variant])  # type: ignore[arg-type]


def initial_state(config: RaftConfig) -> RaftState:
    """All members followers in term 0 with empty logs; `initially_down` members are down."""
    n = config.servers
    zeros = (0,) * n
    down = sum(1 << s for s in config.initially_down)
    return RaftState((0,) * n, (FOLLOWER,) * n, (NONE,) * n, (NONE,) * n, ((),) * n, zeros, zeros,
                     (zeros,) * n, (zeros,) * n, down, 0, (), frozenset(), frozenset(), ((),) * n, (),
                     (NO_READ,) * n, (NONE,) * n, 0, 0)


def _count_calls(history: tuple[Event, ...], mode: str) -> int:
    return sum(1 for kind, ref, op in history
               if kind == "call" and ref[0] == "r" and isinstance(op, Op) and op.mode == mode)


def _called(history: tuple[Event, ...]) -> set[tuple[str, int]]:
    return {ref for kind, ref, _ in history if kind == "call"}


def _returned(history: tuple[Event, ...]) -> set[tuple[str, int]]:
    return {ref for kind, ref, _ in history if kind == "ret"}


def _leader_actions(config: RaftConfig, st: RaftState, s: int, out: list[RaftAction]) -> None:
    log = st.log[s]
    nxt = st.next[s]
    members = tracked(config, st, s)
    for p in range(config.servers):
        if p == s or not members >> p & 1:
            continue
        rest = len(log) - nxt[p] + 1
        if config.batch:
            out.extend(RaftAction("SendAppend", s, p, k) for k in range(rest + 1))
        else:
            out.append(_new(RaftAction, ("SendAppend", s, p, rest, None)))
    if config.transfers:
        _transfer_actions(config, st, s, out)
    if st.conf_changes < config.conf_changes and st.transferee[s] == NONE:
        out.extend(RaftAction("ConfChange", s, arg=v) for v in proposals(config, st, s))
    if len(log) < config.max_log and st.transferee[s] == NONE:
        called = _called(st.history)
        for op in range(1, len(config.ops) + 1):
            if not config.history or ("w", op) not in called:
                out.append(RaftAction("ClientWrite", s, arg=op))
    if config.read_path == "read-index" and config.reads and not st.reads[s] \
            and _count_calls(st.history, "linearizable") < config.reads \
            and st.commit[s] > 0 and log[st.commit[s] - 1][0] == st.term[s]:
        out.extend(RaftAction("ReadIndex", s, arg=k) for k in range(len(config.read_keys)))
    pending = st.reads[s]
    if pending and popcount(pending[3] & (voters := voters_of(config, st, s))) >= quorum(config, voters):
        out.append(RaftAction("ReadServe", s))


def _transfer_actions(config: RaftConfig, st: RaftState, s: int, out: list[RaftAction]) -> None:
    """Leader `s`'s leadership-transfer actions: a request to move leadership to any other member
    (while the budget `RaftConfig.transfers` lasts; a request for the transfer already in progress
    changes nothing upstream, so it is not an action), and the abort of a transfer in progress.
    Only a voter of the leader's configuration can be the target: a request naming a learner is
    ignored, one naming a non-member has no Progress (`raft.go` stepLeader MsgTransferLeader)."""
    if st.transfers < config.transfers:
        voters = voters_of(config, st, s)
        out.extend(RaftAction("TransferLeader", s, p) for p in range(config.servers)
                   if p != s and p != st.transferee[s] and voters >> p & 1)
    if st.transferee[s] != NONE:
        out.append(RaftAction("AbortTransfer", s))


def _server_actions(config: RaftConfig, st: RaftState, s: int, out: list[RaftAction]) -> None:
    if (st.down >> s) & 1:
        if config.max_down and not conf_of(config, st, s)[2] >> s & 1:
            out.append(RaftAction("Recover", s))
        return
    role = st.role[s]
    voters = voters_of(config, st, s)
    if role != LEADER and st.term[s] < config.max_term and voters >> s & 1:
        out.append(_new(RaftAction, ("Timeout", s, NONE, 0, None)))
    if role == LEADER:
        if config.check_quorum and (st.votes[s] != 1 << s or quorum(config, voters) > 1):
            out.append(RaftAction("CheckQuorum", s))
        _leader_actions(config, st, s, out)
    if config.history:
        if config.read_path == "follower-read" and _count_calls(st.history, "linearizable") < config.reads:
            out.extend(RaftAction("ReadLocal", s, arg=k) for k in range(len(config.read_keys)))
        if _count_calls(st.history, "serializable") < config.serial_reads:
            out.extend(RaftAction("ReadSerializable", s, arg=k) for k in range(len(config.read_keys)))
    if config.restarts:
        out.append(RaftAction("Restart", s))
    if config.max_down and popcount(st.down) < config.max_down:
        out.append(RaftAction("Crash", s))


def deliverable(st: RaftState, src: int, dst: int) -> bool:
    """A message can be delivered: the destination is up and on the same side of a partition."""
    return st.is_up(dst) and (st.cut >> src) & 1 == (st.cut >> dst) & 1


def _ack_server(config: RaftConfig, st: RaftState, op: int) -> int:
    """The lowest up member that has applied (committed) the entry of write `op`, or NONE."""
    for s in range(config.servers):
        if st.is_up(s) and any(v == op for _, v in st.log[s][:st.commit[s]]):
            return s
    return NONE


def actions(config: RaftConfig, st: RaftState) -> tuple[RaftAction, ...]:
    """Every enabled action, in a deterministic order."""
    out: list[RaftAction] = []
    for s in range(config.servers):
        _server_actions(config, st, s, out)
    msgs, cut, down = st.msgs, st.cut, st.down
    room = config.max_copies > 1 and (config.max_msgs is None or sum(c for _, c in msgs) < config.max_msgs)
    for m, count in msgs:
        src, dst = m[1], m[2]
        if not (down >> dst) & 1 and (cut >> src) & 1 == (cut >> dst) & 1:  # deliverable()
            out.append(_new(RaftAction, ("Receive", NONE, NONE, 0, m)))
            if not config.lose and ignorable(config, st, m):
                out.append(RaftAction("InLease", msg=m))
        if config.lose:
            out.append(_new(RaftAction, ("Drop", NONE, NONE, 0, m)))
        if room and count < config.max_copies:
            out.append(RaftAction("Duplicate", msg=m))
    if config.history:
        waiting = _called(st.history) - _returned(st.history)
        for ref in sorted(waiting):
            if ref[0] == "w" and (s := _ack_server(config, st, ref[1])) != NONE:
                out.append(RaftAction("ClientAck", s, arg=ref[1]))
    if config.partitions:
        if cut == 0:
            out.extend(RaftAction("Isolate", s) for s in range(config.servers))
        else:
            out.append(RaftAction("Heal"))
    return tuple(out)


def _timeout(d: Draft, s: int, _a: RaftAction) -> None:
    """An election timeout (`raft.go` tickElection → MsgHup → hup). Without pre-vote: the election
    itself (`Draft.campaign`). With pre-vote (`campaign(campaignPreElection)`, becomePreCandidate):
    the member becomes a pre-candidate — same term, same vote, no known leader, its own pre-vote
    counted — and asks every peer for a pre-vote for term+1 with (lastIndex, lastTerm); a
    one-member quorum goes on to the election at once."""
    if not d.config.pre_vote:
        d.campaign(s)
        return
    d.set("role", s, PRE_CANDIDATE)
    d.set("lead", s, NONE)
    if d.poll(s, PV, d.term[s] + 1):
        d.campaign(s)


def _check_quorum(d: Draft, s: int, _a: RaftAction) -> None:
    """`raft.go` tickHeartbeat → stepLeader MsgCheckQuorum, once per election timeout, taken at any
    moment (the model is untimed): fewer than a quorum recently active (`votes`, see `RaftState`)
    → step down to follower of the same term; either way every peer but the leader is marked
    inactive for the next period. Only voters of its configuration count (`tracker.go`
    QuorumActive)."""
    voters = voters_of(d.config, d, s)
    if popcount(d.votes[s] & voters) < quorum(d.config, voters):
        d.become_follower(s, d.term[s], NONE)
    else:
        d.set("votes", s, 1 << s)


def _append_msg(st: RaftState | Draft, s: int, peer: int, k: int) -> Msg:
    """`raft.go` sendAppend (probe state): prevIndex = Next−1, `k` entries from Next (a
    nondeterministic batch size stands for MaxSizePerMsg), the leader's commit index."""
    prev = st.next[s][peer] - 1
    log = st.log[s]
    return (AE, s, peer, st.term[s], prev, log[prev - 1][0] if prev > 0 else 0, log[prev:prev + k], st.commit[s])


def _with_msgs(st: RaftState, msgs: Bag) -> RaftState:
    """The state with only the network changed (every other field shared), or `st` itself when
    the bag is unchanged (a lost send)."""
    if msgs is st.msgs:
        return st
    return RaftState._make((*st[:11], msgs, *st[12:]))


def _client_write(d: Draft, s: int, a: RaftAction) -> None:
    """A client proposal at the leader (`raft.go` stepLeader MsgProp → appendEntry)."""
    if d.config.history:
        d.history = (*d.history, ("call", ("w", a.arg), d.config.ops[a.arg - 1]))
    d.append(s, a.arg)


def _client_ack(d: Draft, s: int, a: RaftAction) -> None:
    """The member that applied the write answers the client with the write's result."""
    values = tuple(v for _, v in d.log[s][:d.commit[s]])
    results = dict(apply_log(d.config.ops, values)[1])
    d.history = (*d.history, ("ret", ("w", a.arg), results[a.arg]))


def _read_index(d: Draft, s: int, a: RaftAction) -> None:
    """`raft.go` stepLeader MsgReadIndex (ReadOnlySafe): remember the commit index as read index
    and confirm leadership with a heartbeat round carrying the request's context."""
    n = 1 + sum(1 for kind, ref, _ in d.history if kind == "call" and ref[0] == "r")
    key = d.config.read_keys[a.arg]
    d.history = (*d.history, ("call", ("r", n), Op("read", key, mode="linearizable")))
    d.set("reads", s, (("r", n), key, d.commit[s], 1 << s))
    members = tracked(d.config, d, s)
    for p in range(d.config.servers):
        if p != s and members >> p & 1:
            d.send((HB, s, p, d.term[s], min(d.match[s][p], d.commit[s]), n))


def _read_serve(d: Draft, s: int, _a: RaftAction) -> None:
    """A quorum confirmed leadership: answer from the applied state (applied ≥ read index)."""
    pending = d.reads[s]
    assert pending
    store = apply_log(d.config.ops, tuple(v for _, v in d.log[s][:d.commit[s]]))[0]
    d.history = (*d.history, ("ret", pending[0], store.get(pending[1])))
    d.set("reads", s, NO_READ)


def _read_local(d: Draft, s: int, a: RaftAction, mode: str) -> None:
    n = 1 + sum(1 for kind, ref, _ in d.history if kind == "call" and ref[0] == "r")
    key = d.config.read_keys[a.arg]
    store = apply_log(d.config.ops, tuple(v for _, v in d.log[s][:d.commit[s]]))[0]
    d.history = (*d.history, ("call", ("r", n), Op("read", key, mode=mode)), ("ret", ("r", n), store.get(key)))


def _transfer_leader(d: Draft, s: int, a: RaftAction) -> None:
    """`raft.go` stepLeader MsgTransferLeader from `a.peer` (etcd's MoveLeader or graceful stop,
    `RaftConfig.transfers`): a transfer to another member in progress is aborted
    (abortLeaderTransfer), `a.peer` becomes the transferee, and it is sent MsgTimeoutNow at once if
    its Match is the leader's last index (sendTimeoutNow), else an append of every entry from its
    Next (sendAppend); `_on_append_resp` sends the MsgTimeoutNow once it has caught up. Until the
    transfer ends the leader drops proposals (ErrProposalDropped: no `ClientWrite`)."""
    p = a.peer
    d.transfers += 1
    d.set("transferee", s, p)
    last = d.last_index(s)
    if d.match[s][p] == last:
        d.send((TN, s, p, d.term[s]))
    else:
        d.send(_append_msg(d, s, p, last - d.next[s][p] + 1))


def _abort_transfer(d: Draft, s: int, _a: RaftAction) -> None:
    """`raft.go` tickHeartbeat: a transfer not done within an election timeout is aborted
    (abortLeaderTransfer) and the leader accepts proposals again. Untimed, so any moment; a
    MsgTimeoutNow already sent stays in the network (tikv/raft-rs issue 234 is this message
    arriving late)."""
    d.set("transferee", s, NONE)


def _conf_change(d: Draft, s: int, a: RaftAction) -> None:
    """An operator's membership change (`etcdctl member add [--learner]`, `member promote`, `member
    remove`; `RaftConfig.conf_changes`) proposed at leader `s` (`raft.go` stepLeader MsgProp with
    an EntryConfChange): while an earlier change may be unapplied (`pending_conf`: pendingConfIndex
    > applied) it is refused — the entry is appended as an empty normal entry ("ignoring conf
    change") — else appended as is (pendingConfIndex = its index). It takes effect at each member
    when that member applies it (`Draft.switch_conf`)."""
    d.conf_changes += 1
    refused = pending_conf(d.config, d.log[s], d.term[s], d.commit[s])
    d.append(s, 0 if refused else a.arg)


def _crash(d: Draft, s: int, _a: RaftAction) -> None:
    """The member stops; its volatile state is gone, its persisted HardState and log stay."""
    d.down |= 1 << s
    d.become_follower(s, d.term[s], NONE)


_RULES: dict[str, Callable[[Draft, int, RaftAction], None]] = {
    "Timeout": _timeout,
    "CheckQuorum": _check_quorum,
    "ClientWrite": _client_write,
    "ClientAck": _client_ack,
    "ReadIndex": _read_index,
    "ReadServe": _read_serve,
    "ReadLocal": lambda d, s, a: _read_local(d, s, a, "linearizable"),
    "ReadSerializable": lambda d, s, a: _read_local(d, s, a, "serializable"),
    "TransferLeader": _transfer_leader,
    "ConfChange": _conf_change,
    "AbortTransfer": _abort_transfer,
    "Restart": lambda d, s, a: d.become_follower(s, d.term[s], NONE),
    "Crash": _crash,
    "Recover": lambda d, s, a: setattr(d, "down", d.down & ~(1 << s)),
    "Isolate": lambda d, s, a: setattr(d, "cut", 1 << s),
    "Heal": lambda d, s, a: setattr(d, "cut", 0),
}


def step(config: RaftConfig, st: RaftState, action: RaftAction) -> RaftState:
    """The state after `action` (which must be enabled). The actions that change only the
    network (SendAppend, Drop, InLease, Duplicate — most of the steps) build the new state directly; the
    others run their rule on a `Draft`."""
    kind, m = action.kind, action.msg
    if m is not None:
        if kind in ("Drop", "InLease"):
            return _with_msgs(st, bag_discard(st.msgs, m))
        if kind == "Duplicate":
            return _with_msgs(st, bag_duplicate(st.msgs, m))
        d = Draft(config, st)
        receive(d, m)
        return d.freeze()
    if kind == "SendAppend":
        return _with_msgs(st, bag_send(config, st.msgs, _append_msg(st, action.server, action.peer, action.arg)))
    d = Draft(config, st)
    _RULES[kind](d, action.server, action)
    return d.freeze()


def next_states(config: RaftConfig, st: RaftState) -> list[RaftState]:
    """The successor of every enabled action, in the order of `actions` (the explicit-state
    engines identify an action by its index in this list)."""
    return [step(config, st, a) for a in actions(config, st)]


def successors(config: RaftConfig) -> Callable[[RaftState], Iterator[tuple[RaftAction, RaftState]]]:
    """The successor function for `kubeprop.properties.explore.bfs.search`."""
    def succ(st: RaftState) -> Iterator[tuple[RaftAction, RaftState]]:
        for a in actions(config, st):
            yield a, step(config, st, a)
    return succ


__all__ = ["CANDIDATE", "FOLLOWER", "LEADER", "RaftConfig", "RaftConfigError", "RaftState", "actions",
           "initial_state", "next_states", "step", "successors", "validate", "with_variant"]
