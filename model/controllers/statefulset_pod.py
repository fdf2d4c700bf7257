"""The pod of one StatefulSet ordinal: its identity (name `<set>-<ordinal>`, the pod-name, pod-index
and revision labels, hostname/subdomain), its claims `<claim>-<set>-<ordinal>`, the ordinal range's
start, and the set's current revision — what the StatefulSet controller
(`kubeprop.model.controllers.statefulset`) builds and reads pods with.

Upstream: `pkg/controller/statefulset/stateful_set_utils.go` (getParentNameAndOrdinal,
getStartOrdinal, getPersistentVolumeClaims, newStatefulSetPod, setPodRevision),
`stateful_set_control.go` (getStatefulSetRevisions' current revision, ApplyRevision).

Imports: `kubeprop.model.api`, `kubeprop.model.evolve` and `kubeprop.model.controllers.podutil` only
(no other controller module), so the controller and its helpers may all import it.
"""

from __future__ import annotations

import re

from kubeprop.model.api.apps import StatefulSet
from kubeprop.model.api.core import PersistentVolumeClaim
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume
from kubeprop.model.api.revisions import revision_name, template_revision_name
from kubeprop.model.controllers.podutil import pod_template_object
from kubeprop.model.evolve import evolve

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")


def start_ordinal(sts: StatefulSet) -> int:
    """getStartOrdinal: `spec.ordinals.start`, or 0 when `spec.ordinals` is unset."""
    return sts.spec.ordinals.start if sts.spec.ordinals is not None else 0


def parent_and_ordinal(pod_name: str) -> tuple[str, int]:
    """(set name, ordinal) of `<set>-<n>`, or ("", -1) (stateful_set_utils.go getParentNameAndOrdinal)."""
    match = _ORDINAL.match(pod_name)
    if match is None:
        return "", -1
    return match.group(1), int(match.group(2))


def current_revision(sts: StatefulSet) -> tuple[str, PodTemplateSpec]:
    """getStatefulSetRevisions' current revision, by name and template (ApplyRevision): the one
    `status.currentRevision` names when the model knows its template (the set's own, or the one
    kept in `status.current_revision_template`), else — no history yet, or a revision not found —
    the update revision."""
    update = revision_name(sts)
    named = sts.status.current_revision
    kept = sts.status.current_revision_template
    if named and named != update and kept is not None and template_revision_name(sts.metadata.name, kept) == named:
        return named, kept
    return update, sts.spec.template


def claim_objects(sts: StatefulSet, ordinal: int) -> tuple[PersistentVolumeClaim, ...]:
    """The PVCs `<claim>-<set>-<ordinal>` of one pod (getPersistentVolumeClaims): the template with
    the set's selector matchLabels added to its labels, in the set's namespace."""
    selector_labels = sts.spec.selector.match_labels if sts.spec.selector is not None else {}
    out = []
    for tpl in sts.spec.volume_claim_templates:
        labels = {**tpl.metadata.labels, **selector_labels}
        meta = ObjectMeta(name=f"{tpl.metadata.name}-{sts.metadata.name}-{ordinal}", namespace=sts.metadata.namespace,
                          labels=labels, annotations=tpl.metadata.annotations)
        out.append(PersistentVolumeClaim(metadata=meta, spec=tpl.spec))
    return tuple(out)


def new_pod(sts: StatefulSet, ordinal: int, revision: str) -> Pod:
    """The pod of one ordinal (newStatefulSetPod + setPodRevision): template, controller reference,
    name, identity labels, hostname/subdomain, claim volumes replacing same-named template volumes."""
    base = pod_template_object(sts.spec.template, sts)
    name = f"{sts.metadata.name}-{ordinal}"
    labels = {**base.metadata.labels, POD_NAME_LABEL: name, POD_INDEX_LABEL: str(ordinal), REVISION_LABEL: revision}
    templates = sts.spec.volume_claim_templates
    claims = {tpl.metadata.name: pvc for tpl, pvc in zip(templates, claim_objects(sts, ordinal), strict=True)}
    volumes = [Volume(name=n, persistent_volume_claim=PersistentVolumeClaimVolumeSource(claim_name=c.metadata.name))
               for n, c in claims.items()]
    volumes += [v for v in base.spec.volumes if v.name not in claims]
    spec = evolve(base.spec, hostname=name, subdomain=sts.spec.service_name, volumes=tuple(volumes))
    return Pod(metadata=evolve(base.metadata, name=name, labels=labels), spec=spec)
