"""Start-up of the `kubeprop` command: `--help`, `--version` and a bad flag import none of the
model, the engines, Z3 or Hypothesis (each subcommand's arguments load when it is chosen, its
module when it runs). Checked by the modules a fresh interpreter loaded, never by a timing
(benchmarks/bench_startup.py measures it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kubeprop.counterexamples.printable import CONTROL_IN_TEXT
from kubeprop.properties.cli.check_args import DEFAULT_DEPTH
from kubeprop.properties.cli.commands import DEFAULT_RLIMIT
from kubeprop.properties.cli.raft_args import SCRIPT_NAMES
from kubeprop.properties.cli.terminal import escape_controls

GOLDEN = Path(__file__).parent / "golden"

_RUN = """
import json, sys
from kubeprop.properties.cli.main import main
try:
    code = main(sys.argv[2:])
except SystemExit as done:
    code = done.code
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

ENGINES_AND_SOLVERS = ("kubeprop.counterexamples.api", "kubeprop.properties.explore.engine",
                       "kubeprop.model.cluster.compose", "kubeprop.model.scenario.load", "z3", "hypothesis")


def _run(tmp_path: Path, *argv: str) -> tuple[int, list[str], subprocess.CompletedProcess[str]]:
    """`kubeprop ARGV` in a fresh interpreter: its exit code, the modules it loaded, its output."""
    result = tmp_path / "result.json"
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-c", _RUN, str(result), *argv], capture_output=True, text=True,
                          timeout=120, check=False, env=env)
    assert done.returncode == 0, done.stderr
    found = json.loads(result.read_text())
    return found["code"], found["modules"], done


def test_check_help_imports_no_engine(tmp_path: Path) -> None:
    code, modules, done = _run(tmp_path, "check", "--help")
    assert code == 0 and "--from {conf,figure8,transfer}" in done.stdout
    assert [m for m in ENGINES_AND_SOLVERS if m in modules] == []


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_nothing_of_the_model(tmp_path: Path, flag: str) -> None:
    code, modules, done = _run(tmp_path, flag)
    assert code == 0 and done.stdout.startswith(("usage: kubeprop", "kubeprop "))
    kubeprop = [m for m in modules if m.startswith("kubeprop.")]
    assert [m for m in kubeprop if not m.startswith("kubeprop.properties.cli")] == ["kubeprop.properties"]
    assert not {"attrs", "yaml", "z3", "hypothesis", "re2"} & set(modules)


@pytest.mark.parametrize(("argv", "problem"), [
    (["check", "--budget", "x"], "argument --budget: must be a positive number of seconds up to 10,000,000, got 'x'"),
    (["gate", "--budget", "-1"], "argument --budget: must be a positive number of seconds up to 10,000,000, got '-1'"),
    (["raft", "--workers", "0"], "argument --workers: the value must be a whole number from 1 to 256 (ASCII digits), "
                                 "got '0'"),
    (["check", "--from", "nope"],
     "argument --from: invalid choice: 'nope' (choose from 'conf', 'figure8', 'transfer')"),
    (["replay", "--full"], "the following arguments are required: FILE"),
    (["validate", "-o", "json"], "argument --output/-o: invalid choice: 'json' (choose from 'summary', 'yaml')"),
])
def test_a_bad_flag_is_exit_2_without_importing_an_engine(tmp_path: Path, argv: list[str], problem: str) -> None:
    code, modules, done = _run(tmp_path, *argv)
    assert code == 2
    assert done.stderr.splitlines() == [f"kubeprop {argv[0]}: bad input:", problem,
                                        f"(try 'kubeprop {argv[0]} --help')"]
    assert [m for m in ENGINES_AND_SOLVERS if m in modules] == []


def test_schedule_flags_do_not_import_z3(tmp_path: Path) -> None:
    code, modules, _ = _run(tmp_path, "schedule", "--rlimit", "many")
    assert code == 2 and "z3" not in modules


def test_a_cluster_check_does_not_import_the_raft_explorer(tmp_path: Path) -> None:
    """`kubeprop check` of a cluster scenario runs the cluster's engines (here it stops at once: no
    such file) and never imports the Raft explorer (`check.run_check` imports it for a Raft check)."""
    code, modules, done = _run(tmp_path, "check", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "out"))
    assert code == 2 and "missing.yaml" in done.stderr
    assert "kubeprop.properties.cli.check" in modules  # `run_check` ran
    assert [m for m in ("kubeprop.properties.cli.raft", "kubeprop.properties.explore.raft") if m in modules] == []


def test_a_check_found_before_the_hypothesis_member_runs_does_not_import_hypothesis(tmp_path: Path) -> None:
    """`kubeprop check` puts Hypothesis' files under `--out` without importing Hypothesis
    (`hypothesis_home`): a check whose find comes in the first turns — scheduler-ignores-taints on
    FeastFlow, in the expected run — never runs the Hypothesis member, the last of a round, and
    never pays for the import (before: `keep_hypothesis_under` imported it for every check)."""
    code, modules, done = _run(tmp_path, "check", "--variant", "scheduler-ignores-taints", "--property",
                               "scheduler-decisions-sound", "--budget", "60", "--out", str(tmp_path / "out"),
                               "--progress", "none")
    assert code == 1 and "VIOLATED" in done.stdout
    assert "kubeprop.properties.explore.hypothesis_home" in modules
    assert [m for m in modules if m == "hypothesis" or m.startswith("hypothesis.")] == []


def test_kubeprop_help_golden(tmp_path: Path) -> None:
    """`kubeprop --help` at 80 columns: every subcommand with its one-line help."""
    _, _, done = _run(tmp_path, "--help")
    path = GOLDEN / "help.txt"
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        path.write_text(done.stdout)
    assert done.stdout == path.read_text(), f"re-run with KUBEPROP_UPDATE_GOLDEN=1 to accept changes to {path}"


def test_the_constants_written_out_for_the_parsers_are_the_engines_own() -> None:
    """`check_args.DEFAULT_DEPTH`, `commands.DEFAULT_RLIMIT` and `raft_args.SCRIPT_NAMES` are copies
    (their modules import the model and Z3): what `--help` shows and the flags accept must be what
    the engines use."""
    from kubeprop.properties.explore.engine import EngineConfig
    from kubeprop.properties.explore.raft import SCRIPTS
    from kubeprop.properties.scheduling.solver import DEFAULT_RLIMIT as SOLVER_RLIMIT

    assert sorted(SCRIPTS) == list(SCRIPT_NAMES)
    assert EngineConfig().max_depth == DEFAULT_DEPTH
    assert DEFAULT_RLIMIT == SOLVER_RLIMIT


def test_plain_ascii_has_nothing_to_escape() -> None:
    """`terminal.escape_controls` passes printable ASCII, tab and line feed through without
    importing `printable`: none of them is a control character there."""
    plain = "".join(map(chr, [9, 10, *range(32, 127)]))
    assert CONTROL_IN_TEXT.search(plain) is None
    assert escape_controls(plain) == plain
    assert escape_controls("a\x1b[2Jb\rc") == "a\\x1b[2Jb\\x0dc"


def test_a_command_chosen_twice_gets_its_arguments_once() -> None:
    """`build_parser()` gives a subcommand its arguments when argparse chooses it: parsing twice
    with one parser adds them once (argparse refuses a flag added twice)."""
    from kubeprop.properties.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["raft", "--from", "figure8"]).script == "figure8"
    assert parser.parse_args(["raft"]).script is None
