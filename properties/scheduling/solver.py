"""One Z3 solver over a scheduling `Problem`, queried incrementally under assumptions.

`SchedulingSolver(problem, rlimit)` parses the encoding once; `check(down=...)` asks whether every
pending pod can be placed with the named nodes down (what-ifs reuse the solver: only the
assumption literals change). Results are deterministic: Z3's random seeds are fixed and the
budget is Z3's resource limit (`rlimit`, counted per check), never wall-clock time, so the same
question gets the same answer on any machine. An unsat answer carries a *minimal* core: the
solver's core shrunk by deletion (each literal dropped if the rest stays unsat), in a fixed order
that drops pods first so explanations name as few pods as possible.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

import attrs
import z3

from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.decide import pod_key
from kubeprop.properties.scheduling.encode import Encoding, Problem, encode

__all__ = ["DEFAULT_RLIMIT", "Outcome", "SchedulingSolver"]

DEFAULT_RLIMIT = 50_000_000
"""Z3 resource units per check: ~25x what the 1000 pods x 100 nodes benchmark needs (~1.8 M)."""

Status = Literal["sat", "unsat", "unknown"]
_TRUE_VAR = re.compile(r"\(define-fun x(\d+)_(\d+) \(\) Bool\s+true\)")
_DROP_ORDER = ("place", "affinity", "anti", "existing-anti", "ports", "spread", "resource", "down")


@attrs.frozen
class Outcome:
    """A check's answer: a placement (sat), a minimal core of tracking literals (unsat), or the
    reason Z3 gave up (unknown); `spent` is the resource units used."""

    status: Status
    placement: FrozenMap[str, str] = EMPTY
    core: tuple[str, ...] = ()
    spent: int = 0
    reason: str = ""


def _seed() -> None:
    z3.set_param("smt.random_seed", 0)
    z3.set_param("sat.random_seed", 0)


class SchedulingSolver:
    """The encoding of one problem loaded into one solver; `check` may be called many times."""

    def __init__(self, problem: Problem, rlimit: int = DEFAULT_RLIMIT, encoding: Encoding | None = None) -> None:
        _seed()
        self.problem = problem
        self.enc = encoding if encoding is not None else encode(problem)
        self.rlimit = rlimit
        self.solver = z3.Solver()
        self.solver.set("random_seed", 0)
        self.solver.set("rlimit", rlimit)
        self.solver.add(z3.parse_smt2_string(self.enc.text()))
        self.lits = {name: z3.Bool(name) for name in self.enc.tracks}
        self.spent = 0

    def node_index(self, name: str) -> int:
        """The index of the node called `name` (ValueError if absent)."""
        names = [ni.name for ni in self.problem.nodes]
        return names.index(name)

    def _assumptions(self, names: Iterable[str], down: frozenset[int]) -> list[z3.BoolRef]:
        out: list[z3.BoolRef] = []
        for name in names:
            track = self.enc.tracks[name]
            if track.kind == "down":
                out.append(self.lits[name] if track.nodes[0] in down else z3.Not(self.lits[name]))
            else:
                out.append(self.lits[name])
        return out

    def _run(self, names: Iterable[str], down: frozenset[int]) -> z3.CheckSatResult:
        before = _rlimit_count(self.solver)
        result = self.solver.check(*self._assumptions(names, down))
        self.spent += max(0, _rlimit_count(self.solver) - before)
        return result

    def check(self, down: Iterable[str] = (), minimise: bool = True) -> Outcome:
        """Can every pending pod be placed with the nodes named in `down` removed?"""
        down_ix = frozenset(self.node_index(n) for n in down)
        names = sorted(self.enc.tracks)
        start = self.spent
        result = self._run(names, down_ix)
        if result == z3.sat:
            return Outcome("sat", self._placement(), spent=self.spent - start)
        if result == z3.unknown:
            return Outcome("unknown", spent=self.spent - start, reason=self.solver.reason_unknown())
        core = self._core_names()
        if minimise:
            core = self._minimise(core, down_ix)
        return Outcome("unsat", core=tuple(core), spent=self.spent - start)

    def _core_names(self) -> list[str]:
        out = []
        for lit in self.solver.unsat_core():
            expr = lit.arg(0) if z3.is_not(lit) else lit
            out.append(str(expr))
        return out

    def _minimise(self, core: list[str], down: frozenset[int]) -> list[str]:
        """Deletion-based minimisation; a check that runs out of budget keeps the literal."""
        rank = {kind: n for n, kind in enumerate(_DROP_ORDER)}
        current = sorted(core, key=lambda n: (rank[self.enc.tracks[n].kind], _natural(n)))
        i = 0
        while i < len(current):
            trial = current[:i] + current[i + 1:]
            if self._run(trial, down) == z3.unsat:
                smaller = set(self._core_names())
                current = [n for n in trial if n in smaller]
            else:
                i += 1
        return sorted(current, key=lambda n: (rank[self.enc.tracks[n].kind], _natural(n)))

    def _placement(self) -> FrozenMap[str, str]:
        """The true placement variables, read from the model's text in one call (reading the
        model declaration by declaration costs a Python call per variable)."""
        out: dict[str, str] = {}
        for i, j in _TRUE_VAR.findall(self.solver.model().sexpr()):
            out[pod_key(self.problem.pending[int(i)])] = self.problem.nodes[int(j)].name
        return FrozenMap(out)


def _natural(name: str) -> tuple[str, int]:
    digits = "".join(ch for ch in name if ch.isdigit() or ch == "_").split("_")[0]
    return (name.rstrip("0123456789_"), int(digits) if digits else 0)


def _rlimit_count(solver: z3.Solver) -> int:
    stats = solver.statistics()
    return int(stats.get_key_value("rlimit count")) if "rlimit count" in stats.keys() else 0  # noqa: SIM118
