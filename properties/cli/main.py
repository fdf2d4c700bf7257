"""The `kubeprop` command.

Exit codes (docs/cli.md): 0 all good / no violation; 1 a violation or finding; 2 bad input or
usage (a rejected manifest included; an error in the user's own controller or property code, with its
file:line); 3 inconclusive; 4 internal error (a bug in kubeprop — the
message says how to get the traceback); 130 interrupted (Ctrl-C: what was done so far is printed
first). No traceback reaches the user unless KUBEPROP_DEBUG=1.
"""

from __future__ import annotations

import argparse
import difflib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

from kubeprop.counterexamples.printable import shown_error
from kubeprop.model.errors import InputError, UserCodeError
from kubeprop.properties.cli.check import register as _check_register
from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.gate import register as _gate_register
from kubeprop.properties.cli.interrupted import Interrupted, interrupts_kept, terminated
from kubeprop.properties.cli.raft import register as _raft_command
from kubeprop.properties.cli.replay import register as _replay_register
from kubeprop.properties.cli.schedule import register as _schedule_register
from kubeprop.properties.cli.terminal import escaped_output
from kubeprop.properties.cli.validate import run_validate
from kubeprop.properties.explore.engine import process_age

DESCRIPTION = (
    "kubeprop: a model checker and property tester for Kubernetes-style reconciliation. "
    "It models the control plane (API server, etcd, scheduler, controllers, kubelets) as a pure "
    "transition system and checks the promises it makes."
)


class _Parser(argparse.ArgumentParser):
    """argparse with our exit code for usage errors (2, as argparse), worded as every other bad
    input is (`kubeprop check: bad input:`, then the problem on its own line), and a hint line
    instead of the usage synopsis (for `check`, fifteen lines that hid the one line saying what
    was wrong)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: bad input:\n{message}\n(try '{self.prog} --help')\n")
        sys.exit(ExitCode.BAD_INPUT)


def _validate_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    validate = sub.add_parser(
        "validate",
        help="send every object of a scenario or manifest folder through the API server pipeline",
        description=(
            "Load a scenario (a scenario file, a folder with scenario.yaml, or a bare manifest "
            "file/folder; default: the built-in FeastFlow scenario), send every object through the "
            "modelled API server as the scenario's user (authentication, RBAC, admission, "
            "validation, persistence), and print for each object either 'created' with the "
            "defaults the server applied, or the 4xx reason with file:line: field. "
            "Exit 0 when every object is admitted, 2 on bad input or any rejected object."
        ),
    )
    validate.add_argument("path", nargs="?", type=Path, metavar="PATH",
                          help="scenario file, scenario folder, or manifest file/folder (default: FeastFlow)")
    validate.add_argument("--output", "-o", choices=("summary", "yaml"), default="summary",
                          help="summary (default): one line per object plus applied defaults; "
                               "yaml: the stored objects as YAML")
    validate.set_defaults(run=lambda args: run_validate(args.path, args.output, sys.stdout))


Register = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

COMMANDS: list[Register] = [
    _validate_command, _check_register, _gate_register, _schedule_register, _replay_register, _raft_command,
]
"""Each subcommand registers itself here: a function adding its parser (with `set_defaults(run=…)`,
`run` taking the parsed arguments and returning the exit code)."""


def _version() -> str:
    """The installed distribution's version (the source tree's when not installed)."""
    try:
        return metadata.version("kubeprop")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(prog="kubeprop", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"kubeprop {_version()}")
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for register in COMMANDS:
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code. Everything the command prints
    goes through `terminal.escaped_output` (control characters in object data made visible).
    From the shell (no `argv`), once the command is over Ctrl-C is ignored: a second one pressed
    while the process exits would otherwise kill it by the signal instead of ending with 130."""
    try:
        with escaped_output():
            return _run(argv)
    except KeyboardInterrupt:
        if argv is not None:
            raise
        return ExitCode.TERMINATED if terminated() else ExitCode.INTERRUPTED  # a second one as it was ending
    finally:
        if argv is None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _unrecognized(parser: argparse.ArgumentParser, command: str, extras: Sequence[str]) -> None:
    """Usage error (exit 2) from the subcommand's parser for arguments it does not know, with the
    close match of each misspelt flag (`--reduction`: did you mean '--no-reduction'?), as `--param`
    names do (`registry.did_you_mean`). Before, the top-level parser said only
    `kubeprop: bad input: unrecognized arguments: --reduction`."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    flags = sorted({o for a in sub._actions for o in a.option_strings if o.startswith("--")})
    hints = []
    for extra in extras:
        name = extra.split("=", 1)[0]
        close = difflib.get_close_matches(name, flags, n=1, cutoff=0.75) if name.startswith("--") else []
        if close:
            hints.append(f"{name}: did you mean {close[0]!r}?")
    sub.error("\n".join([f"unrecognized arguments: {' '.join(extras)}", *hints]))


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args, extras = parser.parse_known_args(argv)
        if extras:
            _unrecognized(parser, args.command, extras)
    except KeyboardInterrupt:
        sys.stderr.write("kubeprop: interrupted\n")
        return ExitCode.INTERRUPTED
    # From the shell (no argv given) the user's clock started with the process: `--budget` counts
    # Python's start-up and imports too. Called with arguments (tests, a library), from here.
    args.started = time.perf_counter() - (process_age() if argv is None else 0.0)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        from kubeprop.counterexamples.trace import now_utc

        now_utc()  # a malformed SOURCE_DATE_EPOCH is bad input before any work, not after a long check
        with interrupts_kept():
            return run(args)
    except InputError as err:
        if isinstance(err, UserCodeError) and os.environ.get("KUBEPROP_DEBUG"):
            raise  # (the traceback into the user's controller or property)
        sys.stderr.write(f"kubeprop {args.command}: bad input:\n{shown_error(err)}\n")
        return ExitCode.BAD_INPUT
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt as err:
        # A command with something to show (the table so far, files written) raised Interrupted.
        if isinstance(err, Interrupted) and err.partial:
            sys.stdout.write(err.partial.rstrip("\n") + "\n")
        if terminated():
            sys.stderr.write(f"kubeprop {args.command}: terminated by SIGTERM (exit {int(ExitCode.TERMINATED)})\n")
            return ExitCode.TERMINATED
        sys.stderr.write(f"kubeprop {args.command}: interrupted (exit {int(ExitCode.INTERRUPTED)})\n")
        return ExitCode.INTERRUPTED
    except Exception as err:  # the last line of defence: never show a traceback by default
        if os.environ.get("KUBEPROP_DEBUG"):
            raise
        sys.stderr.write(
            f"kubeprop {args.command}: internal error: {type(err).__name__}: {err}\n"
            "This is a bug in kubeprop. Re-run with KUBEPROP_DEBUG=1 to see the traceback.\n"
        )
        return ExitCode.INTERNAL


def _reader_gone() -> int:
    """Standard output's reader went away (`kubeprop schedule | head`): stop quietly, as a tool
    killed by SIGPIPE does, and point stdout at /dev/null so that the interpreter's final flush
    does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
        pass
    return ExitCode.BROKEN_PIPE


def entry() -> None:
    """`python -m kubeprop.properties.cli` and the console script's target."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        code = _reader_gone()
    sys.exit(code)


if __name__ == "__main__":
    entry()
