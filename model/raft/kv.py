"""The key-value state machine that the Raft log feeds, and the client operations on it.

etcd applies committed log entries to its MVCC store (`server/storage/mvcc/kvstore_txn.go`, ≈):
every successful write transaction raises the store revision by one and stamps the key with
`mod_revision`; a compare-and-swap is a `Txn` whose `If(mod_revision(key) == r)` guard decides
whether the write happens (a failed compare leaves the revision unchanged). Empty entries (the
no-op a new leader appends, `etcd-io/raft` `raft.go` `becomeLeader`) change nothing.

The same `apply_op` is the sequential specification used by the linearizability checker
(`kubeprop.properties.linearizability`), so "what the cluster computes" and "what a correct
single copy would have computed" cannot drift apart.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import attrs

OpKind = Literal["put", "cas", "read"]
KV = tuple[tuple[str, str, int], ...]
"""A store snapshot: sorted (key, value, mod_revision) triples."""
Result = tuple[str, int]
"""What an operation returns: a write → ("ok"|"failed", revision); a read → (value, mod_revision),
("", 0) for an absent key."""

INITIAL_REVISION = 1
"""etcd's empty store is at revision 1; the first write makes revision 2."""


@attrs.frozen(order=True)
class Op:
    """A client operation: `put key=value`, `cas key=value if mod_revision(key)==expect`, or a read
    (`mode` "linearizable" — ReadIndex — or "serializable" — local)."""

    kind: OpKind
    key: str
    value: str = ""
    expect: int = 0
    mode: str = ""

    def __str__(self) -> str:
        if self.kind == "put":
            return f"put {self.key}={self.value}"
        if self.kind == "cas":
            return f"cas {self.key}={self.value} if mod_revision={self.expect}"
        return f"read {self.key} ({self.mode})"


@attrs.frozen
class Store:
    """A store state: the revision and the key snapshot."""

    revision: int = INITIAL_REVISION
    kv: KV = ()

    def get(self, key: str) -> Result:
        """(value, mod_revision) of `key`, ("", 0) when absent."""
        for k, v, rev in self.kv:
            if k == key:
                return (v, rev)
        return ("", 0)


def _put(store: Store, key: str, value: str) -> Store:
    rev = store.revision + 1
    kv = tuple(sorted([t for t in store.kv if t[0] != key] + [(key, value, rev)]))
    return Store(rev, kv)


def apply_op(store: Store, op: Op) -> tuple[Store, Result]:
    """Apply one operation to a store: the new store and the operation's result."""
    if op.kind == "read":
        return store, store.get(op.key)
    if op.kind == "cas" and store.get(op.key)[1] != op.expect:
        return store, ("failed", store.revision)
    new = _put(store, op.key, op.value)
    return new, ("ok", new.revision)


@lru_cache(maxsize=65536)
def apply_log(ops: tuple[Op, ...], values: tuple[int, ...]) -> tuple[Store, tuple[tuple[int, Result], ...]]:
    """Apply the entry values of a log prefix (0 = no-op, k = `ops[k-1]`, k < 0 a membership change,
    which the key-value store does not see) in order: the store and
    the result of every write op applied, as (op id, result) pairs."""
    store = Store()
    results: list[tuple[int, Result]] = []
    for v in values:
        if v <= 0:
            continue
        store, res = apply_op(store, ops[v - 1])
        results.append((v, res))
    return store, tuple(results)
