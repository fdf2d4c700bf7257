"""argparse types: numbers read strictly (ASCII digits only, finite, inside a documented range), and
output folders checked before any work is done.

Python's `int()` and `float()` accept more than a user means: `int("٣")` and `int("５")` are 3 and
5, `float("nan")` and `float("inf")` are numbers, and `str.isdigit` is true for `²`. These
parsers accept exactly an optional sign and ASCII digits (and, for seconds, one decimal point
and an exponent), so a typo is an error naming the flag and the valid range (exit 2).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from pathlib import Path

from kubeprop.counterexamples.check_bounds import MAX_DEPTH, MAX_STATES
from kubeprop.counterexamples.module_names import module_name_problem
from kubeprop.counterexamples.output import OutputError, check_output_folder

__all__ = ["MAX_SECONDS", "RLIMIT_MAX", "ascii_int", "depth_bound", "input_path", "int_in", "module_name",
           "output_folder", "output_path", "parse_int", "rlimit_flag", "seconds", "state_bound"]

MAX_SECONDS = 10_000_000.0
"""The largest budget in seconds a flag accepts (about 115 days)."""

_INT = re.compile(r"[+-]?[0-9]{1,30}")
_FLOAT = re.compile(r"[+-]?([0-9]{1,30}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][+-]?[0-9]{1,3})?")


def parse_int(text: str) -> int | None:
    """The integer `text` writes in ASCII digits (optional sign), or None."""
    return int(text) if _INT.fullmatch(text) else None


def ascii_int(text: str, minimum: int, maximum: int, what: str) -> int:
    """`text` as an integer in [minimum, maximum]; ValueError with a message naming `what` otherwise."""
    value = parse_int(text)
    if value is None or not minimum <= value <= maximum:
        raise ValueError(f"{what} must be a whole number from {minimum:,} to {maximum:,} "
                         f"(ASCII digits), got {text!r}")
    return value


def int_in(minimum: int, maximum: int) -> Callable[[str], int]:
    """An argparse `type=` for an integer in [minimum, maximum]."""
    def parse(text: str) -> int:
        try:
            return ascii_int(text, minimum, maximum, "the value")
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    parse.__name__ = "integer"
    return parse


RLIMIT_MAX = 2**63 - 1
"""The largest `kubeprop schedule --rlimit` taken (a 64-bit count: larger ones are no budget anyway)."""


def rlimit_flag(text: str) -> int:
    """argparse `type=` of `--rlimit`: a whole number (a zero or negative one is refused by
    `kubeprop schedule` (`schedule.run_schedule`), naming the value), at most `RLIMIT_MAX`."""
    value = parse_int(text)
    if value is None or value > RLIMIT_MAX:
        raise argparse.ArgumentTypeError(f"must be a positive whole number of Z3 resource units up to "
                                         f"{RLIMIT_MAX:,} (ASCII digits), got {text!r}")
    return value


depth_bound = int_in(1, MAX_DEPTH)
"""`--max-depth` of `kubeprop check` and `kubeprop raft`: 1 to `MAX_DEPTH` (a scenario's `bounds.maxDepth`
has the same range), one definition for both commands."""

state_bound = int_in(1, MAX_STATES)
"""`--max-states` of `kubeprop check` and `kubeprop raft`: 1 to `MAX_STATES` (a scenario's
`bounds.maxStates` has the same range), one definition for both commands."""


def seconds(text: str) -> float:
    """An argparse `type=` for a positive, finite number of seconds up to MAX_SECONDS."""
    value = float(text) if _FLOAT.fullmatch(text) else math.nan
    if not (math.isfinite(value) and 0 < value <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds up to {MAX_SECONDS:,.0f}, "
                                         f"got {text!r}")
    return value


def input_path(what: str) -> Callable[[str], Path]:
    """An argparse `type=` for a path the command reads: an empty value is refused, saying what to
    give (`what`), since `Path("")` is the working folder `.` and would be read as one."""
    def parse(text: str) -> Path:
        if not text:
            raise argparse.ArgumentTypeError(f"the value is empty; give {what}")
        return Path(text)
    parse.__name__ = "path"
    return parse


def output_path(text: str) -> Path | str:
    """An argparse `type=` for an output path the command checks itself, with its other problems
    (`gate_outputs`, `replay --html`): a `Path`, or the empty string kept as given, so that the
    check can say the value is empty (`Path("")` is the working folder `.`)."""
    return Path(text) if text else text


def output_folder(text: str) -> Path:
    """An argparse `type=` for a folder counterexample files are written to: it may not exist yet,
    but it must be a folder files can be written into, or one that can be created there
    (`output.check_output_folder`): refused now rather than after the engines ran. An empty value
    is refused (`Path("")` would be the working folder)."""
    if not text:
        raise argparse.ArgumentTypeError("the value is empty; give a folder for counterexample files (the default "
                                         "is kubeprop-out)")
    path = Path(text)
    try:
        check_output_folder(path)
    except OutputError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return path


def module_name(text: str) -> str:
    """An argparse `type=` for a Python module name (`--allow-import team_checks`): dotted
    identifiers, nothing the import system would misread (`../../evil`)."""
    problem = module_name_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text
