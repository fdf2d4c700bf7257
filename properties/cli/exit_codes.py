"""The exit codes of every `kubeprop` command, defined once (docs/cli.md shows this table).

| code | meaning |
|---|---|
| 0 | no violation; every checked thing held (replay: every file PASSES) |
| 1 | a violation or finding (replay: a file REPRODUCES; schedule: a pod cannot be placed) |
| 2 | bad input or usage: a file, field, flag — or the user's controller or property code — is wrong (named) |
| 3 | inconclusive: a bound cut an exhaustive search short, no engine took a step, Z3 said unknown, or STALE |
| 4 | internal error: a bug in kubeprop (re-run with KUBEPROP_DEBUG=1 for the traceback) |
| 130 | interrupted (Ctrl-C) |
| 143 | terminated (SIGTERM: a CI timeout or cancel); what was done so far is written, as for Ctrl-C |
| 141 | the reader of standard output went away (output piped into `head`), as a tool stopped by SIGPIPE |
"""

from __future__ import annotations

import enum

__all__ = ["ExitCode"]


class ExitCode(enum.IntEnum):
    """Process exit codes; see the module docstring."""

    OK = 0
    VIOLATION = 1
    BAD_INPUT = 2
    INCONCLUSIVE = 3
    INTERNAL = 4
    INTERRUPTED = 130
    TERMINATED = 143
    BROKEN_PIPE = 141
