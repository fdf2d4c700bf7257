"""What a scenario sets that the defaults do not, and what differs between two scenarios.

- `in_force`: the parameters a model runs under that differ from the defaults
  (`kubeprop.model.scenario.schema.PARAMETERS`, which follow Kubernetes v1.33; docs/release.md),
  leaving out those its variant sets (the variant's name says them). A cluster on another release
  is told by exactly these, so `kubeprop replay`, `kubeprop gate` and `kubeprop check` print them.
- `ScenarioDigest`/`digest`: a scenario reduced to what changes the model (the parameters in force,
  each object as encoded, the workload steps as the kubectl commands they stand for, every other
  section as written) and nothing of its comments or layout; plain data, so it crosses a process
  boundary (the gate replays corpus files in child processes).
- `difference_words`: what differs between two digests, old → new, bounded in length: the
  parameters changed, the objects added, removed or changed (by name, with their first fields), the
  workload steps changed, the other sections changed. A STALE replay whose scenario changed says
  this (the content hash alone says only *that* it changed), and so does the gate's note on a corpus
  file whose scenario differs from the one of the same name a check runs on.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from kubeprop.counterexamples.diff import field_diff, object_name
from kubeprop.model.api.codec import encode
from kubeprop.model.api.objects import encode_object
from kubeprop.model.cluster.workload_commands import describe as describe_step
from kubeprop.model.frozen import EMPTY
from kubeprop.model.scenario.load import Scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.scenario.variants import VARIANTS

MAX_ITEMS = 6
"""At most this many parameters, objects or steps named per kind of difference (then `… and N more`)."""
MAX_PARAMETERS = 10
"""At most this many parameters named (a release differs from v1.33 in up to nine, docs/release.md)."""
MAX_FIELDS = 3
"""At most this many fields named per changed object."""
MAX_STEP = 90
"""A workload step's command is cut to this many characters."""
MAX_VALUE = 80
"""A parameter's value is cut to this many characters in words (`value_words`)."""
RELEASE = "v1.33"
"""The release the parameters' defaults follow (docs/release.md)."""

_SECTIONS = {"topology": "topology", "users": "users", "apply_as": "applyAs", "faults": "faults", "bounds": "bounds",
             "variant": "variant", "admission": "admission", "controllers": "controllers", "properties": "properties",
             "environment": "environment", "descheduler": "descheduler"}
"""The scenario file's sections compared as written (`ScenarioFile` fields other than the metadata,
the manifests, the workload and the parameters, which are compared item by item)."""


def value_words(value: object) -> str:
    """A parameter's value as a scenario file spells it: `false`, `40`, `"x"`, `["a"]`; one longer
    than `MAX_VALUE` characters cut, with its length (`"xx…" (1048578 characters)`): a value is data
    from a file, and a list or a string can be as long as the file."""
    text = json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else f"{text[:MAX_VALUE - 1]}… ({len(text)} characters)"


def in_force(parameters: Mapping[str, Any], variant: str = "correct") -> dict[str, Any]:
    """The parameters of a model (all of them, as `ClusterModel.parameters` holds them) whose value
    is not the default, by name, without those the variant sets to the value they have (its name
    says them); a parameter kubeprop does not know is kept (it cannot be at a default)."""
    own = VARIANTS[variant].parameters if variant in VARIANTS else {}
    return {name: value for name, value in sorted(parameters.items())
            if (name not in PARAMETERS or PARAMETERS[name] != value) and not (name in own and own[name] == value)}


def parameter_words(parameters: Mapping[str, Any]) -> str:
    """`a=1, b=false` (names in order), or `(none)`."""
    return ", ".join(f"{name}={value_words(value)}" for name, value in sorted(parameters.items())) or "(none)"


@attrs.frozen
class ScenarioDigest:
    """A scenario as `difference_words` compares it (see the module docstring): plain, picklable data."""

    name: str
    parameters: tuple[tuple[str, Any], ...]
    """The parameters it sets (the scenario's `parameters:`, then any overrides), by name."""
    objects: tuple[tuple[str, Any], ...]
    """Each manifest object by `Kind ns/name`, with its encoded JSON data."""
    steps: tuple[str, ...]
    sections: tuple[tuple[str, str], ...]


def digest(scenario: Scenario, overrides: Mapping[str, Any] = EMPTY) -> ScenarioDigest:
    """The digest of a loaded scenario, with `overrides` (a check's or a file's parameters) applied."""
    spec = scenario.spec
    parameters = {**spec.parameters, **overrides}
    objects = {object_name(m.obj): encode_object(m.obj) for m in scenario.objects}
    sections = tuple((written, json.dumps(encode(getattr(spec, name)), sort_keys=True, default=str))
                     for name, written in _SECTIONS.items())
    return ScenarioDigest(scenario.name, tuple(sorted(parameters.items())), tuple(sorted(objects.items())),
                          tuple(describe_step(s) for s in spec.workload), sections)


def _bounded(items: Sequence[str], limit: int = MAX_ITEMS) -> str:
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f", … and {more} more" if more > 0 else "")


def _value(parameters: Mapping[str, Any], name: str) -> str:
    if name in parameters:
        return value_words(parameters[name])
    return f"{value_words(PARAMETERS[name])} (default)" if name in PARAMETERS else "(unset)"


def parameter_changes(old: ScenarioDigest, new: ScenarioDigest) -> list[str]:
    """`name old → new` for each parameter whose value in force differs (an unset one at its default)."""
    before, after = dict(old.parameters), dict(new.parameters)
    names = sorted(set(before) | set(after))
    return [f"{n} {_value(before, n)} → {_value(after, n)}" for n in names
            if before.get(n, PARAMETERS.get(n)) != after.get(n, PARAMETERS.get(n))]


def _object_changes(old: ScenarioDigest, new: ScenarioDigest) -> list[str]:
    before, after = dict(old.objects), dict(new.objects)
    parts = []
    added = [n for n in after if n not in before]
    removed = [n for n in before if n not in after]
    changed = []
    for name in (n for n in after if n in before and before[n] != after[n]):
        fields = [f.path for f in field_diff(before[name], after[name])]
        extra = f", +{len(fields) - MAX_FIELDS}" if len(fields) > MAX_FIELDS else ""
        changed.append(f"{name} ({', '.join(fields[:MAX_FIELDS])}{extra})" if fields else name)
    for word, names in (("added", added), ("removed", removed), ("changed", changed)):
        if names:
            parts.append(f"objects {word}: {_bounded(names)}")
    return parts


def _cut(text: str) -> str:
    return text if len(text) <= MAX_STEP else text[:MAX_STEP - 1] + "…"


ALIGNED_STEPS = 1000
"""Workloads up to this many steps are aligned (a step inserted at the front is one change, not
every step's); longer ones are compared position by position, so a hostile file costs linear time."""


def _step_changes(old: ScenarioDigest, new: ScenarioDigest) -> list[str]:
    """The workload's steps added, removed and changed, aligned as `difflib` aligns lines (numbered
    as the new scenario has them, a removed step as the old one had it)."""
    codes: Sequence[tuple[str, int, int, int, int]]
    if max(len(old.steps), len(new.steps)) > ALIGNED_STEPS:
        codes = [("replace", i, i + 1, i, i + 1) for i in range(max(len(old.steps), len(new.steps)))]
    else:
        codes = difflib.SequenceMatcher(None, old.steps, new.steps, autojunk=False).get_opcodes()
    changes = []
    for tag, i1, i2, j1, j2 in codes:
        was, now = list(old.steps[i1:i2]), list(new.steps[j1:j2])
        if tag == "equal" or was == now:
            continue
        paired = min(len(was), len(now))  # a block replaced: its steps changed in turn, the rest added or removed
        pairs = enumerate(zip(was[:paired], now[:paired], strict=True))
        changes += [f"step {j1 + k + 1} `{_cut(a)}` → `{_cut(b)}`" for k, (a, b) in pairs if a != b]
        changes += [f"step {i1 + k + 1} removed `{_cut(a)}`" for k, a in enumerate(was) if k >= paired]
        changes += [f"step {j1 + k + 1} added `{_cut(b)}`" for k, b in enumerate(now) if k >= paired]
    return [f"workload: {_bounded(changes, 3)}"] if changes else []


def differences(old: ScenarioDigest, new: ScenarioDigest) -> list[str]:
    """What differs, old → new, one bounded part per kind (empty: nothing that changes the model)."""
    parts = []
    params = parameter_changes(old, new)
    if params:
        parts.append(f"parameters {_bounded(params, MAX_PARAMETERS)}")
    if old.name != new.name:
        parts.append(f"name {old.name} → {new.name}")
    parts += _object_changes(old, new)
    parts += _step_changes(old, new)
    sections = [name for (name, was), (_, now) in zip(old.sections, new.sections, strict=True) if was != now]
    if sections:
        parts.append(f"sections changed: {', '.join(sections)}")
    return parts


def difference_words(old: ScenarioDigest, new: ScenarioDigest) -> str:
    """`differences` in one line; when none, that only comments or layout differ."""
    parts = differences(old, new)
    return "; ".join(parts) or "no parameter, object, workload step or section differs (comments or layout only)"
