"""Holding steps back: the fair policy with some of the control plane's steps left for last.

The perturbation engine (`perturb.py`) reorders the control plane's own steps without adding
anything to the model: a held step is an enabled action the run's policy takes only once nothing
else is left, so every run it makes is a trace of the model and replays. What can be held:

- an actor (`footprint.actor`): an informer's watch of one resource (`Hold.informer`), the user,
  a controller or a scheduler instance (`slow.Slow`) — until the control plane is otherwise quiet
  (only the user's next step or time passing left);
- with `lasting`, the same across the user's steps: held until nothing else at all is left (a
  watch that stays behind while the workload goes on: Sieve's *unobserved state*, Sun et al.,
  OSDI 2022);
- one kind of step on one object, whoever takes it (`Delay`): e.g. the binding of one pod, after a
  scheduler instance assumed it — the component stopped between two steps of one operation
  (Sieve's *intermediate state*), as when its API call is slow; lasting too.

Several holds may be in force at once (a run derived from a held run where its holds were still in
force keeps them: `Holds`); the quiet ones are released together, the lasting ones together when
nothing else is left.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from kubeprop.model.cluster.drive import FairPolicy
from kubeprop.model.cluster.footprint import USER, actor
from kubeprop.model.state.actions import Action, Tick, UserStep

OBJECT_FIELDS = {"pod": "pods"}
"""Action fields that name the API object a step acts on (namespace/name), with its resource: a
scheduling cycle's `Schedule`, `Bind`, `MarkUnschedulable`, `Preempt`, the preemption goroutine's
`ClearNominations` and `PreemptVictim` (on their preemptor), a kubelet's steps on a pod."""


def object_of(act: Action) -> tuple[str, str] | None:
    """The (resource, namespace/name) of the API object `act` is a step on (`OBJECT_FIELDS`), if any."""
    for field, resource in OBJECT_FIELDS.items():
        value = getattr(act, field, None)
        if isinstance(value, str):
            return resource, value
    return None


def step_key(act: Action) -> str | None:
    """The key a `Delay` of `act`'s kind of step on its object holds (None: `act` has no object)."""
    obj = object_of(act)
    return None if obj is None else Delay(type(act).__name__, obj[1]).key


@attrs.frozen
class Hold:
    """An actor's steps held back until nothing else is left to do. Not an action of the model:
    the run's fair policy leaves that actor for last (`HeldPolicy`).

    - an informer (`informer/<component>/<resource>`) right after its component wrote to that
      resource: Sieve's stale state, the component acting on a cache older than its own last
      write (the class of bug upstream's expectations and stale-resourceVersion trackers exist
      for); released when only the user's next step or time passing is left; with `lasting`
      (placed where two instances contend for one object, `contend.py`), only when nothing else
      is left at all, the user's steps included;
    - the user (`USER`) where their next step is due: it comes only once the cluster has settled
      and every pending timer fired (a node's grace period, a taint's toleration), as when a
      user takes their time.
    """

    actor: str
    lasting: bool = False

    @classmethod
    def informer(cls, component: str, resource: str, lasting: bool = False) -> Hold:
        """`component` not observing its watch on `resource`."""
        return cls(f"informer/{component}/{resource}", lasting)


@attrs.frozen
class Delay:
    """One kind of step (`kind`, an action class name) on one object (`obj`, namespace/name) held
    back, whichever component takes it, until nothing else is left (lasting, see the module): the
    binding of a pod a scheduler instance assumed, left in flight while the cluster goes on."""

    kind: str
    obj: str

    @property
    def key(self) -> str:
        """How `HeldPolicy.lasting` names it (apart from the actor names it holds)."""
        return f"step/{self.kind}/{self.obj}"


@attrs.frozen
class Holds:
    """The holds in force at a point of a run: `held` until the control plane is quiet, `shared`
    (held by the run it is compared with too), `lasting` until nothing else is left."""

    held: frozenset[str] = frozenset()
    shared: frozenset[str] = frozenset()
    lasting: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.held or self.lasting)

    def holds(self, key: str) -> bool:
        """True if `key` (an actor name, a `Delay.key`) is held."""
        return key in self.held or key in self.lasting


@attrs.define
class HeldPolicy(FairPolicy):
    """The fair policy with some steps held back (see the module) until nothing else is left.
    `diverged` turns True once a choice differed from the one of the run it is compared with — the
    fair policy's; with `shared` held too, that of the run holding only those (a slow component
    while the user waits, against the user waiting alone); with `fresh`, that of the run holding
    all but those (a run derived from a held one, which keeps its holds). `void` when every hold
    was released before that (the run is the one it was derived from)."""

    held: frozenset[str] = frozenset()
    shared: frozenset[str] = frozenset()
    diverged: bool = False
    void: bool = False
    lasting: frozenset[str] = frozenset()
    fresh: frozenset[str] = frozenset()

    def holds(self) -> Holds:
        """The holds in force now."""
        return Holds(self.held, self.shared, self.lasting)

    def choose(self, enabled: Sequence[Action]) -> Action | None:
        if self.held:
            act = super().choose([a for a in enabled if not self._holding(a)])
            waiting = USER not in self.held and isinstance(act, UserStep | Tick)
            if act is not None and not waiting:
                self.diverged = self.diverged or act != self._compared(enabled)
                return act
            self.held = frozenset()
            self.void = not self.lasting and not self.diverged
        if self.lasting:
            act = super().choose([a for a in enabled if not self._holding(a)])
            if act is not None:
                self.diverged = self.diverged or act != self._compared(enabled)
                return act
            self.lasting, self.void = frozenset(), not self.diverged
        return super().choose(enabled)

    def _holding(self, act: Action, without: frozenset[str] = frozenset()) -> bool:
        """True if `act` is held (but for the holds in `without`)."""
        name = actor(act)
        if name in self.held and name not in without:
            return True
        if not self.lasting:
            return False
        lasting = self.lasting
        return (name in lasting and name not in without) or ((key := step_key(act)) in lasting and key not in without)

    def _compared(self, enabled: Sequence[Action]) -> Action | None:
        """The choice of the run this one is compared with (see the class)."""
        if self.shared:
            act = super().choose([a for a in enabled if actor(a) not in self.shared])
            if act is not None:
                return act
        if self.fresh:
            act = super().choose([a for a in enabled if not self._holding(a, self.fresh)])
            if act is not None:
                return act
        return super().choose(enabled)
