"""The catalogue benchmark's rows and Markdown tables: `UserRow` (one variant or user's controller
as `kubeprop check` met it), the shortest known counterexamples the lengths are measured against
(`SHORTEST`), and the tables `bench_catalogue.py` prints (`user_table`, `lane_table`, `verdict`).

Imported by `bench_catalogue.py`; imports kubeprop only (the length wording `kubeprop check`
prints), no other benchmark script.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import attrs

from kubeprop.counterexamples.format_records import length_words

CANNOT = "cannot occur here"
"""How a row of a variant that cannot show on the scenario begins."""

SHORTEST: dict[tuple[str, str], int] = {
    ("web", "rs-no-expectations"): 5, ("web", "endpoints-terminating"): 41, ("web", "endpoints-liveness"): 19,
    ("web", "nodelifecycle-crash"): 59, ("web-flap", "endpoints-stale-cache"): 27,
    ("web-rollout", "rollout-fencepost"): 3, ("db", "sts-split-brain"): 106,
    ("db-failover", "watch-time-travel"): 4, ("tainted", "scheduler-ignores-taints"): 6,
    ("tight", "dual-scheduler"): 7, ("shop", "sts-split-brain"): 172,
    ("feastflow", "rs-no-expectations"): 5, ("feastflow", "endpoints-terminating"): 242,
    ("feastflow", "endpoints-liveness"): 22, ("feastflow", "endpoints-stale-cache"): 249,
    ("feastflow", "nodelifecycle-crash"): 205, ("feastflow", "sts-split-brain"): 262,
    ("feastflow", "watch-time-travel"): 4, ("feastflow", "scheduler-ignores-taints"): 7,
    ("feastflow", "dual-scheduler"): 64,
}
"""(scenario, variant) → the shortest known counterexample: the default strategy's, shrunk for a
minute (`--shortest` recomputes them, with `--feastflow` FeastFlow's too). Kept across runs only
while the model's runs stay the same: nodelifecycle-crash on web was 15 before the model fix that
made its one-fault path go (docs/catalogue.md), then 124 until shrinking shrank a run's choices
first (23); the eleventh round's shrinking brought FeastFlow's endpoints-terminating 278 → 69,
dual-scheduler 272 → 48, sts-split-brain 167 → 77 (shop 132 → 73). Recomputed in the fifteenth
round (commit 9eb9bd8) for the scenarios whose runs the fourteenth round's volume binding changed
(claims are now provisioned and bound before a StatefulSet's pod can run, and FeastFlow's fair run
went 62 → 67 steps): the older, shorter figures were of the model before volume binding.
The other rows kept theirs (what `kubeprop check --budget 10` records there still has that length);
each recomputed figure equals what it now records (its shrinking reaches the same trace within its
step bound).
In the sixteenth round (commit 4a08f17) every row was recomputed, when the clock began to wait for
prompt work: traces that let time pass while the control plane had work in hand are gone
(docs/catalogue.md).
In the twentieth round FeastFlow's endpoints-stale-cache was recomputed (56 → 249, commit cc5efca:
`shortest_known(None, "endpoints-stale-cache", 300.0)`, whose shrinking reached its fixed point in
81 s, past `--shortest`'s minute): the 56 was of a model before the kubelet's probe timing and the
clock's rules for prompt work, where a probe could fail before the fair run's end; now time passes
only once the control plane's work is done, so every find keeps FeastFlow's three rollouts
(docs/engines.md, "where FeastFlow's endpoints-stale-cache counterexample comes from")."""


@attrs.frozen
class UserRow:
    """One variant on one user scenario: what `kubeprop check` gave, and the correct model."""

    variant: str
    scenario: str
    found: bool
    caught: bool
    property: str
    seconds_to_find: float
    seconds_total: float
    engine: str
    length: int
    correct: str
    steps: int = 0
    """The portfolio's steps in all (every member, lanes past the answer included)."""
    lanes: tuple[float, ...] = ()
    """CPU seconds of each lane."""
    continuation: int = 0
    """The fair continuation's steps a convergence counterexample's file adds after `length`."""


def verdict(answer: dict[str, Any]) -> str:
    """The correct-model column: `clean`, `clean (upstream: PROPERTY, BEHAVIOUR, N steps)` when every
    find is known upstream behaviour (`kubeprop check` lists it under UPSTREAM and exits 0), or
    `VIOLATION PROPERTY (N steps)`."""
    if answer["property"] is not None:
        return f"VIOLATION {answer['property']} ({_length(answer['length'], answer['continuation'])})"
    known = "; ".join(f"{u['property']}, {u['behaviour']}, {_length(u['length'], u['continuation'])}"
                      for u in answer["upstream"])
    return f"clean (upstream: {known})" if known else "clean"


def _length(found: int, continuation: int) -> str:
    """`5 steps`, or `3 steps, then a fair continuation of 66`: `kubeprop check`'s own wording
    (`length_words`) for `found` actions and the fair continuation after them."""
    return length_words(found + continuation, found)


def _seconds(value: float) -> str:
    """A time to report; `math.inf` when the re-run did not find the violation again in its budget."""
    return "not found again in the budget" if math.isinf(value) else f"{value:.2f} s"


def _user_cell(row: UserRow, shortest: int | None) -> str:
    if row.property.startswith(CANNOT):
        return f"{row.property} | — | — | — | —"
    if not row.found:
        return f"not found ({row.property}) | — | — | — | —"
    ratio = f" ({row.length / shortest:.1f}× the shortest known, {shortest})" if shortest else ""
    mark = "" if row.caught else " (not the catalogue's property)"
    then = f", then a fair continuation of {row.continuation}" if row.continuation else ""
    return (f"{row.property}{mark} | {row.seconds_to_find:.2f} s | {_seconds(row.seconds_total)} | {row.engine} | "
            f"{row.length}{then}{ratio}")


def user_table(rows: list[UserRow], title: str, first: str = "variant", last: str = "correct model, same budget"
               ) -> list[str]:
    out = [f"**{title}**", "", f"| {first} | scenario | found first (P) | time to find | time to report, "
           f"`--property P` | engine | length | {last} |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        out.append(f"| {row.variant} | {row.scenario} | {_user_cell(row, SHORTEST.get((row.scenario, row.variant)))} "
                   f"| {row.correct} |")
    found = sorted(r.seconds_to_find for r in rows if r.found)
    totals = sorted(r.seconds_total for r in rows if r.found)
    cannot = sum(r.property.startswith(CANNOT) for r in rows)
    among = f"{len(rows) - cannot} that can occur ({cannot} cannot occur here)" if cannot else f"{len(rows)}"
    if found:
        out += ["", f"{len(found)} of {among} found; time to find: median {statistics.median(found):.2f} s, "
                f"worst {found[-1]:.2f} s; time to report: median {_seconds(statistics.median(totals))}, worst "
                f"{_seconds(totals[-1])}."]
    return out


def lane_table(rows: list[UserRow]) -> list[str]:
    """The portfolio's effort for each found variant: its steps (every member; lanes run past the
    answer until they hear of it) and each lane's CPU seconds, the slowest lane's setting the pace."""
    out = ["| variant | lanes | portfolio steps | CPU s per lane | slowest lane |", "|---|---|---|---|---|"]
    for row in rows:
        if row.found and row.lanes:
            cpu = " + ".join(f"{c:.2f}" for c in row.lanes)
            out.append(f"| {row.variant} | {len(row.lanes)} | {row.steps:,} | {cpu} | {max(row.lanes):.2f} |")
    return out
