"""`Tick`'s part kept from a predecessor while the guard that held there reads nothing that changed.

Where a guard holds the clock, the enabled-actions cache's `Tick` part is an `incremental.Held`
naming what that guard reads (`enabled_reads.guard_deps`); a state whose changes since (`changes`)
miss all of it keeps the answer without asking any guard or timer. Over the states of breadth-first
searches of several scenarios, each state's successors (by the first enabled action of each kind)
and copies differing in one part a guard reads (the clock moved on by one and by ten ticks, the
controller manager, a scheduler or etcd's quorum down, another state's store, controllers,
schedulers, informers or work left in flight by the last tick (`tick_race`; and a fresh tick's), a
request failure armed, a flood gone, one Node object deleted, node lifecycle's or the HPA's entry of
another state) are asked right after it: wherever the answer is
kept, the guard must still hold in the successor (asked directly) and `Tick` must be the plain
definition's — a pending timer and no guard holding, each asked directly. A token set that leaves
out a part a guard reads keeps answers the guard no longer gives: leaving out the store or the
controllers of the controllers' guard, or the schedulers of the scheduler's, fails this test
(leaving out the clock does not: in these states a key that changes the state still does a few
ticks later).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import attrs
import pytest
from breadth_first import searched

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster import faults
from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.cluster.enabled_reads import changes, guard_deps
from kubeprop.model.cluster.incremental import Held, memoised
from kubeprop.model.cluster.outages import tick_step
from kubeprop.model.cluster.prompt_work import TickRace
from kubeprop.model.controllers import hpa, nodelifecycle
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.actions import Tick
from kubeprop.model.state.cluster import CONTROLLER_MANAGER, ETCD_PREFIX, ClusterModel, ClusterState

DATA = Path(__file__).parents[1] / "data" / "variants"
SCENARIOS = [(None, 0), (None, 60), (DATA / "web.yaml", 0), (DATA / "overload.yaml", 0),
             (DATA / "tight.yaml", 0), (DATA / "restore.yaml", 40),
             (DATA.parent / "maintenance" / "timeout-two-pods.yaml", 10)]  # (a drain's evictions due)
STATES = 60
"""States of each search asked (each with a successor by each kind of action enabled, and its copies)."""


def _plain_tick(model: ClusterModel, state: ClusterState) -> list[Tick]:
    """`Tick` as defined: a pending timer and no guard holding, every guard asked directly."""
    if faults.timer_pending(model, state) and not any(guard(model, state) for guard in model.hooks.tick_guards):
        return [Tick(tick_step(model, state))]
    return []


def _one_of_each_kind(model: ClusterModel, state: ClusterState) -> list[tuple[str, ClusterState]]:
    """A successor of `state` by the first enabled action of each kind (its class), with the kind."""
    firsts: dict[type, object] = {}
    for act in actions(model, state):
        firsts.setdefault(type(act), act)
    return [(kind.__name__, step(model, state, act)) for kind, act in firsts.items()]  # type: ignore[arg-type]


def _copies(model: ClusterModel, state: ClusterState, other: ClusterState) -> list[ClusterState]:
    """Copies of `state` differing in one part some guard reads (`other`: a state far from it)."""
    etcd = frozenset(f"{ETCD_PREFIX}{member}" for member in model.etcd_members)
    out = [evolve(state, clock=state.clock + model.tick_seconds),
           evolve(state, clock=state.clock + 10 * model.tick_seconds), evolve(state, down=state.down | etcd),
           evolve(state, down=state.down | {CONTROLLER_MANAGER}),
           evolve(state, down=state.down | set(model.scheduler_instances)),
           evolve(state, store=other.store), evolve(state, controllers=other.controllers),
           evolve(state, schedulers=other.schedulers), evolve(state, informers=other.informers),
           evolve(state, addons=other.addons), evolve(state, tick_race=other.tick_race),
           evolve(state, tick_race=TickRace())]  # (what the last tick left in flight: another state's; a fresh tick's)
    for node in sorted(model.nodes):  # (one Node object gone: what a kubelet reads of the store)
        objects = state.store.objects.delete(ObjectKey("nodes", "", node))
        out.append(evolve(state, store=attrs.evolve(state.store, objects=objects)))
    for name in (nodelifecycle.NAME, hpa.NAME):  # (one controller's entry: another state's)
        entry = other.controllers.get(name)
        if entry is not None and entry is not state.controllers.get(name):
            out.append(evolve(state, controllers=state.controllers.set(name, entry)))
    if state.overload is not None:
        out.append(evolve(state, overload=None))
    if CONTROLLER_MANAGER not in state.armed_failures:
        out.append(evolve(state, armed_failures=FrozenMap({**dict(state.armed_failures), CONTROLLER_MANAGER: 500})))
    return out


@pytest.mark.parametrize(("path", "steps"), SCENARIOS)
def test_a_kept_tick_is_the_plain_tick(path: Path | None, steps: int) -> None:
    """Each state's successors and one-part copies, asked from the state's answers: a kept `Tick`
    part is a guard still holding, and the plain `Tick`; computed ones are too."""
    model, found = searched(path, steps, STATES)
    counts = Counter[str]()
    kinds: set[str] = set()
    with memoised(model) as cache:
        for n, state in enumerate(found):
            cache.actions(state)
            near = cache.near_answers(state)
            assert near is not None
            held = near[1][cache.tick]
            others = [*_one_of_each_kind(model, state),
                      *(("copy", c) for c in _copies(model, state, found[(n * 7 + 3) % len(found)]))]
            for kind, after in others:
                answers = cache.answers_for(after, near)
                kept = answers[cache.tick]
                if kept is None:
                    counts["computed"] += 1
                    continue
                reads = cache.parts[cache.tick].deps
                if reads is not None and changes(state, after).isdisjoint(reads):
                    continue  # (nothing `Tick` reads changed: kept before this round too)
                assert type(kept) is Held and kept is held, (kept, held)
                assert not _plain_tick(model, after)
                assert [a for a in cache.actions(after) if isinstance(a, Tick)] == []
                counts["kept"] += 1
                kinds.add(kind)
                holding = [g for g in model.hooks.tick_guards if guard_deps(model, state, g) == kept.tokens]
                assert any(g(model, after) for g in holding), holding
            counts[f"tick {bool(_plain_tick(model, state))}"] += 1
    assert counts["kept"] >= 20 and counts["computed"] >= 20, counts
    assert len(kinds - {"copy"}) >= 2, kinds

