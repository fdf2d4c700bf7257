"""Histories of concurrent clients under faults on a real etcd: each must be linearizable
(serializable reads may be stale) and a behaviour of the Raft model (trace validation).

The default run records one short history per fault kind; `-m slow` records many more (seeds ×
fault schedules, a mixed one included) and prints one summary line per history."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
from etcd_harness import EtcdCluster, Network, missing, netns_missing, start_cluster
from etcd_workload import Step, record

from kubeprop.properties.etcd_histories import RealHistory, check, linearizable_message
from kubeprop.properties.etcd_trace import TraceValidation, validate

SCENARIOS: dict[str, tuple[Network, tuple[Step, ...]]] = {
    "no-fault": ("loopback", ()),
    "kill-leader": ("loopback", (Step(0.6, "kill", "leader"), Step(1.6, "restart", "same"))),
    "kill-follower": ("loopback", (Step(0.6, "kill", "follower"), Step(1.6, "restart", "same"))),
    "pause-leader": ("loopback", (Step(0.6, "pause", "leader"), Step(1.8, "resume", "same"))),
    "pause-follower": ("loopback", (Step(0.6, "pause", "follower"), Step(1.8, "resume", "same"))),
    "isolate-follower": ("netns", (Step(0.6, "isolate", "follower"), Step(1.8, "heal", "same"))),
    "isolate-leader": ("netns", (Step(0.6, "isolate", "leader"), Step(1.8, "heal", "same"))),
    "mixed": ("netns", (Step(0.5, "kill", "follower"), Step(1.2, "restart", "same"),
                        Step(1.8, "pause", "leader"), Step(2.6, "resume", "same"),
                        Step(3.2, "isolate", "leader"), Step(4.2, "heal", "same"))),
}
DEFAULT = ("no-fault", "kill-leader", "pause-leader", "isolate-follower")


@contextlib.contextmanager
def _cluster(network: Network) -> Iterator[EtcdCluster]:
    reason = missing() if network == "loopback" else netns_missing()
    if reason is not None:
        pytest.skip(reason)
    with start_cluster(network) as c:
        yield c


def run_scenario(name: str, seed: int, duration: float) -> tuple[RealHistory, TraceValidation, str]:
    """Record a history, check it, validate it against the model; a one-line summary."""
    network, schedule = SCENARIOS[name]
    started = time.monotonic()
    with _cluster(network) as c:
        history = record(c, f"{name}/seed {seed}", seed, schedule, duration)
    recorded = time.monotonic()
    checked = check(history)
    assert checked.linearizable, linearizable_message(history) + "\n" + "\n".join(history.lines())
    assert checked.serializable_ok, "a serializable read returned a value its key never had before it"
    assert len(history.faults) >= len(schedule), history.faults
    result = validate(history, checked)
    summary = (f"{history.label}: {checked.summary()} model={'witness' if result.ok else 'NO WITNESS'} "
               f"({len(result.steps)} steps) record={recorded - started:.1f}s check+validate="
               f"{time.monotonic() - recorded:.1f}s")
    return history, result, summary


@pytest.mark.parametrize("name", DEFAULT)
def test_history_is_linearizable_and_a_model_behaviour(name: str) -> None:
    _, result, summary = run_scenario(name, seed=0, duration=2.5)
    print(summary)
    assert result.ok, result.report()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 6))
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_many_histories(name: str, seed: int) -> None:
    _, result, summary = run_scenario(name, seed, duration=5.0 if name == "mixed" else 3.0)
    print(summary)
    assert result.ok, result.report()
