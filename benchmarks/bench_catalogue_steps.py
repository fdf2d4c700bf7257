"""The catalogue's rows in portfolio steps: how many steps the default strategy takes, on one lane
(`--workers 1`, so the figures do not depend on the machine or its load), from each scenario's
initial state to its first counterexample.

Run: `python benchmarks/bench_catalogue_steps.py [--budget 60] [--only VARIANT] [--skip-users] [--skip-feastflow]
[--skip-operators] [--json OUT]`.

The rows are those of `bench_catalogue.py` — the user scenarios (`USER_SCENARIOS`, then
`MORE_USER_SCENARIOS`), the users' own controllers (`OPERATORS`) and FeastFlow (the variants that
can occur there) — each checked as `kubeprop check SCENARIO --variant V --budget B --workers 1` in
a fresh interpreter (seed 0); no correct-model run. For each: the steps of the whole portfolio
until the find (one lane stops at the first find, so this is the steps to it), the member that
found it, each member's steps, the counterexample's length and the seconds to the find (on this
machine, under its load: the steps are the figure to compare). A summary line gives each table's
median and worst steps. The budget only has to be large enough that every row finds within it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from bench_catalogue import DATA, OPERATORS, _fresh
from bench_catalogue_vacuity import CANNOT_OCCUR

Row = dict[str, Any]


def _row(table: str, name: str, scenario: str, answer: dict[str, Any]) -> Row:
    parts = ", ".join(f"{k} {v:,}" for k, v in answer.get("parts", {}).items() if v)
    row = {"table": table, "name": name, "scenario": scenario, "found": answer["property"],
           "engine": answer["engine"] if answer["property"] else answer["exit_reason"],
           "steps": answer["steps"], "length": answer["length"], "to_find": answer["to_find"], "parts": parts}
    print(f"| {name} | {scenario} | {row['found'] or '—'} | {row['engine']} | {row['steps']:,} | "
          f"{row['length']} | {row['to_find']:.2f} s | {parts} |", flush=True)
    return row


def user_rows(budget: float, only: list[str]) -> list[Row]:
    """The user scenarios' rows."""
    from kubeprop.properties.explore.catalogue import MORE_USER_SCENARIOS, USER_SCENARIOS

    catalogue = DATA.parent / "catalogue"
    todo = [(v, s) for v, (s, _) in USER_SCENARIOS.items()] + [(v, s) for v, s, _ in MORE_USER_SCENARIOS]
    return [_row("users", v, s, _fresh(catalogue / f"{s}.yaml", v, budget, 1)) for v, s in todo
            if not only or v in only]


def operator_rows(budget: float) -> list[Row]:
    """The users' own controllers' rows."""
    root = Path(__file__).resolve().parents[1]
    return [_row("operators", Path(folder).name, scenario,
                 _fresh(root / folder / scenario, "correct", budget, 1, import_path=root / folder))
            for folder, scenario, _ in OPERATORS]


def feastflow_rows(budget: float, only: list[str]) -> list[Row]:
    """FeastFlow's rows (the variants that can occur there)."""
    from kubeprop.model.cluster.compose import build_model
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.model.scenario.variants import VARIANTS
    from kubeprop.properties.explore.catalogue import USER_SCENARIOS
    from kubeprop.properties.vacuity import variant_vacuity

    rows = []
    for variant in (v for v in VARIANTS if v in USER_SCENARIOS and (not only or v in only)):
        model = build_model(load_scenario(None), variant=variant)
        if variant_vacuity(model) or (variant in CANNOT_OCCUR and CANNOT_OCCUR[variant](model)):
            continue
        rows.append(_row("feastflow", variant, "feastflow", _fresh(None, variant, budget, 1)))
    return rows


def summary(rows: list[Row]) -> None:
    """Each table's median and worst steps (a row not found counts as its steps, marked)."""
    for table in dict.fromkeys(r["table"] for r in rows):
        steps = [r["steps"] for r in rows if r["table"] == table]
        missed = sum(1 for r in rows if r["table"] == table and not r["found"])
        print(f"{table}: {len(steps)} rows, median {statistics.median(steps):,.0f} steps, worst {max(steps):,}"
              + (f", {missed} not found" if missed else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per check (default 60)")
    parser.add_argument("--only", action="append", default=[], metavar="VARIANT", help="only this variant")
    parser.add_argument("--skip-users", action="store_true")
    parser.add_argument("--skip-operators", action="store_true")
    parser.add_argument("--skip-feastflow", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    print("| row | scenario | found | engine | steps | length | to find | steps by member |")
    print("|---|---|---|---|---|---|---|---|")
    rows = [] if args.skip_users else user_rows(args.budget, args.only)
    rows += [] if args.skip_operators or args.only else operator_rows(args.budget)
    rows += [] if args.skip_feastflow else feastflow_rows(args.budget, args.only)
    summary(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
