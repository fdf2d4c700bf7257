"""Where two instances of one kind of component contend for one object: the perturbations the
engine tries there first.

Several instances of a component without leader election (two scheduler instances; kubelets of
two nodes that both have work on a pod of one name) act on the same objects from their own
caches and memories. What they do to each other depends on the order of single steps, not on
one of them being slow as a whole (`slow.Slow`): one instance assumes a pod and binds it a moment
later, and between the two steps the other, whose cache did not see the first's assumption,
schedules the same pod elsewhere. Sieve (Sun et al., OSDI 2022) perturbs exactly such points:
*intermediate states* (a component stopped between two steps of one operation) and *unobserved
states* (a component that does not observe what happens next). Here:

- a *contention point* is a step of one instance on an object (`hold.object_of`: a pod) taken
  where a step of another instance of the same kind on the same object is enabled too
  (`contended`): the instances are the actors `footprint.actor` names with the same kind
  (`scheduler/…`, `kubelet/…`) and different components (`footprint.component_of`; the
  controllers of one controller manager are one component);
- on the fair run, at the first contention point of each instance: that instance slow from
  there (`slow.Slow`), so that the other goes first (`first_contentions`);
- on a perturbed run, after each contention point among its effects (`after_contention`): the
  steps of that instance on that object the contended step enabled, delayed (`hold.Delay`: the
  binding of a pod right after its assumption), and that instance's watch of the object's
  resource held (`hold.Hold.informer(..., lasting=True)`: it keeps acting on what it assumed
  while the other instance's write stays unobserved) — both until nothing else is left, across
  the user's next steps.

A run derived at a contention point keeps the holds in force there (`hold.Holds`), so that the
perturbations of one race add up: the instance that was slow is still slow, a delayed binding
stays delayed. Nothing names a scenario or a variant: with one instance of each component (one
scheduler, as by default) there is no contention point and the engine runs as without this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from kubeprop.model.cluster.footprint import actor, component_of
from kubeprop.model.state.actions import Action
from kubeprop.properties.explore.around import _Node
from kubeprop.properties.explore.hold import Delay, Hold, Holds, object_of, step_key
from kubeprop.properties.explore.slow import Slow, slowable

Enabled = Callable[[_Node], list[Action]]


def kind_of(name: str) -> str:
    """The kind of an actor (`scheduler/scheduler-2` → `scheduler`)."""
    return name.split("/", 1)[0]


def contended(act: Action, enabled: Iterable[Action]) -> bool:
    """True if another instance of `act`'s kind has a step on `act`'s object among `enabled`."""
    obj = object_of(act)
    component = component_of(act)
    if obj is None or not component:
        return False
    kind = kind_of(actor(act))
    return any(object_of(b) == obj and kind_of(actor(b)) == kind and component_of(b) not in ("", component)
               for b in enabled)


def contention_points(nodes: Iterable[_Node], effects: Iterable[bool], enabled: Enabled) -> Iterator[_Node]:
    """The nodes, among a run's effects, that a contended step led to (in run order)."""
    for node, effect in zip(nodes, effects, strict=True):
        if effect and node.action is not None and node.parent is not None \
                and contended(node.action, enabled(node.parent)):
            yield node


def first_contentions(nodes: Iterable[_Node], enabled: Enabled) -> Iterator[tuple[_Node, Slow]]:
    """On the fair run: for each instance, where it first took a contended step (the node before
    it) and that instance slow from there, the other instances going first."""
    seen: set[str] = set()
    nodes = list(nodes)
    for node in contention_points(nodes, [True] * len(nodes), enabled):
        assert node.action is not None and node.parent is not None  # (`contention_points` yields only those)
        name = actor(node.action)
        if slowable(name) and name not in seen:
            seen.add(name)
            yield node.parent, Slow(name)


def after_contention(node: _Node, enabled: Enabled, watched: Callable[[str], tuple[str, ...]],
                     holds: Holds | None) -> list[Delay | Hold]:
    """After a contended step: the steps of the same instance on the same object that it enabled,
    delayed; that instance's watch of the object's resource held (both lasting); each unless
    already held by `holds`, the holds in force there."""
    assert node.action is not None and node.parent is not None
    act, before = node.action, set(enabled(node.parent))
    name, obj, component = actor(act), object_of(act), component_of(act)
    assert obj is not None
    held = holds if holds is not None else Holds()
    out: list[Delay | Hold] = []
    for nxt in enabled(node):
        key = step_key(nxt)
        if nxt not in before and actor(nxt) == name and object_of(nxt) == obj and key is not None \
                and not held.holds(key):
            delay = Delay(type(nxt).__name__, obj[1])
            if delay not in out:
                out.append(delay)
    informer = Hold.informer(component, obj[0], lasting=True)
    if obj[0] in watched(component) and not held.holds(informer.actor):
        out.append(informer)
    return out
