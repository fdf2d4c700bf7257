"""Your own properties by import path (issue 13 item 1): `MODULE`, `MODULE:ATTR` (a Property, a list,
a factory), errors naming the reference (and the scenario's file:line), pickling by reference, and
the selection a check covers."""

from __future__ import annotations

import pickle
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from user_modules import user_folder

from kubeprop.model.scenario.load import ScenarioError, load_scenario
from kubeprop.properties.modules import PropertyModuleError, checked_properties, load_properties
from kubeprop.properties.registry import Property

MODULE = '''
from kubeprop.properties.registry import as_property, safety
from kubeprop.properties.invariants import node_not_overcommitted  # imported, not defined here

@safety("{p}-decorated", "s", "u")
def decorated(model, state):
    return None

VALUE = as_property("{p}-value", "s", "u", "safety", lambda model, state: None)
LIST = [as_property("{p}-a", "s", "u", "safety", lambda m, s: None),
        as_property("{p}-b", "s", "u", "convergence", lambda m, s: None)]

def factory():
    return VALUE

NOT_A_PROPERTY = 42
'''


@pytest.fixture(name="module")
def module_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh module of properties on the import path (unique name); the registry is restored after."""
    name = f"team_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(MODULE.format(p=name))
    with user_folder(monkeypatch, tmp_path):
        yield name


def test_module_alone_gives_every_property_it_defines(module: str) -> None:
    names = [p.name for p in load_properties(module)]
    assert names == [f"{module}-decorated", f"{module}-value", f"{module}-a", f"{module}-b"]
    assert "node-not-overcommitted" not in names  # imported from the built-ins, not defined there


@pytest.mark.parametrize(("attr", "expected"), [("VALUE", ["value"]), ("LIST", ["a", "b"]), ("factory", ["value"]),
                                                ("decorated", ["decorated"])])
def test_module_attribute_names_a_property_a_list_or_a_factory(module: str, attr: str, expected: list[str]) -> None:
    assert [p.name for p in load_properties(f"{module}:{attr}")] == [f"{module}-{e}" for e in expected]


@pytest.mark.parametrize(("ref", "message"), [
    ("no_such_module_xyz", "cannot import 'no_such_module_xyz'"),
    ("{m}:MISSING", "has no attribute 'MISSING'"),
    ("{m}:NOT_A_PROPERTY", "is not a Property"),
    ("not a ref", "is not MODULE or MODULE:ATTRIBUTE"),
    ("json", "module 'json' defines no properties"),
])
def test_bad_references_name_the_reference(module: str, ref: str, message: str) -> None:
    with pytest.raises(PropertyModuleError, match=message):
        load_properties(ref.format(m=module))


def test_user_properties_pickle_by_reference(module: str) -> None:
    # A property built by as_property closes over a lambda: it cannot pickle by value. Loaded from
    # a module it pickles by reference, so walk worker processes can check it.
    for prop in load_properties(module):
        copy = pickle.loads(pickle.dumps(prop))
        assert copy == prop and copy.source == prop.source and copy.kind == prop.kind


def test_scenario_properties_field_and_file_line_errors(module: str, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmanifests: []\n"
                        f"properties:\n  - {module}:VALUE\n  - {module}:MISSING\n")
    loaded = load_scenario(scenario)
    assert loaded.spec.properties == (f"{module}:VALUE", f"{module}:MISSING")
    with pytest.raises(ScenarioError) as err:
        checked_properties(loaded)
    assert f"{scenario}:6: properties[1]: cannot import '{module}:MISSING'" in str(err.value)


def test_a_malformed_scenario_reference_is_a_load_error(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nproperties: ['a b']\n")
    with pytest.raises(ScenarioError, match=r"scenario.yaml:3: properties\[0\]: 'a b' is not MODULE"):
        load_scenario(scenario)


def test_checked_properties_are_builtins_plus_the_scenarios_and_the_flags(module: str, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(f"apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nproperties: ['{module}:VALUE']\n")
    loaded = load_scenario(scenario)
    every = checked_properties(loaded, modules=[f"{module}:LIST"])
    names = [p.name for p in every]
    assert {"node-not-overcommitted", f"{module}-value", f"{module}-a", f"{module}-b"} <= set(names)
    assert len(names) == len(set(names))
    only = checked_properties(loaded, [f"{module}-a", "node-not-overcommitted"], [f"{module}:LIST"])
    assert [p.name for p in only] == [f"{module}-a", "node-not-overcommitted"]
    assert all(isinstance(p, Property) for p in only)


def test_check_finds_a_scenario_property_by_name(module: str, tmp_path: Path) -> None:
    from kubeprop.counterexamples import check

    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("apiVersion: kubeprop.dev/v1alpha1\nkind: Scenario\nmanifests: []\n"
                        f"properties: ['{module}:LIST']\n")
    report = check(scenario, [f"{module}-a"], engine="bfs", budget=10)
    assert [p.name for p in report.properties] == [f"{module}-a"]
    everything = check(scenario, engine="bfs", budget=10)
    assert {f"{module}-a", f"{module}-b", "node-not-overcommitted"} <= {p.name for p in everything.properties}
