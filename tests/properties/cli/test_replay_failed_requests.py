"""Trial 9: `kubeprop replay --full` showed no refused request (an operator's finalizer patch got
404, invisible). A failed request of a step is a `request failed:` line under it; the default
rendering is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubeprop.properties.cli.main import main

CORPUS = Path(__file__).resolve().parents[3] / "counterexamples" / "corpus"
SOURCE = CORPUS / "replicaset-no-overcreation-feb3795a6a40.json"


def test_full_shows_the_conflict_a_status_update_got(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--full", str(SOURCE)]) == 0  # (it passes on the correct model: the variant is the bug)
    out = capsys.readouterr().out
    failed = [line.strip() for line in out.splitlines() if "request failed:" in line]
    assert failed == ['request failed: UPDATE-STATUS replicasets.apps default/web-9b8d4d75 (controller-manager): '
                      '409 Conflict: Operation cannot be fulfilled on replicasets.apps "web-9b8d4d75": the object '
                      'has been modified; please apply your changes to the latest version and try again']
    step = out[:out.index("request failed:")].rsplit("\nstep ", 1)[1].splitlines()[0]
    assert "Reconcile(controller=replicaset" in step


def test_the_default_rendering_shows_no_request_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(SOURCE)]) == 0  # (it passes on the correct model: the variant is the bug)
    assert "request failed:" not in capsys.readouterr().out
