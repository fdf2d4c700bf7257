"""Swarm-walk throughput: local worker processes against a Dask LocalCluster (docs/engines.md).

    python benchmarks/bench_dask_walks.py [--walks 400]

The same fixed set of walks (web.yaml, correct model, safety properties only, depth 30, as in
`bench_engines.py`) with `run_walks` on 1 and 2 local worker processes, then with
`run_walks_on_dask` on a LocalCluster of 2 worker processes with one thread each (started here;
its start-up is not counted). Prints steps/s for each and checks that all three ran the same
number of walks and steps. Needs `kubeprop[dask]`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).parent))

from bench_engines import safety_names, small_model

from kubeprop.properties.explore.dask_walks import run_walks_on_dask
from kubeprop.properties.explore.engine import EngineConfig, EngineResult
from kubeprop.properties.explore.walk import run_walks


def _row(name: str, result: EngineResult) -> tuple[str, int, int]:
    s = result.stats
    print(f"{name:<34}{s.steps_per_second:>10,.0f} steps/s   {s.steps:,} steps in {s.runs:,} walks, "
          f"{s.seconds:.1f} s ({result.exit_reason})", flush=True)
    return name, s.runs, s.steps


def main() -> int:
    """Run the three and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=int, default=400)
    args = parser.parse_args()
    from distributed import LocalCluster

    model, start = small_model()
    config = EngineConfig(max_depth=30, runs=args.walks, workers=1, budget_seconds=None, properties=safety_names(),
                          convergence=False, shrink=False)
    rows = [_row("walks, 1 local worker", run_walks(model, start, config)),
            _row("walks, 2 local workers", run_walks(model, start, attrs.evolve(config, workers=2)))]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        rows.append(_row("walks, Dask LocalCluster (2 x 1)", run_walks_on_dask(model, start, config,
                                                                                 cluster.scheduler_address)))
    same = len({(runs, steps) for _, runs, steps in rows}) == 1
    print("same walks and steps everywhere" if same else "the runs DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
