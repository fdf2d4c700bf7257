"""docs/release.md's cluster on v1.31 sets every parameter whose row of the table "Rules that differ
between releases" gives v1.31 another value than the default, with that value (trial 17: the block
left out `schedulerSidecarHostPorts: false` and `schedulerTaintReasonDetail: true`), and the header
the page shows for it is the one `kubeprop check` prints. tests/docs/test_docs.py runs the page's
commands on the block (`# file: web-v131.yaml`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from scenario_extras import RELEASES

from kubeprop.model.scenario.schema import PARAMETERS
from kubeprop.properties.cli.main import main

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "release.md"
MINOR = 31
"""The release the block is for: v1.31."""


def _page() -> str:
    return PAGE.read_text(encoding="utf-8")


def _block() -> str:
    """The text of the page's ```yaml block that starts `# file: web-v131.yaml`."""
    return _page().split("```yaml\n# file: web-v131.yaml\n", 1)[1].split("```", 1)[0]


def _rows() -> list[list[str]]:
    """The table's rows under "## Rules that differ between releases", as cells, header excluded."""
    section = _page().split("## Rules that differ between releases", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.split("|")[1:-1]] for row in rows[1:]]


def differs_in(other: str, minor: int) -> tuple[bool, Any] | None:
    """Whether the "other releases" cell gives v1.`minor` a value other than the default, and that
    value; None when the cell names no Kubernetes release (the descheduler's own releases)."""
    text = other.split(";")[0].replace("`", "")
    value = text.split()[0]
    patterns: list[tuple[str, Any]] = [
        (r"^\S+ in v1\.(\d+)(?:\.\d+)?(?: to v1\.(\d+)\.\d+)?(?: \([^)]*\))? and before",
         lambda a, b: minor <= int(b or a)),
        (r"^\S+ before v1\.(\d+)", lambda a: minor < int(a)),
        (r"^\S+ from v1\.(\d+)", lambda a: minor >= int(a)),
        (r"^\S+ on v1\.(\d+)\+", lambda a: minor >= int(a)),
    ]
    for pattern, judge in patterns:
        found = re.match(pattern, text)
        if found:
            return judge(*found.groups()), yaml.safe_load(value)
    return None


def test_the_parser_reads_each_form_of_the_column() -> None:
    assert differs_in("40 in v1.31 and before", 31) == (True, 40)
    assert differs_in("false in v1.30 and before (variant x)", 31) == (False, False)
    assert differs_in("false in v1.33.0 to v1.33.5 and before: `spec.containers` only", 31) == (True, False)
    assert differs_in("false in v1.32 (alpha, off) and before: the victims", 31) == (True, False)
    assert differs_in("false before v1.31 (from etcd)", 31) == (False, False)
    assert differs_in("true from v1.25 (PR #109119) until PR #134740", 31) == (True, True)
    assert differs_in("true on v1.34+ clusters (DRA on by default)", 31) == (False, True)
    assert differs_in("true from descheduler v0.34", 31) is None


def expected_v131() -> dict[str, Any]:
    """The parameters the table gives v1.31 another value than the default, with that value."""
    expected: dict[str, Any] = {}
    for cells in _rows():
        name = cells[1].strip("`")
        assert name in PARAMETERS, name
        judged = differs_in(cells[3], MINOR)
        if judged is None:
            assert "descheduler" in cells[3], f"{name}: the test cannot read {cells[3]!r}"
            continue
        if judged[0]:
            expected[name] = judged[1]
    return expected


def test_the_v131_block_sets_every_parameter_the_table_implies() -> None:
    expected = expected_v131()
    assert expected == {"nodeMonitorGracePeriodSeconds": 40, "schedulerBalancedSkipsBestEffort": False,
                        "schedulerAsyncPreemption": False, "schedulerPopFromBackoffQ": False,
                        "schedulerSidecarHostPorts": False, "schedulerTaintReasonDetail": True,
                        "orderedNamespaceDeletion": False}
    assert yaml.safe_load(_block())["parameters"] == expected
    assert dict(RELEASES)["v1.31"] == expected  # the generated scenarios' v1.31 too (tests/support)


def test_the_header_the_page_shows_is_the_one_check_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "tests").symlink_to(REPO / "tests")
    (tmp_path / "web-v131.yaml").write_text(_block(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    main(["check", "web-v131.yaml", "--engine", "walk", "--budget", "1e-9", "--out", str(tmp_path / "out")])
    header = capsys.readouterr().out.splitlines()[0]
    assert f"```\n{header}\n```" in _page()
