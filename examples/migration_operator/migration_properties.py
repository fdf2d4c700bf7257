"""The migration operator's property, as its user writes it: never two migrations at once.

`one_migration_per_generation` reads the API server's truth (`state.store`), never a cache: a
StatefulSet generation has at most one migration pod. It is registered as a safety property, so
`kubeprop check` checks it on every state it reaches; the scenario names this module under
`properties:`.
"""

from __future__ import annotations

from collections import Counter

from migration_operator import GENERATION, MIGRATION_OF

from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Needs, Violation, safety


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
