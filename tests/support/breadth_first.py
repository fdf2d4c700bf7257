"""A plain breadth-first search over the cluster model, for tests that need many related states
(siblings that share most of their parts) rather than a proof: no reduction, no properties."""

from __future__ import annotations

from collections import deque

from kubeprop.model.cluster.compose import actions, step
from kubeprop.model.state.cluster import ClusterModel, ClusterState


def breadth_first(model: ClusterModel, start: ClusterState, limit: int) -> list[ClusterState]:
    """The first `limit` distinct states reached from `start`, in breadth-first order."""
    seen, queue, out = {start}, deque([start]), []
    while queue and len(out) < limit:
        state = queue.popleft()
        out.append(state)
        for act in actions(model, state):
            after = step(model, state, act)
            if after not in seen:
                seen.add(after)
                queue.append(after)
    return out
