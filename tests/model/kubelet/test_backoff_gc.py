"""The kubelet's container restart back-off: housekeeping's garbage collection of back-off entries
(`pkg/kubelet/kubelet_pods.go` HandlePodCleanups → `backOff.GC()`, `client-go/util/flowcontrol/backoff.go`),
the fixed 600 s expiry (`pkg/kubelet/kubelet.go` HasExpiredFunc) and a cap below the 10 s initial back-off.
Through the kubelet component: `test_kubelet.test_a_crashed_container_restarts_once_its_entry_is_collected`."""

from __future__ import annotations

from kubeprop.model.kubelet.runtime import (
    BACKOFF_EXPIRY_SECONDS,
    ContainerRuntime,
    restart_at,
    restarted,
)


def _exited(exited_at: int, backoff: int, updated: int) -> ContainerRuntime:
    return ContainerRuntime(name="app", restart_count=6, exit_code=1, exited_at=exited_at, backoff=backoff,
                            backoff_updated=updated)


def test_a_collected_entry_lets_the_container_restart_before_its_back_off_ends() -> None:
    """audit20a F1: restarted at 0 with a 300 s entry, crashed at 400. Upstream the entry is in back-off
    until 700, but housekeeping deletes it once 600 s passed since its update, so the next sync
    restarts the container (from 601 here) and `Next` makes a fresh 10 s entry."""
    c = _exited(exited_at=400, backoff=300, updated=0)
    assert restart_at(c) == BACKOFF_EXPIRY_SECONDS + 1 == 601
    assert restarted(c, 601, 300).backoff == 10
    assert restarted(c, 600, 300).backoff == 300  # not yet collected: it doubles, capped


def test_the_back_off_still_ends_first_when_it_is_shorter() -> None:
    c = _exited(exited_at=400, backoff=160, updated=100)
    assert restart_at(c) == 560
    assert restarted(c, 560, 300).backoff == 300
    assert restarted(c, 701, 300).backoff == 10  # a restart held back past the collection


def test_an_entry_expired_at_the_exit_restarts_at_once() -> None:
    """`IsInBackOffSince(FinishedAt)`: the container ran more than 600 s since its last restart."""
    c = _exited(exited_at=700, backoff=300, updated=0)
    assert restart_at(c) == 700
    assert restarted(c, 700, 300).backoff == 10


def test_the_expiry_is_600_s_whatever_the_cap() -> None:
    """v1.32+ sets `HasExpiredFunc` to a fixed 600 s; the cap (KubeletCrashLoopBackOffMax) moves only the
    doubling. A cap below 10 s is also the initial back-off (`if boMax < containerBackOffPeriod`)."""
    c = _exited(exited_at=400, backoff=60, updated=0)
    assert restart_at(c) == 460
    assert restarted(c, 460, 60).backoff == 60
    assert restarted(_exited(exited_at=100, backoff=0, updated=0), 100, 5).backoff == 5
