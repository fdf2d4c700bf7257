"""The lasso search: oscillations after Quiesce found as fair cycles on cycle keys."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from kubeprop.counterexamples import check, load, render_text, replay
from kubeprop.counterexamples.replay import Verdict
from kubeprop.model.api.objects import ObjectKey
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.cyclekey import Abstraction
from kubeprop.properties.explore.lasso import find_lasso
from kubeprop.properties.oscillation import select_cycle

USER_MODULES = ("queueing_rules", "syncers")
"""The test scenarios' own modules: replay imports a module a file names only when allowed."""

HPA = Path(__file__).parents[2] / "model" / "data" / "hpa"


@pytest.fixture
def rules_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The queueing scenario's environment rule is imported from its folder (as PYTHONPATH would)."""
    monkeypatch.syspath_prepend(str(HPA))


def test_keys_ignore_names_counters_and_the_clock_but_not_the_spec() -> None:
    model = build_model(load_scenario(HPA / "linear.yaml"))
    start = initial_state(model)
    abstraction = Abstraction.of(model, start)
    run = settle(model, start, max_steps=3000, max_ticks=120)
    states = [start]
    for act in run.trace:
        states.append(step(model, states[-1], act))
    seen: dict[bytes, int] = {}
    repeat = None
    for i, state in enumerate(states):
        key = abstraction.key(state)
        if key in seen:
            repeat = (seen[key], i)
            break
        seen[key] = i
    assert repeat is not None, "a settled cluster with a periodic HPA sync repeats its key"
    earlier, later = states[repeat[0]], states[repeat[1]]
    assert later.clock > earlier.clock and earlier != later
    settled = later
    deployment = settled.store.get(ObjectKey("deployments.apps", "default", "web"))
    changed = attrs.evolve(deployment, spec=attrs.evolve(deployment.spec, replicas=5))  # type: ignore[arg-type]
    store, _, _ = settled.store.put(changed, "MODIFIED")
    assert abstraction.key(attrs.evolve(settled, store=store)) != abstraction.key(settled)


def test_shared_linear_load_settles_no_lasso() -> None:
    """The HPA is stable under load shared linearly by the replicas: the fair run from the
    quiesced initial state settles into a harmless cycle (periodic syncs without writes)."""
    model = build_model(load_scenario(HPA / "linear.yaml"))
    report = find_lasso(model, initial_state(model), select_cycle(), Bounds(max_depth=1))
    assert report.lasso is None and report.exit_reason in ("depth-bound", "exhausted")
    assert report.stats.seeds == 1


def test_the_steps_count_every_action_the_stems_took() -> None:
    """The user trial: the lasso engine reported "0 steps" (every row "not checked (no step)")
    after settling the cluster and exploring its choices, counting only the fair runs' steps."""
    model = build_model(load_scenario(HPA / "linear.yaml"))
    start = initial_state(model)
    settled = settle(model, start, max_steps=2000, max_ticks=30)
    report = find_lasso(model, start, select_cycle(), Bounds(max_depth=1))
    assert settled.trace and report.stats.steps >= len(settled.trace)
    nothing = find_lasso(model, start, select_cycle(), Bounds(budget_seconds=0.0))
    assert (nothing.stats.steps, nothing.stats.seeds) == (0, 0)  # a budget spent before it began


def test_hpa_oscillation_is_a_confirmed_lasso(rules_on_path: None) -> None:
    model = build_model(load_scenario(HPA / "queueing.yaml"))
    start = initial_state(model)
    report = find_lasso(model, start, select_cycle(), Bounds(max_depth=1))
    assert report.lasso is not None and report.violation is not None
    assert report.violation.property == "replicas-stable"
    assert "2 → 3 → 2" in report.violation.message
    states = [start]
    for act in report.trace:
        states.append(step(model, states[-1], act))
    abstraction = Abstraction.of(model, start)
    stem = len(report.lasso.stem)
    assert abstraction.key(states[stem]) == abstraction.key(states[-1])
    assert states[-1].clock - states[stem].clock == 340  # the 300-s window plus the syncs around it


def test_lasso_file_replays_and_shows_where_the_cycle_closes(rules_on_path: None, tmp_path: Path) -> None:
    report = check(HPA / "queueing.yaml", engine="lasso", budget=60, save_to=tmp_path)
    assert report.path is not None and report.counterexample is not None
    data = json.loads(report.path.read_text())
    assert data["schema"] == 2 and data["lasso"]["cycleStart"] == report.counterexample.cycle_start
    assert data["property"]["kind"] == "liveness" and data["violation"]["step"] == len(data["trace"])
    result = replay(report.path, allow_imports=USER_MODULES)
    assert result.verdict == Verdict.REPRODUCES
    assert result.closure is not None and result.closure.closes and result.closure.repeats
    text = render_text(result)
    assert "⟲ cycle starts" in text and "⟲ cycle closes" in text and "repeat forever" in text


def test_a_lasso_that_does_not_close_is_stale(rules_on_path: None, tmp_path: Path) -> None:
    """A cycle cut short no longer closes: its cycle property is not judged, so replay cannot say the
    oscillation is gone — STALE naming lasso.cycleStart, never PASSES (audit20b F2)."""
    report = check(HPA / "queueing.yaml", engine="lasso", budget=60, save_to=tmp_path)
    assert report.counterexample is not None
    ce = report.counterexample
    cut = attrs.evolve(ce, actions=ce.actions[:-1], fingerprints=ce.fingerprints[:-1],
                       violation=attrs.evolve(ce.violation, step=len(ce.actions) - 1))
    result = replay(cut, allow_imports=USER_MODULES)
    assert result.verdict == Verdict.STALE and result.closure is not None and not result.closure.closes
    assert result.reason.startswith("lasso.cycleStart: the cycle") and "was not judged" in result.reason
    assert "holds" not in result.reason
    assert ce.cycle_start is not None
    moved = attrs.evolve(ce, cycle_start=ce.cycle_start + 45, expectation="passes")  # audit20b L1
    result = replay(moved, allow_imports=USER_MODULES)
    assert result.verdict == Verdict.STALE and result.meets_expectation is False
    assert result.reason.startswith(f"lasso.cycleStart: the cycle (steps {ce.cycle_start + 46}–{len(ce.actions)}) "
                                    "does not close"), result.reason
    assert "although every state has its recorded fingerprint" in result.reason
    last = attrs.evolve(cut, fingerprints=(*cut.fingerprints[:-1], "0" * 16))  # the last state "changed"
    result = replay(last, allow_imports=USER_MODULES)
    assert result.verdict == Verdict.STALE and "trace shows no cycle any more" in result.reason, result.reason
    assert f"in trace[{len(cut.actions) - 1}].fingerprint" in result.reason


def test_version_1_files_are_read_and_bad_lassos_named(tmp_path: Path) -> None:
    corpus = Path(__file__).parents[3] / "counterexamples" / "corpus"
    first = sorted(corpus.glob("*.json"))[0]
    assert json.loads(first.read_text())["schema"] == 1
    assert load(first).cycle_start is None
    data = json.loads(first.read_text())
    data["lasso"] = {"cycleStart": 0}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(Exception, match="lasso: lassos need schema version 2"):
        load(bad)


@pytest.mark.slow
def test_exhaustive_strategy_finds_the_hpa_oscillation(rules_on_path: None) -> None:
    model = build_model(load_scenario(HPA / "queueing.yaml"))
    report = find_lasso(model, initial_state(model), select_cycle(), Bounds(max_depth=1), strategy="exhaustive")
    assert report.violation is not None and report.violation.property == "replicas-stable"


MAINTENANCE = Path(__file__).parents[2] / "model" / "data" / "maintenance"


def test_drain_blocked_by_a_budget_is_a_lasso(tmp_path: Path) -> None:
    report = check(MAINTENANCE / "blocked.yaml", engine="lasso", budget=60, save_to=tmp_path)
    assert report.violation is not None and report.violation.property == "drains-complete"
    assert report.counterexample is not None and report.path is not None
    ce = report.counterexample
    assert ce.cycle_start is not None and len(ce.actions) - ce.cycle_start == 2  # evict (429), tick
    result = replay(report.path, allow_imports=USER_MODULES)
    assert result.verdict == Verdict.REPRODUCES and result.closure is not None and result.closure.repeats


def test_drain_that_a_budget_allows_has_no_lasso() -> None:
    model = build_model(load_scenario(MAINTENANCE / "drained.yaml"))
    report = find_lasso(model, initial_state(model), select_cycle(), Bounds(budget_seconds=60))
    assert report.lasso is None and report.exit_reason == "exhausted"


DESCHEDULER = Path(__file__).parents[2] / "model" / "data" / "descheduler"


def test_descheduler_eviction_loop_is_a_lasso(tmp_path: Path) -> None:
    report = check(DESCHEDULER / "duplicates.yaml", engine="lasso", budget=60, save_to=tmp_path)
    assert report.violation is not None and report.violation.property == "no-eviction-loop"
    assert "scheduled back onto worker-1" in report.violation.message
    assert report.path is not None and replay(report.path, allow_imports=USER_MODULES).verdict == Verdict.REPRODUCES


def test_node_fit_breaks_the_eviction_loop() -> None:
    model = build_model(load_scenario(DESCHEDULER / "duplicates-nodefit.yaml"))
    report = find_lasso(model, initial_state(model), select_cycle(), Bounds(max_depth=1))
    assert report.lasso is None


LIVELOCK = Path(__file__).parents[2] / "model" / "data" / "livelock"


def test_a_settles_livelock_is_recorded_as_a_lasso(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Before issue 16 a livelock of the convergence check was "not recorded"; now the fair
    continuation runs until its cycle closes and the file is a lasso of what oscillates."""
    from kubeprop.properties.explore.engine import EngineConfig

    monkeypatch.syspath_prepend(str(LIVELOCK))
    report = check(LIVELOCK / "fighting.yaml", engine="bfs", bounds=Bounds(max_depth=1, budget_seconds=60),
                   config=EngineConfig(settle_steps=300), save_to=tmp_path)
    assert report.violation is not None and report.violation.property == "settles"
    assert report.counterexample is not None and report.counterexample.cycle_start is not None
    assert report.counterexample.property.name == "replicas-stable" and not report.note
    assert report.path is not None and replay(report.path, allow_imports=USER_MODULES).verdict == Verdict.REPRODUCES


def test_html_rendering_marks_the_cycle(tmp_path: Path) -> None:
    from kubeprop.counterexamples import render_html

    report = check(MAINTENANCE / "blocked.yaml", engine="lasso", budget=60, save_to=tmp_path)
    assert report.path is not None
    page = render_html([replay(report.path, allow_imports=USER_MODULES)])
    assert "⟲ cycle starts" in page and "⟲ cycle closes" in page and "repeat forever" in page


def test_json_replay_reports_the_closure(tmp_path: Path) -> None:
    from kubeprop.counterexamples.steps import result_json

    report = check(MAINTENANCE / "blocked.yaml", engine="lasso", budget=60, save_to=tmp_path)
    assert report.path is not None
    data = result_json(replay(report.path, allow_imports=USER_MODULES))
    assert data["lasso"]["closes"] and data["lasso"]["repeats"] and data["lasso"]["seconds"] == 10
