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
from typing import Any

from kubeprop.properties.cli.exit_codes import ExitCode
from kubeprop.properties.cli.terminal import escaped_output

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


COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("send every object of a scenario or manifest folder through the API server pipeline",
                 "commands:validate_arguments"),
    "check": ("explore a scenario with the engines and check every property", "check_args:add_arguments"),
    "gate": ("CI gate: replay the corpus, run the configured checks, write JUnit", "commands:gate_arguments"),
    "schedule": ("Z3: can every pod be placed at once, after scaling, draining or losing nodes?",
                 "commands:schedule_arguments"),
    "replay": ("re-run counterexample files through the current model: REPRODUCES, PASSES or STALE",
               "commands:replay_arguments"),
    "raft": ("model-check etcd's Raft (elections, replication, reads) at small bounds", "raft_args:add_arguments"),
}
"""Each subcommand: its one-line help (`kubeprop --help`) and the function, `MODULE:NAME` in this
package, that adds its arguments (with `set_defaults(run=…)`, `run` taking the parsed arguments and
returning the exit code; `run` imports the command's module). The function is imported and called
only when the command is chosen, so `kubeprop --help`, `--version` and a bad flag import none of
the model's engines."""


def add_arguments(parser: argparse.ArgumentParser, command: str) -> None:
    """Give the parser of `command` its arguments (`COMMANDS`)."""
    import importlib

    module, function = COMMANDS[command][1].split(":")
    getattr(importlib.import_module(f"kubeprop.properties.cli.{module}"), function)(parser)


class _Commands(argparse._SubParsersAction):  # type: ignore[type-arg]
    """The subcommands' parsers, each given its arguments when its command is chosen (argparse
    calls this action with the command's name and the arguments after it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.completed: set[str] = set()

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        command = values[0]
        if command in COMMANDS and command not in self.completed:
            add_arguments(self.choices[command], command)
            self.completed.add(command)
        super().__call__(parser, namespace, values, option_string)


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked for
    (`importlib.metadata` takes a while to import)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str = "show program's version number and exit") -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        parser._print_message(f"kubeprop {_version()}\n", sys.stdout)
        parser.exit()


def _version() -> str:
    """The installed distribution's version (the source tree's when not installed)."""
    from importlib import metadata

    try:
        return metadata.version("kubeprop")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand (each one's arguments added when it is chosen)."""
    parser = _Parser(prog="kubeprop", description=DESCRIPTION)
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, action=_Commands)
    sub.required = True
    for command, (help_line, _) in COMMANDS.items():
        sub.add_parser(command, help=help_line)
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
        from kubeprop.properties.cli.interrupted import terminated

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
    from kubeprop.counterexamples.printable import shown_error
    from kubeprop.model.errors import InputError, UserCodeError
    from kubeprop.properties.cli.interrupted import Interrupted, interrupts_kept, terminated
    from kubeprop.properties.explore.engine import process_age

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
    except SystemExit as err:  # not kubeprop's own exit: those of the parser come before `run`
        return _stray_exit(args.command, err)
    except Exception as err:  # the last line of defence: never show a traceback by default
        if os.environ.get("KUBEPROP_DEBUG"):
            raise
        sys.stderr.write(
            f"kubeprop {args.command}: internal error: {type(err).__name__}: {err}\n"
            "This is a bug in kubeprop. Re-run with KUBEPROP_DEBUG=1 to see the traceback.\n"
        )
        return ExitCode.INTERNAL


def _stray_exit(command: str, err: SystemExit) -> int:
    """A `SystemExit` that ended the command: kubeprop's own code never raises one once the command
    runs (the parser's usage errors and `--version` come before), so it is code it called — a
    property, a controller, environment rules, or a library they use — calling `sys.exit` outside
    the boundaries that report the user's code (`UserCodeError`, exit 2). Left alone, its code
    would be kubeprop's exit code, and `sys.exit(0)` would read as "held" with nothing printed: an
    internal error (exit 4) instead, naming where it was raised."""
    from kubeprop.model.user_code import raised_where

    if os.environ.get("KUBEPROP_DEBUG"):
        import traceback

        traceback.print_exc()
    sys.stderr.write(
        f"kubeprop {command}: internal error: SystemExit({err.code!r}) raised{raised_where(err)} ended the command "
        "before it finished: its exit code is not a result. Code that kubeprop runs (a property, a controller, "
        "environment rules) must not call sys.exit. Re-run with KUBEPROP_DEBUG=1 to see the traceback.\n")
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
