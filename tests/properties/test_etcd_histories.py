"""Checking and trace-validating hand-made etcd histories (no etcd needed): the verdicts can fail,
and fail for the reason given."""

from __future__ import annotations

from kubeprop.model.raft.kv import Op
from kubeprop.properties.etcd_histories import Fault, RealHistory, RealOp, check
from kubeprop.properties.etcd_trace import validate, witness_state
from kubeprop.properties.linearizability import Operation, linearize, stale_reads

PUT1, PUT2 = Op("put", "k", "v1"), Op("put", "k", "v2")
LIN, SER = Op("read", "k", mode="linearizable"), Op("read", "k", mode="serializable")


def _h(*ops: RealOp, faults: tuple[Fault, ...] = ()) -> RealHistory:
    return RealHistory("hand-made", 3, ops, faults)


def test_serializable_reads_may_be_stale_and_say_how_much() -> None:
    ops = [Operation("w1", PUT1, 0, 1, ("ok", 2)), Operation("w2", PUT2, 2, 3, ("ok", 3)),
           Operation("r", SER, 4, 5, ("v1", 2))]
    order = linearize(ops)
    assert order is not None
    [stale] = stale_reads(ops, order)
    assert (stale.ref, stale.behind, stale.replaced_by) == ("r", 1, "w2")
    never = [*ops[:2], Operation("r", SER, 4, 5, ("v9", 7))]
    assert linearize(never) is None


def test_a_serializable_read_cannot_see_a_write_called_after_it_returned() -> None:
    ops = [Operation("r", SER, 0, 1, ("v1", 2)), Operation("w1", PUT1, 2, 3, ("ok", 2))]
    assert linearize(ops) is None


def test_check_separates_linearizable_and_serializable_reads() -> None:
    w1 = RealOp("w1", PUT1, 0, 0.0, 0.1, ("ok", 2))
    w2 = RealOp("w2", PUT2, 0, 0.2, 0.3, ("ok", 3))
    stale_ser = RealOp("r", SER, 1, 0.4, 0.5, ("v1", 2))
    ok = check(_h(w1, w2, stale_ser))
    assert ok.linearizable and ok.serializable_ok and [s.read.behind for s in ok.stale] == [1]
    assert abs(ok.stale[0].seconds - 0.1) < 1e-9
    stale_lin = RealOp("r", LIN, 1, 0.4, 0.5, ("v1", 2))
    assert not check(_h(w1, w2, stale_lin)).linearizable


def test_a_run_within_the_model_has_a_witness() -> None:
    """A write, a stale serializable read at a cut-off member, a pending write that took effect
    (the final read sees it)."""
    history = _h(
        RealOp("w1", PUT1, 0, 0.0, 0.1, ("ok", 2)),
        RealOp("w2", PUT2, 0, 0.3, 0.4, ("ok", 3)),
        RealOp("r1", SER, 2, 0.5, 0.6, ("v1", 2)),
        RealOp("w3", Op("cas", "k", "v3", expect=3), 1, 0.7, note="timed out"),
        RealOp("r2", LIN, 0, 1.5, 1.6, ("v3", 4)),
        faults=(Fault("isolate", 2, 0.2, 0.21), Fault("heal", 2, 1.0, 1.01)))
    checked = check(history)
    result = validate(history, checked)
    assert result.ok, result.report()
    final = witness_state(result)
    assert final.cut == 0 and any(kind == "ret" and ref == ("r", 2) for kind, ref, _ in final.history)


def test_an_ack_without_a_quorum_is_outside_the_model() -> None:
    history = _h(RealOp("w1", PUT1, 2, 1.0, 1.1, ("ok", 2)),
                 faults=(Fault("kill", 0, 0.1, 0.11), Fault("kill", 1, 0.2, 0.21)))
    checked = check(history)
    assert checked.linearizable  # nothing a single history could contradict …
    result = validate(history, checked)
    assert not result.ok and "can win an election" in result.message  # … but Raft cannot ack it
    assert "FAULT kill etcd-2" in result.report()


def test_an_ack_waits_for_a_restart_within_its_interval() -> None:
    history = _h(RealOp("w1", PUT1, 2, 1.0, 3.0, ("ok", 2)),
                 faults=(Fault("kill", 0, 0.1, 0.11), Fault("kill", 1, 0.2, 0.21), Fault("restart", 1, 2.0, 2.01)))
    assert validate(history, check(history)).ok


def test_a_cut_off_member_cannot_read_a_later_write() -> None:
    history = _h(RealOp("w1", PUT1, 0, 0.3, 0.4, ("ok", 2)),
                 RealOp("r1", SER, 2, 0.5, 0.6, ("v1", 2)),
                 faults=(Fault("isolate", 2, 0.1, 0.11),))
    checked = check(history)
    assert checked.linearizable and checked.serializable_ok
    result = validate(history, checked)
    assert not result.ok and "etcd-3" in result.message


def test_a_members_reads_never_go_back() -> None:
    history = _h(RealOp("w1", PUT1, 0, 0.0, 0.1, ("ok", 2)),
                 RealOp("w2", PUT2, 0, 0.2, 0.3, ("ok", 3)),
                 RealOp("r1", SER, 1, 0.4, 0.5, ("v2", 3)),
                 RealOp("r2", SER, 1, 0.6, 0.7, ("v1", 2)))
    checked = check(history)
    assert checked.serializable_ok  # each read alone returns a state the key had …
    assert not validate(history, checked).ok  # … but a member's commit index never decreases


def test_a_read_before_any_write_is_validated_too() -> None:
    """A serializable read that comes first in the order is mapped (and can fail)."""
    early = _h(RealOp("r0", SER, 1, 0.0, 0.1, ("", 0)), RealOp("w1", PUT1, 0, 0.2, 0.3, ("ok", 2)))
    result = validate(early, check(early))
    assert result.ok and sum(a.kind == "ReadSerializable" for a in result.steps) == 1


def test_a_quorum_follower_may_read_one_write_behind() -> None:
    """Regression: with etcd-1 paused, etcd-3 is in every quorum; an AppendEntries brings the
    entry with the *previous* commit index, so etcd-3 may still read the older state after the
    write was acknowledged (the builder used to push the new commit index along)."""
    history = _h(RealOp("w1", PUT1, 1, 0.1, 0.2, ("ok", 2)),
                 RealOp("w2", PUT2, 1, 0.3, 0.4, ("ok", 3)),
                 RealOp("r1", SER, 2, 0.5, 0.6, ("v1", 2)),
                 faults=(Fault("pause", 0, 0.0, 0.01),))
    result = validate(history, check(history))
    assert result.ok, result.report()


def test_serializable_reads_keep_their_real_time_order() -> None:
    """Regression: r1 returned before r2 was called, so r2 may not be placed before r1 even
    though r2's answer was current earlier (a read of the other key)."""
    history = _h(RealOp("w1", Op("put", "x", "a"), 0, 0.0, 0.1, ("ok", 2)),
                 RealOp("w2", Op("put", "y", "b"), 0, 0.2, 0.6, ("ok", 3)),
                 RealOp("r1", Op("read", "y", mode="serializable"), 0, 0.3, 0.31, ("b", 3)),
                 RealOp("r2", Op("read", "x", mode="serializable"), 2, 0.4, 0.41, ("a", 2)))
    result = validate(history, check(history))
    assert result.ok, result.report()


def test_a_resumed_member_may_serve_a_read_while_it_catches_up() -> None:
    """Regression (CI, `tests/etcd` pause-leader): etcd-2 was paused while w2 and w3 were
    acknowledged; resumed, it served a serializable read from the state after w2 only — it had
    received part of the leader's log so far. The builder used to bring a member forward only to
    the leader's whole log, so it found no witness."""
    put3 = Op("put", "k", "v3")
    history = _h(RealOp("w1", PUT1, 0, 0.0, 0.1, ("ok", 2)),
                 RealOp("w2", PUT2, 0, 0.3, 0.4, ("ok", 3)),
                 RealOp("w3", put3, 0, 0.5, 0.6, ("ok", 4)),
                 RealOp("r1", SER, 1, 0.8, 0.9, ("v2", 3)),
                 faults=(Fault("pause", 1, 0.2, 0.21), Fault("resume", 1, 0.7, 0.71)))
    result = validate(history, check(history))
    assert result.ok, result.report()
    assert any(a.kind == "SendAppend" and a.peer == 1 for a in result.steps[-8:])
    too_new = _h(*history.ops[:3], RealOp("r1", SER, 1, 0.8, 0.9, ("v3", 4)), faults=history.faults)
    assert validate(too_new, check(too_new)).ok
