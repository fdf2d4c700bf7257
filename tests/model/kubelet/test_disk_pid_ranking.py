"""The eviction manager's disk and PID rankings against upstream's order, with concrete usages.

Upstream: `pkg/kubelet/eviction/helpers.go` rankDiskPressureFunc (`orderedBy(exceedDiskRequests,
priority, disk)`), rankPIDPressure (`orderedBy(priority, process)`), the comparators' "prioritize
evicting the pod for which no stats were found", `multiSorter` (sort.Sort: not stable, so any pod
tied at the top may come first); `eviction_manager.go` localStorageEviction (usage above a pod's
ephemeral-storage limit is evicted before any ranking). The reference below sorts pods with usages
drawn within what the spec allows; the model, which does not track usage, must offer every pod the
reference can put first (no real eviction missed) and only such pods (no eviction real Kubernetes
would not make)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.objects import Container, Pod, PodSpec, ResourceRequirements
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.kubelet.eviction import (
    Candidate,
    disk_bounds,
    exceed_ranked,
    inode_bounds,
    pid_ranked,
    resource_request,
)


@dataclass(frozen=True)
class Spec:
    """A pod as a ranking sees it: ephemeral-storage request and limit in Mi (None: not set)."""

    key: str
    priority: int
    request: int | None
    limit: int | None
    has_stats: bool

    def pod(self) -> Pod:
        def amounts(value: int | None) -> dict[str, Quantity]:
            return {} if value is None else {"ephemeral-storage": Quantity.parse(f"{value}Mi")}
        resources = ResourceRequirements(requests=amounts(self.request), limits=amounts(self.limit))
        return Pod(metadata=ObjectMeta(name=self.key, namespace="default"),
                   spec=PodSpec(containers=(Container(name="c", image="x:1", resources=resources),)))

    def candidate(self, bounds: tuple[bool, bool]) -> Candidate:
        return Candidate(self.key, self.priority, *bounds, has_stats=self.has_stats)


@st.composite
def specs(draw: st.DrawFn) -> list[Spec]:
    out = []
    for n in range(draw(st.integers(1, 5))):
        request = draw(st.one_of(st.none(), st.integers(1, 4)))
        limit = draw(st.one_of(st.none(), st.integers(request or 1, 6)))
        if limit is not None and request is None and draw(st.booleans()):
            request = limit  # the API server defaults a missing request to the limit
        out.append(Spec(f"p{n}", draw(st.integers(0, 2)), request, limit, draw(st.booleans())))
    return out


def _first(keys: dict[str, tuple[object, ...]]) -> set[str]:
    """The pods an unstable sort by these keys may put first: those tied at the minimum."""
    best = min(keys.values())
    return {k for k, v in keys.items() if v == best}


def _disk_first(pods: list[Spec], usage: dict[str, int], inodes: bool) -> set[str]:
    """rankDiskPressureFunc's top with concrete usages: no stats first; then usage above the request
    (none for inodes); then priority; then usage minus the ephemeral-storage request (larger first)."""
    keys: dict[str, tuple[object, ...]] = {}
    for p in pods:
        request = 0 if inodes else (p.request or 0)
        if not p.has_stats:
            keys[p.key] = (0, 0, p.priority, 0)
        else:
            keys[p.key] = (1, 0 if usage[p.key] > request else 1, p.priority, -(usage[p.key] - (p.request or 0)))
    return _first(keys)


def _model_disk(pods: list[Spec], inodes: bool) -> set[tuple[str, bool]]:
    bounds = inode_bounds if inodes else disk_bounds
    return set(exceed_ranked([p.candidate(bounds(p.pod())) for p in pods]))


@settings(max_examples=80, deadline=None)
@given(specs(), st.data())
def test_every_real_disk_eviction_is_offered(pods: list[Spec], data: st.DataObject) -> None:
    """Usages drawn as upstream allows them (at least 1 — the log directory —, at most the pod's
    limit): the pod the real ranking puts first is among the model's victims, for bytes and inodes."""
    usage = {p.key: data.draw(st.integers(1, p.limit if p.limit is not None else 8)) for p in pods}
    for inodes in (False, True):
        offered = {key for key, _ in _model_disk(pods, inodes)}
        assert _disk_first(pods, usage, inodes) <= offered, (inodes, usage)


@settings(max_examples=80, deadline=None)
@given(specs())
def test_every_offered_disk_eviction_is_real(pods: list[Spec]) -> None:
    """Each victim the model offers is first for some usages upstream allows: `over_request` ones
    with the victim far over its request (up to its limit; inodes have none), the pods that must
    exceed barely, the others at their request; the others with nobody over (each at its request,
    at least 1)."""
    for inodes in (False, True):
        for key, over in _model_disk(pods, inodes):
            if over:
                usage = {p.key: 1 if p.request is None or inodes else p.request for p in pods}
                victim = next(p for p in pods if p.key == key)
                usage[key] = victim.limit if victim.limit is not None and not inodes else 1000
            else:
                usage = {p.key: p.request or 1 for p in pods}
            assert key in _disk_first(pods, usage, inodes), (key, over, inodes, usage)


def test_disk_bounds_follow_the_request_and_the_pod_limit() -> None:
    """No request: must exceed; a limit at most the request: never exceeds (localStorageEviction
    takes it first); a larger limit or none: may."""
    def bounds(request: int | None, limit: int | None) -> tuple[bool, bool]:
        return disk_bounds(Spec("p", 0, request, limit, True).pod())
    assert bounds(None, None) == (True, True)
    assert bounds(None, 2) == (True, True)
    assert bounds(2, 2) == (False, False)
    assert bounds(2, 3) == (False, True)
    assert bounds(2, None) == (False, True)
    assert resource_request(Spec("p", 0, 3, None, True).pod(), "ephemeral-storage") == Quantity.parse("3Mi")


@settings(max_examples=80, deadline=None)
@given(specs(), st.data())
def test_pid_ranking_is_priority_then_process_count(pods: list[Spec], data: st.DataObject) -> None:
    """rankPIDPressure with process counts drawn freely: the real top is among the model's victims,
    and each model victim is the top when it runs the most processes."""
    offered = set(pid_ranked([p.candidate((True, True)) for p in pods]))

    def first(procs: dict[str, int]) -> set[str]:
        return _first({p.key: (p.priority, 0 if not p.has_stats else 1, -procs[p.key] if p.has_stats else 0)
                       for p in pods})
    procs = {p.key: data.draw(st.integers(1, 50)) for p in pods}
    assert first(procs) <= offered
    for key in offered:
        assert key in first({p.key: 1000 if p.key == key else 1 for p in pods})


def test_pid_pressure_ignores_requests_and_prefers_a_pod_without_stats_among_equals() -> None:
    """A pod far over its requests but of higher priority is not taken; among the lowest priority a
    pod with no container running (no stats) is."""
    pods = [Spec("hog", 5, None, None, True), Spec("a", 0, 1, 1, True), Spec("b", 0, 1, 1, False),
            Spec("c", 1, None, None, False)]
    assert pid_ranked([p.candidate((True, True)) for p in pods]) == ["b"]
    assert pid_ranked([p.candidate((True, True)) for p in pods[:2]]) == ["a"]
