"""Counterexamples of the Raft model: the same file format (schema version 2, `model.system:
raft`), recording, strict loading, replay and rendering.

A Raft file holds the whole configuration as `model.parameters` (every `RaftConfig` field, so the
variant's rule choice is in it too), the check (`property.kind` invariant, claim or goal), the
actions by value (`{"action": "RaftAction", "kind": …, "server": …, "peer": …, "arg": …,
"msg": …}`) with a fingerprint of every state, and where the check fails. It has no scenario: the
configuration is the model.

Replay re-runs the actions from the configuration's initial state, each of which must still be
enabled, compares the fingerprints and judges the check at the recorded step: REPRODUCES, PASSES
or STALE, as for the cluster model (`replay.Verdict`).
"""

from __future__ import annotations

import builtins
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from kubeprop.counterexamples import printable
from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.counterexamples.format import file_text, write_file
from kubeprop.counterexamples.format_read import _fail, check_header, read_data, step_problems, system_of
from kubeprop.counterexamples.format_records import (
    KIND,
    SCHEMA_VERSION,
    CounterexampleError,
    EngineRecord,
    PropertyRecord,
    ViolationRecord,
)
from kubeprop.counterexamples.raft_fields import action_problems, config_problems, tuples
from kubeprop.counterexamples.recorded import (
    PROVENANCE,
    mismatch_reason,
    passes_reason,
    property_mismatches,
    violation_mismatches,
)
from kubeprop.counterexamples.replay import PASSES_VALID, Expectations, Verdict, fails_on_the_way, first_failure
from kubeprop.counterexamples.trace import kubeprop_version, now_utc
from kubeprop.model.api.manifests import Problem
from kubeprop.model.errors import InputError
from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import (
    LIBRARY_DEFAULTS,
    NONE,
    RAFT_VARIANTS,
    ROLE_NAMES,
    RaftAction,
    RaftConfig,
    RaftState,
    describe,
    short_value,
)
from kubeprop.model.raft.system import actions, initial_state, step, validate
from kubeprop.properties.raft import RAFT_CHECKS, RaftCheck
from kubeprop.properties.registry import Violation

__all__ = ["RaftCounterexample", "RaftReplay", "is_raft_file", "load", "record", "render_text", "replay",
           "result_json", "state_fingerprint", "write"]

_BEFORE_TRANSFERS = 17
"""`RaftState`'s fields before leadership transfer added `transferee` and `transfers` (twentieth round)."""
_BEFORE_CONF_CHANGES = 19
"""`RaftState`'s fields before membership changes added `conf_changes` (twenty-first round)."""


def state_fingerprint(state: RaftState) -> str:
    """The fingerprint a counterexample file records for `state`: the state's fields, without the
    leadership-transfer fields while no transfer was ever requested (`transfers` 0, no `transferee`).
    Files recorded before those fields existed stay valid: a state that never saw a transfer has
    the fingerprint it had then (as `fingerprint="omit-if-default"` does for attrs classes,
    `kubeprop.counterexamples.fingerprint`). Likewise the membership-change count while no change
    was ever proposed."""
    if state.conf_changes:
        return fingerprint(state)
    if state.transfers == 0 and all(t == NONE for t in state.transferee):
        return fingerprint(tuple(state)[:_BEFORE_TRANSFERS])
    return fingerprint(tuple(state)[:_BEFORE_CONF_CHANGES])


@attrs.frozen
class RaftCounterexample:
    """One Raft counterexample: `fingerprints[k]` is the state's after `actions[k-1]`."""

    config: RaftConfig
    variant: str
    property: PropertyRecord
    violation: ViolationRecord
    actions: tuple[RaftAction, ...]
    fingerprints: tuple[str, ...]
    engine: EngineRecord
    kubeprop_version: str
    created: str
    expectation: str | None = None
    note: str = ""

    @builtins.property
    def file_name(self) -> str:
        """`<check>-<12 hex digits of the configuration, variant and violating state>.json`."""
        key = (self.property.name, self.variant, self.config, self.fingerprints[self.violation.step])
        return f"{self.property.name}-{fingerprint(key, 12)}.json"


def _states(config: RaftConfig, trace: Sequence[RaftAction]) -> list[RaftState]:
    states = [initial_state(config)]
    for i, act in enumerate(trace):
        if act not in actions(config, states[-1]):
            raise ValueError(f"step {i + 1}: {describe(config, act)} is not enabled")
        states.append(step(config, states[-1], act))
    return states


def record(config: RaftConfig, variant: str | None, check: RaftCheck, trace: Sequence[RaftAction], *,
           engine: str = "bfs", options: dict[str, Any] | None = None) -> RaftCounterexample:
    """The counterexample of `trace` (from the initial state) on which `check` fails (a goal: is
    reached) in the last state; ValueError if an action is not enabled or the check holds there."""
    states = _states(config, trace)
    found = check(config, states[-1])
    if found is None:
        raise ValueError(f"{check.name} holds at the end of the trace: nothing to record")
    return RaftCounterexample(
        config, variant or "correct", PropertyRecord(check.name, check.statement, check.kind, check.upstream),
        ViolationRecord(len(trace), found.message), tuple(trace), tuple(state_fingerprint(s) for s in states),
        EngineRecord(engine, None, FrozenMap(options or {})), kubeprop_version(), now_utc())


# --- JSON ----------------------------------------------------------------------------------------

def _config_json(config: RaftConfig) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in attrs.fields(RaftConfig):
        value = getattr(config, field.name)
        if field.name == "ops":
            value = [[op.kind, op.key, op.value, op.expect, op.mode] for op in value]
        elif isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[field.name] = value
    return out


def _action_json(act: RaftAction) -> dict[str, Any]:
    return {"action": "RaftAction", "kind": act.kind, "server": act.server, "peer": act.peer, "arg": act.arg,
            "msg": None if act.msg is None else json.loads(json.dumps(act.msg))}


def to_data(ce: RaftCounterexample) -> dict[str, Any]:
    """The counterexample as JSON data (schema version 2, `model.system: raft`)."""
    out: dict[str, Any] = {
        "schema": SCHEMA_VERSION, "kind": KIND,
        "property": {"name": ce.property.name, "statement": ce.property.statement, "kind": ce.property.kind,
                     "upstream": ce.property.upstream},
        "violation": {"step": ce.violation.step, "message": ce.violation.message, "objects": []},
        "model": {"system": "raft", "variant": ce.variant, "parameters": _config_json(ce.config)},
        "initial": {"fingerprint": ce.fingerprints[0]},
        "trace": [{"action": _action_json(a), "fingerprint": fp}
                  for a, fp in zip(ce.actions, ce.fingerprints[1:], strict=True)],
        "engine": {"name": ce.engine.name, "seed": None, "options": dict(ce.engine.options)},
        "kubeprop": ce.kubeprop_version, "created": ce.created,
    }
    if ce.expectation is not None:
        out["expectation"] = ce.expectation
    if ce.note:
        out["note"] = ce.note
    return out


def write(ce: RaftCounterexample, where: Path | str) -> Path:
    """Write `ce` into folder `where` under its content-addressed name (or to `where` if it ends
    in `.json`), atomically; in a folder, only over a counterexample file (`format.write_file`).
    Returns the path."""
    return write_file(file_text(to_data(ce)), ce.file_name, where)


def _config(params: dict[str, Any]) -> RaftConfig:
    # A file written before the election options existed ran the raft library's defaults.
    values = {**LIBRARY_DEFAULTS, **{k: tuples(v) for k, v in params.items()}}
    if "ops" in values:
        values["ops"] = tuple(Op(*op) for op in values["ops"])
    if "initially_down" in values:
        values["initially_down"] = frozenset(values["initially_down"])
    return validate(RaftConfig(**values))


def _action(data: Any) -> RaftAction:
    msg = data.get("msg")
    return RaftAction(str(data["kind"]), int(data.get("server", -1)), int(data.get("peer", -1)),
                      int(data.get("arg", 0)), None if msg is None else tuples(msg))


def _problems(data: dict[str, Any]) -> tuple[RaftConfig | None, list[tuple[str, str]]]:
    """The file's configuration (None if it is bad) and every problem of its configuration, its
    trace actions, its variant and its violation step, all at once."""
    params = data["model"]["parameters"]
    found = config_problems(params)
    config = None
    if not found:
        try:
            config = _config(params)
        except (InputError, TypeError, ValueError, KeyError) as err:
            found.append(("model.parameters", f"not a Raft configuration: {err}"))
    servers = config.servers if config is not None else None
    for i, t in enumerate(data["trace"]):
        found += action_problems(i, t["action"], config, servers)
    if data["model"]["variant"] not in ("correct", *RAFT_VARIANTS):
        found.append(("model.variant", f"unknown Raft variant; valid: correct, {', '.join(RAFT_VARIANTS)}"))
    if data["property"]["name"] not in (c.name for c in RAFT_CHECKS):
        found.append(_name_problem(data["property"]["name"]))
    if "module" in data["property"]:
        found.append(("property.module", "a Raft file's checks are the Raft model's own (kubeprop.model.raft), "
                      "nothing is imported for them; remove the field"))
    found += step_problems(data["violation"]["step"], len(data["trace"]))
    return config, found


def from_data(data: Any, file: str = "<counterexample>") -> RaftCounterexample:
    """Check JSON data strictly and build the RaftCounterexample; CounterexampleError names each problem."""
    check_header(data, file, "raft", "not a Raft counterexample (read it with kubeprop.counterexamples.load)")
    config, found = _problems(data)
    if found or config is None:
        raise _fail(file, found)
    acts = tuple(_action(t["action"]) for t in data["trace"])
    p, e, v = data["property"], data["engine"], data["violation"]
    return RaftCounterexample(
        config, data["model"]["variant"], PropertyRecord(p["name"], p["statement"], p["kind"], p.get("upstream", "")),
        ViolationRecord(v["step"], v["message"], tuple(v["objects"])), acts,
        (data["initial"]["fingerprint"], *(t["fingerprint"] for t in data["trace"])),
        EngineRecord(e["name"], e.get("seed"), FrozenMap(e.get("options", {})) if e.get("options") else EMPTY),
        data["kubeprop"], data["created"], data.get("expectation"), data.get("note", ""))


def _read(path: Path | str) -> Any:
    """The file's data, read as every counterexample file is (bounded, regular files only)."""
    return read_data(path)


def is_raft_file(path: Path | str) -> bool:
    """Whether the file is a Raft counterexample (False for anything else, unreadable or bad
    input included: the cluster reader then reports the problem)."""
    try:
        return system_of(read_data(path)) == "raft"
    except CounterexampleError:
        return False


def load(path: Path | str) -> RaftCounterexample:
    """Read and check one Raft counterexample file."""
    return from_data(_read(path), str(path))


# --- replay --------------------------------------------------------------------------------------

@attrs.frozen
class RaftReplay(Expectations):
    """A Raft replay: the verdict, why, the replayed states and what the check says at the step."""

    file: str
    counterexample: RaftCounterexample
    verdict: Verdict
    reason: str
    states: tuple[RaftState, ...]
    violation: Violation | None = None


def _name_problem(name: str) -> tuple[str, str]:
    return "property.name", f"{name!r} is not a Raft check; valid: {', '.join(c.name for c in RAFT_CHECKS)}"


def _check(ce: RaftCounterexample, file: str) -> RaftCheck:
    for c in RAFT_CHECKS:
        if c.name == ce.property.name:
            return c
    raise CounterexampleError([Problem(file, 0, *_name_problem(ce.property.name))])


def _passes_problem(ce: RaftCounterexample, file: str) -> Problem | None:
    """A `passes` Raft file replayed under a catalogued bug contradicts itself, as a cluster file
    does (`replay.passes_problems`): its variant is one, or its configuration — which replay runs,
    whatever the variant's name — holds a bug variant's rule."""
    if ce.variant != "correct":
        return Problem(file, 0, "model.variant", f"{ce.variant} is a bug variant and the file's expectation is passes: "
                                                 f"replayed under the bug itself, the trace cannot show it fixed; "
                                                 f"{PASSES_VALID}")
    bugs = [f"{', '.join(f'{k}={v}' for k, v in rule.items())} (bug variant {name})"
            for name, rule in RAFT_VARIANTS.items() if all(getattr(ce.config, k) == v for k, v in rule.items())]
    if not bugs:
        return None
    return Problem(file, 0, "model.parameters", f"the configuration sets {'; '.join(bugs)} and the file's expectation "
                                                f"is passes: replayed under the bug itself, the trace cannot show it "
                                                f"fixed; {PASSES_VALID}")


def replay(source: Path | str | RaftCounterexample, file: str | None = None) -> RaftReplay:
    """Replay a Raft counterexample file (or a loaded one) through the current Raft model."""
    ce = source if isinstance(source, RaftCounterexample) else load(source)
    where = file or (str(source) if not isinstance(source, RaftCounterexample) else ce.file_name)
    check, config, target = _check(ce, where), ce.config, ce.violation.step
    if ce.expectation == "passes" and (problem := _passes_problem(ce, where)) is not None:
        raise CounterexampleError([problem])
    states = [initial_state(config)]
    if target and state_fingerprint(states[0]) != ce.fingerprints[0]:
        return RaftReplay(where, ce, Verdict.STALE, "the initial state differs from the recorded one "
                          "(initial.fingerprint): the model changed (or the file was edited)", tuple(states))
    for i, act in enumerate(ce.actions[:target]):
        if act not in actions(config, states[-1]):
            reason = f"step {i + 1}: {describe(config, act)} is no longer enabled (the model changed)"
            return RaftReplay(where, ce, Verdict.STALE, reason, tuple(states))
        states.append(step(config, states[-1], act))
        if state_fingerprint(states[-1]) != ce.fingerprints[i + 1] and i + 1 < target:
            return RaftReplay(where, ce, Verdict.STALE, f"the state after step {i + 1} differs from the recorded "
                              "one: the model changed", tuple(states))
    found = check(config, states[target])
    now = PropertyRecord(check.name, check.statement, check.kind, check.upstream)
    mismatches = property_mismatches(ce.property, now) + violation_mismatches(ce.violation, found)
    if mismatches:
        fails = f"{check.name} {'fails' if found is not None else 'holds'} at step {target}"
        return RaftReplay(where, ce, Verdict.STALE, mismatch_reason(mismatches, fails), tuple(states), found)
    if found is not None:
        return RaftReplay(where, ce, Verdict.REPRODUCES, f"{check.name} fails at step {target}, as recorded",
                          tuple(states), found)
    earlier = first_failure(lambda state: check(config, state), states[:target])
    if earlier is not None:  # every Raft check is judged on every state (a goal: reached in none)
        return RaftReplay(where, ce, Verdict.STALE, fails_on_the_way(check.name, target, *earlier), tuple(states))
    same = state_fingerprint(states[target]) == ce.fingerprints[target]
    return RaftReplay(where, ce, Verdict.PASSES, passes_reason(check.name, target, ce.violation.message, same),
                      tuple(states))


def result_json(result: RaftReplay) -> dict[str, Any]:
    """A Raft replay as JSON data, in the shape of `steps.result_json` (steps without changes)."""
    ce, config = result.counterexample, result.counterexample.config
    steps: list[dict[str, Any]] = [{"index": n, "action": _action_json(a), "text": describe(config, a), "lane": "raft",
              "fingerprint": state_fingerprint(result.states[n]), "recorded": ce.fingerprints[n], "changes": [],
              "cacheLag": None} for n, a in enumerate(ce.actions[:len(result.states) - 1], 1)]
    return {
        "file": result.file, "model": "raft", "verdict": str(result.verdict), "reason": result.reason,
        "expected": None if result.expected is None else str(result.expected),
        "meetsExpectation": result.meets_expectation,
        "property": {"name": ce.property.name, "statement": _check(ce, result.file).statement},
        "violation": {"step": ce.violation.step, "recorded": ce.violation.message,
                      "now": None if result.violation is None else result.violation.message, "objects": []},
        "driftStep": None, "steps": steps,
    }


def render_text(result: RaftReplay) -> str:
    """A Raft replay as numbered steps, then each member's log and the verdict."""
    ce, config = result.counterexample, result.counterexample.config
    names = ", ".join(config.name(s) for s in range(config.servers))
    statement = _check(ce, result.file).statement
    lines = [f"counterexample  {printable.shown(result.file)}",
             f"property        {printable.shown(ce.property.name)}: {printable.shown(statement)}",
             f"model           Raft, {config.servers} members ({names}); quorum {config.quorum_size}; "
             f"variant {ce.variant}",
             f"found by        {printable.shown(f'{ce.engine.name}, kubeprop {ce.kubeprop_version}, {ce.created}')} "
             f"({PROVENANCE})",
             f"verdict         {result.verdict}: {printable.shown(result.reason)}", ""]
    for n, act in enumerate(ce.actions[:len(result.states) - 1], 1):
        mark = " ✗" if n == ce.violation.step and result.verdict == Verdict.REPRODUCES else ""
        lines.append(f"step {n}{mark} {describe(config, act)}")
    final = result.states[-1]
    for srv in range(config.servers):
        log = " ".join(f"{t}:{short_value(config, v)}" for t, v in final.log[srv])
        role = ROLE_NAMES[final.role[srv]]
        lines.append(f"     {config.name(srv)}: {role} term {final.term[srv]} commit {final.commit[srv]}"
                     f"{' DOWN' if not final.is_up(srv) else ''} log [{log}]")
    shown = (result.violation.message if result.violation is not None
             else f"holds now; the file records: {ce.violation.message}")
    lines += ["", f"{printable.shown(ce.property.name)}: {printable.shown(shown)}", "",
              f"reproduce with: kubeprop replay {printable.shell_word(result.file)}"]
    return "\n".join(lines) + "\n"
