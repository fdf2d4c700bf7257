"""`kubeprop validate`: every object of a scenario through the API server pipeline, reported,
with a note per object naming the fields the codec dropped (`ManifestObject.dropped`) and those
the API server dropped because their feature gate is off in the modelled release
(`kubeprop.model.api.feature_gates`), one naming the readiness gates of its pods, whose
conditions no built-in controller sets, and one naming a `schedulerName` no scheduler of the
scenario serves (`kubeprop.model.scheduler.served`): its pods stay Pending.

Computing (the bootstrap) is in `kubeprop.model.scenario.bootstrap`; this module only renders it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

import yaml

from kubeprop.counterexamples.printable import shown
from kubeprop.model.api.codec import format_path
from kubeprop.model.api.feature_gates import dropped_by_gates
from kubeprop.model.api.objects import encode_object, kind_info
from kubeprop.model.scenario.bootstrap import Bootstrap, Outcome, bootstrap
from kubeprop.model.scenario.helm_hooks import install_hooks_note, skipped_note
from kubeprop.model.scenario.load import Scenario
from kubeprop.model.scenario.nodes import ephemeral_storage_note, no_nodes_note
from kubeprop.model.scenario.usage_note import undeclared_usage_note
from kubeprop.model.scheduler.served import unserved_note, unserved_scheduler_name
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.modules import load_own_scenario

SYSTEM_FIELDS = {
    "metadata.uid", "metadata.resourceVersion", "metadata.creationTimestamp", "metadata.generation",
    "metadata.namespace",
}
"""Fields every stored object gets; not worth listing as 'defaults'."""


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else key))
        return out
    if isinstance(value, list) and value and any(isinstance(v, dict | list) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(_flatten(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def applied_defaults(outcome: Outcome) -> list[str]:
    """`field=value` for every field the server added or changed, except the system fields."""
    if outcome.response.obj is None:
        return []
    before = _flatten(encode_object(outcome.obj))
    after = _flatten(encode_object(outcome.response.obj))
    changes = []
    for path, value in after.items():
        if path in SYSTEM_FIELDS or before.get(path) == value:
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        changes.append(f"{path}={text}")
    return changes


def _display_path(file: str, base: Path) -> str:
    """A manifest's file as printed: relative to `base`, on one line (`printable.shown`)."""
    try:
        return shown(os.path.relpath(file, base))
    except ValueError:
        return shown(file)


def _object_name(outcome: Outcome) -> str:
    meta = outcome.obj.metadata
    info = kind_info(outcome.obj)
    name = meta.name or f"{meta.generate_name}*"
    namespace = meta.namespace or ("default" if info.namespaced else "")
    return f"{info.kind} {namespace}/{name}" if namespace else f"{info.kind} {name}"


def _where(outcome: Outcome, base: Path) -> str:
    if outcome.source is None:  # a rejected object names the scenario field to fix (`users[1].roles[0]`)
        return f"({outcome.field if outcome.field and not outcome.response.ok else outcome.origin})"
    return f"{_display_path(outcome.source.file, base)}:{outcome.source.line}"


def _rejection_lines(outcome: Outcome, base: Path) -> list[str]:
    response = outcome.response
    head = f"{response.code} {response.reason}"
    if outcome.source is None or not response.errors:
        return [f"    {head}: {response.message}"]
    file = _display_path(outcome.source.file, base)
    lines = [f"    {head}:"]
    for error in response.errors:
        line = outcome.source.line_of(error.path)
        lines.append(f"    {file}:{line}: {format_path(error.path)}: {error.body()}")  # with the value, as upstream
    return lines


def dropped_note(outcome: Outcome) -> list[str]:
    """The note naming the fields of the object's manifest the codec dropped (accepted, not
    modelled; docs/objects.md "Accepted but not modelled"), in line order, or nothing."""
    if outcome.source is None or not outcome.source.dropped:
        return []
    source = outcome.source
    fields = ", ".join(format_path(path) for path in sorted(source.dropped, key=source.line_of))  # stable: by line
    return [f"    note: dropped, not modelled: {fields}"]


def readiness_gates_note(outcome: Outcome) -> list[str]:
    """The note on an admitted object whose pods (a Pod, a workload's template) carry readiness
    gates: the kubelet keeps them not Ready until each gate's condition is True, which only a
    controller of the user's sets (docs/objects.md "Readiness gates"), or nothing."""
    obj = outcome.response.obj if outcome.response.ok else None
    spec = getattr(obj, "spec", None)
    template = getattr(spec, "template", None)
    pod_spec = template.spec if template is not None else spec
    gates = getattr(pod_spec, "readiness_gates", ())
    if not gates:
        return []
    types = ", ".join(shown(g.condition_type) for g in gates)
    many = len(gates) > 1
    return [f"    note: readinessGates: the kubelet keeps a pod not Ready until its condition{'s' if many else ''} "
            f"{types} {'are' if many else 'is'} True in status.conditions; no built-in controller sets "
            f"{'them' if many else 'it'}: a controller of the scenario must, by a status update of the pod"]


def scheduler_name_note(outcome: Outcome) -> list[str]:
    """The note on an admitted Pod or workload whose pods name a scheduler the scenario does not
    run (upstream only a scheduler with a profile of that name takes them: `pkg/scheduler/
    eventhandlers.go` responsibleForPod), or nothing. A note, not an error: the cluster the
    scenario stands for may run that scheduler; kubeprop does not model it."""
    obj = outcome.response.obj if outcome.response.ok else None
    name = unserved_scheduler_name(obj)
    return [] if name is None else [f"    note: {unserved_note(name)}"]


def _notes(outcome: Outcome) -> list[str]:
    """Every note on one object, in the order they print."""
    return [*dropped_note(outcome), *gate_dropped_note(outcome), *readiness_gates_note(outcome),
            *scheduler_name_note(outcome)]


def gate_dropped_note(outcome: Outcome) -> list[str]:
    """A note per field of the object's manifest that the API server dropped because its feature
    gate is off (dropXDisabledFields), naming the gate and the parameter that turns it on."""
    if not outcome.response.ok or outcome.response.obj is None:
        return []
    return [f"    note: dropped by the API server, feature gate {g.gate} off (parameter {g.parameter}: false): "
            f"{format_path(g.path)}" for g in dropped_by_gates(outcome.obj, outcome.response.obj)]


def topology_notes(scenario: Scenario) -> list[str]:
    """The notes about the scenario's cluster: no nodes declared; none with the ephemeral-storage a
    pod requests; an HPA whose pods' usage is not declared; the helm hooks left out at load and
    those created with the rest (`kubeprop.model.scenario.helm_hooks`)."""
    objects = [m.obj for m in scenario.objects]
    notes = (no_nodes_note(scenario.spec), ephemeral_storage_note(scenario.spec, objects),
             undeclared_usage_note(scenario.spec, objects), skipped_note(scenario.skipped),
             install_hooks_note(scenario.objects))
    return [note for note in notes if note]


def render_summary(scenario: Scenario, result: Bootstrap, base: Path) -> list[str]:
    """One line per object (created / rejected), the defaults applied, and a closing count."""
    lines = [f"scenario {shown(scenario.name)}: {len(result.outcomes)} objects, manifests applied as user "
             f"{scenario.apply_as!r}"]
    lines += topology_notes(scenario)
    for outcome in result.outcomes:
        verdict = "created " if outcome.response.ok else "REJECTED"
        lines.append(f"{verdict} {_object_name(outcome)}  {_where(outcome, base)}")
        lines.extend(_notes(outcome))
        if outcome.response.ok:
            defaults = applied_defaults(outcome) if outcome.source is not None else []
            lines.extend(f"    default {change}" for change in defaults)
        else:
            lines.extend(_rejection_lines(outcome, base))
    admitted = len(result.outcomes) - len(result.rejected)
    lines.append(f"{admitted} admitted, {len(result.rejected)} rejected")
    return [shown(line) for line in lines]  # data (names, values in messages) never starts a line of its own


def _comments(lines: list[str]) -> str:
    """`lines` as YAML comments, one each: a line feed in the data (a value an error message repeats)
    is escaped, so it can neither end the comment nor start a YAML document of its own."""
    return "".join(f"# {shown(line)}\n" for line in lines)


def run_validate(path: Path | None, output: str, out: TextIO) -> int:
    """Run `kubeprop validate`; returns 0 if every object was admitted, else 2. A scenario that does
    not load (any of its fields, `properties:` included) raises `ScenarioError` with every problem."""
    scenario = load_own_scenario(path)  # its `properties:` entries judged too, as `kubeprop check` does
    result = bootstrap(scenario)
    base = Path(scenario.path).parent
    if output == "yaml":
        docs = [encode_object(o.response.obj) for o in result.outcomes if o.response.obj is not None]
        out.write(yaml.safe_dump_all(docs, sort_keys=False))
        for outcome in result.outcomes:
            notes = _notes(outcome)
            if outcome.response.ok and notes:
                out.write(_comments([f"{_object_name(outcome)}  {_where(outcome, base)}", *notes]))
            if not outcome.response.ok:  # every rejection with its reason, as YAML comments
                out.write(_comments([f"REJECTED {_object_name(outcome)}  {_where(outcome, base)}",
                                     *_rejection_lines(outcome, base)]))
        out.write(_comments(topology_notes(scenario) + render_summary(scenario, result, base)[-1:]))
    else:
        out.write("\n".join(render_summary(scenario, result, base)) + "\n")
    return ExitCode.OK if not result.rejected else ExitCode.BAD_INPUT
