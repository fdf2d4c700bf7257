"""The adversarial audit of issue 15's follow-up: a counterexample file under review reads no file
of the machine it was not packed with, a counterexample folder's planted links and files are never
written through, and JSON a reviewer would read differently from kubeprop is refused."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from corpus_source import SOURCE, edited

from kubeprop.counterexamples.format import write
from kubeprop.counterexamples.format_read import load, parse
from kubeprop.counterexamples.format_records import CounterexampleError
from kubeprop.counterexamples.output import OutputError
from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.properties.cli.main import main

SECRET = "https://user:ghp_not-for-your-eyes@github.com"


def _entry_text(replace: tuple[str, str]) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        entry = next(f for f in data["scenario"]["files"] if f["path"] == data["scenario"]["entry"])
        assert replace[0] in entry["text"]
        entry["text"] = entry["text"].replace(*replace, 1)
    return edit


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "private" / "credentials"
    path.parent.mkdir()
    path.write_text(SECRET + "\n")
    return path


def _problems(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(CounterexampleError) as info:
        replay(path)
    return [(p.field, p.message) for p in info.value.problems]


@pytest.mark.parametrize("how", ["absolute", "dotdot", "apply"])
def test_an_inline_scenario_reads_only_its_own_files(tmp_path: Path, secret: Path, how: str) -> None:
    reference = {"absolute": str(secret), "dotdot": "../" * 12 + str(secret).lstrip("/"), "apply": str(secret)}[how]
    edit = (_entry_text(("workload:\n", f"workload:\n  - apply: {reference}\n")) if how == "apply"
            else _entry_text(("manifests: [web]", f"manifests: [web, '{reference}']")))
    found = _problems(edited(tmp_path, edit))
    assert all(SECRET not in message for _, message in found), found
    [(field, message)] = found
    assert field == "scenario"
    where = "workload[0].apply" if how == "apply" else "manifests[1]"
    assert f"{where}: {reference!r} is outside the inline scenario: a scenario packed in a counterexample file " \
           "reads only the files packed with it" in message


def test_a_path_mode_scenario_never_shows_what_it_read(tmp_path: Path, secret: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["scenario"] = {"name": "x", "mode": "path", "layout": "scenario-file", "path": str(secret),
                            "contentHash": "0" * 64}

    found = _problems(edited(tmp_path, edit))
    assert all(SECRET not in message for _, message in found), found
    [(field, message)] = found
    assert field == "scenario.path"
    assert message.startswith(f"cannot load {secret}: it is not a valid scenario (1 problem, the first at "
                              f"{secret}:1); what it holds is not shown, since the path is named by the file "
                              f"under review: run kubeprop validate {secret}")


def test_a_path_mode_scenario_that_loads_still_replays(tmp_path: Path) -> None:
    web = Path(__file__).resolve().parents[1] / "model" / "data" / "variants"

    def edit(data: dict[str, Any]) -> None:
        data["scenario"] = {"name": "web", "mode": "path", "layout": "scenario-file", "path": str(web / "web.yaml"),
                            "contentHash": data["scenario"]["contentHash"]}

    assert replay(edited(tmp_path, edit)).verdict == Verdict.REPRODUCES


def _another_folder(tmp_path: Path) -> Path:
    """A valid scenario in a folder of the machine, holding a ConfigMap the file's author wants to see."""
    folder = tmp_path / "private-infra"
    shutil.copytree(Path(__file__).resolve().parents[1] / "model" / "data" / "variants" / "web", folder / "web")
    shutil.copy(Path(__file__).resolve().parents[1] / "model" / "data" / "variants" / "web.yaml", folder / "web.yaml")
    (folder / "web" / "secret-config.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: deploy-token, namespace: default}}\n"
        f"data: {{url: '{SECRET}'}}\n")
    return folder / "web.yaml"


def _naming(target: Path) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["scenario"] = {"name": "web", "mode": "path", "layout": "scenario-file", "path": str(target),
                            "contentHash": data["scenario"]["contentHash"]}
    return edit


def test_a_path_mode_file_never_shows_another_folders_objects(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    target = _another_folder(tmp_path)
    path = edited(tmp_path, _naming(target))
    result = replay(path)
    assert result.verdict == Verdict.STALE and result.states == ()
    assert result.reason.startswith(f"the scenario at {target} changed since the file was written")
    assert "not replayed" in result.reason and "--scenario PATH" in result.reason
    page = tmp_path / "page.html"
    for argv in (["replay", str(path)], ["replay", "--json", "--full", str(path)],
                 ["replay", str(path), "--html", str(page)]):
        assert main(argv) == 3
        shown = capsys.readouterr()
        assert "deploy-token" not in shown.out + shown.err and SECRET not in shown.out + shown.err
    assert "deploy-token" not in page.read_text()


def test_a_scenario_the_user_names_is_replayed_even_when_changed(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    target = _another_folder(tmp_path)
    path = edited(tmp_path, _naming(target))
    result = replay(path, scenario=target)
    assert result.verdict == Verdict.STALE and "changed since the file was written" in result.reason
    assert "not replayed" not in result.reason and len(result.states) > 1
    assert main(["replay", "--full", str(path), "--scenario", str(target)]) == 3
    assert "deploy-token" in capsys.readouterr().out  # the user's own folder, named by the user
    web = Path(__file__).resolve().parents[1] / "model" / "data" / "variants" / "web.yaml"
    assert replay(path, scenario=web).verdict == Verdict.REPRODUCES  # the scenario it was written from


def test_the_reproduce_line_of_a_replay_on_a_named_scenario_names_it(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # the user trial: the printed line dropped --scenario, so copying it gave STALE, not replayed
    target = _another_folder(tmp_path)
    path = edited(tmp_path, _naming(target))
    main(["replay", str(path), "--scenario", str(target)])
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith("reproduce with: ")]
    assert line == f"reproduce with: kubeprop replay --scenario {target} {path}"
    argv = line.removeprefix("reproduce with: kubeprop ").split()
    assert main(argv) == 3
    again = capsys.readouterr().out
    assert "not replayed" not in again and "deploy-token" in again and line in again


@pytest.mark.parametrize(("text", "message"), [
    ('{"schema": 1, "schema": 2}', "not a counterexample: (top level): the key 'schema' is written twice (a "
                                   "reader that keeps the first would see another file)"),
    ('{"a": {"b": [{"c": 1, "c": 1}]}}', "not a counterexample: a.b[0]: the key 'c' is written twice"),
])
def test_a_key_written_twice_is_bad_input(text: str, message: str) -> None:
    with pytest.raises(CounterexampleError) as info:
        parse(text, "f.json")
    assert info.value.problems[0].message.startswith(message)


def test_the_expectation_written_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_text(SOURCE.read_text().replace('"expectation": "reproduces"',
                                               '"expectation": "passes", "expectation": "reproduces"', 1))
    with pytest.raises(CounterexampleError, match="the key 'expectation' is written twice"):
        load(path)


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + SOURCE.read_bytes())
    assert load(path) == load(SOURCE)


# --- writing into a counterexample folder -------------------------------------------------------

def test_a_planted_link_in_the_out_folder_is_never_written_through(tmp_path: Path) -> None:
    ce = load(SOURCE)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(victim, out / ce.file_name)
    with pytest.raises(OutputError, match=f"cannot write {out / ce.file_name}: it is a symbolic link"):
        write(ce, out)
    assert victim.read_text() == "precious\n"
    assert os.path.islink(out / ce.file_name)


def test_a_file_kubeprop_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    ce = load(SOURCE)
    out = tmp_path / "out"
    out.mkdir()
    (out / ce.file_name).write_text("my notes\n")
    with pytest.raises(OutputError, match="is not a counterexample file"):
        write(ce, out)
    assert (out / ce.file_name).read_text() == "my notes\n"


def test_a_longer_counterexample_file_is_replaced_and_a_shorter_one_kept(tmp_path: Path) -> None:
    ce = load(SOURCE)
    path = write(ce, tmp_path)
    data = json.loads(path.read_text())
    data["note"] = "kept"
    path.write_text(json.dumps(data))
    assert write(ce, tmp_path) == path and json.loads(path.read_text())["note"] == "kept"  # as long: kept
    data["trace"].append(data["trace"][-1])
    path.write_text(json.dumps(data))  # longer (and unreadable as a whole: past the violation is fine)
    write(ce, tmp_path)
    assert len(json.loads(path.read_text())["trace"]) == len(ce.actions)


def test_a_missing_path_mode_scenario_says_so(tmp_path: Path) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["scenario"] = {"name": "x", "mode": "path", "layout": "scenario-file", "path": str(tmp_path / "gone"),
                            "contentHash": "0" * 64}

    assert _problems(edited(tmp_path, edit)) == [
        ("scenario.path", f"cannot load {tmp_path / 'gone'}: {tmp_path / 'gone'}: no such file or folder")]


def test_the_builtin_scenario_is_replayed_even_when_changed(tmp_path: Path) -> None:
    """FeastFlow is kubeprop's own: a newer kubeprop's FeastFlow shows nothing of the machine."""
    def edit(data: dict[str, Any]) -> None:
        data["scenario"] = {"name": "feastflow", "mode": "path", "layout": "scenario-file",
                            "path": "builtin:feastflow", "contentHash": "0" * 64}

    result = replay(edited(tmp_path, edit))
    assert result.verdict == Verdict.STALE and result.states and "not replayed" not in result.reason



def test_an_inline_scenario_packs_a_bounded_number_of_files(tmp_path: Path) -> None:
    """Each packed file is written to disk at replay: 200,000 unused ones took 45 s."""
    from kubeprop.counterexamples.format_records import MAX_PACKED_FILES

    def edit(data: dict[str, Any]) -> None:
        data["scenario"]["files"] += [{"path": f"junk/{i}.txt", "text": ""} for i in range(MAX_PACKED_FILES)]

    found = _problems(edited(tmp_path, edit))
    assert found == [("scenario.files", f"holds {MAX_PACKED_FILES + 2:,} files; a packed scenario holds at most "
                                        f"{MAX_PACKED_FILES:,} (its scenario file and a file per object at most)")]
