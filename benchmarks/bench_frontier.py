"""Cluster BFS memory: peak RSS per distinct state, the frontier spilled to disk (issue 17).

    python benchmarks/bench_frontier.py [--scenario web|feastflow] [--search full|reduced]
                                        [--states 50000 --states 200000] [--spill-after N] [--in-memory]

Runs the breadth-first search of `kubeprop check --engine bfs` — the reduced one (`por.py`, sleep
and ample sets, the default) and/or the full one (`bfs.bfs`) — over every action, every safety
property but `bench_engines.EXCLUDED`, to each `--states` distinct states, each run in a fresh
process so that its peak resident set is its own. Scenarios: `web` is
tests/model/data/variants/web.yaml with lagging caches (the model of `bench_engines.py`);
`feastflow` is the default scenario, lagging caches.

Per run it prints the distinct states, distinct states per second (wall clock and CPU), the
process's peak RSS and the RSS before the search, and per distinct state: the peak, the peak
minus the RSS before (what the search costs per state) and the visited table (`StateTable`).
"Before" is measured after the model is built and Z3 has solved one query: the safety property
`scheduler-decisions-sound` calls Z3 at its first binding, and Z3's first solve maps about 28 MB
that would otherwise land somewhere inside the search (a fixed cost of that property, not of
the search). Between the smallest and the largest spilled run it prints the marginal peak RSS per
extra state — what a longer search pays per state once the fixed costs are paid. Target (issue
17): at most 300 bytes per distinct state at peak. `--in-memory` adds a run at the smallest size
with the whole frontier kept in memory, for comparison.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))


def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _model(scenario: str) -> tuple[Any, Any, tuple[Any, ...]]:
    from bench_engines import safety_names, small_model

    from kubeprop.model.cluster.compose import build_model, initial_state
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.properties.registry import select

    if scenario == "web":
        model, start = small_model()
    else:
        model = build_model(load_scenario(), parameters={"instantCaches": False})
        start = initial_state(model)
    props = tuple(p for p in select(kind="safety") if p.name in safety_names())
    return model, start, props


def _warm_z3() -> None:
    import z3

    solver = z3.Solver()
    solver.add(z3.Int("x") > 1)
    solver.check()


def measure(scenario: str, search: str, states: int, spill_after: int | None) -> dict[str, Any]:
    """One search in this process; its figures."""
    from kubeprop.properties.explore import bfs, por
    from kubeprop.properties.explore.fpset import StateTable

    if spill_after is not None:
        bfs.SPILL_AFTER = por.SPILL_AFTER = spill_after
    model, start, props = _model(scenario)
    _warm_z3()
    before = _rss_now()
    cpu = time.process_time()
    bounds = bfs.Bounds(max_depth=1000, max_states=states)
    run = bfs.bfs if search == "full" else por.reduced_bfs
    report = run(model, start, props, bounds)
    cpu = time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    table, rng = StateTable(), random.Random(0)
    for n in range(report.stats.distinct):  # a table of the same size, for its bytes
        table.add(rng.getrandbits(64) - (1 << 63), n - 1, n % 7)
    s = report.stats
    return {"distinct": s.distinct, "generated": s.states, "rate": s.distinct / s.seconds, "cpu_rate": s.distinct / cpu,
            "peak": peak, "before": before, "table": table.nbytes / s.distinct, "reason": str(report.exit_reason)}


def _run(scenario: str, search: str, states: int, spill_after: int | None) -> dict[str, Any]:
    extra = [] if spill_after is None else ["--spill-after", str(spill_after)]
    out = subprocess.run([sys.executable, __file__, "--one", "--scenario", scenario, "--search", search,
                          "--states", str(states), *extra], capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> int:
    """Each run in a fresh process, one line each."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scenario", choices=("web", "feastflow"), default="web")
    parser.add_argument("--search", choices=("full", "reduced"), action="append",
                        help="full: bfs.bfs; reduced: por.py, as `kubeprop check --engine bfs` (default: both)")
    parser.add_argument("--states", type=int, action="append", help="distinct states of one run (repeatable)")
    parser.add_argument("--spill-after", type=int, help="frontier entries kept in memory (default: bfs.SPILL_AFTER)")
    parser.add_argument("--in-memory", action="store_true", help="also a run with the whole frontier in memory")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    searches = args.search or ["reduced", "full"]
    if args.one:
        print(json.dumps(measure(args.scenario, searches[0], args.states[0], args.spill_after)))
        return 0
    sizes = sorted(args.states or [50_000, 200_000])
    print(f"{args.scenario}, every action, safety properties; each run in a fresh process", flush=True)
    for search in searches:
        runs = [(n, args.spill_after) for n in sizes] + ([(sizes[0], 10**12)] if args.in_memory else [])
        spilled: list[dict[str, Any]] = []
        for states, spill_after in runs:
            r = _run(args.scenario, search, states, spill_after)
            mode = "in memory" if spill_after == 10**12 else "spilled"
            if mode == "spilled":
                spilled.append(r)
            print(f"{search:<7} frontier {mode:<9} {r['distinct']:>9,} distinct ({r['reason']}), "
                  f"{r['rate']:>6,.0f} distinct/s ({r['cpu_rate']:,.0f} per CPU s); "
                  f"peak RSS {r['peak'] / 2**20:,.0f} MiB "
                  f"({r['peak'] / r['distinct']:,.0f} B/state), before the search {r['before'] / 2**20:,.0f} MiB; "
                  f"peak − before {(r['peak'] - r['before']) / r['distinct']:,.0f} B/state; "
                  f"visited table {r['table']:.0f} B/state", flush=True)
        if len(spilled) >= 2:
            a, b = spilled[0], spilled[-1]
            print(f"{search:<7} from {a['distinct']:,} to {b['distinct']:,} states: peak RSS grew "
                  f"{(b['peak'] - a['peak']) / (b['distinct'] - a['distinct']):,.0f} B per extra state", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
