"""Trial 6: what users read says what happened.

- A convergence counterexample's length is the engine's find and then the fair continuation its
  file records, counted one way in `kubeprop check`, `kubeprop replay` and `kubeprop gate`
  (`VIOLATED (3 steps, then a fair continuation of 66)`; before, check printed 69 and the catalogue 3).
- Walk and PCT lines say how long the runs were on average, not only how long they may be.
- `--cluster notaurl` is refused before any engine is announced.
- `kubeprop schedule --drain` names only the kubectl flags the drained nodes' pods need.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from kubeprop.model.api.meta import ObjectMeta, OwnerReference
from kubeprop.model.api.pod import Pod, PodSpec, Volume
from kubeprop.properties.cli.main import main
from kubeprop.properties.cli.schedule import _drain_flags
from kubeprop.properties.scheduling.drain import NodeChange
from kubeprop.properties.scheduling.encode import Problem

DATA = Path(__file__).resolve().parents[2] / "model" / "data"
ROLLOUT = DATA / "catalogue" / "web-rollout.yaml"
LENGTH = re.compile(r"(\d+) steps, then a fair continuation of (\d+)")


@pytest.fixture(scope="module")
def fencepost(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """`kubeprop check` on rollout-fencepost's scenario, deployments-complete only: its output and file."""
    out = tmp_path_factory.mktemp("out")
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        code = main(["check", str(ROLLOUT), "--variant", "rollout-fencepost", "--property", "deployments-complete",
                     "--budget", "60", "--workers", "1", "--out", str(out), "--progress", "none"])
    assert code == 1, text.getvalue()
    [path] = out.glob("deployments-complete-*.json")
    return text.getvalue(), path


def test_check_counts_the_find_and_the_fair_continuation(fencepost: tuple[str, Path]) -> None:
    out, _ = fencepost
    row = next(line for line in out.splitlines() if line.startswith("deployments-complete"))
    found = LENGTH.search(row)
    assert found is not None and row.split()[1] == "VIOLATED", row
    assert int(found.group(1)) < int(found.group(2))  # a short find, a long continuation


def test_replay_and_gate_count_it_the_same_way(fencepost: tuple[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    out, path = fencepost
    first = LENGTH.search(out)
    assert first is not None
    words = first.group(0)
    total = int(first.group(1)) + int(first.group(2))
    assert main(["replay", str(path)]) == 1
    replayed = capsys.readouterr().out
    assert f"violation at step {total} ({words}): deployments-complete" in replayed
    assert f"deployments-complete fails at step {total} ({words}), as recorded" in replayed
    assert re.search(rf"^step {int(first.group(1)) + 1} → the fair continuation starts ", replayed, re.M)
    config = tmp_path / "gate.yaml"
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / path.name).write_bytes(path.read_bytes())  # replayed by the gate too
    config.write_text(f"corpus: [corpus]\nchecks:\n  - scenario: {ROLLOUT}\n    variant: rollout-fencepost\n"
                      "    engine: portfolio\n    budget: 60\n    properties: [deployments-complete]\n")
    assert main(["gate", "--config", str(config), "--out", str(tmp_path / "o")]) == 1
    gated = capsys.readouterr().out
    assert f"ok   corpus :: {path.name}: REPRODUCES, expected REPRODUCES: deployments-complete fails at step {total} " \
           f"({words}), as recorded" in gated, gated
    assert re.search(r"FAIL .*:: deployments-complete: .*\(\d+ steps, then a fair continuation of \d+\)", gated), gated


def test_a_safety_violation_is_counted_as_before(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(DATA / "variants" / "web.yaml"), "--engine", "bfs", "--variant", "rs-no-expectations",
                 "--property", "replicaset-no-overcreation", "--max-depth", "5", "--budget", "60",
                 "--out", str(tmp_path)])
    assert code == 1
    assert "replicaset-no-overcreation  VIOLATED (5 steps)\n" in capsys.readouterr().out


def test_walk_lines_give_the_mean_run_length(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(DATA / "variants" / "web.yaml"), "--engine", "walk", "--workers", "1", "--runs", "6",
                 "--property", "node-not-overcommitted", "--budget", "60", "--out", str(tmp_path)])
    assert code == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("  walk "))
    steps, runs, mean = re.search(r"runs-done: (\d+) steps, (\d+) runs, ([\d.]+) steps a run on average "
                                  r"\(each up to \d+ steps", line).groups()  # type: ignore[union-attr]
    assert runs == "6" and mean == f"{int(steps) / 6:.1f}"


def test_a_bad_cluster_address_is_refused_before_anything_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--cluster", "notaurl", "--engine", "walk", "--budget", "1"]) == 2
    err = capsys.readouterr().err
    assert "running" not in err and "--cluster 'notaurl': not a Dask scheduler address" in err


def _pod(name: str, owner: str | None = None, empty_dir: bool = False) -> Pod:
    refs = () if owner is None else (OwnerReference(kind=owner, name="x", controller=True),)
    volumes = (Volume(name="scratch", empty_dir={}),) if empty_dir else ()
    return Pod(metadata=ObjectMeta(name=name, namespace="default", owner_references=refs),
               spec=PodSpec(node_name="n1", volumes=volumes))


@pytest.mark.parametrize(("change", "flags"), [
    ({"pending_again": (_pod("web-1", "ReplicaSet"),)}, ""),
    ({"pending_again": (_pod("web-1", "ReplicaSet", empty_dir=True),)}, " --delete-emptydir-data"),
    ({"deleted": (_pod("bare"),), "staying": (_pod("agent", "DaemonSet"),)}, " --ignore-daemonsets --force"),
])
def test_drain_names_only_the_flags_its_pods_need(change: dict[str, tuple[Pod, ...]], flags: str) -> None:
    assert _drain_flags(NodeChange(Problem((), ()), ("n1",), **change)) == flags


def test_drain_says_it_is_kubectl_drain_as_the_pods_need_it(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["schedule", str(Path(__file__).resolve().parents[1] / "scheduling" / "data" / "drain" / "shop.yaml"),
                 "--drain", "gen-a"])
    assert code == 1
    assert "Drained gen-a (as `kubectl drain gen-a` does): cordoned" in capsys.readouterr().out
