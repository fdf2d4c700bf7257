"""A component slow: the control plane's own actions reordered, for the perturbation engine.

A controller, or one scheduler instance, that is slower than the rest of the control plane:
from some point of a run, its steps are taken only when nothing else of the control plane is
enabled (Sieve's *unobserved states*, Sun et al., OSDI 2022: the states a fast component passes
through before a slow one reacts; a *delay* of CHESS's delay-bounded scheduling, Emmi, Qadeer &
Rakamarić, POPL 2011). Nothing new is added to the model: a slow component is a choice among the
enabled actions (`hold.HeldPolicy`), so every run it makes is a trace of the model and replays.

Two windows (`Slow.user`):

- until the control plane is otherwise quiet — only the user's next step or time passing left —
  placed right before the component's first step among the effects of the run's previous
  perturbation (the work the perturbation gave it: `first_steps`), so that the components that
  have work at the same time go first;
- until the user's next step, the user themselves waiting for every pending timer (a node's grace
  period, a taint's toleration, `hold.Hold(USER)`) — placed where the user's step is due on a
  perturbed run, for each component busy among that run's effects: e.g. worker-3 cut off, the user
  scaling only once the cluster settled, and meanwhile the ReplicaSet controller slower than the
  StatefulSet controller, so that a replacement postgres-0 takes the last room before the
  backends' replacements do (the `sts-split-brain` variant on FeastFlow).

Which components: the actors `footprint.actor` names `controller/<name>` (each controller of the
controller manager, the node lifecycle controller) and `scheduler/<instance>`; kubelets, informers
(held back by `hold.Hold.informer`) and the environment are not slowed down here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import attrs

from kubeprop.model.cluster.footprint import USER, actor
from kubeprop.properties.explore.around import _Node

SLOWABLE = ("controller/", "scheduler/")
"""Prefixes of the `footprint.actor` names a `Slow` perturbation may slow down."""


@attrs.frozen
class Slow:
    """The actor `actor` slow: its steps taken only when nothing else of the control plane is
    left; with `user`, the user's next step held too until the cluster settled and every timer
    fired (see the module). Not an action of the model: the run's fair policy leaves the held
    actors for last (`hold.HeldPolicy`)."""

    actor: str
    user: bool = False

    def held(self) -> frozenset[str]:
        """The actors the run's policy holds back (`footprint.USER` is the user's)."""
        return frozenset({self.actor, USER} if self.user else {self.actor})

    def describe(self) -> str:
        """For the report: which component is slow, and for how long."""
        return f"{self.actor} slow" + (" while the user waits" if self.user else "")


def slowable(name: str) -> bool:
    """True for the actors a `Slow` perturbation applies to (`SLOWABLE`)."""
    return name.startswith(SLOWABLE)


def first_steps(nodes: Iterable[_Node], effects: Iterable[bool]) -> Iterator[tuple[_Node, str]]:
    """For each slowable actor that took a step among a run's effects, the node its first such
    step led to (a `Slow` goes right before it, at its parent) and the actor, in run order."""
    seen: set[str] = set()
    for node, name in _slowable_steps(nodes, effects):
        if name not in seen:
            seen.add(name)
            yield node, name


def _slowable_steps(nodes: Iterable[_Node], effects: Iterable[bool]) -> Iterator[tuple[_Node, str]]:
    """Each step among a run's effects taken by a slowable actor: the node it led to, and the actor."""
    for node, effect in zip(nodes, effects, strict=True):
        if effect and node.action is not None and node.parent is not None:
            name = actor(node.action)
            if slowable(name):
                yield node, name


def busy(nodes: Sequence[_Node], effects: Sequence[bool]) -> list[str]:
    """The slowable actors that took a step among a run's effects: first those that created
    objects there (when two components create at the same time — the ReplicaSet and StatefulSet
    controllers replacing evicted pods, two schedulers binding — the order between them decides
    who gets the room), then the others; each group by its first such step."""
    first = [name for _, name in first_steps(nodes, effects)]
    made = creators(nodes, effects)
    return sorted(first, key=lambda name: name not in made)


def creators(nodes: Sequence[_Node], effects: Sequence[bool]) -> set[str]:
    """The slowable actors whose steps among a run's effects created an object in the store."""
    out: set[str] = set()
    for node, name in _slowable_steps(nodes, effects):
        if name in out:
            continue
        assert node.parent is not None  # (`_slowable_steps` yields only steps with a parent)
        before = node.parent.state.store.revision
        for event in reversed(node.state.store.events):
            if event.revision <= before:
                break
            if event.type == "ADDED":
                out.add(name)
                break
    return out
