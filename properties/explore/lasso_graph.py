"""The exhaustive lasso strategy: the post-`Quiesce` graph on cycle keys, and its fair SCCs.

From each seed (a quiesced state) every fair-driver move (progress actions, urgent Tick) is
explored breadth-first on cycle keys, in one graph shared by all seeds. Then the strongly
connected components (Tarjan) that hold a new key are judged: a component is *weakly fair* when
every abstract action enabled in all of its states labels one of its edges — then a walk along
all its edges is a fair cycle (the check of TLC's liveness checker and SPIN's fair-cycle search
for weak fairness). The walk is run concretely from the component's first state (reached from
the seed by concrete actions), checked against the cycle properties, and confirmed by running it
again (`kubeprop.properties.explore.lasso.confirm`).
"""

from __future__ import annotations

from collections import deque
from typing import Any

from kubeprop.model.cluster.compose import step
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.explore.lasso import _BENIGN, _Search, confirm, progress_moves, run_labels
from kubeprop.properties.oscillation import Cycle, first_cycle_violation

MAX_WALK = 5000
"""Longest walk tried along a component's edges; longer components are walked along one edge per label."""
JUDGE_EVERY = 2000
"""Judge the components found so far after every this many new keys, so a lasso can be reported
before the post-Quiesce graph is exhausted."""
MAX_EDGE_WALK_EDGES = 1500
"""Components with more edges than this are walked along one edge per label only (a walk along
every edge costs a shortest-path search per edge)."""


class Graph:
    """The post-Quiesce graph: a node per cycle key with one concrete representative state."""

    def __init__(self, search: _Search, max_keys: int) -> None:
        self.search = search
        self.max_keys = max_keys
        self.keys: dict[bytes, int] = {}
        self.reps: list[ClusterState] = []
        self.parent: list[tuple[int, Action] | None] = []
        self.edges: list[list[tuple[str, int]]] = []
        self.enabled: list[frozenset[str]] = []
        self.judged: set[int] = set()

    def _add(self, key: bytes, state: ClusterState, parent: tuple[int, Action] | None) -> int:
        node = len(self.reps)
        self.keys[key] = node
        self.reps.append(state)
        self.parent.append(parent)
        self.edges.append([])
        self.enabled.append(frozenset())
        return node

    def explore(self, seed: ClusterState) -> Any:
        """Explore from a seed, then judge the new components (a lasso tuple, or None)."""
        abstraction, search = self.search.abstraction, self.search
        key = abstraction.key(seed)
        if key in self.keys or len(self.keys) >= self.max_keys:
            return None
        search.seeds += 1
        first = self._add(key, seed, None)
        frontier = deque([first])
        next_judgement = len(self.keys) + JUDGE_EVERY
        while frontier and len(self.keys) < self.max_keys and not search.out_of_time():
            if len(self.keys) >= next_judgement:  # a fair cycle among the expanded keys is already real
                next_judgement = len(self.keys) + JUDGE_EVERY
                found = self._judge(first, expanded=set(range(first, len(self.keys))) - set(frontier))
                if found is not None and found is not _BENIGN:
                    return found
            node = frontier.popleft()
            _, name = abstraction.analyse(self.reps[node])
            labels = []
            for act in progress_moves(search.model, self.reps[node]):
                nxt = step(search.model, self.reps[node], act)
                search.stepped()
                nkey = abstraction.key(nxt)
                target = self.keys.get(nkey)
                if target is None:
                    target = self._add(nkey, nxt, (node, act))
                    frontier.append(target)
                label = name(act)
                labels.append(label)
                self.edges[node].append((label, target))
            self.enabled[node] = frozenset(labels)
        return self._judge(first, expanded=set(range(first, len(self.keys))) - set(frontier))

    def _judge(self, first_new: int, expanded: set[int]) -> Any:
        """Judge the components holding new, expanded keys (an unexpanded key's edges are not
        known yet: it is left out and judged later)."""
        for component in _components(self.edges):
            if any(n >= first_new and n not in expanded for n in component):
                continue
            fresh = [n for n in component if n >= first_new and n not in self.judged]
            if not fresh or self.search.out_of_time():
                continue
            self.judged.update(component)
            members = set(component)
            if len(component) == 1 and not any(t == component[0] for _, t in self.edges[component[0]]):
                continue
            inside = [(u, label, t) for u in component for label, t in self.edges[u] if t in members]
            always = frozenset.intersection(*(self.enabled[n] for n in component))
            if not always <= {label for _, label, _ in inside}:
                continue
            found = self._lasso(min(fresh), members, inside)
            if found is not None:
                return found
        return None

    def _lasso(self, entry: int, members: set[int], inside: list[tuple[int, str, int]]) -> Any:
        walk = (_edge_walk(entry, members, inside, MAX_WALK) if len(inside) <= MAX_EDGE_WALK_EDGES else None
                ) or _label_walk(entry, members, inside)
        if walk is None:
            return None
        search = self.search
        ran = run_labels(search.model, search.abstraction, self.reps[entry], walk)
        if ran is None:
            return None
        states, taken = ran
        if search.abstraction.key(states[-1]) != search.abstraction.key(states[0]):
            return None
        violation = first_cycle_violation(search.model, Cycle(tuple(states), tuple(taken)), search.props)
        if violation is None or not confirm(search.model, search.abstraction, states, taken, search.repeats):
            return _BENIGN if violation is None else None
        return self._path(entry), tuple(taken), violation

    def _path(self, node: int) -> tuple[Action, ...]:
        out: list[Action] = []
        link = self.parent[node]
        while link is not None:
            node, act = link
            out.append(act)
            link = self.parent[node]
        return tuple(reversed(out))


def _components(edges: list[list[tuple[str, int]]]) -> list[list[int]]:
    """Tarjan's strongly connected components (iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(len(edges)):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if i < len(targets):
                work.append((node, i + 1))
                target = targets[i][1]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            for _, target in targets:
                if target in on_stack and index[target] > index[node]:
                    low[node] = min(low[node], low[target])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(sorted(component))
    return out


def _route(start: int, goal: Any, members: set[int], out_edges: dict[int, list[tuple[str, int]]]
           ) -> list[tuple[str, int]] | None:
    """Shortest path (labels, nodes) inside the component from `start` to a node where `goal` holds."""
    previous: dict[int, tuple[int, str] | None] = {start: None}
    frontier = deque([start])
    while frontier:
        node = frontier.popleft()
        if goal(node) and (node != start or goal(start)):
            path = []
            while previous[node] is not None:
                before, label = previous[node]  # type: ignore[misc]
                path.append((label, node))
                node = before
            return list(reversed(path))
        for label, target in out_edges.get(node, []):
            if target in members and target not in previous:
                previous[target] = (node, label)
                frontier.append(target)
    return None


def _edge_walk(entry: int, members: set[int], inside: list[tuple[int, str, int]], limit: int) -> list[str] | None:
    """A closed walk from `entry` taking every edge of the component (None when longer than `limit`)."""
    out_edges: dict[int, list[tuple[str, int]]] = {}
    for u, label, t in inside:
        out_edges.setdefault(u, []).append((label, t))
    uncovered = {(u, label, t) for u, label, t in inside}
    walk: list[str] = []
    node = entry
    while uncovered:
        pending = frozenset(u for u, _, _ in uncovered)
        path = [] if node in pending else _route(node, pending.__contains__, members, out_edges)
        if path is None:
            return None
        for label, target in path:
            uncovered.discard((node, label, target))
            walk.append(label)
            node = target
        label, target = next((lab, t) for u, lab, t in sorted(uncovered) if u == node)
        uncovered.discard((node, label, target))
        walk.append(label)
        node = target
        if len(walk) > limit:
            return None
    back = _route(node, lambda n: n == entry, members, out_edges) if node != entry else []
    if back is None:
        return None
    walk += [label for label, _ in back]
    return walk


def _label_walk(entry: int, members: set[int], inside: list[tuple[int, str, int]]) -> list[str] | None:
    """A shorter closed walk from `entry`: one edge of every label of the component."""
    out_edges: dict[int, list[tuple[str, int]]] = {}
    for u, label, t in inside:
        out_edges.setdefault(u, []).append((label, t))
    wanted = {label for _, label, _ in inside}
    walk: list[str] = []
    node = entry
    while wanted:
        path = _route(node, lambda n: any(lab in wanted for lab, _ in out_edges.get(n, [])), members, out_edges)
        if path is None:
            return None
        for label, target in path:
            wanted.discard(label)
            walk.append(label)
            node = target
        label, target = next((lab, t) for lab, t in out_edges[node] if lab in wanted)
        wanted.discard(label)
        walk.append(label)
        node = target
    back = _route(node, lambda n: n == entry, members, out_edges) if node != entry else []
    if back is None:
        return None
    return walk + [label for label, _ in back]
