"""The correct twin of a variant's model: the same scenario, parameters and fault budget, with the
variant's mechanism undone (`kubeprop.model.scenario.variants.mechanism`).

A violation found under a variant is the variant's only if the variant plays a part in it. The
twin is what decides that (`kubeprop.properties.upstream_twin`): a trace that replays on the twin
to the same violation happens without the variant. Only the parameters that make the variant's bug
change; those that merely let it show (`SETTINGS`: lagging caches) and every other parameter —
the scenario's, the caller's — stay as they are, and so do the controllers given in code.
"""

from __future__ import annotations

from kubeprop.model.cluster.compose import build_model
from kubeprop.model.scenario.variants import mechanism
from kubeprop.model.state.cluster import ClusterModel

__all__ = ["CORRECT", "correct_twin"]

CORRECT = "correct"
"""The name of the model as upstream behaves (`variants.VARIANTS`)."""


def correct_twin(model: ClusterModel) -> ClusterModel:
    """The model `model` is with its variant's mechanism undone: `model` itself when it is the
    correct model; else the scenario built again as the correct model with every parameter of
    `model` but the mechanism's, which take the values they have without the variant (the
    scenario's, else upstream's defaults: `build_model`'s order), and the same controllers added in
    code. Built on demand: only when a violation under the variant is to be judged."""
    if model.variant == CORRECT:
        return model
    undone = mechanism(model.variant)
    kept = {name: value for name, value in model.parameters.items() if name not in undone}
    return build_model(model.scenario, parameters=kept, variant=CORRECT, controllers=model.added_controllers)
