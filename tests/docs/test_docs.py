"""docs/ examples run (issue 13 item 8), so that the docs cannot drift from the code again.

For every page under docs/, in order, in one scratch folder per page (holding links to the
repository's `tests/`, `examples/`, `docs/` and `counterexamples/`, so the pages' relative paths
work and outputs such as `kubeprop-out/` land in the scratch folder):

- every command of a ```sh block that starts with `kubeprop` (after `NAME=value` assignments such
  as `PYTHONPATH=…`) runs through bash and must exit 0, or the code its trailing `# exit N`
  comment names. A command ending in `# illustrative` (a placeholder, an hour-long run) is only
  shown. Other lines (`pip install …`, heredocs writing files) are not run. A `kubeprop check` or
  `kubeprop gate` without `--budget` gets `--budget 10`, a `kubeprop raft` without
  `--max-seconds` gets `--max-seconds 10`: the docs' defaults are a minute or two;
- every ```python block runs, the page's blocks in order in one namespace; a block whose first
  line is a comment starting with `# illustrative` (an excerpt of a file, a protocol) is only shown;
- a ```yaml block whose first line is `# file: NAME` (a relative path) is written to the scratch
  folder as NAME, in the page's order, so that the page's later commands read it (docs/release.md's
  cluster on v1.31 is checked so).

Each command has a timeout (`TIMEOUT`); a failure names the page, its line and the output.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from kubeprop.properties.registry import PROPERTIES, select

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
LINKED = ("tests", "examples", "docs", "counterexamples")
TIMEOUT = 240
BUDGET = "10"
COMMAND = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=\S*\s+)*kubeprop\b")
HEREDOC = re.compile(r"<<-?\s*'?(\w+)'?")
FILE = re.compile(r"^# file: ([\w./-]+)")


@attrs.frozen
class Block:
    """A fenced block: its language, the line of its first body line, and its text."""

    lang: str
    line: int
    text: str


@attrs.frozen
class Command:
    """A shell command of a page: where, what, the exit code it must end with (None: only shown)."""

    line: int
    text: str
    expect: int | None


def blocks(page: Path) -> list[Block]:
    """Every fenced block of a Markdown page."""
    out, lang, body, start = [], None, list[str](), 0
    for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            if lang is None:
                lang, body, start = line[3:].strip(), [], n + 1
            else:
                out.append(Block(lang, start, "\n".join(body) + "\n"))
                lang = None
        elif lang is not None:
            body.append(line)
    return out


def commands(block: Block) -> Iterator[Command]:
    """The `kubeprop` commands of a sh block (continuation lines joined, heredoc bodies skipped)."""
    lines = block.text.splitlines()
    i = 0
    while i < len(lines):
        n, text = block.line + i, lines[i]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        heredoc = HEREDOC.search(text)
        if heredoc:
            while i < len(lines) and lines[i].strip() != heredoc.group(1):
                i += 1
            i += 1
        text = text.strip()
        if not COMMAND.match(text):
            continue
        command, _, comment = text.partition(" # ")
        if "illustrative" in comment:
            yield Command(n, command.strip(), None)
            continue
        code = re.search(r"exit (\d+)", comment)
        yield Command(n, command.strip(), int(code.group(1)) if code else 0)


def with_budget(command: str) -> str:
    """The command with a small budget where it has none (see the module docstring)."""
    words = command.split()
    sub = next((w for w in words[words.index("kubeprop") + 1:] if not w.startswith("-")), "") \
        if "kubeprop" in words else ""
    if sub in ("check", "gate") and "--budget" not in words:
        return f"{command} --budget {BUDGET}"
    if sub == "raft" and "--max-seconds" not in words:
        return f"{command} --max-seconds {BUDGET}"
    return command


def written_file(block: Block) -> str | None:
    """The relative path a ```yaml block names on its first line (`# file: NAME`), else None."""
    found = FILE.match(block.text) if block.lang == "yaml" else None
    if found is None or Path(found.group(1)).is_absolute() or ".." in Path(found.group(1)).parts:
        return None
    return found.group(1)


PAGES = sorted(p for p in DOCS.rglob("*.md") if any(b.lang in ("sh", "python") for b in blocks(p)))


@pytest.fixture(name="workdir")
def workdir_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A scratch folder with the repository's data folders linked in; the registry, sys.path and
    the example modules a page imports are restored afterwards."""
    for name in LINKED:
        (tmp_path / name).symlink_to(REPO / name)
    monkeypatch.chdir(tmp_path)
    select()
    saved, path, modules = dict(PROPERTIES), list(sys.path), set(sys.modules)
    yield tmp_path
    PROPERTIES.clear()
    PROPERTIES.update(saved)
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        file = getattr(sys.modules[name], "__file__", None) or ""
        if str(REPO / "examples") in str(Path(file).resolve()) if file else False:
            del sys.modules[name]


def _run_shell(page: Path, block: Block, workdir: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("KUBEPROP_DEBUG", None)
    for cmd in commands(block):
        if cmd.expect is None:
            continue
        where = f"{page.relative_to(REPO)}:{cmd.line}"
        try:
            done = subprocess.run(["bash", "-c", with_budget(cmd.text)], cwd=workdir, env=env, capture_output=True,
                                  text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{where}: `{cmd.text}` did not end within {TIMEOUT} s")
        assert done.returncode == cmd.expect, (
            f"{where}: `{cmd.text}` exited {done.returncode}, the page says {cmd.expect}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}")


def _run_python(page: Path, block: Block, namespace: dict[str, object]) -> None:
    first = block.text.lstrip().splitlines()[0] if block.text.strip() else ""
    if first.startswith("# illustrative"):
        return
    code = compile(block.text, f"{page.relative_to(REPO)}:{block.line}", "exec")
    exec(code, namespace)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_example_of_the_page_runs(page: Path, workdir: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for block in blocks(page):
        if block.lang == "sh":
            _run_shell(page, block, workdir)
        elif block.lang == "python":
            _run_python(page, block, namespace)
        elif written_file(block) is not None:
            target = workdir / str(written_file(block))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.text, encoding="utf-8")


def test_the_parser_finds_commands_markers_and_skips_heredocs() -> None:
    text = ("mkdir -p /tmp/x\ncat > /tmp/x/a.yaml <<'EOF'\nkubeprop: not a command\nEOF\n"
            "kubeprop check a \\\n  --engine bfs # exit 1\nPYTHONPATH=x kubeprop replay f.json\n"
            "kubeprop raft --servers N # illustrative\n")
    found = list(commands(Block("sh", 10, text)))
    assert [(c.line, c.text, c.expect) for c in found] == [
        (14, "kubeprop check a --engine bfs", 1), (16, "PYTHONPATH=x kubeprop replay f.json", 0),
        (17, "kubeprop raft --servers N", None)]
    assert with_budget("kubeprop check a") == "kubeprop check a --budget 10"
    assert with_budget("kubeprop check a --budget 3") == "kubeprop check a --budget 3"
    assert with_budget("PYTHONPATH=x kubeprop raft --variant quorum-ceil").endswith("--max-seconds 10")
    assert with_budget("kubeprop replay f.json") == "kubeprop replay f.json"
    assert written_file(Block("yaml", 1, "# file: a/web.yaml — a note\nkind: Scenario\n")) == "a/web.yaml"
    assert written_file(Block("yaml", 1, "kind: Scenario\n# file: web.yaml\n")) is None
    assert written_file(Block("yaml", 1, "# file: ../web.yaml\n")) is None
    assert written_file(Block("sh", 1, "# file: web.yaml\n")) is None
    assert PAGES, "no page with examples found"
