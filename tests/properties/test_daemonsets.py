"""`daemonset-one-pod-per-node` against what upstream's DaemonSet controller really does.

tests/model/data/daemonset/surge-twice.json is a user trial's counterexample (trial15) of the
property as it stood: one node, a DaemonSet with maxSurge 1 and maxUnavailable 0, its template
changed and changed back. Upstream's surge half of rollingUpdate and podsShouldBeOnNode skip pods
with a deletionTimestamp (`pkg/controller/daemon/update.go` findUpdatedPodsOnNode), so the node holds
the first pod still terminating, the second revision's pod and a new first-revision pod: three
non-terminal pods, which real Kubernetes has too. The file replays the model's run step by step.
tests/model/data/daemonset/orphan-recreate.json is audit16's: a DaemonSet re-created after an
orphaning delete.
"""

from __future__ import annotations

from pathlib import Path

from kubeprop.counterexamples.replay import Verdict, replay
from kubeprop.model.api.apps import DaemonSet
from kubeprop.model.api.objects import Pod
from kubeprop.model.api.store import Store
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.cluster.drive import fair_run
from kubeprop.model.controllers.daemonset_util import REVISION_HASH_LABEL, owned_by
from kubeprop.model.controllers.podutil import is_pod_terminal
from kubeprop.model.scenario.load import load_scenario
from kubeprop.properties.daemonsets import daemon_sets_ready, one_pod_per_node

DATA = Path(__file__).parents[1] / "model" / "data" / "daemonset"
SURGE_TWICE = DATA / "surge-twice.json"
ORPHAN_RECREATE = DATA / "orphan-recreate.json"
SURGE_HOST_PORT = DATA / "surge-hostport" / "scenario.yaml"


def test_a_terminating_pod_next_to_two_revisions_is_no_violation() -> None:
    result = replay(SURGE_TWICE)
    assert (result.verdict, result.drift_step, result.meets_expectation) == (Verdict.PASSES, None, True)
    assert result.violation is None and len(result.states) == 18
    for state in result.states:
        assert one_pod_per_node(result.model, state) is None
    live = [p for p in result.states[-1].store.list("pods", "default")
            if isinstance(p, Pod) and not is_pod_terminal(p)]
    assert len(live) == 3 and len({p.metadata.labels[REVISION_HASH_LABEL] for p in live}) == 2
    assert [p.metadata.deletion_timestamp is not None for p in live].count(True) == 1


def test_a_surge_daemonset_with_a_host_port_says_why_it_cannot_roll_out() -> None:
    """The violation stands (the manifest causes it), and says why: the NodePorts filter keeps the
    surge pod off the node whose old pod holds the port."""
    model = build_model(load_scenario(SURGE_HOST_PORT))
    state = fair_run(model, initial_state(model)).state
    found = daemon_sets_ready(model, state)
    assert found is not None and "it has 2 (1 Ready)" in found[0]
    assert "the old pod holds hostPort 9100 on the node" in found[0]


def test_an_adopted_orphan_next_to_the_recreated_daemonsets_pod_is_no_violation() -> None:
    """audit16's counterexample: a DaemonSet deleted with `--cascade=orphan` and created again. The
    new DaemonSet creates the node's pod while the orphan still names the old one as its owner
    (`ClaimPods` skips it), then adopts the orphan: two live pods of one revision on the node, as
    upstream has until podsShouldBeOnNode deletes one. The adopted pod was created before the
    DaemonSet, so it is not counted."""
    result = replay(ORPHAN_RECREATE)
    assert (result.verdict, result.drift_step) == (Verdict.PASSES, None)
    assert result.violation is None
    for state in result.states:
        assert one_pod_per_node(result.model, state) is None
    end = result.states[-1]
    (ds,) = (d for d in end.store.list("daemonsets.apps") if isinstance(d, DaemonSet))
    live = [p for p in end.store.list("pods", "default") if isinstance(p, Pod) and owned_by(p, ds)
            and not is_pod_terminal(p) and p.metadata.deletion_timestamp is None]
    assert len(live) == 2 and len({p.metadata.labels[REVISION_HASH_LABEL] for p in live}) == 1
    assert sorted(Store.uid_serial(p.metadata.uid) or 0 for p in live)[0] < (Store.uid_serial(ds.metadata.uid) or 0)


def test_uid_serials_follow_creation_order() -> None:
    store, first = Store().next_uid()
    _, second = store.next_uid()
    assert (Store.uid_serial(first), Store.uid_serial(second)) == (1, 2)
    assert Store.uid_serial("7d1c2a3e-0000-4000-8000-000000000001") is None
    assert Store.uid_serial("00000000-0000-4000-8000-zzzzzzzzzzzz") is None
