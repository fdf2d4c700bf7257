"""The generative false-alarm campaign: random *valid* scenarios, the correct model must stay clean.

Run: `python benchmarks/bench_generated.py [--cases N] [--seconds S] [--seed K] [--first I]
[--second ENGINE] [--runs R] [--out DIR]` (exit 1 when anything is unexplained).

The standing campaign (`bench_false_alarms.py`) sees only the shipped scenarios; this one draws
new ones as a user writes them (`tests/support/scenario_strategy.py`: nodes with labels and taints,
Deployments, StatefulSets, bare Pods, Services in one or two namespaces, PDBs, HPAs, scheduling
constraints, workload steps, a small fault budget with etcd restores and API server floods, a
Kubernetes release's parameters, descheduler profiles; case I of seed K is always the same
scenario). For each case it
writes the scenario folder, loads and bootstraps it (a load error or a rejected manifest is the
generator's bug), then runs `kubeprop.counterexamples.api.check` on the correct model: the default
portfolio engine for S seconds (one lane: the 2 shared cores), and, with `--second ENGINE`
(default `walk`), that engine for R runs without a time budget, so its result depends on the seed
alone. Every violation is classified:

- `upstream: NAME` — a known behaviour of real Kubernetes (`properties.upstream_behaviour.match`);
- `unfit` — a convergence property fails while a Pending pod of the workload it names fits no
  node as the scheduler filters it (the user's cluster is too small, or their constraints leave no
  node: real Kubernetes leaves the pod Pending too);
- `FALSE ALARM` — anything else, a model bug until shown otherwise. An exception of the model or an
  engine is a `crash`.

Each unexplained case's scenario folder and counterexample go under `DIR/seed-K/case-I`; progress
lines go to stderr; the summary table (cases, loaded, clean, upstream by kind, unfit, false-alarm
candidates, crashes, CPU seconds) to stdout. `tests/properties/test_generated.py` (marker
`false_alarms`) runs a few cases.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = str(ROOT / "tests" / "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)

from scenario_strategy import Drawn, seeded_scenario  # noqa: E402

from kubeprop.counterexamples.api import CheckReport, check  # noqa: E402
from kubeprop.model.api.core import Node  # noqa: E402
from kubeprop.model.api.pod import Pod  # noqa: E402
from kubeprop.model.cluster.drive import continuations  # noqa: E402
from kubeprop.model.scenario.bootstrap import bootstrap  # noqa: E402
from kubeprop.model.scenario.load import load_scenario  # noqa: E402
from kubeprop.model.scheduler.decide import schedule_one  # noqa: E402
from kubeprop.model.scheduler.nodeinfo import build_node_infos  # noqa: E402
from kubeprop.properties.cli.flagtypes import int_in  # noqa: E402
from kubeprop.properties.explore.engine import EngineConfig  # noqa: E402
from kubeprop.properties.scheduling.volumes import stored_volumes  # noqa: E402
from kubeprop.properties.upstream_behaviour import match, states_of  # noqa: E402
from kubeprop.properties.upstream_behaviour_restore import pod_and_owners  # noqa: E402

MAX_SHRINK_STEPS = 20_000
"""Steps shrinking one trace may replay and judge (as in `bench_false_alarms.py`)."""

CAPACITY_PROPERTIES = frozenset({"deployments-complete", "workloads-ready"})
"""The convergence properties a cluster too small for its pods fails (the pods stay Pending)."""


@attrs.frozen
class Finding:
    """One violation (or crash) of one case, classified."""

    property: str
    message: str
    verdict: str
    """`upstream: NAME`, `unfit: POD`, `FALSE ALARM` or `crash`."""
    engine: str = ""
    path: Path | None = None
    steps: int = 0

    def unexplained(self) -> bool:
        """A false-alarm candidate or a crash."""
        return self.verdict in ("FALSE ALARM", "crash")


@attrs.frozen
class Case:
    """One drawn scenario and what the engines found on it."""

    index: int
    features: frozenset[str]
    loaded: bool
    cpu_seconds: float
    findings: tuple[Finding, ...] = ()
    load_error: str = ""

    @property
    def unexplained(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.unexplained())


def unfit_pod(report: CheckReport, found: Any) -> str | None:
    """A Pending pod of the workload the convergence violation names that no node takes, as the
    scheduler filters, in the state the violation fails in (the end of its trace), or None. A
    Pending pod of another workload explains nothing: the workload named is short for another
    reason."""
    if found.violation.property not in CAPACITY_PROPERTIES:
        return None
    try:
        final = states_of(report.model, found.trace)[-1]
    except Exception:  # a trace that does not replay explains nothing
        return None
    if len(found.trace) <= found.found_length:  # not extended by its fair continuation: settle it here
        final = next((run.state for recovers, run in continuations(report.model, final) if recovers), final)
    nodes = [n for n in final.store.list("nodes") if isinstance(n, Node)]
    pods = [p for p in final.store.list("pods") if isinstance(p, Pod)]
    infos = build_node_infos(nodes, pods)
    named = set(found.violation.objects)
    for pod in pods:
        if pod.spec.node_name or pod.metadata.deletion_timestamp is not None:
            continue
        if not named & pod_and_owners(final, pod):
            continue
        result = schedule_one(pod, infos, report.model.scheduler_profile,
                              volumes=stored_volumes(report.model, final.store, pod))
        if not result.feasible:
            return f"{pod.metadata.namespace}/{pod.metadata.name} ({result.message.partition('. ')[0]})"
    return None


def classify(report: CheckReport, found: Any, engine: str) -> Finding:
    """One discovery as a finding (see the module docstring)."""
    violation = found.violation
    behaviour = match(report.model, violation, found.trace)
    if behaviour is not None:
        verdict = f"upstream: {behaviour.name}"
    elif (pod := unfit_pod(report, found)) is not None:
        verdict = f"unfit: {pod}"
    else:
        verdict = "FALSE ALARM"
    message = violation.message + (f" ({found.note})" if found.path is None and found.note else "")
    return Finding(violation.property, message, verdict, engine, found.path, len(found.trace))


def load_problem(scenario: Path) -> str:
    """Why the scenario does not load or bootstrap cleanly ("" when it does)."""
    try:
        loaded = load_scenario(scenario)
    except BaseException as err:  # SystemExit from a usage error included
        return f"{type(err).__name__}: {err}"
    rejected = bootstrap(loaded).rejected
    return "; ".join(f"{type(o.obj).__name__} {o.obj.metadata.name}: {o.response.code} "
                     f"{o.response.message}" for o in rejected)


@attrs.frozen
class Plan:
    """What every case of one campaign runs."""

    seed: int = 0
    seconds: float = 3.0
    second: str = "walk"
    runs: int = 4
    only_with: tuple[str, ...] = ()
    """Run only the cases whose draw has every one of these features (the reach's names, e.g.
    `fault overload`): a slice aimed at what the draws rarely combine."""


def _engine_passes(scenario: Path, plan: Plan, out: Path) -> list[Finding]:
    findings: list[Finding] = []
    passes: list[tuple[str, float | None, EngineConfig]] = [
        ("portfolio", plan.seconds, EngineConfig(seed=plan.seed, workers=1, max_shrink_steps=MAX_SHRINK_STEPS))]
    if plan.second:
        passes.append((plan.second, None, EngineConfig(seed=plan.seed, workers=1, runs=plan.runs, budget_seconds=None,
                                                       max_shrink_steps=MAX_SHRINK_STEPS)))
    out.mkdir(parents=True, exist_ok=True)  # the benchmark's own folder (check makes only the last level)
    for engine, budget, config in passes:
        try:
            report = check(scenario, engine=engine, budget=budget, seed=plan.seed, config=config,
                           save_to=out / engine, all_discoveries=True)
        except Exception as err:  # a crash is a finding of its own, never a pass
            findings.append(Finding("(crash)", f"{type(err).__name__}: {err}", "crash", engine))
            continue
        findings.extend(classify(report, d, engine) for d in report.found)
    return findings


def run_case(index: int, plan: Plan, out: Path) -> Case:
    """Case `index`: draw, write, load, check, classify; an unexplained case is kept under `out`."""
    began = time.process_time()
    drawn: Drawn = seeded_scenario(plan.seed, index)
    with tempfile.TemporaryDirectory(prefix="kubeprop-gen-") as tmp:
        folder = Path(tmp) / f"case-{index}"
        scenario = drawn.write(folder)
        problem = load_problem(scenario)
        if problem:
            return Case(index, frozenset(drawn.features), False, time.process_time() - began, load_error=problem)
        findings = tuple(_engine_passes(scenario, plan, folder / "found"))
        case = Case(index, frozenset(drawn.features), True, time.process_time() - began, findings)
        if case.unexplained:
            keep = out / f"seed-{plan.seed}" / f"case-{index}"
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(folder, keep)
            case = attrs.evolve(case, findings=tuple(
                attrs.evolve(f, path=keep / f.path.relative_to(folder)) if f.path else f for f in findings))
        return case


SCAN_LIMIT = 200
"""With `Plan.only_with`, how many draws per wanted case the campaign looks through at most."""


def _indices(first: int, count: int, plan: Plan) -> list[int]:
    """The case indices a campaign runs: first..first+count-1, or with `plan.only_with` the first
    `count` indices from `first` whose draw has every feature asked for (at most `SCAN_LIMIT`
    draws looked at per case)."""
    if not plan.only_with:
        return list(range(first, first + count))
    wanted = set(plan.only_with)
    return [i for i in range(first, first + count * SCAN_LIMIT)
            if wanted <= seeded_scenario(plan.seed, i).features][:count]


def campaign(first: int, count: int, plan: Plan, out: Path, progress: bool = False) -> list[Case]:
    """Cases first..first+count-1 (with `plan.only_with`, the first `count` that have the features)."""
    cases = []
    for index in _indices(first, count, plan):
        case = run_case(index, plan, out)
        if progress:
            found = ", ".join(f"{f.property} [{f.verdict}]" for f in case.findings) or (
                "clean" if case.loaded else f"LOAD ERROR {case.load_error}")
            room = "roomy" if "roomy" in case.features else "tight"
            sys.stderr.write(f"case {index} ({room}, {case.cpu_seconds:.1f} cpu s): {found}\n")
            for f in case.unexplained:
                sys.stderr.write(f"    {f.engine} {f.property}: {f.message}\n    {f.path}\n")
            sys.stderr.flush()
        cases.append(case)
    return cases


def render(cases: Sequence[Case], plan: Plan) -> str:
    """The summary: totals, upstream behaviours by kind, features reached, every unexplained finding."""
    loaded = [c for c in cases if c.loaded]
    upstream = Counter(f.verdict.partition(": ")[2] for c in cases for f in c.findings
                       if f.verdict.startswith("upstream"))
    unfit = Counter(f.property for c in cases for f in c.findings if f.verdict.startswith("unfit"))
    alarms = [(c, f) for c in cases for f in c.findings if f.verdict == "FALSE ALARM"]
    crashes = [(c, f) for c in cases for f in c.findings if f.verdict == "crash"]
    cpu = sum(c.cpu_seconds for c in cases)
    second = f" + {plan.second} ({plan.runs} runs)" if plan.second else ""
    only = f", only cases with {', '.join(plan.only_with)}" if plan.only_with else ""
    lines = [f"seed {plan.seed}: portfolio {plan.seconds:g} s{second} per case{only}",
             f"{'cases':<46}{len(cases):>6}", f"{'loaded':<46}{len(loaded):>6}",
             f"{'clean':<46}{sum(1 for c in loaded if not c.findings):>6}"]
    lines += [f"{'upstream ' + name:<46}{n:>6}" for name, n in sorted(upstream.items())]
    lines += [f"{'unfit (' + prop + ')':<46}{n:>6}" for prop, n in sorted(unfit.items())]
    lines += [f"{'false-alarm candidates':<46}{len(alarms):>6}", f"{'crashes':<46}{len(crashes):>6}",
              f"{'cpu seconds':<46}{cpu:>6.0f}"]
    reach = Counter(feature for c in cases for feature in c.features)
    lines.append("\nreach: " + ", ".join(f"{name} {n}" for name, n in sorted(reach.items())))
    for c in cases:
        if not c.loaded:
            lines.append(f"case {c.index}: LOAD ERROR {c.load_error}")
    for c, f in alarms + crashes:
        lines.append(f"case {c.index} [{f.engine}] {f.property} ({f.steps} steps): {f.message}")
        lines.append(f"    {f.verdict}; {f.path}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int_in(1, 1_000_000), default=100, help="how many cases (default 100)")
    parser.add_argument("--first", type=int_in(0, 2**31), default=0, help="the first case's index (default 0)")
    parser.add_argument("--seconds", type=float, default=3.0, help="the portfolio's budget per case (default 3)")
    parser.add_argument("--seed", type=int_in(0, 2**31), default=0, help="draws and engines' seed (default 0)")
    parser.add_argument("--second", default="walk", help="a second engine run for --runs runs ('' for none)")
    parser.add_argument("--runs", type=int_in(1, 10_000), default=4, help="runs of the second engine (default 4)")
    parser.add_argument("--only-with", action="append", default=[], metavar="FEATURE",
                        help="only cases whose draw has this feature, as the reach names it (repeatable)")
    parser.add_argument("--out", type=Path, default=Path("kubeprop-out/generated"), help="where unexplained cases go")
    args = parser.parse_args(argv)
    plan = Plan(seed=args.seed, seconds=args.seconds, second=args.second, runs=args.runs,
                only_with=tuple(args.only_with))
    import os
    sys.stderr.write(f"load average {os.getloadavg()}\n")
    cases = campaign(args.first, args.cases, plan, args.out, progress=True)
    print(render(cases, plan))
    print(f"load average {os.getloadavg()}")
    unexplained = any(c.unexplained or not c.loaded for c in cases)
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
