"""Whether one action is enabled, asking only the part of a state's enabled actions it can come from.

Shrinking replays candidate traces, and at every step it asks whether the trace's next action is
enabled (`shrink.enabled_as`): a step counts only if the action is among `actions(model, state)`
(a watch delivery: its watch's next event, whatever its revision). Listing every enabled action
for that computed every part of them whose inputs the step before had changed — a third of the
time of endpoints-stale-cache's shrinking went into listing them (docs/engines.md, "Shrinking").

An action can only come from the component that handles it: each component module's `HANDLERS`
names the action classes it handles (`compose.HANDLERS` is their union, one component per class),
and its `enabled` lists actions of those classes only. Of the components the enabled-action cache
splits into parts (`enabled_reads.SPLIT`), a part for one node or one informer component (its
argument) lists only actions of that node or component (their `node` or `component` field), and
of time's and the faults' parts `Tick` and `Quiesce` each come from their own. So `Sources` maps
an action to the few parts of the cache (`incremental.EnabledCache`) that can list it, and
`enabled_as` and `is_enabled` look only there (`lazy_enabled.Lazy`: each part computed when first
asked, into the state's answers). The answer is the one the whole list gives (the first enabled
`Deliver` of the same watch in the order of the list is the first of its own part, since no other
part lists that watch's deliveries): `tests/properties/explore/test_shrink_enabled.py` compares
them on random runs of several scenarios, enabled actions and not. An action of a class no
component handles, a model whose parts are not laid out as expected, or no cache (`memoised` not
on) gets the whole list, as before.

Only when parts are computed changes, never what they are: shrinking gives the same results, and
counts the same steps (`shrink_clock`).
"""

from __future__ import annotations

from collections.abc import Sequence

from kubeprop.model.cluster import compose, faults
from kubeprop.model.cluster.enabled_reads import SPLIT
from kubeprop.model.cluster.incremental import EnabledCache
from kubeprop.model.cluster.lazy_enabled import Lazy
from kubeprop.model.state.actions import Action, Deliver, Quiesce, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState

OWN_PART = {Tick: faults.tick_enabled, Quiesce: faults.quiesce_enabled}
"""Action classes only one part of their component lists (by its enabled function)."""
ROUTES = 65_536
"""Actions whose parts `Sources` remembers (then it starts over: bounded memory)."""


def enabled_as(act: Action, enabled: Sequence[Action]) -> Action | None:
    """`act` if it is enabled; for a `Deliver` that is not, the enabled `Deliver` of the same watch
    (component and resource): "the next watch event of the resource reaches the component" is what
    the action does, its `revision` only names the event. A candidate that drops a write before a
    delivery shifts the revisions after it; without this, no write a later delivery follows could
    ever be dropped. Else None (the candidate is not a run)."""
    if act in enabled:
        return act
    if isinstance(act, Deliver):
        return next((a for a in enabled if isinstance(a, Deliver) and a.component == act.component
                     and a.resource == act.resource), None)
    return None


class Sources:
    """The parts of one model's `EnabledCache` each action can come from (see the module)."""

    def __init__(self, cache: EnabledCache) -> None:
        self.cache = cache
        model, parts = cache.model, cache.parts
        modules = [module for module in compose.COMPONENTS
                   for _ in range(len(SPLIT[module](model)) if module in SPLIT else 1)]
        self.by_class: dict[type[Action], tuple[int, ...]] = {}
        """Action class → the parts of the component that handles it (none: the whole list)."""
        self.routes: dict[Action, tuple[int, ...] | None] = {}
        """Action → its parts (`parts`), as found (at most `ROUTES` of them)."""
        if len(modules) != len(parts):  # (laid out otherwise: every action gets the whole list)
            return
        for module in compose.COMPONENTS:
            own = tuple(i for i, m in enumerate(modules) if m is module)
            for cls in module.HANDLERS:
                self.by_class[cls] = own
        for cls, fn in OWN_PART.items():
            self.by_class[cls] = tuple(i for i in self.by_class.get(cls, ()) if parts[i].enabled_fn is fn)

    def parts(self, act: Action) -> tuple[int, ...] | None:
        """The parts `act` can be listed in (in the cache's order), or None: any."""
        known = self.routes.get(act, ())
        if known != ():
            return known
        own = self.by_class.get(type(act))
        if own:
            names = {getattr(act, "node", None), getattr(act, "component", None)} - {None}
            parts = self.cache.parts
            own = tuple(i for i in own if not parts[i].args or parts[i].args[0] in names)
        if len(self.routes) >= ROUTES:
            self.routes.clear()
        found = self.routes[act] = own or None
        return found

    def lazy(self, state: ClusterState) -> Lazy:
        """`state`'s enabled actions, each part computed when first asked for."""
        return Lazy(self.cache, state, self.cache.answers_for(state))


_SOURCES: list[Sources] = []
"""The `Sources` of the cache in use (one: a new cache gets a new one)."""


def sources(model: ClusterModel) -> Sources | None:
    """The `Sources` of the cache `compose.actions` answers `model`'s actions from (None: none)."""
    caches = compose.CACHES
    if not caches or caches[-1].model is not model:
        return None
    cache = caches[-1]
    if not _SOURCES or _SOURCES[0].cache is not cache:
        _SOURCES[:] = [Sources(cache)]
    return _SOURCES[0]


def enabled_in(model: ClusterModel, state: ClusterState, act: Action) -> Action | None:
    """`enabled_as(act, actions(model, state))`, listing only the parts `act` can come from."""
    found = sources(model)
    indices = None if found is None else found.parts(act)
    if found is None or indices is None:
        return enabled_as(act, compose.actions(model, state))
    lazy = found.lazy(state)
    for i in indices:
        if act in lazy.part(i):
            return act
    if isinstance(act, Deliver):
        return next((a for i in indices for a in lazy.part(i) if isinstance(a, Deliver)
                     and a.component == act.component and a.resource == act.resource), None)
    return None


def is_enabled(model: ClusterModel, state: ClusterState, act: Action) -> bool:
    """`act in actions(model, state)`, listing only the parts `act` can come from."""
    found = sources(model)
    indices = None if found is None else found.parts(act)
    if found is None or indices is None:
        return act in compose.actions(model, state)
    lazy = found.lazy(state)
    return any(act in lazy.part(i) for i in indices)
