"""Outputs the docs show that can be compared with the code cheaply, without running an engine
(audit 20b, F9: the tutorial said a fair run of FeastFlow was 62 actions long where the code prints
69, and its lasso output's header lacked the scenario's `parameters instantCaches=true`):

- every header line `kubeprop check: scenario …` that follows a `$ kubeprop check …` line in a
  page's output block is what `check_table.title` prints for that scenario and those flags;
- the tutorial's fair run: what its `print(len(run.trace), run.trace[3])` prints is the comment
  on that line.
"""

from __future__ import annotations

import shlex
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kubeprop.model.cluster.compose import build_model
from kubeprop.properties.cli.check_table import title
from kubeprop.properties.cli.main import build_parser
from kubeprop.properties.modules import load_own_scenario

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
HEADER = "kubeprop check: scenario "


def blocks(page: Path) -> list[tuple[str, int, str]]:
    """Every fenced block of a page: its language, the line of its first body line, its text (as
    `test_docs.blocks`, which this module cannot import: tests run with --import-mode=importlib)."""
    out, lang, body, start = [], None, list[str](), 0
    for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            if lang is None:
                lang, body, start = line[3:].strip(), [], n + 1
            else:
                out.append((lang, start, "\n".join(body) + "\n"))
                lang = None
        elif lang is not None:
            body.append(line)
    return out


def _shown_headers() -> list[tuple[str, str, str]]:
    """(where, the command, the header line shown after it) of every page."""
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for _, first, text in blocks(page):
            lines = text.splitlines()
            for n, (command, shown) in enumerate(pairwise(lines)):
                if command.startswith("$ kubeprop check") and shown.startswith(HEADER):
                    found.append((f"{page.relative_to(REPO)}:{first + n + 1}", command[2:], shown))
    return found


SHOWN = _shown_headers()


def test_the_pages_show_check_headers() -> None:
    assert any("tutorial.md" in where for where, _, _ in SHOWN), SHOWN


@pytest.mark.parametrize(("where", "command", "shown"), SHOWN, ids=[w for w, _, _ in SHOWN])
def test_a_check_header_is_what_kubeprop_prints(where: str, command: str, shown: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    args = build_parser().parse_args(shlex.split(command)[1:])
    path = REPO / args.path if args.path else None
    if path is not None:
        monkeypatch.syspath_prepend(str(path.parent))  # (the pages export PYTHONPATH=its folder for its rules)
    scenario = load_own_scenario(path)
    params = dict(args.params)
    model = build_model(scenario, parameters=params, variant=args.variant)
    run: Any = SimpleNamespace(reports=[SimpleNamespace(model=model)], variant=args.variant, parameters=params,
                               scenario=scenario.name)
    assert shown == title(run), where


def test_the_tutorials_fair_run_prints_what_the_page_says(capsys: pytest.CaptureFixture[str]) -> None:
    page = DOCS / "tutorial.md"
    text = next(t for lang, _, t in blocks(page) if lang == "python" and "settle(model" in t)
    line = next(x for x in text.splitlines() if x.startswith("print(len(run.trace), run.trace[3])"))
    exec(compile(text, str(page), "exec"), {"__name__": "docs_tutorial"})
    printed = capsys.readouterr().out.splitlines()[0]
    assert printed == line.partition("#")[2].strip()
