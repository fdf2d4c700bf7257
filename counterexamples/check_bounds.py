"""The bounds a check runs with, and where each came from: given (a `kubeprop check` flag, an
argument of `kubeprop.counterexamples.check`), the scenario's `bounds:` section, or the default.

A scenario's `bounds.maxDepth`, `bounds.maxStates` and `bounds.timeLimitSeconds` are the defaults
of `--max-depth`, `--max-states` and `--budget` (docs/scenario.md): a value given on the command
line (or to `check`) wins, the scenario's applies when none is given, and the built-in default
when the scenario has none either. `kubeprop check` prints where each bound came from when the
scenario sets any (`CheckBounds.line`).
"""

from __future__ import annotations

import enum
from typing import Literal

import attrs

from kubeprop.model.scenario.checks import BOUND_RANGES
from kubeprop.model.scenario.schema import Bounds as ScenarioBounds

__all__ = ["DEFAULT_BUDGET", "MAX_DEPTH", "MAX_STATES", "UNSET", "CheckBounds", "Chosen", "Unset", "check_bounds"]

DEFAULT_BUDGET = 60.0
"""Seconds of wall clock a check runs when neither the caller nor the scenario says."""

MAX_DEPTH = BOUND_RANGES["maxDepth"][1]
"""The largest depth bound: `kubeprop check --max-depth` and a scenario's `bounds.maxDepth`."""

MAX_STATES = BOUND_RANGES["maxStates"][1]
"""The largest distinct-state bound: `kubeprop check --max-states` and a scenario's
`bounds.maxStates`. The bound exists for memory: the breadth-first search keeps about 400 bytes
per further distinct state on FeastFlow (docs/engines.md, "A frontier that fits"), but the search
around the fair run — the portfolio's first member — keeps every distinct state whole, about
7.9 KB each, so a million states is about 7.3 GiB for it: as much as a large machine holds
(docs/cli.md, "Bounds from the scenario, and their ranges", gives the measurements)."""


class Unset(enum.Enum):
    """The type of `UNSET`: an argument left out (None means "unbounded" where a bound may be)."""

    UNSET = "unset"


UNSET = Unset.UNSET
"""An argument the caller did not give: the scenario's bound applies, else the default."""

Source = Literal["given", "scenario", "default"]


@attrs.frozen
class Chosen:
    """One bound in effect (None: unbounded) and where it came from."""

    value: float | None
    source: Source
    scenario: float | None = None
    """The scenario's value, when it set one (shown when a given value overrides it)."""


@attrs.frozen
class CheckBounds:
    """The depth, distinct-state and wall-clock bounds of a check."""

    max_depth: Chosen
    max_states: Chosen
    budget: Chosen

    @property
    def from_scenario(self) -> bool:
        """Whether the scenario sets any of the three (then `kubeprop check` says where each came from)."""
        return any(c.scenario is not None for c in (self.max_depth, self.max_states, self.budget))

    def line(self, flags: tuple[str, str, str] = ("--max-depth", "--max-states", "--budget")) -> str:
        """`bounds: max depth 7 (scenario bounds.maxDepth), max states 600 (--max-states; the
        scenario's bounds.maxStates 500 overridden), budget 60 s (default)`; `flags` name how a
        caller gives each bound."""
        parts = []
        for label, chosen, flag, field, unit in (("max depth", self.max_depth, flags[0], "maxDepth", ""),
                                                 ("max states", self.max_states, flags[1], "maxStates", ""),
                                                 ("budget", self.budget, flags[2], "timeLimitSeconds", " s")):
            value = "unbounded" if chosen.value is None else f"{chosen.value:,g}{unit}"
            if chosen.source == "scenario":
                where = f"scenario bounds.{field}"
            elif chosen.source == "given":
                where = flag if chosen.scenario is None else (
                    f"{flag}; the scenario's bounds.{field} {chosen.scenario:,g}{unit} overridden")
            else:
                where = "default"
            parts.append(f"{label} {value} ({where})")
        return "bounds: " + ", ".join(parts)


def _chosen(given: float | Unset | None, scenario: float | None, default: float | None) -> Chosen:
    if given is not UNSET:
        return Chosen(given, "given", scenario)
    if scenario is not None:
        return Chosen(scenario, "scenario", scenario)
    return Chosen(default, "default")


def check_bounds(bounds: ScenarioBounds, *, max_depth: int | Unset | None = UNSET,
                 max_states: int | Unset | None = UNSET, budget: float | Unset | None = UNSET,
                 default_depth: int) -> CheckBounds:
    """The bounds of a check of a scenario with these `bounds:`: each given value wins (None:
    unbounded, for `max_states` and `budget`), else the scenario's, else the default
    (`default_depth`, no state bound, `DEFAULT_BUDGET` seconds)."""
    return CheckBounds(_chosen(max_depth, bounds.max_depth, default_depth),
                       _chosen(max_states, bounds.max_states, None),
                       _chosen(budget, bounds.time_limit_seconds, DEFAULT_BUDGET))
