"""Exploring the Raft model with the parallel explicit-state engine, and replaying scripted runs.

`explore` runs `kubeprop.properties.explore.parallel.explore` over `kubeprop.model.raft.system`
(`RaftSystem`: successors in the order of `actions`, `kubeprop.model.raft.fingerprint`) checking
the selected `RaftCheck`s, on one or more worker processes; the visited set holds fingerprints
only, and the result — counts and the shortest counterexample — is the one the single-threaded
`bfs.search` gives, whatever the number of workers. `replay_script` turns a scripted run (each
step names an enabled action by the start of its description) into a reachable state, so a
search can start where a known scenario (e.g. Raft paper Figure 8 (c), or a leadership transfer
under way, or two membership changes asked in a row) leaves off; the report
then prints script + search as one trace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from kubeprop.model.errors import InputError
from kubeprop.model.raft.fingerprint import fingerprint
from kubeprop.model.raft.state import RaftAction, RaftConfig, RaftState, describe
from kubeprop.model.raft.system import actions, initial_state, next_states, step, successors
from kubeprop.properties.explore.bfs import Bounds, Progress, SearchResult
from kubeprop.properties.explore.discoveries import rediscover
from kubeprop.properties.explore.engine import ExitReason
from kubeprop.properties.explore.parallel import Exit, ParallelResult, replay
from kubeprop.properties.explore.parallel import explore as parallel_explore
from kubeprop.properties.raft import RaftCheck, first_failure
from kubeprop.properties.registry import Violation


class ScriptError(InputError, ValueError):
    """A scripted step names no enabled action."""


@attrs.frozen
class RaftSystem:
    """The Raft model as an `ExplicitSystem` for the parallel engine (picklable: a configuration,
    checks and a start state)."""

    config: RaftConfig
    checks: tuple[RaftCheck, ...]
    initial: RaftState
    fingerprint: Callable[[RaftState], int] = attrs.field(
        default=attrs.Factory(lambda self: fingerprint if self.config.history else hash, takes_self=True), eq=False)
    """`kubeprop.model.raft.fingerprint.fingerprint`; plain `hash` when the configuration keeps no
    client history — every state is then made of ints and tuples only, and the two agree."""

    def start(self) -> RaftState:
        """The state the search starts from."""
        return self.initial

    def successors(self, state: RaftState) -> list[RaftState]:
        """Successors in the order of `actions`."""
        return next_states(self.config, state)

    def check(self, state: RaftState) -> Violation | None:
        """The first failing check."""
        return first_failure(self.config, state, self.checks)


@attrs.frozen
class RaftRun:
    """A search outcome plus the scripted prefix it started from, and the engine's figures
    (workers, memory)."""

    result: SearchResult[RaftState, RaftAction]
    prefix: tuple[RaftAction, ...] = ()
    engine: ParallelResult | None = None

    @property
    def exit_reason(self) -> Exit:
        """Why the search stopped, "memory-bound" included (`result.exit_reason` reports that
        one as "state-bound": the bound on what the search may hold)."""
        return self.engine.exit_reason if self.engine is not None else self.result.exit_reason

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

FIGURE8_C_PRE_VOTE = (
    "Timeout: s1", "Receive: PreVote s1→s2", "Receive: PreVoteResp s2→s1",
    "Receive: RequestVote s1→s2", "Receive: RequestVoteResp s2→s1", "ClientWrite: s1",
    "Timeout: s2", "Receive: PreVote s2→s3", "Receive: PreVoteResp s3→s2",
    "Receive: RequestVote s2→s3", "Receive: RequestVoteResp s3→s2", "Receive: RequestVote s2→s1",
    "Receive: RequestVoteResp s1→s2", "Receive: RequestVote s1→s3 term=1",
    "Timeout: s1", "Receive: PreVote s1→s3 term=3", "Receive: PreVoteResp s3→s1",
    "Receive: RequestVote s1→s3 term=3", "Receive: RequestVoteResp s3→s1", "SendAppend: s1 → s3 (0",
    "Receive: AppendEntries s1→s3", "Receive: AppendEntriesResp s3→s1",
)
"""The same run with pre-vote (`RaftConfig.pre_vote`): each election starts with a pre-vote
round that one peer grants; s1, leader of term 1, takes s2's RequestVote of term 2 as its lease
having expired (CheckQuorum); two stale messages are delivered (and so leave the network, which
the variant's bounds keep to five messages) before s1's last election."""

TRANSFER = (
    "Timeout: s1", "Receive: RequestVote s1→s2", "Receive: RequestVoteResp s2→s1", "TransferLeader: s1 → s2",
    "Receive: AppendEntries s1→s2", "Receive: AppendEntriesResp s2→s1",
)
"""A leadership transfer under way (`RaftConfig.transfers` ≥ 1): s1 leads term 1, is asked to move
leadership to s2 (etcdctl move-leader), sends it its log, and on s2's answer (its Match is now s1's
last index) sends it MsgTimeoutNow, which is in flight at the end."""

TRANSFER_PRE_VOTE = (
    "Timeout: s1", "Receive: PreVote s1→s2", "Receive: PreVoteResp s2→s1", "Receive: RequestVote s1→s2",
    "Receive: RequestVoteResp s2→s1", *TRANSFER[3:],
)
"""The same run with pre-vote: s1's election starts with a pre-vote round that s2 grants."""

CONF = (
    "Timeout: s1", "Receive: RequestVote s1→s2", "Receive: RequestVoteResp s2→s1",
    "ConfChange: s1 proposes conf remove-node s3", "ConfChange: s1 proposes conf remove-node s2",
    "SendAppend: s1 → s2 (3", "Receive: AppendEntries s1→s2", "Receive: AppendEntriesResp s2→s1",
)
"""Two membership changes asked of one leader in a row (`RaftConfig.conf_changes` ≥ 2): s1 leads
term 1 and is asked to remove s3, then s2, before the first is applied; it sends its three entries
to s2 and commits them on s2's answer. A correct leader refused the second change (pendingConfIndex:
an empty entry took its place) and applies a cluster of s1, s2; without the guard
(`conf-change-no-pending-guard`) it applies both, and s1 alone is a quorum while s2, which has not
learnt the commit, still counts s1, s2, s3."""

CONF_PRE_VOTE = (
    "Timeout: s1", "Receive: PreVote s1→s2", "Receive: PreVoteResp s2→s1", "Receive: RequestVote s1→s2",
    "Receive: RequestVoteResp s2→s1", *CONF[3:],
)
"""The same run with pre-vote: s1's election starts with a pre-vote round that s2 grants."""

SCRIPTS: dict[str, tuple[str, ...]] = {"figure8": FIGURE8_C, "transfer": TRANSFER, "conf": CONF}
PRE_VOTE_SCRIPTS: dict[str, tuple[str, ...]] = {"figure8": FIGURE8_C_PRE_VOTE, "transfer": TRANSFER_PRE_VOTE,
                                                "conf": CONF_PRE_VOTE}


def script_steps(name: str | None, config: RaftConfig) -> tuple[str, ...]:
    """The steps of the scripted run `name` (none for None) in `config`'s election mode."""
    if name is None:
        return ()
    if name == "transfer" and not config.transfers:
        raise ScriptError("the scripted run 'transfer' requests a leadership transfer: it needs --transfers 1 or "
                          "more (RaftConfig.transfers), got 0")
    if name == "conf" and (config.conf_changes < 2 or config.servers < 3 or config.spares):
        raise ScriptError("the scripted run 'conf' asks a leader of three voters for two membership changes: it "
                          f"needs --conf-changes 2 or more (got {config.conf_changes}) and --servers 3 or more with "
                          f"no spares (got {config.servers}, spares {config.spares})")
    return (PRE_VOTE_SCRIPTS if config.pre_vote else SCRIPTS)[name]


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
            script: Sequence[str] = (), workers: int = 1, progress: Progress | None = None,
            max_memory: int | None = None) -> RaftRun:
    """Breadth-first search from the initial state (or the end of `script`) checking `checks`,
    on `workers` processes, within `max_memory` bytes of resident memory if given."""
    start, prefix = replay_script(config, script)
    engine = parallel_explore(RaftSystem(config, tuple(checks), start), workers, bounds, progress, max_memory)
    trace: tuple[RaftAction, ...] = ()
    final: RaftState | None = None
    if engine.violation is not None:
        trace, reached = replay(start, successors(config), engine.path)
        final = reached
    reason = ExitReason.STATE_BOUND if engine.exit_reason == "memory-bound" else engine.exit_reason
    result: SearchResult[RaftState, RaftAction] = SearchResult(reason, engine.stats, engine.violation, trace, final)
    return RaftRun(result, prefix, engine)


def explore_all(config: RaftConfig, checks: Sequence[RaftCheck], bounds: Bounds = Bounds(),
                script: Sequence[str] = (), workers: int = 1, max_memory: int | None = None,
                progress: Progress | None = None) -> tuple[RaftRun, ...]:
    """Every discovery: `explore` again without each check found failing (a goal: reached), within
    `bounds.budget_seconds` overall, until none is left or a search ends without one (the Raft twin of
    `discoveries.discover`). Each run but the last has a violation."""
    return rediscover(
        list(checks), bounds.budget_seconds,
        lambda left, seconds: explore(config, left, attrs.evolve(bounds, budget_seconds=seconds), script, workers,
                                      progress, max_memory),
        lambda run: None if run.result.violation is None else run.result.violation.property,
        lambda left, found: [c for c in left if c.name != found])
