"""Properties: named, documented checks over cluster states, and the registry engines read.

A property has a name, a one-line statement, the upstream rule it encodes, and a check. A safety
property's check takes (model, state) and returns None (holds) or a `Violation` naming the objects
involved. Users add properties as plain functions with the `@safety(...)` decorator or by building
`Property` values (docs/properties.md), and name their modules on the command line
(`kubeprop check --properties MODULE[:ATTR]`) or in a scenario (`properties:`); `properties.modules`
loads them.

A property may declare what it `needs` to be able to fail at all (an object kind, a fault): a
verdict on a scenario that cannot produce it is reported as vacuous (`properties.vacuity`).

A `Property` pickles by reference (its `source`: the module, or `module:attribute`, it was loaded
from), so a property defined in a user module can be checked by walk worker processes.
"""

from __future__ import annotations

import difflib
import importlib
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Generic, Literal, TypeVar

import attrs

from kubeprop.model.errors import UnknownName, UsageError, UserCodeError
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.user_code import property_error, property_returned
from kubeprop.properties.calls import CUTOFF, OutOfBudget, Refused, ledger_entry, metered, raised_by_cutoff
from kubeprop.properties.needs import NEEDS_EXAMPLE as NEEDS_EXAMPLE  # (re-exported: where properties are made)
from kubeprop.properties.needs import BadNeeds as BadNeeds
from kubeprop.properties.needs import Needs as Needs
from kubeprop.properties.needs import needs_problems as needs_problems

Kind = Literal["safety", "convergence"]


@attrs.frozen
class Violation:
    """Why a property fails in a state: a sentence, and the objects involved (`kind ns/name`)."""

    property: str
    message: str
    objects: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.property}: {self.message}"

    def named(self, kind: str) -> str | None:
        """The `ns/name` (or name) of the first object of `kind` the violation names, or None."""
        return next(iter(self.all_named(kind)), None)

    def all_named(self, kind: str) -> tuple[str, ...]:
        """The `ns/name` (or name) of every object of `kind` the violation names, in its order."""
        return tuple(name for k, _, name in (obj.partition(" ") for obj in self.objects) if k == kind)


Check = Callable[[ClusterModel, ClusterState], "Violation | None"]


@attrs.frozen
class Property:
    """A named property. `kind` is safety (checked on every state) or convergence (checked on
    the states a fair, fault-free run settles in). `needs` says what it takes to fail (None: the
    built-in table in `properties.vacuity`, or nothing); `source` where to import it from in
    another process (`module` for a registered one, `module:attribute` otherwise; "" unknown)."""

    name: str
    statement: str
    upstream: str
    check: Check = attrs.field(eq=False, repr=False)
    kind: Kind = "safety"
    needs: Needs | None = attrs.field(default=None, eq=False)
    source: str = attrs.field(default="", eq=False)
    needs_recovery: bool = True
    """Convergence only: True when the property can be expected only once the environment
    recovers (partitions heal, crashed nodes boot); False when the control plane alone must bring
    it about, so it is also judged on the continuation where nothing recovers."""
    reads: tuple[str, ...] | None = None
    """The `ClusterState` fields the check reads (`objects` meaning the stored objects, `FIELD:KEY`
    one entry of a map field, or a name of `DERIVED_READS`), so that an engine may reuse its
    verdict while they are unchanged; None: anything (always re-evaluated)."""

    def __call__(self, model: ClusterModel, state: ClusterState) -> Violation | None:
        return self.check(model, state)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by reference when the source is known (a closure over a user function does not
        pickle by value); else by value."""
        if self.source:
            return (_by_reference, (self.source, self.name))
        return (Property, (self.name, self.statement, self.upstream, self.check, self.kind, self.needs))


def _by_reference(source: str, name: str) -> Property:
    """The property called `name` from `source` (see `Property.source`)."""
    from kubeprop.properties.modules import find_property

    return find_property(source, name)


PROPERTIES: dict[str, Property] = {}

OPT_IN: dict[str, Property] = {}
"""Built-in properties outside the default set: checked when named (`kubeprop check --property
NAME`), or by default on a scenario whose fault budget enables their fault (`OPT_IN_FAULT`).
`kubeprop.properties.overload` and `kubeprop.properties.restore` fill it (docs/properties.md)."""

OPT_IN_FAULT: dict[str, str] = {}
"""Opt-in property name → the `FaultBudget` field that brings it into a scenario's default set."""


def register_opt_in(prop: Property, fault: str = "") -> Property:
    """Add a built-in property that a check covers only when it is named, or when the scenario
    allows at least one fault of kind `fault`."""
    OPT_IN[prop.name] = prop
    if fault:
        OPT_IN_FAULT[prop.name] = fault
    return prop


OPT_IN_WHEN: dict[str, Callable[[Any], bool]] = {}
"""Opt-in property name → a test of the scenario that brings it into the scenario's default set."""


def register_opt_in_when(source: str, applies: Callable[[Any], bool], prop: Property) -> Property:
    """`register_opt_in` for a property checked by default on the scenarios `applies` accepts
    (`source`: its module, so that it pickles by reference for worker processes)."""
    registered = register_opt_in(attrs.evolve(prop, source=source))
    OPT_IN_WHEN[prop.name] = applies
    return registered


def register_opt_ins(source: str, fault: str, props: Iterable[Property]) -> tuple[Property, ...]:
    """`register_opt_in` for each of a module's properties, with `source` (the module, so that they
    pickle by reference for worker processes)."""
    return tuple(register_opt_in(attrs.evolve(p, source=source), fault) for p in props)


class PropertyNameClash(UsageError, ValueError):
    """A property outside kubeprop's built-in modules that takes a built-in property's name."""


def is_builtin(prop: Property) -> bool:
    """Whether `prop` comes from one of the `BUILTIN_MODULES` (its `source`: `module` or `module:attribute`)."""
    return prop.source.partition(":")[0] in BUILTIN_MODULES


def builtin_named(name: str) -> str:
    """The module of the built-in property called `name` (an opt-in one too, or a time bound
    `<metric>-within-<seconds>s`, which `select` builds from its name), or '' if none is."""
    load_builtins()
    registered = PROPERTIES.get(name)
    if registered is not None and is_builtin(registered):
        return registered.source.partition(":")[0]
    if name in OPT_IN:
        return OPT_IN[name].source.partition(":")[0] or "kubeprop.properties"
    return "kubeprop.properties.metrics_within (a time bound)" if _time_bound(name) is not None else ""


def refuse_builtin_name(prop: Property, where: str = "") -> None:
    """`PropertyNameClash` when `prop`, not one of the built-ins, is named like one: it would
    otherwise replace the built-in in every check that selects it by name (trial 10: a module's
    `replicaset-no-overcreation` that always holds turned a known bug into "held", exit 0).
    `where`: the module (or reference) it comes from, when its `source` does not say."""
    if is_builtin(prop):
        return
    builtin = builtin_named(prop.name)
    if builtin:
        origin = where or prop.source.partition(":")[0] or "(unknown module)"
        raise PropertyNameClash(f"module {origin!r} defines property {prop.name!r}, which is the name of a built-in "
                                f"property ({builtin}); a module's property never replaces a built-in one: "
                                "give it a name of its own")


REGISTERED_BY: dict[str, dict[str, Property]] = {}
"""Module → the properties registering it registered (`Property.source`'s module), by name in
registration order: what `import_registering` registers again when the module is already imported
(its decorators do not run twice), so that a rollback (`registry_kept`) never hides a module's
properties from a later import of it in the same process."""


def register(prop: Property) -> Property:
    """Add a property to the registry (a later one with the same name replaces it, except that a
    property from outside `BUILTIN_MODULES` never takes a built-in's name: `PropertyNameClash`),
    remembering which module registered it (`REGISTERED_BY`)."""
    refuse_builtin_name(prop)
    PROPERTIES[prop.name] = prop
    module = prop.source.partition(":")[0]
    if module:
        REGISTERED_BY.setdefault(module, {})[prop.name] = prop
    return prop


def import_registering(module: str) -> ModuleType:
    """Import `module` with the registry afterwards holding what the module registers on import,
    whether this import runs it or finds it imported already (then its recorded registrations are
    registered again: a module imported inside a `registry_kept` block, say by a gate's check,
    would otherwise define no property for a later corpus replay, trial 21). Only what the module
    registered when it ran is restored: no code runs that an import would not run."""
    fresh = module not in sys.modules
    if fresh:
        REGISTERED_BY.pop(module, None)  # (a module run again, after a failed import, registers anew)
    imported = importlib.import_module(module)
    if not fresh:
        for prop in tuple(REGISTERED_BY.get(module, {}).values()):
            register(prop)
    return imported


@contextmanager
def registry_kept() -> Iterator[None]:
    """The registry of properties as it is now once the block is over: what a module imported
    inside registered (`@safety` on import) is checked only there, not by every later check of
    the same process (a gate runs several checks, and forks its corpus replays, in one). A later
    `import_registering` of such a module registers its properties again."""
    load_builtins()
    saved = dict(PROPERTIES)
    try:
        yield
    finally:
        PROPERTIES.clear()
        PROPERTIES.update(saved)


CheckResult = str | tuple[str, tuple[str, ...]] | None
"""What a property function returns: None (holds), a message, or (message, objects involved)."""
CheckFn = Callable[[ClusterModel, ClusterState], CheckResult]


def violation_of(name: str, result: CheckResult) -> Violation | None:
    """The violation of property `name` that a check's result stands for (None: it holds); also
    for cycle properties (`kubeprop.properties.oscillation`) and Raft checks (`kubeprop.properties.raft`)."""
    if result is None:
        return None
    if isinstance(result, tuple):
        message, objects = result
        return Violation(name, message, tuple(objects))
    return Violation(name, result)


In = TypeVar("In")
Of = TypeVar("Of")


@attrs.frozen
class NamedCheck(Generic[In, Of]):
    """A named check of something other than a cluster state, whose result (`CheckResult`) stands
    for a violation of it (`violation_of`): the base of the cycle properties
    (`kubeprop.properties.oscillation.CycleProperty`, of a model and a cycle) and the Raft checks
    (`kubeprop.properties.raft.RaftCheck`, of a configuration and a state), each adding its `kind`."""

    name: str
    statement: str
    upstream: str
    check: Callable[[In, Of], CheckResult] = attrs.field(eq=False, repr=False)

    def __call__(self, context: In, subject: Of) -> Violation | None:
        return violation_of(self.name, self.check(context, subject))


def as_property(name: str, statement: str, upstream: str, kind: Kind, fn: CheckFn,
                needs: Needs | None = None, *, needs_recovery: bool = True,
                reads: tuple[str, ...] | None = None) -> Property:
    """Wrap a plain function returning a CheckResult as a Property (its `source`: the function's
    module when the decorators register it). An exception from the user's code in it becomes a
    `UserCodeError` naming the property and the state (`kubeprop.model.user_code.property_error`):
    a `SystemExit` too (`sys.exit` in a property would end the whole check with its code, 0 reading
    as "held"), and an `OutOfBudget` the function raises itself (only kubeprop's cutoff ends a check
    `time-bound`); a `KeyboardInterrupt` goes on as it is (Ctrl-C stops the check: exit 130).
    Each call is counted with its seconds, and none starts after the budget's cutoff (`calls.py`).
    A `needs` that is not a valid `Needs` is a `BadNeeds` (bad input), raised here."""
    if problems := needs_problems(name, needs):
        raise BadNeeds("\n".join(p.replace(f"property {name}:", f"property {name} ({_qualified(fn)}):", 1)
                                  for p in problems))
    entry, cutoff = ledger_entry(name), CUTOFF  # (this property's calls and seconds; the budget's cutoff)

    def check(model: ClusterModel, state: ClusterState) -> Violation | None:
        began = time.perf_counter()
        if cutoff[0] is not None and began >= cutoff[0]:
            raise Refused(name)  # no call starts after the budget (`calls.py`)
        try:
            result = fn(model, state)
        except UserCodeError:
            raise
        except (Exception, SystemExit, OutOfBudget) as err:  # the boundary where the user's property function is called
            if isinstance(err, OutOfBudget) and raised_by_cutoff(err):
                raise  # (a property it calls, refused by the cutoff: the check's budget is over)
            error = property_error(name, fn, f"checking a state at model time {state.clock} s "
                                             f"(store revision {state.store.revision})", err)
            if error is None:
                raise  # (no frame of the user's: kubeprop's own bug)
            raise error from err
        finally:
            entry[0] += 1
            entry[1] += time.perf_counter() - began
        if result is not None and not _valid_result(result):
            raise property_returned(name, fn, result)
        return violation_of(name, result)

    metered(check)
    return Property(name, statement, upstream, check, kind, needs, needs_recovery=needs_recovery, reads=reads)


def _qualified(fn: object) -> str:
    """`module.function` of a property's function."""
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', '?')}"


def _valid_result(result: object) -> bool:
    """Whether a property function's result other than None is a `CheckResult`: a message, or
    (message, objects)."""
    if isinstance(result, str):
        return True
    return (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], str)
            and isinstance(result[1], tuple | list))


def _registered(kind: Kind, name: str, statement: str, upstream: str, needs: Needs | None, *,
                needs_recovery: bool = True, reads: tuple[str, ...] | None = None) -> Callable[[CheckFn], Property]:
    def decorate(fn: CheckFn) -> Property:
        prop = as_property(name, statement, upstream, kind, fn, needs, needs_recovery=needs_recovery, reads=reads)
        return register(attrs.evolve(prop, source=str(getattr(fn, "__module__", "") or "")))
    return decorate


def safety(name: str, statement: str, upstream: str, needs: Needs | None = None, *,
           reads: tuple[str, ...] | None = None) -> Callable[[CheckFn], Property]:
    """Decorator: a function returning a CheckResult becomes a registered safety property."""
    return _registered("safety", name, statement, upstream, needs, reads=reads)


def convergence(name: str, statement: str, upstream: str, needs: Needs | None = None, *,
                needs_recovery: bool = True, reads: tuple[str, ...] | None = None) -> Callable[[CheckFn], Property]:
    """Decorator: a function returning a CheckResult becomes a registered convergence property,
    judged where a fair, fault-free run settles (also where the environment never recovers, with
    `needs_recovery=False`)."""
    return _registered("convergence", name, statement, upstream, needs, needs_recovery=needs_recovery,
                       reads=reads)


BUILTIN_MODULES: tuple[str, ...] = (
    "kubeprop.properties.convergence",
    "kubeprop.properties.invariants",
    "kubeprop.properties.workload_finish",
    "kubeprop.properties.overload",  # opt-in: usable by name
    "kubeprop.properties.restore",  # opt-in
    "kubeprop.properties.cache_sync",  # opt-in: on by default where a controller's identity is not trusted
    "kubeprop.properties.controller_failures",  # opt-in: on by default where a scenario has its own controllers
    "kubeprop.properties.scheduler_decisions",  # Z3-checked scheduler decisions
    "kubeprop.properties.daemonsets",  # opt-in: on by default where a DaemonSet can exist
    "kubeprop.properties.jobs",  # opt-in: on by default where a Job can exist
    "kubeprop.properties.cronjobs",  # opt-in: on by default where a CronJob can exist
)
"""The modules that define (and register) the built-in properties, exactly: importing them is what
`select` does first. A counterexample file may name one of these as its `property.module` without
an allowance; any other module, kubeprop's own included, only when the user allows it by name."""


def load_builtins() -> None:
    """Import the `BUILTIN_MODULES` (registering the built-in properties)."""
    for module in BUILTIN_MODULES:
        importlib.import_module(module)


def select(names: Iterable[str | Property] | None = None, kind: Kind | None = None,
           extra: Iterable[Property] = ()) -> tuple[Property, ...]:
    """Properties by name of a registered one or of one of `extra`, or given as `Property` values
    (which are used as they are, never registered); when `names` is None, all registered ones
    followed by `extra` (one per name: an extra property replaces a registered one of its name);
    a name may also be an opt-in built-in (`OPT_IN`), never chosen by default; optionally only of
    one kind. An unknown name raises `UnknownName` listing the valid ones."""
    load_builtins()
    known = dict(PROPERTIES)
    known.update((p.name, p) for p in extra)
    if names is None:
        chosen = list(known.values())
    else:
        known = {**OPT_IN, **known}
        chosen = []
        for name in names:
            if not isinstance(name, str):  # a Property value, or a cycle property for the lasso engines
                chosen.append(name)
                continue
            if name not in known and (bound := _time_bound(name)) is not None:
                chosen.append(bound)
                continue
            if name not in known:
                raise UnknownName(f"unknown property {name!r}; valid: {', '.join(sorted(known))}")
            chosen.append(known[name])
    return tuple(p for p in chosen if kind is None or p.kind == kind)


def _time_bound(name: str) -> Property | None:
    """A name of the form `<metric>-within-<seconds>s` (`kubeprop.properties.metrics_within.within`,
    e.g. `pod-replacement-time-within-359s`, the property a worst-case file records) as that
    property; None for any other name."""
    from kubeprop.properties.metrics_within import STATE_METRICS, within

    found = re.fullmatch(r"([a-z-]+)-within-(\d{1,9})s", name)
    if found is None or found.group(1) not in STATE_METRICS:
        return None
    return within(found.group(1), int(found.group(2)))


@attrs.frozen
class DerivedRead:
    """A value computed from a state that a property's `reads` may name besides its fields: `value`
    computes it; `fields` are the `ClusterState` fields it is computed from (what a step must
    write to change it, for partial-order reduction's visibility)."""

    value: Callable[[ClusterState], object] = attrs.field(eq=False)
    fields: tuple[str, ...]


DERIVED_READS: dict[str, DerivedRead] = {}
"""Derived values by the name `reads` gives them: a verdict is reused while the value is the same
(`kubeprop.properties.explore.incremental`). Coarse fields (`informers`, `store`) change on almost
every step; a value derived from them, such as whether a component's caches are caught up, much
less often."""


Derived = TypeVar("Derived", bound=Callable[[ClusterState], object])


def derived_read(name: str, fields: tuple[str, ...]) -> Callable[[Derived], Derived]:
    """Decorator: register a function of the state as a value properties may name in `reads`,
    computed from `fields`."""
    def register_read(fn: Derived) -> Derived:
        DERIVED_READS[name] = DerivedRead(fn, fields)
        return fn
    return register_read


@derived_read("store-revision", ("store",))
def store_revision(state: ClusterState) -> int:
    """The store's revision: it moves with every write, not with compaction of the event log."""
    return state.store.revision


def read_fields(name: str) -> tuple[str, ...]:
    """The `ClusterState` fields (`objects` for the stored objects) a name in `reads` stands for."""
    derived = DERIVED_READS.get(name)
    if derived is not None:
        return derived.fields
    return (name.partition(":")[0],)


Subject = TypeVar("Subject")
Checked = TypeVar("Checked")


def first_found(checks: Iterable[Callable[[Subject, Checked], Violation | None]], subject: Subject,
                checked: Checked) -> Violation | None:
    """The violation of the first check (in the given order) that finds one in `checked`: the one
    loop behind `first_violation`, cycle properties (`kubeprop.properties.oscillation`) and Raft
    checks (`kubeprop.properties.raft`), whose checks all take (model or config, what is checked)."""
    for check in checks:
        violation = check(subject, checked)
        if violation is not None:
            return violation
    return None


def first_violation(model: ClusterModel, state: ClusterState, props: Iterable[Property]) -> Violation | None:
    """The first property (in the given order) that fails in `state`."""
    return first_found(props, model, state)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`did you mean 'y'? valid: …` (the close match to a misspelt name only when there is one)."""
    valid = sorted(set(known))
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.75)
    return (f"did you mean {close[0]!r}? " if close else "") + f"valid: {', '.join(valid)}"
