"""A workload step refused because the clusterrole-aggregation controller had not yet folded a
labelled ClusterRole into `edit` says so, in the step's failure and in the "relies on" line
(trial16, item 2: `403 … User "dev" cannot create resource "caches"` said nothing of it). Real
upstream behaviour: the controller acts on its own schedule
(`pkg/controller/clusterroleaggregation/clusterroleaggregation_controller.go`)."""

from __future__ import annotations

from pathlib import Path

from kubeprop.counterexamples.api import check
from kubeprop.counterexamples.reliance import reliance_line, trace_reliance
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.properties.explore.bfs import Bounds

SCENARIO = Path(__file__).parents[1] / "data" / "aggregation-race" / "scenario.yaml"
REFUSED = ('403 Forbidden: caches.example.com "sessions" is forbidden: User "dev" cannot create resource "caches" '
           'in API group "example.com" in the namespace "team"')


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    """The scenario with `old` replaced, its folders as they are."""
    text = SCENARIO.read_text().replace(old, new).replace("[manifests]", f"[{SCENARIO.parent / 'manifests'}]")
    path = tmp_path / "scenario.yaml"
    path.write_text(text.replace("apply: cr/", f"apply: {SCENARIO.parent / 'cr'}"))
    return path


def test_the_step_before_aggregation_names_the_role_not_yet_aggregated() -> None:
    model = build_model(load_scenario(SCENARIO))
    state = step(model, initial_state(model), UserStep(0))  # before the controller's first sync
    assert state.workload_errors[0] == (
        f"{REFUSED} (the clusterrole-aggregation controller had not yet aggregated ClusterRole caches-edit into "
        "edit; its queue: [admin, edit, view])")
    assert reliance_line(trace_reliance(model, [UserStep(0)])) == (
        "relies on: the control plane alone (no fault, no failing probe or container, no time waited out on the "
        "application); the step ran before the clusterrole-aggregation controller aggregated ClusterRole "
        "caches-edit into edit: an interleaving upstream has too (the controller acts after its informer sees the "
        "ClusterRole); docs/scenario.md \"Aggregated ClusterRoles\" says how to write the scenario")


def test_once_aggregated_the_step_succeeds() -> None:
    model = build_model(load_scenario(SCENARIO))
    result = fair_run(model, initial_state(model))
    assert result.state.workload_next == 1 and not result.state.workload_errors


def test_a_403_aggregation_would_not_lift_says_nothing_of_it(tmp_path: Path) -> None:
    model = build_model(load_scenario(_edited(tmp_path, "clusterRole: edit}", "clusterRole: view}")))
    state = step(model, initial_state(model), UserStep(0))
    assert state.workload_errors[0] == REFUSED


def test_binding_the_labelled_role_too_needs_no_aggregation(tmp_path: Path) -> None:
    """docs/scenario.md's way: bind the user to the labelled ClusterRole as well; every interleaving
    then lets the step through."""
    edit = "      - {namespace: team, clusterRole: edit}\n"
    path = _edited(tmp_path, edit, edit + "      - {namespace: team, clusterRole: caches-edit}\n")
    report = check(path, ["workload-steps-succeed"], engine="bfs", bounds=Bounds(max_states=2000), budget=None)
    assert report.violation is None and report.exit_reason == "exhausted", report.exit_reason
