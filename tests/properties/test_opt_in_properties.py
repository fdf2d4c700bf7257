"""The overload and restore properties are opt-in built-ins: usable by name (`kubeprop check
--property NAME`), left out of the default set (docs/properties.md)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from kubeprop.properties.cli.main import main
from kubeprop.properties.registry import UnknownName, select

OPT_IN = ("system-flows-not-starved", "no-eviction-for-throttled-heartbeats", "no-orphan-pods-running",
          "restore-no-forgotten-owner-writes")
DATA = Path(__file__).parents[1] / "model" / "data" / "variants"


def test_opt_in_properties_are_selected_by_name_only() -> None:
    assert tuple(p.name for p in select(list(OPT_IN))) == OPT_IN
    assert not {p.name for p in select()} & set(OPT_IN)
    with pytest.raises(UnknownName, match="no-orphan-pods-running"):
        select(["no-such-property"])


def test_opt_in_properties_pickle_by_reference() -> None:
    chosen = select(list(OPT_IN))
    assert {p.source for p in chosen} == {"kubeprop.properties.overload", "kubeprop.properties.restore"}
    assert tuple(p.name for p in pickle.loads(pickle.dumps(chosen))) == OPT_IN


def test_check_by_name_finds_a_starved_system_flow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(DATA / "overload-max-inflight.yaml"), "--engine", "bfs", "--max-depth", "2",
                 "--property", "system-flows-not-starved", "--out", str(tmp_path)])
    assert code == 1
    assert "system-flows-not-starved" in capsys.readouterr().out
    assert list(tmp_path.glob("system-flows-not-starved-*.json"))


def test_a_scenario_enabling_the_fault_checks_its_properties_by_default() -> None:
    from kubeprop.model.scenario.load import load_scenario
    from kubeprop.properties.modules import checked_properties

    def names(scenario: str) -> set[str]:
        return {p.name for p in checked_properties(load_scenario(DATA / scenario))}

    assert set(OPT_IN[:2]) <= names("overload.yaml") and not set(OPT_IN[2:]) & names("overload.yaml")
    assert set(OPT_IN[2:]) <= names("restore.yaml") and not set(OPT_IN[:2]) & names("restore.yaml")
    assert not set(OPT_IN) & names("web.yaml")
    assert {p.name for p in checked_properties(load_scenario(DATA / "restore.yaml"), ["no-orphan-pods-running"])} \
        == {"no-orphan-pods-running"}
