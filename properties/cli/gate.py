"""`kubeprop gate`: the CI gate. Fails closed.

1. Replays the counterexample corpus: known bugs must REPRODUCE, fixed ones must PASS; a STALE
   file, an unreadable file or a mismatch is a failure.
2. Runs the configured checks within the budget; any violation, any crash, and — for a check that
   requires an exhaustive search — any bound reached first is a failure with its reason.
3. Writes JUnit XML (one case per property × scenario and per corpus file; failures carry the
   rendered trace and the counterexample path) and a Markdown summary for a CI job page
   (`--summary FILE`, or `$GITHUB_STEP_SUMMARY` when set).

Exit 0 only if everything held; 1 otherwise; 2 on bad input (a bad config file or flag).

The config file (YAML):

    corpus: [counterexamples/corpus]          # folders of counterexample files (default: the built-in corpus)
    checks:
      - scenario: path/to/scenario.yaml       # default: FeastFlow
        variant: correct
        engine: bfs                           # bfs | walk | hypothesis
        properties: [node-not-overcommitted]  # default: all (built-ins, the scenario's own, propertyModules')
        propertyModules: [team_checks]        # your own properties, MODULE[:ATTR] (as --properties)
        budget: 20                            # seconds
        maxDepth: 6
        parameters: {instantCaches: true}
        require: bounded                      # bounded | exhaustive
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import attrs

from kubeprop.counterexamples.api import check
from kubeprop.counterexamples.format import CounterexampleError
from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.replay import replay
from kubeprop.model.api.codec import DecodeError, decode_attrs, format_path
from kubeprop.model.api.manifests import Problem
from kubeprop.model.api.yamlsource import YamlError, load_yaml_documents
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.properties.cli.check import keep_hypothesis_under
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.gate_report import Case, write_junit, write_summary
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.modules import checked_properties
from kubeprop.properties.registry import select

BUILTIN_CORPUS = Path(__file__).resolve().parent.parent / "counterexamples" / "corpus"


@attrs.frozen
class CheckSpec:
    """One configured check."""

    scenario: str = ""
    variant: str = "correct"
    engine: str = "bfs"
    properties: tuple[str, ...] = ()
    property_modules: tuple[str, ...] = ()
    budget: float = 20.0
    max_depth: int = 6
    parameters: FrozenMap[str, Any] = EMPTY
    require: Literal["bounded", "exhaustive"] | str = "bounded"


@attrs.frozen
class GateConfig:
    """The whole gate configuration."""

    corpus: tuple[str, ...] = ()
    checks: tuple[CheckSpec, ...] = ()


DEFAULT_CHECKS = (CheckSpec(engine="bfs", budget=20.0, max_depth=4, parameters=FrozenMap({"instantCaches": True})),)


def load_config(path: Path | None) -> tuple[GateConfig, Path]:
    """The gate config (defaults when no file) and the folder its relative paths start from."""
    if path is None:
        return GateConfig(corpus=(str(BUILTIN_CORPUS),), checks=DEFAULT_CHECKS), Path.cwd()
    try:
        docs = load_yaml_documents(path)
    except YamlError as err:
        raise ScenarioError([Problem.from_yaml_error(err)]) from None
    if len(docs) != 1:
        raise ScenarioError([Problem(str(path), 0, "", "a gate config holds exactly one YAML document")])
    try:
        config: GateConfig = decode_attrs(GateConfig, docs[0].data)
    except DecodeError as err:
        where = docs[0].line_of(err.path)
        raise ScenarioError([Problem(str(path), where, format_path(err.path), err.message)]) from None
    for i, spec in enumerate(config.checks):
        if spec.require not in ("bounded", "exhaustive") or spec.engine not in ("bfs", "walk", "hypothesis"):
            field = "require" if spec.require not in ("bounded", "exhaustive") else "engine"
            valid = "bounded, exhaustive" if field == "require" else "bfs, walk, hypothesis"
            raise ScenarioError([Problem(str(path), docs[0].line_of(("checks", i, field)), f"checks[{i}].{field}",
                                         f"must be one of: {valid}")])
    return config, path.parent


def _corpus_files(config: GateConfig, base: Path) -> list[Path]:
    files: list[Path] = []
    for folder in config.corpus:
        root = Path(folder) if Path(folder).is_absolute() else base / folder
        files.extend(sorted(root.glob("*.json")))
    return files


def corpus_cases(config: GateConfig, base: Path) -> Iterator[Case]:
    """One case per corpus file: its verdict must match its expectation."""
    for path in _corpus_files(config, base):
        began = time.perf_counter()
        try:
            result = replay(path)
        except (CounterexampleError, ScenarioError) as err:
            yield Case("corpus", path.name, "error", f"unreadable: {err}", "", time.perf_counter() - began)
            continue
        expected = result.counterexample.expectation or "reproduces"
        ok = result.verdict.value.lower() == expected
        detail = render_text(result) if not ok else ""
        message = f"{result.verdict.value}, expected {expected.upper()}: {result.reason}"
        yield Case("corpus", path.name, "passed" if ok else "failed", message, detail, time.perf_counter() - began,
                   str(path))


def check_cases(spec: CheckSpec, base: Path, budget: float, out: Path) -> list[Case]:
    """Run one configured check; one case per property (a crash fails every case, with its reason)."""
    scenario = None if not spec.scenario else (Path(spec.scenario) if Path(spec.scenario).is_absolute()
                                               else base / spec.scenario)
    names = list(spec.properties) or [p.name for p in select()]
    suite = f"{spec.scenario or 'feastflow'} [{spec.variant}, {spec.engine}]"
    began = time.perf_counter()
    try:
        loaded = load_scenario(scenario)
        props = checked_properties(loaded, spec.properties or None, spec.property_modules)
        names = [p.name for p in props]
        report = check(loaded, props, engine=spec.engine, budget=budget, variant=spec.variant,
                       parameters=dict(spec.parameters), config=EngineConfig(max_depth=spec.max_depth), save_to=out)
    except Exception as err:  # fail closed: a crash is a failure with its reason
        reason = f"crashed: {type(err).__name__}: {err}"
        return [Case(suite, n, "error", reason, traceback.format_exc(), time.perf_counter() - began) for n in names]
    seconds = time.perf_counter() - began
    cases = []
    for name in names:
        if report.violation is not None and report.violation.property == name:
            detail = f"counterexample: {report.path}\n" if report.path else report.note
            cases.append(Case(suite, name, "failed", str(report.violation), detail, seconds,
                              str(report.path or "")))
        elif report.violation is not None:
            cases.append(Case(suite, name, "skipped", "not reached: the engine stopped at another violation", "",
                              seconds))
        elif spec.require == "exhaustive" and not report.complete:
            cases.append(Case(suite, name, "failed", f"inconclusive: {report.exit_reason} before an exhaustive "
                                                     "search finished", "", seconds))
        else:
            how = "exhaustive" if report.complete else f"bounded ({report.exit_reason})"
            cases.append(Case(suite, name, "passed", f"held, {how}", "", seconds))
    return cases


def run_gate(args: argparse.Namespace) -> int:
    """Run the gate; 0 only if every case passed (skipped cases do not fail the gate)."""
    config, base = load_config(args.config)
    keep_hypothesis_under(args.out)
    cases = list(corpus_cases(config, base))
    checks = config.checks or DEFAULT_CHECKS
    share = args.budget / len(checks) if args.budget else None
    for spec in checks:
        cases.extend(check_cases(spec, base, min(spec.budget, share) if share else spec.budget, args.out))
    if args.junit:
        write_junit(cases, args.junit)
    if args.summary:
        write_summary(cases, args.summary)
    elif os.environ.get("GITHUB_STEP_SUMMARY"):
        write_summary(cases, Path(os.environ["GITHUB_STEP_SUMMARY"]), append=True)
    failed = [c for c in cases if c.status in ("failed", "error")]
    for case in cases:
        mark = {"passed": "ok  ", "skipped": "skip", "failed": "FAIL", "error": "ERR "}[case.status]
        sys.stdout.write(f"{mark} {case.suite} :: {case.name}: {case.message}\n")
    sys.stdout.write(f"\ngate: {len(cases) - len(failed)} of {len(cases)} cases held; "
                     f"{'PASSED' if not failed else 'FAILED'}\n")
    return ExitCode.OK if not failed else ExitCode.VIOLATION


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kubeprop gate` to the CLI."""
    p = sub.add_parser("gate", help="CI gate: replay the corpus, run the configured checks, write JUnit",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, help="gate config file (YAML; default: the built-in corpus and a "
                                                "bounded BFS of FeastFlow)")
    p.add_argument("--budget", type=float, help="seconds for all checks together (each check also has its own)")
    p.add_argument("--junit", type=Path, help="write JUnit XML here")
    p.add_argument("--summary", type=Path, help="write a Markdown summary here (default: $GITHUB_STEP_SUMMARY)")
    p.add_argument("--out", type=Path, default=Path("kubeprop-out"), help="where new counterexample files go")
    p.set_defaults(run=run_gate)
