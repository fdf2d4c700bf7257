"""Users' controllers on the controller manager's cache and on a cache of their own: the steps the
default strategy takes to its first find, from each scenario's initial state, with
`userControllerCache` `shared` and `own` (docs/controllers.md, "What the view is").

Run: `python benchmarks/bench_own_cache.py [--budget 400] [--fixed] [--only NAME] [--json OUT]`.

Each row is a scenario with users' controllers — the catalogue's operators (`bench_catalogue.OPERATORS`),
the tenant trial's operator, trial21's recycler (tests/model/data/own_cache: a bug only a cache of its
own shows) and the correct examples (database_operator, lb_gate) — checked as `kubeprop check`
does, on one lane (`--workers 1`: the steps do not depend on the machine or its load), seed 0, each
time in a fresh interpreter, with the scenario's `controllerCaches` set aside so that the parameter
decides. `--fixed` checks the fixed operators (each folder's scenario-fixed.yaml) instead. The
budget only has to be large enough that every row finds within it: compare the steps.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench_catalogue import OPERATORS, _environment

ROOT = Path(__file__).resolve().parents[1]
ROWS: tuple[tuple[str, str], ...] = (
    *((folder, scenario) for folder, scenario, _ in OPERATORS),
    ("tests/properties/explore/data/tenant", "scenario.yaml"),
    ("tests/model/data/own_cache", "scenario.yaml"),
    ("examples/database_operator", "scenario.yaml"),
    ("examples/lb_gate", "scenario.yaml"),
)
"""(folder, scenario) of every scenario with users' controllers measured here."""
FIXED = tuple(dict.fromkeys((folder, "scenario-fixed.yaml") for folder, _ in ROWS if (ROOT / folder /
                                                                                       "scenario-fixed.yaml").exists()))
"""The fixed operators' scenarios."""


def one(path: Path, cache: str, budget: float) -> dict[str, Any]:
    """`check` of the scenario at `path` with every user controller's cache `cache`: the steps,
    the first find that is not known upstream behaviour (property, engine, length) or why it ended."""
    import attrs

    from kubeprop.counterexamples.api import check
    from kubeprop.model.frozen import FrozenMap
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.properties.explore.engine import EngineConfig

    scenario = load_scenario(path)
    scenario = attrs.evolve(scenario, spec=attrs.evolve(scenario.spec, controller_caches=FrozenMap()))
    report = check(scenario, budget=budget, seed=0, parameters={"userControllerCache": cache},
                   config=EngineConfig(workers=1))
    first = next((d for d in report.found if d.upstream is None), None)
    note = report.stats.note if report.stats is not None else ""
    return {"steps": report.stats.steps if report.stats is not None else 0,
            "found": first.violation.property if first is not None else None,
            "engine": note.split(":")[0].removeprefix("found by ") if first is not None else str(report.exit_reason),
            "length": first.found_length if first is not None else 0}


def _fresh(folder: str, scenario: str, cache: str, budget: float) -> dict[str, Any]:
    """`one` in a new interpreter, with the scenario's folder on its import path."""
    where = ROOT / folder
    out = subprocess.run([sys.executable, __file__, "--one", str(where / scenario), cache, str(budget)],
                         check=True, capture_output=True, text=True, env=_environment(where)).stdout
    answer: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return answer


def _cell(answer: dict[str, Any]) -> str:
    """A find as "property (engine)", or why the check ended without one."""
    return f"{answer['found']} ({answer['engine']})" if answer["found"] else str(answer["engine"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=400.0, help="seconds per check (default 400)")
    parser.add_argument("--fixed", action="store_true", help="the fixed operators instead")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="only this folder's name")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--one", nargs=3, metavar=("PATH", "CACHE", "BUDGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(Path(args.one[0]), args.one[1], float(args.one[2]))))
        return 0
    rows = []
    print("| row | shared: steps | found | own: steps | found | own / shared |")
    print("|---|---|---|---|---|---|")
    for folder, scenario in FIXED if args.fixed else ROWS:
        if args.only and Path(folder).name not in args.only:
            continue
        shared, own = (_fresh(folder, scenario, c, args.budget) for c in ("shared", "own"))
        ratio = f"{own['steps'] / shared['steps']:.2f}" if shared["found"] and own["found"] else "—"
        print(f"| {Path(folder).name}/{scenario} | {shared['steps']:,} | {_cell(shared)} | {own['steps']:,} | "
              f"{_cell(own)} | {ratio} |", flush=True)
        rows.append({"row": f"{folder}/{scenario}", "shared": shared, "own": own})
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
