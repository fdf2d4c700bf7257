"""A small linearizability checker for key-value histories (Wing & Gong style backtracking).

A history is a sequence of call and return events; an operation without a return is pending (it
may or may not have taken effect). The history is linearizable when the completed operations —
plus any subset of the pending ones — can be put in one order that respects real time (an
operation that returned before another was called comes first) and in which every result is what
the sequential store (`kubeprop.model.raft.kv.apply_op`) returns. The search tries each
operation that may come next, applies it, and backtracks on a wrong result; failed
(remaining operations, store) pairs are memoised. Exponential in the worst case, fine for the
handful of operations a model history holds, and for the tens of operations of a real etcd
history (`kubeprop.properties.etcd_histories`), whose clients overlap little.

Serializable reads promise no recency: where they are included (`operations(...,
include_serializable=True)`), such a read may return the key's value in any state the order has
passed through up to its place, not only the current one; `stale_reads` then says, for each, how
many revisions it was behind what had been acknowledged before it was called.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import lru_cache

import attrs

from kubeprop.model.raft.kv import Op, Result, Store, apply_op


@attrs.frozen
class Operation:
    """One client operation of a history: its call and return positions (ret None = pending)."""

    ref: Hashable
    op: Op
    call: int
    ret: int | None = None
    result: Result | None = None


def operations(history: Sequence[tuple[str, Hashable, object]], include_serializable: bool = False
               ) -> tuple[Operation, ...]:
    """The operations of a call/return event history (events `("call", ref, Op)` and
    `("ret", ref, result)`); serializable reads are left out unless asked for, since they promise
    no recency."""
    calls: dict[Hashable, tuple[int, Op]] = {}
    rets: dict[Hashable, tuple[int, Result]] = {}
    for pos, (kind, ref, payload) in enumerate(history):
        if kind == "call" and isinstance(payload, Op):
            calls[ref] = (pos, payload)
        elif kind == "ret":
            rets[ref] = (pos, payload)  # type: ignore[assignment]
    out = []
    for ref, (pos, op) in calls.items():
        if op.kind == "read" and op.mode == "serializable" and not include_serializable:
            continue
        ret = rets.get(ref)
        out.append(Operation(ref, op, pos, ret[0] if ret else None, ret[1] if ret else None))
    return tuple(out)


def _serializable(op: Op) -> bool:
    return op.kind == "read" and op.mode == "serializable"


Past = frozenset[tuple[str, Result]]
"""Every (key, value-and-mod_revision) some state so far had: what a serializable read may return."""


def _seen(store: Store, keys: Sequence[str]) -> Past:
    return frozenset((k, store.get(k)) for k in keys)


def linearize(ops: Sequence[Operation], initial: Store = Store()) -> tuple[Hashable, ...] | None:
    """An order of operations (their refs) witnessing linearizability, or None if there is none.
    Pending operations appear in the order only when they must have taken effect. A serializable
    read may return any value its key had in a state up to its place in the order."""
    ops = tuple(ops)
    keys = sorted({o.op.key for o in ops})
    stale_ok = any(_serializable(o.op) for o in ops)
    failed: set[tuple[frozenset[int], Store, Past]] = set()

    def search(remaining: frozenset[int], store: Store, past: Past) -> list[int] | None:
        if all(ops[i].ret is None for i in remaining):
            return []
        if (remaining, store, past) in failed:
            return None
        for i in sorted(remaining):
            call = ops[i].call
            if any(ops[j].ret is not None and ops[j].ret < call for j in remaining):  # type: ignore[operator]
                continue
            new, res = apply_op(store, ops[i].op)
            if ops[i].ret is not None and res != ops[i].result and not (
                    _serializable(ops[i].op) and (ops[i].op.key, ops[i].result) in past):
                continue
            rest = search(remaining - {i}, new, past | _seen(new, keys) if stale_ok else past)
            if rest is not None:
                return [i, *rest]
        failed.add((remaining, store, past))
        return None

    order = search(frozenset(range(len(ops))), initial, _seen(initial, keys) if stale_ok else frozenset())
    return None if order is None else tuple(ops[i].ref for i in order)


@attrs.frozen
class StaleRead:
    """A serializable read that returned an older value than the acknowledged writes before it
    had made current: `behind` revisions (the newest revision acknowledged before the read was
    called minus the last revision at which the value read was still current), and the write
    that replaced the value read."""

    ref: Hashable
    op: Op
    result: Result
    behind: int
    replaced_by: Hashable


def stale_reads(ops: Sequence[Operation], order: Sequence[Hashable], initial: Store = Store()
                ) -> tuple[StaleRead, ...]:
    """The serializable reads of `ops` that were stale under the witness `order` (from
    `linearize` over the same operations), with how stale."""
    by_ref = {o.ref: o for o in ops}
    store = initial
    replaced: dict[tuple[str, Result], tuple[Hashable, int]] = {}
    for ref in order:  # the write that replaced each (key, result) the order passes through
        op = by_ref[ref]
        new, _ = apply_op(store, op.op)
        if new != store:
            replaced.setdefault((op.op.key, store.get(op.op.key)), (ref, new.get(op.op.key)[1]))
        store = new
    out = []
    for o in ops:
        if not _serializable(o.op) or o.ret is None or o.result is None:
            continue
        acked = max((w.result[1] for w in ops if w.op.kind != "read" and w.ret is not None
                     and w.result is not None and w.ret < o.call), default=initial.revision)
        successor = replaced.get((o.op.key, o.result))
        if successor is not None and successor[1] - 1 < acked:
            out.append(StaleRead(o.ref, o.op, o.result, acked - (successor[1] - 1), successor[0]))
    return tuple(out)


@lru_cache(maxsize=200_000)
def check_history(history: tuple[tuple[str, Hashable, object], ...]) -> str | None:
    """None when the history (serializable reads left out) is linearizable, else a sentence
    naming the operations. Memoised: model states share histories."""
    ops = operations(history)
    if linearize(ops) is not None:
        return None
    shown = "; ".join(
        f"{op.op} → {op.result if op.ret is not None else 'pending'} [call@{op.call}"
        f"{'' if op.ret is None else f', ret@{op.ret}'}]" for op in ops)
    return f"no order of the operations respects real time and the store's results: {shown}"
