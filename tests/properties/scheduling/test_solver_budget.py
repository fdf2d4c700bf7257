"""A `SchedulingSolver` with a wall-clock budget (`Deadline`, `kubeprop schedule --budget`): a
budget that passes while the encoding is built ends the check (BudgetSpent), one that passes while
an unsat core is shrunk leaves the core unshrunk and says so. No test measures time: the budget is
made to pass when a given phase begins."""

from __future__ import annotations

import time

import pytest

from kubeprop.model.api.core import Node, NodeStatus
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import Container, Pod, PodSpec, ResourceRequirements
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.scheduler.decide import build_node_infos
from kubeprop.properties.scheduling.deadline import BudgetSpent, Deadline
from kubeprop.properties.scheduling.encode import Problem
from kubeprop.properties.scheduling.solver import SchedulingSolver


class _EndsAt(Deadline):
    """A budget that passes when a phase starting with `at` is entered."""

    def __init__(self, at: str) -> None:
        super().__init__(end=time.perf_counter() + 3600)
        self.at = at

    def enter(self, phase: str, total: int = 0) -> None:
        if phase.startswith(self.at):
            self.end = time.perf_counter() - 1
        super().enter(phase, total)


def _fleet(pods: int, nodes: int) -> Problem:
    """`pods` pods of 150m cpu on `nodes` nodes of 1 cpu: 6 pods a node fit."""
    alloc = {"cpu": Quantity.parse("1"), "memory": Quantity.parse("4Gi"), "pods": Quantity.parse("110")}
    infos = build_node_infos([Node(metadata=ObjectMeta(name=f"n{j}"), status=NodeStatus(allocatable=alloc))
                              for j in range(nodes)], ())
    container = Container(name="c", resources=ResourceRequirements(requests={"cpu": Quantity.parse("150m")}))
    return Problem(infos, tuple(Pod(metadata=ObjectMeta(name=f"p-{i:03d}", namespace="default"),
                                    spec=PodSpec(containers=(container,))) for i in range(pods)))


def test_a_budget_ending_in_the_shrinking_keeps_the_core_not_minimal() -> None:
    """The infeasibility is proven before the shrinking starts: a budget ending there gives the
    unshrunk core, marked not minimal, as the rlimit does — not "unknown"."""
    problem = _fleet(30, 2)
    full = SchedulingSolver(problem).check()
    cut = SchedulingSolver(problem, deadline=_EndsAt("shrinking")).check()
    assert full.status == "unsat" and full.minimal
    assert cut.status == "unsat" and not cut.minimal and set(cut.core) > set(full.core)


def test_a_budget_ending_in_the_build_raises_budget_spent() -> None:
    with pytest.raises(BudgetSpent) as spent:
        SchedulingSolver(_fleet(30, 2), deadline=_EndsAt("building")).check()
    assert spent.value.phase == "building the Z3 encoding"


def test_a_budget_left_gives_the_same_answer() -> None:
    problem = _fleet(30, 2)
    plain = SchedulingSolver(problem).check()
    timed = SchedulingSolver(problem, deadline=Deadline(end=time.perf_counter() + 3600)).check()
    assert (timed.status, timed.core, timed.minimal) == (plain.status, plain.core, plain.minimal)
