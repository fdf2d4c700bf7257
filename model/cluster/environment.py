"""The environment's actions: usage and load changes, and user environment rules.

The usage the metrics API reports is computed in `kubeprop.model.state.metrics` from the
scenario's `environment.usage` and the levels chosen here:

- `SetUsage` moves one pod's usage to another declared level, `SetLoad` switches a shared load
  to another level: choices of the environment, enabled before `Quiesce` within the fault
  budget `usageChange` (not progress: the fair driver never takes them);
- `EnvironmentRule(rule, target)`: a user environment rule acts. Rules
  (`environment.rules: [module:attribute]`, loaded like user controllers) are values with a
  `name` and any of `targets(model, state) -> Iterable[str]` with
  `apply(model, state, target) -> ClusterState` (behaviour: enabled for each target the rule
  names, before and after `Quiesce` — it is physics, not a fault, so weak fairness applies), and
  `usage(model, state, pod, container, resource) -> int | None` (usage in milli-units that
  replaces the declared one; see `kubeprop.model.state.metrics`).

docs/hpa.md ("the environment") shows both kinds of rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import attrs

from kubeprop.model.api.objects import Pod
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.model.state.metrics import KEY, EnvironmentState, environment_state, rules, selects


@attrs.frozen(order=True)
class SetUsage(Action):
    """The environment moves one pod's usage to another declared level."""

    LANE = "environment"

    PROGRESS = False

    entry: int
    pod: str
    level: int


@attrs.frozen(order=True)
class SetLoad(Action):
    """The environment switches a shared load to another declared level."""

    LANE = "environment"

    PROGRESS = False

    entry: int
    level: int


@attrs.frozen(order=True)
class EnvironmentRule(Action):
    """A user environment rule acts on one target."""

    LANE = "environment"

    rule: str
    target: str


def _store_env(state: ClusterState, env: EnvironmentState) -> ClusterState:
    addons = state.addons.delete(KEY) if env == EnvironmentState() else state.addons.set(KEY, env)
    return evolve(state, addons=addons)


def enabled(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    """Usage and load changes (before Quiesce, within the budget) and user rules' actions."""
    if not state.quiesced and state.faults.allows(model.budget, "usage_change"):
        yield from _changes(model, state)
    for rule in rules(model):
        targets = getattr(rule, "targets", None)
        if targets is not None:
            for target in targets(model, state):
                yield EnvironmentRule(rule.name, target)


def _changes(model: ClusterModel, state: ClusterState) -> Iterator[Action]:
    env = environment_state(state)
    for i, entry in enumerate(model.scenario.spec.environment.usage):
        if entry.load:
            current = env.loads.get(str(i), 0)
            yield from (SetLoad(i, level) for level in range(len(entry.load)) if level != current)
            continue
        for pod in state.store.list("pods", entry.namespace):
            if isinstance(pod, Pod) and selects(entry, pod) and pod.status.phase == "Running":
                key = f"{pod.metadata.namespace}/{pod.metadata.name}"
                current = env.pods.get(f"{i}|{key}", 0)
                yield from (SetUsage(i, key, level) for level in range(len(entry.levels)) if level != current)


def _set_usage(model: ClusterModel, state: ClusterState, act: SetUsage) -> ClusterState:
    env = environment_state(state)
    key = f"{act.entry}|{act.pod}"
    pods = env.pods.delete(key) if act.level == 0 else env.pods.set(key, act.level)
    state = evolve(state, faults=state.faults.spend("usage_change"))
    return _store_env(state, evolve(env, pods=pods))


def _set_load(model: ClusterModel, state: ClusterState, act: SetLoad) -> ClusterState:
    env = environment_state(state)
    loads = env.loads.delete(str(act.entry)) if act.level == 0 else env.loads.set(str(act.entry), act.level)
    state = evolve(state, faults=state.faults.spend("usage_change"))
    return _store_env(state, evolve(env, loads=loads))


def _rule(model: ClusterModel, state: ClusterState, act: EnvironmentRule) -> ClusterState:
    for rule in rules(model):
        if rule.name == act.rule:
            new: ClusterState = rule.apply(model, state, act.target)
            return new
    raise KeyError(f"no environment rule {act.rule!r}")


def forget_pods(state: ClusterState) -> ClusterState:
    """Drop the chosen levels of pods that no longer exist (so equal clusters are equal states)."""
    env = environment_state(state)
    if not env.pods:
        return state
    live = {f"{p.metadata.namespace}/{p.metadata.name}" for p in state.store.list("pods")}
    kept = FrozenMap({k: v for k, v in env.pods.items() if k.partition("|")[2] in live})
    return state if len(kept) == len(env.pods) else _store_env(state, evolve(env, pods=kept))


HANDLERS: dict[type[Any], Callable[[ClusterModel, ClusterState, Any], ClusterState]] = {
    SetUsage: _set_usage,
    SetLoad: _set_load,
    EnvironmentRule: _rule,
}
