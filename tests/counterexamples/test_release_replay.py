"""Trial 17: a counterexample recorded under a v1.31 scenario (its parameters inline in the file's
scenario) says which parameters it replays under, and a STALE caused by another scenario says what
differs — parameters old → new, objects, workload steps — not only two content hashes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import attrs
import pytest
from catalogue_searches import rs_search

from kubeprop.counterexamples.format import write
from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.counterexamples.scenario_diff import MAX_ITEMS, difference_words, digest, in_force
from kubeprop.counterexamples.trace import record
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[2]
VARIANTS = REPO / "tests" / "model" / "data" / "variants"
V131 = ("parameters:\n  nodeMonitorGracePeriodSeconds: 40\n  schedulerAsyncPreemption: false\n"
        "  schedulerTaintReasonDetail: true\n")


def _scenario(folder: Path, name: str, extra: str = "") -> Path:
    """The `web` scenario (its manifests beside it) with `extra` appended, as `name`."""
    if not (folder / "web").exists():
        shutil.copytree(VARIANTS / "web", folder / "web")
    path = folder / name
    path.write_text((VARIANTS / "web.yaml").read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


@pytest.fixture(name="recorded")
def recorded_fixture(tmp_path: Path) -> Path:
    """An rs-no-expectations counterexample recorded (inline) under web-v131.yaml."""
    model = build_model(load_scenario(_scenario(tmp_path, "web-v131.yaml", V131)), variant="rs-no-expectations")
    report = rs_search(model)
    assert report.violation is not None
    return write(record(model, report.trace, report.violation, engine="bfs"), tmp_path / "corpus")


def test_the_header_names_the_parameters_the_file_replays_under(recorded: Path) -> None:
    result = replay(recorded)
    assert result.verdict == Verdict.REPRODUCES
    header = render_text(result).splitlines()[4]
    assert header == ("replayed under  nodeMonitorGracePeriodSeconds=40, schedulerAsyncPreemption=false, "
                      "schedulerTaintReasonDetail=true (from the file's own scenario, written from "
                      f"{json.loads(recorded.read_text())['scenario']['path']}); the rest at the defaults (v1.33), "
                      "but for variant rs-no-expectations's own")


def test_a_what_if_parameter_is_named_as_given_to_the_replay(recorded: Path) -> None:
    result = replay(recorded, parameters={"nodeMonitorGracePeriodSeconds": 45, "podMaxInUnschedulablePodsSeconds": 60})
    assert render_text(result).splitlines()[4].startswith(
        "replayed under  schedulerAsyncPreemption=false, schedulerTaintReasonDetail=true (from the file's own "
        "scenario, written from ")
    assert "; nodeMonitorGracePeriodSeconds=45, podMaxInUnschedulablePodsSeconds=60 (given to the replay); the rest " \
        "at the defaults (v1.33)" in render_text(result).splitlines()[4]


def test_in_force_leaves_out_the_defaults_and_the_variants_own() -> None:
    model = build_model(load_scenario(VARIANTS / "web.yaml"), variant="rs-no-expectations",
                        parameters={"nodeMonitorGracePeriodSeconds": 40,
                                    "schedulerAsyncPreemption": PARAMETERS["schedulerAsyncPreemption"]})
    assert in_force(model.parameters, model.variant) == {"nodeMonitorGracePeriodSeconds": 40}


def test_a_stale_scenario_names_the_parameters_objects_and_steps_that_differ(recorded: Path) -> None:
    folder = recorded.parent.parent
    v133 = _scenario(folder, "web-v133.yaml")
    text = v133.read_text(encoding="utf-8").replace("image: web:2}\n", "image: web:3}\n"
                                                    "  - scale: {deployment: default/web, replicas: 3}\n")
    v133.write_text(text, encoding="utf-8")
    (folder / "web" / "app.yaml").write_text((folder / "web" / "app.yaml").read_text(encoding="utf-8")
                                             .replace("replicas: 2", "replicas: 3", 1), encoding="utf-8")
    result = replay(recorded, scenario=v133)
    assert result.verdict == Verdict.STALE
    changed = result.reason.split("…): ", 1)[1]
    assert changed.startswith("parameters nodeMonitorGracePeriodSeconds 40 → 50 (default), "
                              "schedulerAsyncPreemption false → true (default), "
                              "schedulerTaintReasonDetail true → false (default); "
                              "objects changed: Deployment default/web (spec.replicas); "
                              "workload: step 2 `kubectl set image deployment/web -n default web=web:2` → "
                              "`kubectl set image deployment/web -n default web=web:3`, step 3 added "
                              "`kubectl scale deployment/web -n default --replicas=3`"), changed
    assert "`; replayed on it all the same: " in changed, changed


def test_the_cli_prints_what_differs(recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    v133 = _scenario(recorded.parent.parent, "web-v133.yaml")
    assert main(["replay", str(recorded), "--scenario", str(v133)]) == 3
    out = capsys.readouterr().out
    assert "recorded " in out and "parameters nodeMonitorGracePeriodSeconds 40 → 50 (default)" in out.splitlines()[-1]


def test_only_comments_changed_says_so(recorded: Path) -> None:
    v131 = recorded.parent.parent / "web-v131.yaml"
    v131.write_text(v131.read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8")
    result = replay(recorded, scenario=v131)
    assert result.verdict == Verdict.STALE
    assert "no parameter, object, workload step or section differs (comments or layout only)" in result.reason


def test_a_path_mode_file_says_what_changed_is_not_known(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "web.yaml", V131)
    model = build_model(load_scenario(path), variant="rs-no-expectations")
    report = rs_search(model)
    assert report.violation is not None
    recorded = write(record(model, report.trace, report.violation, mode="path"), tmp_path / "out")
    path.write_text(path.read_text(encoding="utf-8") + "  orderedNamespaceDeletion: false\n", encoding="utf-8")
    result = replay(recorded)
    assert result.verdict == Verdict.STALE
    assert "records its scenario by path and hash only, so what changed is not known" in result.reason


def test_the_difference_is_bounded(tmp_path: Path) -> None:
    old = digest(load_scenario(_scenario(tmp_path, "a.yaml")))
    bools = sorted(n for n, v in PARAMETERS.items() if isinstance(v, bool))
    new_path = _scenario(tmp_path, "b.yaml", "parameters:\n" + "".join(
        f"  {n}: {str(not PARAMETERS[n]).lower()}\n" for n in bools))
    new_path.write_text(new_path.read_text(encoding="utf-8").replace("manifests: [web]", "manifests: [web, extra]"),
                        encoding="utf-8")
    (tmp_path / "extra").mkdir()
    maps = (f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: default}}\n" for i in range(20))
    (tmp_path / "extra" / "more.yaml").write_text("".join(maps), encoding="utf-8")
    words = difference_words(old, digest(load_scenario(new_path)))
    assert len(bools) > 10 and f"… and {len(bools) - 10} more" in words
    assert "objects added: ConfigMap default/c0, ConfigMap default/c1, ConfigMap default/c10, " in words
    assert f"… and {20 - MAX_ITEMS} more" in words and len(words) < 1500


def test_a_step_inserted_at_the_front_is_one_change_not_every_steps(tmp_path: Path) -> None:
    """trial18: steps were compared by position, so one step inserted first named every step as
    changed. They are aligned; a removed step is numbered as the old scenario had it."""
    base = digest(load_scenario(_scenario(tmp_path, "a.yaml")))
    old = attrs.evolve(base, steps=("kubectl apply a", "kubectl apply b", "kubectl apply c"))
    new = attrs.evolve(base, steps=("kubectl cordon n", "kubectl apply a", "kubectl apply b", "kubectl apply c"))
    assert difference_words(old, new).endswith("workload: step 1 added `kubectl cordon n`")
    gone = attrs.evolve(base, steps=("kubectl apply a", "kubectl apply c"))
    assert difference_words(old, gone).endswith("workload: step 2 removed `kubectl apply b`")
    changed = attrs.evolve(base, steps=("kubectl apply a", "kubectl apply B", "kubectl apply c"))
    assert difference_words(old, changed).endswith("workload: step 2 `kubectl apply b` → `kubectl apply B`")


def test_a_step_no_longer_enabled_on_a_changed_scenario_blames_the_change_first() -> None:
    """Replayed on a scenario the user changed (`--scenario`), a step that is no longer enabled is
    most likely the change's doing: the reason names it first, not "the model changed"."""
    from kubeprop.counterexamples.replay import not_enabled
    from kubeprop.model.state.actions import Tick

    on_changed = not_enabled(53, Tick(seconds=10), [], scenario_changed=True)
    assert on_changed.endswith("no Tick action is (the scenario's change, the model's, or an edit of "
                               "trace[53].action)"), on_changed
    assert not_enabled(53, Tick(seconds=10), []).endswith("(the model changed, or trace[53].action was edited)")
    nearest = not_enabled(53, Tick(seconds=10), [Tick(seconds=5)], scenario_changed=True)
    assert nearest.endswith("differs in trace[53].action.seconds (the scenario's change, the model's, or an edit "
                            "of the file)"), nearest
