"""Namespace deletion: the API server's two phases and the namespace controller
(`kubeprop.model.controllers.namespace`), on whole-cluster scenarios and on the API server alone.

The fourth user trial's false alarm: a scenario deleted namespace `team-a` and the cluster never
settled — the model had no namespace controller, so the namespace stayed Terminating for ever
and the Deployment controller looped on NamespaceLifecycle's 403."""

from __future__ import annotations

from pathlib import Path

from api_harness import feastflow

from kubeprop.counterexamples.api import check
from kubeprop.model.api.core import Namespace, NamespaceSpec
from kubeprop.model.api.meta import ObjectMeta, find_condition
from kubeprop.model.api.objects import ConfigMap, ObjectKey
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.controllers.base import Reconcile
from kubeprop.model.controllers.namespace import NamespaceController, NamespaceMemory
from kubeprop.model.evolve import evolve
from kubeprop.model.scenario.load import ADMIN, load_scenario
from kubeprop.model.state.actions import UserStep
from kubeprop.model.state.cluster import ClusterState
from kubeprop.properties.convergence import settled_violation
from kubeprop.properties.explore.bfs import Bounds
from kubeprop.properties.explore.engine import EngineConfig, ExitReason
from kubeprop.properties.registry import select

DATA = Path(__file__).resolve().parents[1] / "data" / "namespace"
TRIAL = DATA / "trial.yaml"
WALKS = 150
"""Walks of the trial scenario's check (the find comes in the first walks; the rest look for
anything else wrong). 1,000 until the walks went on where their kinds ran out (engine19): each walk
now runs its full length, and 1,000 of them no longer fitted the default budget on a loaded machine."""
"""The trial's scenario: delete namespace team-a, then set the image of the Deployment in it."""
TWO = DATA / "scenario.yaml"
"""Namespaces team-a and team-b, each with a Deployment (2 pods), a Service, a ConfigMap and a
Widget custom resource; the workload deletes team-a."""


def _in(state: ClusterState, namespace: str) -> list[ObjectKey]:
    return sorted(k for k in state.store.objects if k.namespace == namespace)


def test_the_trial_scenario_settles_with_the_namespace_and_its_content_gone() -> None:
    model = build_model(load_scenario(TRIAL))
    state = initial_state(model)
    assert settled_violation(model, state, select(kind="convergence"), max_steps=2000) is None
    running = settle(model, state, max_steps=2000)
    assert not running.exhausted
    deleted = settle(model, step(model, running.state, UserStep(0)), max_steps=2000)
    assert not deleted.exhausted
    assert deleted.state.store.get(ObjectKey("namespaces", "", "team-a")) is None
    assert _in(deleted.state, "team-a") == []
    assert any(isinstance(a, Reconcile) and a.controller == "namespace" for a in deleted.trace)


def test_kubeprop_check_on_the_trial_scenario_reports_only_the_set_image_of_the_deleted_deployment() -> None:
    """The cluster settles; what is wrong is the user's script: `kubectl set image` on the
    Deployment the namespace controller removed gets the API server's 404, as kubectl does
    (`model/cluster/workload.py`), instead of waiting for ever for a Deployment that cannot come.
    The walks are counted (`WALKS`), not timed: they ran the default 60 s budget out, ~6,000 walks
    at load 8 and more on an idle machine, and their number then depended on the machine."""
    for engine in ("bfs", "walk"):
        report = check(TRIAL, engine=engine, bounds=Bounds(max_depth=40, max_states=600), all_discoveries=True,
                       config=EngineConfig(runs=WALKS))
        assert report.exit_reason != ExitReason.TIME_BOUND, (engine, report.exit_reason)
        assert [f.violation.property for f in report.found] == ["workload-steps-succeed"], (engine, report.found)
        assert report.found[0].violation.message == (
            'workload step 2 (kubectl set image deployment/web -n team-a web=web:2) failed: '
            '404 NotFound: deployments.apps "web" not found')


def test_a_namespace_delete_removes_its_content_gracefully_and_nothing_else() -> None:
    model = build_model(load_scenario(TWO))
    running = settle(model, initial_state(model), max_steps=3000)
    before_b = {k: running.state.store.get(k) for k in _in(running.state, "team-b")}
    before_a = _in(running.state, "team-a")
    resources = {k.resource for k in before_a}
    assert {"deployments.apps", "replicasets.apps", "pods", "services", "configmaps", "widgets.example.com",
            "endpoints", "endpointslices.discovery.k8s.io"} <= resources
    state = step(model, running.state, UserStep(0))
    namespace = state.store.get(ObjectKey("namespaces", "", "team-a"))
    assert isinstance(namespace, Namespace) and namespace.status.phase == "Terminating"
    assert namespace.metadata.deletion_timestamp is not None and namespace.spec.finalizers == ("kubernetes",)
    graceful: set[str] = set()
    conditions_seen = False
    for _ in range(3000):
        graceful |= {k.name for k in _in(state, "team-a") if k.resource == "pods"
                     and (p := state.store.get(k)) is not None and p.metadata.deletion_grace_period_seconds == 30}
        ns = state.store.get(ObjectKey("namespaces", "", "team-a"))
        if isinstance(ns, Namespace):
            remaining = find_condition(ns.status.conditions, "NamespaceContentRemaining")
            conditions_seen |= remaining is not None and remaining.status == "True"
        result = settle(model, state, max_steps=1)
        if not result.trace:
            break
        state = result.state
    assert state.store.get(ObjectKey("namespaces", "", "team-a")) is None
    assert _in(state, "team-a") == []
    assert len(graceful) == 2  # both pods were deleted with their 30 s grace period, not forced
    assert conditions_seen
    assert {k: state.store.get(k) for k in _in(state, "team-b")} == before_b


def test_the_system_namespaces_cannot_be_deleted() -> None:
    api = feastflow()
    for name in ("default", "kube-system", "kube-public"):
        result = api.handle(api.base, Request(verb="delete", user=ADMIN, resource="namespaces", name=name), 5)
        assert result.response.code == 403
        # Lifecycle.Admit: errors.NewForbidden(namespaces, name, "this namespace may not be deleted")
        assert result.response.message == f'namespaces "{name}" is forbidden: this namespace may not be deleted'
        assert result.store is api.base


def test_the_api_server_deletes_a_namespace_in_two_phases_and_removes_it_on_finalize() -> None:
    api = feastflow()
    held = Namespace(metadata=ObjectMeta(name="team-a", finalizers=("example.com/hold",)))
    store = api.ok(api.base, Request(verb="create", user=ADMIN, obj=held))
    key = ObjectKey("namespaces", "", "team-a")
    created = store.get(key)
    assert isinstance(created, Namespace) and created.spec.finalizers == ("kubernetes",)
    assert created.status.phase == "Active"
    store = api.ok(store, Request(verb="delete", user=ADMIN, resource="namespaces", name="team-a"))
    store = api.ok(store, Request(verb="delete", user=ADMIN, resource="namespaces", name="team-a"))
    marked = store.get(key)
    assert isinstance(marked, Namespace) and marked.status.phase == "Terminating"
    assert marked.metadata.deletion_timestamp is not None
    emptied = evolve(marked, spec=NamespaceSpec(()), metadata=evolve(marked.metadata, resource_version=""))
    store = api.ok(store, Request(verb="update", user=ADMIN, obj=emptied))
    kept = store.get(key)  # an ordinary update never changes spec.finalizers
    assert isinstance(kept, Namespace) and kept.spec.finalizers == ("kubernetes",)
    store = api.ok(store, Request(verb="finalize", user=ADMIN, resource="namespaces", name="team-a", obj=emptied))
    waiting = store.get(key)  # metadata.finalizers still hold it
    assert isinstance(waiting, Namespace) and waiting.spec.finalizers == ()
    released = evolve(emptied, metadata=evolve(emptied.metadata, finalizers=()))
    store = api.ok(store, Request(verb="update", user=ADMIN, obj=released))
    assert store.get(key) is None


def _run(ctl: NamespaceController, view: Store, live: Store, memory: object,
         now: int) -> tuple[Store, object, list[str]]:
    """One reconcile decided from `view` (the cache), its requests sent to `live` in order."""
    api = feastflow()
    decision = ctl.reconcile(view, "team-a", memory, now)
    memory = decision.memory
    verbs = []
    for request in decision.requests:
        result = api.handle(live, request, now)
        live, memory = result.store, ctl.observe(memory, request, result.response)
        verbs.append(request.verb)
        assert result.response.ok, result.response
    return live, memory, verbs


def test_the_controller_finalizes_only_after_a_live_list_found_nothing() -> None:
    """A stale cache that shows the namespace empty never gets it finalized: the controller's own
    live LISTs decide, as upstream's metadata-client lists do."""
    api = feastflow()
    base = api.ok(api.base, Request(verb="create", user=ADMIN, obj=Namespace(metadata=ObjectMeta(name="team-a"))))
    config = ConfigMap(metadata=ObjectMeta(name="settings", namespace="team-a"))
    live = api.ok(api.ok(base, Request(verb="create", user=ADMIN, obj=config)),
                  Request(verb="delete", user=ADMIN, resource="namespaces", name="team-a"))
    cache = api.ok(base, Request(verb="delete", user=ADMIN, resource="namespaces", name="team-a"))
    ctl = NamespaceController()
    live, memory, verbs = _run(ctl, cache, live, ctl.initial_memory(), 10)
    assert set(verbs) == {"list"}  # first pass: list everything, delete nothing yet
    live, memory, verbs = _run(ctl, cache, live, memory, 11)
    assert "delete" in verbs and "finalize" not in verbs
    assert live.get(ObjectKey("configmaps", "team-a", "settings")) is None
    namespace = live.get(ObjectKey("namespaces", "", "team-a"))
    assert isinstance(namespace, Namespace) and namespace.spec.finalizers == ("kubernetes",)
    live, memory, verbs = _run(ctl, cache, live, memory, 12)
    assert verbs[-1] == "finalize"
    assert live.get(ObjectKey("namespaces", "", "team-a")) is None
    assert memory == NamespaceMemory()
