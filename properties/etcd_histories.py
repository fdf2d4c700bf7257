"""Histories recorded against a real etcd cluster, and their linearizability verdict.

A `RealHistory` is what a test run against real etcd members saw: every client operation with the
member it was sent to, its invocation and response times (seconds, one monotonic clock) and its
result in the shapes of `kubeprop.model.raft.kv` (a write → ("ok"|"failed", revision), a read →
(value, mod_revision)); an operation whose response never came (timeout, connection lost, an
error from the server) is pending: it may or may not have taken effect. Faults (`kill`,
`restart`, `pause`, `resume`, `isolate`, `heal`) carry the time they were issued.

`check` orders the call and return events by time and runs the linearizability checker twice:
reads with `linearizable` consistency and all writes must be linearizable; then, with the
serializable reads added, each of those must return a value its key had at some point up to the
read (`linearize` lets them be stale), and `stale_reads` says by how many revisions and seconds.
`kubeprop.properties.etcd_trace` maps the same history onto the Raft model.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Literal

import attrs

from kubeprop.model.raft.kv import Op, Result
from kubeprop.properties.linearizability import Operation, StaleRead, linearize, operations, stale_reads

FaultKind = Literal["kill", "restart", "pause", "resume", "isolate", "heal"]
FAULT_KINDS: tuple[FaultKind, ...] = ("kill", "restart", "pause", "resume", "isolate", "heal")


@attrs.frozen
class RealOp:
    """One client operation as a real client saw it (`ret` None: pending, `note` says why)."""

    ref: str
    op: Op
    member: int
    call: float
    ret: float | None = None
    result: Result | None = None
    note: str = ""


@attrs.frozen
class Fault:
    """A fault injected into member `member` (0-based): the command was issued at `time` and had
    returned at `end` (it took effect somewhere in between)."""

    kind: FaultKind
    member: int
    time: float
    end: float | None = None

    @property
    def restricts(self) -> bool:
        """Whether the fault takes a member away (kill, pause, isolate) rather than giving one back."""
        return self.kind in ("kill", "pause", "isolate")

    @property
    def latest_effect(self) -> float:
        """The last instant by which it had surely taken effect."""
        return self.time if self.end is None else self.end


@attrs.frozen
class RealHistory:
    """A recorded run: its label, the cluster size, the operations and the faults."""

    label: str
    members: int
    ops: tuple[RealOp, ...]
    faults: tuple[Fault, ...] = ()

    def name(self, member: int) -> str:
        """etcd-1 … for member 0 …"""
        return f"etcd-{member + 1}"

    def lines(self) -> list[str]:
        """The run as text, one line per call, return and fault, in time order."""
        start = min([o.call for o in self.ops] + [f.time for f in self.faults], default=0.0)
        rows: list[tuple[float, int, str]] = []
        for o in self.ops:
            rows.append((o.call, 1, f"{o.ref} → {self.name(o.member)}: {o.op}"))
            if o.ret is not None:
                rows.append((o.ret, 0, f"{o.ref} ← {o.result}"))
            elif o.note:
                rows.append((o.call, 2, f"{o.ref} pending ({o.note})"))
        rows.extend((f.time, 1, f"FAULT {f.kind} {self.name(f.member)}"
                     + ("" if f.end is None else f" (done at {f.end - start:.6f}s)")) for f in self.faults)
        return [f"{t - start:10.6f}s  {text}" for t, _, text in sorted(rows)]


def events(history: RealHistory) -> tuple[tuple[str, Hashable, object], ...]:
    """The call/return events of the history ordered by time (a return before a call at the same
    instant), as `kubeprop.properties.linearizability.operations` reads them."""
    rows: list[tuple[float, int, tuple[str, Hashable, object]]] = []
    for o in history.ops:
        rows.append((o.call, 1, ("call", o.ref, o.op)))
        if o.ret is not None:
            rows.append((o.ret, 0, ("ret", o.ref, o.result)))
    return tuple(e for _, _, e in sorted(rows, key=lambda r: (r[0], r[1])))


@attrs.frozen
class StaleReport:
    """A stale serializable read: revisions behind and the seconds between the acknowledgement
    of the write that replaced the value read and the read's call."""

    read: StaleRead
    member: int
    seconds: float


@attrs.frozen
class HistoryCheck:
    """The verdict on one history: `order` (refs) witnesses linearizability of the
    linearizable reads and the writes; `full_order` also places the serializable reads (empty
    with `serializable_ok` False when no place fits them)."""

    linearizable: bool
    serializable_ok: bool
    order: tuple[str, ...]
    full_order: tuple[str, ...]
    stale: tuple[StaleReport, ...]
    counts: dict[str, int] = attrs.field(factory=dict)

    def summary(self) -> str:
        """One line: verdicts, operation counts and the stalest read."""
        parts = [f"{k}={v}" for k, v in sorted(self.counts.items())]
        worst = max(self.stale, key=lambda s: s.read.behind, default=None)
        stale = "none" if worst is None else (
            f"{len(self.stale)} (worst {worst.read.behind} revisions / {worst.seconds:.2f}s behind)")
        return (f"linearizable={self.linearizable} serializable-reads-ok={self.serializable_ok} "
                f"stale-serializable-reads={stale} {' '.join(parts)}")


def _counts(history: RealHistory) -> dict[str, int]:
    out: dict[str, int] = {"ops": len(history.ops), "pending": 0, "faults": len(history.faults)}
    for o in history.ops:
        kind = o.op.kind if o.op.kind != "read" else f"read-{o.op.mode}"
        out[kind] = out.get(kind, 0) + 1
        out["pending"] += o.ret is None
    return out


def check(history: RealHistory) -> HistoryCheck:
    """Linearizability of the linearizable part, then the serializable reads placed and their
    staleness measured."""
    evs = events(history)
    strict = operations(evs)
    order = linearize(strict)
    everything = operations(evs, include_serializable=True)
    full = linearize(everything) if order is not None else None
    stale: tuple[StaleReport, ...] = ()
    if full is not None:
        by_ref = {o.ref: o for o in history.ops}
        stale = tuple(StaleReport(s, by_ref[str(s.ref)].member, _lag(history, s, by_ref))
                      for s in stale_reads(everything, full))
    return HistoryCheck(order is not None, full is not None, tuple(map(str, order or ())),
                        tuple(map(str, full or ())), stale, _counts(history))


def _lag(history: RealHistory, s: StaleRead, by_ref: dict[str, RealOp]) -> float:
    """Seconds from the replacing write's acknowledgement to the read's call (0 if unacked)."""
    write, read = by_ref[str(s.replaced_by)], by_ref[str(s.ref)]
    return 0.0 if write.ret is None else max(0.0, read.call - write.ret)


def linearizable_message(history: RealHistory) -> str:
    """Why the linearizable part has no order, naming every operation (for a failing test)."""
    ops: tuple[Operation, ...] = operations(events(history))
    shown = "; ".join(f"{o.ref} {o.op} → {o.result if o.ret is not None else 'pending'}" for o in ops)
    return f"no order of the operations respects real time and the store's results: {shown}"
