"""Upstream behaviour `statefulset-stale-claim-stalls-until-resync`
(`properties/upstream_behaviour_statefulset.py`): since v1.15 the StatefulSet controller has no
30 s resync (kubernetes PR #75622) and no claim handler, so a set whose last sync stopped at a stale
claim (PodClaimIsStale) waits once the garbage collector has deleted it. Found by audit20a (F0) on
the repository's own sts-stale-claim scenario, which resync15 had taken for a false alarm, and on
kv-rescale (scale 1 → 0, wait for the pod's deletion, scale 0 → 1: 37 actions from the start).
Recognized only when the set's last sync waited on a stale claim and nothing is queued for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run, settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, action_from_json
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.cli.main import main
from kubeprop.properties.registry import Violation, first_violation, select
from kubeprop.properties.upstream_behaviour import HEADING, match

DATA = Path(__file__).resolve().parents[1] / "model" / "data" / "resync"
STALE_CLAIM = DATA / "sts-stale-claim.yaml"
KV_RESCALE = DATA / "kv-rescale.yaml"
KV_RESCALE_TRACE = DATA / "kv-rescale-trace.json"
ENTRY = "statefulset-stale-claim-stalls-until-resync"
V114 = {"statefulSetResyncSeconds": 30}


def _fair(path: Path, **parameters: object) -> tuple[ClusterModel, list[Action], ClusterState]:
    model = build_model(load_scenario(path), parameters=parameters or None)
    run = fair_run(model, initial_state(model))
    assert not run.exhausted
    return model, list(run.trace), run.state


def _kv_rescale(**parameters: object) -> tuple[ClusterModel, list[Action], ClusterState]:
    """audit20a's trace (the user's scale back lands before the controller manager handles kv-0's
    deletion), then the fair run to where it settles."""
    model = build_model(load_scenario(KV_RESCALE), parameters=parameters or None)
    trace = [action_from_json(a) for a in json.loads(KV_RESCALE_TRACE.read_text())]
    state = initial_state(model)
    for act in trace:
        state = step(model, state, act)
    end = settle(model, state)
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
    model, trace, state = _kv_rescale(**V114) if path == KV_RESCALE else _fair(path, **V114)
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
