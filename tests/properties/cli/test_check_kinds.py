"""`kubeprop check` on a user's manifests folder holding kinds the model stores only, or refuses:
the header names the stored-only objects once; refused kinds are reported all at once, each with
its reason and remedy (golden), exit 2 without a traceback.

Regenerate the golden file after an intended change with
`KUBEPROP_UPDATE_GOLDEN=1 pytest tests/properties/cli/test_check_kinds.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kubeprop.properties.cli.main import main

DATA = Path(__file__).parents[2] / "model" / "data" / "kinds"
GOLDEN = Path(__file__).parent / "golden" / "check_refused_kinds.txt"


def test_refused_kinds_golden(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(DATA.parent.parent.parent.parent)
    code = main(["check", "tests/model/data/kinds/refused"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == "" and "Traceback" not in err
    if os.environ.get("KUBEPROP_UPDATE_GOLDEN"):
        GOLDEN.write_text(err)
    assert err == GOLDEN.read_text()


def test_header_names_stored_only_objects_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["check", str(DATA / "stored"), "--engine", "walk", "--budget", "2", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    note = ("stored only (kept by the API server, read by no modelled component): IngressClass nginx, "
            "Ingress default/web, NetworkPolicy default/allow-web")
    assert out.splitlines()[1] == note
    assert out.count("stored only") == 1
