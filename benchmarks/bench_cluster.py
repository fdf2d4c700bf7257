"""Cost of the cluster model on FeastFlow: µs per `step`, µs per `actions`, bytes per state.

Run: `python benchmarks/bench_cluster.py` (after `pip install -e .`). It replays the deterministic
settle trace of FeastFlow (instant and lagging caches) plus a partition of worker-1, timing every
`actions` and `step` call over those states (best of 5 rounds), and reports:

- pickled bytes per state (a self-contained serialisation, what a state costs on disk or on the wire);
- retained bytes per state: tracemalloc growth when keeping every state of the trace alive, divided
  by the number of states (structure shared between consecutive states counted once — what an
  explicit-state explorer that stores whole states would pay).
"""

from __future__ import annotations

import gc
import pickle
import statistics
import sys
import time
import tracemalloc

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Heal, Partition, Quiesce


def trace_states(instant: bool) -> tuple[object, list[tuple[object, object]]]:
    model = build_model(load_scenario(), parameters={"instantCaches": instant})
    state = initial_state(model)
    first = settle(model, state)
    pairs = []
    for act in first.trace:
        pairs.append((state, act))
        state = step(model, state, act)
    for act in (Partition("worker-1"), Quiesce()):
        pairs.append((state, act))
        state = step(model, state, act)
    second = settle(model, state, avoid=(Heal,), max_ticks=40)
    for act in second.trace:
        pairs.append((state, act))
        state = step(model, state, act)
    return model, pairs


def best_of(rounds: int, fn: object) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def measure(instant: bool) -> dict[str, float]:
    model, pairs = trace_states(instant)
    n = len(pairs)
    t_actions = best_of(5, lambda: [actions(model, s) for s, _ in pairs])  # type: ignore[arg-type]
    t_step = best_of(5, lambda: [step(model, s, a) for s, a in pairs])  # type: ignore[arg-type]
    pickled = statistics.mean(len(pickle.dumps(s)) for s, _ in pairs)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    kept = []
    state = initial_state(model)
    for _, act in pairs:
        kept.append(state)
        state = step(model, state, act)  # type: ignore[arg-type]
    retained = (tracemalloc.get_traced_memory()[0] - base) / len(kept)
    tracemalloc.stop()
    return {
        "states": n, "us_per_actions": t_actions / n * 1e6, "us_per_step": t_step / n * 1e6,
        "pickled_bytes_per_state": pickled, "retained_bytes_per_state": retained,
    }


def main() -> int:
    print(f"kubeprop cluster model on FeastFlow (Python {sys.version.split()[0]})")
    header = ("caches", "states", "µs/actions", "µs/step", "pickled B/state", "retained B/state")
    print(f"{header[0]:<8} {header[1]:>6} {header[2]:>11} {header[3]:>9} {header[4]:>16} {header[5]:>17}")
    for instant in (True, False):
        r = measure(instant)
        print(f"{'instant' if instant else 'lagging':<8} {r['states']:>6.0f} {r['us_per_actions']:>11.0f} "
              f"{r['us_per_step']:>9.0f} {r['pickled_bytes_per_state']:>16.0f} {r['retained_bytes_per_state']:>17.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
