"""A container the scenario bounds ends by its deadline (a tick guard, `Hooks.tick_guards`).

`environment.exits` may say a container ends at most `withinSeconds` after it started
(`kubeprop.model.kubelet.exit_rules`): the clock may not pass that point while it still runs. As
with a crashed process's bounded outage (`kubeprop.model.cluster.outages`), a `Tick` that would jump
past the earliest such deadline is shortened to land on it (`next_deadline`, read by
`outages.tick_step`), and once the clock is there no `Tick` is enabled (`exit_holds_clock`) until
the container has exited — an explicit `ContainerExit`, with the exit codes the rule leaves — or its
run ended otherwise (its pod killed or evicted, its node down). The exit may come at any point
before: a deadline is a bound, not a timer, so it does not make `Tick` enabled by itself.

What the guard reads (`Tick`'s footprint, `kubeprop.model.cluster.footprint`, and the enabled-actions
cache's `_tick` key, `kubeprop.model.cluster.enabled_reads`, include it): the kubelets' runtime state,
their pod caches (the pods' labels and UIDs), whether each kubelet is up, and the clock.
"""

from __future__ import annotations

from kubeprop.model.kubelet.exit_rules import deadlines, has_deadlines
from kubeprop.model.state.cluster import ClusterModel, ClusterState

__all__ = ["exit_holds_clock", "next_deadline"]


def exit_holds_clock(model: ClusterModel, state: ClusterState) -> bool:
    """True while a container a rule bounds still runs at or past its deadline: no `Tick` until it exits."""
    if not has_deadlines(model):
        return False
    return any(due <= state.clock for due in deadlines(model, state))


def next_deadline(model: ClusterModel, state: ClusterState) -> int | None:
    """The earliest deadline after the clock of a container a rule bounds (None: none), where a
    `Tick` must land rather than pass it."""
    if not has_deadlines(model):
        return None
    return min((due for due in deadlines(model, state) if due > state.clock), default=None)
