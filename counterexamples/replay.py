"""Replay: re-run a counterexample's actions through the current model and give a verdict.

- REPRODUCES: every action up to the violating step is still enabled, every state before it has
  the recorded fingerprint, and the property fails at the recorded step;
- PASSES: the same, but the property now holds at that step (the bug was fixed — the state at
  the violating step itself may differ); a lasso PASSES only when its cycle still closes and the
  cycle property holds on it;
- STALE: the trace no longer applies — an action is not enabled any more, a state before the
  violating step has a different fingerprint (the model changed), or a path-mode scenario
  changed (then nothing is replayed: `states` is empty, see `replay`), or a lasso's cycle does
  not close (its cycle property is then not judged). `reason` says which, and where.

A file that cannot be read (bad JSON, wrong schema version, unknown action, edited inline
scenario) raises `CounterexampleError` instead: that is bad input, not a verdict. So does a file
that contradicts itself (`passes_problems`): a `passes` expectation on a trace replayed under a
catalogued bug.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import attrs

from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.counterexamples.format_read import load
from kubeprop.counterexamples.format_records import Counterexample, CounterexampleError, PropertyRecord, length_words
from kubeprop.counterexamples.module_names import module_name_problem
from kubeprop.counterexamples.recorded import (
    mismatch_reason,
    passes_reason,
    property_mismatches,
    property_record,
    violation_mismatches,
)
from kubeprop.counterexamples.reproduce import AllowAdvice, distinct, file_modules, is_builtin, refusal
from kubeprop.counterexamples.scenario_diff import parameter_words
from kubeprop.counterexamples.scenario_pack import BUILTIN_FEASTFLOW, build_packed
from kubeprop.model.api.manifests import Problem
from kubeprop.model.cluster.compose import actions, initial_state, step
from kubeprop.model.errors import UsageError
from kubeprop.model.scenario.imports import NOT_FOUND_HINT
from kubeprop.model.scenario.variants import VARIANTS, mechanism
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import (
    OPT_IN,
    PROPERTIES,
    Property,
    Violation,
    did_you_mean,
    import_registering,
    select,
)


class Verdict(enum.StrEnum):
    """What replay says about a counterexample under the current model."""

    REPRODUCES = "REPRODUCES"
    PASSES = "PASSES"
    STALE = "STALE"


class Expectations:
    """What a replay result (cluster or Raft) says of the file's `expectation`: `expected`, the
    verdict it asks for, and whether the replay `meets_expectation`."""

    counterexample: Any
    verdict: Verdict

    @property
    def expected(self) -> Verdict | None:
        """The verdict the file's `expectation` asks for (None if it has none)."""
        exp = self.counterexample.expectation
        return None if exp is None else Verdict(exp.upper())

    @property
    def required(self) -> Verdict:
        """The verdict `kubeprop replay --expect`, the gate and the pytest plugin require of the
        file: its `expectation`, else REPRODUCES (a counterexample file records a violation;
        docs/counterexamples.md)."""
        return self.expected or Verdict.REPRODUCES

    @property
    def meets_expectation(self) -> bool | None:
        """True/False when the file has an expectation, else None."""
        return None if self.expected is None else self.verdict == self.expected


@attrs.frozen
class ReplayResult(Expectations):
    """The verdict, why, and the replayed run (for rendering).

    `states[k]` is the replayed state after k actions (as far as the replay got; none when the
    file was not replayed, a changed path-mode scenario); `drift_step`
    the first step whose fingerprint differs from the recorded one (None if none did);
    `violation` what the property reports at the violating step (None if it holds or the
    replay did not get there).
    """

    file: str
    counterexample: Counterexample
    verdict: Verdict
    reason: str
    model: ClusterModel
    states: tuple[ClusterState, ...]
    violation: Violation | None = None
    drift_step: int | None = None
    closure: Any = None
    """For a lasso: where its cycle closes (`kubeprop.counterexamples.lasso.Closure`)."""
    scenario: str | None = None
    """The scenario the user named to replay on (`replay(scenario=…)`), as given; None: the file's own."""
    resolved: PropertyRecord | None = None
    """The property replay resolved, as a file records it (`recorded.property_record`): what the
    renderings show, in place of what the file says of it (None when not resolved)."""

    @property
    def fingerprints(self) -> tuple[str, ...]:
        """Fingerprints of the replayed states."""
        return tuple(fingerprint(s) for s in self.states)


NOT_REPLAYED = ("what is at the path now is not what the file was written from, and a file under review shows "
                "only what it holds (replay it against the scenario as it is now with kubeprop replay FILE "
                "--scenario PATH)")
"""Why a path-mode file whose scenario changed is not replayed (its reason ends with this)."""

def _may_import(module: str, allow: Collection[str]) -> bool:
    return module in allow or is_builtin(module)


def _registered(ce: Counterexample, properties: Iterable[Property]) -> bool:
    """Whether the file's property is found without importing its module."""
    if ce.is_lasso or any(p.name == ce.property.name for p in properties):
        return True
    try:
        select([ce.property.name])
    except KeyError:
        return False
    return True


def check_imports(ce: Counterexample, file: str, allow: Collection[str], properties: Iterable[Property] = (),
                  scenario: bool = True, advice: AllowAdvice | None = None) -> None:
    """Refuse, all at once, every module the file names that replaying it would import and
    `allow` does not list (its scenario's unless `scenario` is False, its property's unless the
    property is registered already): a CounterexampleError whose message lists each with its
    place and how to allow every module the file names (`advice`: by default the command). A name that is not a
    module name is refused first, as a bad field (`module_names`): never suggested for allowing."""
    every = file_modules(ce, file, scenario)
    malformed = [Problem(file, 0, "property.module" if n.where == "property.module" else "scenario",
                         (module_name_problem(n.module) if n.where == "property.module"
                          else f"{n.where}: {module_name_problem(n.module)}"))
                 for n in every if module_name_problem(n.module)]
    if malformed:
        raise CounterexampleError(malformed)
    named = [n for n in every if not _may_import(n.module, allow)]
    if _registered(ce, properties):
        named = [n for n in named if n.where != "property.module"]
    if named:  # the command allows every module the file names, those allowed already too
        raise CounterexampleError([Problem(file, 0, "imports", refusal(named, file, distinct(every), advice))])


def resolve_property(ce: Counterexample, file: str, properties: Iterable[Property] = (),
                     allow_imports: Collection[str] = (), advice: AllowAdvice | None = None) -> Property:
    """The property a file names: one of `properties`, a registered one, or one registered by
    importing the module the file records — only a module that defines built-in properties
    (`registry.BUILTIN_MODULES`, exactly) or
    one the user allowed by name in `allow_imports` (a refusal says how: `advice`, by default
    the `kubeprop replay` flag)."""
    for prop in properties:
        if prop.name == ce.property.name:
            return prop
    name = ce.property.name
    try:
        return select([name])[0]
    except KeyError:
        pass
    module = ce.property.module
    if module and not _may_import(module, allow_imports):
        how = (advice(file, [module]) if advice is not None
               else f"kubeprop replay --allow-import {module}, or allow_imports=")
        raise CounterexampleError([Problem(file, 0, "property.module", f"{name!r} is not a registered property, "
                                           f"and the file names module {module!r} to define it: refusing to import "
                                           f"a module named in a file under review; allow it by name if you trust it "
                                           f"({how})")])
    why = ""
    if module:
        try:
            import_registering(module)
            return select([name])[0]
        except KeyError:
            why = "" if is_builtin(module) else f" (module {module!r}, which the file names, defines none of that name)"
        except (Exception, SystemExit) as err:  # an allowed module failing to import is reported like a missing one
            hint = f" {NOT_FOUND_HINT}" if isinstance(err, ModuleNotFoundError) else ""
            why = f" (module {module!r}, which the file names, cannot be imported: {type(err).__name__}: {err}{hint})"
    message = f"{name!r} is not a registered property{why}; {did_you_mean(name, {*PROPERTIES, *OPT_IN})}"
    raise CounterexampleError([Problem(file, 0, "property.name", message)])


def not_enabled(index: int, act: Action, enabled: Iterable[Action], scenario_changed: bool = False) -> str:
    """Why step `index + 1` of a trace is STALE: its action is not enabled. Names the recorded
    fields (`trace[1].action.component`) in which the nearest enabled action of its kind differs,
    so a model change — or a hand edit — shows where it is; where the trace is replayed on a changed
    scenario (`scenario_changed`), that change is named first as the likeliest cause. Steps count
    from 1 and the file's `trace` from 0, so the step's entry is named once: `step 23 (trace[22] in
    the file)`."""
    where = f"trace[{index}].action"
    same = [a for a in enabled if type(a) is type(act)]
    head = f"step {index + 1} (trace[{index}] in the file): {act} is no longer enabled"
    causes = "the scenario's change, the model's, or an edit of"
    if not same:
        if scenario_changed:
            return f"{head}: no {type(act).__name__} action is ({causes} {where})"
        return f"{head}: no {type(act).__name__} action is (the model changed, or {where} was edited)"
    names = [f.name for f in attrs.fields(cast(Any, type(act)))]

    def differing(other: Action) -> list[str]:
        return [n for n in names if getattr(other, n) != getattr(act, n)]

    nearest = min(same, key=lambda a: (len(differing(a)), a.sort_key()))
    fields = ", ".join(f"{where}.{n}" for n in differing(nearest))
    if scenario_changed:
        return f"{head}; the nearest enabled action, {nearest}, differs in {fields} ({causes} the file)"
    return (f"{head}; the nearest enabled action, {nearest}, differs in {fields} (the model changed, or the file "
            "was edited)")


def _first_drift(ce: Counterexample, states: list[ClusterState]) -> int | None:
    for k, state in enumerate(states):
        if fingerprint(state) != ce.fingerprints[k]:
            return k
    return None


def replay(source: Path | str | Counterexample, *, properties: Iterable[Property] = (),
           parameters: Mapping[str, Any] | None = None, variant: str | None = None,
           file: str | None = None, allow_imports: Iterable[str] = (),
           scenario: Path | str | None = None, allow_advice: AllowAdvice | None = None) -> ReplayResult:
    """Replay a counterexample file (or a loaded Counterexample). `parameters`/`variant` replay it
    against a changed model (what-if); `properties` supplies properties not in the registry;
    `scenario` replays it against a scenario the user names in place of the file's own (what-if;
    STALE when its content differs from the recorded one, but replayed all the same).

    A counterexample file is data: replay imports no module it names (its scenario's `admission:`
    and `controllers:` entries, its `property.module`) unless that module is in `allow_imports`
    (exact module names); built-in properties need no allowance. A refused import is a
    CounterexampleError naming the field and how to allow it (`allow_advice`: the words of the
    caller, `kubeprop.counterexamples.reproduce.AllowAdvice`; by default the `kubeprop replay`
    command). Nor does it show anything but what the file holds and
    what the user named: a path-mode scenario whose content differs from the recorded one (the
    file names a path, and what is there now is not what the file was written from) is STALE
    without being replayed, since its objects would be another folder's, chosen by the file — but
    for the built-in FeastFlow, which is kubeprop's own (a newer kubeprop's FeastFlow is replayed)."""
    run = _prepare(source, properties, parameters, variant, file, allow_imports, scenario, allow_advice)
    if isinstance(run, ReplayResult):
        return run
    stopped = _replay_actions(run)
    if stopped is not None:
        return stopped
    return _verdict(run, _judge_at_target(run))


@attrs.define
class _Replaying:
    """One replay under way: the loaded file, the model it replays on and what `replay` resolved
    (`changed`: why the scenario no longer matches the record, None if it does; `prop`: None for a
    lasso), with the states replayed so far and, for a lasso, where its cycle closes (`shut`)."""

    where: str
    ce: Counterexample
    model: ClusterModel
    changed: str | None
    prop: Property | None
    properties: tuple[Property, ...]
    scenario: str | None
    now: PropertyRecord
    states: list[ClusterState]
    shut: Any = None

    def result(self, verdict: Verdict, reason: str, violation: Violation | None = None) -> ReplayResult:
        """The ReplayResult of this replay as far as it got."""
        return ReplayResult(self.where, self.ce, verdict, reason, self.model, tuple(self.states), violation,
                            _first_drift(self.ce, self.states), self.shut, self.scenario, self.now)


def _prepare(source: Path | str | Counterexample, properties: Iterable[Property], parameters: Mapping[str, Any] | None,
             variant: str | None, file: str | None, allow_imports: Iterable[str], scenario: Path | str | None,
             allow_advice: AllowAdvice | None) -> _Replaying | ReplayResult:
    """`replay`'s setup: load the file, refuse imports it is not allowed, build the model it
    replays on and resolve its property. A path-mode file whose scenario changed is returned as
    its STALE result without being replayed; bad input raises (UsageError, CounterexampleError)."""
    allow = frozenset(allow_imports)
    malformed = sorted(m for m in allow if module_name_problem(m))
    if malformed:
        raise UsageError(f"allow_imports: {module_name_problem(malformed[0])}")
    if isinstance(source, Counterexample):
        ce, where = source, file or "<counterexample>"
    else:
        ce, where = load(source), str(source)
    params = dict(ce.parameters)
    params.update(parameters or {})
    pointed = None if scenario is None else Path(scenario)
    given = tuple(properties)
    check_imports(ce, where, allow, given, scenario=pointed is None, advice=allow_advice)
    model, changed = build_packed(ce.scenario, where, variant or ce.variant, params, allow, pointed)
    prop = None if ce.is_lasso else resolve_property(ce, where, given, allow, allow_advice)
    own_model = variant is None and not parameters and pointed is None and changed is None  # else a what-if
    problems = passes_problems(ce, where, model if own_model else None)
    if problems:
        raise CounterexampleError(problems)
    if changed is not None and pointed is None and ce.scenario.path != BUILTIN_FEASTFLOW:
        return ReplayResult(where, ce, Verdict.STALE, f"{changed}; not replayed: {NOT_REPLAYED}", model, ())
    return _Replaying(where, ce, model, changed, prop, given, None if scenario is None else str(scenario),
                      _now_record(ce, where, prop, given), [initial_state(model)])


def _replay_actions(run: _Replaying) -> ReplayResult | None:
    """Step the file's actions up to the violating step through the model, appending each state
    to `run.states`; the STALE result at the first action no longer enabled (None if all were)."""
    model, states, changed = run.model, run.states, run.changed
    for i, act in enumerate(run.ce.actions[:run.ce.violation.step]):
        enabled = actions(model, states[-1])
        if act not in enabled:
            stopped = not_enabled(i, act, enabled, scenario_changed=changed is not None)
            return run.result(Verdict.STALE, stopped if changed is None else f"{changed}; replayed on it all the "
                                                                             f"same: {stopped}")
        states.append(step(model, states[-1], act))
    return None


def _judge_at_target(run: _Replaying) -> Violation | None:
    """The property at the violating step (a lasso: the cycle property, judged on the cycle, which
    sets `run.shut`; counterexamples/lasso.py)."""
    if run.prop is not None:
        return run.prop(run.model, run.states[run.ce.violation.step])
    from kubeprop.counterexamples.lasso import judge

    found, run.shut = judge(run.model, run.ce, run.states, run.where, run.properties)
    return found


def _verdict(run: _Replaying, found: Violation | None) -> ReplayResult:
    """The verdict of a replay that reached the violating step, given what the property said there:
    STALE when the scenario changed, a state on the way drifted, a lasso's cycle did not close or the
    file's records disagree; else REPRODUCES or PASSES."""
    ce, states, target, name = run.ce, run.states, run.ce.violation.step, run.ce.property.name
    if run.changed is not None:
        outcome = "fails" if found is not None else "holds"
        return run.result(Verdict.STALE, f"{run.changed}; replayed on it all the same: {name} {outcome} at step "
                                         f"{target}", found)
    drift = _first_drift(ce, states)
    if drift is not None and drift < target:
        return run.result(Verdict.STALE, _drift_reason(ce, states, drift, name, target, found), found)
    if ce.is_lasso and (run.shut is None or not run.shut.closes):  # the cycle property was not judged
        from kubeprop.counterexamples.lasso import open_cycle_reason

        return run.result(Verdict.STALE, open_cycle_reason(ce, run.shut, states, name))
    fails = f"{name} fails at step {target}{_length(ce)}" if found is not None else f"{name} holds at step {target}"
    mismatches = property_mismatches(ce.property, run.now) + violation_mismatches(ce.violation, found)
    if mismatches:
        return run.result(Verdict.STALE, mismatch_reason(mismatches, fails), found)
    if found is not None:
        return run.result(Verdict.REPRODUCES, f"{fails}, as recorded", found)
    earlier = _earlier_failure(run.model, run.prop, states[:target])
    if earlier is not None:
        return run.result(Verdict.STALE, fails_on_the_way(name, target, *earlier))
    if ce.is_lasso:
        return run.result(Verdict.PASSES, f"{name} now holds at step {target} (recorded: {ce.violation.message})")
    return run.result(Verdict.PASSES, passes_reason(name, target, ce.violation.message, drift is None))


def _drift_reason(ce: Counterexample, states: Sequence[ClusterState], drift: int, name: str, target: int,
                  found: Violation | None) -> str:
    """Why a replay whose state `drift` (before the violating step) differs from the recorded one is STALE."""
    still = "still fails" if found is not None else "holds"
    field = "initial.fingerprint" if drift == 0 else f"trace[{drift - 1}].fingerprint"
    state = "the initial state" if drift == 0 else f"the state after step {drift} (trace[{drift - 1}] in the file)"
    return (f"{state} differs from the recorded one (fingerprint {fingerprint(states[drift])}, recorded "
            f"{ce.fingerprints[drift]} in {field}): the model changed (or the file was edited); replayed anyway, "
            f"{name} {still} at step {target}")


PASSES_VALID = ("with expectation passes the trace must replay under a model without a catalogued bug: variant "
                "correct and no bug variant's parameters (a fixed bug is kept as a regression by recording its trace "
                "under the fixed model, as the corpus's replicaset-no-overcreation passes file is); or expect "
                "reproduces")
"""What a `passes` file refused by `passes_problems` may be instead (its message ends with this)."""


def bug_variants_in(parameters: Mapping[str, Any]) -> list[str]:
    """The catalogued bug variants whose whole mechanism (`variants.mechanism`: the overrides that
    are the bug, not the settings it needs) `parameters` hold: the bugs a model built with them has."""
    found = []
    for name in VARIANTS:
        bug = mechanism(name)
        if name != "correct" and bug and all(k in parameters and parameters[k] == v for k, v in bug.items()):
            found.append(name)
    return found


def passes_problems(ce: Counterexample, file: str, model: ClusterModel | None = None) -> list[Problem]:
    """Why a file expecting `passes` contradicts itself (empty when it does not, or expects
    otherwise). A `passes` file keeps a fixed bug as a regression: its PASSES must mean the bug is
    gone. Replayed under a bug variant — the file's `model.variant`, or, in `model` (the model it
    replays under: its recorded parameters and its scenario's), a bug variant's whole mechanism —
    the bug is there by construction, so PASSES could only mean the trace no longer reaches it (cut
    short, or judged by another property): the file can guard no fix and is refused as bad input."""
    if ce.expectation != "passes":
        return []
    if ce.variant != "correct":
        info = VARIANTS[ce.variant]
        return [Problem(file, 0, "model.variant", f"{ce.variant} is a bug variant ({info.source}: {info.mechanism}) "
                                                  f"and the file's expectation is passes: replayed under the bug "
                                                  f"itself, the trace cannot show it fixed; {PASSES_VALID}")]
    bugs = [] if model is None else bug_variants_in(model.parameters)
    if not bugs:
        return []
    named = "; ".join(f"{parameter_words(mechanism(b))} (bug variant {b}, "
                      f"{VARIANTS[b].source})" for b in bugs)
    return [Problem(file, 0, "model.parameters", f"the model it replays under (the file's model.parameters over its "
                                                 f"scenario's parameters:) sets {named}, and the file's expectation "
                                                 f"is passes: replayed under the bug itself, the trace cannot show it "
                                                 f"fixed; {PASSES_VALID}")]


def _earlier_failure(model: ClusterModel, prop: Property | None, states: Sequence[ClusterState]
                     ) -> tuple[int, Violation] | None:
    """Where a safety property (checked on every state) fails before the violating step; None for
    a convergence property (judged where the run has settled) or a lasso (judged on its cycle)."""
    if prop is None or prop.kind != "safety":
        return None
    checked: Property = prop
    return first_failure(lambda state: checked(model, state), states)


def first_failure(check: Callable[[Any], Violation | None], states: Sequence[Any]) -> tuple[int, Violation] | None:
    """The first of `states` a per-state check fails in, with its violation (None: it holds in all)."""
    for k, state in enumerate(states):
        found = check(state)
        if found is not None:
            return k, found
    return None


def fails_on_the_way(name: str, target: int, k: int, found: Violation) -> str:
    """Why a file whose per-state property holds at its violating step `target` does not PASS: it
    fails at step `k` before it. A PASSES verdict says the trace no longer shows the violation, so
    the property is judged on every state of the trace (a file edited to end past the violation, or
    a property changed under the same statement, would otherwise pass)."""
    where = "the initial state" if k == 0 else f"step {k} (trace[{k - 1}] in the file)"
    return (f"{name} holds at step {target}, where the file records its violation, but fails before it, at {where}: "
            f"{found.message}; a file PASSES only if its property holds on every state of its trace (the file was "
            "edited, or the property changed)")


def _now_record(ce: Counterexample, file: str, prop: Property | None, given: Iterable[Property]) -> PropertyRecord:
    """The property replay resolved (a lasso's: its cycle property), as a file records it."""
    if prop is not None:
        return property_record(prop)
    from kubeprop.counterexamples.lasso import cycle_property_named, cycle_record

    return cycle_record(cycle_property_named(ce.property.name, file, given))


def _length(ce: Counterexample) -> str:
    """` (3 steps, then a fair continuation of 66)` for a convergence counterexample whose file says
    where its fair continuation starts (as `kubeprop check` counts it); nothing otherwise."""
    start = ce.continuation_start
    return "" if start is None or not 0 < start < len(ce.actions) else f" ({length_words(len(ce.actions), start)})"
