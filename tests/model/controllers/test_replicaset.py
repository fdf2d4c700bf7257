"""The ReplicaSet controller on its own: pure reconciles against hand-built stores."""

from __future__ import annotations

import attrs
from api_harness import feastflow

from kubeprop.model.api.meta import Condition, ObjectMeta, OwnerReference
from kubeprop.model.api.objects import (
    Container,
    ContainerStatus,
    ObjectKey,
    Pod,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetSpec,
)
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Request, Response
from kubeprop.model.api.store import Store
from kubeprop.model.controllers.base import Controller
from kubeprop.model.controllers.podutil import is_pod_active
from kubeprop.model.controllers.replicaset import (
    ReplicaSetController,
    pods_to_delete,
    slow_start_batches,
)
from kubeprop.model.controllers.replicaset_expectations import Expectation, Memory
from kubeprop.model.evolve import evolve
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.scenario.load import ADMIN

API = feastflow()
BASE = API.base
send = API.send
CM = "system:kube-controller-manager"
LABELS = {"app": "web"}


def with_rs(replicas: int = 3, store: Store = BASE) -> Store:
    rs = ReplicaSet(
        metadata=ObjectMeta(name="web", namespace="default", labels=LABELS),
        spec=ReplicaSetSpec(
            replicas=replicas, selector=LabelSelector(match_labels=LABELS),
            template=PodTemplateSpec(metadata=ObjectMeta(labels=LABELS),
                                     spec=PodSpec(containers=(Container(name="c", image="nginx"),))),
        ),
    )
    store, response = send(store, Request(verb="create", user=ADMIN, obj=rs))
    assert response.ok, response.message
    return store


def rs_of(store: Store) -> ReplicaSet:
    rs = store.get(ObjectKey("replicasets.apps", "default", "web"))
    assert isinstance(rs, ReplicaSet)
    return rs


def apply(ctl: Controller, store: Store, requests: tuple[Request, ...], memory: Memory,
          now: int = 1) -> tuple[Store, Memory]:
    for request in requests:
        store, response = send(store, request, now)
        memory = ctl.observe(memory, request, response)
        if not response.ok:
            break
    return store, memory


def web_pods(store: Store) -> list[Pod]:
    return [p for p in store.list("pods", "default") if isinstance(p, Pod) and p.metadata.labels.get("app") == "web"]


def creates(requests: tuple[Request, ...]) -> list[Request]:
    return [r for r in requests if r.verb == "create"]


def test_creates_missing_pods_with_generate_name_controller_ref_and_template_labels() -> None:
    store = with_rs(3)
    ctl = ReplicaSetController()
    decision = ctl.reconcile(store, "default/web", ctl.initial_memory(), 1)
    made = creates(decision.requests)
    assert len(made) == 3
    rs = rs_of(store)
    for request in made:
        pod = request.obj
        assert isinstance(pod, Pod)
        assert pod.metadata.generate_name == "web-"
        assert dict(pod.metadata.labels) == LABELS
        ref = pod.metadata.owner_references
        assert ref == (OwnerReference("apps/v1", "ReplicaSet", "web", rs.metadata.uid, True, True),)
    store, _ = apply(ctl, store, decision.requests, decision.memory)
    assert len(web_pods(store)) == 3
    assert rs_of(store).status.replicas == 0  # status computed from the cache before the creates


def test_expectations_block_a_second_wave_on_a_stale_cache_until_they_expire() -> None:
    stale = with_rs(3)
    ctl = ReplicaSetController(expectations_timeout_seconds=300)
    first = ctl.reconcile(stale, "default/web", ctl.initial_memory(), 10)
    store, memory = apply(ctl, stale, first.requests, first.memory, 10)
    assert len(web_pods(store)) == 3
    # The cache still shows no pods: expectations are pending, so no new creations.
    again = ctl.reconcile(stale, "default/web", memory, 20)
    assert creates(again.requests) == []
    assert ctl.reconcile(stale, "default/web", memory, 310).requests == again.requests
    # Once the record is older than the timeout (strictly), the stale cache wins: a second wave.
    expired = ctl.reconcile(stale, "default/web", memory, 311)
    assert len(creates(expired.requests)) == 3


def test_expectations_are_observed_when_the_cache_catches_up() -> None:
    store = with_rs(3)
    ctl = ReplicaSetController()
    first = ctl.reconcile(store, "default/web", ctl.initial_memory(), 1)
    store, memory = apply(ctl, store, first.requests, first.memory)
    assert "default/web" in memory
    caught_up = ctl.reconcile(store, "default/web", memory, 2)
    assert creates(caught_up.requests) == []
    assert "default/web" not in caught_up.memory  # fulfilled records are dropped


def test_rs_no_expectations_variant_over_creates_on_a_stale_cache() -> None:
    stale = with_rs(3)
    for ctl in (ReplicaSetController(use_expectations=False), ReplicaSetController(expectations_timeout_seconds=0)):
        first = ctl.reconcile(stale, "default/web", ctl.initial_memory(), 10)
        store, memory = apply(ctl, stale, first.requests, first.memory, 10)
        second = ctl.reconcile(stale, "default/web", memory, 11)
        store, memory = apply(ctl, store, second.requests, second.memory, 11)
        assert len(web_pods(store)) == 6 > rs_of(store).spec.replicas


def test_a_failed_create_stops_the_rest_and_lowers_the_skipped_expectations() -> None:
    stale = with_rs(3)
    ctl = ReplicaSetController()
    first = ctl.reconcile(stale, "default/web", ctl.initial_memory(), 1)
    store, memory = send(stale, first.requests[0])[0], first.memory
    memory = ctl.observe(memory, first.requests[0], Response(201, "Created", obj=web_pods(store)[0]))
    memory = ctl.observe(memory, first.requests[1], Response(500, "InternalError"))
    record = memory["default/web"]
    assert record.unanswered_creates == 0 and len(record.creates) == 1
    assert creates(ctl.reconcile(stale, "default/web", memory, 2).requests) == []
    assert len(creates(ctl.reconcile(store, "default/web", memory, 2).requests)) == 2


def test_slow_start_batches_double_up_to_the_count() -> None:
    assert slow_start_batches(1) == (1,)
    assert slow_start_batches(10) == (1, 2, 4, 3)
    assert slow_start_batches(0) == ()


def test_creations_per_sync_are_capped_by_burst_replicas() -> None:
    store = with_rs(3)
    ctl = ReplicaSetController(burst_replicas=2)
    decision = ctl.reconcile(store, "default/web", ctl.initial_memory(), 1)
    assert len(creates(decision.requests)) == 2
    assert decision.memory["default/web"].unanswered_creates == 2


def pod(name: str, node: str = "", phase: str = "Running", ready: bool = True, ready_at: int = 0,
        created: int = 0, restarts: int = 0, cost: str | None = None) -> Pod:
    conditions = (Condition(type="Ready", status="True" if ready else "False", last_transition_time=ready_at),)
    annotations = {"controller.kubernetes.io/pod-deletion-cost": cost} if cost is not None else {}
    return Pod(
        metadata=ObjectMeta(name=name, namespace="default", uid=f"uid-{name}", creation_timestamp=created,
                            annotations=annotations),
        spec=PodSpec(node_name=node),
        status=PodStatus(phase=phase, conditions=conditions,
                         container_statuses=(ContainerStatus(name="c", restart_count=restarts),)),
    )


def test_deletion_ranking_follows_active_pods_with_ranks() -> None:
    now = 10_000
    pods = [
        pod("old-ready", "n2", ready_at=100, created=100),
        pod("unassigned", "", phase="Pending", ready=False),
        pod("pending", "n2", phase="Pending", ready=False),
        pod("unknown", "n2", phase="Unknown", ready=False),
        pod("not-ready", "n2", ready=False),
        pod("cheap", "n2", ready_at=100, created=100, cost="-5"),
        pod("crowded", "n1", ready_at=100, created=100),
        pod("recently-ready", "n2", ready_at=9_000, created=100),
        pod("restarting", "n2", ready_at=100, created=100, restarts=3),
        pod("newer", "n2", ready_at=100, created=5_000),
    ]
    related = [*pods, *(pod(f"sibling-{i}", "n1") for i in range(10))]
    order = [p.metadata.name for p in pods_to_delete(pods, related, len(pods), now, logarithmic=False)]
    assert order == ["unassigned", "pending", "unknown", "not-ready", "cheap", "crowded", "recently-ready",
                     "restarting", "newer", "old-ready"]



def with_init(p: Pod, restarts: int, sidecar: bool) -> Pod:
    """`p` with one init container that restarted `restarts` times, a sidecar (restartPolicy Always) or not."""
    init = Container(name="init", image="busybox", restart_policy="Always" if sidecar else "")
    return attrs.evolve(p, spec=attrs.evolve(p.spec, init_containers=(init,)),
                        status=attrs.evolve(p.status, init_container_statuses=(
                            ContainerStatus(name="init", restart_count=restarts),)))


def test_sidecar_restarts_break_a_tie_of_regular_restarts() -> None:
    """compareMaxContainerRestarts (v1.33, kubernetes/kubernetes#124952): with equal regular restart
    counts the pod whose sidecar restarted more goes first; an ordinary init container's restarts
    do not count, and the regular count still decides before the sidecars'. Before, sidecar
    restarts were ignored and the newer pod went first."""
    now = 10_000
    flapping_sidecar = with_init(pod("flapping-sidecar", "n1", ready_at=100, created=100), 4, sidecar=True)
    restarted_init = with_init(pod("restarted-init", "n1", ready_at=100, created=200), 9, sidecar=False)
    calm = pod("calm", "n1", ready_at=100, created=300)
    order = [p.metadata.name for p in pods_to_delete([calm, restarted_init, flapping_sidecar], [], 3, now,
                                                      logarithmic=False)]
    assert order == ["flapping-sidecar", "calm", "restarted-init"]
    regular = pod("regular", "n1", ready_at=100, created=100, restarts=1)
    assert [p.metadata.name for p in pods_to_delete([flapping_sidecar, regular], [], 2, now,
                                                    logarithmic=False)] == ["regular", "flapping-sidecar"]


def test_deletion_cost_is_read_as_upstream_reads_it() -> None:
    """helper.GetDeletionCostFromPodAnnotations: "+10", "008", "1_0" and values beyond int32 count as
    0 and "-007" as -7 (the validator's parse), so of these pods the one costing 5 is deleted last."""
    costs = {"padded": "-007", "plus": "+10", "zeros": "008", "underscore": "1_0", "huge": str(2**31), "five": "5"}
    pods = [pod(name, "n1", ready_at=100, created=100, cost=cost) for name, cost in costs.items()]
    order = [p.metadata.name for p in pods_to_delete(pods, [], len(pods), 1_000, logarithmic=False)]
    assert order[0] == "padded" and order[-1] == "five"

def test_logarithmic_scale_down_treats_similar_ages_alike_and_breaks_ties_by_uid() -> None:
    now = 1_000
    a = pod("a", "n1", ready_at=0, created=900)  # 100 s old
    b = pod("b", "n1", ready_at=0, created=880)  # 120 s old: same log2 bucket of nanoseconds
    c = pod("c", "n1", ready_at=0, created=10)  # much older
    assert [p.metadata.name for p in pods_to_delete([c, b, a], [], 3, now)] == ["a", "b", "c"]
    assert [p.metadata.name for p in pods_to_delete([c, b, a], [], 3, now, logarithmic=False)] == ["a", "b", "c"]
    b2 = attrs.evolve(b, metadata=attrs.evolve(b.metadata, uid="uid-0"))
    assert [p.metadata.name for p in pods_to_delete([a, b2], [], 2, now)] == ["b", "a"]


def make_ready(store: Store, p: Pod, now: int = 1, node: str = "worker-1") -> Store:
    status = PodStatus(phase="Running", conditions=(Condition(type="Ready", status="True", last_transition_time=now),))
    if not p.spec.node_name:
        store, response = send(store, Request(verb="bind", user=ADMIN, resource="pods", namespace="default",
                                              name=p.metadata.name, node_name=node), now)
        assert response.ok, response.message
    current = store.get(ObjectKey("pods", "default", p.metadata.name))
    assert isinstance(current, Pod)
    request = Request(verb="update-status", user=ADMIN, obj=attrs.evolve(current, status=status))
    store, response = send(store, request, now)
    assert response.ok, response.message
    return store


def converge(ctl: ReplicaSetController, store: Store, memory: Memory, now: int = 1) -> tuple[Store, Memory]:
    for _ in range(10):
        decision = ctl.reconcile(store, "default/web", memory, now)
        if not decision.requests:
            return store, decision.memory
        store, memory = apply(ctl, store, decision.requests, decision.memory, now)
    raise AssertionError("no fixpoint")


def test_scale_down_deletes_the_lowest_ranked_pods_and_waits_for_the_deletions() -> None:
    ctl = ReplicaSetController()
    store, memory = converge(ctl, with_rs(3), ctl.initial_memory())
    pods = sorted(web_pods(store), key=lambda p: p.metadata.name)
    store = make_ready(store, pods[0])
    store = make_ready(store, pods[1], node="worker-2")
    store, memory = converge(ctl, store, memory)
    rs = rs_of(store)
    smaller = attrs.evolve(rs, spec=attrs.evolve(rs.spec, replicas=1))
    store, _ = send(store, Request(verb="update", user=ADMIN, obj=smaller))
    stale = store
    decision = ctl.reconcile(store, "default/web", memory, 2)
    deleted = [r.name for r in decision.requests if r.verb == "delete"]
    assert deleted == [pods[2].metadata.name, pods[0].metadata.name]  # the unready one, then a ready one
    store, memory = apply(ctl, store, decision.requests, decision.memory, 2)
    assert [r.verb for r in ctl.reconcile(stale, "default/web", memory, 3).requests if r.verb == "delete"] == []
    store, memory = converge(ctl, store, memory, 3)
    assert [p.metadata.name for p in web_pods(store) if is_pod_active(p)] == [pods[1].metadata.name]
    assert rs_of(store).status.replicas == 1 and rs_of(store).status.ready_replicas == 1
    assert memory == ctl.initial_memory()


def test_claims_adopt_orphans_release_mismatches_and_ignore_foreign_pods() -> None:
    store = with_rs(2)
    rs = rs_of(store)
    orphan = Pod(metadata=ObjectMeta(name="orphan", namespace="default", labels=LABELS),
                 spec=PodSpec(containers=(Container(name="c", image="nginx"),)))
    foreign_ref = OwnerReference("apps/v1", "ReplicaSet", "other", "uid-other", True, True)
    foreign_meta = attrs.evolve(orphan.metadata, name="foreign", owner_references=(foreign_ref,))
    foreign = attrs.evolve(orphan, metadata=foreign_meta)
    mine_ref = OwnerReference("apps/v1", "ReplicaSet", "web", rs.metadata.uid, True, True)
    stray = attrs.evolve(orphan, metadata=attrs.evolve(orphan.metadata, name="stray", labels={"app": "other"},
                                                       owner_references=(mine_ref,)))
    for p in (orphan, foreign, stray):
        store, response = send(store, Request(verb="create", user=ADMIN, obj=p))
        assert response.ok, response.message
    ctl = ReplicaSetController()
    decision = ctl.reconcile(store, "default/web", ctl.initial_memory(), 1)
    patches = {r.name: r.patch for r in decision.requests if r.verb == "patch"}
    assert set(patches) == {"orphan", "stray"}
    assert patches["stray"] == {"metadata": {"ownerReferences": []}}
    assert len(creates(decision.requests)) == 1  # the adopted orphan counts
    store, _ = apply(ctl, store, decision.requests, decision.memory)
    adopted = store.get(ObjectKey("pods", "default", "orphan"))
    assert adopted is not None and adopted.metadata.controller_ref() == mine_ref
    released = store.get(ObjectKey("pods", "default", "stray"))
    assert released is not None and released.metadata.owner_references == ()


def test_status_is_written_only_when_it_changes_and_counts_availability_with_min_ready_seconds() -> None:
    ctl = ReplicaSetController()
    store = with_rs(1)
    rs = rs_of(store)
    store, _ = send(store, Request(verb="update", user=ADMIN,
                                   obj=attrs.evolve(rs, spec=attrs.evolve(rs.spec, min_ready_seconds=10))))
    store, memory = converge(ctl, store, ctl.initial_memory())
    store = make_ready(store, web_pods(store)[0], now=5)
    store, memory = converge(ctl, store, memory, now=6)
    status = rs_of(store).status
    assert (status.replicas, status.fully_labeled_replicas, status.ready_replicas, status.available_replicas) == (
        1, 1, 1, 0)
    assert status.observed_generation == rs_of(store).metadata.generation
    assert ctl.wakeup_at(store, "default/web", 6) == 16
    assert ctl.reconcile(store, "default/web", memory, 15).requests == ()
    store, memory = converge(ctl, store, memory, now=16)
    assert rs_of(store).status.available_replicas == 1
    assert ctl.wakeup_at(store, "default/web", 16) is None


def test_keys_for_maps_pods_to_their_replica_set() -> None:
    ctl = ReplicaSetController()
    store, _ = converge(ctl, with_rs(1), ctl.initial_memory())
    owned = web_pods(store)[0]
    assert list(ctl.keys_for(owned, store)) == ["default/web"]
    orphan = attrs.evolve(owned, metadata=attrs.evolve(owned.metadata, owner_references=()))
    assert list(ctl.keys_for(orphan, store)) == ["default/web"]
    assert list(ctl.keys_for(rs_of(store), store)) == ["default/web"]
    memory = FrozenMap({"default/web": Expectation(0, unanswered_creates=1)})
    gone = ctl.reconcile(BASE, "default/web", memory, 1)
    assert gone.requests == () and "default/web" not in gone.memory


QUOTA = Response(403, "Forbidden", 'pods "web-x" is forbidden: exceeded quota: q, requested: pods=4, limited: pods=3')
TERMINATING = Response(403, "Forbidden", 'pods "web-x" is forbidden: unable to create new content in namespace '
                                         'default because it is being terminated')


def _failure(rs: ReplicaSet) -> list[tuple[str, str, str, int | None]]:
    return [(c.status, c.reason, c.message, c.last_transition_time) for c in rs.status.conditions
            if c.type == "ReplicaFailure"]


def test_a_refused_create_writes_failed_create_and_a_clean_sync_removes_it() -> None:
    store = with_rs(3)
    ctl = ReplicaSetController()
    decision = ctl.reconcile(store, "default/web", ctl.initial_memory(), 7)
    first = decision.requests[0]
    assert first.verb == "create" and decision.after_failure is not None
    (status,) = decision.after_failure(first, QUOTA)
    assert status.verb == "update-status" and isinstance(status.obj, ReplicaSet)
    assert _failure(status.obj) == [("True", "FailedCreate", QUOTA.message, 7)]
    store = send(store, status, 7)[0]
    # a second refusal keeps the condition as it is: nothing more to write
    again = ctl.reconcile(store, "default/web", ctl.initial_memory(), 9)
    assert again.after_failure is not None and again.after_failure(again.requests[0], QUOTA) == ()
    # a sync whose creates go through removes it (the status write at the end of its requests)
    store, _ = apply(ctl, store, again.requests, again.memory, 9)
    assert len(web_pods(store)) == 3 and _failure(rs_of(store)) == []


def test_a_failed_delete_is_failed_delete_and_a_delete_of_a_gone_pod_no_failure() -> None:
    store = with_rs(3)
    ctl = ReplicaSetController()
    first = ctl.reconcile(store, "default/web", ctl.initial_memory(), 1)
    store, _ = apply(ctl, store, first.requests, first.memory)
    store = send(store, Request(verb="update", user="admin", obj=evolve(
        rs_of(store), spec=evolve(rs_of(store).spec, replicas=1))), 2)[0]
    down = ctl.reconcile(store, "default/web", ctl.initial_memory(), 3)
    delete = down.requests[0]
    assert delete.verb == "delete" and down.after_failure is not None
    (status,) = down.after_failure(delete, Response(500, "InternalError", "etcdserver: request timed out"))
    assert isinstance(status.obj, ReplicaSet)
    assert _failure(status.obj) == [("True", "FailedDelete", "etcdserver: request timed out", 3)]
    (plain,) = down.after_failure(delete, Response(404, "NotFound", f'pods "{delete.name}" not found'))
    assert isinstance(plain.obj, ReplicaSet) and _failure(plain.obj) == [] and plain.obj.status.replicas == 3


def test_no_failure_for_a_terminating_namespace_nor_after_other_requests() -> None:
    store = with_rs(3)
    ctl = ReplicaSetController()
    decision = ctl.reconcile(store, "default/web", ctl.initial_memory(), 1)
    assert decision.after_failure is not None
    (plain,) = decision.after_failure(decision.requests[0], TERMINATING)  # the status write without a failure
    assert isinstance(plain.obj, ReplicaSet) and _failure(plain.obj) == [] and plain.obj.status.observed_generation == 1
    status_update = Request(verb="update-status", user="x", resource="replicasets.apps", namespace="default",
                            name="web")
    assert decision.after_failure(status_update, Response(409, "Conflict")) == ()
    adopt = Request(verb="patch", user="x", resource="pods", namespace="default", name="orphan")
    assert decision.after_failure(adopt, QUOTA) == ()
    # expectations pending on a stale cache: no create or delete, so nothing follows a failure
    assert ctl.reconcile(store, "default/web", decision.memory, 2).after_failure is None


def _two_replicas_one_ready(ctl: ReplicaSetController) -> Store:
    """A set of 2 with minReadySeconds 10 whose first pod became ready at 5 s, its second never."""
    store = with_rs(2)
    rs = rs_of(store)
    store, _ = send(store, Request(verb="update", user=ADMIN,
                                   obj=attrs.evolve(rs, spec=attrs.evolve(rs.spec, min_ready_seconds=10))))
    store, memory = converge(ctl, store, ctl.initial_memory())
    store = make_ready(store, web_pods(store)[0], now=5)
    store, _ = converge(ctl, store, memory, now=6)
    assert (rs_of(store).status.ready_replicas, rs_of(store).status.available_replicas) == (1, 0)
    return store


def test_v1_33_requeues_each_pod_that_turns_ready_after_min_ready_seconds() -> None:
    """v1.33's updatePod arms `enqueueRSAfter(rs, minReadySeconds + 1 s)` when a pod of the set
    turns Ready (`pkg/controller/replicaset/replica_set.go`), whatever the other replicas do: with one
    replica never ready the ready one is still counted available (audit22a: the model armed only
    syncReplicaSet's requeue, which needs every replica ready, and woke nothing)."""
    ctl = ReplicaSetController()
    store = _two_replicas_one_ready(ctl)
    assert ctl.wakeup_at(store, "default/web", 6) == 16  # Ready at 5, available once Ready longer than 10 s
    store, _ = converge(ctl, store, ctl.initial_memory(), now=16)
    assert (rs_of(store).status.ready_replicas, rs_of(store).status.available_replicas) == (1, 1)
    assert ctl.wakeup_at(store, "default/web", 16) is None
    store = make_ready(store, web_pods(store)[1], now=18)
    store, _ = converge(ctl, store, ctl.initial_memory(), now=19)
    assert ctl.wakeup_at(store, "default/web", 19) == 29


def test_v1_34_requeues_at_the_first_ready_pods_availability() -> None:
    """v1.34's syncReplicaSet (kubernetes PR #132121) requeues at the next availability: on the
    model's whole-second clock the times updatePod's requeue already gives."""
    ctl = ReplicaSetController(requeue_at_next_availability=True)
    store = _two_replicas_one_ready(ctl)
    assert ctl.wakeup_at(store, "default/web", 6) == 16
