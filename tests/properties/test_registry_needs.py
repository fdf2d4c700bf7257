"""A property's `Needs` is checked as the property is made (`registry.as_property`, the decorators),
by `kubeprop check` and by the gate's configuration check (audit 20b, F3-F5), and the boundary where
a property's function is called reports `SystemExit` and a self-raised `OutOfBudget` as the user's
error (F0, F11) while Ctrl-C and kubeprop's own cutoff go through.

Before: `needs=("pods",)` was an AttributeError in `vacuity` (exit 4); a str subclass whose hash
raises, another; `faults=(("nodeCrash",),)` (the scenario's spelling) read as "vacuous: no fault
budget for nodeCrash" on a scenario with `nodeCrash: 1`; `faults=("node_crash",)` as "n or o or d or
e …"; `nodes="yes"` was taken; the gate called a misspelt resource vacuous and PASSED."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_run import kubeprop, run_gate
from user_modules import user_folder

from kubeprop.model.cluster.compose import build_model, initial_state
from kubeprop.model.errors import UserCodeError
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.calls import OutOfBudget, Refused, cut_at
from kubeprop.properties.registry import BadNeeds, Needs, as_property, needs_problems

REPO = Path(__file__).resolve().parents[2]
SHOP = REPO / "tests" / "model" / "data" / "catalogue" / "shop.yaml"  # faults: nodeCrash: 1


class Unhashable(str):
    def __hash__(self) -> int:
        raise RuntimeError("boom")


@pytest.mark.parametrize(("needs", "problem"), [
    (("pods",), "needs must be a Needs value (kubeprop.properties.registry.Needs, e.g. Needs((\"pods\",), "
                "faults=((\"node_crash\", \"partition\"),), nodes=True)), got ('pods',) (tuple); did you mean "
                "needs=Needs(('pods',))?"),
    (Needs((Unhashable("pods"),)), "Needs names resource 'pods' (Unhashable, a subclass of str: give a plain string), "
                                   "not a plain string such as 'jobs.batch'"),
    (Needs(faults=(("nodeCrash",),)), "Needs names fault kind 'nodeCrash', which is not a FaultBudget field; "
                                      "'nodeCrash' is how a scenario's `faults:` spells it: Needs takes the field "
                                      "name 'node_crash'; valid: node_crash, partition,"),
    (Needs(faults=("node_crash",)), "Needs' faults must be a tuple of groups, each a tuple of fault kinds one of "
                                    "which needs a budget (e.g. faults=((\"node_crash\", \"partition\"),)), got "
                                    "('node_crash',) (tuple); did you mean faults=(('node_crash',),)?"),
    (Needs(faults=((),)), "got ((),) (tuple): a group is () (tuple)"),
    (Needs(faults=(("nod_crash",),)), "Needs names fault kind 'nod_crash', which is not a FaultBudget field; did you "
                                      "mean 'node_crash'?"),
    (Needs(nodes="yes"), "Needs' nodes must be True or False, got 'yes' (str)"),
])
def test_a_needs_of_the_wrong_shape_is_refused_as_the_property_is_made(needs: Any, problem: str) -> None:
    [found] = needs_problems("mine", needs)
    assert found.startswith("property mine: ") and problem in found
    with pytest.raises(BadNeeds) as caught:
        as_property("mine", "s", "u", "safety", lambda m, s: None, needs=needs)
    assert problem in str(caught.value) and str(caught.value).startswith("property mine (")


def test_every_problem_at_once_and_valid_needs_pass() -> None:
    assert len(needs_problems("mine", Needs((1,), faults=(("nodeCrash",), ("partition", 2)), nodes=1))) == 4  # type: ignore[arg-type]
    assert needs_problems("mine", Needs(("pods",), (("node_crash", "partition"), ["overload"]), nodes=True)) == []
    assert needs_problems("mine", None) == []


@pytest.fixture
def module_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "mods"
    folder.mkdir()
    with user_folder(monkeypatch, folder):
        yield folder


def _module(folder: Path, name: str, needs: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(f"""\
        from kubeprop.properties.registry import Needs, safety
        @safety("{name}", "holds", "none", needs={needs})
        def check(model, state):
            return None
        """))


@pytest.mark.parametrize(("needs", "expected"), [
    ('Needs(("pods",), faults=(("nodeCrash",),))', "Needs takes the field name 'node_crash'"),
    ('("pods",)', "needs must be a Needs value"),
])
def test_check_refuses_it_as_bad_input(needs: str, expected: str, module_folder: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """On shop.yaml, whose budget has a node crash: before, "vacuous: no fault budget for nodeCrash"."""
    _module(module_folder, "needs_case", needs)
    code, out, err = kubeprop(capsys, "check", str(SHOP), "--engine", "around", "--budget", "5", "--properties",
                              "needs_case", "--progress", "none", "--out", str(tmp_path / "out"))
    assert (code, out) == (2, ""), err
    assert expected in err and "vacuous" not in err


def test_the_gate_refuses_a_misspelt_resource_as_check_does(module_folder: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Before: "WARN … vacuous: no Pods can exist" and the gate PASSED."""
    _module(module_folder, "needs_case", 'Needs(("Pods",))')
    config = tmp_path / "gate.yaml"
    config.write_text(f"checks:\n  - {{scenario: {SHOP}, engine: bfs, budget: 10, maxDepth: 1, "
                      "propertyModules: [needs_case], properties: [needs_case]}\n")
    code, _, _ = run_gate(tmp_path, config)
    err = capsys.readouterr().err
    assert code == 2, err
    assert ("checks[0].propertyModules: property needs_case: Needs names resource 'Pods', which no kind of this "
            "scenario has") in err and "did you mean 'pods'?" in err


def _state() -> tuple[Any, Any]:
    model = build_model(load_scenario(SHOP))
    return model, initial_state(model)


def test_the_boundary_reports_sys_exit_and_a_self_raised_out_of_budget() -> None:
    model, state = _state()
    def exits(m: Any, s: Any) -> None:
        raise SystemExit(0)
    def out_of_budget(m: Any, s: Any) -> None:
        raise OutOfBudget()
    for fn, what in ((exits, "SystemExit: 0"), (out_of_budget, "OutOfBudget")):
        with pytest.raises(UserCodeError, match=f"property 'mine' .* raised {what}\n"):
            as_property("mine", "s", "u", "safety", fn)(model, state)


def test_ctrl_c_and_the_cutoff_go_through() -> None:
    """A KeyboardInterrupt stops the check (exit 130), never a user's error; a property that calls
    another one refused by the cutoff is cut too (the budget's end, not the user's error)."""
    model, state = _state()
    def interrupted(m: Any, s: Any) -> None:
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        as_property("mine", "s", "u", "safety", interrupted)(model, state)
    inner = as_property("inner", "s", "u", "safety", lambda m, s: None)
    def calls_inner_past_the_cutoff(m: Any, s: Any) -> Any:
        with cut_at(0.0):  # (the budget ends while the outer property runs)
            return inner(m, s)
    with pytest.raises(Refused):
        as_property("outer", "s", "u", "safety", calls_inner_past_the_cutoff)(model, state)
