"""Persistent (ample) sets for the breadth-first search: at a state, explore only a subset of the
enabled actions when the rest provably cannot interfere before one of them is taken.

A set `T` of actions enabled in `s` is *persistent* (Godefroid, "Partial-Order Methods for the
Verification of Concurrent Systems", LNCS 1032, 1996, ch. 4) when on every path from `s` made of
actions outside `T`, each action is independent of every action of `T`. It is computed here as a
*stubborn set* (Valmari; the same book, §4.3) over a static over-approximation of the actions:

- the **universe** is one *representative* per action kind and target (`footprint_universe.representatives`:
  a kind and its node, component, controller or scheduler — what footprints depend on); a
  representative stands for every action of that kind and target, enabled now or later;
- **closure**: starting from the representative of one enabled action, add every representative
  that conflicts with one in the set (`Footprint.conflicts`: could be dependent), and every one
  that writes what a member reads (`enablers`: a member not enabled now, or a new instance of
  it — a delivery of a newer event — becomes enabled only after something writes what decides
  its enabledness; deliveries and relists count the store among that);
- representatives that can no longer happen from `s` are left out (`alive`): faults once
  `Quiesce` was taken or their budget is spent, recoveries with nothing to recover from, the
  user's steps after the last one, `Quiesce` once taken.

The enabled actions whose representative the closure reached form the candidate; of the
candidates from every seed, the smallest that passes the other conditions is used (SPIN's
ample-set conditions; Holzmann, "The SPIN Model Checker", ch. 9; Clarke, Grumberg & Peled, "Model
Checking", ch. 10):

- C0: non-empty (it holds the seed);
- C1: persistence — the closure above;
- C2: visibility — unless it is every enabled action, it holds no *visible* action: none that
  writes a part of the state a checked property reads (`Property.reads`, mapped to footprint
  tokens by `visible_tokens`; a property without `reads` makes every action visible);
- C3: the cycle proviso, checked by the search (`por.py`): when an ample successor is already
  visited or queued, the state is fully expanded (Bošnački & Holzmann's proviso for breadth-first
  search), so no action is ignored for ever around a cycle.

When a model may produce an action kind without a footprint rule (the add-ons: HPA, maintenance,
the environment, the descheduler, etcd restores, overload), or convergence properties are judged
(their verdict depends on every quiesced state), no reduction is made: every enabled action is
ample. Reachability of every property-visible state is preserved (the test compares full and
reduced searches); shortest paths are not, so under a depth bound a reduced search may reach a
state later than the full one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from kubeprop.model.cluster.drive import RECOVERIES
from kubeprop.model.cluster.footprint import ALL, Footprints
from kubeprop.model.cluster.footprint_universe import Representative, addon_kinds_possible, key_of, representatives
from kubeprop.model.state import actions as act_mod
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Property, read_fields

FIELD_TOKENS: dict[str, tuple[str, ...]] = {
    "objects": ("store",), "store": ("store",), "informers": ("cache:",), "controllers": ("ctl:",),
    "schedulers": ("sched:",), "kubelets": ("kubelet:",), "down": ("up:",), "clock": ("clock",),
    "partitioned": ("net:",), "heartbeat_lost": ("heartbeat:",), "armed_failures": ("armed:",),
    "faults": ("faults:",), "quiesced": ("quiesced",), "workload_next": ("workload",),
    "workload_errors": ("workload",), "seen_revisions": ("ghost:",), "time_travel": ("ghost:",),
}
"""`ClusterState` field (as `Property.reads` names it) → the footprint tokens (or token prefixes,
ending in `:`) that stand for it. A field missing here (the add-ons' state) makes every action visible."""

CLOSURES_KEPT = 10_000
"""Closures remembered (by seed and which representatives are alive) before the memo is cleared.
The alive set is `bytes` with one byte (0 or 1) per representative and a closure an `int` bit mask
(as a tuple of bools and a frozenset of ints they took about 8 KB an entry — issue 17: 22 MB at
40,000 states of FeastFlow)."""

FAULT_BUDGET: dict[type[Action], str] = act_mod.INJECTED_FAULTS
"""Fault kinds and the budget each spends: possible only before `Quiesce` and within the budget."""


def visible_tokens(properties: Iterable[Property]) -> frozenset[str] | None:
    """The footprint tokens (and `prefix:` patterns) the properties read; None when some property
    may read anything (no `reads`, or a field without tokens): then every action is visible."""
    out: set[str] = set()
    for prop in properties:
        if prop.reads is None:
            return None
        for field in (f for name in prop.reads for f in read_fields(name)):
            if field not in FIELD_TOKENS:
                return None
            out.update(FIELD_TOKENS[field])
    return frozenset(out)


def _touches(tokens: frozenset[str], patterns: frozenset[str]) -> bool:
    if ALL in tokens:
        return True
    return any(t in patterns or (":" in t and t[:t.index(":") + 1] in patterns) for t in tokens)


class AmpleSets:
    """Computes the ample set of each state for one model, property set and action filter."""

    def __init__(self, model: ClusterModel, properties: Sequence[Property], convergence: bool,
                 action_filter: object = None) -> None:
        self.model = model
        visible = visible_tokens(properties)
        self.enabled = not convergence and visible is not None and not addon_kinds_possible(model)
        self.footprints = Footprints(model)
        reps = representatives(self.footprints, action_filter) if self.enabled else ()
        self.reps: tuple[Representative, ...] = reps
        self.index = {r.key: i for i, r in enumerate(reps)}
        self.visible = tuple(visible is None or _touches(r.footprint.writes, visible) for r in reps)
        self.conflicts = tuple(tuple(j for j, o in enumerate(reps) if j != i and r.footprint.conflicts(o.footprint))
                               for i, r in enumerate(reps))
        self.closures: dict[tuple[int, bytes], int] = {}
        self.enablers = tuple(tuple(j for j, o in enumerate(reps) if j != i and _enables(o, r))
                              for i, r in enumerate(reps))
        self.reach = tuple(_bits(self.conflicts[i]) | _bits(self.enablers[i]) for i in range(len(reps)))
        """Per representative, as a bit mask: those it may conflict with or be enabled by."""

    def alive(self, state: ClusterState) -> bytes:
        """Which representatives can still happen from `state`: byte i is 1 for `reps[i]`."""
        budget = self.model.budget
        workload = len(self.model.scenario.spec.workload)
        out = []
        for rep in self.reps:
            kind = rep.kind
            if kind in FAULT_BUDGET:
                ok = not state.quiesced and state.faults.allows(budget, FAULT_BUDGET[kind])
            elif kind in (*RECOVERIES, act_mod.RestartComponent):
                ok = bool(state.down or state.partitioned) or (not state.quiesced and any(
                    state.faults.allows(budget, k) for k in ("node_crash", "partition", "component_crash")))
            elif kind is act_mod.UserStep:
                ok = state.workload_next < workload
            elif kind is act_mod.Quiesce:
                ok = not state.quiesced
            else:
                ok = True
            out.append(ok)
        return bytes(out)

    def choose(self, state: ClusterState, enabled: Sequence[Action]) -> tuple[Action, ...]:
        """The smallest ample set among the seeds' candidates; all of `enabled` when none is smaller."""
        if not self.enabled or len(enabled) <= 1:
            return tuple(enabled)
        found = [self.index.get(key_of(a)) for a in enabled]
        keys = [k for k in found if k is not None]
        if len(keys) < len(found):
            return tuple(enabled)  # an action the universe does not know: no reduction
        alive = self.alive(state)
        best: tuple[Action, ...] = tuple(enabled)
        for seed in dict.fromkeys(keys):
            reached = self._closure(seed, alive)
            chosen = {k for k in keys if reached >> k & 1}
            if len(chosen) < len(set(keys)) and not any(self.visible[k] for k in chosen):
                candidate = tuple(a for a, k in zip(enabled, keys, strict=True) if reached >> k & 1)
                if len(candidate) < len(best):
                    best = candidate
        return best

    def _closure(self, seed: int, alive: bytes) -> int:
        """Every representative the stubborn-set closure reaches from `seed` among the `alive`
        ones, as a bit mask: bit i for `reps[i]` reached. Breadth-first over bit masks: each
        round adds, at once, what the representatives reached last may conflict with or be
        enabled by (one `|` per representative, not one step per pair)."""
        memo = self.closures.get((seed, alive))
        if memo is not None:
            return memo
        allowed = _bits(i for i, ok in enumerate(alive) if ok)
        reached = frontier = 1 << seed
        while frontier:
            added = 0
            while frontier:
                low = frontier & -frontier
                added |= self.reach[low.bit_length() - 1]
                frontier ^= low
            frontier = added & allowed & ~reached
            reached |= frontier
        if len(self.closures) >= CLOSURES_KEPT:
            self.closures.clear()
        self.closures[(seed, alive)] = reached
        return reached


def _bits(indices: Iterable[int]) -> int:
    """The bit mask with the bits `indices` set."""
    mask = 0
    for i in indices:
        mask |= 1 << i
    return mask


def _enables(writer: Representative, target: Representative) -> bool:
    """True if `writer` writes what decides whether (an instance of) `target` is enabled."""
    reads = target.footprint.reads
    if target.kind in (act_mod.Deliver, act_mod.Relist):
        reads = reads | {"store"}  # a write makes the event (and the next delivery) exist
    writes = writer.footprint.writes
    return ALL in writes or ALL in reads or not writes.isdisjoint(reads)
