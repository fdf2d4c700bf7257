"""Validation of Jobs: the generated selector, spec, update and status, and the registry's selector
generation.

Follows `pkg/apis/batch/validation/validation.go` (v1.33): validateGeneratedSelector (without
manualSelector the template carries the `controller-uid` and `job-name` labels, legacy and
`batch.kubernetes.io/` ones, with the Job's UID and name, and the selector matches them),
ValidateJob (an Indexed Job's last pod hostname `<name>-<completions-1>` is a DNS label),
ValidateJobSpec (a selector is required and matches the template's labels; parallelism, completions,
activeDeadlineSeconds, backoffLimit, ttlSecondsAfterFinished, backoffLimitPerIndex and
maxFailedIndexes non-negative, the latter only with the former, both only for Indexed Jobs
(`_per_index_limits`); managedBy at most 63 characters; completionMode NonIndexed or Indexed,
Indexed needs completions and parallelism ≤ 100000; podReplacementPolicy Failed or
TerminatingOrFailed; the template validated as a pod's; restartPolicy OnFailure or Never, "Required"
when Always), validatePodFailurePolicy (`_pod_failure_policy`; with a policy restartPolicy must be
Never and podReplacementPolicy Failed), validateSuccessPolicy (`_success_policy`, Indexed Jobs
only), ValidateJobSpecUpdate (completions, selector, template, completionMode, podFailurePolicy,
successPolicy, managedBy and backoffLimitPerIndex immutable — the elastic Indexed Job's completions
change with parallelism, and a suspended Job that never started may change its template's scheduling
directives: both not modelled, so refused as immutable), and the status counts non-negative with
`ready` ≤ `active` (validateJobStatus, the checks the registry's getStatusValidationOptions always
runs for the Job controller's own writes are what the controller keeps; the model checks the
counts).

`generate_selector` is `pkg/registry/batch/job/strategy.go` generateSelectorIfNeeded, run in
PrepareForCreate (after the UID is set, `kubeprop.model.api.server_write`).
"""

from __future__ import annotations

import re

from kubeprop.model.api.batch import (
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
    Job,
    JobSpec,
    JobStatus,
    PodFailurePolicyOnExitCodesRequirement,
    PodFailurePolicyOnPodConditionsPattern,
    PodFailurePolicyRule,
    SuccessPolicyRule,
)
from kubeprop.model.api.codec import FieldPath
from kubeprop.model.api.names import is_dns1123_label, is_qualified_name
from kubeprop.model.api.selectors import LabelSelector, selector_matches
from kubeprop.model.api.validation_fields import (
    INVALID,
    ErrorList,
    FieldError,
    duplicate,
    immutable,
    invalid,
    label_selector,
    messages,
    nonnegative,
    not_supported,
    optional_nonnegative,
    required,
    too_long,
    too_many,
)
from kubeprop.model.api.validation_pod import validate_pod_template
from kubeprop.model.evolve import evolve

__all__ = ["generate_selector", "validate_job", "validate_job_status", "validate_job_update"]

MAX_PARALLELISM_FOR_INDEXED_JOB = 100000
"""validation.go maxParallelismForIndexedJob."""

_TEMPLATE_META = ("spec", "template", "metadata")

MAX_POD_FAILURE_POLICY_RULES = 20
MAX_ON_EXIT_CODES_VALUES = 255
MAX_ON_POD_CONDITIONS_PATTERNS = 20
"""validation.go maxPodFailurePolicyRules, maxPodFailurePolicyOnExitCodesValues,
maxPodFailurePolicyOnPodConditionsPatterns."""
MAX_FAILED_INDEXES = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
HIGH_COMPLETIONS_LIMIT = 10_000
"""validation.go maxFailedIndexesForIndexedJob, completionsSoftLimit, and
parallelismLimitForHighCompletions = maxFailedIndexesLimitForHighCompletions."""
MAX_MANAGED_BY_LENGTH = 63
"""validation.go maxManagedByLength (the value's IsDomainPrefixedPath check is not modelled: a
manifest may only name the Job controller, `kubeprop.model.api.batch`)."""
MAX_SUCCESS_POLICY_RULES = 20
MAX_SUCCEEDED_INDEXES_LENGTH = 64 * 1024
"""validation.go maxSuccessPolicyRule, maxJobSuccessPolicySucceededIndexesLimit."""
_ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
_OPERATORS = ("In", "NotIn")
_CONDITION_STATUSES = ("False", "True", "Unknown")
"""supportedPodFailurePolicyActions, …OnExitCodesOperator, …OnPodConditionsStatus (sorted, as
sets.List prints them)."""


def generate_selector(job: Job) -> Job:
    """generateSelectorIfNeeded: unless manualSelector, the template gets the (legacy and prefixed)
    job-name and controller-uid labels it lacks, and the selector `matchLabels` the prefixed
    controller-uid, if it lacks it (conflicting labels a user set are left for validation)."""
    if job.spec.manual_selector:
        return job
    labels = dict(job.spec.template.metadata.labels)
    for name in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
        labels.setdefault(name, job.metadata.name)
    for name in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
        labels.setdefault(name, job.metadata.uid)
    selector = job.spec.selector or LabelSelector()
    if CONTROLLER_UID_LABEL not in selector.match_labels:
        selector = evolve(selector, match_labels=selector.match_labels.set(CONTROLLER_UID_LABEL, job.metadata.uid))
    template = job.spec.template
    template = evolve(template, metadata=evolve(template.metadata, labels=labels))
    return evolve(job, spec=evolve(job.spec, selector=selector, template=template))


def _has_label(labels: dict[str, str], name: str, value: str) -> ErrorList:
    """core ValidateHasLabel."""
    path = (*_TEMPLATE_META, "labels")
    if name not in labels:
        return [required((*path, f"[{name}]"), f"must be '{value}'")]
    if labels[name] != value:
        return [invalid((*path, f"[{name}]"), labels[name], f"must be '{value}'")]
    return []


def _generated_selector(job: Job) -> ErrorList:
    """validateGeneratedSelector (RequirePrefixedLabels: true on create)."""
    if job.spec.manual_selector or job.spec.selector is None:
        return []
    errs: ErrorList = [] if job.metadata.uid else [required(("metadata", "uid"))]
    labels = dict(job.spec.template.metadata.labels)
    expected = {LEGACY_CONTROLLER_UID_LABEL: job.metadata.uid, LEGACY_JOB_NAME_LABEL: job.metadata.name,
                CONTROLLER_UID_LABEL: job.metadata.uid, JOB_NAME_LABEL: job.metadata.name}
    for name in (LEGACY_CONTROLLER_UID_LABEL, LEGACY_JOB_NAME_LABEL, CONTROLLER_UID_LABEL, JOB_NAME_LABEL):
        errs += _has_label(labels, name, expected[name])
    if not label_selector(job.spec.selector, ("spec", "selector")) and not selector_matches(
            job.spec.selector, expected):
        errs.append(invalid(("spec", "selector"), job.spec.selector, "`selector` not auto-generated"))
    return errs


def validate_job(job: Job) -> ErrorList:
    """ValidateJob (after the object metadata, which the API server validates for every kind)."""
    errs = _generated_selector(job) + validate_job_spec(job.spec, ("spec",))
    completions = job.spec.completions
    if job.spec.completion_mode == "Indexed" and completions is not None and completions > 0:
        hostname = f"{job.metadata.name}-{completions - 1}"
        if is_dns1123_label(hostname):
            errs.append(invalid(("metadata", "name"), job.metadata.name,
                                f"will not able to create pod with invalid DNS label: {hostname}"))
    return errs


def validate_job_spec(spec: JobSpec, path: FieldPath) -> ErrorList:
    """ValidateJobSpec and validateJobSpec (the fields the model has)."""
    errs: ErrorList = []
    for value, name in ((spec.parallelism, "parallelism"), (spec.completions, "completions"),
                        (spec.active_deadline_seconds, "activeDeadlineSeconds"),
                        (spec.backoff_limit, "backoffLimit"),
                        (spec.ttl_seconds_after_finished, "ttlSecondsAfterFinished"),
                        (spec.backoff_limit_per_index, "backoffLimitPerIndex"),
                        (spec.max_failed_indexes, "maxFailedIndexes")):
        errs += optional_nonnegative(value, (*path, name))
    if spec.max_failed_indexes is not None and spec.backoff_limit_per_index is None:
        errs.append(required((*path, "backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
    mode = spec.completion_mode
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        errs.append(not_supported((*path, "completionMode"), mode, ("NonIndexed", "Indexed")))
    if mode == "Indexed":
        if spec.completions is None:
            errs.append(required((*path, "completions"), "when completion mode is Indexed"))
        if spec.parallelism is not None and spec.parallelism > MAX_PARALLELISM_FOR_INDEXED_JOB:
            errs.append(invalid((*path, "parallelism"), spec.parallelism,
                                f"must be less than or equal to {MAX_PARALLELISM_FOR_INDEXED_JOB} when completion "
                                "mode is Indexed"))
        errs += _per_index_limits(spec, path)
    else:
        for value, name in ((spec.backoff_limit_per_index, "backoffLimitPerIndex"),
                            (spec.max_failed_indexes, "maxFailedIndexes")):
            if value is not None:
                errs.append(invalid((*path, name), value, "requires indexed completion mode"))
    if spec.managed_by is not None and len(spec.managed_by) > MAX_MANAGED_BY_LENGTH:
        errs.append(too_long((*path, "managedBy"), MAX_MANAGED_BY_LENGTH))
    if spec.pod_failure_policy is not None:
        errs += _pod_failure_policy(spec, (*path, "podFailurePolicy"))
    if spec.success_policy is not None:
        if spec.completion_mode != "Indexed":
            errs.append(invalid((*path, "successPolicy"), spec.success_policy, "requires indexed completion mode"))
        else:
            errs += _success_policy(spec, (*path, "successPolicy"))
    policy = spec.pod_replacement_policy
    allowed = ("Failed",) if spec.pod_failure_policy is not None else ("Failed", "TerminatingOrFailed")
    if policy is not None and policy not in allowed:
        errs.append(not_supported((*path, "podReplacementPolicy"), policy, allowed))
    tpath = (*path, "template")
    errs += validate_pod_template(spec.template, tpath)
    restart = spec.template.spec.restart_policy
    if restart in ("Always", ""):
        errs.append(required((*tpath, "spec", "restartPolicy"), 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        errs.append(not_supported((*tpath, "spec", "restartPolicy"), restart, ("OnFailure", "Never")))
    elif spec.pod_failure_policy is not None and restart != "Never":
        errs.append(invalid((*tpath, "spec", "restartPolicy"), restart,
                            'only "Never" is supported when podFailurePolicy is specified'))
    if spec.selector is None:
        errs.append(required((*path, "selector")))
        return errs
    selector_errs = label_selector(spec.selector, (*path, "selector"))
    errs += selector_errs
    if not selector_errs and not selector_matches(spec.selector, spec.template.metadata.labels):
        errs.append(invalid((*tpath, "metadata", "labels"), spec.template.metadata.labels,
                            "`selector` does not match template `labels`"))
    return errs


def _per_index_limits(spec: JobSpec, path: FieldPath) -> ErrorList:
    """An Indexed Job's maxFailedIndexes at most completions and 100000; above 100000 completions
    with a backoff limit per index, maxFailedIndexes required, and parallelism and maxFailedIndexes
    at most 10000."""
    errs: ErrorList = []
    limit, completions = spec.max_failed_indexes, spec.completions
    if completions is not None and limit is not None and limit > completions:
        errs.append(invalid((*path, "maxFailedIndexes"), limit, "must be less than or equal to completions"))
    if limit is not None and limit > MAX_FAILED_INDEXES:
        errs.append(invalid((*path, "maxFailedIndexes"), limit, f"must be less than or equal to {MAX_FAILED_INDEXES}"))
    if completions is None or completions <= COMPLETIONS_SOFT_LIMIT or spec.backoff_limit_per_index is None:
        return errs
    high = f"when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff limit per index"
    if limit is None:
        errs.append(required((*path, "maxFailedIndexes"), f"must be specified when completions is above "
                                                          f"{COMPLETIONS_SOFT_LIMIT}"))
    if spec.parallelism is not None and spec.parallelism > HIGH_COMPLETIONS_LIMIT:
        errs.append(invalid((*path, "parallelism"), spec.parallelism,
                            f"must be less than or equal to {HIGH_COMPLETIONS_LIMIT} {high}"))
    if limit is not None and limit > HIGH_COMPLETIONS_LIMIT:
        errs.append(invalid((*path, "maxFailedIndexes"), limit,
                            f"must be less than or equal to {HIGH_COMPLETIONS_LIMIT} {high}"))
    return errs


def _pod_failure_policy(spec: JobSpec, path: FieldPath) -> ErrorList:
    """validatePodFailurePolicy: at most 20 rules, each valid (`_rule`)."""
    assert spec.pod_failure_policy is not None
    rules, rules_path = spec.pod_failure_policy.rules, (*path, "rules")
    errs: ErrorList = []
    if len(rules) > MAX_POD_FAILURE_POLICY_RULES:
        errs.append(too_many(rules_path, len(rules), MAX_POD_FAILURE_POLICY_RULES))
    names = {c.name for c in (*spec.template.spec.containers, *spec.template.spec.init_containers)}
    for i, rule in enumerate(rules):
        errs += _rule(rule, (*rules_path, i), names, spec.backoff_limit_per_index is not None)
    return errs


def _rule(rule: PodFailurePolicyRule, path: FieldPath, names: set[str], per_index: bool) -> ErrorList:
    """validatePodFailurePolicyRule: a supported action (FailIndex needs backoffLimitPerIndex);
    exactly one of onExitCodes and onPodConditions, each valid."""
    errs: ErrorList = []
    action_path = (*path, "action")
    if rule.action == "":
        errs.append(required(action_path, "valid values: [" + " ".join(f'"{a}"' for a in _ACTIONS) + "]"))
    elif rule.action == "FailIndex":
        if not per_index:
            errs.append(invalid(action_path, rule.action, "requires the backoffLimitPerIndex to be set"))
    elif rule.action not in _ACTIONS:
        errs.append(not_supported(action_path, rule.action, _ACTIONS))
    if rule.on_exit_codes is not None:
        errs += _on_exit_codes(rule.on_exit_codes, (*path, "onExitCodes"), names)
    if rule.on_pod_conditions:
        errs += _on_pod_conditions(rule.on_pod_conditions, (*path, "onPodConditions"))
    if rule.on_exit_codes is not None and rule.on_pod_conditions:
        errs.append(FieldError(path, INVALID, "specifying both OnExitCodes and OnPodConditions is not "
                                                      "supported"))
    if rule.on_exit_codes is None and not rule.on_pod_conditions:
        errs.append(FieldError(path, INVALID, "specifying one of OnExitCodes and OnPodConditions is required"))
    return errs


def _on_pod_conditions(patterns: tuple[PodFailurePolicyOnPodConditionsPattern, ...], path: FieldPath) -> ErrorList:
    """validatePodFailurePolicyRuleOnPodConditions: at most 20 patterns, each a qualified type and
    a status True, False or Unknown."""
    errs: ErrorList = []
    if len(patterns) > MAX_ON_POD_CONDITIONS_PATTERNS:
        errs.append(too_many(path, len(patterns), MAX_ON_POD_CONDITIONS_PATTERNS))
    for j, pattern in enumerate(patterns):
        errs += messages(pattern.type, (*path, j, "type"), is_qualified_name(pattern.type))
        status_path = (*path, j, "status")
        if pattern.status == "":
            errs.append(required(status_path, "valid values: [" + " ".join(f'"{s}"' for s in _CONDITION_STATUSES)
                                 + "]"))
        elif pattern.status not in _CONDITION_STATUSES:
            errs.append(not_supported(status_path, pattern.status, _CONDITION_STATUSES))
    return errs


def _on_exit_codes(req: PodFailurePolicyOnExitCodesRequirement, path: FieldPath, names: set[str]) -> ErrorList:
    """validatePodFailurePolicyRuleOnExitCodes: operator In or NotIn; a container name of the
    template; 1 to 255 values, unique, ordered, none 0 for In."""
    errs: ErrorList = []
    operator_path = (*path, "operator")
    if req.operator == "":
        errs.append(required(operator_path, "valid values: [" + " ".join(f'"{o}"' for o in _OPERATORS) + "]"))
    elif req.operator not in _OPERATORS:
        errs.append(not_supported(operator_path, req.operator, _OPERATORS))
    if req.container_name is not None and req.container_name not in names:
        errs.append(invalid((*path, "containerName"), req.container_name,
                            "must be one of the container or initContainer names in the pod template"))
    values_path = (*path, "values")
    if not req.values:
        errs.append(invalid(values_path, list(req.values), "at least one value is required"))
    elif len(req.values) > MAX_ON_EXIT_CODES_VALUES:
        errs.append(too_many(values_path, len(req.values), MAX_ON_EXIT_CODES_VALUES))
    seen: set[int] = set()
    for j, value in enumerate(req.values):
        if req.operator == "In" and value == 0:
            errs.append(invalid((*values_path, j), value, "must not be 0 for the In operator"))
        if value in seen:
            errs.append(duplicate((*values_path, j), value))
        seen.add(value)
    if any(a > b for a, b in zip(req.values, req.values[1:], strict=False)):
        errs.append(invalid(values_path, list(req.values), "must be ordered"))
    return errs


def _success_policy(spec: JobSpec, path: FieldPath) -> ErrorList:
    """validateSuccessPolicy: 1 to 20 rules, each valid (`_success_rule`)."""
    assert spec.success_policy is not None
    rules, rules_path = spec.success_policy.rules, (*path, "rules")
    errs: ErrorList = []
    if not rules:
        errs.append(required(rules_path, "at least one rules must be specified when the successPolicy is specified"))
    if len(rules) > MAX_SUCCESS_POLICY_RULES:
        errs.append(too_many(rules_path, len(rules), MAX_SUCCESS_POLICY_RULES))
    for i, rule in enumerate(rules):
        errs += _success_rule(rule, spec.completions or 0, (*rules_path, i))
    return errs


def _success_rule(rule: SuccessPolicyRule, completions: int, path: FieldPath) -> ErrorList:
    """validateSuccessPolicyRule: succeededIndexes or succeededCount; the indexes an ordered list of
    intervals below completions (at most 64 KiB); the count non-negative, at most completions and
    at most the number of the listed indexes."""
    errs: ErrorList = []
    if rule.succeeded_count is None and rule.succeeded_indexes is None:
        errs.append(required(path, "at least one of succeededCount or succeededIndexes must be specified"))
    total = 0
    if rule.succeeded_indexes is not None:
        indexes_path = (*path, "succeededIndexes")
        if len(rule.succeeded_indexes) > MAX_SUCCEEDED_INDEXES_LENGTH:
            errs.append(too_long(indexes_path, MAX_SUCCEEDED_INDEXES_LENGTH))
        counted, problem = indexes_format(rule.succeeded_indexes, completions)
        if problem is not None:
            errs.append(invalid(indexes_path, rule.succeeded_indexes, f"error parsing succeededIndexes: {problem}"))
        total = counted
    if rule.succeeded_count is not None:
        count_path = (*path, "succeededCount")
        errs += nonnegative(rule.succeeded_count, count_path)
        if rule.succeeded_count > completions:
            errs.append(invalid(count_path, rule.succeeded_count, f"must be less than or equal to {completions} "
                                                                  "(the number of specified completions)"))
        if rule.succeeded_indexes is not None and rule.succeeded_count > total:
            errs.append(invalid(count_path, rule.succeeded_count, f"must be less than or equal to {total} (the "
                                                                  "number of indexes in the specified succeededIndexes "
                                                                  "field)"))
    return errs


_ATOI = re.compile(r"[+-]?[0-9]+")


def _index_interval(text: str, completions: int) -> tuple[int, int] | str:
    """parseIndexInterval: "x" or "x-y" (x < y), both below completions; else the error text."""
    limits = text.split("-")
    if len(limits) > 2:
        return (f"the fragment \"{text}\" violates the requirement that an index interval can have at most two parts "
                "separated by '-'")
    bounds: list[int] = []
    for part in limits:
        if not _ATOI.fullmatch(part):
            return f"cannot convert string to integer for index: \"{part}\""
        if int(part) >= completions:
            return f"too large index: \"{part}\""
        bounds.append(int(part))
    if len(bounds) > 1 and bounds[0] >= bounds[1]:
        return f"non-increasing order, previous: {bounds[0]}, current: {bounds[1]}"
    return bounds[0], bounds[-1]


def indexes_format(text: str, completions: int) -> tuple[int, str | None]:
    """validateIndexesFormat: the number of indexes of "1,3-5", or the first problem (intervals in
    increasing order, each valid: `_index_interval`)."""
    if not text:
        return 0, None
    last: int | None = None
    total = 0
    for part in text.split(","):
        found = _index_interval(part, completions)
        if isinstance(found, str):
            return 0, found
        if last is not None and last >= found[0]:
            return 0, f"non-increasing order, previous: {last}, current: {found[0]}"
        total += found[1] - found[0] + 1
        last = found[1]
    return total, None


def validate_job_update(new: Job, old: Job) -> ErrorList:
    """ValidateJobSpecUpdate's immutable fields (the spec itself is validated as on create)."""
    path = ("spec",)
    errs = immutable(new.spec.completions, old.spec.completions, (*path, "completions"))
    errs += immutable(new.spec.selector, old.spec.selector, (*path, "selector"))
    errs += immutable(new.spec.template, old.spec.template, (*path, "template"))
    errs += immutable(new.spec.completion_mode, old.spec.completion_mode, (*path, "completionMode"))
    errs += immutable(new.spec.pod_failure_policy, old.spec.pod_failure_policy, (*path, "podFailurePolicy"))
    errs += immutable(new.spec.managed_by, old.spec.managed_by, (*path, "managedBy"))
    errs += immutable(new.spec.backoff_limit_per_index, old.spec.backoff_limit_per_index,
                      (*path, "backoffLimitPerIndex"))
    return errs + immutable(new.spec.success_policy, old.spec.success_policy, (*path, "successPolicy"))


def validate_job_status(status: JobStatus, path: FieldPath) -> ErrorList:
    """validateJobStatus: the counts non-negative, `ready` not above `active`."""
    errs: ErrorList = []
    for value, name in ((status.active, "active"), (status.succeeded, "succeeded"), (status.failed, "failed")):
        errs += nonnegative(value, (*path, name))
    errs += optional_nonnegative(status.ready, (*path, "ready"))
    errs += optional_nonnegative(status.terminating, (*path, "terminating"))
    if status.ready is not None and status.ready > status.active:
        errs.append(invalid((*path, "ready"), status.ready, "cannot set more ready pods than active"))
    return errs
