"""docs/scenario.md's parameters table names every model parameter (trial 8: fifteen were missing),
and its "Valid values" table is one table (a blank line inside made the rest render without a
header), so that neither can drift from `PARAMETERS` / `PARAMETER_RANGES` again."""

from __future__ import annotations

import re
from pathlib import Path

from kubeprop.model.scenario.schema import PARAMETER_RANGES, PARAMETERS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scenario.md"


def _table(heading: str) -> list[str]:
    """The rows of the first table after `heading`, up to the first line that is not a row."""
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    at = lines.index(heading)
    start = next(i for i in range(at, len(lines)) if lines[i].startswith("|"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return lines[start:end]


def _names(rows: list[str]) -> list[str]:
    """The parameter names of a table's first column (a cell may name several, `a`, `b`)."""
    return [name for row in rows[2:] for name in re.findall(r"`(\w+)`", row.split("|")[1])]


def test_every_parameter_has_a_row() -> None:
    names = _names(_table("### Model parameters"))
    assert sorted(set(PARAMETERS) - set(names)) == []
    assert sorted(set(names) - set(PARAMETERS)) == []
    assert len(names) == len(set(names))


def _written(default: object) -> str:
    """A default as the table writes it: `true`, `300`, `ready-condition` or a YAML list."""
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple):
        return f"[{', '.join(default)}]"
    return str(default)


def test_the_defaults_column_starts_with_the_default() -> None:
    for row in _table("### Model parameters")[2:]:
        cells = [c.strip() for c in row.split("|")[1:-1]]
        names = re.findall(r"`(\w+)`", cells[0])
        if len(names) == 1:
            written = _written(PARAMETERS[names[0]])
            assert cells[1].removeprefix("`").startswith(written), (names[0], cells[1])


def test_every_declared_range_is_in_the_valid_values_table() -> None:
    rows = _table("#### Valid values")
    assert rows[0].startswith("| parameter |")
    names = _names(rows)
    assert sorted(set(PARAMETER_RANGES) - set(names)) == []
