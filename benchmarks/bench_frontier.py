"""Cluster BFS memory: peak RSS per distinct state with the frontier spilled to disk or in memory.

    python benchmarks/bench_frontier.py [--states 10000 --states 40000] [--spill-after 2000]

Runs the full breadth-first search (`bfs.bfs`, hashes mode, no partial-order reduction) on the
cluster model of `bench_engines.py` (web.yaml, every action, safety properties) to each `--states`
distinct states with the frontier spilled past `bfs.SPILL_AFTER` entries (the default), and to the
largest with the whole frontier in memory — each in a fresh process, so each peak resident set is
its own. Prints distinct states, distinct states/s, the process's peak RSS and the RSS it had
before the search (model built, modules loaded), peak minus that per distinct state, the parent
table's bytes per state, and — between two spilled runs — the marginal peak RSS per extra state
(what a longer search pays per state once the fixed costs are paid). Target (issue 17): at most
300 bytes per distinct state at peak.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def measure(states: int, spill: bool, spill_after: int | None) -> dict[str, float]:
    """One search in this process; its figures."""
    from bench_engines import safety_names, small_model

    from kubeprop.properties.explore import bfs
    from kubeprop.properties.explore.fpset import ParentTable
    from kubeprop.properties.registry import select

    if not spill:
        bfs.SPILL_AFTER = 10**12
    elif spill_after is not None:
        bfs.SPILL_AFTER = spill_after
    model, start = small_model()
    props = tuple(p for p in select(kind="safety") if p.name in safety_names())
    before = _rss_now()
    report = bfs.bfs(model, start, props, bfs.Bounds(max_depth=1000, max_states=states), visited="hashes")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    table = ParentTable()
    rng = random.Random(0)
    for _ in range(report.stats.distinct):
        table.add(rng.getrandbits(63) + 1, 1, 0)
    s = report.stats
    return {"distinct": s.distinct, "rate": s.distinct / s.seconds, "peak": peak, "before": before,
            "table": table.nbytes / s.distinct, "reason": str(report.exit_reason)}


def main() -> int:
    """Both modes, each in a fresh process, one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--states", type=int, action="append", help="distinct states of one run (repeatable)")
    parser.add_argument("--spill-after", type=int,
                        help="frontier entries kept in memory when spilling (default: bfs.SPILL_AFTER)")
    parser.add_argument("--one", choices=("spill", "memory"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.states[0], args.one == "spill", args.spill_after)))
        return 0
    sizes = sorted(args.states or [10_000, 40_000])
    spilled: list[dict[str, float]] = []
    for states, mode in [*((n, "spill") for n in sizes), (sizes[-1], "memory")]:
        extra = ["--spill-after", str(args.spill_after)] if args.spill_after else []
        out = subprocess.run([sys.executable, __file__, "--states", str(states), "--one", mode, *extra],
                             capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        if mode == "spill":
            spilled.append(r)
        print(f"frontier {'spilled to disk' if mode == 'spill' else 'in memory':<16} {r['distinct']:>10,.0f} distinct "
              f"({r['reason']}), {r['rate']:>7,.0f} distinct/s; peak RSS {r['peak'] / 2**20:,.0f} MiB "
              f"({r['peak'] / r['distinct']:,.0f} B/state), before the search {r['before'] / 2**20:,.0f} MiB; "
              f"peak − before {(r['peak'] - r['before']) / r['distinct']:,.0f} B/state; "
              f"parent table {r['table']:.0f} B/state", flush=True)
    if len(spilled) >= 2:
        a, b = spilled[0], spilled[-1]
        print(f"spilled, from {a['distinct']:,.0f} to {b['distinct']:,.0f} states: peak RSS grew "
              f"{(b['peak'] - a['peak']) / (b['distinct'] - a['distinct']):,.0f} B per extra state")
    return 0


if __name__ == "__main__":
    sys.exit(main())
