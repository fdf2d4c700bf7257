"""What partial-order reduction costs and saves in CPU time: the BFS with and without it.

Run: `python benchmarks/bench_por_cpu.py [--depth-feastflow 3] [--depth-web 5]` (after
`pip install -e .`). For FeastFlow (every safety property, to depth 3) and
tests/model/data/variants/web.yaml (every property, convergence judged, to depth 5) it runs the
cluster BFS of `kubeprop check --engine bfs` from the scenario's initial state, in this process,
without and with reduction (`EngineConfig.reduction`: sleep sets and ample sets, `por.py`), twice
each in turn, and prints a Markdown table: transitions, distinct states and CPU seconds
(`time.process_time`, the steadiest figure on a shared machine), with the load average. The
counts are the same every run; the seconds vary with the machine.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path

from kubeprop.counterexamples.api import check
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.registry import select

WEB = Path(__file__).resolve().parents[1] / "tests" / "model" / "data" / "variants" / "web.yaml"


def row(name: str, scenario: Path | None, properties: list[str] | None, depth: int, convergence: bool) -> list[str]:
    """Two rounds of (full, reduced), one table line per search."""
    lines = []
    for _ in range(2):
        for reduction in (False, True):
            began = time.process_time()
            report = check(scenario, properties, engine="bfs", budget=None, bounds=Bounds(max_depth=depth),
                           config=EngineConfig(reduction=reduction, convergence=convergence))
            cpu = time.process_time() - began
            lines.append(f"| {name} | {'reduced' if reduction else 'full'} | {report.stats.steps:,} | "
                         f"{report.stats.distinct:,} | {cpu:.1f} |")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth-feastflow", type=int, default=3)
    parser.add_argument("--depth-web", type=int, default=5)
    args = parser.parse_args(argv)
    print("| case | search | transitions | distinct states | CPU s |")
    print("|---|---|---|---|---|")
    safety = [p.name for p in select(kind="safety")]
    for line in row(f"FeastFlow, depth {args.depth_feastflow}, safety properties", None, safety,
                    args.depth_feastflow, False):
        print(line, flush=True)
    for line in row(f"web.yaml, depth {args.depth_web}, every property", WEB, None, args.depth_web, True):
        print(line, flush=True)
    print(f"\nload average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
