"""The HPA's replica calculation and normalisation, with upstream's test cases.

The cases come from `pkg/controller/podautoscaler/replica_calculator_test.go` and
`horizontal_test.go` (v1.33): pods `test-pod-<i>` with two containers each requesting the given
CPU, metrics per pod summed over both containers, Ready unless said otherwise, started long ago
("cool") unless started a minute ago ("hot": inside the 2-minute CPU initialisation period of the
test calculator), a 1-minute metric window and a 10-s initial readiness delay.
"""

from __future__ import annotations

import pytest

from kubeprop.model.api.autoscaling import HPAScalingPolicy, HPAScalingRules
from kubeprop.model.api.meta import Condition
from kubeprop.model.controllers import hpa_calc as calc

NOW = 100_000
COOL, HOT = 0, NOW - 60
WINDOW, CPU_INIT, READINESS_DELAY, TOLERANCE = 60, 120, 10, 0.1


def _pods(requests: list[int], levels: list[int], ready: list[str] | None = None, start: list[int] | None = None,
          phase: list[str] | None = None, deleting: list[bool] | None = None,
          count: int | None = None) -> list[calc.PodSample]:
    n = count if count is not None else max(len(requests), len(phase or ()), len(levels))
    out = []
    for i in range(n):
        status = (ready or [])[i] if ready and i < len(ready) else "True"
        started = (start or [])[i] if start else COOL
        # a hot pod became Ready less than one metric window ago (upstream's fake metrics carry a
        # zero timestamp, which has the same effect)
        changed = NOW - 30 if started == HOT else 0
        out.append(calc.PodSample(
            name=f"test-pod-{i}", phase=(phase or [])[i] if phase else "Running",
            ready=Condition(type="Ready", status=status, last_transition_time=changed),
            start_time=started, deleting=bool(deleting and deleting[i]),
            request=2 * requests[i] if i < len(requests) else None,
            metric=2 * levels[i] if i < len(levels) else None,
            request_error="" if i < len(requests) else f"missing request for cpu in container container1 of Pod "
                                                       f"test-pod-{i}"))
    return out


def _resource(current: int, target: int, pods: list[calc.PodSample]) -> calc.Proposal:
    grouping = calc.group_pods(pods, "cpu", NOW, WINDOW, CPU_INIT, READINESS_DELAY)
    return calc.resource_replicas(current, target, pods, grouping, TOLERANCE)


CASES = {
    # name: (current, expected, utilization, raw per container, target, pods)
    "ScaleUp": (3, 5, 50, 500, 30, dict(requests=[1000] * 3, levels=[300, 500, 700])),
    "ScaleUpUnreadyLessScale": (3, 4, 60, 600, 30, dict(requests=[1000] * 3, levels=[300, 500, 700],
                                                       ready=["False", "True", "True"])),
    "ScaleUpHotCpuLessScale": (3, 4, 60, 600, 30, dict(requests=[1000] * 3, levels=[300, 500, 700],
                                                      start=[HOT, COOL, COOL])),
    "ScaleUpUnreadyNoScale": (3, 3, 40, 400, 30, dict(requests=[1000] * 3, levels=[400, 500, 700],
                                                     ready=["True", "False", "False"])),
    "ScaleHotCpuNoScale": (3, 3, 40, 400, 30, dict(requests=[1000] * 3, levels=[400, 500, 700],
                                                  ready=["True", "False", "False"], start=[COOL, HOT, HOT])),
    "ScaleUpIgnoresFailedPods": (2, 4, 60, 600, 30, dict(
        requests=[1000] * 4, levels=[500, 700], ready=["True", "True", "False", "False"],
        phase=["Running", "Running", "Failed", "Failed"])),
    "ScaleUpIgnoresDeletionPods": (2, 4, 60, 600, 30, dict(
        requests=[1000] * 4, levels=[500, 700], ready=["True", "True", "False", "False"],
        deleting=[False, False, True, True])),
    "ScaleDown": (5, 3, 28, 280, 50, dict(requests=[1000] * 5, levels=[100, 300, 500, 250, 250])),
    "ScaleDownExcludeUnreadyPods": (5, 2, 30, 300, 50, dict(
        requests=[1000] * 5, levels=[100, 300, 500, 250, 250], ready=["True", "True", "True", "False", "False"])),
    "ScaleDownExcludeUnscheduledPods": (5, 1, 10, 100, 50, dict(
        requests=[1000] * 5, levels=[100], ready=["True", "False", "False", "False", "False"],
        phase=["Running", "Pending", "Pending", "Pending", "Pending"])),
    "ScaleDownIgnoreHotCpuPods": (5, 2, 30, 300, 50, dict(
        requests=[1000] * 5, levels=[100, 300, 500, 250, 250], start=[COOL, COOL, COOL, HOT, HOT])),
    "ScaleDownIgnoresFailedPods": (5, 3, 28, 280, 50, dict(
        requests=[1000] * 7, levels=[100, 300, 500, 250, 250], ready=["True"] * 5 + ["False"] * 2,
        phase=["Running"] * 5 + ["Failed"] * 2)),
    "ScaleDownIgnoresDeletionPods": (5, 3, 28, 280, 50, dict(
        requests=[1000] * 7, levels=[100, 300, 500, 250, 250], ready=["True"] * 5 + ["False"] * 2,
        deleting=[False] * 5 + [True] * 2)),
    "Tolerance": (3, 3, 102, 1020, 100, dict(requests=[900, 1000, 1100], levels=[1010, 1030, 1020])),
    "MissingMetrics": (4, 3, 24, 247, 100, dict(requests=[1000] * 4, levels=[400, 95])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_upstream_resource_cases(name: str) -> None:
    current, expected, utilization, raw, target, spec = CASES[name]
    result = _resource(current, target, _pods(**spec))  # type: ignore[arg-type]
    assert (result.replicas, result.utilization) == (expected, utilization)
    assert result.average == 2 * raw or (name == "MissingMetrics" and result.average == 495)


def test_empty_cpu_request_is_an_error() -> None:
    """TestReplicaCalcEmptyCPURequest."""
    with pytest.raises(calc.MetricsError, match=r"^missing request for cpu in container container1 of Pod test-pod-0$"):
        _resource(1, 100, _pods(requests=[], levels=[200]))


def test_no_ready_metrics_is_an_error() -> None:
    """Every pod unready: `did not receive metrics for targeted pods (pods might be unready)`."""
    with pytest.raises(calc.MetricsError, match="pods might be unready"):
        _resource(2, 50, _pods(requests=[1000] * 2, levels=[100, 100], ready=["False", "False"]))


def test_plain_metric_missing_metrics_no_change_eq() -> None:
    """TestPlainMetricReplicaCalcMissingMetricsNoChangeEq, as an AverageValue resource target."""
    pods = [calc.PodSample(f"p{i}", "Running", Condition(type="Ready", status="True", last_transition_time=0), COOL,
                           False, 1000, m) for i, m in enumerate([20000, 19000, 21000, None, None])]
    grouping = calc.group_pods(pods, "memory", NOW, WINDOW, CPU_INIT, READINESS_DELAY)
    assert calc.plain_replicas(5, 20000, pods, grouping, TOLERANCE).replicas == 5


# --- normalisation (horizontal_test.go) ------------------------------------------------------------

def test_scale_up_limit_without_behavior() -> None:
    """convertDesiredReplicasWithRules: at most max(2·current, 4), then maxReplicas."""
    assert calc.limit_without_behavior(1, 10, 1, 20)[:2] == (4, "ScaleUpLimit")
    assert calc.limit_without_behavior(3, 10, 1, 20)[:2] == (6, "ScaleUpLimit")
    assert calc.limit_without_behavior(3, 10, 1, 5)[:2] == (5, "TooManyReplicas")
    assert calc.limit_without_behavior(3, 0, 2, 5)[:2] == (2, "TooFewReplicas")


def test_downscale_stabilisation_keeps_the_highest_recent_recommendation() -> None:
    """TestScaleDownWithStabilization-like: within 300 s the highest recommendation wins."""
    history = ((NOW - 400, 8), (NOW - 200, 6), (NOW - 100, 5))
    stabilized, kept = calc.stabilize(history, 3, NOW, 300)
    assert stabilized == 6
    assert kept == ((NOW - 200, 6), (NOW - 100, 5), (NOW, 3))


def _rules(window: int, *policies: HPAScalingPolicy, select: str = "Max") -> HPAScalingRules:
    return HPAScalingRules(stabilization_window_seconds=window, select_policy=select, policies=policies)


def test_behavior_rate_policies() -> None:
    """calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors with the
    default rules: up by max(4 pods, 100 %) per 15 s; down by 100 % per 15 s."""
    up = _rules(0, HPAScalingPolicy("Pods", 4, 15), HPAScalingPolicy("Percent", 100, 15))
    down = _rules(300, HPAScalingPolicy("Percent", 100, 15))
    assert calc.limit_with_behavior(2, 20, 1, 30, (), (), up, down, NOW)[:2] == (6, "ScaleUpLimit")
    assert calc.limit_with_behavior(10, 30, 1, 30, (), (), up, down, NOW)[:2] == (20, "ScaleUpLimit")
    # two pods were added 10 s ago: the period started at 8, so up to 16
    assert calc.limit_with_behavior(10, 30, 1, 30, ((NOW - 10, 2),), (), up, down, NOW)[:2] == (16, "ScaleUpLimit")
    slow_down = _rules(0, HPAScalingPolicy("Pods", 1, 60))
    assert calc.limit_with_behavior(5, 1, 1, 10, (), (), up, slow_down, NOW)[:2] == (4, "ScaleDownLimit")
    assert calc.limit_with_behavior(5, 1, 1, 10, (), ((NOW - 30, 1),), up, slow_down, NOW)[0] == 5
    disabled = _rules(0, HPAScalingPolicy("Pods", 1, 60), select="Disabled")
    assert calc.limit_with_behavior(5, 1, 1, 10, (), (), up, disabled, NOW)[0] == 5


def test_behavior_stabilisation_windows() -> None:
    """stabilizeRecommendationWithBehaviors: the scale-down window keeps the highest, the
    scale-up window the lowest recommendation (samples strictly after the cutoffs)."""
    history = ((NOW - 300, 9), (NOW - 120, 7), (NOW - 30, 4))
    assert calc.stabilize_with_behaviors(history, 7, 2, NOW, 0, 300)[:2] == (7, "ScaleDownStabilized")
    assert calc.stabilize_with_behaviors(history, 7, 2, NOW, 0, 60)[0] == 4
    assert calc.stabilize_with_behaviors(history, 3, 9, NOW, 200, 0)[:2] == (4, "ScaleUpStabilized")
    assert calc.stabilize_with_behaviors(history, 3, 9, NOW, 100, 0)[0] == 4
    assert calc.stabilize_with_behaviors(history, 3, 9, NOW, 20, 0)[0] == 9
