"""The Python API: `check`, the engine registry and the assertion helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from catalogue_searches import rs_actions

import kubeprop.counterexamples as cx
from kubeprop.counterexamples.api import ENGINES, check, register_engine
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.engine import EngineConfig, EngineResult

WEB = Path(__file__).resolve().parents[2] / "tests" / "model" / "data" / "variants" / "web.yaml"
EXPECTED = [
    "Reconcile(controller=deployment, key=default/web)",
    "Deliver(component=controller-manager, resource=replicasets.apps, revision=11)",
    "Reconcile(controller=replicaset, key=default/web-9b8d4d75)",
    "Deliver(component=controller-manager, resource=pods, revision=13)",
    "Reconcile(controller=replicaset, key=default/web-9b8d4d75)",
]


def _rs(variant: str, tmp_path: Path | None = None) -> cx.CheckReport:
    return check(WEB, ["replicaset-no-overcreation"], engine="bfs", bounds=Bounds(max_depth=12), variant=variant,
                 action_filter=rs_actions, save_to=tmp_path)


def test_public_surface() -> None:
    assert all(hasattr(cx, name) for name in cx.__all__)
    assert callable(cx.replay) and callable(cx.fingerprint) and callable(cx.check)


def test_check_finds_and_records_a_violation(tmp_path: Path) -> None:
    report = _rs("rs-no-expectations", tmp_path)
    cx.assert_discovery(report, "replicaset-no-overcreation", actions=EXPECTED)
    assert report.path is not None and report.path.exists()
    # when it was found is on the clock of the engine's own seconds (the table prints them side by side)
    assert report.stats is not None and report.found_after == report.stats.seconds
    assert report.counterexample is not None and cx.replay(report.path).verdict == cx.Verdict.REPRODUCES
    with pytest.raises(AssertionError, match="reproduce with: kubeprop replay"):
        cx.assert_no_discovery(report)
    with pytest.raises(AssertionError, match="the trace differs"):
        cx.assert_discovery(report, "replicaset-no-overcreation", actions=EXPECTED[:2])
    with pytest.raises(AssertionError, match="expected a violation of node-not-overcommitted"):
        cx.assert_discovery(report, "node-not-overcommitted")


def test_a_failure_without_save_to_names_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Trial 20: without `save_to` the failure said "reproduce with: kubeprop replay NAME.json", a
    file `check` never wrote; it now says there is no file and how to get one."""
    monkeypatch.chdir(tmp_path)
    report = _rs("rs-no-expectations")
    assert report.path is None and report.counterexample is not None
    with pytest.raises(AssertionError) as failed:
        cx.assert_no_discovery(report)
    message = str(failed.value)
    assert "counterexample  not written to a file (check() was called without save_to=)" in message
    assert 'reproduce with: pass save_to= to check() (save_to="kubeprop-out", say)' in message
    assert "kubeprop replay" not in message.replace("the kubeprop replay command", "")
    assert report.counterexample.file_name not in message and list(tmp_path.iterdir()) == []


def test_check_on_the_correct_model() -> None:
    report = _rs("correct")
    cx.assert_no_discovery(report)
    assert report.complete and report.discoveries == {}
    with pytest.raises(AssertionError, match="found none"):
        cx.assert_discovery(report, "replicaset-no-overcreation")


def test_engines_plug_in() -> None:
    assert {"bfs", "walk", "hypothesis"} <= set(ENGINES)
    seen: list[EngineConfig] = []

    def fake(model: ClusterModel, start: ClusterState, config: EngineConfig) -> EngineResult:
        seen.append(config)
        return EngineResult("fake", "runs-done")

    register_engine("fake", fake)
    try:
        report = check(WEB, ["replicaset-no-overcreation"], engine="fake", seed=7, budget=3.0)
    finally:
        del ENGINES["fake"]
    budget = seen[0].budget_seconds
    assert report.exit_reason == "runs-done" and seen[0].seed == 7 and budget is not None and 2.0 < budget < 3.0
    with pytest.raises(KeyError, match="unknown engine 'nope'"):
        check(WEB, engine="nope")


def _too_many_pods(model: ClusterModel, state: ClusterState) -> str | None:
    """A caller's own property: at most one pod object in the store."""
    pods = sum(1 for obj in state.store.objects.values() if type(obj).__name__ == "Pod")
    return f"{pods} pods" if pods > 1 else None


def test_a_callers_property_is_checked_without_being_registered(tmp_path: Path) -> None:
    from kubeprop.properties.registry import PROPERTIES, as_property

    prop = as_property("at-most-one-pod-object", "At most one pod object exists.", "-", "safety", _too_many_pods)
    report = check(WEB, [prop], engine="bfs", bounds=Bounds(max_depth=12), variant="correct",
                   action_filter=rs_actions, save_to=tmp_path)
    assert "at-most-one-pod-object" not in PROPERTIES
    assert report.violation is not None and report.violation.property == "at-most-one-pod-object"
    assert report.counterexample is not None and report.path is not None


def test_unknown_names_are_usage_errors_and_still_key_errors() -> None:
    from kubeprop.model.errors import UnknownName, UsageError

    with pytest.raises(UnknownName, match="unknown engine 'nope'; valid: portfolio, around") as caught:
        check(WEB, ["replicaset-no-overcreation"], engine="nope")
    assert isinstance(caught.value, UsageError) and isinstance(caught.value, KeyError)
    with pytest.raises(UnknownName, match="unknown property 'no-such-property'"):
        check(WEB, ["no-such-property"], engine="bfs", bounds=Bounds(max_depth=1))
