"""The migration operator's properties, as its user writes them: never two migrations at once,
and every ready generation migrated.

They read the API server's truth (`state.store`), never a cache. `one_migration_per_generation`
(a StatefulSet generation has at most one migration pod) is a safety property: `kubeprop check`
checks it on every state it reaches. `ready_generations_migrate` (a labelled StatefulSet whose
current generation is ready has that generation's migration pod) is a convergence property: it is
judged where the cluster settles, since the pod comes a few steps after readiness. The scenario
names this module under `properties:`.
"""

from __future__ import annotations

from collections import Counter

from migration_operator import GENERATION, MIGRATE, MIGRATION_OF, is_ready, migrations_of

from kubeprop.model.api.objects import StatefulSet
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Needs, Violation, convergence, safety


@safety("one-migration-per-generation", "A StatefulSet generation has at most one migration pod.",
        "examples/migration_operator", needs=Needs(("pods",)))
def one_migration_per_generation(model: ClusterModel, state: ClusterState) -> Violation | str | None:
    """Two migration pods for one generation of one StatefulSet run two migrations at once."""
    counts = Counter((p.metadata.namespace, p.metadata.labels[MIGRATION_OF], p.metadata.annotations.get(GENERATION))
                     for p in state.store.list("pods") if MIGRATION_OF in p.metadata.labels)
    for (namespace, sts, generation), count in sorted(counts.items(), key=str):
        if count > 1:
            return f"StatefulSet {namespace}/{sts} generation {generation} has {count} migration pods"
    return None


@convergence("ready-generations-migrate", "A ready StatefulSet generation gets its migration pod.",
             "examples/migration_operator", needs=Needs(("statefulsets.apps",)))
def ready_generations_migrate(model: ClusterModel, state: ClusterState) -> Violation | str | None:
    """Once the cluster settles, every labelled StatefulSet that is ready has a migration pod for
    its current generation."""
    for sts in state.store.list("statefulsets.apps"):
        if isinstance(sts, StatefulSet) and sts.metadata.labels.get(MIGRATE) == "true" and is_ready(sts) \
                and not migrations_of(state.store, sts):
            return (f"StatefulSet {sts.metadata.namespace}/{sts.metadata.name} generation {sts.metadata.generation} "
                    "is ready and was never migrated")
    return None
