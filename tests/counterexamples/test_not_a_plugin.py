"""A counterexample file naming a module that cannot be a property or plug-in module (trial 10,
s3/hostile/prop-module-os.json: `property.module: os`) is never answered with `--allow-import os`:
the reproduce line leaves it out and says why (in the text and in the HTML page), and a refusal
says why instead of suggesting it.
The property's module is not suggested either when the property is found by its name (a
built-in), since the replay imports nothing for it."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from corpus_source import SOURCE, edited, rehashed, with_admission

from kubeprop.counterexamples.reproduce import not_a_plugin, reproduce_command
from kubeprop.properties.cli.main import main


def _with_module(module: str, name: str | None = None) -> object:
    def edit(data: dict[str, object]) -> None:
        prop = data["property"]
        assert isinstance(prop, dict)
        prop["module"] = module
        if name is not None:
            prop["name"] = name
    return edit


@pytest.mark.parametrize(("module", "why"), [
    ("os", "a module of Python's standard library"),
    ("os.path", "a module of Python's standard library"),
    ("sitecustomize", "a module of Python's standard library"),
    ("kubeprop.model.errors", "a module of kubeprop itself"),
    ("yaml", "a module of a library kubeprop depends on"),
    ("hypothesis.strategies", "a module of a library kubeprop depends on"),
    ("team_checks", ""),
    ("kubeprop.properties.invariants", ""),
])
def test_which_modules_cannot_be_property_or_plug_in_modules(module: str, why: str) -> None:
    assert not_a_plugin(module).startswith(why) and bool(not_a_plugin(module)) == bool(why)


def test_a_built_in_property_recorded_with_module_os_gets_no_allow_import(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = edited(tmp_path, _with_module("os"))  # type: ignore[arg-type]
    assert main(["replay", str(path)]) == 3  # STALE: the module recorded is not the property's
    out = capsys.readouterr().out
    assert f"reproduce with: kubeprop replay {path}\n" in out and "--allow-import" not in out  # trial 10: os


def test_an_unregistered_property_of_module_os_is_refused_saying_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = edited(tmp_path, _with_module("os", "team-rule"))  # type: ignore[arg-type]
    assert main(["replay", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"kubeprop replay: bad input:\n{path}: imports: refusing to import module named in a file under "
                   "review: 'os' (property.module); 'os' is a module of Python's standard library, not a property or "
                   "plug-in module: allowing it is not suggested (the file was edited, or is not what it claims)\n")


def test_a_plug_in_of_the_standard_library_is_left_out_of_the_command_and_said_why(tmp_path: Path) -> None:
    path = edited(tmp_path, with_admission("json:loads"))
    edited_data = json.loads(path.read_text())
    assert "json:loads" in json.dumps(edited_data)
    assert reproduce_command(path) == f"kubeprop replay {path}"
    path = edited(tmp_path, with_admission("team_admission:PLUGIN"), "team.json")
    assert reproduce_command(path) == f"kubeprop replay --allow-import team_admission {path}"


def test_the_source_names_no_module() -> None:
    assert reproduce_command(SOURCE) == f"kubeprop replay {SOURCE}"


def test_the_html_page_says_why_a_module_is_left_out_of_the_command(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file whose scenario names an admission plug-in of kubeprop itself, replayed with it
    allowed: the reproduce line leaves the module out, and the HTML page says why as the text does
    (it said nothing, the `--allow-import` the reader would look for simply missing)."""
    module = "kubeprop.model.api.admission"
    path = rehashed(edited(tmp_path, with_admission(f"{module}:NAMESPACE_LIFECYCLE")), [module])
    page = tmp_path / "replay.html"
    assert main(["replay", str(path), "--allow-import", module, "--html", str(page)]) == 1
    out = capsys.readouterr().out
    why = (f"not allowed in that command: '{module}' (web.yaml:23: admission[0]), a module of kubeprop itself, "
           "where no property or plug-in of a scenario lives, is not a property or plug-in module (the file names "
           "it: it was edited, or is not what it claims)")
    assert f"reproduce with: kubeprop replay {path}\n{why}\n" in out
    assert f'<code>kubeprop replay {html.escape(str(path))}</code></p><p class="kp-left-out">{html.escape(why)}</p>' \
        in page.read_text()
