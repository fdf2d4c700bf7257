"""Replay whichever kind of counterexample file a path holds: a cluster trace or a Raft trace.

`kubeprop replay` tells the two apart itself; the gate and the pytest plugin replay a corpus
folder that may hold both, so they come here. A Raft file names no module, so `allow_imports`
matters only for cluster files.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kubeprop.counterexamples import raft_trace
from kubeprop.counterexamples.render import render_text
from kubeprop.counterexamples.replay import ReplayResult, replay
from kubeprop.counterexamples.reproduce import AllowAdvice

__all__ = ["render_file_replay", "replay_file"]


def replay_file(path: Path, *, allow_imports: Iterable[str] = (),
                allow_advice: AllowAdvice | None = None) -> ReplayResult | raft_trace.RaftReplay:
    """Replay the file at `path` with the reader its `system` field names (cluster by default)."""
    if raft_trace.is_raft_file(path):
        return raft_trace.replay(path)
    return replay(path, allow_imports=allow_imports, allow_advice=allow_advice)


def render_file_replay(result: ReplayResult | raft_trace.RaftReplay, shown_path: str | None = None) -> str:
    """The replay as text, step by step, as `kubeprop replay` prints it."""
    if isinstance(result, raft_trace.RaftReplay):
        return raft_trace.render_text(result)
    return render_text(result, shown_path=shown_path)
