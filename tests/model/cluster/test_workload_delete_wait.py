"""`kubectl delete` waits (`--wait`, default true) until the object it deleted is gone — graceful pod
termination and finalizers included — before it returns, so the user's next command runs only then
(`staging/src/k8s.io/kubectl/pkg/cmd/delete/delete.go` DeleteResult, `cmd/wait/delete.go`
IsDeleted: gone, or another object of that name with another UID).

The model's `delete` step used not to block: a Pod deleted and applied again by the next step was
patched while Terminating — a 422 for a changed resource request (a false alarm of
`workload-steps-succeed`), or an "unchanged" apply after which the pod went away for good."""

from __future__ import annotations

from pathlib import Path

from scenario_text import solo_pod, statefulset_db, workload_head

from kubeprop.model.api.objects import ObjectKey, Pod
from kubeprop.model.cluster.compose import actions, build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.workload import delete_wait
from kubeprop.model.cluster.workload_commands import describe
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.convergence import _workload_left
from kubeprop.properties.registry import first_violation, select

STEPS_SUCCEED = select(["workload-steps-succeed"])
HEADER = workload_head("wait")
DB = statefulset_db("default", "{terminationGracePeriodSeconds: 30, containers: [{name: db, image: db:1}]}")
SOLO_KEY = ObjectKey("pods", "default", "solo")


def _model(tmp: Path, files: dict[str, str], workload: str) -> ClusterModel:
    for name, text in files.items():
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text)
    (tmp / "scenario.yaml").write_text(HEADER + workload)
    return build_model(load_scenario(tmp / "scenario.yaml"), parameters={"instantCaches": True})


def _delete_running_solo(tmp: Path, wait: str) -> tuple[ClusterModel, ClusterState, str]:
    """solo running (from the manifests), then `kubectl delete pod solo`: it is Terminating."""
    model = _model(tmp, {"m/solo.yaml": solo_pod(), "v2/solo.yaml": solo_pod("200m")},
                   f"  - delete: {{kind: Pod, name: solo{wait}}}\n  - apply: v2\n")
    state = settle(model, initial_state(model), max_steps=400, avoid=(UserStep,)).state
    running = state.store.get(SOLO_KEY)
    assert isinstance(running, Pod) and running.status.phase == "Running"
    state = step(model, state, UserStep(0))
    terminating = state.store.get(SOLO_KEY)
    assert terminating is not None and terminating.metadata.deletion_timestamp is not None
    return model, state, running.metadata.uid


def test_the_step_after_a_delete_waits_until_the_pod_is_gone(tmp_path: Path) -> None:
    model, state, uid = _delete_running_solo(tmp_path, "")
    assert UserStep(1) not in actions(model, state)  # kubectl delete has not returned
    wait = delete_wait(state)
    assert wait is not None and (wait.step, wait.name, wait.uid) == (0, "solo", uid)
    state = settle(model, state, max_steps=400, avoid=(UserStep,)).state
    assert state.store.get(SOLO_KEY) is None and delete_wait(state) is None
    assert UserStep(1) in actions(model, state)
    state = settle(model, step(model, state, UserStep(1)), max_steps=400).state
    created = state.store.get(SOLO_KEY)
    assert isinstance(created, Pod) and created.metadata.uid != uid
    assert str(created.spec.containers[0].resources.requests["cpu"]) == "200m"
    assert first_violation(model, state, STEPS_SUCCEED) is None
    assert "workload" not in state.addons  # the next step cleared the wait


def test_wait_false_runs_the_next_step_at_once_onto_the_terminating_pod(tmp_path: Path) -> None:
    model, state, _ = _delete_running_solo(tmp_path, ", wait: false")
    assert describe(model.scenario.spec.workload[0]) == "kubectl delete Pod solo -n default --wait=false"
    assert delete_wait(state) is None and UserStep(1) in actions(model, state)
    state = step(model, state, UserStep(1))  # kubectl apply patches the Terminating pod: requests are immutable
    found = first_violation(model, state, STEPS_SUCCEED)
    assert found is not None and "422 Invalid" in found.message and "kubectl apply -f v2" in found.message


def test_a_statefulset_pods_delete_returns_once_its_replacement_has_another_uid(tmp_path: Path) -> None:
    model = _model(tmp_path, {"m/db.yaml": DB},
                   "  - delete: {kind: Pod, name: db-0}\n  - scale: {statefulset: default/db, replicas: 2}\n")
    state = settle(model, initial_state(model), max_steps=400, avoid=(UserStep,)).state
    old = state.store.get(ObjectKey("pods", "default", "db-0"))
    assert old is not None
    state = step(model, state, UserStep(0))
    assert UserStep(1) not in actions(model, state)
    while (pod := state.store.get(ObjectKey("pods", "default", "db-0"))) is not None \
            and pod.metadata.uid == old.metadata.uid:
        assert UserStep(1) not in actions(model, state)
        state = step(model, state, next(a for a in actions(model, state) if not isinstance(a, UserStep)))
    assert UserStep(1) in actions(model, state)  # gone, or replaced by a db-0 with another UID
    state = settle(model, step(model, state, UserStep(1)), max_steps=600).state
    assert sorted(p.metadata.name for p in state.store.list("pods", "default")) == ["db-0", "db-1"]
    assert first_violation(model, state, STEPS_SUCCEED) is None


def test_an_object_removed_at_once_leaves_nothing_to_wait_for(tmp_path: Path) -> None:
    """An unscheduled pod is removed by the DELETE itself (grace 0): kubectl's GET finds nothing."""
    model = _model(tmp_path, {"m/solo.yaml": solo_pod(), "v2/solo.yaml": solo_pod("200m")},
                   "  - delete: {kind: Pod, name: solo}\n  - apply: v2\n")
    state = initial_state(model)  # solo not scheduled yet
    state = step(model, state, UserStep(0))
    assert state.store.get(SOLO_KEY) is None and "workload" not in state.addons
    assert UserStep(1) in actions(model, state)


def test_a_finalizer_no_one_removes_holds_the_last_delete_and_the_verdict_says_so(tmp_path: Path) -> None:
    kept = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kept, namespace: default, "
            "finalizers: [example.com/keep]}\ndata: {a: '1'}\n")
    model = _model(tmp_path, {"m/kept.yaml": kept}, "  - delete: {kind: ConfigMap, name: kept}\n")
    state = settle(model, step(model, initial_state(model), UserStep(0)), max_steps=400).state
    wait = delete_wait(state)
    assert wait is not None and wait.name == "kept"  # kubectl delete would still be waiting
    assert _workload_left(model, state) == ("judged with the user's last command still waiting for the object to "
                                            "go: kubectl delete ConfigMap kept -n default")
