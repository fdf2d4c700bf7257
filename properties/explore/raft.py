"""Exploring the Raft model with the generic BFS, and replaying scripted runs.

`explore` runs `kubeprop.properties.explore.bfs.search` over `kubeprop.model.raft.system` checking the
selected `RaftCheck`s. `replay_script` turns a scripted run (each step names an enabled action by
the start of its description) into a reachable state, so a search can start where a known
scenario (e.g. Raft paper Figure 8 (c)) leaves off; the report then prints script + search as one
trace.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import attrs

from kubeprop.model.errors import InputError
from kubeprop.model.raft.state import RaftAction, RaftConfig, RaftState, describe
from kubeprop.model.raft.system import actions, initial_state, step, successors
from kubeprop.properties.explore.bfs import Bounds, SearchResult, search
from kubeprop.properties.raft import RaftCheck, first_failure


class ScriptError(InputError, ValueError):
    """A scripted step names no enabled action."""


@attrs.frozen
class RaftRun:
    """A search outcome plus the scripted prefix it started from."""

    result: SearchResult[RaftState, RaftAction]
    prefix: tuple[RaftAction, ...] = ()

    @property
    def trace(self) -> tuple[RaftAction, ...]:
        """The whole run from the initial state: prefix then the search's trace."""
        return self.prefix + tuple(self.result.trace)


FIGURE8_C = (
    "Timeout: s1", "Receive: RequestVote s1→s2", "Receive: RequestVoteResp s2→s1", "ClientWrite: s1",
    "Timeout: s2", "Receive: RequestVote s2→s3", "Receive: RequestVoteResp s3→s2",
    "Receive: RequestVote s2→s1", "Timeout: s1", "Receive: RequestVote s1→s3 term=3",
    "Receive: RequestVoteResp s3→s1", "SendAppend: s1 → s3 (0", "Receive: AppendEntries s1→s3",
    "Receive: AppendEntriesResp s3→s1",
)
"""Raft paper Figure 8 (a)–(c) in this model: s1 leads term 1 and accepts a write that reaches no
one; s2 leads term 2 (its empty entry reaches no one); s1 leads term 3 and, after one probe, knows
s3 needs everything from index 1."""

SCRIPTS: dict[str, tuple[str, ...]] = {"figure8": FIGURE8_C}


def replay_script(config: RaftConfig, script: Sequence[str]
                  ) -> tuple[RaftState, tuple[RaftAction, ...]]:
    """Run the scripted steps (servers named s1, s2, …) from the initial state; ScriptError
    names a step that is not enabled."""
    state = initial_state(config)
    done: list[RaftAction] = []
    plain = attrs.evolve(config, names=())
    for n, wanted in enumerate(script, 1):
        match = [a for a in actions(config, state) if describe(plain, a).startswith(wanted)]
        if not match:
            raise ScriptError(f"scripted step {n} '{wanted}' is not enabled")
        state = step(config, state, match[0])
        done.append(match[0])
    return state, tuple(done)


def explore(config: RaftConfig, checks: Sequence[RaftCheck], bounds: Bounds = Bounds(),
            script: Sequence[str] = ()) -> RaftRun:
    """Breadth-first search from the initial state (or the end of `script`) checking `checks`."""
    start, prefix = replay_script(config, script)
    result = search(start, successors(config), lambda s: first_failure(config, s, checks), bounds)
    return RaftRun(result, prefix)


def explore_all(config: RaftConfig, checks: Sequence[RaftCheck], bounds: Bounds = Bounds(),
                script: Sequence[str] = ()) -> tuple[RaftRun, ...]:
    """Every discovery: `explore` again without each check found failing (a goal: reached), within
    `bounds.budget_seconds` overall, until none is left or a search ends without one (the Raft twin of
    `discoveries.discover`). Each run but the last has a violation."""
    began = time.perf_counter()
    left, runs = list(checks), list[RaftRun]()
    while left:
        seconds = bounds.budget_seconds
        if seconds is not None:
            seconds -= time.perf_counter() - began
            if runs and seconds <= 0:
                break
        run = explore(config, left, attrs.evolve(bounds, budget_seconds=seconds), script)
        runs.append(run)
        found = run.result.violation
        if found is None:
            break
        left = [c for c in left if c.name != found.property]
    return tuple(runs)
