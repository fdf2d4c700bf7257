"""Trial 16's "migrate then roll out" (tests/model/data/exits/migrate-then-rollout.yaml): run the
migration Job, `kubectl wait --for=condition=complete` on it, then roll out. Without
`environment.exits` the migration's container may fail (the Job fails after backoffLimit: a wait
with no timeout never returns, `workload-steps-finish`) or run past the wait's timeout
(`workload-steps-succeed`); with `{pods: {job-name: db-migrate}, codes: [0], withinSeconds: 60}`
neither can happen. Each direction is shown on the run where the application is as bad as it may
be: it fails whenever it may, and otherwise takes as long as it may."""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection
from pathlib import Path

import attrs
import pytest

from kubeprop.counterexamples.format import write
from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.counterexamples.trace import record, states_along
from kubeprop.model.cluster.compose import actions, build_model, initial_state
from kubeprop.model.cluster.drive import FairPolicy, follow
from kubeprop.model.kubelet.actions import ContainerExit
from kubeprop.model.scenario.load import Scenario, load_scenario
from kubeprop.model.scenario.schema_addons import EnvironmentDecl
from kubeprop.model.state.actions import Action, Tick, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.registry import Violation, first_violation, select

DATA = Path(__file__).parents[1] / "model" / "data" / "exits"
SCENARIO = load_scenario(DATA / "migrate-then-rollout.yaml")
SUCCEED, FINISH = select(["workload-steps-succeed"]), select(["workload-steps-finish"])


def _scenario(rule: bool, timeout: int) -> Scenario:
    """The trial's scenario, with or without its rule, the wait's `--timeout` `timeout` seconds."""
    spec = SCENARIO.spec
    steps = list(spec.workload)
    steps[1] = attrs.evolve(steps[1], wait=attrs.evolve(steps[1].wait, timeout_seconds=timeout))
    spec = attrs.evolve(spec, workload=tuple(steps))
    return attrs.evolve(SCENARIO, spec=spec if rule else attrs.evolve(spec, environment=EnvironmentDecl()))


@attrs.define
class Worst(FairPolicy):
    """The run in which the migration is as bad as the model lets it be: it exits non-zero whenever
    it may (with `fail`), time passes whenever it may while it runs, and otherwise the run a user
    expects (the control plane's work, its retries set aside as `drive.follow` does, the user's next
    step when the cluster is quiet; an exit 0 only when nothing else is left)."""

    fail: bool = True

    def next_action(self, model: ClusterModel, state: ClusterState, idle: Collection[Action] = ()) -> Action | None:
        enabled = actions(model, state)
        failing = [a for a in enabled if isinstance(a, ContainerExit) and not a.success] if self.fail else []
        running = any(isinstance(a, ContainerExit) for a in enabled)
        ticks = [a for a in enabled if isinstance(a, Tick)] if running else []
        users = [a for a in enabled if isinstance(a, UserStep)]  # (a wait that timed out returns then)
        return (failing or users or ticks or [None])[0] or super().next_action(model, state, idle)


def _worst(model: ClusterModel, fail: bool = True) -> tuple[tuple[Action, ...], list[ClusterState]]:
    """`Worst`'s run from the scenario's initial state: its actions and states."""
    policy = Worst(recover=False, user_steps=True, environment_last=True, max_ticks=200, fail=fail)
    run = follow(model, initial_state(model), policy, max_steps=3000)
    assert not run.exhausted
    return run.trace, states_along(model, run.trace)


def _succeed(model: ClusterModel, states: list[ClusterState]) -> Violation | None:
    return next((v for s in states if (v := first_violation(model, s, SUCCEED)) is not None), None)


def test_without_the_rule_the_wait_times_out_while_the_migration_runs() -> None:
    model = build_model(_scenario(rule=False, timeout=600))
    trace, states = _worst(model, fail=False)
    assert not any(isinstance(a, ContainerExit) for a in trace)
    found = _succeed(model, states)
    assert found is not None and "timed out waiting for the condition on jobs/db-migrate" in found.message


def test_without_the_rule_a_failing_migration_leaves_a_wait_without_timeout_hanging() -> None:
    model = build_model(_scenario(rule=False, timeout=-1))
    trace, states = _worst(model)
    assert sum(isinstance(a, ContainerExit) and not a.success for a in trace) == 3  # backoffLimit 2: Failed
    found = settled_violation(model, states[-1], FINISH)
    assert found is not None and found.message.startswith("workload step 2 of 4 (kubectl wait --for=condition=complete")


@pytest.mark.parametrize(("timeout", "fail"), [(600, False), (600, True), (-1, True)])
def test_with_the_rule_the_migration_completes_and_the_rollout_follows(timeout: int, fail: bool) -> None:
    model = build_model(_scenario(rule=True, timeout=timeout))
    trace, states = _worst(model, fail)
    assert not any(isinstance(a, ContainerExit) and not a.success for a in trace)
    assert _succeed(model, states) is None
    assert settled_violation(model, states[-1], FINISH) is None
    assert states[-1].workload_next == len(SCENARIO.spec.workload)  # every step done
    started = next(i for i, s in enumerate(states) if any(isinstance(a, ContainerExit) for a in actions(model, s)))
    exited = next(i for i, a in enumerate(trace) if isinstance(a, ContainerExit))
    assert states[exited].clock - states[started].clock == 60  # it ran as long as the rule lets it


def test_a_trace_with_the_rule_is_recorded_and_replays(tmp_path: Path) -> None:
    """The counterexample format carries the section: a run in which a shorter timeout passes while
    the migration runs (a violation the rule allows: 30 s < 60 s) is recorded with the scenario's
    text, replays from its file, and is the same file when made again (but its `created` time)."""
    shutil.copytree(DATA, tmp_path / "s")
    path = tmp_path / "s" / "migrate-then-rollout.yaml"
    path.write_text(path.read_text().replace("timeoutSeconds: -1}", "timeoutSeconds: 30}"))
    model = build_model(load_scenario(path))
    trace, states = _worst(model, fail=False)
    cut = next(i for i, s in enumerate(states) if first_violation(model, s, SUCCEED) is not None)
    assert any(isinstance(a, Tick) for a in trace[:cut])
    files = [write(record(model, trace[:cut], _succeed(model, states)), tmp_path / f"out{i}") for i in (1, 2)]
    assert "withinSeconds: 60" in files[0].read_text()
    texts = [json.loads(f.read_text()) for f in files]
    assert [{k: v for k, v in t.items() if k != "created"} for t in texts] == [
        {k: v for k, v in texts[0].items() if k != "created"}] * 2
    assert replay(files[0]).verdict is Verdict.REPRODUCES
