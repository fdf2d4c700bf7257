"""The completion index as upstream reads it (`pkg/controller/job/indexed_job_utils.go`
getCompletionIndex: strconv.Atoi, then unknown if negative): a sign and leading zeros are valid, so
an Indexed Job keeps a pod annotated "01" or "+1" as the pod of index 1, and counts it (audit16)."""

from __future__ import annotations

import attrs
import pytest

from kubeprop.model.api.batch import COMPLETION_INDEX_ANNOTATION, Job
from kubeprop.model.api.objects import Pod, decode_object
from kubeprop.model.controllers.job_sync import decide_sync
from kubeprop.model.controllers.job_util import completion_index, job_pod


def _indexed_job() -> Job:
    """An Indexed Job of two completions, two at a time."""
    job = decode_object({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "shard", "namespace": "default", "uid": "job-uid"},
        "spec": {"completionMode": "Indexed", "completions": 2, "parallelism": 2,
                 "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "s", "image": "s:1"}]}}}})
    assert isinstance(job, Job)
    return job


JOB = _indexed_job()


def _pod(index: int, annotation: str, phase: str = "Running") -> Pod:
    pod = job_pod(JOB, index)
    meta = attrs.evolve(pod.metadata, name=f"shard-{index}", uid=f"uid-{index}",
                        annotations=pod.metadata.annotations.set(COMPLETION_INDEX_ANNOTATION, annotation))
    return attrs.evolve(pod, metadata=meta, spec=attrs.evolve(pod.spec, node_name="n1"),
                        status=attrs.evolve(pod.status, phase=phase))


@pytest.mark.parametrize(("value", "index"), [
    ("0", 0), ("3", 3), ("03", 3), ("+3", 3), ("-0", 0), ("00000000000000000000003", 3),
    ("9223372036854775807", 2**63 - 1),
    ("-1", None), ("9223372036854775808", None), ("", None), ("+", None), (" 3", None), ("3 ", None),
    ("3\n", None), ("1_0", None), ("0x3", None), ("\u0663", None), ("3.0", None),
])
def test_the_index_is_what_go_strconv_atoi_reads(value: str, index: int | None) -> None:
    """Atoi (`strconv/atoi.go`): an optional sign, ASCII digits, within int64; nothing else."""
    assert completion_index(_pod(0, value)) == index


@pytest.mark.parametrize("value", ["01", "+1"])
def test_a_pod_whose_index_has_a_sign_or_a_leading_zero_is_kept_and_counted(value: str) -> None:
    running = [_pod(0, "0"), _pod(1, value)]
    decision = decide_sync(JOB, running, "kcm", 1, True, frozenset(), None)
    assert not [r for r in decision.requests if r.resource == "pods"]  # neither deleted nor replaced
    done = [_pod(0, "0"), _pod(1, value, "Succeeded")]
    decision = decide_sync(JOB, done, "kcm", 2, True, frozenset(), None)
    status = next(r.obj.status for r in decision.requests if r.verb == "update-status" and isinstance(r.obj, Job))
    assert (status.completed_indexes, status.succeeded) == ("1", 1)
