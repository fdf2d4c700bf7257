"""A pod's (anti-)affinity `matchLabelKeys` / `mismatchLabelKeys`, as the API server applies them.

Upstream (`kubernetes/kubernetes`):

* `pkg/registry/core/pod/strategy.go` PrepareForCreate → mutatePodAffinity →
  applyMatchLabelKeysAndMismatchLabelKeys: for every term of the pod's podAffinity and
  podAntiAffinity, required and preferred, whose labelSelector is set, each matchLabelKeys key the
  pod's labels carry is appended to the selector's matchExpressions as `key In (value)`, each
  mismatchLabelKeys key as `key NotIn (value)`; keys the pod lacks are skipped; the keys themselves
  stay in the term. Only on create: the scheduler then reads the selector alone
  (`kubeprop.model.scheduler.affinity`), so a new ReplicaSet's pods with
  `matchLabelKeys: [pod-template-hash]` ignore the old ReplicaSet's.
* `pkg/api/pod/util.go` dropDisabledMatchLabelKeysFieldInPodAffinity (DropDisabledPodFields, in
  PrepareForCreate before the merge and in PrepareForUpdate): where the MatchLabelKeysInPodAffinity
  gate is off the fields are dropped, unless the stored pod already uses them. (Upstream drops them
  from pod templates too, DropDisabledTemplateFields; the model leaves a template's fields and drops
  them from the pods made from it, which is what the scheduler sees either way.)
* `pkg/features/kube_features.go` MatchLabelKeysInPodAffinity: alpha (off) in v1.29 and v1.30, beta
  (on) from v1.31, GA and locked on from v1.33 — the model parameter
  `matchLabelKeysInPodAffinity` (default true, v1.33; false: v1.30 and before).

Validation (`pkg/apis/core/validation/validation.go` validatePodAffinityTerm →
validateMatchLabelKeysAndMismatchLabelKeys) runs after the merge, on the merged selector:
`kubeprop.model.api.validation_placement`.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeprop.model.api.pod import Affinity, Pod, PodAffinity, PodAffinityTerm
from kubeprop.model.api.selectors import LabelSelectorRequirement
from kubeprop.model.evolve import evolve

__all__ = ["prepare_pod_affinity"]


def _merged_term(term: PodAffinityTerm, labels: Mapping[str, str]) -> PodAffinityTerm:
    """applyMatchLabelKeysAndMismatchLabelKeys for one term."""
    selector = term.label_selector
    if selector is None or not (term.match_label_keys or term.mismatch_label_keys):
        return term  # "nil-LabelSelector is match none"
    added = [LabelSelectorRequirement(k, op, (labels[k],)) for keys, op in
             ((term.match_label_keys, "In"), (term.mismatch_label_keys, "NotIn")) for k in keys if k in labels]
    if not added:
        return term
    return evolve(term, label_selector=evolve(selector, match_expressions=(*selector.match_expressions, *added)))


def _stripped_term(term: PodAffinityTerm, labels: Mapping[str, str]) -> PodAffinityTerm:
    """dropMatchLabelKeysFieldInPodAffnityTerm: both fields cleared (`labels` unused)."""
    return evolve(term, match_label_keys=(), mismatch_label_keys=())


def _each_term(affinity: Affinity, labels: Mapping[str, str], *, merge: bool) -> Affinity:
    """Every term of both specs, required and preferred, merged (or stripped)."""
    fix = _merged_term if merge else _stripped_term

    def one(spec: PodAffinity | None) -> PodAffinity | None:
        if spec is None:
            return None
        preferred = tuple(evolve(w, pod_affinity_term=fix(w.pod_affinity_term, labels))
                          for w in spec.preferred_during_scheduling_ignored_during_execution)
        required = tuple(fix(t, labels) for t in spec.required_during_scheduling_ignored_during_execution)
        return evolve(spec, preferred_during_scheduling_ignored_during_execution=preferred,
                      required_during_scheduling_ignored_during_execution=required)

    return evolve(affinity, pod_affinity=one(affinity.pod_affinity), pod_anti_affinity=one(affinity.pod_anti_affinity))


def _terms(affinity: Affinity | None) -> list[PodAffinityTerm]:
    if affinity is None:
        return []
    specs = [s for s in (affinity.pod_affinity, affinity.pod_anti_affinity) if s is not None]
    preferred = [w.pod_affinity_term for s in specs for w in s.preferred_during_scheduling_ignored_during_execution]
    return [*(t for s in specs for t in s.required_during_scheduling_ignored_during_execution), *preferred]


def _in_use(pod: Pod | None) -> bool:
    """matchLabelKeysFieldInPodAffinityInUse: some term of the stored pod sets either field."""
    return pod is not None and any(t.match_label_keys or t.mismatch_label_keys for t in _terms(pod.spec.affinity))


def prepare_pod_affinity(obj: object, old: object | None, gate: bool) -> object:
    """A pod as PrepareForCreate (`old` None) or PrepareForUpdate (`old` the stored pod) leaves its
    affinity: with the gate on, merged on create (`mutatePodAffinity`) and kept on update; with it
    off, both fields dropped unless the stored pod uses them. Anything but a Pod is returned as is."""
    if not isinstance(obj, Pod) or obj.spec.affinity is None:
        return obj
    affinity = obj.spec.affinity
    if not gate:
        if _in_use(old if isinstance(old, Pod) else None) or not _in_use(obj):
            return obj
        return evolve(obj, spec=evolve(obj.spec, affinity=_each_term(affinity, obj.metadata.labels, merge=False)))
    if old is not None:
        return obj
    return evolve(obj, spec=evolve(obj.spec, affinity=_each_term(affinity, obj.metadata.labels, merge=True)))
