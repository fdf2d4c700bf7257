"""`kubeprop schedule` with a CronJob: one run of its Job template is placed (its pods as the Job
controller would create them), not none; a suspended CronJob adds nothing."""

from __future__ import annotations

from pathlib import Path

import attrs

from kubeprop.model.api.batch import JOB_NAME_LABEL
from kubeprop.model.api.batch_cronjob import CronJob
from kubeprop.model.cluster import build_model, initial_state
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.scheduler.decide import pod_key
from kubeprop.properties.scheduling.workloads import desired_count, desired_pods

NIGHTLY = Path(__file__).parents[2] / "model" / "data" / "cronjob" / "nightly.yaml"


def test_one_run_of_a_cronjob_is_placed() -> None:
    model = build_model(load_scenario(NIGHTLY))
    store = initial_state(model).store
    desired = desired_pods(store, model.api)
    assert desired_count(store) == 1 and not desired.refused
    (pod,) = desired.pending
    assert pod_key(pod) == "default/report-0-0" and pod.metadata.labels[JOB_NAME_LABEL] == "report-0"
    (cron,) = [c for c in store.list("cronjobs.batch") if isinstance(c, CronJob)]
    suspended = attrs.evolve(cron, spec=attrs.evolve(cron.spec, suspend=True))
    store = store.put(suspended, "MODIFIED")[0]
    assert desired_count(store) == 0
