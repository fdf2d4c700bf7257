"""Creates refused because the namespace is terminating (NamespaceLifecycle's 403 carries the status
cause `NamespaceTerminatingCause` upstream: `plugin/pkg/admission/namespace/lifecycle/admission.go`).

The ReplicaSet controller's manageReplicas returns nil for such a pod create: slowStartBatch counts
it a success, goes on with the other creates, no expectation is lowered for it and the key is not
requeued (`pkg/controller/replicaset/replica_set.go`). The Deployment controller's handleErr
forgets a key whose sync failed with that cause (`pkg/controller/deployment/deployment_controller.go`).
The StatefulSet controller has no such rule: its failed sync is requeued
(`pkg/controller/statefulset/stateful_set.go` processNextWorkItem: AddRateLimited). The model used
to requeue all three."""

from __future__ import annotations

from pathlib import Path

import attrs
from scenario_text import statefulset_db, workload_head

from kubeprop.model.api.admission import namespace_terminating
from kubeprop.model.api.objects import ObjectKey, Pod, ReplicaSet
from kubeprop.model.api.server import Request, Response
from kubeprop.model.cluster import informers
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import USER_COMPONENT, ClusterModel, ClusterState, send

TWO = Path(__file__).resolve().parents[1] / "data" / "namespace" / "scenario.yaml"
"""Namespaces team-a and team-b, each with a Deployment `web` (2 pods); the workload deletes team-a."""
TEAM_A_NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}\n---\n"
DB = TEAM_A_NAMESPACE + statefulset_db("team-a")


def _terminating(model: ClusterModel) -> ClusterState:
    """The cluster settled, then `kubectl delete namespace team-a`: team-a is Terminating."""
    state = step(model, settle(model, initial_state(model), max_steps=600).state, UserStep(0))
    namespace = state.store.get(ObjectKey("namespaces", "", "team-a"))
    assert namespace is not None and namespace.metadata.deletion_timestamp is not None
    return state


def _remove(model: ClusterModel, state: ClusterState, resource: str, name: str) -> ClusterState:
    """Someone removes one object of team-a at once (grace 0); the controllers hear of it."""
    before = state.store.revision
    request = Request(verb="delete", user="admin", resource=resource, namespace="team-a", name=name,
                      grace_period_seconds=0)
    state, response = send(model, state, "admin", request, USER_COMPONENT)
    assert response.ok and state.store.get(ObjectKey(resource, "team-a", name)) is None
    return informers.deliver_instantly(model, state, (e for e in state.store.events if e.revision > before))


def _replica_set(state: ClusterState) -> ReplicaSet:
    (rs,) = [o for o in state.store.list("replicasets.apps", "team-a") if isinstance(o, ReplicaSet)]
    return rs


def _pods(state: ClusterState) -> list[str]:
    return [o.metadata.name for o in state.store.list("pods", "team-a") if isinstance(o, Pod)]


def test_the_cause_is_read_from_namespace_lifecycles_403_only() -> None:
    message = ('pods "web-x" is forbidden: unable to create new content in namespace team-a '
               'because it is being terminated')
    assert namespace_terminating(403, message)
    assert not namespace_terminating(403, 'pods "web-x" is forbidden: exceeded quota: q')
    assert not namespace_terminating(404, 'namespaces "team-a" not found')


def _refused_creates(model: ClusterModel, state: ClusterState, act: Reconcile) -> tuple[ClusterState, int]:
    """The state after `act`, and how many pod creates it sent that NamespaceLifecycle refused."""
    seen: list[str] = []

    def observe(component: str, request: Request, response: Response) -> None:
        if request.verb == "create" and namespace_terminating(response.code, response.message):
            seen.append(request.resource)

    watched = attrs.evolve(model, hooks=attrs.evolve(model.hooks, on_response=(observe,)))
    after = step(watched, state, act)
    return after, seen.count("pods")


def test_replicaset_sends_every_create_keeps_its_expectations_and_is_not_requeued() -> None:
    model = build_model(load_scenario(TWO), parameters={"instantCaches": True})
    state = _terminating(model)
    rs = _replica_set(state)
    key = f"team-a/{rs.metadata.name}"
    for pod in _pods(state):
        state = _remove(model, state, "pods", pod)
    assert key in state.controllers["replicaset"].queue
    after, refused = _refused_creates(model, state, Reconcile("replicaset", key))
    assert refused == 2 and _pods(after) == []  # the second create is sent too (the model stopped at the first)
    record = after.controllers["replicaset"].memory[key]
    assert record.unanswered_creates == 2  # counted successes: no expectation lowered
    assert not any(c.type == "ReplicaFailure" for c in _replica_set(after).status.conditions)
    # queued again by its own status write (updateRS); that sync waits for the expectations
    assert after.controllers["replicaset"].queue == (key,)
    quiet, refused = _refused_creates(model, after, Reconcile("replicaset", key))
    assert refused == 0 and quiet.store.revision == after.store.revision
    assert key not in quiet.controllers["replicaset"].queue
    # once the expectations expire (300 s), a sync (an event, a resync) tries again: refused, no
    # status change, and still no requeue (the model requeued it on every refusal, for ever)
    later = attrs.evolve(quiet, clock=quiet.clock + 301, controllers=quiet.controllers.set(
        "replicaset", quiet.controllers["replicaset"].enqueue((key,))))
    again, refused = _refused_creates(model, later, Reconcile("replicaset", key))
    assert refused == 2 and key not in again.controllers["replicaset"].queue


def test_deployment_forgets_a_sync_refused_for_a_terminating_namespace() -> None:
    model = build_model(load_scenario(TWO), parameters={"instantCaches": True})
    state = _terminating(model)
    state = _remove(model, state, "replicasets.apps", _replica_set(state).metadata.name)
    assert "team-a/web" in state.controllers["deployment"].queue
    after = step(model, state, Reconcile("deployment", "team-a/web"))
    assert not list(after.store.list("replicasets.apps", "team-a"))  # the new ReplicaSet's create was refused
    assert "team-a/web" not in after.controllers["deployment"].queue  # handleErr forgets it


def test_statefulset_requeues_as_upstream_does(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "db.yaml").write_text(DB)
    (tmp_path / "scenario.yaml").write_text(workload_head("db") + "  - delete: {kind: Namespace, name: team-a}\n")
    model = build_model(load_scenario(tmp_path / "scenario.yaml"), parameters={"instantCaches": True})
    state = _remove(model, _terminating(model), "pods", "db-0")
    after = step(model, state, Reconcile("statefulset", "team-a/db"))
    assert _pods(after) == []
    assert "team-a/db" in after.controllers["statefulset"].queue  # no NamespaceTerminatingCause rule upstream
