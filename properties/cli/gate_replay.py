"""Corpus replays for the gate, each in a child process: whatever a file does, the gate fails closed.

A corpus file under review imports nothing it was not allowed to (`replay(allow_imports=…)`), but
an allowed module — or a bug — can still call `sys.exit`, `os._exit`, `os.abort`, raise a signal
or loop forever. Each file is therefore replayed in a child process (forked where the platform
allows, else spawned) that sends its `Case` back through a pipe. The gate's verdict for the file
is the child's case only if the child also exits normally; a child that exits without a case,
with a non-zero code, on a signal or after `timeout` seconds is an `error` case saying which.

A corpus file replays under the scenario it carries, whatever the config's checks run on; its case
notes (`scenario_notes`) say which parameters that scenario sets, and where it differs from a
check's scenario of the same name (a team that moved its scenario to another release sees that
its corpus did not move with it). The notes never change a verdict.
"""

from __future__ import annotations

import multiprocessing
import signal
import time
from collections.abc import Collection, Iterable
from multiprocessing.connection import Connection
from pathlib import Path

import attrs

from kubeprop.counterexamples.format_records import CounterexampleError
from kubeprop.counterexamples.printable import shown_error
from kubeprop.counterexamples.raft_trace import RaftReplay
from kubeprop.counterexamples.render import replay_relies_line
from kubeprop.counterexamples.replay import ReplayResult
from kubeprop.counterexamples.replay_file import render_file_replay, replay_file
from kubeprop.counterexamples.replayed_under import replayed_under, under_words
from kubeprop.counterexamples.scenario_diff import ScenarioDigest, difference_words, differences, digest, in_force
from kubeprop.model.errors import InputError
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.cli.gate_config import DEFAULT_CHECKS, GateConfig, resolve
from kubeprop.properties.cli.gate_report import Case
from kubeprop.properties.registry import registry_kept

__all__ = ["LinkedScenario", "corpus_case", "linked_scenarios", "replay_case", "scenario_notes"]


def gate_advice(path: str, modules: Collection[str]) -> str:
    """How to let a corpus file import its modules, in the gate's words: its config's `allowImports`."""
    return f"list {'them' if len(modules) > 1 else 'it'} under the gate config's allowImports: [{', '.join(modules)}]"


@attrs.frozen
class LinkedScenario:
    """A check's scenario as a corpus file's is compared with it: `where` names the check (`checks[0]
    web.yaml`), `digest` is its scenario with the check's `parameters:` (plain data: it goes to the
    child process that replays the file)."""

    where: str
    digest: ScenarioDigest


def linked_scenarios(config: GateConfig, base: Path) -> tuple[LinkedScenario, ...]:
    """Every check's scenario that loads (one that does not is the check's own error case), for
    `scenario_notes`: the config names no corpus file's scenario, so a file and a check are linked
    by the scenario's name (`metadata.name`), the name the file records."""
    linked = []
    for i, spec in enumerate(config.checks or DEFAULT_CHECKS):
        path = resolve(spec.scenario, base) if spec.scenario else None
        try:
            with registry_kept():
                scenario = load_scenario(path)
        except (InputError, OSError):
            continue
        linked.append(LinkedScenario(f"checks[{i}] {spec.scenario or 'feastflow'}",
                                     digest(scenario, spec.parameters)))
    return tuple(linked)


def scenario_notes(result: ReplayResult, linked: Iterable[LinkedScenario]) -> tuple[tuple[str, str], ...]:
    """The notes on a replayed cluster file (`Case.notes`): the parameters it replays under when
    some are not at their defaults, and, for each check whose scenario has the name of the file's
    own but differs from it, what differs (file's → check's). A note never changes the verdict: the
    file replays under the scenario it carries."""
    notes = []
    if in_force(result.model.parameters, result.model.variant):
        notes.append(("replays under", under_words(replayed_under(result))))
    own = digest(result.model.scenario, result.counterexample.parameters)
    for check in linked:
        if check.digest.name == own.name and differences(own, check.digest):
            notes.append(("scenario differs", f"its own scenario {own.name}, which it replays under, differs from "
                          f"{check.where} (same name): {difference_words(own, check.digest)}"))
    return tuple(notes)


def corpus_case(path: Path, allow_imports: tuple[str, ...], linked: tuple[LinkedScenario, ...] = ()) -> Case:
    """Replay one corpus file in this process: its verdict must match its expectation; its notes
    (`scenario_notes`) compare its scenario with the `linked` checks' ones."""
    began = time.perf_counter()
    try:
        result = replay_file(path, allow_imports=allow_imports, allow_advice=gate_advice)
    except (CounterexampleError, InputError) as err:
        problems = shown_error(err).replace("\n", "; ")  # one line: a case's message is one line of the log
        return Case("corpus", path.name, "error", f"unreadable: {problems}", "", time.perf_counter() - began,
                    str(path))
    ok = result.verdict == result.required  # its expectation, else REPRODUCES (as replay --expect)
    detail = render_file_replay(result) if not ok else ""
    message = f"{result.verdict.value}, expected {result.required}: {result.reason}"
    relies = "" if isinstance(result, RaftReplay) else replay_relies_line(result)  # a Raft replay prints none
    notes = () if isinstance(result, RaftReplay) else scenario_notes(result, linked)
    return Case("corpus", path.name, "passed" if ok else "failed", message, detail, time.perf_counter() - began,
                str(path), relies, notes)


def _child(path: str, allow_imports: tuple[str, ...], linked: tuple[LinkedScenario, ...], send: Connection) -> None:
    """The child process: replay, send the case (a crash is a case too), exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it kills the child
    try:
        case = corpus_case(Path(path), allow_imports, linked)
    except BaseException as err:
        case = Case("corpus", Path(path).name, "error", f"the replay crashed: {type(err).__name__}: {err}", "",
                    0.0, path)
    send.send(case)
    send.close()


def _context() -> multiprocessing.context.BaseContext:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _death(exitcode: int | None, timed_out: bool, timeout: float, killed: bool = True) -> str:
    """Why a replay gave no verdict: it timed out (sent nothing within `timeout`; `killed` if it was
    still running then), died on a signal, or exited without sending its case."""
    if timed_out:
        return f"the replay did not finish within {timeout:g} s (replayTimeout){' and was killed' if killed else ''}"
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the replay process was killed by {name}"
    return f"the replay process exited with code {exitcode} without a verdict"


def replay_case(path: Path, allow_imports: tuple[str, ...], timeout: float,
                linked: tuple[LinkedScenario, ...] = ()) -> Case:
    """Replay `path` in a child process (see the module docstring) and return its case (`linked`:
    `corpus_case`)."""
    began = time.perf_counter()
    context = _context()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(str(path), allow_imports, linked, send),  # type: ignore[attr-defined]
                            daemon=True)
    child.start()
    send.close()
    case: Case | None = None
    killed = late = False
    try:
        if receive.poll(timeout):
            try:
                received = receive.recv()
                case = received if isinstance(received, Case) else None
            except (EOFError, OSError, ValueError):  # the child died (or closed the pipe) without a case
                case = None
            child.join(max(0.0, began + timeout - time.perf_counter()) + 1.0)
        else:  # nothing within replayTimeout: timed out, whatever the child does next (it may finish now)
            late = True
    finally:
        if child.is_alive():
            killed = True
            child.kill()
        child.join()
        receive.close()
    if case is not None and child.exitcode == 0:
        return case
    reason = _death(child.exitcode, killed or late, timeout, killed)
    if case is not None:
        reason = f"{reason.replace(' without a verdict', '')} after reporting: {case.status}, {case.message}"
    return Case("corpus", path.name, "error", reason, "", time.perf_counter() - began, str(path))
