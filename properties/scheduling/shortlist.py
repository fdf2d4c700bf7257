"""A candidate placement for the solver to verify first: pending pods packed by resources.

`pack(problem, down)` places the pending pods worst-fit decreasing on the nodes that are not
down: largest dominant share (request / allocatable of the scarcer resource) first, each on the
node with the most room left in cpu and memory together — spreading load the way the default
scheduler's LeastAllocated score does, so every node keeps some room of every kind. Resources
only (cpu, memory, pod slots and any other requested resource); every other constraint is left
to Z3. `repair(problem, base, down)` keeps a packing's pods
where they are unless their node is down and packs the displaced ones into the room left. The
result only proposes: `SchedulingSolver` asks Z3 whether the proposal satisfies the whole
encoding (every constraint, restricted to the proposed nodes), and asks the whole problem
whenever it does not — so a packing never decides an answer on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubeprop.model.scheduler.nodeinfo import CPU, MEMORY, PODS, pod_requests
from kubeprop.properties.scheduling.encode import Problem

__all__ = ["pack", "repair"]

Packing = dict[int, int]
"""Pending pod index → node index."""


def _room(problem: Problem, down: frozenset[int]) -> list[dict[str, int] | None]:
    out: list[dict[str, int] | None] = []
    for j, ni in enumerate(problem.nodes):
        out.append(None if j in down else {
            r: ni.allocatable.get(r, 0) - (len(ni.pods) if r == PODS else ni.requested.get(r, 0))
            for r in ni.allocatable})
    return out


def _needs(problem: Problem) -> list[dict[str, int]]:
    out = []
    for pod in problem.pending:
        need = {r: v for r, v in pod_requests(pod).items() if v > 0}
        need[PODS] = need.get(PODS, 0) + 1
        out.append(need)
    return out


def _share(need: Mapping[str, int], alloc: Mapping[str, int]) -> float:
    return max((v / alloc[r] for r, v in need.items() if r != PODS and alloc.get(r)), default=0.0)


def _fill(problem: Problem, needs: list[dict[str, int]], room: list[dict[str, int] | None], pods: Iterable[int],
          into: Packing) -> bool:
    """Worst-fit decreasing of `pods` into `room` (updated); False if one fits nowhere."""
    alloc = problem.nodes[0].allocatable if problem.nodes else {}
    order = sorted(pods, key=lambda i: (-_share(needs[i], alloc), i))
    for i in order:
        need = needs[i]
        best, best_room = -1, -1.0
        for j, left in enumerate(room):
            if left is None or not all(left.get(r, 0) >= v for r, v in need.items()):
                continue
            cap = problem.nodes[j].allocatable
            spare = min(((left.get(r, 0) - need.get(r, 0)) / cap[r] for r in (CPU, MEMORY) if cap.get(r)), default=0.0)
            if spare > best_room:
                best, best_room = j, spare
        if best < 0:
            return False
        left = room[best]
        assert left is not None
        for r, v in need.items():
            left[r] = left.get(r, 0) - v
        into[i] = best
    return True


def pack(problem: Problem, down: frozenset[int] = frozenset()) -> Packing | None:
    """Every pending pod packed by resources on the nodes not `down`, or None."""
    needs, room, out = _needs(problem), _room(problem, down), Packing()
    return out if _fill(problem, needs, room, range(len(problem.pending)), out) else None


def repair(problem: Problem, base: Mapping[int, int], down: frozenset[int]) -> Packing | None:
    """`base` with the pods of `down` nodes packed anew into the room left, or None."""
    needs, room, out = _needs(problem), _room(problem, down), Packing()
    for i, j in base.items():
        left = room[j]
        if left is None:
            continue
        for r, v in needs[i].items():
            left[r] = left.get(r, 0) - v
        out[i] = j
    if any(left is not None and any(v < 0 for v in left.values()) for left in room):
        return None
    return out if _fill(problem, needs, room, [i for i in range(len(problem.pending)) if i not in out], out) else None
