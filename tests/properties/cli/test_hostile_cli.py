"""Bad flags and paths are exit 2 with a message; Ctrl-C shows what was done; object data cannot drive the
terminal (issue 15, items 2, 3, 4, 5, 6, 7 and 8)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus_source import SOURCE

from kubeprop.counterexamples.api import CheckReport
from kubeprop.properties.cli import check as check_cmd
from kubeprop.properties.cli import validate as validate_cmd
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.interrupted import Interrupted
from kubeprop.properties.cli.main import main
from kubeprop.properties.cli.terminal import escape_controls

REPO = Path(__file__).resolve().parents[3]
FEASTFLOW = REPO / "model" / "scenario" / "feastflow" / "scenario.yaml"


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == ExitCode.BAD_INPUT
    return capsys.readouterr().err.splitlines()[-2]


@pytest.mark.parametrize(("argv", "message"), [
    (["check", "--budget", "nan"],
     "argument --budget: must be a positive number of seconds up to 10,000,000, got 'nan'"),
    (["check", "--budget", "inf"], "got 'inf'"),
    (["check", "--budget", "-1"], "got '-1'"),
    (["check", "--max-depth", "٣"], "argument --max-depth: the value must be a whole number from 1 to 1,000,000 "
                                    "(ASCII digits), got '٣'"),
    (["check", "--workers", "100000"], "argument --workers: the value must be a whole number from 1 to 256"),
    (["check", "--shrink-steps", "0"], "argument --shrink-steps: the value must be a whole number from 1 to "
                                       "1,000,000,000 (ASCII digits), got '0'"),
    (["check", "--shrink-steps", "1e5"], "argument --shrink-steps: the value must be a whole number"),
    (["check", "--shrink-steps", "-3"], "got '-3'"),
    (["check", "--param", "x=*a"], "argument --param: unknown parameter 'x'; valid: apfBorrowing, "),
    (["check", "--param", "nodeMonitorGracePeriodSeconds=*a"],
     "argument --param: nodeMonitorGracePeriodSeconds: the value '*a' is not YAML: found undefined alias 'a'"),
    (["check", "--param", "nodeMonitorGracePeriodSeconds=abc"], "must be an integer, got string 'abc'"),
    (["check", "--param", "nodeMonitorGracePeriodSeconds=1e400"], "must be an integer, got string '1e400'"),
    (["check", "--param", "nodeMonitorGracePeriodSeconds=.nan"], "must be an integer, got number nan"),
    (["check", "--param", "maxEndpointsPerSlice=0"], "maxEndpointsPerSlice: must be between 1 and 1000, got 0"),
    (["check", "--param", "instantCaches=maybe"], "instantCaches: must be true or false, got string 'maybe'"),
    (["raft", "--max-seconds", "nan"], "argument --max-seconds/--budget: must be a positive number of seconds"),
    (["raft", "--values", "100000000"], "argument --values: the value must be a whole number from 0 to 1,000"),
    (["schedule", "--rlimit", "５"], "argument --rlimit: must be a positive whole number of Z3 resource units"),
    (["check", "--out", str(SOURCE)], f"argument --out: cannot write {SOURCE}: it is a regular file, not a folder"),
    (["replay", "--allow-import", "../../evil", str(SOURCE)],
     "argument --allow-import: '../../evil' is not a module name: expected dotted Python identifiers"),
])
def test_bad_flags_are_usage_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert message in _usage_error(argv, capsys)


@pytest.mark.parametrize(("flag", "value"), [("--max-states", "1000001"), ("--max-states", "0"),
                                             ("--max-states", "10000000000"), ("--max-depth", "1000001")])
def test_raft_and_check_bound_the_search_with_the_same_ranges(flag: str, value: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """One range for `--max-depth` and `--max-states` in both commands (`flagtypes.depth_bound`,
    `state_bound`: 1 to 1,000,000, a scenario's bounds.maxDepth / maxStates), and one message."""
    expected = f"argument {flag}: the value must be a whole number from 1 to 1,000,000 (ASCII digits), got '{value}'"
    assert _usage_error(["check", flag, value], capsys) == expected
    assert _usage_error(["raft", flag, value], capsys) == expected


@pytest.mark.parametrize(("argv", "message"), [
    (["raft", "--down", "etcd-1,etcd-1"], "--down etcd-1,etcd-1: names a member more than once"),
    (["raft", "--servers", "5", "--scenario", str(FEASTFLOW)],
     "--servers 5: scenario feastflow has 3 etcd members (etcd-1, etcd-2, etcd-3)"),
    (["schedule", "--scale", "feastflow-backend=²"], "expected WORKLOAD=N with N a whole number from 0 to 100000"),
    (["schedule", "--scale", "feastflow-backend=٣"], "expected WORKLOAD=N"),
    (["schedule", "--scale", "feastflow-backend=500000"], "from 0 to 100000 (ASCII digits)"),
    (["validate", "x" * 5000], "the path (or one of its names) is too long"),
    (["validate", "/dev/zero"], "/dev/zero: is a character device, expected a regular file"),
    (["replay", str(SOURCE), "--html", "."], "cannot write .: it is a directory; give a file name"),
])
def test_bad_values_are_exit_2_with_a_message(argv: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == ExitCode.BAD_INPUT
    assert message in capsys.readouterr().err


def test_replay_never_overwrites_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ce = tmp_path / "ce.json"
    ce.write_bytes(SOURCE.read_bytes())
    assert main(["replay", str(ce), "--html", str(ce)]) == ExitCode.BAD_INPUT
    assert "an output never overwrites an input" in capsys.readouterr().err
    assert ce.read_bytes() == SOURCE.read_bytes()


def test_replay_allow_import_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(SOURCE.read_text())
    data["property"] = {**data["property"], "name": "kp-flag-property", "module": "kp_flag_module"}
    ce = tmp_path / "ce.json"
    ce.write_text(json.dumps(data))
    (tmp_path / "kp_flag_module.py").write_text("from pathlib import Path\nPath(__file__).with_name('RAN').touch()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["replay", str(ce)]) == ExitCode.BAD_INPUT
    assert "--allow-import kp_flag_module" in capsys.readouterr().err and not (tmp_path / "RAN").exists()
    assert main(["replay", str(ce), "--allow-import", "kp_flag_module"]) == ExitCode.BAD_INPUT  # not registered
    assert (tmp_path / "RAN").exists()


def test_relative_manifest_folder_from_the_repo_root(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(REPO)
    main(["validate", "tests/model/data/manifests/shop"])
    out = capsys.readouterr().out
    assert out.startswith("scenario shop:") and "shop/10-app.yaml:2" in out


def test_validate_yaml_output_gives_each_rejection_reason(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-o", "yaml", str(REPO / "tests" / "model" / "data" / "manifests" / "shop")]) == 2
    comments = [line for line in capsys.readouterr().out.splitlines() if line.startswith("#")]
    assert "# REJECTED Deployment shop/web  shop/10-app.yaml:2" in comments
    assert "#     404 NotFound: namespaces \"shop\" not found" in comments
    assert comments[-1] == "# 9 admitted, 5 rejected"


def test_terminal_control_sequences_in_object_data_are_escaped(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cm.yaml").write_text('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "\\e[2Jx\\e]0;pwned\\a"}\n')
    main(["validate", str(tmp_path)])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "REJECTED ConfigMap default/\\x1b[2Jx\\x1b]0;pwned\\x07" in out
    assert escape_controls("\r  progress\rnext\u202e") == "\r  progress\\x0dnext\\u202e"


def test_ctrl_c_prints_what_was_done_and_exits_130(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*_args: object) -> int:
        raise Interrupted("the table so far")

    monkeypatch.setattr(validate_cmd, "run_validate", interrupted)
    assert main(["validate"]) == ExitCode.INTERRUPTED == 130
    captured = capsys.readouterr()
    assert captured.out == "the table so far\n"
    assert captured.err == "kubeprop validate: interrupted (exit 130)\n"


def test_check_interrupted_shows_the_finished_engines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    real = check_cmd.check
    calls: list[str] = []

    def second_engine_interrupted(*args: object, **kwargs: object) -> CheckReport:
        calls.append(str(kwargs["engine"]))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(check_cmd, "check", second_engine_interrupted)
    web = REPO / "tests" / "model" / "data" / "variants" / "web.yaml"
    code = main(["check", str(web), "--variant", "rs-no-expectations", "--property", "replicaset-no-overcreation",
                 "--max-depth", "6", "--budget", "120", "--engine", "all", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 130 and calls == ["bfs", "walk"]
    assert "replicaset-no-overcreation  VIOLATED" in out
    [written] = tmp_path.glob("*.json")
    assert f"counterexample: {written}" in out
    assert "walk: interrupted before it finished; the table shows the engines that did" in out


def _wait_for_workers(pid: int, timeout: float = 90.0, count: int = 2) -> None:
    """Until the command has forked `count` workers (Linux: /proc lists a process's children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not children.exists():
            time.sleep(8)  # no /proc: give imports, the model and the pool time to start
            return
        if len(children.read_text().split()) >= count:
            time.sleep(0.5)  # the workers are initialising (their SIGINT handler is set first)
            return
        time.sleep(0.1)
    raise AssertionError("the walk workers never started")


@pytest.mark.usefixtures("sigint_default")
def test_ctrl_c_during_walks_stops_the_workers_quietly(tmp_path: Path) -> None:
    """A real SIGINT to the process group, as a terminal sends it: exit 130, no worker tracebacks."""
    command = [sys.executable, "-m", "kubeprop.properties.cli", "check", "--engine", "walk", "--workers", "2",
               "--budget", "120", "--max-depth", "30", "--out", str(tmp_path)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        _wait_for_workers(child.pid)
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()  # reaped: no zombie left for the tests that count this process's children
    assert child.returncode == 130, err
    assert "ForkPoolWorker" not in err and "Traceback" not in err
    assert "kubeprop check: interrupted (exit 130)" in err
    assert "walk: interrupted before it finished; no engine finished" in out


@pytest.mark.usefixtures("sigint_default")
def test_ctrl_c_during_the_portfolios_lanes_ends_every_lane_quietly(tmp_path: Path) -> None:
    """The default engine on two lanes: a SIGINT to the process group ends the command (exit 130)
    and its worker lane, with no traceback and no process left behind."""
    command = [sys.executable, "-m", "kubeprop.properties.cli", "check", "--workers", "2", "--budget", "120",
               "--out", str(tmp_path)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        _wait_for_workers(child.pid, count=1)
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=60)
        time.sleep(0.5)
        with pytest.raises(ProcessLookupError):
            os.killpg(child.pid, 0)  # nothing of the command's process group is left
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()  # reaped: no zombie left for the tests that count this process's children
    assert child.returncode == 130, err
    assert "Traceback" not in err
    assert "kubeprop check: interrupted (exit 130)" in err
    assert "portfolio: interrupted before it finished; no engine finished" in out


@pytest.mark.parametrize("address", ["not a url", "tcp://", "http://scheduler:8786", "tcp://scheduler:99999"])
def test_a_malformed_cluster_address_is_bad_input_before_any_connection(address: str, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--engine", "walk", "--cluster", address, "--budget", "3", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == ExitCode.BAD_INPUT, err
    assert "not a Dask scheduler address; expected SCHEME://HOST:PORT" in err


def test_a_check_that_took_no_step_is_inconclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--engine", "walk", "--budget", "1e-9", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == ExitCode.INCONCLUSIVE, out
    assert "no engine took a step within the budget: nothing was checked (exit 3)" in out
    # no verdict says held (the vacuity note's "so 'held' would say nothing" is not one: FeastFlow has
    # a vacuous property, workload-steps-finish)
    assert not re.search(r"held \((bounded|exhaustive)\)", out), "a property no engine checked is not 'held'"
    assert re.search(r"\nnode-not-overcommitted +not checked \(no step\)\n", out)


def test_html_output_replaces_only_a_page_kubeprop_wrote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# my notes\n")
    assert main(["replay", str(SOURCE), "--html", str(readme)]) == ExitCode.BAD_INPUT
    captured = capsys.readouterr()
    assert f"cannot write {readme}: it holds a file kubeprop did not write" in captured.err
    assert captured.out == ""  # refused before any replay
    assert readme.read_text() == "# my notes\n"
    page = tmp_path / "page.html"
    page.touch()  # an empty file (mktemp) may be written
    assert main(["replay", str(SOURCE), "--html", str(page)]) == ExitCode.VIOLATION
    assert main(["replay", str(SOURCE), "--html", str(page)]) == ExitCode.VIOLATION  # its own page: replaced
    assert '<meta name="generator" content="kubeprop">' in page.read_text()


def test_gate_outputs_replace_only_their_own_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.xml"
    notes.write_text("<notes/>\n")
    for flag in ("--junit", "--summary"):
        assert main(["gate", flag, str(notes), "--budget", "1"]) == ExitCode.BAD_INPUT
        assert "it holds a file kubeprop did not write" in capsys.readouterr().err
    assert notes.read_text() == "<notes/>\n"


def test_gate_outputs_never_replace_a_file_that_quotes_their_marker(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Trial 5 (u3/09, u3/10, u3/21): notes with a summary appended, a README quoting the heading,
    a fixture quoting the JUnit root and a dashboard naming the generator tag were replaced."""
    notes = tmp_path / "notes.md"
    notes.write_text("# Release notes\n\nHand-written.\n\n## kubeprop gate: PASSED (7/7 held)\n\n"
                     "| | suite | case | result |\n|---|---|---|---|\n")
    fixture = tmp_path / "fixture.xml"
    fixture.write_text('<?xml version="1.0"?>\n<!-- <testsuites name="kubeprop gate" ...> -->\n<f/>\n')
    for flag, path in (("--summary", notes), ("--junit", fixture)):
        before = path.read_text()
        assert main(["gate", flag, str(path), "--budget", "1"]) == ExitCode.BAD_INPUT
        assert f"cannot write {path}: " in capsys.readouterr().err
        assert path.read_text() == before
    page = tmp_path / "dashboard.html"
    page.write_text('<!DOCTYPE html>\n<p>We render with <meta name="generator" content="kubeprop"></p>\n')
    assert main(["replay", str(SOURCE), "--html", str(page)]) == ExitCode.BAD_INPUT
    assert "kubeprop did not write" in capsys.readouterr().err
    assert "We render with" in page.read_text()


def test_an_explicit_counterexample_path_replaces_only_a_counterexample_file(tmp_path: Path) -> None:
    from kubeprop.counterexamples.format import write
    from kubeprop.counterexamples.format_read import load
    from kubeprop.counterexamples.output import OutputError

    ce = load(SOURCE)
    mine = tmp_path / "mine.json"
    mine.write_text('{"my": "config"}\n')
    with pytest.raises(OutputError, match="it holds a file kubeprop did not write"):
        write(ce, mine)
    assert mine.read_text() == '{"my": "config"}\n'
    again = tmp_path / "ce.json"
    write(ce, again)
    write(ce, again)
    assert load(again) == ce
