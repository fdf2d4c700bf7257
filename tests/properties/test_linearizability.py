"""The linearizability checker on small hand-written histories."""

from __future__ import annotations

from kubeprop.model.raft.kv import Op
from kubeprop.properties.linearizability import Operation, check_history, linearize, operations

W1 = Op("put", "k", "a")
W2 = Op("put", "k", "b")
R = Op("read", "k", mode="linearizable")
CAS = Op("cas", "k", "c", expect=2)


def test_sequential_history_is_linearizable() -> None:
    ops = [Operation("w1", W1, 0, 1, ("ok", 2)), Operation("r", R, 2, 3, ("a", 2))]
    assert linearize(ops) == ("w1", "r")


def test_stale_read_after_acknowledged_write_is_not() -> None:
    ops = [Operation("w1", W1, 0, 1, ("ok", 2)), Operation("r", R, 2, 3, ("", 0))]
    assert linearize(ops) is None


def test_concurrent_read_may_see_either_value() -> None:
    old = [Operation("w1", W1, 0, 3, ("ok", 2)), Operation("r", R, 1, 2, ("", 0))]
    new = [Operation("w1", W1, 0, 3, ("ok", 2)), Operation("r", R, 1, 2, ("a", 2))]
    assert linearize(old) == ("r", "w1")
    assert linearize(new) == ("w1", "r")


def test_pending_write_may_or_may_not_take_effect() -> None:
    seen = [Operation("w1", W1, 0), Operation("r", R, 1, 2, ("a", 2))]
    unseen = [Operation("w1", W1, 0), Operation("r", R, 1, 2, ("", 0))]
    assert linearize(seen) == ("w1", "r")
    assert linearize(unseen) == ("r",)


def test_reads_must_agree_on_one_order() -> None:
    # two writes concurrent with everything; reader 1 sees b then a, reader 2 sees a then b
    ops = [Operation("w1", W1, 0, 9, ("ok", 2)), Operation("w2", W2, 1, 9, ("ok", 3)),
           Operation("r1", R, 2, 3, ("b", 3)), Operation("r2", R, 4, 5, ("a", 2)),
           Operation("r3", R, 6, 7, ("b", 3))]
    assert linearize(ops) is None


def test_cas_result_must_match_the_order() -> None:
    good = [Operation("w1", W1, 0, 1, ("ok", 2)), Operation("cas", CAS, 2, 3, ("ok", 3))]
    bad = [Operation("w1", W1, 0, 1, ("ok", 2)), Operation("cas", CAS, 2, 3, ("failed", 2))]
    assert linearize(good) is not None
    assert linearize(bad) is None


def test_history_events_and_serializable_reads_are_left_out() -> None:
    serial = Op("read", "k", mode="serializable")
    history = (("call", ("w", 1), W1), ("ret", ("w", 1), ("ok", 2)),
               ("call", ("r", 1), serial), ("ret", ("r", 1), ("", 0)))
    assert [o.ref for o in operations(history)] == [("w", 1)]
    assert len(operations(history, include_serializable=True)) == 2
    assert check_history(history) is None
    stale = (*history[:2], ("call", ("r", 2), R), ("ret", ("r", 2), ("", 0)))
    message = check_history(stale)
    assert message is not None and "read k (linearizable)" in message
