"""Upstream behaviour `statefulset-stale-claim-stalls-until-resync`
(`properties/upstream_behaviour_statefulset.py`): since v1.15 the StatefulSet controller has no
30 s resync (kubernetes PR #75622) and no claim handler, so a set whose last sync stopped at a stale
claim (PodClaimIsStale) waits once the garbage collector has deleted it. Found by audit20a (F0) on
the repository's own sts-stale-claim scenario, which resync15 had taken for a false alarm, and on
kv-rescale (scale 1 → 0, wait for the pod's deletion, scale 0 → 1: 37 actions from the start).
Recognized only when the set's last sync waited on a stale claim and nothing is queued for it. Also
for a workload command waiting on the set — `rollout status` timing out (`workload-steps-succeed`) or
never returning (`workload-steps-finish`) — which the recognizer covered only as `workloads-ready`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run, settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import WaitStep, WorkloadStep
from kubeprop.model.state.actions import Action, action_from_json
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.cli.main import main
from kubeprop.properties.registry import Violation, first_violation, select
from kubeprop.properties.upstream_behaviour import HEADING, match
from kubeprop.properties.upstream_behaviour_statefulset import _waited_sets

DATA = Path(__file__).resolve().parents[1] / "model" / "data" / "resync"
STALE_CLAIM = DATA / "sts-stale-claim.yaml"
KV_RESCALE = DATA / "kv-rescale.yaml"
KV_RESCALE_TRACE = DATA / "kv-rescale-trace.json"
KV_RESCALE_TIMEOUT = DATA / "kv-rescale-timeout.yaml"
KV_RESCALE_HANG = DATA / "kv-rescale-hang.yaml"
ENTRY = "statefulset-stale-claim-stalls-until-resync"
V114 = {"statefulSetResyncSeconds": 30}


def _fair(path: Path, **parameters: object) -> tuple[ClusterModel, list[Action], ClusterState]:
    model = build_model(load_scenario(path), parameters=parameters or None)
    run = fair_run(model, initial_state(model))
    assert not run.exhausted
    return model, list(run.trace), run.state


def _kv_rescale(path: Path = KV_RESCALE, **parameters: object) -> tuple[ClusterModel, list[Action], ClusterState]:
    """audit20a's trace (the user's scale back lands before the controller manager handles kv-0's
    deletion), then the fair run to where it settles (with the user's later steps, if any)."""
    model = build_model(load_scenario(path), parameters=parameters or None)
    trace = [action_from_json(a) for a in json.loads(KV_RESCALE_TRACE.read_text())]
    state = initial_state(model)
    for act in trace:
        state = step(model, state, act)
    end = settle(model, state) if path == KV_RESCALE else fair_run(model, state)
    assert not end.exhausted
    return model, [*trace, *end.trace], end.state


def test_the_stale_claim_scenario_is_upstream_behaviour() -> None:
    model, trace, state = _fair(STALE_CLAIM)
    violation = first_violation(model, state, select(["workloads-ready"]))
    assert violation is not None and violation.objects == ("StatefulSet default/kv",)
    found = match(model, violation, trace)
    assert found is not None and found.name == ENTRY


def test_kv_rescale_is_upstream_behaviour() -> None:
    model, trace, state = _kv_rescale()
    violation = first_violation(model, state, select(["workloads-ready"]))
    assert violation is not None and violation.message.startswith("StatefulSet default/kv: 0 ready of 1")
    found = match(model, violation, trace)
    assert found is not None and found.name == ENTRY


@pytest.mark.parametrize("path", [STALE_CLAIM, KV_RESCALE])
def test_with_the_v114_resync_the_set_is_created_and_nothing_is_recognized(path: Path) -> None:
    """`statefulSetResyncSeconds: 30`: the resync takes the set up, so there is no violation; a
    made-up one on the same trace is not recognized (the resync would end the wait)."""
    model, trace, state = _kv_rescale(KV_RESCALE, **V114) if path == KV_RESCALE else _fair(path, **V114)
    assert first_violation(model, state, select(["workloads-ready"])) is None
    made_up = Violation("workloads-ready", "made up", ("StatefulSet default/kv",))
    assert match(model, made_up, trace) is None


def test_another_statefulset_is_not_recognized() -> None:
    model, trace, _ = _fair(STALE_CLAIM)
    other = Violation("workloads-ready", "made up", ("StatefulSet default/other",))
    assert match(model, other, trace) is None


def test_a_set_short_for_another_reason_is_not_recognized(tmp_path: Path) -> None:
    """The same set without the stale claim, its pod too big for the node: `workloads-ready` fails
    (the pod stays Pending), but no sync waited on a claim, so it is the user's violation."""
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    kv = (DATA / "manifests" / "kv.yaml").read_text()
    (manifests / "kv.yaml").write_text(kv[kv.index("apiVersion: apps/v1"):].replace("cpu: 100m", "cpu: \"2\""))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(STALE_CLAIM.read_text())
    model, trace, state = _fair(scenario)
    violation = first_violation(model, state, select(["workloads-ready"]))
    assert violation is not None and violation.objects == ("StatefulSet default/kv",)
    assert match(model, violation, trace) is None


def test_check_reports_the_stall_under_the_upstream_heading(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`kubeprop check` on sts-stale-claim: UPSTREAM, the entry and its citations, exit 0; 1 with
    `--strict`."""
    args = ["check", str(STALE_CLAIM), "--engine", "around", "--property", "workloads-ready", "--budget", "60",
            "--workers", "1"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "workloads-ready  UPSTREAM" in out and f"\n{HEADING}:\n" in out
    assert f"{ENTRY}:" in out and "kubernetes/kubernetes/pull/75622" in out
    assert main([*args, "--out", str(tmp_path / "b"), "--strict"]) == 1


def _state_after(model: ClusterModel, trace: list[Action]) -> ClusterState:
    state = initial_state(model)
    for act in trace:
        state = step(model, state, act)
    return state


def _first_safety_violation(model: ClusterModel, trace: list[Action], name: str) -> tuple[Violation, list[Action]]:
    """The first state of the trace that violates safety property `name`, and the trace to it."""
    state = initial_state(model)
    for i, act in enumerate(trace):
        state = step(model, state, act)
        violation = first_violation(model, state, select([name]))
        if violation is not None:
            return violation, trace[:i + 1]
    raise AssertionError(f"{name} holds along the trace")


def test_a_rollout_status_timing_out_on_the_stalled_set_is_upstream_behaviour() -> None:
    """kv-rescale, then `kubectl rollout status statefulset/kv --timeout=60s`: the set waits on the
    stale claim, the command times out 60 s later, and the stall is in force where it fails."""
    model, trace, _ = _kv_rescale(KV_RESCALE_TIMEOUT)
    violation, to_it = _first_safety_violation(model, trace, "workload-steps-succeed")
    assert violation.message == ("workload step 5 (kubectl rollout status statefulset/kv -n default --timeout=60s) "
                                 "failed: error: timed out waiting for the condition")
    found = match(model, violation, to_it)
    assert found is not None and found.name == ENTRY and found.property == "workload-steps-succeed"


def test_a_rollout_status_without_a_timeout_on_the_stalled_set_is_upstream_behaviour() -> None:
    model, trace, state = _kv_rescale(KV_RESCALE_HANG)
    violation = first_violation(model, state, select(["workload-steps-finish"]))
    assert violation is not None and violation.objects == ("StatefulSet default/kv",)
    assert violation.message.startswith("workload step 5 of 5 (kubectl rollout status statefulset/kv -n default) "
                                        "never returns")
    found = match(model, violation, trace)
    assert found is not None and found.name == ENTRY and found.property == "workload-steps-finish"


@pytest.mark.parametrize("path", [KV_RESCALE_TIMEOUT, KV_RESCALE_HANG])
def test_with_the_v114_resync_the_command_returns(path: Path) -> None:
    """`statefulSetResyncSeconds: 30`: the resync creates kv-0 and the rollout finishes; made-up
    failures of the step on the same trace are not recognized."""
    model, trace, state = _kv_rescale(path, **V114)
    assert first_violation(model, state, select(["workload-steps-succeed", "workload-steps-finish"])) is None
    made_up = (Violation("workload-steps-finish", "workload step 5 of 5 (made up) never returns",
                         ("StatefulSet default/kv",)),
               Violation("workload-steps-succeed", "workload step 5 (made up) failed: error: timed out", ()))
    assert all(match(model, v, trace) is None for v in made_up)


def test_an_unrelated_timeout_while_the_set_stalls_is_the_users(tmp_path: Path) -> None:
    """kv-rescale, then a `kubectl wait` on the namespace for a condition it never has (30 s): it
    times out while the set waits on the stale claim, but the command did not wait on the set, so it
    is the user's violation."""
    scenario = tmp_path / "scenario.yaml"
    shutil.copytree(DATA / "kv-rescale", tmp_path / "kv-rescale")
    scenario.write_text(KV_RESCALE_TIMEOUT.read_text().replace(
        "  - rolloutStatus: {statefulset: default/kv, timeoutSeconds: 60}",
        "  - wait: {kind: Namespace, name: default, for: condition=Ready, timeoutSeconds: 30}"))
    model, trace, _ = _kv_rescale(scenario)
    violation, to_it = _first_safety_violation(model, trace, "workload-steps-succeed")
    assert "timed out waiting for the condition on namespaces/default" in violation.message
    assert first_violation(model, _state_after(model, to_it), select(["workloads-ready"])) is not None  # stalled
    assert match(model, violation, to_it) is None


def test_a_rollout_status_timing_out_on_a_set_short_for_another_reason_is_the_users(tmp_path: Path) -> None:
    """The sts-stale-claim set without the stale claim, its pod too big for the node, and `kubectl
    rollout status` with a timeout: it times out, but no sync waited on a claim."""
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    kv = (DATA / "manifests" / "kv.yaml").read_text()
    (manifests / "kv.yaml").write_text(kv[kv.index("apiVersion: apps/v1"):].replace("cpu: 100m", "cpu: \"2\""))
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(STALE_CLAIM.read_text() + "workload:\n  - rolloutStatus: {statefulset: default/kv, "
                                                  "timeoutSeconds: 30}\n")
    model, trace, _ = _fair(scenario)
    violation, to_it = _first_safety_violation(model, trace, "workload-steps-succeed")
    assert "timed out waiting for the condition" in violation.message
    assert match(model, violation, to_it) is None


def test_a_wait_for_a_pod_of_the_stalled_set_counts_while_the_pod_is_missing() -> None:
    """`kubectl wait pod/kv-0` (begun while an earlier kv-0 was there) waits on the set while kv-0 is
    missing; not kv-1, which the set (replicas 1) does not want, nor a wait for a deletion, nor one on
    the set itself (its condition may be one the stall does not hold back)."""
    _, _, stalled = _kv_rescale()
    assert stalled.store.get(ObjectKey("pods", "default", "kv-0")) is None

    def wait(kind: str, name: str, for_: str = "condition=Ready") -> WorkloadStep:
        return WorkloadStep(wait=WaitStep(kind=kind, name=name, namespace="default", for_=for_, timeout_seconds=60))

    assert _waited_sets(stalled, wait("Pod", "kv-0")) == ("default/kv",)
    assert _waited_sets(stalled, wait("Pod", "kv-0"), ("Pod default/kv-0",)) == ("default/kv",)
    assert _waited_sets(stalled, wait("Pod", "kv-0"), ("Pod default/other",)) == ()
    assert _waited_sets(stalled, wait("Pod", "kv-1")) == ()
    assert _waited_sets(stalled, wait("Pod", "kv-0", "delete")) == ()
    assert _waited_sets(stalled, wait("StatefulSet", "kv", "jsonpath=.status.readyReplicas=1")) == ()
    _, _, running = _fair(STALE_CLAIM, **V114)
    assert running.store.get(ObjectKey("pods", "default", "kv-0")) is not None
    assert _waited_sets(running, wait("Pod", "kv-0")) == ()  # it is there: the stall does not hold it
