"""The bug catalogue as a user meets it: `kubeprop check SCENARIO --variant V --budget 10` from the
initial state with the default strategy, on scenarios written as users write them; and, as a
second table, the prepared-start figures of each engine.

Run: `python benchmarks/bench_catalogue.py [--out docs/catalogue.md] [--budget 10] [--feastflow]
[--prepared] [--shortest] [--workers N]`.

What users get (`user_rows`): for each cluster-level variant, its scenario in
tests/model/data/catalogue (`kubeprop.properties.explore.catalogue.USER_SCENARIOS`: manifests,
workload steps, a fault budget — no prepared start, no action filter), then the further rows of
`MORE_USER_SCENARIOS` (a variant on a scenario a user wrote for their whole app), checked with every property
by `kubeprop.counterexamples.check` (the portfolio, seed 0) within `--budget` seconds, and the
correct model on the same scenario at the same budget, each in a fresh interpreter as a user runs
it. Reported: the property found first and the seconds until it was found — the `found after`
figure that command prints, on the engine's clock (loading the scenario, shrinking and recording
not included) — the engine that found it, and its length (the actions the engine found; a
convergence counterexample's file adds the fair continuation after them, which `kubeprop check`
prints as `3 steps, then a fair continuation of 66`) against the shortest known counterexample of
that variant on that scenario (`SHORTEST`, from `--shortest`: the default strategy's
counterexample shrunk for a minute). That command then searches on for the other properties until
its budget is spent, so it reports at about `--budget` seconds; the *time to report* is of
`kubeprop check SCENARIO --variant V --property P --budget 10` with P the property found, which
stops once P's counterexample is shrunk and written: the seconds until that command (the console
script's code, `python -m kubeprop.properties.cli`, in a new process) returned, starting Python
and importing kubeprop included — from its compiled bytecode, as an installed kubeprop imports
(`_bytecode_cache`; `--compile-each-time`: compiling kubeprop too, as this machine's editable
install under `PYTHONDONTWRITEBYTECODE=1` does). The correct model's verdict: `clean`, `clean (upstream: …)` when
what it found is known upstream behaviour (`kubeprop check` lists it under UPSTREAM and exits 0),
or `VIOLATION …`.
Users' own controllers (`operator_rows`): each example of `OPERATORS` (a user's controller with a
bug, its properties, a scenario) checked the same way, and its fixed version at the same budget.
`--feastflow` does the same on the built-in FeastFlow scenario for the variants that can occur
there. `--workers N` runs the portfolio on N lanes (default: as `kubeprop check`, the cores or 3,
whichever is fewer); each table is followed by one of the portfolio's steps and each lane's CPU
seconds (on a shared machine the steadier figures); `--only V` (repeatable) runs only those
variants (and no users' controllers). `--prepared` adds the older table: each engine from a state
the fair driver prepared, with an action filter (`ENTRIES`).

The script runs the checks and writes the tables; the rows and tables are in
`bench_catalogue_table.py`, why a variant cannot occur on a scenario in `bench_catalogue_vacuity.py`,
the `--prepared` table in `bench_catalogue_prepared.py`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_catalogue_prepared import DATA, prepared_rows
from bench_catalogue_table import CANNOT, SHORTEST, UserRow, lane_table, user_table, verdict
from bench_catalogue_vacuity import CANNOT_OCCUR

from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.engine import EngineConfig


def user_row(path: Path | None, scenario: str, variant: str, caught_by: tuple[str, ...], budget: float,
             workers: int | None = None) -> UserRow:
    """`kubeprop check`'s result for the variant and for the correct model, each in a fresh process
    (as a user runs it), and the time `kubeprop check … --property P` took to report the find."""
    found = _fresh(path, variant, budget, workers)
    clean = _fresh(path, "correct", budget, workers)
    prop = found["property"] or found["exit_reason"]
    total = report_seconds(path, variant, found["property"], budget, workers) if found["property"] else 0.0
    return UserRow(variant, scenario, found["property"] is not None, prop in caught_by, prop, found["to_find"],
                   total, found["engine"], found["length"], verdict(clean), found["steps"], tuple(found["lanes"]),
                   found["continuation"])


def cli_command(path: Path | None, variant: str, prop: str, budget: float, workers: int | None = None) -> list[str]:
    """The `kubeprop check` arguments whose time to report the table gives."""
    where = [str(path)] if path else []
    lanes = [] if workers is None else ["--workers", str(workers)]
    named = [] if variant == "correct" else ["--variant", variant]
    return ["check", *where, *named, "--property", prop, "--budget", f"{budget:g}", *lanes]


def report_seconds(path: Path | None, variant: str, prop: str, budget: float, workers: int | None = None,
                   import_path: Path | None = None) -> float:
    """Wall seconds until `kubeprop check PATH --variant V --property P --budget B` returned, run as the
    console script runs it (`python -m kubeprop.properties.cli`) in a new process, its files in a
    scratch folder. Exit 1: the violation found again; exit 0: not found again within the budget (a
    loaded machine runs fewer steps in it), or 3: no step taken in it (its start-up took the budget),
    `math.inf`, which the table prints as such; any other exit is an error."""
    import tempfile

    env = _environment(import_path)
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "kubeprop.properties.cli", *cli_command(path, variant, prop, budget, workers),
                   "--out", out, "--progress", "none"]
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        seconds = time.perf_counter() - began
    if done.returncode in (0, 3):  # 3: no engine took a step (the start-up took the budget on a loaded machine)
        return math.inf
    if done.returncode != 1:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}, not 1:\n{done.stdout}{done.stderr}")
    return seconds


def _environment(import_path: Path | None) -> dict[str, str] | None:
    """A child's environment: this one with `import_path` first on its PYTHONPATH (a user's
    controller and properties), or None (inherit) without one."""
    if import_path is None:
        return None
    return {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(import_path), os.environ.get("PYTHONPATH", "")) if p)}


def _fresh(path: Path | None, variant: str, budget: float, workers: int | None = None,
           import_path: Path | None = None) -> dict[str, Any]:
    """Run `one_check` in a new interpreter (with `import_path` on its PYTHONPATH: a user's
    controller and properties); its JSON answer with the wall time it took."""
    began = time.perf_counter()
    lanes = [] if workers is None else ["--workers", str(workers)]
    env = _environment(import_path)
    out = subprocess.run([sys.executable, __file__, "--one", str(path or ""), variant, str(budget), *lanes],
                         check=True, capture_output=True, text=True, env=env).stdout
    answer: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    answer["total"] = time.perf_counter() - began
    return answer


def one_check(path: str, variant: str, budget: float, workers: int | None = None) -> dict[str, Any]:
    """What `kubeprop check PATH --variant VARIANT --budget BUDGET [--workers N]` finds first, as
    JSON data: the property (the first violation not known upstream behaviour), the engine, the
    counterexample's length (the actions the engine found, and the fair continuation's after them),
    the seconds until it was found (`found after`, the engine's clock) and until the call returned,
    the known upstream behaviours found (property, behaviour, length), the portfolio's steps and
    each lane's CPU seconds. The call stops at that first violation, as `kubeprop check` does not
    (it searches on for the other properties): the first run is the same."""
    from kubeprop.counterexamples.api import check

    began = time.perf_counter()
    report = check(Path(path) if path else None, variant=variant, budget=budget, seed=0,
                   config=EngineConfig(workers=workers))
    total = time.perf_counter() - began
    effort = {"steps": report.stats.steps if report.stats is not None else 0,
              "lanes": list(getattr(report.stats, "lanes", ())),
              "parts": {p.engine: p.stats.steps for p in (report.stats.parts if report.stats is not None else ())}}
    upstream = [{"property": d.violation.property, "behaviour": d.upstream.name, "length": d.found_length,
                 "continuation": len(d.trace) - d.found_length} for d in report.found if d.upstream is not None]
    first = next((d for d in report.found if d.upstream is None), None)
    if first is None:
        return {"property": None, "exit_reason": str(report.exit_reason), "engine": report.engine, "length": 0,
                "continuation": 0, "to_find": total, "in_check": total, "upstream": upstream, **effort}
    note = report.stats.note if report.stats is not None else ""
    engine = note.split(":")[0].removeprefix("found by ") if note else report.engine
    return {"property": first.violation.property, "exit_reason": str(report.exit_reason), "engine": engine,
            "length": first.found_length, "continuation": len(first.trace) - first.found_length,
            "to_find": report.found_after if report.found_after is not None else total, "in_check": total,
            "upstream": upstream, **effort}


def shortest_known(path: Path | None, variant: str, seconds: float = 60.0) -> int:
    """The length of the variant's counterexample the default strategy finds when its shrinking has
    no step bound and may take `seconds` (the reference of the table's length ratio)."""
    from kubeprop.counterexamples.api import check

    report = check(path, variant=variant, budget=30.0 + seconds, seed=0, config=EngineConfig(max_shrink_steps=None))
    return report.found[0].found_length if report.violation is not None else 0


def feastflow_rows(budget: float, workers: int | None = None, only: list[str] | None = None) -> list[UserRow]:
    """Every cluster-level variant on FeastFlow: run unless `variant_vacuity` or `CANNOT_OCCUR`
    says it cannot show there (then the row gives that reason)."""
    from kubeprop.model.cluster.compose import build_model
    from kubeprop.model.scenario.variants import VARIANTS
    from kubeprop.properties.explore.catalogue import USER_SCENARIOS
    from kubeprop.properties.vacuity import variant_vacuity

    rows = []
    for variant in (v for v in VARIANTS if v in USER_SCENARIOS and (not only or v in only)):
        model = build_model(load_scenario(None), variant=variant)
        why = variant_vacuity(model) or (CANNOT_OCCUR[variant](model) if variant in CANNOT_OCCUR else None)
        if why is not None:
            rows.append(UserRow(variant, "feastflow", False, False, f"{CANNOT}: {why}", 0.0, 0.0, "", 0, "—"))
        else:
            rows.append(user_row(None, "feastflow", variant, USER_SCENARIOS[variant][1], budget, workers))
        print(rows[-1], flush=True)
    return rows


OPERATORS: tuple[tuple[str, str, str], ...] = (
    ("examples/migration_operator", "scenario.yaml", "one-migration-per-generation"),
    ("examples/migration_operator", "scenario-recorded.yaml", "ready-generations-migrate"),
    ("examples/ledger_operator", "scenario.yaml", "recorded-pods-in-ledger"),
    ("examples/restart_operator", "scenario.yaml", "restarts-counted"),
    ("tests/properties/explore/data/leader", "scenario.yaml", "at-most-one-leader"),
)
"""Users' own controllers with a bug, as (example folder, its scenario, the user's property that
catches it): the migration operator's stale-cache race and its second version's crash between two
writes of one reconcile, the ledger operator's lost update (a write without its resourceVersion),
the restart operator's unobserved state (an edge-triggered count), and a user trial's first operator
(tests/properties/explore/data/leader: two leaders after the controller manager restarted with two
pod keys queued, its own patch not yet in its cache); scenario-fixed.yaml in each folder runs the fix."""


def operator_rows(budget: float, workers: int | None = None) -> list[UserRow]:
    """`kubeprop check` on each of `OPERATORS`, and on the fix at the same budget."""
    root = Path(__file__).resolve().parents[1]
    rows, fixes = [], dict[str, dict[str, Any]]()
    for folder, scenario, prop in OPERATORS:
        where = root / folder
        found = _fresh(where / scenario, "correct", budget, workers, import_path=where)
        if folder not in fixes:
            fixes[folder] = _fresh(where / "scenario-fixed.yaml", "correct", budget, workers, import_path=where)
        caught = found["property"] or found["exit_reason"]
        total = (report_seconds(where / scenario, "correct", found["property"], budget, workers, import_path=where)
                 if found["property"] else 0.0)
        rows.append(UserRow(Path(folder).name, scenario, found["property"] is not None, caught == prop, caught,
                            found["to_find"], total, found["engine"], found["length"], verdict(fixes[folder]),
                            found["steps"], tuple(found["lanes"]), found["continuation"]))
        print(rows[-1], flush=True)
    return rows


def main() -> int:
    from kubeprop.properties.cli.check_args import MAX_WORKERS
    from kubeprop.properties.cli.flagtypes import int_in
    from kubeprop.properties.explore.catalogue import MORE_USER_SCENARIOS, USER_SCENARIOS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="also write the Markdown tables to this file")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per `kubeprop check` (default 10)")
    parser.add_argument("--feastflow", action="store_true", help="also the variants on FeastFlow")
    parser.add_argument("--prepared", action="store_true", help="also each engine from a prepared start")
    parser.add_argument("--shortest", action="store_true", help="recompute the shortest known counterexamples")
    parser.add_argument("--workers", type=int_in(1, MAX_WORKERS),
                        help="the portfolio's lanes (default: as `kubeprop check`)")
    parser.add_argument("--only", action="append", metavar="VARIANT", choices=sorted(USER_SCENARIOS),
                        help="only this variant (repeatable)")
    parser.add_argument("--compile-each-time", action="store_true",
                        help="no bytecode cache for the checks' processes (see `_bytecode_cache`)")
    parser.add_argument("--one", nargs=3, metavar=("PATH", "VARIANT", "BUDGET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_check(args.one[0], args.one[1], float(args.one[2]), args.workers)))
        return 0
    catalogue = DATA.parent / "catalogue"
    if args.shortest:
        for variant, (scenario, _) in USER_SCENARIOS.items():
            SHORTEST[(scenario, variant)] = shortest_known(catalogue / f"{scenario}.yaml", variant)
            print(f"shortest {scenario} {variant}: {SHORTEST[(scenario, variant)]}", flush=True)
            if args.feastflow:
                SHORTEST[("feastflow", variant)] = shortest_known(None, variant)
                print(f"shortest feastflow {variant}: {SHORTEST[('feastflow', variant)]}", flush=True)
        for variant, scenario, _ in MORE_USER_SCENARIOS:
            SHORTEST[(scenario, variant)] = shortest_known(catalogue / f"{scenario}.yaml", variant)
            print(f"shortest {scenario} {variant}: {SHORTEST[(scenario, variant)]}", flush=True)
    if not args.compile_each_time:
        _bytecode_cache()
    load_before = os.getloadavg()
    rows = []
    lanes = "" if args.workers is None else f" --workers {args.workers}"
    cases = [*((v, s, caught) for v, (s, caught) in USER_SCENARIOS.items()), *MORE_USER_SCENARIOS]
    for variant, scenario, caught_by in cases:
        if args.only and variant not in args.only:
            continue
        rows.append(user_row(catalogue / f"{scenario}.yaml", scenario, variant, caught_by, args.budget, args.workers))
        print(rows[-1], flush=True)
    b = f"--budget {args.budget:g}{lanes}"
    lines = user_table(rows, f"User scenarios (tests/model/data/catalogue): found first and time to find by `kubeprop "
                             f"check SCENARIO --variant V {b}`; time to report of `kubeprop check SCENARIO "
                             f"--variant V --property P {b}`")
    lines += ["", *lane_table(rows)]
    if not args.only:
        ops = operator_rows(args.budget, args.workers)
        lines += ["", *user_table(ops, f"Users' own controllers (examples/): found first and time to find by "
                                       f"`PYTHONPATH=examples/NAME kubeprop check examples/NAME/scenario.yaml {b}`; "
                                       "time to report of the same with `--property P`",
                                  first="operator", last="the fixed operator, same budget")]
        lines += ["", *lane_table(ops)]
    if args.feastflow:
        ff = feastflow_rows(args.budget, args.workers, args.only)
        lines += ["", *user_table(ff, f"FeastFlow: found first and time to find by `kubeprop check --variant V {b}`; "
                                      f"time to report of `kubeprop check --variant V --property P {b}`")]
        lines += ["", *lane_table(ff)]
    if args.prepared:
        title = "**Prepared start (a state the fair driver reaches) with an action filter, each engine, 60 s budget**"
        lines += ["", title, "", *prepared_rows(60.0)]
    lines += ["", f"Load average (1, 5, 15 min) when the run began: {_load(load_before)}; when it ended: "
              f"{_load(os.getloadavg())} (2 cores, shared). Times to report "
              + ("with kubeprop compiled in each process." if args.compile_each_time
                 else "with kubeprop's bytecode compiled once, as an installed kubeprop has it.")]
    print("\n".join(lines))
    if args.out:
        _write(args.out, "\n".join(lines))
    return 0


def _bytecode_cache() -> None:
    """Give every check this script starts kubeprop's compiled bytecode, as an installed kubeprop has
    it (pip compiles a package's modules when it installs it; Python caches what it compiles): a
    scratch folder (`PYTHONPYCACHEPREFIX`, inherited by the checks' processes; the source tree is
    left alone) holds kubeprop compiled once here. Without it, on a machine that sets
    `PYTHONDONTWRITEBYTECODE=1` (the project's machines do) with an editable install, every check
    compiles kubeprop's sources again: 0.45 CPU seconds of each *time to report* that no user of an
    installed kubeprop waits for (docs/engines.md, "Twenty-seventh round: FeastFlow's first second").
    `--compile-each-time` measures that case."""
    import compileall
    import tempfile

    root = Path(__file__).resolve().parents[1]
    prefix = Path(tempfile.gettempdir()) / f"kubeprop-bench-bytecode-{os.getuid()}"
    os.environ["PYTHONPYCACHEPREFIX"] = str(prefix)
    sys.pycache_prefix = str(prefix)
    for part in ("model", "properties", "counterexamples", "examples", "tests/properties/explore/data"):
        compileall.compile_dir(root / part, quiet=1)


def _load(averages: tuple[float, float, float]) -> str:
    return ", ".join(f"{a:.1f}" for a in averages)


def _write(path: Path, table: str) -> None:
    text = path.read_text() if path.exists() else ""
    marker = "<!-- catalogue-table -->"
    if marker in text:
        head, _, rest = text.partition(marker)
        tail = rest.split(marker, 1)[1] if marker in rest else ""
        text = f"{head}{marker}\n{table}\n{marker}{tail}"
    else:
        text += f"\n{marker}\n{table}\n{marker}\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
