"""Membership changes of the Raft model (`kubeprop.model.raft.membership`): conf changes in the log,
applied on commit, quorums over the voters, learners that never vote, etcd-io/raft's one-pending
guard, and the `conf-change-no-pending-guard` variant found."""

from __future__ import annotations

import pytest

from kubeprop.counterexamples import raft_trace
from kubeprop.counterexamples.fingerprint import fingerprint
from kubeprop.model.raft.membership import (
    conf_at,
    conf_of,
    conf_value,
    pending_conf,
    proposals,
)
from kubeprop.model.raft.state import (
    ADD_LEARNER,
    ADD_NODE,
    LEADER,
    LIBRARY_DEFAULTS,
    REMOVE_NODE,
    RaftAction,
    RaftConfig,
    RaftState,
)
from kubeprop.model.raft.system import actions, initial_state, step, validate, with_variant
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.raft import CONF, ScriptError, explore, replay_script, script_steps
from kubeprop.properties.raft import INVARIANTS, VARIANT_BOUNDS, variant_vacuity

ELECT_S1 = ("Timeout: s1", "Receive: RequestVote s1→s2", "Receive: RequestVoteResp s2→s1")


def _config(**kw: object) -> RaftConfig:
    return validate(RaftConfig(**{**LIBRARY_DEFAULTS, **kw}))  # type: ignore[arg-type]


def _kinds(config: RaftConfig, st: RaftState, s: int) -> set[str]:
    return {a.kind for a in actions(config, st) if a.server == s}


def _variant_config() -> RaftConfig:
    return with_variant(_config(max_term=2, max_log=4, lose=False, max_msgs=2, conf_changes=2),
                        "conf-change-no-pending-guard")


def test_the_default_budget_proposes_no_change_and_spares_are_inert() -> None:
    config = _config(servers=3, spares=1)
    st, _ = replay_script(config, ELECT_S1)
    assert st.role[0] == LEADER
    assert "ConfChange" not in _kinds(config, st, 0)
    assert not any(a.kind == "SendAppend" and a.peer == 2 for a in actions(config, st))
    assert "Timeout" not in _kinds(config, st, 2)


def test_a_change_takes_effect_when_applied_not_when_appended() -> None:
    config = _config(servers=3, spares=1, conf_changes=1)
    st, _ = replay_script(config, (*ELECT_S1, "ConfChange: s1 proposes conf add-node s3"))
    assert st.log[0][-1] == (1, conf_value(ADD_NODE, 2))
    assert conf_of(config, st, 0) == (0b011, 0, 0)
    assert not any(a.kind == "SendAppend" and a.peer == 2 for a in actions(config, st))
    st, _ = replay_script(config, (*ELECT_S1, "ConfChange: s1 proposes conf add-node s3", "SendAppend: s1 → s2 (2",
                                   "Receive: AppendEntries s1→s2", "Receive: AppendEntriesResp s2→s1"))
    assert st.commit[0] == 2 and conf_of(config, st, 0) == (0b111, 0, 0)
    assert conf_of(config, st, 1) == (0b011, 0, 0)
    assert st.next[0][2] == 2 and st.match[0][2] == 0, "initProgress: Next = max(lastIndex, 1), Match 0"
    assert any(a.kind == "SendAppend" and a.peer == 2 for a in actions(config, st))


def test_a_learner_gets_the_log_but_never_campaigns_and_its_ack_does_not_count() -> None:
    config = _config(servers=3, spares=1, conf_changes=1, max_log=3)
    script = (*ELECT_S1, "ConfChange: s1 proposes conf add-learner s3", "SendAppend: s1 → s2 (2",
              "Receive: AppendEntries s1→s2", "Receive: AppendEntriesResp s2→s1", "ClientWrite: s1",
              "SendAppend: s1 → s3 (2", "Receive: AppendEntries s1→s3", "Receive: AppendEntriesResp s3→s1",
              "SendAppend: s1 → s3 (3", "Receive: AppendEntries s1→s3", "Receive: AppendEntriesResp s3→s1")
    st, _ = replay_script(config, script)
    assert conf_of(config, st, 0) == (0b011, 0b100, 0)
    assert len(st.log[2]) == 3 and st.match[0][2] == 3
    assert st.commit[0] == 2, "the learner's Match must not commit the write: s2 has not got it"
    assert "Timeout" not in _kinds(config, st, 2)
    assert not any(a.kind == "TransferLeader" and a.peer == 2 for a in actions(config, st))


def test_a_promoted_learner_votes_and_a_removed_member_stops_for_good() -> None:
    config = _config(servers=3, spares=1, conf_changes=2, max_down=1)
    st = initial_state(config)
    st = st._replace(log=(((1, 0), (1, conf_value(ADD_LEARNER, 2)), (1, conf_value(ADD_NODE, 2))),) * 3,
                     commit=(3, 3, 3), term=(1, 1, 1))
    assert conf_of(config, st, 2) == (0b111, 0, 0)
    assert "Timeout" in _kinds(config, st, 2)
    removal = ((1, 0), (1, conf_value(REMOVE_NODE, 1)))
    heartbeat = (4, 0, 1, 1, 2, 0)  # (HB, s1, s2, term 1, commit 2, no read context)
    st = initial_state(config)._replace(log=(removal, removal, ()), commit=(2, 1, 0), term=(1, 1, 1),
                                        role=(LEADER, 0, 0), lead=(0, 0, -1), msgs=((heartbeat, 1),))
    after = step(config, st, RaftAction("Receive", msg=heartbeat))
    assert after.down == 0b010 and "Recover" not in _kinds(config, after, 1)
    assert conf_value(ADD_NODE, 1) not in proposals(config, after, 0), "a removed ID is never added again"


def test_pending_conf_index_as_become_leader_sets_it() -> None:
    config = _config(conf_changes=1)
    log = ((1, 0), (2, 0))
    assert pending_conf(config, log, 2, 0), "a new leader waits until it applied its pre-election last index"
    assert not pending_conf(config, log, 2, 1)
    assert pending_conf(config, (*log, (2, conf_value(REMOVE_NODE, 2))), 2, 2)
    assert not pending_conf(with_variant(config, "conf-change-no-pending-guard"), log, 2, 0)


def test_the_correct_leader_refuses_a_second_change_before_the_first_is_applied() -> None:
    config = _config(max_log=4, lose=False, max_msgs=2, conf_changes=2)
    st, _ = replay_script(config, CONF)
    assert st.log[0][1:] == ((1, conf_value(REMOVE_NODE, 2)), (1, 0)), "refused: an empty entry in its place"
    assert conf_of(config, st, 0) == (0b011, 0, 0b100)


def test_the_correct_model_holds_from_the_scripted_changes() -> None:
    config = _config(max_log=4, lose=False, max_msgs=2, conf_changes=2)
    run = explore(config, INVARIANTS, script=script_steps("conf", config))
    assert run.result.violation is None
    assert run.exit_reason == "exhausted"
    assert run.result.stats.distinct == 4001


def test_the_variant_is_found_six_steps_after_the_script() -> None:
    config = _variant_config()
    run = explore(config, INVARIANTS, script=script_steps("conf", config))
    found = run.result.violation
    assert found is not None and found.property == "LeaderCompleteness"
    assert len(run.result.trace) == 6 and run.result.stats.distinct == 294
    assert conf_at(config, run.result.final.log[0], run.result.final.commit[0])[0] == 0b001


def test_the_variant_bounds_and_vacuity() -> None:
    assert dict(VARIANT_BOUNDS["conf-change-no-pending-guard"].settings)["conf_changes"] == 2
    assert variant_vacuity(_config(conf_changes=1), "conf-change-no-pending-guard") is not None
    assert variant_vacuity(_config(conf_changes=2), "conf-change-no-pending-guard") is None
    with pytest.raises(ScriptError, match="--conf-changes 2"):
        script_steps("conf", _config(conf_changes=1))


def test_a_state_without_a_change_keeps_its_old_counterexample_fingerprint() -> None:
    config = _config(max_log=4, lose=False, max_msgs=2, conf_changes=2)
    before, _ = replay_script(config, CONF[:3])
    after, _ = replay_script(config, CONF[:4])
    assert raft_trace.state_fingerprint(before) == fingerprint(tuple(before)[:17])
    assert raft_trace.state_fingerprint(after) == fingerprint(after)


SMALL = [
    ({"servers": 2, "spares": 1, "conf_changes": 2, "max_term": 2, "max_log": 1}, 163),
    ({"servers": 3, "spares": 1, "conf_changes": 1, "max_term": 1, "max_log": 1}, 294),
    ({"servers": 3, "spares": 1, "conf_changes": 2, "max_term": 1, "max_log": 0}, 2180),
]
"""Exhaustive and cheap: a spare added as voter or learner, promoted, members removed; one message in
flight (no loss), the library's election options."""


@pytest.mark.parametrize(("kw", "distinct"), SMALL)
def test_small_exhaustive_runs_hold(kw: dict[str, int], distinct: int) -> None:
    config = _config(lose=False, max_msgs=1, **kw)
    run = explore(config, INVARIANTS)
    assert run.exit_reason == "exhausted" and run.result.violation is None
    assert run.result.stats.distinct == distinct


@pytest.mark.slow
def test_a_bigger_exhaustive_run_holds() -> None:
    config = _config(servers=3, conf_changes=2, max_term=2, max_log=1, lose=False, max_msgs=1)
    run = explore(config, INVARIANTS)
    assert run.exit_reason == "exhausted" and run.result.violation is None
    assert run.result.stats.distinct == 97913


@pytest.mark.slow
def test_the_variant_is_found_from_the_initial_state() -> None:
    config = _variant_config()
    run = explore(config, INVARIANTS, Bounds(max_states=2_000_000))
    found = run.result.violation
    assert found is not None and found.property == "LeaderCompleteness"
    assert len(run.result.trace) == 12


def test_the_variant_is_found_under_etcd_3_5_election_options() -> None:
    config = with_variant(validate(RaftConfig(max_term=2, max_log=4, lose=False, max_msgs=2, conf_changes=2)),
                          "conf-change-no-pending-guard")
    assert config.pre_vote and config.check_quorum
    run = explore(config, INVARIANTS, script=script_steps("conf", config))
    found = run.result.violation
    assert found is not None and found.property == "LeaderCompleteness"
    assert len(run.result.trace) == 8 and run.result.stats.distinct == 567


@pytest.mark.slow
def test_the_correct_model_holds_under_etcd_3_5_election_options() -> None:
    config = validate(RaftConfig(max_term=2, max_log=4, lose=False, max_msgs=2, conf_changes=2))
    run = explore(config, INVARIANTS, script=script_steps("conf", config))
    assert run.exit_reason == "exhausted" and run.result.violation is None
    assert run.result.stats.distinct == 71988
