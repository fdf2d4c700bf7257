"""kubeprop.counterexamples: violations as replayable trace files.

The public surface:

- `check`, `CheckReport`, `assert_no_discovery`, `assert_discovery`, `explain`, `ENGINES`,
  `register_engine` (api.py): run an engine on a scenario from Python or pytest;
- `record`, `record_result`, `TraceError` (trace.py): an engine's trace → `Counterexample`;
- `load`, `loads`, `write`, `dumps`, `Counterexample`, `CounterexampleError` (format.py, which
  re-exports the record of format_records.py and the readers of format_read.py);
- `replay`, `ReplayResult`, `Verdict` (replay.py); `render_text` (render.py), `render_html`
  (render_html.py); `fingerprint` (fingerprint.py);
- `output.write_text` / `append_text` / `OutputError`: writing any output file without clobbering.

A counterexample file is data: replaying one imports no module it names unless allowed by name
(`replay(allow_imports=...)`).

`replay` and `fingerprint` are both a submodule and a function; the names here are the functions.
"""

from __future__ import annotations

from kubeprop.counterexamples.api import (
    ENGINES,
    CheckReport,
    assert_discovery,
    assert_no_discovery,
    check,
    explain,
    register_engine,
)
from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.counterexamples.format import Counterexample, CounterexampleError, dumps, load, loads, write
from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.render_html import render_html
from kubeprop.counterexamples.replay import ReplayResult, Verdict, replay
from kubeprop.counterexamples.trace import TraceError, record, record_result

__all__ = [
    "ENGINES", "CheckReport", "Counterexample", "CounterexampleError", "ReplayResult", "TraceError", "Verdict",
    "assert_discovery", "assert_no_discovery", "check", "dumps", "explain", "fingerprint", "load", "loads",
    "record", "record_result", "register_engine", "render_html", "render_text", "replay", "write",
]
