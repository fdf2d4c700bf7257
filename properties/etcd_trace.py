"""Trace validation of a real etcd history against the Raft model (`kubeprop.model.raft.system`).

Given a `RealHistory` whose check passed (`kubeprop.properties.etcd_histories.check`), `validate`
builds a run of the model whose client-visible outcome is the real one, every step an enabled
action of the model (checked with `actions`) and every state checked against the Raft
invariants. The mapping:

- the effective writes (acknowledged ones and pending ones the linearization needs) are the
  configuration's `ops`, proposed (`ClientWrite`) at the model's leader in linearization order,
  replicated to a quorum, committed and, if the real client got an answer, acknowledged
  (`ClientAck`); the model computes the result from its log, which must equal etcd's answer
  (revision included);
- a linearizable read is `ReadIndex` + heartbeat round + `ReadServe` at the model's leader; a
  serializable read at member s is `ReadSerializable` at s, answered from s's commit index;
- each operation happens at a point inside its real interval (the earliest one consistent with
  the linearization order); faults happen at the time they were issued: `kill` → `Crash`,
  `restart` → `Recover`, `isolate`/`heal` → `Isolate`/`Heal`; a paused member takes no step and
  receives nothing until it is resumed (the model's asynchrony, no action of its own).

Between these observable steps the builder chooses the internal steps itself (elections,
AppendEntries rounds, heartbeats, lost messages), keeping each follower's commit index no higher
than its next serializable read needs. A witness found is a proof that the real outcome is a
behaviour of the model. Not finding one is reported as a finding with both traces, but it proves
less: the builder is one strategy (sequential commits, no pipelining), not an exhaustive search.
What the mapping does not validate: which member served a request or led (etcd forwards to
its leader; the model's leader is the builder's choice), terms and log indices (etcd's log also
holds configuration entries), timing, and anything of a pending write that left no trace.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from kubeprop.model.raft.handlers import up_to_date
from kubeprop.model.raft.kv import Op, Store, apply_op
from kubeprop.model.raft.rules import Draft
from kubeprop.model.raft.state import (
    AE,
    AER,
    ETCD_3_4,
    HB,
    HBR,
    LEADER,
    NONE,
    RV,
    RVR,
    RaftAction,
    RaftConfig,
    RaftState,
    describe,
)
from kubeprop.model.raft.system import actions, deliverable, initial_state, step
from kubeprop.properties.etcd_histories import Fault, HistoryCheck, RealHistory, RealOp
from kubeprop.properties.raft import INVARIANTS, first_failure


class NoWitness(Exception):
    """The builder could not continue the model run: the message says where and why."""


@attrs.frozen
class TraceValidation:
    """The outcome: `ok` with the model run (`steps` under `config`), or the reason it stopped."""

    ok: bool
    message: str
    config: RaftConfig
    steps: tuple[RaftAction, ...]
    real: tuple[str, ...]

    def model_lines(self) -> list[str]:
        """The model run, one described action per line."""
        return [f"{n:4d}. {describe(self.config, a)}" for n, a in enumerate(self.steps, 1)]

    def report(self) -> str:
        """Both traces, for a finding."""
        return "\n".join([f"trace validation: {self.message}", "real run:", *self.real,
                          "model run (as far as it got):", *self.model_lines()])


def _at(f: Fault) -> float:
    """When the model takes the fault: the most permissive instant of its real window — as
    early as possible for one that gives a member back, as late as possible for one that takes
    a member away (the command took effect somewhere between its issue and its return)."""
    return f.latest_effect if f.restricts else f.time


def _faults(history: RealHistory) -> list[Fault]:
    """The faults in the order the model takes them (at equal instants, those that give a
    member back first)."""
    return sorted(history.faults, key=lambda f: (_at(f), f.restricts))


def _ranges(writes: list[Op], reads: list[RealOp]) -> dict[str, tuple[int, int]]:
    """For each serializable read: the range of write-prefix lengths whose store answers as it did."""
    stores = [Store()]
    for op in writes:
        stores.append(apply_op(stores[-1], op)[0])
    out = {}
    for r in reads:
        fits = [j for j, s in enumerate(stores) if s.get(r.op.key) == r.result]
        if not fits:
            raise NoWitness(f"{r.ref} read {r.result} from {r.op.key}, which no prefix of the writes has")
        out[r.ref] = (min(fits), max(fits))
    return out


def _sequence(ordered: list[RealOp], ranges: dict[str, tuple[int, int]]) -> list[RealOp]:
    """The order the builder follows: the linearization without its serializable reads, each of
    those put back at the earliest place it fits: after every operation (serializable reads
    included) that returned before it was called and after the write that first made its answer
    current (the checker's order may put it later, which only makes the read look staler)."""
    rest = [o for o in ordered if o.op.mode != "serializable"]
    writes = [k for k, o in enumerate(rest) if o.op.kind != "read"]
    places: list[tuple[int, float, RealOp]] = []
    for r in sorted((o for o in ordered if o.op.mode == "serializable"), key=lambda o: o.call):
        before = [k for k, o in enumerate(rest) if o.ret is not None and o.ret < r.call]
        earlier_reads = [at for at, _, q in places if q.ret is not None and q.ret < r.call]
        lo = ranges[r.ref][0]
        at = max([*before, *earlier_reads, writes[lo - 1] if lo else -1], default=-1)
        places.append((at, r.call, r))
    places.sort(key=lambda p: (p[0], p[1]))
    out = [r for at, _, r in places if at == -1]
    for k, o in enumerate(rest):
        out.append(o)
        out.extend(r for at, _, r in places if at == k)
    assert len(out) == len(ordered)
    return out


def configure(history: RealHistory, order: tuple[str, ...]) -> RaftConfig:
    """The model configuration for the history: its effective writes as ops, its read counts,
    crashes and partitions enabled as the faults need, bounds large enough for one run, appends of
    any batch size (a member catching up may commit part of the leader's log first), and the
    election options of the etcd that recorded it (`ETCD_3_4`: the packaged 3.4, pre-vote off,
    CheckQuorum on)."""
    by_ref = {o.ref: o for o in history.ops}
    ops = [by_ref[r] for r in order]
    writes = tuple(o.op for o in ops if o.op.kind != "read")
    kinds = {f.kind for f in history.faults}
    terms = 20 + 20 * len(history.faults) + 2 * len(ops)  # elections: at most a few per fault and op
    return RaftConfig(
        servers=history.members, names=tuple(history.name(i) for i in range(history.members)),
        ops=writes, max_term=terms, max_log=len(writes) + terms + 1, history=True,
        reads=sum(o.op.mode == "linearizable" for o in ops),
        serial_reads=sum(o.op.mode == "serializable" for o in ops),
        max_down=history.members - 1 if "kill" in kinds else 0, partitions="isolate" in kinds, batch=True,
        **ETCD_3_4)


class _Builder:
    """Drives the model through the timeline; every step must be enabled."""

    def __init__(self, config: RaftConfig, history: RealHistory, order: tuple[str, ...]) -> None:
        self.cfg = config
        self.st = initial_state(config)
        self.steps: list[RaftAction] = []
        self.paused: set[int] = set()
        self.leader = NONE
        by_ref = {o.ref: o for o in history.ops}
        self.faults = _faults(history)
        self.start = min([o.call for o in history.ops] + [f.time for f in history.faults], default=0.0)
        writes = [by_ref[r] for r in order if by_ref[r].op.kind != "read"]
        self.write_id = {o.ref: n for n, o in enumerate(writes, 1)}
        serial = [by_ref[r] for r in order if by_ref[r].op.mode == "serializable"]
        self.range = _ranges([o.op for o in writes], serial)
        self.ops = _sequence([by_ref[r] for r in order], self.range)
        self.pos = 0
        self.when = 0.0

    # --- stepping ---------------------------------------------------------------------------------
    def do(self, action: RaftAction) -> None:
        """Take an action, which must be enabled."""
        if action not in actions(self.cfg, self.st):
            raise NoWitness(f"the model does not allow '{describe(self.cfg, action)}' here")
        self.st = step(self.cfg, self.st, action)
        self.steps.append(action)

    def check_invariants(self) -> None:
        """The Raft invariants on the current state (after each operation and fault: the ghost
        variables they read keep what happened in between)."""
        broken = first_failure(self.cfg, self.st, INVARIANTS)
        if broken is not None:
            raise NoWitness(f"the model's own invariant {broken.property} fails: {broken.message}")

    def deliver(self, typ: int, src: int, dst: int) -> bool:
        """Receive the message of this type src→dst if the network has one."""
        for m, _ in self.st.msgs:
            if m[0] == typ and m[1] == src and m[2] == dst:
                self.do(RaftAction("Receive", msg=m))
                return True
        return False

    def clean(self) -> None:
        """Lose every message still in flight (the builder never needs a late one)."""
        for m, count in self.st.msgs:
            for _ in range(count):
                self.do(RaftAction("Drop", msg=m))

    # --- who can do what ------------------------------------------------------------------------
    def active(self, s: int) -> bool:
        return self.st.is_up(s) and s not in self.paused

    def linked(self, a: int, b: int) -> bool:
        return self.active(a) and self.active(b) and deliverable(self.st, a, b) and deliverable(self.st, b, a)

    def count(self, s: int) -> int:
        """How many client writes member s has applied (its commit index, no-ops left out)."""
        return sum(1 for _, v in self.st.log[s][:self.st.commit[s]] if v)

    def count_after_heartbeat(self, lead: int, p: int) -> int:
        """p's count once it takes the leader's heartbeat (commit min(Match, commit), `raft.go`
        sendHeartbeat, capped by p's log in handleHeartbeat)."""
        st = self.st
        index = max(st.commit[p], min(st.match[lead][p], st.commit[lead], len(st.log[p])))
        return sum(1 for _, v in st.log[p][:index] if v)

    def cap(self, s: int) -> int:
        """The most writes s may have applied: its next serializable reads' upper bounds."""
        later = [self.range[o.ref][1] for o in self.ops[self.pos:]
                 if o.op.mode == "serializable" and o.member == s]
        return min(later, default=10**9)

    def followers(self, lead: int) -> Iterator[int]:
        """Linked members other than the leader, least constrained first."""
        peers = [p for p in range(self.cfg.servers) if p != lead and self.linked(lead, p)]
        yield from sorted(peers, key=lambda p: -self.cap(p))

    # --- Raft rounds ------------------------------------------------------------------------------
    def _prefix(self, lead: int, most: int | None) -> int:
        """The longest prefix of the leader's log that holds at most `most` client writes."""
        log = self.st.log[lead]
        if most is None:
            return len(log)
        writes = 0
        for i, (_, v) in enumerate(log):
            writes += bool(v)
            if writes > most:
                return i
        return len(log)

    def replicate(self, lead: int, p: int, learn_commit: bool = True, most: int | None = None) -> None:
        """AppendEntries rounds until p has the leader's log and (`learn_commit`) knows the
        leader's commit index; without it, p learns only the commit index the entries came with.
        With `most`, only the longest prefix of the log holding at most that many writes is sent
        (one batch smaller than the rest of the log: etcd bounds a message by MaxSizePerMsg,
        `raft.go` maybeSendAppend), so p commits no further than that prefix (`log.go`
        maybeAppend: commit min(leaderCommit, last new index)) — a member that comes back
        behind a leader that has moved on and serves a serializable read while it catches up."""
        for _ in range(len(self.st.log[lead]) + 3):
            st = self.st
            target = self._prefix(lead, most)
            if st.match[lead][p] >= target and (
                    not learn_commit or st.commit[p] >= min(st.commit[lead], target, len(st.log[p]))):
                return
            rest = target - (st.next[lead][p] - 1)
            if rest < 0:
                raise NoWitness(f"{self.cfg.name(lead)} has sent {self.cfg.name(p)} more than it may apply")
            self.do(RaftAction("SendAppend", lead, p, rest))
            if not (self.deliver(AE, lead, p) and self.deliver(AER, p, lead)):
                raise NoWitness(f"AppendEntries {self.cfg.name(lead)}→{self.cfg.name(p)} went unanswered")
            if self.st.role[lead] != LEADER:
                raise NoWitness(f"{self.cfg.name(lead)} lost its leadership to {self.cfg.name(p)}")
        raise NoWitness(f"{self.cfg.name(p)} did not catch up with {self.cfg.name(lead)}")

    def commit(self, lead: int) -> None:
        """Replicate the leader's last entry to a quorum (followers whose bound allows it)."""
        need = self.cfg.quorum_size - 1
        for p in self.followers(lead):
            if need and self.cap(p) >= self.count(lead):
                self.replicate(lead, p, learn_commit=False)
                need -= 1
        self.clean()
        if self.st.commit[lead] != len(self.st.log[lead]):
            ups = [self.cfg.name(s) for s in range(self.cfg.servers) if self.linked(lead, s) or s == lead]
            raise NoWitness(f"no quorum to commit at {self.cfg.name(lead)}: only {', '.join(ups)} can take part")

    def catch_up(self, lead: int) -> None:
        """Bring every linked follower up to the leader's commit where its bound allows."""
        for p in self.followers(lead):
            if self.cap(p) >= self.count(lead):
                self.replicate(lead, p)
        self.clean()

    def _votes_for(self, c: int) -> int:
        """How many members would vote for c now: itself and the linked ones whose log is not
        more up to date (`log.go` isUpToDate)."""
        d = Draft(self.cfg, self.st)
        last = len(self.st.log[c])
        last_term = self.st.log[c][-1][0] if last else 0
        return 1 + sum(1 for p in range(self.cfg.servers)
                       if p != c and self.linked(c, p) and up_to_date(d, p, last, last_term))

    def can_lead(self, s: int) -> bool:
        """s is a leader with a quorum of linked members."""
        return self.st.role[s] == LEADER and self.active(s) and \
            1 + sum(self.linked(s, p) for p in range(self.cfg.servers) if p != s) >= self.cfg.quorum_size

    def elect(self, need: int) -> int:
        """A leader that can commit and may apply `need` writes (its next serializable reads
        allow it): the current one if it qualifies, else the winner of an election among the
        members that can win one, those whose reads allow `need` first."""
        lead = self.leader
        if lead != NONE and self.can_lead(lead) and self.cap(lead) >= need:
            return lead
        cands = [c for c in range(self.cfg.servers) if self.active(c) and self._votes_for(c) >= self.cfg.quorum_size
                 and (self.st.role[c] != LEADER or self.can_lead(c))]
        if lead != NONE and self.can_lead(lead) and not any(self.cap(c) >= need for c in cands):
            return lead
        if not cands:
            raise NoWitness("no member can win an election: " + self._members())
        c = max(cands, key=lambda s: (self.cap(s) >= need, self.st.role[s] == LEADER, self.cap(s), -s))
        voters = [p for p in range(self.cfg.servers) if p != c and self.linked(c, p)]
        if self.st.role[c] == LEADER:
            self.leader = c  # a leader that was paused or cut off and is back: still the leader
            self.catch_up(c)
            return c
        while self.st.term[c] + 1 <= max(self.st.term[p] for p in voters):
            self.do(RaftAction("Timeout", c))
            self.clean()
        self.do(RaftAction("Timeout", c))
        for p in voters:
            if self.deliver(RV, c, p):
                self.deliver(RVR, p, c)
        self.clean()
        if self.st.role[c] != LEADER:
            raise NoWitness(f"{self.cfg.name(c)} was not elected: " + self._members())
        self.leader = c
        self.commit(c)
        self.catch_up(c)
        return c

    def _members(self) -> str:
        st = self.st
        return "; ".join(
            f"{self.cfg.name(s)} {'down' if not st.is_up(s) else 'paused' if s in self.paused else st.role[s]}"
            f" term {st.term[s]} log {len(st.log[s])} commit {st.commit[s]}" + (" cut off" if st.cut >> s & 1 else "")
            for s in range(self.cfg.servers))

    # --- the observable steps ---------------------------------------------------------------------
    def answer(self, ref: tuple[str, int], real: RealOp) -> None:
        """The model's answer to `ref` must be etcd's."""
        got = [res for kind, r, res in self.st.history if kind == "ret" and r == ref]
        if not got or got[-1] != real.result:
            raise NoWitness(f"{real.ref} {real.op}: the model answers {got[-1] if got else 'nothing'}, "
                            f"etcd answered {real.result}")

    def write(self, real: RealOp) -> None:
        lead = self.elect(max(map(self.count, range(self.cfg.servers))) + 1)
        op = self.write_id[real.ref]
        self.do(RaftAction("ClientWrite", lead, arg=op))
        self.commit(lead)
        if real.ret is not None:
            acks = [a for a in actions(self.cfg, self.st) if a.kind == "ClientAck" and a.arg == op]
            if not acks:
                raise NoWitness(f"{real.ref} {real.op} was acknowledged; no member of the model can")
            self.do(acks[0])
            self.answer(("w", op), real)
        self.catch_up(lead)

    def _read_number(self) -> int:
        return 1 + sum(1 for kind, ref, _ in self.st.history if kind == "call" and ref[0] == "r")

    def linearizable_read(self, real: RealOp) -> None:
        lead = self.elect(max(map(self.count, range(self.cfg.servers))))
        n, key = self._read_number(), self.cfg.read_keys.index(real.op.key)
        self.do(RaftAction("ReadIndex", lead, arg=key))
        need = self.cfg.quorum_size - 1
        for p in self.followers(lead):
            if need and self.cap(p) >= self.count_after_heartbeat(lead, p) and self.deliver(HB, lead, p) \
                    and self.deliver(HBR, p, lead):
                need -= 1
        self.do(RaftAction("ReadServe", lead))
        self.clean()
        self.answer(("r", n), real)

    def serializable_read(self, real: RealOp) -> None:
        s, (lo, hi) = real.member, self.range[real.ref]
        if self.count(s) < lo and self.leader != NONE and self.linked(self.leader, s):
            self.replicate(self.leader, s, most=hi)
            self.clean()
        if not lo <= self.count(s) <= hi:
            raise NoWitness(f"{real.ref} {real.op} at {self.cfg.name(s)} returned the state after {lo}..{hi} "
                            f"writes; the model's {self.cfg.name(s)} has applied {self.count(s)}: " + self._members())
        n = self._read_number()
        self.do(RaftAction("ReadSerializable", s, arg=self.cfg.read_keys.index(real.op.key)))
        self.answer(("r", n), real)

    def fault(self, f: Fault) -> None:
        kind, s = f.kind, f.member
        if kind == "kill":
            self.paused.discard(s)
            self.do(RaftAction("Crash", s))
        elif kind == "restart":
            self.do(RaftAction("Recover", s))
        elif kind == "pause":
            self.paused.add(s)
        elif kind == "resume":
            self.paused.discard(s)
        elif kind == "isolate":
            if self.st.cut:
                raise NoWitness("the model cuts off one member at a time")
            self.do(RaftAction("Isolate", s))
        elif self.st.cut:
            self.do(RaftAction("Heal"))
        self.clean()

    def snapshot(self) -> tuple[RaftState, int, set[int], int]:
        """What `restore` needs to undo an attempt."""
        return (self.st, len(self.steps), set(self.paused), self.leader)

    def restore(self, snap: tuple[RaftState, int, set[int], int]) -> None:
        """Back to a snapshot: the attempt's steps are forgotten."""
        self.st, n, self.paused, self.leader = snap
        del self.steps[n:]

    def operation(self, real: RealOp) -> None:
        if real.op.kind != "read":
            self.write(real)
        elif real.op.mode == "serializable":
            self.serializable_read(real)
        else:
            self.linearizable_read(real)

    def run(self) -> None:
        """Operations in linearization order at the earliest point each can take effect: after
        the faults issued before it, and, if the model cannot do it there, after further faults
        issued before it returned (a write that waits for a restart)."""
        f = 0
        for pos, real in enumerate(self.ops):
            self.pos = pos
            self.when = max(self.when, real.call)
            while True:
                while f < len(self.faults) and _at(self.faults[f]) <= self.when:
                    self.fault(self.faults[f])
                    self.check_invariants()
                    f += 1
                if real.ret is not None and self.when > real.ret:
                    raise NoWitness(f"{real.ref} {real.op} would have to take effect after it returned")
                snap = self.snapshot()
                try:
                    self.operation(real)
                    self.check_invariants()
                    break
                except NoWitness:
                    later = f < len(self.faults) and (real.ret is None or _at(self.faults[f]) <= real.ret)
                    if not later:
                        raise
                    self.restore(snap)
                    self.when = _at(self.faults[f])
        for fault in self.faults[f:]:
            self.fault(fault)


def validate(history: RealHistory, checked: HistoryCheck) -> TraceValidation:
    """Build a model run with the history's observable outcome (see the module docstring)."""
    real = tuple(history.lines())
    if not checked.serializable_ok:
        return TraceValidation(False, "the history is not linearizable: no order to map",
                               RaftConfig(servers=history.members, **ETCD_3_4), (), real)
    config = configure(history, checked.full_order)
    try:
        builder = _Builder(config, history, checked.full_order)
    except NoWitness as e:
        return TraceValidation(False, str(e), config, (), real)
    try:
        builder.run()
    except NoWitness as e:
        return TraceValidation(False, f"{e} (at {builder.when - builder.start:.3f}s)", config,
                               tuple(builder.steps), real)
    return TraceValidation(True, f"a model run of {len(builder.steps)} steps has the real outcome",
                           config, tuple(builder.steps), real)


def witness_state(result: TraceValidation) -> RaftState:
    """The model state at the end of a witness (for checks and claims on it)."""
    st = initial_state(result.config)
    for a in result.steps:
        st = step(result.config, st, a)
    return st


__all__ = ["NoWitness", "TraceValidation", "configure", "validate", "witness_state"]
