"""Pure helpers of the deployment controller (`pkg/controller/deployment/util/deployment_util.go`,
`pkg/controller/controller_utils.go` ComputeHash, `pkg/controller/deployment/progress.go`).

Template hash: upstream's `controller.ComputeHash` feeds the pod template, printed by
`hashutil.DeepHashObject` (a go-spew dump), and the collision count (4 little-endian bytes in an
8-byte buffer) to FNV-1a 32, then `rand.SafeEncodeString(fmt.Sprint(sum))` maps each decimal digit
to the alphabet "bcdfghjklmnpqrstvwxz2456789". The model hashes the template's canonical JSON
(sorted keys, no spaces) instead of the spew dump — the same function of the template, with
different values — and keeps the rest (FNV-1a 32, collision count bytes, the safe encoding).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence

from kubeprop.model.api.apps import Deployment, ReplicaSet
from kubeprop.model.api.codec import encode
from kubeprop.model.api.meta import Condition
from kubeprop.model.api.names import safe_encode_string
from kubeprop.model.api.pod import PodTemplateSpec
from kubeprop.model.api.strategic import LAST_APPLIED_ANNOTATION
from kubeprop.model.evolve import evolve
from kubeprop.model.memo import IdentityMemo

POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
"""apps.DefaultDeploymentUniqueLabelKey."""
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO_ANNOTATION = "deprecated.deployment.rollback.to"
SKIP_COPY_ANNOTATIONS = frozenset({
    LAST_APPLIED_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION, ROLLBACK_TO_ANNOTATION,
})
"""annotationsToSkip: Deployment annotations not copied to its ReplicaSets."""
MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000
"""sync.go maxRevHistoryLengthInChars."""
MAX_INT32 = 2**31 - 1

# Condition reasons (deployment_util.go).
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
REPLICA_SET_UPDATED_REASON = "ReplicaSetUpdated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
NEW_RS_REASON = "NewReplicaSetCreated"
FAILED_RS_CREATE_REASON = "ReplicaSetCreateError"
PAUSED_REASON = "DeploymentPaused"
RESUMED_REASON = "DeploymentResumed"
MIN_AVAILABLE_REASON = "MinimumReplicasAvailable"
MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable"


def fnv32a(data: bytes) -> int:
    """FNV-1a, 32 bits (`hash/fnv` New32a)."""
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


_HASHED: IdentityMemo[str] = IdentityMemo(limit=1_024)
"""Template hashes by the template's identity and the collision count: a Deployment's template is
the very same object from state to state."""


def compute_hash(template: PodTemplateSpec, collision_count: int | None) -> str:
    """controller.ComputeHash over the template's canonical JSON (see the module docstring),
    remembered by the template's identity (`_HASHED`)."""
    return _HASHED.get((template,), _compute_hash, template, collision_count, values=collision_count)


def _compute_hash(template: PodTemplateSpec, collision_count: int | None) -> str:
    data = json.dumps(encode(template), sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += (collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4)
    return safe_encode_string(str(fnv32a(data)))


def without_hash(template: PodTemplateSpec) -> PodTemplateSpec:
    """The template without the pod-template-hash label."""
    labels = template.metadata.labels
    if POD_TEMPLATE_HASH_LABEL not in labels:
        return template
    meta = evolve(template.metadata, labels=labels.delete(POD_TEMPLATE_HASH_LABEL))
    return evolve(template, metadata=meta)


def equal_ignore_hash(a: PodTemplateSpec, b: PodTemplateSpec) -> bool:
    """EqualIgnoreHash: the templates are equal once pod-template-hash is dropped from both."""
    return without_hash(a) == without_hash(b)


def replicas_of(obj: Deployment | ReplicaSet) -> int:
    """spec.replicas (defaulted to 1 by the API server; 1 if somehow unset)."""
    return obj.spec.replicas if obj.spec.replicas is not None else 1


def rs_by_creation_key(rs: ReplicaSet) -> tuple[int, str]:
    """ReplicaSetsByCreationTimestamp: older first, then by name."""
    return (rs.metadata.creation_timestamp or 0, rs.metadata.name)


_PARSE_INT = re.compile(r"[+-]?[0-9]+")
_INT64 = (-(2**63), 2**63 - 1)


def parse_int64(text: str) -> int | None:
    """Go's `strconv.ParseInt(text, 10, 64)` (`strconv/atoi.go`), None on its error: an optional
    sign and ASCII digits within int64 — no space, no underscore (base 10), no other Unicode
    digit, all of which Python's `int` takes."""
    if _PARSE_INT.fullmatch(text) is None:
        return None
    value = int(text)
    return value if _INT64[0] <= value <= _INT64[1] else None


def revision(rs: ReplicaSet) -> int | None:
    """Revision: the revision annotation read by `strconv.ParseInt(v, 10, 64)`; a missing one
    is revision 0 (no error), an invalid one None (the error callers skip)."""
    text = rs.metadata.annotations.get(REVISION_ANNOTATION)
    return 0 if text is None else parse_int64(text)


def max_revision(rss: Iterable[ReplicaSet]) -> int:
    """MaxRevision: the highest parseable revision, 0 if none."""
    return max((r for r in (revision(rs) for rs in rss) if r is not None), default=0)


def by_revision_key(rs: ReplicaSet) -> tuple[int, int, str]:
    """ReplicaSetsByRevision (unparseable revisions compare by creation time, approximated as
    revision 0)."""
    return (revision(rs) or 0, *rs_by_creation_key(rs))


def find_new_rs(d: Deployment, rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """FindNewReplicaSet: the oldest ReplicaSet whose template equals the Deployment's ignoring the hash."""
    for rs in sorted(rss, key=rs_by_creation_key):
        if equal_ignore_hash(rs.spec.template, d.spec.template):
            return rs
    return None


def find_old_rss(d: Deployment, rss: Sequence[ReplicaSet], new_rs: ReplicaSet | None) -> list[ReplicaSet]:
    """FindOldReplicaSets (allOldRSs): every ReplicaSet but the new one."""
    return [rs for rs in rss if new_rs is None or rs.metadata.uid != new_rs.metadata.uid]


def active_rss(rss: Iterable[ReplicaSet | None]) -> list[ReplicaSet]:
    """FilterActiveReplicaSets: spec.replicas > 0."""
    return [rs for rs in rss if rs is not None and replicas_of(rs) > 0]


def replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetReplicaCountForReplicaSets: Σ spec.replicas."""
    return sum(replicas_of(rs) for rs in rss if rs is not None)


def actual_replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetActualReplicaCountForReplicaSets: Σ status.replicas."""
    return sum(rs.status.replicas for rs in rss if rs is not None)


def ready_replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetReadyReplicaCountForReplicaSets: Σ status.readyReplicas."""
    return sum(rs.status.ready_replicas for rs in rss if rs is not None)


def available_replica_count(rss: Iterable[ReplicaSet | None]) -> int:
    """GetAvailableReplicaCountForReplicaSets: Σ status.availableReplicas."""
    return sum(rs.status.available_replicas for rs in rss if rs is not None)


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent (nil → 0): an int as is; "N%" → N*total/100
    rounded up or down."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    percent = int(value.rstrip("%"))
    return -(-percent * total // 100) if round_up else percent * total // 100


def resolve_fenceposts(max_surge: int | str | None, max_unavailable: int | str | None, desired: int,
                       zero_unavailable_to_one: bool = True) -> tuple[int, int]:
    """ResolveFenceposts: surge rounds up, unavailable rounds down; if both are 0, unavailable
    becomes 1 (`zero_unavailable_to_one=False` drops that rule: the `rollout-fencepost` variant)."""
    surge = scaled_value(max_surge, desired, True)
    unavailable = scaled_value(max_unavailable, desired, False)
    if surge == 0 and unavailable == 0 and zero_unavailable_to_one:
        unavailable = 1
    return surge, unavailable


def is_rolling(d: Deployment) -> bool:
    """IsRollingUpdate."""
    return d.spec.strategy.type == "RollingUpdate"


def max_surge(d: Deployment, zero_rule: bool = True) -> int:
    """MaxSurge: the resolved surge for a rolling Deployment, else 0."""
    if not is_rolling(d) or d.spec.strategy.rolling_update is None:
        return 0
    ru = d.spec.strategy.rolling_update
    return resolve_fenceposts(ru.max_surge, ru.max_unavailable, replicas_of(d), zero_rule)[0]


def max_unavailable(d: Deployment, zero_rule: bool = True) -> int:
    """MaxUnavailable: the resolved unavailability for a rolling Deployment with replicas > 0
    (capped at replicas), else 0."""
    if not is_rolling(d) or replicas_of(d) == 0 or d.spec.strategy.rolling_update is None:
        return 0
    ru = d.spec.strategy.rolling_update
    unavailable = resolve_fenceposts(ru.max_surge, ru.max_unavailable, replicas_of(d), zero_rule)[1]
    return min(unavailable, replicas_of(d))


def new_rs_new_replicas(d: Deployment, all_rss: Iterable[ReplicaSet | None], new_rs: ReplicaSet) -> int:
    """NewRSNewReplicas: Rolling → grow the new RS up to replicas + maxSurge total pods (raw
    surge, rounded up) without exceeding replicas; Recreate → replicas."""
    if not is_rolling(d):
        return replicas_of(d)
    ru = d.spec.strategy.rolling_update
    surge = scaled_value(ru.max_surge if ru is not None else None, replicas_of(d), True)
    current = replica_count(all_rss)
    max_total = replicas_of(d) + surge
    if current >= max_total:
        return replicas_of(new_rs)
    return replicas_of(new_rs) + min(max_total - current, replicas_of(d) - replicas_of(new_rs))


_MAX_INT32 = 2**31 - 1


def annotation_int(rs: ReplicaSet, key: str) -> int | None:
    """getNonNegativeInt32FromAnnotation (v1.33; kubernetes/kubernetes#128535): the value read by
    `strconv.ParseUint(value, 10, 32)`, so ASCII digits only (no sign, space or underscore, which
    Python's `int` would take), and no more than MaxInt32; anything else is no value."""
    value = rs.metadata.annotations.get(key, "")
    if not value or any(c not in "0123456789" for c in value):
        return None
    number = int(value, 10)
    return number if number <= _MAX_INT32 else None


def round_half_away(value: float) -> int:
    """math.Round (integer.RoundToInt32): halves away from zero."""
    return math.floor(value + 0.5) if value >= 0 else -math.floor(-value + 0.5)


def rs_fraction(rs: ReplicaSet, d: Deployment, zero_rule: bool = True) -> int:
    """getReplicaSetFraction (v1.33, after kubernetes/kubernetes#128535): the change that keeps
    `rs`'s share of the Deployment's maximum size (replicas + surge) it had at the size in its
    max-replicas annotation. An annotation missing, not a non-negative int32, or 0 falls back to
    the Deployment's status.replicas, and only when that is 0 too is there no change (no division
    by zero). Before v1.32 a 0 annotation was divided by."""
    if replicas_of(d) == 0:
        return -replicas_of(rs)
    d_max = replicas_of(d) + max_surge(d, zero_rule)
    annotated = annotation_int(rs, MAX_REPLICAS_ANNOTATION)
    if not annotated:
        annotated = d.status.replicas
        if annotated == 0:
            return 0
    return round_half_away(replicas_of(rs) * d_max / annotated) - replicas_of(rs)


def proportion(rs: ReplicaSet | None, d: Deployment, to_add: int, added: int, zero_rule: bool = True) -> int:
    """GetProportion: the rs's fraction, bounded by what is still to be added (or removed)."""
    if rs is None or replicas_of(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = rs_fraction(rs, d, zero_rule)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def is_saturated(d: Deployment, rs: ReplicaSet | None) -> bool:
    """IsSaturated: the new RS has replicas = desired-replicas annotation = available = Deployment replicas.
    The annotation is read with `annotation_int`. Every version of IsSaturated the search index
    holds (none of v1.32 or later) reads it with `strconv.Atoi` then `int32()` ("+3" is 3,
    2^32 + 3 wraps to 3); whether v1.33's does was not confirmed (audit21a F5), so this is kept."""
    if rs is None:
        return False
    desired = annotation_int(rs, DESIRED_REPLICAS_ANNOTATION)
    r = replicas_of(d)
    return desired is not None and replicas_of(rs) == r and desired == r and rs.status.available_replicas == r


def find_active_or_latest(new_rs: ReplicaSet | None, old_rss: Sequence[ReplicaSet]) -> ReplicaSet | None:
    """FindActiveOrLatest: the only active RS; if none is active, the new RS or else the newest old one."""
    if new_rs is None and not old_rss:
        return None
    newest_first = sorted(old_rss, key=rs_by_creation_key, reverse=True)
    active = active_rss([*newest_first, new_rs])
    if not active:
        return new_rs if new_rs is not None else newest_first[0]
    return active[0] if len(active) == 1 else None


def replicas_annotations_need_update(rs: ReplicaSet, desired: int, max_replicas: int) -> bool:
    """ReplicasAnnotationsNeedUpdate."""
    ann = rs.metadata.annotations
    return ann.get(DESIRED_REPLICAS_ANNOTATION) != str(desired) or ann.get(MAX_REPLICAS_ANNOTATION) != str(max_replicas)


def with_replicas_annotations(rs: ReplicaSet, desired: int, max_replicas: int) -> ReplicaSet:
    """SetReplicasAnnotations."""
    ann = rs.metadata.annotations.set(DESIRED_REPLICAS_ANNOTATION, str(desired))
    ann = ann.set(MAX_REPLICAS_ANNOTATION, str(max_replicas))
    return evolve(rs, metadata=evolve(rs.metadata, annotations=ann))


def new_condition(type_: str, status: str, reason: str, message: str, now: int) -> Condition:
    """NewDeploymentCondition: lastUpdateTime = lastTransitionTime = now."""
    return Condition(type=type_, status=status, reason=reason, message=message,
                     last_update_time=now, last_transition_time=now)


def find_condition(conditions: tuple[Condition, ...], type_: str) -> Condition | None:
    """GetDeploymentCondition."""
    return next((c for c in conditions if c.type == type_), None)


def set_condition(conditions: tuple[Condition, ...], cond: Condition) -> tuple[Condition, ...]:
    """SetDeploymentCondition: no change if status and reason are the same; keep the transition
    time if the status is; the condition moves to the end."""
    current = find_condition(conditions, cond.type)
    if current is not None and current.status == cond.status and current.reason == cond.reason:
        return conditions
    if current is not None and current.status == cond.status:
        cond = evolve(cond, last_transition_time=current.last_transition_time)
    return (*remove_condition(conditions, cond.type), cond)


def remove_condition(conditions: tuple[Condition, ...], type_: str) -> tuple[Condition, ...]:
    """RemoveDeploymentCondition."""
    return tuple(c for c in conditions if c.type != type_)


def has_progress_deadline(d: Deployment) -> bool:
    """HasProgressDeadline: set and not MaxInt32."""
    return d.spec.progress_deadline_seconds is not None and d.spec.progress_deadline_seconds != MAX_INT32


def has_revision_history_limit(d: Deployment) -> bool:
    """HasRevisionHistoryLimit: set and not MaxInt32."""
    return d.spec.revision_history_limit is not None and d.spec.revision_history_limit != MAX_INT32
