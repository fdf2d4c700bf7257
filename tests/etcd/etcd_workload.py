"""Recording histories against a real cluster: concurrent clients, a nemesis that injects faults
on a schedule, and a final read of every key once every fault is undone.

Each client is a thread with its own connection to one member and its own seeded random choices
(put, compare-and-swap on the mod_revision it last saw, linearizable read, serializable read);
every loop is bounded in operations and in time. A write whose answer never came is recorded as
pending; a read that failed is left out (it changed nothing); a request that could not even
connect is left out too (it never reached etcd).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from etcd_client import ClientError, GatewayClient
from etcd_harness import EtcdCluster, bounded

from kubeprop.model.raft.kv import Op
from kubeprop.properties.etcd_histories import Fault, FaultKind, RealHistory, RealOp

MIX = (("put", 3), ("cas", 2), ("linearizable", 3), ("serializable", 2))
"""Operation weights of a client."""


@dataclass(frozen=True)
class Step:
    """A scheduled fault: at `at` seconds into the run, `kind` on `target` — a member index,
    "leader" / "follower" (resolved when it fires) or "same" (the previous step's member)."""

    at: float
    kind: FaultKind
    target: int | str


class Recorder:
    """The thread-safe list of operations and faults of one run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ops: list[RealOp] = []
        self.faults: list[Fault] = []

    def op(self, client: GatewayClient, ref: str, op: Op, member: int) -> RealOp | None:
        """Run one operation, record it, return the record (None if left out)."""
        call = time.monotonic()
        try:
            result = client.run(op)
        except ClientError as e:
            if op.kind == "read" or "ConnectionRefused" in str(e) or "FileNotFound" in str(e):
                return None
            rec = RealOp(ref, op, member, call, note=str(e)[:80])
        else:
            rec = RealOp(ref, op, member, call, time.monotonic(), result)
        with self.lock:
            self.ops.append(rec)
        return rec

    def history(self, label: str, members: int) -> RealHistory:
        with self.lock:
            return RealHistory(label, members, tuple(self.ops), tuple(self.faults))


def leader_index(cluster: EtcdCluster, timeout: float = 5.0) -> int:
    """The member every reachable member names as leader (bounded wait), or -1."""
    found = [-1]

    def probe() -> bool:
        ids: dict[str, int] = {}
        leaders = set()
        for i, m in enumerate(cluster.members):
            if m.proc is None or m.paused:
                continue
            try:
                with cluster.client(i, 0.5) as c:
                    me, lead, _ = c.status()
            except ClientError:
                continue
            ids[me] = i
            leaders.add(lead)
        if len(leaders) == 1 and (lead := leaders.pop()) in ids:
            found[0] = ids[lead]
            return True
        return False

    bounded(time.monotonic() + timeout, probe, 0.1)
    return found[0]


def _client_loop(cluster: EtcdCluster, rec: Recorder, index: int, member: int, keys: Sequence[str],
                 seed: int, deadline: float, max_ops: int, timeout: float) -> None:
    rng = random.Random(seed * 1000 + index)
    seen: dict[str, int] = dict.fromkeys(keys, 0)
    kinds, weights = zip(*MIX, strict=True)
    with cluster.client(member, timeout) as client:
        for n in range(max_ops):
            if time.monotonic() > deadline:
                break
            key, kind = rng.choice(keys), rng.choices(kinds, weights)[0]
            ref = f"c{index}.{n}"
            value = f"{ref}"
            if kind in ("linearizable", "serializable"):
                op = Op("read", key, mode=kind)
            elif kind == "cas":
                op = Op("cas", key, value, expect=seen[key])
            else:
                op = Op("put", key, value)
            got = rec.op(client, ref, op, member)
            if got is None or got.result is None:
                time.sleep(0.05)
            elif op.kind == "read" or got.result[0] == "ok":
                seen[key] = got.result[1]
            time.sleep(rng.uniform(0.0, 0.04))


def _nemesis(cluster: EtcdCluster, rec: Recorder, schedule: Sequence[Step], start: float) -> None:
    previous = -1
    for s in schedule:
        time.sleep(max(0.0, start + s.at - time.monotonic()))
        target = previous if s.target == "same" else s.target
        if target in ("leader", "follower"):
            lead = leader_index(cluster, 3.0)
            others = [i for i, m in enumerate(cluster.members) if i != lead and m.proc is not None]
            target = lead if target == "leader" else others[0]
        if not isinstance(target, int) or target < 0:
            continue
        previous = target
        issued = time.monotonic()
        getattr(cluster, s.kind)(target)
        with rec.lock:
            rec.faults.append(Fault(s.kind, target, issued, time.monotonic()))


def undo_faults(cluster: EtcdCluster, rec: Recorder) -> None:
    """Resume, heal and restart every member a fault left out, and wait until all are ready."""
    for i, m in enumerate(cluster.members):
        undo: list[FaultKind] = []
        if m.paused:
            undo.append("resume")
        if m.isolated:
            undo.append("heal")
        if m.proc is None:
            undo.append("restart")
        for kind in undo:
            issued = time.monotonic()
            getattr(cluster, kind)(i)
            rec.faults.append(Fault(kind, i, issued, time.monotonic()))
    cluster.wait_ready(list(range(len(cluster.members))))


def record(cluster: EtcdCluster, label: str, seed: int, schedule: Sequence[Step] = (), duration: float = 3.0,
           clients: int = 3, keys: Sequence[str] = ("x", "y"), max_ops: int = 200, timeout: float = 1.0) -> RealHistory:
    """Run `clients` clients (client i talks to member i mod n) for at most `duration` seconds and
    `max_ops` operations each while the nemesis follows `schedule`; then undo the faults and read
    every key with linearizable reads."""
    rec = Recorder()
    start = time.monotonic()
    deadline = start + duration
    n = len(cluster.members)
    threads = [threading.Thread(target=_client_loop, args=(cluster, rec, i, i % n, keys, seed, deadline,
                                                           max_ops, timeout), daemon=True) for i in range(clients)]
    threads.append(threading.Thread(target=_nemesis, args=(cluster, rec, schedule, start), daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + timeout + 15)
        if t.is_alive():
            raise RuntimeError("a client or the nemesis did not finish in time")
    undo_faults(cluster, rec)
    with cluster.client(0, 5.0) as final:
        for k, key in enumerate(keys):
            if not bounded(time.monotonic() + 15, lambda k=k, key=key: rec.op(  # type: ignore[misc]
                    final, f"final.{k}", Op("read", key, mode="linearizable"), 0) is not None, 0.2):
                raise RuntimeError(f"the final read of {key} failed for 15s")
    return rec.history(label, n)
