"""`kubeprop replay FILE… [--full] [--json] [--html FILE] [--expect] [--scenario PATH]`: re-run
counterexample files.

Exit codes (docs/counterexamples.md): 0 every file PASSES; 1 some file REPRODUCES; 3 some file
is STALE (and none reproduces); 2 bad input (an unreadable file — the others are still
replayed and reported). With `--expect`, files are judged against their `expectation`: 0 when
every file's verdict is the expected one, 1 otherwise (files without one must REPRODUCE).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from kubeprop.counterexamples import raft_trace
from kubeprop.counterexamples.format import write_atomic
from kubeprop.counterexamples.format_records import CounterexampleError
from kubeprop.counterexamples.output import HTML_OWNER, OutputError, check_output
from kubeprop.counterexamples.printable import shown, shown_error
from kubeprop.counterexamples.render import render_text, verdict_line
from kubeprop.counterexamples.render_html import render_html
from kubeprop.counterexamples.replay import ReplayResult, Verdict, replay
from kubeprop.counterexamples.steps import result_json
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.interrupted import Interrupted


def exit_code(results: Sequence[ReplayResult | raft_trace.RaftReplay], bad_input: bool, expect: bool) -> int:
    """The command's exit code for these results (see the module docstring)."""
    if bad_input:
        return ExitCode.BAD_INPUT
    if expect:
        ok = all(r.verdict == r.required for r in results)
        return ExitCode.OK if ok else ExitCode.VIOLATION
    verdicts = {r.verdict for r in results}
    if Verdict.REPRODUCES in verdicts:
        return ExitCode.VIOLATION
    if Verdict.STALE in verdicts:
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK


def _partial(results: Sequence[ReplayResult]) -> str:
    """What an interrupted replay got through: one verdict line per finished file."""
    lines = [verdict_line(r) for r in results]
    return "\n".join(["replayed before the interrupt:", *lines] if lines else ["no file replayed yet"])


def _check_html(html: Path | str, inputs: Sequence[Path]) -> None:
    """Refuse, before any file is replayed, an `--html` path that is empty or that the page could
    not or must not be written to (`output.check_output`); the error names the flag."""
    if html == "":
        raise OutputError("argument --html: the value is empty; give a file name for the page (such as --html "
                          "trace.html), or leave the flag out")
    try:
        check_output(Path(html), inputs, HTML_OWNER)
    except OutputError as err:
        raise OutputError(f"argument --html: {err}") from None


def run_replay(args: argparse.Namespace) -> int:
    """Replay every file, print the renderings (or JSON), write the HTML page if asked."""
    inputs = [*args.files, *([args.scenario] if args.scenario is not None else [])]
    if args.html is not None:
        _check_html(args.html, inputs)
    results: list[ReplayResult] = []
    rafts: list[raft_trace.RaftReplay] = []  # Raft-model traces (raft_trace.py): text and verdicts only
    errors: list[CounterexampleError] = []
    for path in args.files:
        try:
            if raft_trace.is_raft_file(path):
                rafts.append(raft_trace.replay(path))
            else:
                results.append(replay(path, allow_imports=args.allow_imports, scenario=args.scenario))
        except CounterexampleError as err:
            errors.append(err)
        except KeyboardInterrupt:
            raise Interrupted(_partial(results)) from None
    for error in errors:
        sys.stderr.write(f"kubeprop replay: bad input:\n{shown_error(error)}\n")
    if args.json:
        data = {"results": [*(result_json(r, full=args.full) for r in results),
                            *(raft_trace.result_json(r) for r in rafts)], "errors": [str(e) for e in errors]}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        for r in results:
            sys.stdout.write(render_text(r, full=args.full) + "\n")
        for raft in rafts:
            sys.stdout.write(raft_trace.render_text(raft) + "\n")
        for r in results:
            sys.stdout.write(verdict_line(r) + "\n")
        for raft in rafts:
            sys.stdout.write(f"{raft.verdict:<10}  {shown(raft.file)}: {shown(raft.reason)}\n")
    if args.html is not None and results:
        write_atomic(Path(args.html), render_html(results), inputs=inputs, owner=HTML_OWNER)
        if not args.json:
            sys.stdout.write(f"wrote {shown(args.html)}\n")
    return exit_code([*results, *rafts], bool(errors), args.expect)
