"""A replayed counterexample as text for the terminal (and pytest failure messages).

Numbered steps, each with its action and only what changed: objects created (+), changed (~,
with a field-level diff) and deleted (-), kubelets, schedulers and controllers, the cluster
(clock, partitions, faults), and the cache lag whenever it changes. Then the violation in words
with the objects involved, and the command that reproduces it. `full=True` adds the whole state
(one line per object) after every step.
"""

from __future__ import annotations

from kubeprop.counterexamples.diff import MAX_FIELDS, Change, describe, find_object, state_summary
from kubeprop.counterexamples.failed_requests import failed_requests
from kubeprop.counterexamples.format_records import Counterexample, length_words
from kubeprop.counterexamples.printable import shown
from kubeprop.counterexamples.recorded import PROVENANCE
from kubeprop.counterexamples.reliance import reliance, reliance_line
from kubeprop.counterexamples.replay import ReplayResult, Verdict
from kubeprop.counterexamples.replayed_under import replayed_under, under_words
from kubeprop.counterexamples.reproduce import reproduce_command, unsuggested_lines
from kubeprop.counterexamples.scenario_diff import value_words
from kubeprop.counterexamples.steps import StepView, build_steps

SIGNS = {"created": "+", "changed": "~", "deleted": "-"}
INDENT = "        "


def _header(result: ReplayResult, shown_path: str) -> list[str]:
    """The file, the property (as replay resolved it), the scenario (as loaded), the model, the
    file's provenance (labelled: it is what the file says, not checked) and the verdict."""
    ce: Counterexample = result.counterexample
    params = shown(", ".join(f"{k}={value_words(v)}" for k, v in ce.parameters.items()) or "(none)")
    expected = ""
    if result.expected is not None:
        expected = f"   [expected {result.expected}: {'ok' if result.meets_expectation else 'MISMATCH'}]"
    lines = [
        f"counterexample  {shown(shown_path)}",
        f"property        {property_words(result)}",
        f"scenario        {scenario_words(result)}",
        f"model           variant {shown(ce.variant)}; parameters {params}",
        f"replayed under  {shown(under_words(replayed_under(result)))}",
        f"found by        {provenance_words(result)}",
        f"verdict         {result.verdict}: {shown(result.reason)}{expected}",
    ]
    if ce.note:
        lines.append(f"note            {shown(ce.note)} ({PROVENANCE})")
    return lines


def property_words(result: ReplayResult) -> str:
    """`name: statement`, the statement as replay resolved the property (the file's, labelled, when
    it did not get that far)."""
    return f"{shown(result.counterexample.property.name)}: {statement_words(result)}"


def statement_words(result: ReplayResult) -> str:
    """The property's statement as replay resolved it; the file's, labelled, when it did not."""
    if result.resolved is not None:
        return shown(result.resolved.statement)
    return f"{shown(result.counterexample.property.statement)} (the file's statement, not checked)"


def scenario_words(result: ReplayResult) -> str:
    """The scenario as replay loaded it: its name, how the file holds it (a path-mode file: where it
    was loaded from) and the content hash replay checked."""
    s = result.counterexample.scenario
    name = result.model.scenario.name
    named = "" if name == s.name else f", named {shown(repr(s.name))} in the file"
    where = f", {shown(s.path)}" if s.mode == "path" else ""
    return f"{shown(name)} ({s.mode}{where}, sha256 {shown(s.content_hash[:12])}…{named})"


def provenance_words(result: ReplayResult) -> str:
    """Who wrote the file, when, and (inline) from where: what the file says, labelled so."""
    ce = result.counterexample
    seed = "-" if ce.engine.seed is None else str(ce.engine.seed)
    written = f", written from {shown(ce.scenario.path)}" if ce.scenario.mode == "inline" else ""
    return (f"{shown(ce.engine.name)} (seed {seed}), kubeprop {shown(ce.kubeprop_version)}, {shown(ce.created)}"
            f"{written} ({PROVENANCE})")


def change_lines(change: Change, limit: int = MAX_FIELDS) -> list[str]:
    """A change: `+ Pod default/x: Running on worker-1 …`, then up to `limit` changed fields."""
    head = f"{SIGNS[change.kind]} {change.subject}" + (f": {change.summary}" if change.summary else "")
    lines = [head]
    for f in change.fields[:limit]:
        before = "(none)" if f.before is None else f.before
        after = "(none)" if f.after is None else f.after
        lines.append(f"    {f.path}: {before} → {after}")
    if len(change.fields) > limit:
        more = len(change.fields) - limit
        lines.append(f"    … {more} more field{'s' if more > 1 else ''}")
    return lines


def _step_lines(view: StepView, result: ReplayResult, full: bool, failed: tuple[str, ...] = ()) -> list[str]:
    target = result.counterexample.violation.step
    mark = " ✗" if view.index == target and result.verdict == Verdict.REPRODUCES else ""
    if view.action is None:
        lines = [f"step 0{mark} initial state"]
        lines += [INDENT + line for line in state_summary(result.states[0])]
        return lines
    ce = result.counterexample
    if ce.cycle_start is not None and view.index == ce.cycle_start + 1:
        mark += " ⟲ cycle starts"
    if ce.cycle_start is not None and view.index == len(ce.actions):
        mark += " ⟲ cycle closes"
    start = ce.continuation_start
    if start is not None and 0 < start < len(ce.actions) and view.index == start + 1:
        mark += " → the fair continuation starts"
    lines = [f"step {view.index}{mark} [{view.lane}] {view.action}"]
    body: list[str] = []
    for change in view.changes:
        body += change_lines(change)
    if view.lag is not None:
        body.append(f"caches behind: {view.lag}")
    if view.recorded is not None and view.recorded != view.fingerprint:
        body.append(f"state differs from the recorded one (fingerprint {view.fingerprint}, recorded {view.recorded})")
    body += list(failed)
    if full:
        body += ["state:"] + ["  " + line for line in state_summary(result.states[view.index])]
    if not body:
        body = ["(no visible change)"]
    return lines + [INDENT + line for line in body]


def _violation_lines(result: ReplayResult) -> list[str]:
    ce = result.counterexample
    step = ce.violation.step
    if result.verdict == Verdict.STALE:
        lines = [f"STALE: {shown(result.reason)}",
                 f"the file records, at step {step}: {shown(ce.violation.message)}"]
        if result.violation is not None and result.violation.message != ce.violation.message:
            lines.append(f"the replay's at step {step}: {shown(result.violation.message)}")
        return lines
    if result.violation is None:
        return [f"{shown(ce.property.name)} holds at step {step} now.",
                f"the file records: {shown(ce.violation.message)}"]
    start = ce.continuation_start
    length = (f" ({length_words(len(ce.actions), start)})" if start is not None and 0 < start < len(ce.actions)
              else "")
    lines = [f"violation at step {step}{length}: {shown(ce.property.name)} — {statement_words(result)}",
             f"  {shown(result.violation.message)}"]
    if result.violation.objects:
        lines.append("  objects involved:")
        state = result.states[step]
        for name in result.violation.objects:
            obj = find_object(state, name)
            lines.append(f"    {shown(name)} (no longer stored)" if obj is None else f"    {describe(obj)}")
    lines.append(f"  {shown(replay_relies_line(result))}")
    return lines


def replay_relies_line(result: ReplayResult) -> str:
    """The `relies on:` line of the violation a replay shows (`kubeprop.counterexamples.reliance`),
    from the states up to its step; '' when the replay shows none (it holds now, or is stale)."""
    ce = result.counterexample
    if result.violation is None or result.verdict == Verdict.STALE:
        return ""
    return reliance_line(reliance(result.model, result.states[: ce.violation.step + 1], ce.actions))


def render_text(result: ReplayResult, full: bool = False, shown_path: str | None = None,
                unwritten: tuple[str, str] | None = None) -> str:
    """The whole rendering of one replay. `unwritten`: the counterexample was never written to a
    file (`api.check` without `save_to`), so no file is named and no replay command given: (what
    the header says in the file's place, how to get a file and its command)."""
    path = shown_path or result.file
    header = _header(result, path)
    if unwritten is not None:
        header[0] = f"counterexample  {unwritten[0]}"
    lines = [*header, ""]
    failed = failed_requests(result.model, result.states, result.counterexample.actions) if full else {}
    for view in build_steps(result):
        lines += _step_lines(view, result, full, failed.get(view.index, ()))
    if not result.states:
        lines.append("(not replayed)")
    elif len(result.states) <= result.counterexample.violation.step:
        lines.append(f"(replay stopped after step {len(result.states) - 1})")
    if result.counterexample.cycle_start is not None:
        from kubeprop.counterexamples.lasso import closure_lines

        lines += ["", *closure_lines(result.counterexample, result.closure)]
    lines += ["", *_violation_lines(result), ""]
    if unwritten is not None:
        lines.append(f"reproduce with: {unwritten[1]}")
    else:
        again = reproduce_command(path, result.counterexample, result.scenario)
        lines += [f"reproduce with: {again}", *unsuggested_lines(result.counterexample, path, result.scenario is None)]
    return "\n".join(lines) + "\n"


def verdict_line(result: ReplayResult, shown_path: str | None = None) -> str:
    """One line per file for the summary: `REPRODUCES  path  reason`."""
    exp = ""
    if result.expected is not None:
        exp = f" (expected {result.expected}{'' if result.meets_expectation else ' — MISMATCH'})"
    return f"{result.verdict:<10}  {shown(shown_path or result.file)}: {shown(result.reason)}{exp}"

