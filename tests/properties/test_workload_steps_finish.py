"""`workload-steps-finish`: a waiting kubectl command of the workload that can never return is a
violation of a default convergence property; `kubectl drain --timeout` fails as kubectl fails.

A drain that a PodDisruptionBudget blocks for ever (`maintenance/blocked.yaml`: minAvailable equal
to the replicas) used to be found by the lasso search alone (`drains-complete`): the default
strategy reported nothing, while the user's maintenance script hung."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from scenario_text import solo_pod, statefulset_db, workload_head

from kubeprop.counterexamples.api import check
from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.cluster.maintenance import aggregate, go_duration, maintenance_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.explore.engine import EngineConfig
from kubeprop.properties.registry import Property, Violation, first_violation, select
from kubeprop.properties.vacuity import vacuity

DATA = Path(__file__).parents[1] / "model" / "data" / "maintenance"
FINISH = select(["workload-steps-finish"])
CONVERGENCE = select(kind="convergence")
ONE_LANE = EngineConfig(seed=0, workers=1, budget_seconds=None)
HEADER = workload_head("hang")
POD = solo_pod()
CONFIG_MAP = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: default, finalizers: FINALIZERS}
data: {mode: fast}
"""
STATEFULSET = statefulset_db("default", "{containers: [{name: db, image: db:1, resources: {requests: {cpu: '64'}}}]}")
POD_DB_0 = ObjectKey("pods", "default", "db-0")
DEPLOYMENT = STATEFULSET.replace("StatefulSet", "Deployment").replace("  serviceName: db\n", "")


def _verdicts(model: ClusterModel, props: tuple[Property, ...] = CONVERGENCE) -> list[Violation]:
    """The verdicts of `props` judged at every state of the run a user expects, distinct."""
    state = initial_state(model)
    found: list[Violation] = []
    for act in fair_run(model, state).trace:
        state = step(model, state, act)
        verdict = settled_violation(model, state, props)
        if verdict is not None and verdict not in found:
            found.append(verdict)
    return found


def _model(tmp: Path, manifest: str, workload: str) -> ClusterModel:
    (tmp / "m").mkdir()
    (tmp / "m" / "objects.yaml").write_text(manifest)
    (tmp / "scenario.yaml").write_text(HEADER + workload)
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"instantCaches": True})


def test_a_drain_a_budget_blocks_for_ever_is_found_by_the_default_strategy() -> None:
    report = check(DATA / "blocked.yaml", None, budget=None, config=ONE_LANE)
    found = report.discovery("workload-steps-finish")
    assert found is not None and [f.violation.property for f in report.found] == ["workload-steps-finish"]
    assert report.stats.steps <= 250  # the expected run itself: 0 deviations, the first engine of the portfolio
    message = found.violation.message
    assert message.startswith("workload step 1 of 2 (kubectl drain worker-1 --ignore-daemonsets) never returns: "
                              "evicting pod default/web-")
    assert ("is refused for good: 429 Cannot evict pod as it would violate the pod's disruption budget. (The "
            "disruption budget web needs 2 healthy pods and has 2 currently; PodDisruptionBudget default/web: "
            "minAvailable 2; expectedPods 2, currentHealthy 2, desiredHealthy 2, disruptionsAllowed 0); kubectl "
            "retries a refused eviction every 5 s, for ever without --timeout") in message
    assert message.endswith("(judged with the user waiting in workload step 1 of 2: kubectl drain worker-1 "
                            "--ignore-daemonsets, and 1 more)")
    assert {"Node worker-1", "PodDisruptionBudget default/web"} <= set(found.violation.objects)
    # the counterexample replays from the scenario's initial state: the user's drain, then Quiesce
    state = initial_state(report.model)
    for act in found.trace:
        state = step(report.model, state, act)
    assert maintenance_state(state).draining["worker-1"].by == "user"


def test_a_drain_blocked_only_until_a_replacement_is_ready_is_not_reported() -> None:
    """blocked-awhile.yaml: the second eviction is refused until the first pod's replacement is Ready
    on worker-2; then the drain returns. Judged at every state of the expected run, and around it."""
    model = build_model(load_scenario(DATA / "blocked-awhile.yaml"))
    run = fair_run(model, initial_state(model))
    kinds = [type(a).__name__ for a in run.trace]
    assert kinds.count("EvictForDrain") == 3 and kinds.count("FinishDrain") == 1  # one 429, then allowed
    assert run.state.workload_next == 3 and not run.state.workload_errors
    assert _verdicts(model) == []
    report = check(DATA / "blocked-awhile.yaml", None, engine="around", budget=None,
                   config=EngineConfig(seed=0, workers=1, budget_seconds=None, deviations=1))
    assert report.found == () and report.stats.distinct > 1000


def test_a_drain_with_a_timeout_fails_with_kubectls_message() -> None:
    model = build_model(load_scenario(DATA / "blocked-timeout.yaml"))
    run = fair_run(model, initial_state(model))
    assert not maintenance_state(run.state).draining and run.state.clock == 60 and run.state.workload_next == 2
    found = first_violation(model, run.state, select(["workload-steps-succeed"]))
    pod = next(p.metadata.name for p in run.state.store.list("pods") if isinstance(p, Pod))
    assert found is not None and found.message == (
        'workload step 1 (kubectl drain worker-1 --ignore-daemonsets --timeout=60s) failed: unable to drain node '
        f'"worker-1" due to error: error when evicting pods/"{pod}" -n "default": global timeout reached: 1m0s')
    assert [v.property for v in _verdicts(model)] == []  # it returns: not a hang
    report = check(DATA / "blocked-timeout.yaml", None, budget=None, config=ONE_LANE)
    assert [f.violation.property for f in report.found] == ["workload-steps-succeed"]
    assert "global timeout reached: 1m0s" in report.found[0].violation.message


def test_kubectls_durations_and_aggregated_errors() -> None:
    assert [go_duration(s) for s in (0, 5, 60, 90, 3600, 3725)] == ["0s", "5s", "1m0s", "1m30s", "1h0m0s",
                                                                     "1h2m5s"]
    assert aggregate(["a"]) == "a" and aggregate(["a", "b", "a"]) == "[a, b]" and aggregate(["a", "a"]) == "a"


def test_a_delete_waiting_for_an_object_its_finalizer_keeps(tmp_path: Path) -> None:
    model = _model(tmp_path, CONFIG_MAP.replace("FINALIZERS", "[example.com/keep]"),
                   "  - delete: {kind: ConfigMap, name: settings}\n")
    verdicts = _verdicts(model, FINISH)
    assert verdicts and verdicts[0].message.startswith(
        "workload step 1 of 1 (kubectl delete ConfigMap settings -n default) never returns: it waits for ConfigMap "
        "default/settings to be deleted, and it is being deleted and keeps its finalizers example.com/keep, which "
        "nothing removes")
    (tmp_path / "clean").mkdir()
    clean = _model(tmp_path / "clean", CONFIG_MAP.replace("FINALIZERS", "[]"),
                   "  - delete: {kind: ConfigMap, name: settings}\n")
    assert _verdicts(clean, FINISH) == []


@pytest.mark.parametrize(("manifest", "waiting", "hangs"), [
    (STATEFULSET, "rolloutStatus: {statefulset: default/db}", "Waiting for 1 pods to be ready..."),
    (STATEFULSET, "rolloutStatus: {statefulset: default/db, timeoutSeconds: 120}", ""),
    (DEPLOYMENT, "rolloutStatus: {deployment: default/db}", ""),  # its progress deadline ends the command
    (DEPLOYMENT.replace("replicas: 1", "replicas: 1\n  progressDeadlineSeconds: 2147483647"),
     "rolloutStatus: {deployment: default/db}", 'rollout to finish: 0 of 1 updated replicas are available...'),
    (POD, "wait: {kind: Pod, name: solo, for: condition=Ready=false, timeoutSeconds: -1}",
     "condition Ready=false of Pod default/solo is never met (Ready=True)"),
    (POD, "wait: {kind: Pod, name: solo, for: condition=Ready=false}", ""),
])
def test_waiting_commands_without_a_timeout(tmp_path: Path, manifest: str, waiting: str, hangs: str) -> None:
    model = _model(tmp_path, manifest, f"  - {waiting}\n")
    messages = [v.message for v in _verdicts(model, FINISH)]
    if not hangs:
        assert messages == []
        return
    assert messages and messages[0].startswith("workload step 1 of 1 (kubectl ") and hangs in messages[0]


def test_vacuous_where_no_step_can_wait_for_ever(tmp_path: Path) -> None:
    def reason(workload: str, where: str) -> str | None:
        (tmp_path / where).mkdir()
        return vacuity(_model(tmp_path / where, POD, workload), FINISH[0])

    assert reason("  - cordon: {node: worker-1}\n  - drain: {node: worker-1, timeoutSeconds: 60}\n"
                  "  - wait: {kind: Pod, name: solo, for: delete}\n  - delete: {kind: Pod, name: solo, wait: false}\n",
                  "none") == ("no workload step can wait for ever (no drain or rolloutStatus without a timeout, no "
                              "wait with timeoutSeconds -1, no delete that waits for its object)")
    for i, waits in enumerate(("drain: {node: worker-1}", "delete: {kind: Pod, name: solo}",
                               "wait: {kind: Pod, name: solo, for: delete, timeoutSeconds: -1}")):
        assert reason(f"  - {waits}\n", f"waits-{i}") is None
    assert vacuity(build_model(load_scenario(DATA / "blocked.yaml")), FINISH[0]) is None


@pytest.mark.parametrize(("replicas", "budget", "needs"), [
    (2, "maxUnavailable: 0", "needs 2 healthy pods and has 2 currently"),
    (1, "minAvailable: 1", "needs 1 healthy pods and has 1 currently"),
])
def test_other_budgets_that_block_a_drain_for_ever(tmp_path: Path, replicas: int, budget: str, needs: str) -> None:
    """blocked.yaml with maxUnavailable 0, and with a single replica under minAvailable 1."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.yaml").write_text((DATA / "app" / "app.yaml").read_text().replace("replicas: 2",
                                                                                   f"replicas: {replicas}"))
    (app / "strict-pdb.yaml").write_text((DATA / "app" / "strict-pdb.yaml").read_text().replace("minAvailable: 2",
                                                                                               budget))
    (tmp_path / "blocked.yaml").write_text((DATA / "blocked.yaml").read_text())
    model = build_model(load_scenario(tmp_path / "blocked.yaml"))
    end = fair_run(model, initial_state(model)).state  # the drain retries until the ticks run out
    verdict = settled_violation(model, end, CONVERGENCE, memo=False)
    assert verdict is not None and verdict.property == "workload-steps-finish"
    assert needs in verdict.message and budget.replace(":", "") in verdict.message


def test_not_judged_while_a_timer_that_may_tell_is_ahead() -> None:
    """Where the continuation ran out of ticks with a timer still ahead (other than periodic work and
    the drain's own retries) nothing is judged: what that timer brings is not known."""
    model = build_model(load_scenario(DATA / "blocked.yaml"))
    end = fair_run(model, initial_state(model)).state
    assert FINISH[0](model, end) is not None

    def later(model: ClusterModel, state: ClusterState) -> int | None:
        return state.clock + 10

    waiting = attrs.evolve(model, hooks=attrs.evolve(model.hooks, timers=(*model.hooks.timers, later)))
    assert FINISH[0](waiting, end) is None


ORPHANED_WAIT = ("  - rolloutStatus: {statefulset: default/db}\n  - delete: {kind: StatefulSet, name: db{policy}}\n"
                 "  - wait: {kind: Pod, name: db-0, for: delete, timeoutSeconds: -1}\n")


def test_a_wait_for_the_deletion_of_an_object_nothing_deletes(tmp_path: Path) -> None:
    """The audit's orphan2: the StatefulSet deleted with Orphan, its pod stays, and `kubectl wait
    --for=delete --timeout=-1` waits a week. The property used to pass any object without
    finalizers, as if it were terminating."""
    orphan = ORPHANED_WAIT.replace("{policy}", ", propagationPolicy: Orphan")
    model = _model(tmp_path, statefulset_db("default"), orphan)
    end = fair_run(model, initial_state(model)).state
    assert end.workload_next == 2 and end.store.get(POD_DB_0) is not None
    verdict = settled_violation(model, end, FINISH, memo=False)
    assert verdict is not None and verdict.message.startswith(
        "workload step 3 of 3 (kubectl wait --for=delete pod/db-0 -n default --timeout=-1s) never returns: it waits "
        "for Pod default/db-0 to be deleted, and nothing deletes it: it is not being deleted, and nothing left in the "
        "cluster would delete it")
    assert verdict.objects == ("Pod default/db-0",)


def test_no_verdict_where_the_garbage_collector_deletes_the_object(tmp_path: Path) -> None:
    """kubectl's default cascade (Background): the garbage collector deletes the pod, at every state
    of the expected run, including those where the pod is not being deleted yet."""
    model = _model(tmp_path, statefulset_db("default"), ORPHANED_WAIT.replace("{policy}", ""))
    assert fair_run(model, initial_state(model)).state.workload_next == 3
    assert _verdicts(model, FINISH) == []
