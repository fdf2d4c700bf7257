"""How containers end by themselves, as the scenario's `environment.exits` says (docs/scenario.md).

Without a rule, a container that ends by itself — a container of a restartPolicy Never or
OnFailure pod, or an init container of any pod (`runtime.PodRuntime.exits_by_itself`) — may exit 0
or non-zero at any moment (`ContainerExit`: exit 0, and one code of each class of non-zero codes the
scenario's podFailurePolicy `onExitCodes` rules tell apart — 1 for "any other code", so exactly 0 and
1 without any rule: `kubeprop.model.kubelet.exit_codes`), or run for ever: a real process can fail or
hang, and the model cannot know which yours does. A rule states what the user knows of their
application (`ExitDecl`): the exit codes it ends with (`codes`), and that it ends at most
`withinSeconds` after it started. It only takes choices away, so every behaviour left is one the
model had without it (but for the code a failing exit shows: a code no podFailurePolicy lists
behaves as the 1 offered without the rule):

- `codes` gives the `ContainerExit` choices exactly (`exit_choices`): its non-zero codes (reason
  Error; a Job's podFailurePolicy `onExitCodes` rule sees each as it is,
  `kubeprop.model.controllers.job_policy`) and 0 (reason Completed).
  `codes` must include 0 (`kubeprop.model.scenario.check_addons`): the fair runs
  (`kubeprop.model.cluster.drive`) take an exit 0 as the application finishing and a failing exit as
  bad luck they never take, so a container that could only fail would never finish in them, and at
  its deadline the clock would stop for good;
- `withinSeconds` is a deadline, `started_at + withinSeconds`, of the container's current run
  (`deadlines`): the clock cannot pass it while the container runs. A tick that would jump past it is
  shortened to land on it, and there `Tick` waits (`kubeprop.model.cluster.exit_deadlines`, a tick
  guard) until the container's exit — still an explicit `ContainerExit`, with the codes left — or
  something else ends its run (its pod killed, evicted, its node down).

A rule's `codes` also say what the container exits with when it handles SIGTERM — its pod
stopping (`StopGracefully`), or its kill for a failed probe (`ContainerExit` before the kill's
deadline, `kubeprop.model.kubelet.kill`) — and 143 stays offered beside them (`sigterm_choices`,
`stop_choices`). The reasoning: `codes` are the exit statuses the program returns, and a handler of
SIGTERM returns through the same exits, so a code the rule leaves out is one the program never
returns, on a signal or not; 143 is no status the program returns but the runtime's report that the
signal's default action ended it (128 + 15), which the rule does not speak of — whether the program
handles SIGTERM is not in it — so a rule cannot take it away (a rule only takes choices away: every
behaviour left is one the model has without it). Without a rule a container exiting on SIGTERM is
offered 0 and one code of each class, 143 for its own (`ExitCodes.on_sigterm`). `withinSeconds` does
not bound a kill: its end is the kill's SIGKILL deadline. A rule does not cover a container of a
restartPolicy Always pod exiting by itself (its exit is a crash fault, `CrashContainer`, which the
fault budget allows), only the same container exiting on SIGTERM. Only a kubelet that is up is held
to a deadline: while its process is down (`CrashComponent`) the exit is noticed when it is back, and
the clock then waits for it.

A pod is selected by its labels as the kubelet's cache has them (the pod it runs: the same UID), in the
rule's namespace; the first rule (in the list's order) that selects a container decides both its codes
and its deadline. `ContainerExit`'s enabledness thus reads the kubelet's runtime state and its cache —
`StopGracefully`'s as well, a kubelet-local action too — which its footprint
(`kubeprop.model.cluster.footprint`, `_kubelet_local`) and the enabled-actions cache's kubelet key
(`kubeprop.model.cluster.enabled_reads`) already list.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from kubeprop.model.api.pod import Pod
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.kubelet.exit_codes import exit_codes
from kubeprop.model.kubelet.kill import SIGTERM_EXIT_CODE
from kubeprop.model.kubelet.local import cached_pods, kubelet_state, same
from kubeprop.model.kubelet.runtime import ContainerRuntime, PodRuntime
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up, kubelet

if TYPE_CHECKING:
    from kubeprop.model.scenario.schema_addons import ExitDecl

__all__ = ["deadlines", "exit_choices", "has_deadlines", "rule_for", "rules", "sigterm_choices", "stop_choices"]


def rules(model: ClusterModel) -> tuple[ExitDecl, ...]:
    """The scenario's `environment.exits`."""
    return tuple(model.scenario.spec.environment.exits)


def has_deadlines(model: ClusterModel) -> bool:
    """Whether some rule bounds a container's running time (`withinSeconds`)."""
    return any(r.within_seconds is not None for r in model.scenario.spec.environment.exits)


def _selects(rule: ExitDecl, pod: Pod, container: str) -> bool:
    return (pod.metadata.namespace == rule.namespace and rule.container in ("", container)
            and selector_matches(LabelSelector(match_labels=rule.pods), pod.metadata.labels))


def rule_for(model: ClusterModel, pod: Pod | None, runtime: PodRuntime, container: str) -> ExitDecl | None:
    """The first rule that selects `container` of the pod the kubelet runs (`pod`: the kubelet's cached
    pod under its key, which must be the same pod — else none does)."""
    if pod is None or not same(pod, runtime):
        return None
    return next((r for r in model.scenario.spec.environment.exits if _selects(r, pod, container)), None)


def _allowed(rule: ExitDecl | None, non_zero: tuple[int, ...]) -> tuple[int, ...]:
    """The codes offered: `rule`'s codes (its failing codes ascending, then 0), else `non_zero`
    (`kubeprop.model.kubelet.exit_codes`) then 0."""
    if rule is None or rule.codes is None:
        return (*non_zero, 0)
    return (*sorted({code for code in rule.codes if code != 0}), *((0,) if 0 in rule.codes else ()))


def exit_choices(model: ClusterModel, state: ClusterState, node: str, key: str, runtime: PodRuntime,
                 c: ContainerRuntime) -> tuple[int, ...]:
    """The exit codes of the `ContainerExit`s offered for container `c` of pod `key` on `node`: one
    being killed for a failed probe exits on SIGTERM (`sigterm_choices`); one that exits by itself
    with the codes of the rule that selects it, else 0 and one code of each class the scenario's
    podFailurePolicies tell apart — 0 and 1 without any (`kubeprop.model.kubelet.exit_codes`)."""
    if not runtime.exits_by_itself(c):
        return sigterm_choices(model, state, node, key, runtime, c)
    non_zero = exit_codes(model).non_zero(key.partition("/")[0], c.name)
    if not model.scenario.spec.environment.exits:
        return (*non_zero, 0)
    return _allowed(rule_for(model, cached_pods(model, state, node).get(key), runtime, c.name), non_zero)


def _on_sigterm(model: ClusterModel, pod: Pod | None, key: str, runtime: PodRuntime,
                name: str) -> tuple[tuple[int, ...], bool]:
    """The codes container `name` of pod `key` may exit with on SIGTERM, its failing ones ascending,
    then 0 — 143 and its rule's codes, else 0 and one code of each class, 143 for its own
    (`ExitCodes.on_sigterm`) — and whether a rule's `codes` gave them (`pod`: the kubelet's cached
    pod, as for `rule_for`)."""
    rule = rule_for(model, pod, runtime, name) if model.scenario.spec.environment.exits else None
    if rule is None or rule.codes is None:
        return (*exit_codes(model).on_sigterm(key.partition("/")[0], name), 0), False
    return (*sorted({*rule.codes, SIGTERM_EXIT_CODE} - {0}), 0), True  # `codes` holds 0: `check_addons`


def _cached(model: ClusterModel, state: ClusterState, node: str, key: str) -> Pod | None:
    """The kubelet's cached pod under `key`, if some rule could select it (else not read)."""
    return cached_pods(model, state, node).get(key) if model.scenario.spec.environment.exits else None


def sigterm_choices(model: ClusterModel, state: ClusterState, node: str, key: str, runtime: PodRuntime,
                    c: ContainerRuntime) -> tuple[int, ...]:
    """The exit codes of the `ContainerExit`s offered for container `c` of pod `key`, being killed
    for a failed probe, before its SIGKILL deadline: 143 (the signal ended it) or what it exits with
    having handled it (`_on_sigterm`)."""
    return _on_sigterm(model, _cached(model, state, node, key), key, runtime, c.name)[0]


def stop_choices(model: ClusterModel, state: ClusterState, node: str, key: str, runtime: PodRuntime) -> tuple[int, ...]:
    """The exit codes of the `StopGracefully`s offered for terminating pod `key`, 0 first, then the
    failing ones ascending: the codes the containers whose turn it is (`PodRuntime.in_turn`) may exit
    with on SIGTERM (`_on_sigterm`), those a rule's `codes` leave for each container it selects —
    each a code every one of them may exit with (a container no rule narrows may exit with any). Left
    out: the containers of one turn exiting with different codes — nothing is lost for a turn of one
    container (a pod of one, or its sidecars' turns), and the phase of a mix is one a single code
    gives (`status.get_phase`); a pod failure policy whose rules name different containers may judge a
    mix as no single code is judged: a behaviour missed, never a false alarm. The codes of an orphan
    (`CleanupOrphan`: no cached pod, so no rule) are never read: its pod is gone from the API."""
    pod = _cached(model, state, node, key)
    offered: set[int] = set()
    narrowed: set[int] | None = None
    for c in runtime.in_turn():
        codes, ruled = _on_sigterm(model, pod, key, runtime, c.name)
        offered.update(codes)
        if ruled:
            narrowed = set(codes) if narrowed is None else narrowed & set(codes)
    if narrowed is not None:
        offered &= narrowed
    return (0, *sorted(offered - {0}))


def deadlines(model: ClusterModel, state: ClusterState) -> Iterator[int]:
    """The deadline (`started_at + withinSeconds`) of every container that exits by itself, runs on
    a kubelet that is up and that a rule with `withinSeconds` selects."""
    if not has_deadlines(model):
        return
    for node in sorted(model.nodes):
        if not is_up(state, kubelet(node)):
            continue
        cached = None
        for key, runtime in kubelet_state(state, node).pods.sorted_items():
            for c in (*runtime.init_containers, *runtime.containers):
                if not runtime.exits_by_itself(c):
                    continue
                cached = cached_pods(model, state, node) if cached is None else cached
                rule = rule_for(model, cached.get(key), runtime, c.name)
                if rule is not None and rule.within_seconds is not None:
                    yield c.started_at + rule.within_seconds
