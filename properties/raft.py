"""Raft's safety properties (Raft paper, Figure 3) and client-visible guarantees, as state
invariants of the Raft model (`kubeprop.model.raft.system`).

Some need history, which the state keeps as ghost variables that no transition reads:
`elected` — every (term, leader) pair ever elected (Election Safety); `committed` — every entry
ever known committed, with the term it was first seen committed in (Leader Completeness, State
Machine Safety, acknowledged writes); `lead_log` — a leader's log, followed only while it grows
(Leader Append-Only); `history` — the clients' call/return events (linearizability).

Besides the invariants there are *claims* (statements of the seed document that are expected to
fail on a correct Raft — a counterexample refutes them) and *goals* (reachability questions: a
witness trace answers "yes"). All three are `RaftCheck`s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import attrs

from kubeprop.model.errors import UnknownName
from kubeprop.model.raft.state import LEADER, RaftConfig, RaftState, entry_text
from kubeprop.properties.linearizability import check_history
from kubeprop.properties.registry import NamedCheck, Violation, first_found

CheckKind = Literal["invariant", "claim", "goal"]


@attrs.frozen
class RaftCheck(NamedCheck[RaftConfig, RaftState]):
    """A named check, called with (config, state): `check` returns None or a sentence saying what
    fails (for a goal: what was reached)."""

    kind: CheckKind = "invariant"


def _election_safety(cfg: RaftConfig, st: RaftState) -> str | None:
    leaders: dict[int, int] = {}
    for term, s in sorted(st.elected):
        if term in leaders:
            return f"{cfg.name(leaders[term])} and {cfg.name(s)} were both elected leader in term {term}"
        leaders[term] = s
    return None


def _leader_append_only(cfg: RaftConfig, st: RaftState) -> str | None:
    for s in range(cfg.servers):
        ghost = st.lead_log[s]
        if st.role[s] == LEADER and st.log[s][:len(ghost)] != ghost:
            return (f"leader {cfg.name(s)} (term {st.term[s]}) had {len(ghost)} entries and now has a "
                    f"log that does not extend them")
    return None


def _log_matching(cfg: RaftConfig, st: RaftState) -> str | None:
    for i in range(cfg.servers):
        for j in range(i + 1, cfg.servers):
            a, b = st.log[i], st.log[j]
            for k in range(min(len(a), len(b)), 0, -1):
                if a[k - 1][0] == b[k - 1][0]:
                    if a[:k] != b[:k]:
                        return (f"{cfg.name(i)} and {cfg.name(j)} both have term {a[k - 1][0]} at "
                                f"index {k} but differ before it")
                    break
    return None


def _leader_completeness(cfg: RaftConfig, st: RaftState) -> str | None:
    for index, term, value, cterm in sorted(st.committed):
        for s in range(cfg.servers):
            if st.role[s] == LEADER and st.term[s] > cterm:
                log = st.log[s]
                if len(log) < index or log[index - 1] != (term, value):
                    return (f"entry {index} {entry_text(cfg, (term, value))} was committed in term "
                            f"{cterm} but leader {cfg.name(s)} of term {st.term[s]} does not have it")
    return None


def _state_machine_safety(cfg: RaftConfig, st: RaftState) -> str | None:
    seen: dict[int, tuple[int, int]] = {}
    for index, term, value, _ in sorted(st.committed):
        if index in seen and seen[index] != (term, value):
            return (f"two different entries were committed at index {index}: "
                    f"{entry_text(cfg, seen[index])} and {entry_text(cfg, (term, value))}")
        seen[index] = (term, value)
    for s in range(cfg.servers):
        for k in range(1, st.commit[s] + 1):
            if k > len(st.log[s]) or seen.get(k) != st.log[s][k - 1]:
                return f"{cfg.name(s)} has applied index {k}, which is not the entry committed there"
    return None


def _acked_writes(st: RaftState) -> list[int]:
    return [ref[1] for kind, ref, _ in st.history if kind == "ret" and ref[0] == "w"]


def _acked_durable(cfg: RaftConfig, st: RaftState) -> str | None:
    for op in _acked_writes(st):
        where = [i for i, _, v, _ in st.committed if v == op]
        if not where:
            return f"'{cfg.ops[op - 1]}' was acknowledged but never committed"
        index = min(where)
        for s in range(cfg.servers):
            if st.commit[s] >= index and st.log[s][index - 1][1] != op:
                return (f"'{cfg.ops[op - 1]}' was acknowledged at index {index}, but {cfg.name(s)} "
                        f"has applied another entry there: the write is lost")
    return None


def _linearizable(cfg: RaftConfig, st: RaftState) -> str | None:
    return check_history(st.history) if st.history else None


def _all_replicas_before_ack(cfg: RaftConfig, st: RaftState) -> str | None:
    for op in _acked_writes(st):
        missing = [cfg.name(s) for s in range(cfg.servers) if all(v != op for _, v in st.log[s])]
        if missing:
            return (f"'{cfg.ops[op - 1]}' was acknowledged to the client while "
                    f"{', '.join(missing)} did not have it")
    return None


def _write_acked(cfg: RaftConfig, st: RaftState) -> str | None:
    acked = _acked_writes(st)
    return f"'{cfg.ops[acked[0] - 1]}' acknowledged" if acked else None


FIGURE3 = "Raft paper (Ongaro & Ousterhout 2014), Figure 3"
RAFT_CHECKS: tuple[RaftCheck, ...] = (
    RaftCheck("ElectionSafety", "at most one leader is elected in a term", FIGURE3, _election_safety),
    RaftCheck("LeaderAppendOnly", "a leader never overwrites or deletes entries of its log; it only "
              "appends", FIGURE3, _leader_append_only),
    RaftCheck("LogMatching", "two logs with an entry of the same index and term are identical up to "
              "that index", FIGURE3, _log_matching),
    RaftCheck("LeaderCompleteness", "an entry committed in a term is in the log of every leader of a "
              "later term", FIGURE3, _leader_completeness),
    RaftCheck("StateMachineSafety", "no two members apply different entries at the same index",
              FIGURE3, _state_machine_safety),
    RaftCheck("AckedWritesDurable", "an acknowledged write is never lost: it stays at its index on "
              "every member that has applied that index", "etcd-io/raft raft.go (commit before ack)",
              _acked_durable),
    RaftCheck("Linearizable", "the client history (writes and linearizable reads) is linearizable: "
              "a linearizable read returns the latest acknowledged write",
              "etcd-io/raft read_only.go (ReadIndex, ReadOnlySafe)", _linearizable),
    RaftCheck("AllReplicasBeforeAck", "seed §2: 'Write → all replicas updated (before write "
              "completes)' / 'Quorum reached (3/3 nodes have data)'", "seed §2", _all_replicas_before_ack,
              "claim"),
    RaftCheck("WriteAcked", "a client write is acknowledged (reachability: the cluster can commit)",
              "seed §2, §6", _write_acked, "goal"),
)
INVARIANTS = tuple(c for c in RAFT_CHECKS if c.kind == "invariant")


def select_checks(names: Iterable[str] | None = None) -> tuple[RaftCheck, ...]:
    """The checks with these names (None: every invariant); KeyError names an unknown one."""
    if names is None:
        return INVARIANTS
    by_name = {c.name: c for c in RAFT_CHECKS}
    out = []
    for name in names:
        if name not in by_name:
            raise UnknownName(f"unknown Raft check {name!r}; valid: {', '.join(by_name)}")
        out.append(by_name[name])
    return tuple(out)


def first_failure(config: RaftConfig, state: RaftState, checks: Iterable[RaftCheck]) -> Violation | None:
    """The first check that fails (or goal reached) in the state, or None."""
    return first_found(checks, config, state)


# --- vacuity and the bounds each variant needs ----------------------------------------------------

@attrs.frozen
class VariantBounds:
    """The bounds under which a Raft variant can show its bug (`kubeprop check --variant V` and
    `kubeprop raft --variant V` use them for every flag not given), why, and the check that catches
    it. `settings` use the command's flag names (`servers`, `max_term`, `reads`, `script`, …)."""

    settings: tuple[tuple[str, Any], ...]
    why: str
    target: str


_LIBRARY_ELECTIONS = (("no_pre_vote", True), ("no_check_quorum", True))
"""The raft library's election defaults: each variant changes a rule that pre-vote and CheckQuorum
do not touch (quorum size, read path, commit rule), and without the pre-vote round and the lease
its counterexample is 4 steps shorter and found in a fraction of the states (quorum-ceil under
etcd 3.5's options: depth 10, 588,785 states, ~2 min, where these bounds take 6 steps)."""

VARIANT_BOUNDS: dict[str, VariantBounds] = {
    "quorum-ceil": VariantBounds(
        (("servers", 4), ("max_term", 1), ("max_log", 0), *_LIBRARY_ELECTIONS),
        "⌈n/2⌉ differs from the majority ⌊n/2⌋+1 only for an even member count: 4 members, one term, no "
        "client writes (two leaders in term 1 after 6 steps)", "ElectionSafety"),
    "follower-read": VariantBounds(
        (("max_term", 1), ("max_log", 2), ("reads", 1), *_LIBRARY_ELECTIONS),
        "the variant changes only how a linearizable read is served: one read, one term, one write "
        "(a stale read after 9 steps)", "Linearizable"),
    "raft-figure8": VariantBounds(
        (("max_term", 4), ("max_log", 2), ("batch", True), ("no_lose", True), ("max_msgs", 5), ("script", "figure8"),
         *_LIBRARY_ELECTIONS),
        "a leader must commit an entry of an earlier term and a later leader lack it: four terms, from the "
        "scripted Raft paper Figure 8 (a)–(c) (7 more steps)", "LeaderCompleteness"),
    "transfer-no-log-check": VariantBounds(
        (("max_term", 2), ("max_log", 2), ("no_lose", True), ("max_msgs", 2), ("transfers", 1), ("script", "transfer"),
         *_LIBRARY_ELECTIONS),
        "a transferee must campaign after its leader, the transfer aborted, committed an entry it lacks: two "
        "terms, one transfer, from the scripted transfer to s2 (MsgTimeoutNow in flight; 10 more steps)",
        "LeaderCompleteness"),
    "conf-change-no-pending-guard": VariantBounds(
        (("max_term", 2), ("max_log", 4), ("no_lose", True), ("max_msgs", 2), ("conf_changes", 2), ("script", "conf"),
         *_LIBRARY_ELECTIONS),
        "a leader must accept a second membership change before it applied the first: two changes (remove s3, "
        "remove s2) from the scripted run that asks for them in a row; a write that s1 alone commits, and s2 elected "
        "by s3 in term 2 (6 more steps)", "LeaderCompleteness"),
}
"""Per Raft variant: the bounds it brings (documented in docs/variants.md)."""


def check_vacuity(config: RaftConfig, check: RaftCheck) -> str | None:
    """Why `check` could not have failed (or, for a goal, been reached) within `config` (None: it
    could)."""
    writes = bool(config.ops) and config.max_log > 0
    if check.name in ("ElectionSafety", "LogMatching") and config.servers == 1:
        return "one member: there is no other member to disagree with"
    if check.name == "Linearizable" and not config.history:
        return "no client history is recorded"
    if check.name == "Linearizable" and not writes and not config.reads:
        return "no client writes (max_log 0 or no ops) and no linearizable reads"
    if check.name in ("AckedWritesDurable", "AllReplicasBeforeAck", "WriteAcked") and not writes:
        return "no client writes can be accepted (max_log 0 or no ops)"
    return None


def variant_vacuity(config: RaftConfig, variant: str | None) -> str | None:
    """Why a Raft variant cannot differ from the correct model within `config` (None: it can)."""
    if variant == "quorum-ceil" and config.servers % 2 == 1:
        n = config.servers
        return (f"quorum-ceil on {n} members: ⌈{n}/2⌉ = {(n + 1) // 2} is the majority ⌊{n}/2⌋+1 too, so the "
                "variant cannot differ from the correct rule (use an even member count, e.g. --servers 4)")
    if variant == "follower-read" and (not config.reads or not config.ops or config.max_log == 0):
        return ("follower-read changes only how linearizable reads are served; these bounds have "
                + ("no linearizable reads (--reads 0)" if not config.reads else "no client writes to read"))
    if variant == "transfer-no-log-check" and (not config.transfers or config.max_term < 2 or config.servers < 3):
        return ("transfer-no-log-check changes only the vote for a leadership transfer's campaign, which needs a "
                "transfer (--transfers 1 or more), a second term (--max-term 2 or more) and a third member to vote "
                f"(--servers 3 or more); these bounds have --transfers {config.transfers}, --max-term "
                f"{config.max_term}, {config.servers} members")
    if variant == "conf-change-no-pending-guard" and config.conf_changes < 2:
        return ("conf-change-no-pending-guard changes only whether a leader accepts a membership change while an "
                f"earlier one may be unapplied, which needs two changes (--conf-changes 2 or more, got "
                f"{config.conf_changes})")
    if variant == "raft-figure8" and config.max_term < 3:
        return (f"raft-figure8 needs a leader that commits an entry of an earlier term and a later leader: at "
                f"least 3 terms (--max-term {config.max_term})")
    return None
