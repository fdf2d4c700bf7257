"""`kubeprop gate`: the CI gate. Fails closed. What it does, its outputs and its exit codes:
`commands.GATE_DESCRIPTION` (its --help); its flags: `commands.gate_arguments`."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import attrs

from kubeprop.counterexamples.api import CheckReport, check
from kubeprop.counterexamples.printable import shown, shown_error
from kubeprop.model.api.manifests import ManifestError
from kubeprop.model.api.yamlsource import YamlError, load_yaml_documents
from kubeprop.model.cluster.twin import CORRECT
from kubeprop.model.errors import InputError, describe_kind
from kubeprop.properties.cli.check import keep_hypothesis_under
from kubeprop.properties.cli.check_table import (
    discovery_length,
    figures_missing,
    reduced_depth,
    relies_line,
    searched_on_lines,
)
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.gate_config import (
    BUILTIN_CORPUS,
    DEFAULT_CHECKS,
    CheckSpec,
    GateConfig,
    load_config,
    resolve,
)
from kubeprop.properties.cli.gate_outputs import Corpus, gate_outputs, output_problems
from kubeprop.properties.cli.gate_replay import linked_scenarios, replay_case
from kubeprop.properties.cli.gate_report import Case, GateWarning, Tally, write_junit, write_summary
from kubeprop.properties.cli.interrupted import Interrupted, terminated
from kubeprop.properties.cli.property_calls import NEVER_JUDGED, never_judged
from kubeprop.properties.explore.engine import EngineConfig, ExitReason
from kubeprop.properties.modules import checked_properties, load_own_scenario
from kubeprop.properties.registry import registry_kept, select
from kubeprop.properties.upstream_behaviour import HEADING
from kubeprop.properties.vacuity import vacuous_properties, variant_vacuity

GATE_BOUNDED_DEPTH = f"held, bounded ({ExitReason.DEPTH_BOUND})"
"""A property's case message when a depth bound stopped the search (`_verdict`)."""

__all__ = ["BUILTIN_CORPUS", "CheckOutcome", "CheckSpec", "GateConfig", "check_cases", "corpus_cases", "load_config",
           "run_gate", "suite_names"]


def corpus_files(config: GateConfig, base: Path) -> list[Path]:
    """The corpus files to replay, in folder then name order."""
    files: list[Path] = []
    for folder in config.corpus if config.corpus is not None else (str(BUILTIN_CORPUS),):
        files.extend(sorted(resolve(folder, base).glob("*.json")))
    return files


def corpus_others(config: GateConfig, base: Path) -> list[Case]:
    """A case for every other entry of a corpus folder, so that nothing in it goes unreplayed
    unseen: a file named like a counterexample file but not `*.json` (`bug.JSON`) is an error (a
    known bug nobody replays must not let the gate pass); anything else is shown as skipped."""
    cases = []
    for folder in config.corpus if config.corpus is not None else (str(BUILTIN_CORPUS),):
        try:
            entries = sorted(resolve(folder, base).iterdir())
        except OSError as err:
            cases.append(Case("corpus", folder, "error", f"cannot list the folder: {err.strerror or err}"))
            continue
        for entry in entries:
            if entry.suffix == ".json" or entry.name.startswith("."):  # replayed (`corpus_files`), or hidden
                continue
            if entry.is_dir():
                why = "a folder (corpus folders are not read recursively; list it under corpus:)"
            elif ".json" in entry.name.lower():
                cases.append(Case("corpus", entry.name, "error", "named like a counterexample file but not *.json, "
                                  "so it is not replayed: rename it to end in .json", "", 0.0, str(entry)))
                continue
            else:
                why = "only *.json files in a corpus folder are counterexample files"
            cases.append(Case("corpus", entry.name, "skipped", f"not replayed: {why}", "", 0.0, str(entry)))
    return cases


def corpus_cases(config: GateConfig, base: Path) -> Iterator[Case]:
    """One case per corpus file (replayed in a child process): its verdict must match its
    expectation, and a note says where its own scenario differs from the one of the same name a
    check runs on (`linked_scenarios`); then the folders' other entries (`corpus_others`)."""
    linked = linked_scenarios(config, base)
    for path in corpus_files(config, base):
        yield replay_case(path, config.allow_imports, config.replay_timeout, linked)
    yield from corpus_others(config, base)


def suite_names(checks: Sequence[CheckSpec]) -> list[str]:
    """Each check's JUnit suite: `SCENARIO [VARIANT, ENGINE]`; checks that would share one (the
    same scenario, variant and engine) each get their place in the config added, `checks[I]`, so
    every suite is unique and keeps its name from run to run."""
    names = [f"{spec.scenario or 'feastflow'} [{spec.variant}, {spec.engine}]" for spec in checks]
    counts = Counter(names)
    return [f"{name} checks[{i}]" if counts[name] > 1 else name for i, name in enumerate(names)]


def not_a_scenario(path: Path | None) -> str:
    """Why the file at `path` cannot be a scenario without quoting it ('' if it may be one): a
    document that is not a mapping (`/etc/passwd` is one long string). Its content is never
    shown: the gate's log is a CI log, and the file may be anything the config names."""
    if path is None or not path.is_file():
        return ""
    try:
        docs = load_yaml_documents(path)
    except YamlError:  # the loader's own problem says where, without the content
        return ""
    for n, doc in enumerate(docs, 1):
        if not isinstance(doc.data, dict):
            kind = describe_kind(doc.data)
            return (f"{shown(path)}:{doc.line}: not a scenario file: expected a YAML mapping with apiVersion and "
                    f"kind (a kind: Scenario document, or manifests), got {kind} in document {n}")
    return ""


def bad_input_case(spec: CheckSpec, path: Path | None, err: InputError, suite: str, seconds: float,
                   where: str) -> Case:
    """The one error case of a check whose scenario does not load: bad input, naming the config
    field and the problem's file, line and field; a file that is not a scenario is named, never
    quoted (`not_a_scenario`)."""
    problem = not_a_scenario(path) or shown_error(err).replace("\n", "; ")
    return Case(suite, "scenario", "error", f"bad input: {where}.scenario {shown(spec.scenario or 'feastflow')}: "
                f"{problem}", "", seconds)


@attrs.frozen
class CheckOutcome:
    """One configured check's cases (one per property, or one error case) and its warnings."""

    cases: list[Case]
    warnings: list[GateWarning] = attrs.Factory(list)


def check_cases(spec: CheckSpec, base: Path, budget: float, out: Path, strict: bool = False,
                suite: str | None = None, where: str = "checks[0]", reduction: bool = True) -> CheckOutcome:
    """`_check_cases` with the property registry as it was afterwards: what the check's modules
    register when imported is checked in this check only, never in a later one of the gate."""
    with registry_kept():
        return _check_cases(spec, base, budget, out, strict, suite, where, reduction)


def _check_cases(spec: CheckSpec, base: Path, budget: float, out: Path, strict: bool, suite: str | None,
                 where: str, reduction: bool) -> CheckOutcome:
    """Run one configured check; one case per property (a crash fails every case, with its reason;
    input that does not load is one bad-input case, `bad_input_case`). The search goes on after a
    violation, so each property gets its own verdict (`_verdict`); a known upstream behaviour
    passes (with its citation) unless `strict`; a property that could not have failed in the
    scenario is vacuous, not held. `suite`: the cases' suite (default from `suite_names`); `where`:
    the check's place in the config; `reduction`: the BFS's partial-order reduction (`--no-reduction`:
    off), whose depth-bound warning (`reduced_depth`, as `kubeprop check`'s) is one of the check's."""
    scenario = None if not spec.scenario else (Path(spec.scenario) if Path(spec.scenario).is_absolute()
                                               else base / spec.scenario)
    names = list(spec.properties or ()) or [p.name for p in select()]
    suite = suite or suite_names([spec])[0]
    began = time.perf_counter()
    loaded = None
    try:
        loaded = load_own_scenario(scenario)
        props = checked_properties(loaded, spec.properties or None, spec.property_modules)
        names = [p.name for p in props]
        bounds = EngineConfig(max_depth=spec.max_depth, max_states=spec.max_states, reduction=reduction)
        report = check(loaded, props, engine=spec.engine, budget=budget, variant=spec.variant,
                       parameters=dict(spec.parameters), config=bounds, save_to=out, all_discoveries=True)
        vacuous = vacuous_properties(report.model, props)
    except InputError as err:
        if loaded is None:
            return CheckOutcome([bad_input_case(spec, scenario, err, suite, time.perf_counter() - began, where)])
        # a property module or parameter that the config check let through
        return CheckOutcome([Case(suite, "input", "error", f"bad input: {where}: "
                                  f"{shown_error(err).replace(chr(10), '; ')}", "", time.perf_counter() - began)])
    except (Exception, SystemExit) as err:  # fail closed: a crash is a failure with its reason
        reason = f"crashed: {type(err).__name__}: {err}"
        return CheckOutcome([Case(suite, n, "error", reason, traceback.format_exc(), time.perf_counter() - began)
                             for n in names])
    seconds = time.perf_counter() - began
    cases = [_verdict(spec, report, name, vacuous.get(name), strict, budget, suite, seconds) for name in names]
    variant = variant_vacuity(report.model)
    if variant is not None and spec.vacuous == "fail" and not any(variant in c.message for c in cases):
        # none of the properties checked is one the variant is caught by: the check itself is vacuous
        cases.append(Case(suite, f"variant {spec.variant}", "failed", f"vacuous: {variant} (vacuous: fail)", "",
                          seconds))
    warnings = (variant, figures_missing(report), reduced_depth(report, spec.max_depth, GATE_BOUNDED_DEPTH))
    return CheckOutcome(cases, [GateWarning(suite, w) for w in warnings if w])


def _verdict(spec: CheckSpec, report: CheckReport, name: str, vacuous: str | None, strict: bool, budget: float,
             suite: str, seconds: float) -> Case:
    """One property's case: violated (or known upstream behaviour), vacuous (`vacuous`: why it
    could not have failed here; a failure with `vacuous: fail`), inconclusive, or held. A violation of
    the user's found past known upstream behaviour of the property decides (`CheckReport.searched_on`)."""
    found = next((d for d in report.found if d.violation.property == name and d.upstream is None),
                 report.discovery(name))
    if found is not None:
        detail = f"counterexample: {found.path}\n" if found.path else found.note
        behaviour = None if strict else found.upstream
        length = discovery_length(found)
        relies = relies_line(report, found)
        if behaviour is not None:
            also = "" if report.model.variant == CORRECT else f"; also without variant {report.model.variant}"
            on = "".join(f"; {line}" for line in searched_on_lines(report, found))
            return Case(suite, name, "passed", f"{HEADING}: {found.violation.message} ({length}; {behaviour.name}: "
                        f"{'; '.join(behaviour.citations)}{also}){on}", detail, seconds, str(found.path or ""),
                        relies)
        return Case(suite, name, "failed", f"{found.violation.message} ({length})", detail, seconds,
                    str(found.path or ""), relies)
    if vacuous is not None:
        if spec.vacuous == "fail":
            return Case(suite, name, "failed", f"vacuous: {vacuous} (vacuous: fail)", "", seconds)
        return Case(suite, name, "vacuous", f"vacuous: {vacuous}", "", seconds)
    if not report.complete and not getattr(report.stats, "steps", 0):
        return Case(suite, name, "failed", f"inconclusive: the check took no step within its budget ({budget:g} s); "
                                           "nothing was checked", "", seconds)
    if spec.require == "exhaustive" and not report.complete:
        return Case(suite, name, "failed", f"inconclusive: {report.exit_reason} before an exhaustive search "
                                           "finished", "", seconds)
    if spec.require == "deterministic" and not report.complete and report.exit_reason == ExitReason.TIME_BOUND:
        bounds = f"depth {spec.max_depth}" + (f", {spec.max_states:,} states" if spec.max_states else "")
        return Case(suite, name, "failed", f"inconclusive: the budget ({budget:g} s, a safety limit here) cut the "
                    f"search before its bounds ({bounds}); a verdict then depends on the machine's speed", "",
                    seconds)
    prop = next((p for p in report.properties if p.name == name), None)
    if prop is not None and never_judged(report, prop):  # "held" would claim what was never looked at
        return Case(suite, name, "failed", f"inconclusive: {NEVER_JUDGED} within the budget ({budget:g} s)", "",
                    seconds)
    how = "exhaustive" if report.complete else f"bounded ({report.exit_reason})"  # GATE_BOUNDED_DEPTH
    return Case(suite, name, "passed", f"held, {how}", "", seconds)


def case_line(case: Case) -> str:
    """A case's line in the log: `ok   SUITE :: NAME: MESSAGE` (`FAIL`, `ERR `, `WARN`, `skip`), and
    under a violation its `relies on:` line, indented (as `kubeprop check` prints it), then its
    notes (`Case.notes`), one `label: text` line each."""
    mark = {"passed": "ok  ", "skipped": "skip", "vacuous": "WARN", "failed": "FAIL", "error": "ERR "}[case.status]
    relies = f"\n       {shown(case.relies)}" if case.relies else ""
    relies += "".join(f"\n       {shown(label)}: {shown(text)}" for label, text in case.notes)
    return f"{mark} {shown(case.suite)} :: {shown(case.name)}: {shown(case.message)}{relies}"


def _report(cases: list[Case], warnings: list[GateWarning], junit: Path | None, summary: Path | None,
            append: bool, inputs: list[Path], printed: int = 0) -> list[str]:
    """Write JUnit and the summary; the lines for the terminal: the cases not `printed` yet (their
    lines went out as they finished), the warnings, the tally."""
    if junit:
        write_junit(cases, junit, inputs, warnings)
    if summary:
        write_summary(cases, summary, append=append, inputs=inputs, warnings=warnings)
    t = Tally.of(cases)
    lines = [case_line(case) for case in cases[printed:]]
    if warnings:
        lines.append("")
    lines += [f"warning: {shown(w.suite)}: {shown(w.text)}" for w in warnings]
    also = f", {t.vacuous} vacuous (could not have failed here: see their reasons)" if t.vacuous else ""
    also += f", {t.skipped} skipped (not counterexample files: see their lines)" if t.skipped else ""
    lines.append(f"\ngate: {t.held} of {t.counted} cases held{also}; {'FAILED' if t.failed else 'PASSED'}")
    return lines


def corpus_folders(config: GateConfig, base: Path, file: Path | None = None) -> list[Corpus]:
    """The corpus folders the gate replays, each with how the config `file` names it (no output
    goes there)."""
    if config.corpus is None:
        return [Corpus(BUILTIN_CORPUS, f"{BUILTIN_CORPUS} (the built-in corpus)")]
    return [Corpus(resolve(folder, base), f"{folder} (corpus: in {file})" if file else folder)
            for folder in config.corpus]


def _setup(args: argparse.Namespace) -> tuple[GateConfig, Path, list[Path]]:
    """The config, its base folder and the gate's input files; InputError naming every problem of
    the config and of the output paths at once (an unreadable config is checked against alone)."""
    try:
        config, base = load_config(args.config)
    except ManifestError as err:
        problems = list(err.problems) + output_problems(args, [args.config] if args.config else [])
        raise ManifestError(problems) from None
    inputs = [*([args.config] if args.config else []), *corpus_files(config, base)]
    problems = output_problems(args, inputs, corpus_folders(config, base, args.config))
    if problems:
        raise ManifestError(problems)
    return config, base, inputs


def run_gate(args: argparse.Namespace) -> int:
    """Run the gate; 0 only if every case passed (skipped cases do not fail the gate)."""
    config, base, inputs = _setup(args)
    keep_hypothesis_under(args.out)
    junit, summary, append = gate_outputs(args)
    cases: list[Case] = []
    warnings: list[GateWarning] = []
    printed = 0

    def finished(new: Iterable[Case]) -> None:  # each case's line goes out as it finishes: no silent CI log
        nonlocal printed
        for case in new:
            cases.append(case)
            sys.stdout.write(case_line(case) + "\n")
            sys.stdout.flush()
            printed = len(cases)

    try:
        finished(corpus_cases(config, base))
        checks = config.checks or DEFAULT_CHECKS  # `checks: []` was refused
        share = args.budget / len(checks) if args.budget else None
        for i, (spec, suite) in enumerate(zip(checks, suite_names(checks), strict=True)):
            budget = min(spec.budget, share) if share else spec.budget
            sys.stderr.write(f"kubeprop gate: running checks[{i}]: {shown(suite)} (budget {budget:g} s)…\n")
            sys.stderr.flush()
            outcome = check_cases(spec, base, budget, args.out, args.strict, suite, f"checks[{i}]",
                                  getattr(args, "reduction", True))
            finished(outcome.cases)
            warnings.extend(outcome.warnings)
    except KeyboardInterrupt:
        by = "SIGTERM" if terminated() else "Ctrl-C"
        cases.append(Case("gate", "interrupted", "error", f"interrupted before every case ran ({by})"))
        raise Interrupted("\n".join(_report(cases, warnings, junit, summary, append, inputs, printed))) from None
    sys.stdout.write("\n".join(_report(cases, warnings, junit, summary, append, inputs, printed)) + "\n")
    return ExitCode.OK if all(c.status in ("passed", "skipped", "vacuous") for c in cases) else ExitCode.VIOLATION
