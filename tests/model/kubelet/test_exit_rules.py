"""`environment.exits` (`kubeprop.model.kubelet.exit_rules`, `kubeprop.model.cluster.exit_deadlines`):
a rule only takes choices away — the `ContainerExit`s its codes exclude, and `Tick`s past a bounded
container's deadline (removed at the deadline, shortened to land on it before) — and the scenario
section is validated field by field."""

from __future__ import annotations

import random
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import expected_policy, is_progress
from kubeprop.model.kubelet.actions import ContainerExit
from kubeprop.model.kubelet.runtime import KubeletState
from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.model.scenario.schema_addons import EnvironmentDecl
from kubeprop.model.state.actions import Action, Tick
from kubeprop.model.state.cluster import ClusterModel, ClusterState, is_up, kubelet

DATA = Path(__file__).parents[1] / "data" / "exits"
SCENARIO = load_scenario(DATA / "batch.yaml")
RULED = build_model(SCENARIO, parameters={"instantCaches": True})
FREE = build_model(attrs.evolve(SCENARIO, spec=attrs.evolve(SCENARIO.spec, environment=EnvironmentDecl())),
                   parameters={"instantCaches": True})
BOUNDS = {"work": 25, "prep": 15}
"""batch.yaml's rules, written out: Job `short`'s containers and their `withinSeconds`."""


def _bounded_runs(state: ClusterState) -> list[tuple[str, int]]:
    """(container, started_at + bound) of each container of a `short` pod that runs on its own on a
    kubelet that is up (read from the runtime, not through the module under test)."""
    out = []
    for node, k in state.kubelets.items():
        if not isinstance(k, KubeletState) or not is_up(state, kubelet(node)):
            continue
        for key, runtime in k.pods.items():
            if not key.startswith("default/short-") or runtime.terminating or runtime.evicted:
                continue
            for c in (*runtime.init_containers, *runtime.containers):
                if c.running and c.kill_deadline is None:
                    out.append((c.name, c.started_at + BOUNDS[c.name]))
    return out


def _walk(model: ClusterModel, seed: int, length: int) -> list[ClusterState]:
    """A seeded random run's states, biased so that the containers' deadlines come: applications
    slow (an exit drawn one time in five), time passing whenever it can but one time in four, and
    progress drawn half the time."""
    rng, state, states = random.Random(seed), initial_state(model), []
    for _ in range(length):
        states.append(state)
        enabled = actions(model, state)
        if not enabled:
            break
        ticks = [a for a in enabled if isinstance(a, Tick)]
        pool = [a for a in enabled if not isinstance(a, ContainerExit)] if rng.random() < 0.8 else enabled
        progress = [a for a in pool if is_progress(a)]
        if ticks and rng.random() < 0.75:
            act = ticks[0]
        else:
            act = rng.choice(progress if progress and rng.random() < 0.5 else pool or enabled)
        state = step(model, state, act)
    return states


def _compare(state: ClusterState) -> None:
    """The rule's actions are the free model's but for removed `ContainerExit`s its codes exclude
    (`work` exiting non-zero) and a `Tick` removed at a deadline or shortened to land on one."""
    ruled, free = actions(RULED, state), actions(FREE, state)
    gone = [a for a in free if a not in ruled]
    new = [a for a in ruled if a not in free]
    assert [a for a in ruled if not isinstance(a, Tick)] == [a for a in free if a not in gone and
                                                             not isinstance(a, Tick)]  # same order
    for act in gone:
        assert (isinstance(act, ContainerExit) and act.container == "work" and not act.success) or isinstance(
            act, Tick), act
    runs = _bounded_runs(state)
    due = [at for _, at in runs]
    if any(at <= state.clock for at in due):
        assert not any(isinstance(a, Tick) for a in ruled)  # the clock waits for the exit
    for act in new:
        assert isinstance(act, Tick)
        free_tick = next(a for a in free if isinstance(a, Tick))
        assert act.seconds < free_tick.seconds and state.clock + act.seconds == min(d for d in due if d > state.clock)
    for act in (a for a in ruled if isinstance(a, Tick)):
        assert all(state.clock + act.seconds <= at for at in due)  # never past a deadline


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**16), free=st.booleans())
def test_a_rule_only_removes_exits_it_excludes_and_ticks_past_a_deadline(seed: int, free: bool) -> None:
    """Over the states of random runs of either model (the free one reaches states past a deadline)."""
    for state in _walk(FREE if free else RULED, seed, 45):
        _compare(state)


def test_the_random_runs_reach_what_the_rule_changes() -> None:
    """The comparison above is not vacuous: its runs reach removed exits, held and shortened ticks."""
    seen = {"exit": 0, "held": 0, "shortened": 0}
    for seed in range(6):
        for free in (False, True):
            for state in _walk(FREE if free else RULED, seed, 45):
                ruled, plain = actions(RULED, state), actions(FREE, state)
                seen["exit"] += any(isinstance(a, ContainerExit) and a not in ruled for a in plain)
                ticks = [a for a in ruled if isinstance(a, Tick)]
                seen["held"] += not ticks and any(isinstance(a, Tick) for a in plain)
                seen["shortened"] += bool(ticks) and ticks[0] not in plain
    assert all(seen.values()), seen


def test_under_the_rule_work_exits_0_only_and_prep_both_ways() -> None:
    for state in _walk(RULED, 3, 60):
        for act in actions(RULED, state):
            if isinstance(act, ContainerExit) and act.pod.startswith("default/short-"):
                assert act.success or act.container == "prep"
            if isinstance(act, ContainerExit) and act.pod.startswith("default/free-") and not act.success:
                assert ContainerExit(act.node, act.pod, act.container, 0) in actions(RULED, state)


def _problems(tmp_path: Path, exits: str) -> list[str]:
    text = (DATA / "batch.yaml").read_text().split("environment:")[0]
    path = tmp_path / "scenario.yaml"
    (tmp_path / "batch").mkdir()
    (tmp_path / "batch" / "jobs.yaml").write_text((DATA / "batch" / "jobs.yaml").read_text())
    path.write_text(text + "environment:\n  exits:\n" + exits)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    return [str(p) for p in raised.value.problems]


def test_bad_rules_are_reported_all_at_once_with_field_and_line(tmp_path: Path) -> None:
    problems = _problems(tmp_path, """\
    - {pods: {job-name: short}, codes: [0, 256, -1], withinSeconds: 0}
    - {codes: []}
    - {pods: {"job name": "a b"}, container: Work, namespace: Team_A, withinSeconds: 1.5, colour: red}
    - {pods: {job-name: short}, codes: [1, 2]}
""")
    assert [p.split(": ", 2)[1] for p in problems] == [
        "environment.exits[0].codes[1]", "environment.exits[0].codes[2]", "environment.exits[0].withinSeconds",
        "environment.exits[1].pods", "environment.exits[1].codes",
        "environment.exits[2].colour", "environment.exits[2].withinSeconds",
        "environment.exits[2].pods.job name", "environment.exits[2].pods.job name", "environment.exits[2].namespace",
        "environment.exits[2].container", "environment.exits[3].codes"]
    assert all(p.startswith(f"{tmp_path / 'scenario.yaml'}:") for p in problems)
    assert [p.split(":")[1] for p in problems] == ["19"] * 3 + ["20"] * 2 + ["21"] * 6 + ["22"]  # each entry's line
    text = "\n".join(problems)
    assert "must be an exit code from 0 to 255, got 256" in text and "got -1" in text
    assert "withinSeconds: must be between 1 and 86,400" in text
    assert "codes: must list at least one exit code" in text and "invalid label value 'a b'" in text
    assert "codes: must include 0" in text


def test_the_cli_exits_2_on_a_bad_rule(tmp_path: Path) -> None:
    from kubeprop.properties.cli.main import main

    _problems(tmp_path, "    - {pods: {job-name: short}, codes: [300]}\n")
    assert main(["validate", str(tmp_path / "scenario.yaml")]) == 2


def _first(model: ClusterModel, pred: type[Action], limit: int = 400) -> tuple[ClusterState, list[Action]]:
    """The run a user expects (but Job `free`'s container does not exit)'s first state where an action
    of kind `pred` for `work` is enabled."""
    policy, state = expected_policy(), initial_state(model)
    for _ in range(limit):
        enabled = actions(model, state)
        if any(isinstance(a, pred) and getattr(a, "container", "") == "work" for a in enabled):
            return state, enabled
        act = policy.choose([a for a in enabled if not (isinstance(a, ContainerExit) and a.container == "loose")])
        assert act is not None  # (Job free's container runs on: its active deadline is a timer)
        policy.taken(act)
        state = step(model, state, act)
    raise AssertionError("work never ran")


def _hang(model: ClusterModel, state: ClusterState) -> ClusterState:
    """The run in which the applications take as long as they can: time passes whenever it may, the
    control plane does its work in between, and no container exits (until none of that is left)."""
    policy = expected_policy()
    while True:
        enabled = actions(model, state)
        act = next((a for a in enabled if isinstance(a, Tick)), None) or policy.choose(
            [a for a in enabled if not isinstance(a, (ContainerExit, Tick))])
        if act is None:
            return state
        policy.taken(act)
        state = step(model, state, act)


def test_work_may_not_fail_and_the_clock_stops_at_its_deadline() -> None:
    state, enabled = _first(RULED, ContainerExit)
    exits = [a for a in enabled if isinstance(a, ContainerExit) and a.container == "work"]
    assert [a.success for a in exits] == [True]
    assert [a.success for a in actions(FREE, state) if isinstance(a, ContainerExit) and a.container == "work"] == [
        False, True]
    (deadline,) = (at for name, at in _bounded_runs(state) if name == "work")
    held = _hang(RULED, state)
    assert held.clock == deadline and deadline % RULED.tick_seconds != 0  # the last tick landed on it
    assert ContainerExit(exits[0].node, exits[0].pod, "work", 0) in actions(RULED, held)
    assert _hang(FREE, state).clock >= 300  # without the rule it runs on (to the other Job's deadline)
