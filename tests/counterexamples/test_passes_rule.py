"""Edited corpus files must not make the gate pass (audit20b F1, F2).

F1: from the corpus's dual-scheduler file (node-not-overcommitted, the bug present), A — the trace
cut one step before the violation — and B — the property swapped to one that holds, with its real
statement — both expecting `passes`, read PASSES, and a gate on them passed. A `passes` file keeps
a fixed bug as a regression; replayed under a catalogued bug it cannot show the bug fixed, so it
is refused as bad input naming `model.variant` (or `model.parameters`, where the bug's parameters
are set under variant correct). C — the variant set to correct — was and stays STALE.

F2: a lasso whose cycle does not close although every state keeps its recorded fingerprint read
PASSES ("replicas-stable now holds"): the cycle property was never judged. It is STALE naming
`lasso.cycleStart` (tests/properties/explore/test_lasso.py replays the HPA lasso so edited).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from corpus_source import rehashed

from kubeprop.counterexamples.format_records import CounterexampleError
from kubeprop.counterexamples.replay import Verdict, bug_variants_in, passes_problems, replay
from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.model.scenario.variants import VARIANTS, mechanism, variant_parameters
from kubeprop.properties.cli.gate_replay import corpus_case
from kubeprop.properties.cli.main import main
from kubeprop.properties.registry import select

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "counterexamples" / "corpus"
[DUAL] = sorted(CORPUS.glob("node-not-overcommitted-*.json"))
"""The corpus's dual-scheduler file: node-not-overcommitted fails at its step 8."""
VARIANT_REFUSED = "model.variant: dual-scheduler is a bug variant (kubernetes#136782"
PARAMETERS_REFUSED = ("model.parameters: the model it replays under (the file's model.parameters over its scenario's "
                      "parameters:) sets leaderElection=false, schedulerInstances=2 (bug variant dual-scheduler")


def _forged(tmp_path: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = json.loads(DUAL.read_text())
    assert data["model"]["variant"] == "dual-scheduler" and data["expectation"] == "reproduces"
    edit(data)
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=1))
    return path


def _truncated(data: dict[str, Any]) -> None:  # A
    data["trace"] = data["trace"][:-1]
    data["violation"]["step"] = len(data["trace"])
    data["expectation"] = "passes"


def _swapped(data: dict[str, Any]) -> None:  # B
    [prop] = select(["persisted-objects-valid"])
    data["property"].update(name=prop.name, statement=prop.statement, upstream=prop.upstream, kind=prop.kind)
    data["expectation"] = "passes"


def _renamed(data: dict[str, Any]) -> None:  # C
    data["model"]["variant"] = "correct"
    data["expectation"] = "passes"


def _bug_parameters(data: dict[str, Any]) -> None:  # A under variant correct, the bug's parameters in the file
    _truncated(data)
    data["model"] = {"variant": "correct", "parameters": dict(variant_parameters("dual-scheduler"))}


@pytest.mark.parametrize("edit", [_truncated, _swapped], ids=["A-truncated", "B-property-swapped"])
def test_a_passes_file_under_a_bug_variant_is_refused_naming_model_variant(
        edit: Callable[[dict[str, Any]], None], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _forged(tmp_path, "forged.json", edit)
    with pytest.raises(CounterexampleError, match=r"model\.variant: dual-scheduler is a bug variant"):
        replay(path)
    assert main(["replay", "--expect", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {VARIANT_REFUSED}" in err, err
    assert "with expectation passes the trace must replay under a model without a catalogued bug: variant correct" \
           in err
    assert main(["replay", str(path)]) == 2  # the file contradicts itself, --expect or not
    case = corpus_case(path, ())
    assert case.status == "error" and VARIANT_REFUSED in case.message, case.message
    unclaimed = _forged(tmp_path, "unclaimed.json", lambda d: (edit(d), d.pop("expectation")))
    assert replay(unclaimed).verdict == Verdict.PASSES  # what the rule stops: the edit alone reads PASSES


def test_the_variant_renamed_to_correct_stays_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _forged(tmp_path, "renamed.json", _renamed)
    result = replay(path)
    assert result.verdict == Verdict.STALE and "is no longer enabled" in result.reason
    assert main(["replay", "--expect", str(path)]) == 1
    assert corpus_case(path, ()).status == "failed"
    capsys.readouterr()


def test_the_bugs_parameters_under_variant_correct_are_refused_naming_model_parameters(tmp_path: Path) -> None:
    path = _forged(tmp_path, "parameters.json", _bug_parameters)
    with pytest.raises(CounterexampleError, match=r"model\.parameters") as caught:
        replay(path)
    assert PARAMETERS_REFUSED in str(caught.value)
    unclaimed = _forged(tmp_path, "unclaimed.json", lambda d: (_bug_parameters(d), d.pop("expectation")))
    assert replay(unclaimed).verdict == Verdict.PASSES  # the same model as the variant's: the edit alone passes


def test_the_bugs_parameters_in_the_inline_scenario_are_refused_too(tmp_path: Path) -> None:
    """The check is on the model built, not the file's records: parameters the inline scenario sets
    (its content hash recomputed, as anyone can) count as the file's own do."""
    def edit(data: dict[str, Any]) -> None:
        _truncated(data)
        data["model"]["variant"] = "correct"
        entry = next(f for f in data["scenario"]["files"] if f["path"] == data["scenario"]["entry"])
        assert "\nparameters:" not in entry["text"]
        entry["text"] += "parameters: {leaderElection: false, schedulerInstances: 2, instantCaches: false}\n"
    path = rehashed(_forged(tmp_path, "scenario.json", edit))
    with pytest.raises(CounterexampleError, match=r"model\.parameters") as caught:
        replay(path)
    assert PARAMETERS_REFUSED in str(caught.value)


def test_the_corpus_passes_file_and_every_correct_model_are_not_refused() -> None:
    [fixed] = [p for p in CORPUS.glob("*.json") if json.loads(p.read_text()).get("expectation") == "passes"]
    assert replay(fixed).verdict == Verdict.PASSES
    assert bug_variants_in(PARAMETERS) == []  # the defaults hold no bug
    web = build_model(load_scenario(REPO / "tests" / "model" / "data" / "variants" / "web.yaml"))
    assert bug_variants_in(web.parameters) == []


@pytest.mark.parametrize("name", [v for v in VARIANTS if v != "correct"])
def test_each_bug_variants_model_holds_its_own_bug(name: str) -> None:
    """Every catalogued bug has a mechanism (else a passes file could hide under it) and a model
    built with the variant holds it."""
    assert mechanism(name), name
    assert name in bug_variants_in({**PARAMETERS, **variant_parameters(name)})


def test_a_file_expecting_reproduces_or_nothing_is_never_refused() -> None:
    data = json.loads(DUAL.read_text())
    from kubeprop.counterexamples.format_read import from_data

    for expectation in ("reproduces", None):
        if expectation is None:
            data.pop("expectation")
        else:
            data["expectation"] = expectation
        assert passes_problems(from_data(data), "f.json") == []
