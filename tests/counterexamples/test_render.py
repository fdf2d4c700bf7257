"""Rendering: the golden terminal output, and the HTML page (escaping, and a real browser)."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kubeprop.counterexamples.format import write
from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.render_html import render_html, script_json
from kubeprop.counterexamples.replay import replay
from kubeprop.counterexamples.steps import lane_of
from kubeprop.counterexamples.trace import record
from kubeprop.model.api.objects import Deployment, ReplicaSet
from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.cluster.drive import settle
from kubeprop.model.cluster.maintenance import EndMaintenance, StartMaintenance, maintenance_state
from kubeprop.model.cluster.overload import EndOverload, StartOverload, Starve
from kubeprop.model.cluster.restore import RestoreEtcd, SnapshotEtcd
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.cli.main import main
from kubeprop.properties.overload import SYSTEM_FLOWS_NOT_STARVED
from kubeprop.properties.registry import CheckResult, Property, as_property

GOLDEN = Path(__file__).parent / "golden"
VARIANTS = Path(__file__).resolve().parents[2] / "tests" / "model" / "data" / "variants"
MAINTENANCE = VARIANTS.parent / "maintenance"
MARKUP = "<script>alert('kp')</script>"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"re-run with KUBEPROP_UPDATE_GOLDEN=1 to accept changes to {path}"


def test_golden_rendering(rs_file: Path) -> None:
    _golden("rs-no-expectations.txt", render_text(replay(rs_file), shown_path="rs-no-expectations.json"))


def test_rendering_of_a_fixed_bug(rs_file: Path) -> None:
    text = render_text(replay(rs_file, variant="correct"), shown_path="rs-no-expectations.json")
    assert "verdict         PASSES" in text and "holds at step 5 now" in text
    assert "state differs from the recorded one" in text


def test_full_shows_every_state(rs_file: Path) -> None:
    text = render_text(replay(rs_file), full=True)
    assert text.count("state:") == 5 and "Pod default/web-" in text


def _annotated(model: ClusterModel, state: ClusterState) -> CheckResult:
    """Fails once a ReplicaSet exists for a Deployment carrying a `note` annotation (quoting it)."""
    for d in state.store.list("deployments.apps"):
        note = d.metadata.annotations.get("note") if isinstance(d, Deployment) else None
        if note and any(isinstance(r, ReplicaSet) for r in state.store.list("replicasets.apps")):
            return f"Deployment default/web is annotated {note}", ("Deployment default/web",)
    return None


def _prop() -> Property:
    return as_property("no-annotated-rollouts", f"no {MARKUP} here", "test", "safety", _annotated)


def _markup_file(tmp_path: Path) -> Path:
    shutil.copytree(VARIANTS / "web", tmp_path / "web")
    shutil.copy(VARIANTS / "web.yaml", tmp_path / "web.yaml")
    app = tmp_path / "web" / "app.yaml"
    app.write_text(app.read_text().replace("  namespace: default\nspec:\n  replicas: 2",
                                           f"  namespace: default\n  annotations:\n    note: \"{MARKUP}\"\n"
                                           "spec:\n  replicas: 2", 1))
    model = build_model(load_scenario(tmp_path / "web.yaml"), variant="rs-no-expectations")
    prop = _prop()
    trace: tuple[Action, ...] = (Reconcile("deployment", "default/web"),)
    assert prop(model, initial_state(model)) is None
    return write(record(model, trace, prop=prop), tmp_path / "out")


def test_html_escapes_markup(tmp_path: Path) -> None:
    path = _markup_file(tmp_path)
    page = render_html([replay(path, properties=[_prop()])])
    assert MARKUP not in page
    assert html.escape(MARKUP) in page
    assert page.count("<script") == 2  # ours: the JSON data and the code
    assert "</script><script>" not in page.split('id="kp-data">', 1)[1].split("</script>", 1)[0]


def test_script_json_cannot_close_its_element() -> None:
    text = script_json({"x": "</script><!-- & \u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"x": "</script><!-- & \u2028"}


@pytest.mark.skipif(shutil.which("chromium") is None, reason="no chromium browser on this machine")
def test_page_renders_in_headless_chromium(rs_file: Path, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    assert main(["replay", str(rs_file), "--html", str(page)]) == 1
    profile = tmp_path / "profile"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--dump-dom", page.as_uri()]
    done = subprocess.run(["chromium", *flags], capture_output=True, text=True, timeout=90, check=False)
    dom = done.stdout
    assert 'data-kp-ready="1"' in dom, done.stderr[-2000:]  # the script ran
    assert 'class="kp-timeline"' in dom and "controller replicaset" in dom
    assert 'class="kp-step kp-violation kp-selected"' in dom
    assert "State after step 5: Reconcile(controller=replicaset" in dom
    assert 'class="kp-chart"' in dom and 'data-metric="workqueue-depth"' in dom  # the SVG charts parsed


def test_overload_and_restore_actions_are_in_the_faults_lane() -> None:
    assert {lane_of(a) for a in (StartOverload(), EndOverload(), Starve("scheduler"), SnapshotEtcd(),
                                 RestoreEtcd())} == {"faults"}


def test_a_flood_reads_as_a_fault_with_its_clients_and_starved_flows(tmp_path: Path) -> None:
    model = build_model(load_scenario(VARIANTS / "overload-max-inflight.yaml"))
    trace = (*settle(model, initial_state(model)).trace, StartOverload(), Starve("heartbeats/worker-1"))
    path = write(record(model, trace, prop=SYSTEM_FLOWS_NOT_STARVED), tmp_path)
    text = render_text(replay(path, properties=[SYSTEM_FLOWS_NOT_STARVED]))
    assert "[faults] StartOverload()" in text and "[faults] Starve(client=heartbeats/worker-1)" in text
    # the settled run ends at 20 s: the readiness probe's NotReady timer (failureThreshold 3, 10 s apart)
    assert "overload: (none) → flood by system:serviceaccount:default:batch since 20 s" in text
    assert "; starved: heartbeats/worker-1" in text


def test_an_etcd_backup_reads_as_one_line(tmp_path: Path) -> None:
    model = build_model(load_scenario(VARIANTS / "restore.yaml"))
    settled = settle(model, initial_state(model))
    prop = as_property("no-backup", "no etcd backup", "test", "safety",
                       lambda m, s: ("backed up", ()) if s.etcd_backup is not None else None)
    path = write(record(model, (*settled.trace, SnapshotEtcd()), prop=prop), tmp_path)
    text = render_text(replay(path, properties=[prop]))
    revision = settled.state.store.revision
    assert "[faults] SnapshotEtcd()" in text and f"etcd_backup: (none) → snapshot at revision {revision} (" in text


def test_a_failed_maintenance_drain_reads_as_kubectls_message_until_it_ends(tmp_path: Path) -> None:
    model = build_model(load_scenario(MAINTENANCE / "maint-bare.yaml"))
    settled = settle(model, initial_state(model))
    prop = as_property("maintenance-not-ended", "a maintenance that started does not end", "test", "safety",
                       lambda m, s: None if s.faults.allows(m.budget, "maintenance") or maintenance_state(s).failed
                       else ("ended", ()))
    trace = (*settled.trace, StartMaintenance("worker-1"), EndMaintenance("worker-1"))
    path = write(record(model, trace, prop=prop), tmp_path)
    text = render_text(replay(path, properties=[prop]))
    assert "[faults] StartMaintenance(drained=worker-1)" in text and "[faults] EndMaintenance(node=worker-1)" in text
    assert ('maintenance[worker-1]: (none) → unable to drain node "worker-1" due to error: cannot delete Pods that '
            "declare no controller (use --force to override): default/bare") in text
    assert 'maintenance[worker-1]: unable to drain node "worker-1"' in text
    assert "spec.unschedulable: true → (none)" in text
