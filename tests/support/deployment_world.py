"""The Deployment and ReplicaSet controllers in a "perfect world" (`World`): both reconcile every
queued key against the store itself, their requests go through the real API server as
system:kube-controller-manager, and the test plays the kubelet (binding pods and marking them Ready,
finishing graceful deletions) as system:admin. Shared by the Deployment controller's tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from api_harness import feastflow

from kubeprop.model.api.apps import Deployment, RollingUpdateDeployment
from kubeprop.model.api.meta import Condition, ObjectMeta
from kubeprop.model.api.objects import ObjectKey, Pod, ReplicaSet
from kubeprop.model.api.pod import EnvVar
from kubeprop.model.api.selectors import LabelSelector
from kubeprop.model.api.server import Request
from kubeprop.model.api.store import Store
from kubeprop.model.controllers import deployment_util as du
from kubeprop.model.controllers.base import Controller
from kubeprop.model.controllers.deployment import DeploymentController
from kubeprop.model.controllers.podutil import is_pod_active, is_pod_ready
from kubeprop.model.controllers.replicaset import ReplicaSetController
from kubeprop.model.scenario.load import ADMIN

API = feastflow()
BASE = API.base
CM = "system:kube-controller-manager"
Check = Callable[[Store], None]


@attrs.define
class World:
    """The store, the controllers' memories, the clock; `check` runs after every write."""

    store: Store
    controllers: tuple[Any, ...] = (DeploymentController(), ReplicaSetController())
    memory: dict[str, Any] = attrs.field(factory=dict)
    now: int = 1
    check: Check | None = None

    def __attrs_post_init__(self) -> None:
        for ctl in self.controllers:
            self.memory.setdefault(ctl.name, ctl.initial_memory())

    def send(self, request: Request) -> bool:
        result = API.handle(self.store, request, self.now)
        self.store = result.store
        if self.check is not None:
            self.check(self.store)
        return result.response.ok

    def reconcile(self, ctl: Controller, key: str) -> None:
        decision = ctl.reconcile(self.store, key, self.memory[ctl.name], self.now)
        memory = decision.memory
        for request in decision.requests:
            result = API.handle(self.store, request, self.now)
            self.store = result.store
            memory = ctl.observe(memory, request, result.response)
            if self.check is not None:
                self.check(self.store)
            if not result.response.ok:
                break
        self.memory[ctl.name] = memory

    def settle(self, rounds: int = 60) -> None:
        """Reconcile every key of every controller until a whole round writes nothing."""
        for _ in range(rounds):
            before = self.store.revision
            for ctl in self.controllers:
                keys = sorted({k for r in ctl.watches for o in self.store.list(r) for k in ctl.keys_for(o, self.store)})
                for key in keys:
                    self.reconcile(ctl, key)
            if self.store.revision == before:
                return
        raise AssertionError("controllers did not settle")

    def pods(self, app: str) -> list[Pod]:
        return [p for p in self.store.list("pods", "default")
                if isinstance(p, Pod) and p.metadata.labels.get("app") == app]

    def make_ready(self, pod: Pod, node: str = "worker-1") -> None:
        if not pod.spec.node_name:
            assert self.send(Request(verb="bind", user=ADMIN, resource="pods", namespace="default",
                                     name=pod.metadata.name, node_name=node))
        current = self.store.get(ObjectKey("pods", "default", pod.metadata.name))
        assert isinstance(current, Pod)
        ready = Condition(type="Ready", status="True", last_transition_time=self.now)
        status = attrs.evolve(current.status, phase="Running", conditions=(ready,))
        assert self.send(Request(verb="update-status", user=ADMIN, obj=attrs.evolve(current, status=status)))

    def finish_deletions(self) -> None:
        """The kubelet finishes graceful deletions (a final delete with grace period 0)."""
        for pod in list(self.store.list("pods", "default")):
            if pod.metadata.deletion_timestamp is not None:
                assert self.send(Request(verb="delete", user=ADMIN, resource="pods", namespace="default",
                                         name=pod.metadata.name, grace_period_seconds=0))

    def deployment(self, name: str) -> Deployment:
        d = self.store.get(ObjectKey("deployments.apps", "default", name))
        assert isinstance(d, Deployment)
        return d

    def update_deployment(self, name: str, change: Callable[[Deployment], Deployment]) -> None:
        assert self.send(Request(verb="update", user=ADMIN, obj=change(self.deployment(name))))

    def replica_sets(self, owner: str) -> list[ReplicaSet]:
        return sorted((r for r in self.store.list("replicasets.apps", "default")
                       if isinstance(r, ReplicaSet) and r.metadata.name.startswith(f"{owner}-")),
                      key=lambda r: int(r.metadata.annotations.get(du.REVISION_ANNOTATION, "0")))


def make_deployment(name: str, replicas: int, strategy: str = "RollingUpdate", surge: int | str | None = "25%",
                    unavailable: int | str | None = "25%", **spec: Any) -> Store:
    """A copy of FeastFlow's backend Deployment named `name` (labels app=name), created through the API."""
    base = BASE.get(ObjectKey("deployments.apps", "default", "feastflow-backend"))
    assert isinstance(base, Deployment)
    labels = {"app": name}
    template = attrs.evolve(base.spec.template, metadata=ObjectMeta(labels=labels))
    rolling = None
    if strategy == "RollingUpdate":
        rolling = RollingUpdateDeployment(max_surge=surge, max_unavailable=unavailable)
    d = Deployment(
        metadata=ObjectMeta(name=name, namespace="default", labels=labels),
        spec=attrs.evolve(base.spec, replicas=replicas, selector=LabelSelector(match_labels=labels), template=template,
                          strategy=attrs.evolve(base.spec.strategy, type=strategy, rolling_update=rolling), **spec),
    )
    result = API.handle(BASE, Request(verb="create", user=ADMIN, obj=d), 0)
    assert result.response.ok, result.response.message
    return result.store


def new_template(d: Deployment, value: str = "2") -> Deployment:
    """The Deployment with an env var changed in its first container (a new pod template)."""
    containers = list(d.spec.template.spec.containers)
    containers[0] = attrs.evolve(containers[0], env=(EnvVar(name="VERSION", value=value),))
    template = attrs.evolve(d.spec.template, spec=attrs.evolve(d.spec.template.spec, containers=tuple(containers)))
    return attrs.evolve(d, spec=attrs.evolve(d.spec, template=template))


def bring_up(world: World, app: str) -> None:
    """Settle, making every pod ready, until nothing changes."""
    for _ in range(40):
        world.settle()
        pending = [p for p in world.pods(app) if is_pod_active(p) and not is_pod_ready(p)]
        if not pending:
            return
        for pod in pending:
            world.make_ready(pod)
    raise AssertionError("did not come up")
