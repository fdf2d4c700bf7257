"""Why a catalogue variant cannot show on a scenario, computed from the model (`CANNOT_OCCUR`):
the FeastFlow rows of `bench_catalogue.py --feastflow` give that reason instead of a run.

Imported by `bench_catalogue.py` and `bench_catalogue_steps.py`; imports kubeprop only.
"""

from __future__ import annotations

from collections.abc import Callable

from kubeprop.model.api.objects import Deployment
from kubeprop.model.state.cluster import ClusterModel


def fenceposts_never_both_zero(model: ClusterModel) -> str | None:
    """Why rollout-fencepost cannot change anything in `model` (None: it may). The variant drops
    ResolveFenceposts' rule "maxUnavailable = 1 when maxSurge and maxUnavailable both resolve to 0"
    (`deployment_util.resolve_fenceposts`), so it differs from the correct model only for a rolling
    Deployment whose two fenceposts resolve to 0 at some replica count. Judged on the
    Deployments of the manifests and apply steps (defaulted as the API server does: 25%/25%), at
    every replica count they or a scale step set; unknown (None) when an autoscaler or a
    controller of the user's own may set other counts, or create Deployments."""
    from kubeprop.model.api.defaults import apply_defaults
    from kubeprop.model.controllers.deployment_util import resolve_fenceposts
    from kubeprop.model.controllers.hpa import uses_hpa
    from kubeprop.properties.vacuity import own_controllers

    if uses_hpa(model) or own_controllers(model):
        return None
    objects = [m.obj for m in model.scenario.objects] + [o for step in model.workload_objects for o in step]
    deployments = [apply_defaults(o) for o in objects if isinstance(o, Deployment)]
    counts: dict[str, set[int]] = {}
    for d in deployments:
        assert isinstance(d, Deployment)
        counts.setdefault(f"{d.metadata.namespace or 'default'}/{d.metadata.name}", set()).add(
            1 if d.spec.replicas is None else d.spec.replicas)
    for workload_step in model.scenario.spec.workload:
        scale = workload_step.scale
        if scale is not None and scale.deployment in counts:
            counts[scale.deployment].add(scale.replicas)
    seen = []
    for d in deployments:
        assert isinstance(d, Deployment)
        rolling = d.spec.strategy.rolling_update
        if d.spec.strategy.type != "RollingUpdate" or rolling is None:
            continue
        name = f"{d.metadata.namespace or 'default'}/{d.metadata.name}"
        for replicas in sorted(counts[name]):
            resolved = resolve_fenceposts(rolling.max_surge, rolling.max_unavailable, replicas, False)
            if replicas > 0 and resolved == (0, 0):
                return None
        seen.append(f"{d.metadata.name}: maxSurge {rolling.max_surge}, maxUnavailable {rolling.max_unavailable} at "
                    f"{', '.join(map(str, sorted(counts[name])))} replicas")
    return ("maxSurge and maxUnavailable never both resolve to 0, where the variant differs, at the replica counts "
            f"the scenario sets ({'; '.join(seen) or 'no rolling Deployment'}; no autoscaler)")


CANNOT_OCCUR: dict[str, Callable[[ClusterModel], str | None]] = {"rollout-fencepost": fenceposts_never_both_zero}
"""Variant → why it cannot occur on a scenario (computed from the model; None: it may)."""
