"""The seed's etcd claims (docs/claims.md §2, §6) on a real three-member etcd, each next to the
Raft model's verdict on the same situation.

1. "Write → all replicas updated (before write completes)" / "3/3 nodes have data": wrong. With
   etcd-1 killed, a write through etcd-2 is acknowledged by 2 of 3 members; the model reaches
   the same acknowledgement (goal WriteAcked with etcd-1 down) and, in the model run that
   reproduces the real one, refutes the claim AllReplicasBeforeAck.
2. "Read from any node returns latest data": wrong for serializable reads. A follower cut off
   from its peers answers a serializable read with the value it had before an acknowledged write;
   the model allows that read (a shortest run to it is found) and the real run is a model run.
3. "Master-2 + etcd-2 crash → still functional": wrong. With two of three members killed, no
   write is acknowledged; the model's exhaustive search finds no acknowledged write either.
"""

from __future__ import annotations

import time

from etcd_client import ClientError
from etcd_harness import EtcdCluster, bounded
from etcd_workload import Recorder, leader_index, undo_faults

from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import ETCD_3_4, RaftConfig, RaftState
from kubeprop.model.raft.system import initial_state, successors
from kubeprop.properties.etcd_histories import Fault, FaultKind, RealHistory, check
from kubeprop.properties.etcd_trace import TraceValidation, validate, witness_state
from kubeprop.properties.explore.bfs import Bounds, search
from kubeprop.properties.explore.raft import explore
from kubeprop.properties.raft import first_failure, select_checks

KEY = "/registry/deployments/default/feastflow-backend"


def _fault(cluster: EtcdCluster, rec: Recorder, kind: FaultKind, member: int) -> None:
    issued = time.monotonic()
    getattr(cluster, kind)(member)
    rec.faults.append(Fault(kind, member, issued, time.monotonic()))


def _checked(rec: Recorder, label: str) -> tuple[RealHistory, TraceValidation]:
    history = rec.history(label, 3)
    checked = check(history)
    assert checked.linearizable and checked.serializable_ok, "\n".join(history.lines())
    result = validate(history, checked)
    assert result.ok, result.report()
    return history, result


def _acked_write(cluster: EtcdCluster, rec: Recorder, member: int, value: str, seconds: float) -> bool:
    """Put KEY=value through `member`, retrying (bounded) while a leader is being elected."""
    with cluster.client(member, 1.0) as c:
        tries = iter(range(100))
        return bounded(time.monotonic() + seconds, lambda: (got := rec.op(
            c, f"w{value}.{next(tries)}", Op("put", KEY, value), member)) is not None and got.ret is not None, 0.2)


def test_a_write_is_acknowledged_by_two_of_three(cluster: EtcdCluster) -> None:
    rec = Recorder()
    _fault(cluster, rec, "kill", 0)  # etcd-1 crashes (seed §2: "Node 1 crashes")
    assert _acked_write(cluster, rec, 1, "replicas=5", 10.0), "no write acknowledged in 10 s with 2 of 3 up"
    assert cluster.members[0].proc is None  # etcd-1 was down for the whole write
    undo_faults(cluster, rec)
    with cluster.client(0) as c:  # it catches up after its restart
        assert bounded(time.monotonic() + 10, lambda: c.read(KEY, serializable=True)[0] == "replicas=5", 0.2)
        rec.op(c, "final", Op("read", KEY, mode="linearizable"), 0)
    _, result = _checked(rec, "write with etcd-1 down")
    # the model's verdicts: the acknowledgement is reachable with etcd-1 down, and in the model
    # run of this very history the seed's claim "all replicas before the ack" fails
    model = explore(RaftConfig(initially_down=frozenset({0}), max_term=1, max_log=2, history=True, **ETCD_3_4),
                    select_checks(["WriteAcked"]))
    assert model.result.violation is not None and model.result.violation.property == "WriteAcked"
    state = _state_at_first_ack(result)
    claim = first_failure(result.config, state, select_checks(["AllReplicasBeforeAck"]))
    assert claim is not None and "etcd-1 did not have it" in claim.message


def _state_at_first_ack(result: TraceValidation) -> RaftState:
    """The witness state right after its first ClientAck."""
    first = next(n for n, a in enumerate(result.steps, 1) if a.kind == "ClientAck")
    prefix = TraceValidation(True, "", result.config, result.steps[:first], result.real)
    return witness_state(prefix)


def _stale_serializable(cfg: RaftConfig, st: RaftState) -> str | None:
    """A serializable read returned less than a write acknowledged before the read was called."""
    acked = [k for k, (kind, ref, _) in enumerate(st.history) if kind == "ret" and ref[0] == "w"]
    for k, (kind, _, op) in enumerate(st.history):
        if acked and k > acked[0] and kind == "call" and isinstance(op, Op) and op.mode == "serializable" \
                and st.history[k + 1][2] == ("", 0):
            return f"a serializable read after the acknowledged write returned nothing (event {k})"
    return None


def test_a_serializable_read_from_a_cut_off_follower_is_stale(netns_cluster: EtcdCluster) -> None:
    c, rec = netns_cluster, Recorder()
    lead = leader_index(c)
    follower = (lead + 1) % 3
    with c.client(lead) as w, c.client(follower, 1.0) as r:
        rec.op(w, "w1", Op("put", KEY, "replicas=3"), lead)
        assert bounded(time.monotonic() + 5, lambda: r.read(KEY, serializable=True)[0] == "replicas=3", 0.05)
        rec.op(r, "r1", Op("read", KEY, mode="serializable"), follower)
        _fault(c, rec, "isolate", follower)
        assert (acked := rec.op(w, "w2", Op("put", KEY, "replicas=5"), lead)) is not None and acked.ret is not None
        stale = rec.op(r, "r2", Op("read", KEY, mode="serializable"), follower)
        assert stale is not None and stale.result is not None and stale.result[0] == "replicas=3"
        try:
            r.read(KEY, serializable=False)
            raise AssertionError("a linearizable read at the cut-off follower answered")
        except ClientError:
            pass
    undo_faults(c, rec)
    with c.client(follower, 5.0) as r:
        rec.op(r, "final", Op("read", KEY, mode="linearizable"), follower)
    history, _ = _checked(rec, "serializable read at a cut-off follower")
    report = check(history)
    assert [(s.read.ref, s.read.behind) for s in report.stale] == [("r2", 1)]
    cfg = RaftConfig(max_term=1, max_log=2, history=True, serial_reads=1, **ETCD_3_4)
    model = search(initial_state(cfg), successors(cfg), lambda st: _stale_serializable(cfg, st), Bounds(max_depth=12))
    assert model.violation is not None  # the model allows the stale read too


def test_no_write_is_acknowledged_with_two_of_three_down(cluster: EtcdCluster) -> None:
    rec = Recorder()
    with cluster.client(2) as c:
        rec.op(c, "w0", Op("put", KEY, "replicas=3"), 2)
    _fault(cluster, rec, "kill", 0)
    _fault(cluster, rec, "kill", 1)  # "Master-2 + etcd-2 crash"
    with cluster.client(2, 1.0) as c:
        attempts = [rec.op(c, f"w{n}", Op("put", KEY, f"replicas={n + 4}"), 2) for n in range(1, 4)]
        survivor = rec.op(c, "r0", Op("read", KEY, mode="serializable"), 2)
    assert all(a is None or a.ret is None for a in attempts), attempts
    assert survivor is not None and survivor.result is not None and survivor.result[0] == "replicas=3"
    undo_faults(cluster, rec)
    with cluster.client(2, 5.0) as c:
        rec.op(c, "final", Op("read", KEY, mode="linearizable"), 2)
    _checked(rec, "writes with etcd-1 and etcd-2 down")
    model = explore(RaftConfig(initially_down=frozenset({0, 1}), max_term=2, max_log=2, history=True,
                               serial_reads=1, **ETCD_3_4), select_checks(["WriteAcked"]))
    assert model.result.exit_reason == "exhausted" and model.result.violation is None
