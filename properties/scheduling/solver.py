"""One Z3 solver over a scheduling `Problem`, queried incrementally under assumptions.

`SchedulingSolver(problem, rlimit)` parses the encoding once; `check(down=...)` asks whether every
pending pod can be placed with the named nodes down — lost, as a deleted Node: no pod goes there,
the DaemonSet pod made for it need not be placed, and a domain whose nodes are all down stops
counting for spreading, though pods bound there still count (`kubeprop schedule` asks a set that
loses bound pods of a problem with the nodes removed instead, `schedule._what_if`). What-ifs reuse
the solver: only the assumption literals change; a drain is not a node down but a changed problem,
`drain.drain`. Results are deterministic: Z3's random seeds are fixed and the
budget is Z3's resource limit (`rlimit`, counted per check), never wall-clock time, so the same
question gets the same answer on any machine (and a fresh solver's first check is remembered by
its encoding's text within a process: `SchedulingSolver._first`). An unsat answer carries a
*minimal* core: the solver's core shrunk by deletion (each literal dropped if the rest stays unsat), in a fixed order
that drops pods first so explanations name as few pods as possible — halves of the candidate list
first, then quarters, down to single literals, so a core of thousands of pods shrinks in a few
dozen checks. The minimisation as a whole gets the budget of one check (`rlimit`); a core it
could not finish shrinking is reported with `minimal=False`. The build is bounded too: `encode`
stops past `build_budget(rlimit)` units of work (EncodingTooLarge), so a large `--scale`
ends with "unknown" instead of running unbounded.

A wall-clock budget (`Deadline`, `kubeprop schedule --budget`) may bound a solver besides: each
check gets what is left of it as Z3's `timeout`, the build checks it as it counts its work, and
once it has passed a check raises `BudgetSpent` — except in the core's minimisation, which then
stops with the core it has (`minimal=False`), as when its rlimit runs out. Only an answer the
budget cut depends on the machine; a solver with a budget does not use the first-check memo.

Z3's SMT core runs with relevancy propagation off and without auto-configuration: on the
scheduling encodings (≈10⁵ Booleans, a few hundred large pseudo-boolean constraints) that halves
the first check and the what-ifs (docs/scheduling.md has the measurements).
"""

from __future__ import annotations

import ctypes
import platform
import re
from collections.abc import Iterable
from typing import Literal

import attrs
import z3

from kubeprop.model.frozen import EMPTY, FrozenMap
from kubeprop.model.scheduler.decide import pod_key
from kubeprop.properties.scheduling.deadline import BudgetSpent, Deadline
from kubeprop.properties.scheduling.encode import Encoding, EncodingTooLarge, Problem, encode
from kubeprop.properties.scheduling.shortlist import pack, repair

__all__ = ["DEFAULT_RLIMIT", "RLIMIT_PER_WORK", "EncodingTooLarge", "Outcome", "SchedulingSolver", "build_budget"]

DEFAULT_RLIMIT = 50_000_000
"""Z3 resource units per check: ~25x what the 1000 pods x 100 nodes benchmark needs (~1.8 M)."""
RLIMIT_PER_WORK = 10
"""Resource units one unit of encoding work (a (pod, node) pair or an emitted term) stands for:
the default budget builds up to 5 M units, about eight times the 1000 x 100 benchmark."""
MIN_WORK = 100_000
"""Work any budget allows (small problems always build, however small the rlimit)."""
PROPOSE_ABOVE = 20_000
"""Pod-node pairs above which Z3 first checks a packing proposal (`SchedulingSolver`)."""

Status = Literal["sat", "unsat", "unknown"]
_TRUE_VAR = re.compile(r"\(define-fun x(\d+)_(\d+) \(\) Bool\s+true\)")
_DROP_ORDER = ("place", "affinity", "anti", "existing-anti", "ports", "volume", "spread", "resource", "down")


@attrs.frozen
class Outcome:
    """A check's answer: a placement (sat), a minimal core of tracking literals (unsat), or the
    reason Z3 gave up (unknown); `spent` is the resource units used."""

    status: Status
    placement: FrozenMap[str, str] = EMPTY
    core: tuple[str, ...] = ()
    spent: int = 0
    reason: str = ""
    minimal: bool = True
    """For unsat: False when the budget ran out before the core was shrunk to a minimal one."""


def build_budget(rlimit: int) -> int:
    """Units of encoding work an rlimit allows (`encode(max_work=...)`)."""
    return max(MIN_WORK, rlimit // RLIMIT_PER_WORK)


def _seed() -> None:
    z3.set_param("smt.random_seed", 0)
    z3.set_param("sat.random_seed", 0)
    z3.set_param("smt.relevancy", 0)
    z3.set_param("smt.auto_config", False)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
"""glibc's `mallopt` parameters (malloc.h)."""
KEEP_FREED = 64 << 20
"""Free memory at the top of the heap glibc keeps instead of giving it back (`M_TRIM_THRESHOLD`),
with blocks under half that allocated from the heap (`M_MMAP_THRESHOLD`)."""
_HEAP: list[bool] = []


def keep_freed_heap() -> None:
    """Have glibc keep what a Z3 context frees for the next one, once per process.

    Each context allocates two blocks of ~8 MB and frees them when it is deleted (seen with
    strace). glibc's own thresholds (after the first such block, served by mmap, is freed: blocks
    under its size from the heap, and the heap trimmed when more than twice that is free at its
    top) give the ~17 MB straight back to the kernel each time, so every new context faulted
    ~4,100 fresh pages in: 6 ms of system time per context instead of 0.3 ms, 6% of the default
    check's CPU on FeastFlow, where each scheduler decision not met before gets a context
    (`_Loaded`). The same thresholds with a trim threshold above two contexts' worth keep them.
    Only where the C library is glibc (`mallopt`); nothing that is computed changes."""
    if _HEAP:
        return
    _HEAP.append(True)
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, KEEP_FREED // 2)
    mallopt(_M_TRIM_THRESHOLD, KEEP_FREED)


def new_context() -> z3.Context:
    """A fresh Z3 context that an interrupt cannot leave half-built: `z3.Context.__init__` sets
    `owner` only after its slow C call, so a Ctrl-C landing in that call left an object whose
    `__del__` failed ("Exception ignored in: Context.__del__ … AttributeError: owner", printed when
    `kubeprop check` exited 130). The attributes its `__del__` reads are set first (an interrupted
    context is then simply not freed: the process is ending). The C library is told to keep the
    memory contexts free for the next one first (`keep_freed_heap`)."""
    keep_freed_heap()
    ctx: z3.Context = z3.Context.__new__(z3.Context)
    ctx.owner, ctx.ctx, ctx.eh = False, None, None
    ctx.__init__()
    return ctx


class _Loaded:
    """One encoding parsed into one Z3 solver, with its tracking literals, in a Z3 context of its
    own: a context is not thread-safe, and a process may check scheduler decisions in several
    threads at once (a Dask worker runs its tasks in threads)."""

    def __init__(self, enc: Encoding, rlimit: int, deadline: Deadline | None = None) -> None:
        self.enc = enc
        self.deadline = deadline
        self.ctx = new_context()
        self.solver = z3.Solver(ctx=self.ctx)
        self.solver.set("random_seed", 0)
        self.solver.set("rlimit", rlimit)
        self.solver.from_string(enc.text())
        self.lits = {name: z3.Bool(name, ctx=self.ctx) for name in enc.tracks}
        self.names = sorted(enc.tracks)

    def run(self, names: Iterable[str], down: frozenset[int]) -> tuple[z3.CheckSatResult, int]:
        """Check under the named tracking literals (down nodes: their literal, the others negated);
        the result and the resource units spent."""
        assumptions: list[z3.BoolRef] = []
        for name in names:
            track = self.enc.tracks[name]
            if track.kind == "down":
                assumptions.append(self.lits[name] if track.nodes[0] in down else z3.Not(self.lits[name]))
            else:
                assumptions.append(self.lits[name])
        left = None if self.deadline is None else self.deadline.remaining()
        if left is not None:
            self.solver.set("timeout", max(1, min(int(left * 1000), 2**31 - 1)))
        before = _rlimit_count(self.solver)
        result = self.solver.check(*assumptions)
        if result == z3.unknown and self.deadline is not None and self.deadline.passed():
            raise BudgetSpent(self.deadline.phase)
        return result, max(0, _rlimit_count(self.solver) - before)

    def core_names(self) -> list[str]:
        out = []
        for lit in self.solver.unsat_core():
            expr = lit.arg(0) if z3.is_not(lit) else lit
            out.append(expr.decl().name())
        return out

    def placed(self) -> tuple[tuple[int, int], ...]:
        """(pending pod, node) for each true placement variable, read from the model's text in one
        call (reading the model declaration by declaration costs a Python call per variable)."""
        return tuple((int(i), int(j)) for i, j in _TRUE_VAR.findall(self.solver.model().sexpr()))


def _placement(problem: Problem, placed: tuple[tuple[int, int], ...]) -> FrozenMap[str, str]:
    """The placement that the (pending pod, node) index pairs `placed` stand for in `problem`."""
    return FrozenMap({pod_key(problem.pending[i]): problem.nodes[j].name for i, j in placed})


Answer = tuple[Status, "tuple[tuple[int, int], ...]", tuple[str, ...], int, str, bool]
"""A first check's outcome with its placement as index pairs (`Outcome`'s other fields in order)."""
FirstKey = tuple[str, tuple[tuple[str, str, tuple[int, ...]], ...], int, frozenset[int], bool, bool]
"""What a fresh solver's first check depends on: the encoding's text, its tracking literals (name,
kind and nodes), the rlimit, the nodes down and the `minimise` and `placement` flags."""
FIRST_LIMIT = 1024
"""First checks remembered before the memo is cleared (bounded memory)."""
FIRST_TEXT_LIMIT = 1 << 18
"""Encodings longer than this (characters) are not remembered (their text would be the memory)."""
_FIRST: dict[FirstKey, Answer] = {}


class SchedulingSolver:
    """One problem loaded into Z3 (on the first `check`); `check` may be called many times.

    Large problems (more than `PROPOSE_ABOVE` pod-node pairs) first try a proposal: the pods
    packed by resources (`shortlist.pack`, or `shortlist.repair` of the first packing for a
    what-if, or a packing anew if that fails), encoded with each pod restricted to its proposed
    node — a small fraction of the encoding — and checked by Z3 against every constraint. A sat
    answer there is a placement of the whole problem (a restriction only removes options).
    Otherwise the complete encoding is built (once, lazily) and asked, so every unsat answer and
    every core comes from it."""

    def __init__(self, problem: Problem, rlimit: int = DEFAULT_RLIMIT, encoding: Encoding | None = None,
                 deadline: Deadline | None = None) -> None:
        _seed()
        self.problem = problem
        self.rlimit = rlimit
        self.deadline = deadline
        self._shrinking: list[str] = []
        """The core as far as the minimisation got (what a budget cut leaves)."""
        self.spent = 0
        self._enc = encoding
        self._full = None if encoding is None else _Loaded(encoding, rlimit, deadline)
        self._replay: tuple[frozenset[int], bool, bool] | None = None
        """A first check answered from the memo (`_first`), to run in Z3 before any later one."""
        self._checked = False
        self._base: dict[int, int] | None = None
        self._propose = encoding is None and len(problem.pending) * len(problem.nodes) > PROPOSE_ABOVE

    @property
    def full(self) -> _Loaded:
        """The complete encoding, loaded on first use."""
        if self._full is None:
            self._full = _Loaded(self.enc, self.rlimit, self.deadline)
        return self._full

    @property
    def enc(self) -> Encoding:
        """The complete encoding (what cores and explanations refer to), built on first use."""
        if self._enc is None:
            self._enter("building the Z3 encoding")
            self._enc = encode(self.problem, max_work=build_budget(self.rlimit), deadline=self.deadline)
            self._enter("checking with Z3")
        return self._enc

    def _enter(self, phase: str) -> None:
        if self.deadline is not None:
            self.deadline.enter(phase)

    def node_index(self, name: str) -> int:
        """The index of the node called `name` (ValueError if absent)."""
        names = [ni.name for ni in self.problem.nodes]
        return names.index(name)

    def _run(self, loaded: _Loaded, names: Iterable[str], down: frozenset[int]) -> z3.CheckSatResult:
        result, spent = loaded.run(names, down)
        self.spent += spent
        return result

    def check(self, down: Iterable[str] = (), minimise: bool = True, placement: bool = True) -> Outcome:
        """Can every pending pod be placed with the nodes named in `down` lost (see the module
        docstring; a drained node is not down, `drain.drain`)? With
        `placement=False` a sat outcome carries no placement (what-ifs need only the verdict).
        An encoding past its build budget makes the answer "unknown", like a check past rlimit."""
        try:
            return self._check(frozenset(self.node_index(n) for n in down), minimise, placement)
        except EncodingTooLarge as too_large:
            return Outcome("unknown", reason=f"{too_large} (the build budget of --rlimit {self.rlimit}: "
                                             f"{build_budget(self.rlimit):,} units)")

    def _check(self, down_ix: frozenset[int], minimise: bool, placement: bool) -> Outcome:
        first = not self._checked
        self._checked = True
        if first and self._full is None and not self._propose and (self.deadline is None or self.deadline.end is None):
            return self._first(down_ix, minimise, placement)
        if self._replay is not None:  # Z3 as it would be after the first check: run it again
            spent, replay, self._replay = self.spent, self._replay, None
            self._answer(*replay)
            self.spent = spent
        answer = self._answer(down_ix, minimise, placement)
        return self._outcome(answer)

    def _first(self, down_ix: frozenset[int], minimise: bool, placement: bool) -> Outcome:
        """A fresh solver's first check, remembered by what it depends on (`FirstKey`) in this
        process: the same text in a fresh context, with the same parameters and seeds, gets the
        same answer, core and resource count (the module docstring), so a scheduling problem met
        again in another form — other pods that no constraint tells apart, say — is not parsed and
        solved again (`scheduler-decisions-sound` met 6 distinct encodings in its 215 checks
        over FeastFlow's first 30,000 steps). A later check on this solver runs the first one in
        Z3 first (`_replay`), so that Z3 is where it would have been."""
        enc = self.enc
        text = enc.text()
        if len(text) > FIRST_TEXT_LIMIT:
            return self._outcome(self._answer(down_ix, minimise, placement))
        tracks = tuple((name, track.kind, track.nodes) for name, track in sorted(enc.tracks.items()))
        key = (text, tracks, self.rlimit, down_ix, minimise, placement)
        answer = _FIRST.get(key)
        if answer is None:
            answer = self._answer(down_ix, minimise, placement)
            if len(_FIRST) >= FIRST_LIMIT:
                _FIRST.clear()
            _FIRST[key] = answer
        else:
            self.spent += answer[3]
            self._replay = (down_ix, minimise, placement)
        return self._outcome(answer)

    def _outcome(self, answer: Answer) -> Outcome:
        status, placed, core, spent, reason, minimal = answer
        return Outcome(status, _placement(self.problem, placed) if placed else EMPTY, core, spent, reason, minimal)

    def _answer(self, down_ix: frozenset[int], minimise: bool, placement: bool) -> Answer:
        """Ask Z3 (see `check`)."""
        start = self.spent
        proposal = self._proposal(down_ix) if self._propose else None
        if proposal is not None and self._run(proposal, proposal.names, down_ix) == z3.sat:
            return "sat", proposal.placed() if placement else (), (), self.spent - start, "", True
        full = self.full
        result = self._run(full, full.names, down_ix)
        if result == z3.sat:
            return "sat", full.placed() if placement else (), (), self.spent - start, "", True
        if result == z3.unknown:
            return "unknown", (), (), self.spent - start, full.solver.reason_unknown(), True
        core, minimal = full.core_names(), True
        if minimise:
            core, minimal = self._minimise(core, down_ix)
        return "unsat", (), tuple(core), self.spent - start, "", minimal

    def _proposal(self, down: frozenset[int]) -> _Loaded | None:
        """The packing for these down nodes as a restricted encoding, or None if none packs."""
        if self._base is None:
            self._base = pack(self.problem) or {}
        packing = (repair(self.problem, self._base, down) or pack(self.problem, down)) if self._base else None
        if packing is None:
            return None
        allowed = [frozenset((packing[i],)) for i in range(len(self.problem.pending))]
        return _Loaded(encode(self.problem, max_work=build_budget(self.rlimit), allowed=allowed,
                              deadline=self.deadline), self.rlimit, self.deadline)

    def _minimise(self, core: list[str], down: frozenset[int]) -> tuple[list[str], bool]:
        """Deletion-based minimisation, halves first (module docstring); a check that runs out of
        budget keeps what it tried to drop; the wall-clock budget passing ends it with the core as far
        as it got. Returns the core and whether it is minimal."""
        try:
            return self._shrink(core, down)
        except BudgetSpent:
            return self._ordered(self._shrinking, {kind: n for n, kind in enumerate(_DROP_ORDER)}), False

    def _shrink(self, core: list[str], down: frozenset[int]) -> tuple[list[str], bool]:
        full = self.full
        rank = {kind: n for n, kind in enumerate(_DROP_ORDER)}
        current, budget_end = self._ordered(core, rank), self.spent + self.rlimit
        self._shrinking = current
        chunk = max(1, len(current) // 2)
        while True:
            i = 0
            while i < len(current):
                self._shrinking = current
                self._enter(f"shrinking the explanation with Z3 (a core of {len(current):,} so far)")
                if self.spent >= budget_end:
                    return self._ordered(current, rank), False
                trial = current[:i] + current[i + chunk:]
                if trial and self._run(full, trial, down) == z3.unsat:
                    smaller = set(full.core_names())
                    current = [n for n in trial if n in smaller]
                else:
                    i += chunk
            if chunk == 1:
                return self._ordered(current, rank), True
            chunk //= 2

    def _ordered(self, names: list[str], rank: dict[str, int]) -> list[str]:
        return sorted(names, key=lambda n: (rank[self.enc.tracks[n].kind], _natural(n)))


def _natural(name: str) -> tuple[str, int]:
    digits = "".join(ch for ch in name if ch.isdigit() or ch == "_").split("_")[0]
    return (name.rstrip("0123456789_"), int(digits) if digits else 0)


def _rlimit_count(solver: z3.Solver) -> int:
    stats = solver.statistics()
    return int(stats.get_key_value("rlimit count")) if "rlimit count" in stats.keys() else 0  # noqa: SIM118
