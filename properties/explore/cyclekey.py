"""Cycle keys: what a cluster state is, up to the names, counters and clock readings that only grow.

An oscillating cluster never repeats a state exactly: every write raises the store's revision,
every replacement pod gets a fresh generated name and uid, generations climb, and the clock only
moves forward. A lasso is therefore found on *cycle keys* — a canonical form of the state in
which

- generated names (`metadata.generateName` expansions, found by their 5-character suffix
  wherever a string ends in one), uids and revisions (`resourceVersion`, the store's revision,
  informer and watch-event revisions) are replaced by their rank among the values present in the
  state, which keeps equality and order (name order decides queue order and tie-breaks);
- the counters behind them (`names_generated`, `uids_issued`) are dropped: upstream names and
  uids are random, so the next one's place among the others is not a property of the state;
- generations become relative: `observedGeneration` as the difference to the object's
  `generation`;
- times become relative to the clock; times older than the *horizon* (the longest duration the
  model knows: every `*Seconds` parameter and every `*_seconds` field of the stored objects and
  the scenario's descheduler, plus a tick) keep only their order among the old ones — no timer
  or threshold can tell two such times apart by more than that.

Two states with equal keys behave alike as long as the model uses these values only through
equality, order and differences within the horizon (true of every component today: a
time-valued field not listed in `TIME_FIELDS` makes the search miss lassos, never invent them).
The lasso engine checks this on every lasso it reports by running the cycle again.

Keys are in-process digests (BLAKE2b of a canonical encoding); they are compared, never stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any, Final

import attrs

from kubeprop.model.api.names import generate_name
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState

UID_PREFIX: Final = "00000000-0000-4000-8000-"
TIME, TIME_VALUES, TIME_PAIRS, TIME_FIRST, REVISION, REVISION_VALUES, RV, DROP, GENERATION, OBSERVED = (
    "time", "time-values", "time-pairs", "time-first", "revision", "revision-values", "rv", "drop", "generation",
    "observed")

FIELD_RULES: dict[tuple[str, str], str] = {
    # times (model seconds)
    ("ObjectMeta", "creation_timestamp"): TIME, ("ObjectMeta", "deletion_timestamp"): TIME,
    ("Condition", "last_transition_time"): TIME, ("Condition", "last_update_time"): TIME,
    ("Condition", "last_probe_time"): TIME, ("Condition", "last_heartbeat_time"): TIME,
    ("Taint", "time_added"): TIME, ("PodStatus", "start_time"): TIME,
    ("ContainerRuntime", "started_at"): TIME, ("ContainerRuntime", "exited_at"): TIME,
    ("ContainerRuntime", "backoff_updated"): TIME, ("PodRuntime", "admitted_at"): TIME,
    ("PodRuntime", "kill_deadline"): TIME, ("ScheduledEviction", "fire_at"): TIME,
    ("NodeLifecycleMemory", "started_at"): TIME, ("Expectation", "timestamp"): TIME,
    ("HorizontalPodAutoscalerStatus", "last_scale_time"): TIME,
    ("ClusterState", "clock"): DROP, ("ClusterState", "heartbeat_lost"): TIME_VALUES,
    ("ClusterState", "crashed_at"): TIME_VALUES,
    ("HPAMemory", "due"): TIME_VALUES, ("HPAMemory", "recommendations"): TIME_PAIRS,
    ("HPAMemory", "scale_up_events"): TIME_PAIRS, ("HPAMemory", "scale_down_events"): TIME_PAIRS,
    ("PodDisruptionBudgetStatus", "disrupted_pods"): TIME_VALUES,
    ("DeschedulerState", "next_run"): TIME, ("Drain", "pending"): TIME_VALUES, ("Drain", "started_at"): TIME,
    ("AttachDetachMemory", "waits"): TIME_FIRST, ("Drain", "deadline"): TIME,
    ("CommandWait", "deadline"): TIME, ("ZoneTainter", "ready_at"): TIME,
    ("NodeLifecycleMemory", "probes_reset_at"): TIME, ("ContainerRuntime", "config_failed_at"): TIME,
    ("ContainerRuntime", "kill_deadline"): TIME, ("KubeletState", "memory_pressure_at"): TIME,
    ("KubeletState", "disk_pressure_at"): TIME, ("KubeletState", "pid_pressure_at"): TIME,
    ("JobStatus", "start_time"): TIME, ("JobStatus", "completion_time"): TIME,
    ("BackoffRecord", "last_failure"): TIME, ("JobMemory", "held"): TIME_VALUES,
    ("CronJobStatus", "last_schedule_time"): TIME, ("CronJobStatus", "last_successful_time"): TIME,
    ("Pending", "scheduled"): TIME,
    # revisions and counters
    ("Store", "revision"): REVISION, ("Store", "compacted"): REVISION, ("WatchEvent", "revision"): REVISION,
    ("ResourceCache", "revision"): REVISION, ("ClusterState", "seen_revisions"): REVISION_VALUES,
    ("ObjectMeta", "resource_version"): RV, ("Deliver", "revision"): REVISION,
    ("Store", "names_generated"): DROP, ("Store", "uids_issued"): DROP,
    # generations
    ("ObjectMeta", "generation"): GENERATION,
}
"""(class name, field) → how the field's value is abstracted. Components that add time-valued
state add their fields here (a missing entry only makes the search less able to close cycles)."""
OBSERVED_FIELDS: Final = frozenset({"observed_generation"})
"""Fields anywhere inside an object that hold a generation of that object."""


def horizon(model: ClusterModel, state: ClusterState) -> int:
    """The longest duration the model can measure (see the module docstring)."""
    longest = [int(v) for k, v in model.parameters.items()
               if k.endswith("Seconds") and isinstance(v, int) and not isinstance(v, bool)]
    descheduler = model.scenario.spec.descheduler
    if descheduler is not None:
        longest.append(descheduler.interval_seconds)
    for obj in state.store.objects.values():
        longest.extend(_durations(obj))
    return max(longest, default=0) + model.tick_seconds


def _durations(value: Any) -> Iterator[int]:
    if attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            inner = getattr(value, field.name)
            if field.name.endswith("_seconds") and isinstance(inner, int) and not isinstance(inner, bool):
                yield inner
            elif not isinstance(inner, str | int | float | bool | None):
                yield from _durations(inner)
    elif isinstance(value, tuple):
        for item in value:
            yield from _durations(item)


@attrs.define
class _Context:
    """One state's renaming: rank maps for names, uids, revisions and old times."""

    clock: int
    horizon: int
    suffixes: dict[str, int]
    names: dict[str, int] = attrs.field(factory=dict)
    uids: dict[str, int] = attrs.field(factory=dict)
    revisions: dict[int, int] = attrs.field(factory=dict)
    old_times: dict[int, int] = attrs.field(factory=dict)


_SUFFIXES: dict[int, dict[str, int]] = {}


def _suffix_table(count: int) -> dict[str, int]:
    """Suffix → seed for the first `count` generated names (cached, grown as needed)."""
    known = _SUFFIXES.get(0, {})
    if len(known) < count:
        known = {generate_name("", n): n for n in range(1, max(count, 2 * len(known)) + 1)}
        _SUFFIXES[0] = known
    return known


# --- pass 1: collect the values to rank -------------------------------------------------------------

_FIELDS: dict[type, tuple[tuple[str, str | None], ...]] = {}
_PLAIN: dict[int, tuple[Any, str]] = {}
"""Encodings of subtrees that hold nothing to rename, by identity (the object is kept alive, so
its id is not reused while cached): they are the same in every state."""
PLAIN_LIMIT: Final = 300_000


def _fields_of(cls: type) -> tuple[tuple[str, str | None], ...]:
    found = _FIELDS.get(cls)
    if found is None:
        name = cls.__name__
        found = tuple((f.name, FIELD_RULES.get((name, f.name)) or (OBSERVED if f.name in OBSERVED_FIELDS else None))
                      for f in attrs.fields(cls) if f.eq)
        _FIELDS[cls] = found
    return found


def _collect(value: Any, ctx: _Context, rule: str | None, sets: dict[str, set[Any]]) -> None:
    if rule is not None:
        _collect_ruled(value, ctx, rule, sets)
        return
    if isinstance(value, str):
        _collect_string(value, ctx, sets)
        return
    if value is None or isinstance(value, bool | int | float | Quantity) or id(value) in _PLAIN:
        return
    cls = type(value)
    if attrs.has(cls):
        for field, inner_rule in _fields_of(cls):
            _collect(getattr(value, field), ctx, inner_rule if inner_rule != OBSERVED else None, sets)
    elif isinstance(value, FrozenMap | dict):
        for k, v in value.items():
            _collect(k, ctx, None, sets)
            _collect(v, ctx, None, sets)
    elif isinstance(value, tuple | list | frozenset | set):
        for item in value:
            _collect(item, ctx, None, sets)


def _collect_string(value: str, ctx: _Context, sets: dict[str, set[Any]]) -> None:
    if value.startswith(UID_PREFIX):
        sets["uids"].add(value)
    elif len(value) > 5 and value[-5:] in ctx.suffixes:
        sets["names"].add(value[-5:])


def _collect_ruled(value: Any, ctx: _Context, rule: str, sets: dict[str, set[Any]]) -> None:
    if rule == TIME:
        _note_time(value, ctx, sets)
    elif rule == TIME_VALUES:
        for k, v in value.items():
            _collect(k, ctx, None, sets)
            _note_time(v, ctx, sets)
    elif rule == TIME_PAIRS:
        for k, pairs in value.items():
            _collect(k, ctx, None, sets)
            for at, _ in pairs:
                _note_time(at, ctx, sets)
    elif rule == TIME_FIRST:
        for k, (at, *rest) in value.items():
            _collect(k, ctx, None, sets)
            _note_time(at, ctx, sets)
            _collect(tuple(rest), ctx, None, sets)
    elif rule == REVISION and isinstance(value, int):
        sets["revisions"].add(value)
    elif rule == REVISION_VALUES:
        sets["revisions"].update(v for v in value.values() if isinstance(v, int))
    elif rule == RV and isinstance(value, str) and value.isdigit():
        sets["revisions"].add(int(value))


def _note_time(value: Any, ctx: _Context, sets: dict[str, set[Any]]) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value < ctx.clock - ctx.horizon:
        sets["old"].add(value)


# --- pass 2: the canonical encoding -----------------------------------------------------------------

def _time(value: Any, ctx: _Context) -> Any:
    if not isinstance(value, int) or isinstance(value, bool):
        return value
    if value in ctx.old_times:
        return ("old", ctx.old_times[value])
    return value - ctx.clock


def _string(value: str, ctx: _Context) -> str:
    if value.startswith(UID_PREFIX):
        return f"uid#{ctx.uids.get(value, -1)}"
    if len(value) > 5 and value[-5:] in ctx.names:
        return f"{value[:-5]}#{ctx.names[value[-5:]]}"
    return value


def _encode(value: Any, ctx: _Context, rule: str | None, generation: int | None) -> tuple[str, bool]:
    """The value's canonical text, and whether it is plain (nothing in it was renamed)."""
    if rule is not None:
        return _encode_ruled(value, ctx, rule, generation), False
    if isinstance(value, str):
        renamed = _string(value, ctx)
        return repr(renamed), renamed == value
    if value is None or isinstance(value, bool | int | float):
        return repr(value), True
    if isinstance(value, Quantity):
        return f"Q{value.as_fraction()}", True
    hit = _PLAIN.get(id(value))
    if hit is not None and hit[0] is value:
        return hit[1], True
    text, plain = _encode_container(value, ctx, generation)
    if (plain and isinstance(value, tuple | FrozenMap | frozenset)) or (plain and attrs.has(type(value))):
        if len(_PLAIN) >= PLAIN_LIMIT:
            _PLAIN.clear()
        _PLAIN[id(value)] = (value, text)
    return text, plain


def _encode_container(value: Any, ctx: _Context, generation: int | None) -> tuple[str, bool]:
    if attrs.has(type(value)):
        return _encode_attrs(value, ctx, generation)
    if isinstance(value, FrozenMap | dict):
        pairs = [(_encode(k, ctx, None, generation), _encode(v, ctx, None, generation)) for k, v in value.items()]
        pairs.sort(key=lambda kv: kv[0][0])
        return "{" + ",".join(f"{k}:{v}" for (k, _), (v, _) in pairs) + "}", all(
            kp and vp for (_, kp), (_, vp) in pairs)
    if isinstance(value, frozenset | set):
        items = [_encode(v, ctx, None, generation) for v in value]
        return "{" + ",".join(sorted(t for t, _ in items)) + "}", all(p for _, p in items)
    if isinstance(value, tuple | list):
        items = [_encode(v, ctx, None, generation) for v in value]
        return "(" + ",".join(t for t, _ in items) + ")", all(p for _, p in items)
    return repr(value), True


def _encode_attrs(value: Any, ctx: _Context, generation: int | None) -> tuple[str, bool]:
    cls = type(value)
    metadata = getattr(value, "metadata", None)
    if metadata is not None and type(metadata).__name__ == "ObjectMeta":
        generation = metadata.generation
    parts = [cls.__name__, "("]
    plain = True
    for field, rule in _fields_of(cls):
        text, inner = _encode(getattr(value, field), ctx, rule, generation)
        plain = plain and inner
        parts += [field, "=", text, ","]
    parts.append(")")
    return "".join(parts), plain


def _key_text(key: Any, ctx: _Context) -> str:
    return _encode(key, ctx, None, None)[0]


def _encode_ruled(value: Any, ctx: _Context, rule: str, generation: int | None) -> str:
    if rule == DROP:
        return "_"
    if rule == TIME:
        return repr(_time(value, ctx))
    if rule == TIME_VALUES:
        return repr(sorted((_key_text(k, ctx), _time(v, ctx)) for k, v in value.items()))
    if rule == TIME_PAIRS:
        return repr(sorted((_key_text(k, ctx), tuple((_time(at, ctx), v) for at, v in pairs))
                           for k, pairs in value.items()))
    if rule == TIME_FIRST:
        return repr(sorted((_key_text(k, ctx), _time(at, ctx), *(_encode(v, ctx, None, None)[0] for v in rest))
                           for k, (at, *rest) in value.items()))
    if rule == REVISION:
        return f"r{ctx.revisions.get(value, -1)}" if isinstance(value, int) else repr(value)
    if rule == REVISION_VALUES:
        return repr(sorted((k, ctx.revisions.get(v, -1)) for k, v in value.items()))
    if rule == RV:
        return f"rv{ctx.revisions.get(int(value), -1)}" if isinstance(value, str) and value.isdigit() else repr(value)
    if rule == GENERATION:
        return "g"
    if rule == OBSERVED:
        relative = value - generation if isinstance(value, int) and generation is not None else value
        return f"o{relative!r}"
    raise ValueError(f"unknown abstraction rule {rule!r}")


def _context(model: ClusterModel, state: ClusterState, limit: int) -> _Context:
    ctx = _Context(state.clock, limit, _suffix_table(state.store.names_generated))
    sets: dict[str, set[Any]] = {"uids": set(), "names": set(), "revisions": set(), "old": set()}
    _collect(state, ctx, None, sets)
    ctx.uids = {v: i for i, v in enumerate(sorted(sets["uids"]))}
    ctx.names = {v: i for i, v in enumerate(sorted(sets["names"]))}
    ctx.revisions = {v: i for i, v in enumerate(sorted(sets["revisions"]))}
    ctx.old_times = {v: i for i, v in enumerate(sorted(sets["old"]))}
    return ctx


@attrs.frozen
class Abstraction:
    """The cycle-key function of one model: `key(state)`, and `label(state, action)` for actions."""

    model: ClusterModel
    limit: int

    @classmethod
    def of(cls, model: ClusterModel, state: ClusterState) -> Abstraction:
        """The abstraction with the horizon of `state` (the scenario's objects are in its store)."""
        return cls(model, horizon(model, state))

    def key(self, state: ClusterState) -> bytes:
        """The state's cycle key (16 bytes)."""
        return self.analyse(state)[0]

    def analyse(self, state: ClusterState) -> tuple[bytes, Callable[[Action], str]]:
        """The state's cycle key, and the abstract label of any action in that state (names,
        uids and revisions renamed as in the key)."""
        ctx = _context(self.model, state, self.limit)
        text = _encode(state, ctx, None, None)[0]
        return hashlib.blake2b(text.encode(), digest_size=16).digest(), lambda act: _encode(act, ctx, None, None)[0]
