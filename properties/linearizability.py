"""A small linearizability checker for key-value histories (Wing & Gong style backtracking).

A history is a sequence of call and return events; an operation without a return is pending (it
may or may not have taken effect). The history is linearizable when the completed operations —
plus any subset of the pending ones — can be put in one order that respects real time (an
operation that returned before another was called comes first) and in which every result is what
the sequential store (`kubeprop.model.raft.kv.apply_op`) returns. The search tries each
operation that may come next, applies it, and backtracks on a wrong result; failed
(remaining operations, store) pairs are memoised. Exponential in the worst case, fine for the
handful of operations a model history holds.
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


def linearize(ops: Sequence[Operation], initial: Store = Store()) -> tuple[Hashable, ...] | None:
    """An order of operations (their refs) witnessing linearizability, or None if there is none.
    Pending operations appear in the order only when they must have taken effect."""
    ops = tuple(ops)
    failed: set[tuple[frozenset[int], Store]] = set()

    def search(remaining: frozenset[int], store: Store) -> list[int] | None:
        if all(ops[i].ret is None for i in remaining):
            return []
        if (remaining, store) in failed:
            return None
        for i in sorted(remaining):
            call = ops[i].call
            if any(ops[j].ret is not None and ops[j].ret < call for j in remaining):  # type: ignore[operator]
                continue
            new, res = apply_op(store, ops[i].op)
            if ops[i].ret is not None and res != ops[i].result:
                continue
            rest = search(remaining - {i}, new)
            if rest is not None:
                return [i, *rest]
        failed.add((remaining, store))
        return None

    order = search(frozenset(range(len(ops))), initial)
    return None if order is None else tuple(ops[i].ref for i in order)


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
