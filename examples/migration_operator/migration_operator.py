"""A user's operator with a stale-cache bug, written the way users write their first version.

The operator runs one schema migration for every generation of a database StatefulSet labelled
`example.com/migrate: "true"`: once the StatefulSet reports all its replicas ready for its current
generation (`status.observedGeneration`, `status.readyReplicas`), it creates a migration pod
(`restartPolicy: Never`, labelled `example.com/migration-of: <statefulset>` and annotated with
the generation it migrates to), and asks to be requeued to check on it. Two migrations running
at once against one database corrupt its schema: `migration_properties.py` says so as a safety
property.

`MIGRATIONS` is the first version. It looks for the migration pod in its informer cache and
creates one, with `generateName`, when none is there. The requeued reconcile can run before the
pod it just created has reached that cache (informers lag behind the API server; nothing orders
a controller's next reconcile after the watch event of its own write), and then it creates a
second migration pod. Upstream controllers guard against exactly this with expectations
(`pkg/controller/controller_utils.go`: "ControllerExpectations is a cache mapping controllers to
what they expect to see before being woken up for a sync") or with names that a second create
cannot reuse.

`MIGRATIONS_FIXED` is the fix a user makes: the migration pod is named after the StatefulSet and
the generation (`<statefulset>-migrate-<generation>`), so the second create on a stale cache is
refused with 409 AlreadyExists (the API server's create is `Txn(If mod_revision==0 Then Put)`,
`staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go` Create) and the key is requeued until
the cache catches up — how StatefulSet pods get stable names.

`MIGRATIONS_RECORDED` is a second version that avoids the race differently: before it creates the
pod it records the generation in an annotation on the StatefulSet (`example.com/migrated`, an
update carrying the cached resourceVersion, so a reconcile on a stale cache gets 409 Conflict
instead of creating a second pod), and it skips every generation the annotation names. It trades
one bug for another: if the controller manager dies between the two requests — the annotation
written, the pod not created — the restarted operator reads the annotation and never runs that
migration (Sieve's *intermediate state*: Sun et al., OSDI 2022). `migration_properties.py` says
that a ready generation gets its migration as a convergence property; the fix is the other
order, the pod first (`MIGRATIONS_FIXED` needs no annotation at all).

Run it with this folder on the import path:
`PYTHONPATH=examples/migration_operator kubeprop check examples/migration_operator/scenario.yaml`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from kubeprop.model.api.objects import ApiObject, ObjectKey, Pod, StatefulSet, decode_object
from kubeprop.model.api.server import Request
from kubeprop.model.controllers.base import Memoryless, Reconciliation
from kubeprop.model.frozen import FrozenMap
from kubeprop.model.state.informer import ObjectView

MIGRATE = "example.com/migrate"
"""The label that opts a StatefulSet in."""
MIGRATION_OF = "example.com/migration-of"
"""The label on a migration pod naming its StatefulSet."""
GENERATION = "example.com/generation"
"""The annotation on a migration pod: the StatefulSet generation it migrates to."""
MIGRATED = "example.com/migrated"
"""`MIGRATIONS_RECORDED`'s annotation on a StatefulSet: the generation whose migration it started."""


def is_ready(sts: StatefulSet) -> bool:
    """All replicas of the StatefulSet's current generation are ready, as its status reports."""
    replicas = sts.spec.replicas if sts.spec.replicas is not None else 1
    return (replicas > 0 and sts.status.observed_generation >= sts.metadata.generation
            and sts.status.ready_replicas >= replicas)


def migration_pod(sts: StatefulSet, fixed_name: bool) -> Pod:
    """The migration pod for the StatefulSet's current generation."""
    name, generation = sts.metadata.name, sts.metadata.generation
    naming = {"name": f"{name}-migrate-{generation}"} if fixed_name else {"generateName": f"{name}-migrate-"}
    body: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {**naming, "namespace": sts.metadata.namespace, "labels": {MIGRATION_OF: name},
                     "annotations": {GENERATION: str(generation)}},
        "spec": {"restartPolicy": "Never",
                 "containers": [{"name": "migrate", "image": "migrate:1",
                                 "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}}}]},
    }
    pod = decode_object(body)
    assert isinstance(pod, Pod)
    return pod


def migrations_of(view: ObjectView, sts: StatefulSet) -> list[ApiObject]:
    """The migration pods of the StatefulSet's current generation in `view`."""
    return [p for p in view.list("pods", sts.metadata.namespace)
            if p.metadata.labels.get(MIGRATION_OF) == sts.metadata.name
            and p.metadata.annotations.get(GENERATION) == str(sts.metadata.generation)]


@attrs.frozen
class MigrationOperator(Memoryless):
    """The operator as a `Controller` (see the module docstring): `fixed_name` is the fix,
    `recorded` the second version."""

    name: str = "migrations"
    watches: tuple[str, ...] = ("statefulsets.apps", "pods")
    identity: str = "system:kube-controller-manager"
    fixed_name: bool = False
    recorded: bool = False

    def keys_for(self, obj: ApiObject, view: ObjectView) -> Iterable[str]:
        """A labelled StatefulSet: its own key; a migration pod: its StatefulSet's."""
        ns = obj.metadata.namespace
        if isinstance(obj, StatefulSet):
            return (f"{ns}/{obj.metadata.name}",) if obj.metadata.labels.get(MIGRATE) == "true" else ()
        owner = obj.metadata.labels.get(MIGRATION_OF)
        return (f"{ns}/{owner}",) if owner else ()

    def reconcile(self, view: ObjectView, key: str, memory: Any, now: int) -> Reconciliation:
        """Once the StatefulSet is ready, create its migration pod unless the cache shows one,
        and requeue to check on it."""
        namespace, _, name = key.rpartition("/")
        sts = view.get(ObjectKey("statefulsets.apps", namespace, name))
        if not isinstance(sts, StatefulSet) or sts.metadata.deletion_timestamp is not None or not is_ready(sts):
            return Reconciliation(memory=memory)  # its status events wake the operator again
        if self.recorded:
            if sts.metadata.annotations.get(MIGRATED) == str(sts.metadata.generation):
                return Reconciliation(memory=memory)
            return Reconciliation((self._record(sts), self._create(sts)), memory)
        if migrations_of(view, sts):
            return Reconciliation(memory=memory)
        return Reconciliation((self._create(sts),), memory, requeue=True)

    def _create(self, sts: StatefulSet) -> Request:
        return Request(verb="create", user=self.identity, obj=migration_pod(sts, self.fixed_name))

    def _record(self, sts: StatefulSet) -> Request:
        """The annotation naming the generation, guarded by the cached resourceVersion."""
        annotations = {**sts.metadata.annotations, MIGRATED: str(sts.metadata.generation)}
        return Request(verb="update", user=self.identity,
                       obj=attrs.evolve(sts, metadata=attrs.evolve(sts.metadata, annotations=FrozenMap(annotations))))


MIGRATIONS = MigrationOperator()
"""The first version: `generateName`, so a reconcile on a stale cache creates a second pod."""

MIGRATIONS_FIXED = MigrationOperator(fixed_name=True)
"""The fix: one name per generation, so a second create is refused (409 AlreadyExists)."""

MIGRATIONS_RECORDED = MigrationOperator(recorded=True)
"""The second version: the generation recorded on the StatefulSet first, then the pod created, so
a crash between the two requests leaves a generation that is never migrated."""
