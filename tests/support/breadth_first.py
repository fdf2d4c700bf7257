"""A plain breadth-first search over the cluster model, for tests that need many related states
(siblings that share most of their parts) rather than a proof: no reduction, no properties.

`searched` keeps each scenario's search for the session: the guard-memo tests
(tests/model/cluster/test_clock_guard_memo.py, tests/model/controllers/test_guard_verdicts.py) ask
for the same few searches cut at 300 to 600 states, and a search's first states do not depend on
where it is cut, so a search is carried on where a longer one is asked for."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import attrs

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState


@attrs.define
class Search:
    """A breadth-first search that can be carried on: the states found in order, the states seen,
    and the queue of states whose successors are not yet asked for."""

    model: ClusterModel
    found: list[ClusterState]
    seen: set[ClusterState]
    queue: deque[ClusterState]

    @classmethod
    def start(cls, model: ClusterModel, start: ClusterState) -> Search:
        """A search from `start`, nothing asked yet."""
        return cls(model, [], {start}, deque([start]))

    def upto(self, limit: int) -> list[ClusterState]:
        """The first `limit` distinct states reached from the start, in breadth-first order."""
        while self.queue and len(self.found) < limit:
            state = self.queue.popleft()
            self.found.append(state)
            for act in actions(self.model, state):
                after = step(self.model, state, act)
                if after not in self.seen:
                    self.seen.add(after)
                    self.queue.append(after)
        return self.found[:limit]


def breadth_first(model: ClusterModel, start: ClusterState, limit: int) -> list[ClusterState]:
    """The first `limit` distinct states reached from `start`, in breadth-first order."""
    return Search.start(model, start).upto(limit)


def along_fair_run(model: ClusterModel, steps: int) -> ClusterState:
    """The state `steps` steps along the fair run from the initial state."""
    state = initial_state(model)
    for act in fair_run(model, state).trace[:steps]:
        state = step(model, state, act)
    return state


_SEARCHES: dict[tuple[Path | None, int], Search] = {}


def searched(path: Path | None, steps: int, limit: int) -> tuple[ClusterModel, list[ClusterState]]:
    """The model of the scenario at `path` (None: FeastFlow) and the first `limit` states of the
    breadth-first search from the state `steps` along its fair run; one search a session per
    scenario and start, carried on as far as asked."""
    search = _SEARCHES.get((path, steps))
    if search is None:
        model = build_model(load_scenario(path))
        search = _SEARCHES[(path, steps)] = Search.start(model, along_fair_run(model, steps))
    return search.model, search.upto(limit)
