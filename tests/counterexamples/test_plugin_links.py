"""The pytest plugin and a corpus folder outside the usual (trial 10, s3/pytest-run8 and s3/proj):
a symbolic link in a corpus folder is an item wherever it points, as the gate replays it (a link
out of the folder was left out silently); a link loop is an item that fails naming it; and
`--kubeprop-corpus DIR` as two arguments, which pytest reads as a test path before the plugin
loads (its rootdir and configuration moved away: nothing replayed, exit 0), is refused, while
`--kubeprop-corpus=DIR` replays DIR even outside the project's testpaths."""

from __future__ import annotations

import shutil
from pathlib import Path

from inner_pytest import PytestRun

REPO = Path(__file__).resolve().parents[2]
RS = REPO / "counterexamples" / "corpus" / "replicaset-no-overcreation-50c0faf044ff.json"


def test_links_in_a_corpus_folder_are_items_wherever_they_point(tmp_path: Path, inner_pytest: PytestRun) -> None:
    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    corpus.mkdir()
    outside.mkdir()
    shutil.copy(RS, outside / "rs.json")
    (outside / "plain.json").write_text('{"a": 1}')
    (corpus / "rs-link.json").symlink_to(outside / "rs.json")
    (corpus / "plain-link.json").symlink_to(outside / "plain.json")
    (corpus / "loop.json").symlink_to(corpus / "loop.json")
    done = inner_pytest(tmp_path, f"--kubeprop-corpus={corpus}", str(corpus))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 failed, 1 passed" in done.stdout, done.stdout  # trial 10: the two links out of the folder left out
    assert f"{corpus / 'loop.json'}: too many levels of symbolic links" in done.stdout
    assert f"{corpus / 'plain-link.json'}: schema: missing: not a kubeprop counterexample file" in done.stdout


def _project(tmp_path: Path) -> Path:
    """A project whose pyproject says testpaths = tests (one test), and a corpus folder beside it."""
    project = tmp_path / "proj"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (project / "tests" / "test_one.py").write_text("def test_one() -> None:\n    assert True\n")
    (tmp_path / "elsewhere").mkdir()
    shutil.copy(RS, tmp_path / "elsewhere" / RS.name)
    return project


def test_the_option_as_two_arguments_is_refused_saying_why(tmp_path: Path, inner_pytest: PytestRun) -> None:
    project = _project(tmp_path)
    done = inner_pytest(project, "--kubeprop-corpus", "../elsewhere")
    assert done.returncode == 4, done.stdout + done.stderr  # trial 10: exit 0, nothing replayed, rootdir moved up
    assert ("ERROR: --kubeprop-corpus ../elsewhere: write --kubeprop-corpus=../elsewhere (one folder each; repeat "
            "the option for more). pytest chooses its rootdir and configuration file from the test paths before it "
            f"loads plugins, so it took ../elsewhere for a test path: rootdir {tmp_path}, configuration file none "
            "found") in done.stderr


def test_the_option_with_equals_replays_a_folder_outside_the_testpaths(tmp_path: Path, inner_pytest: PytestRun) -> None:
    project = _project(tmp_path)
    done = inner_pytest(project, "-vv", "--kubeprop-corpus=../elsewhere")  # -q -vv: verbose
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"rootdir: {project}" in done.stdout and "configfile: pyproject.toml" in done.stdout
    assert "tests/test_one.py::test_one PASSED" in done.stdout
    assert f"{RS.name}::{RS.stem} PASSED" in done.stdout and "2 passed" in done.stdout
    missing = inner_pytest(project, "--kubeprop-corpus=../nowhere")
    assert missing.returncode == 4 and "nowhere" in missing.stdout + missing.stderr  # never silently nothing
