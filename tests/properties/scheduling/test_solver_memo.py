"""A fresh solver's first check is remembered by its encoding (`solver._first`): the same text
gets the outcome Z3 gives it, a problem named differently gets its own names back, and a later
check on a solver answered from the memo finds Z3 where the first check would have left it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubeprop.model.api.core import Node, NodeSpec, NodeStatus
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import Container, Pod, PodSpec, ResourceRequirements
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.scheduler.decide import build_node_infos
from kubeprop.properties.scheduling import solver as solver_module
from kubeprop.properties.scheduling.encode import Problem
from kubeprop.properties.scheduling.solver import Outcome, SchedulingSolver


def _node(name: str, cpu: str) -> Node:
    alloc = {"cpu": Quantity.parse(cpu), "memory": Quantity.parse("4Gi"), "pods": Quantity.parse("110")}
    return Node(metadata=ObjectMeta(name=name, labels={"kubernetes.io/hostname": name}),
                spec=NodeSpec(), status=NodeStatus(allocatable=alloc))


def _pod(name: str, cpu: str) -> Pod:
    container = Container(name="c", resources=ResourceRequirements(requests={"cpu": Quantity.parse(cpu)}))
    return Pod(metadata=ObjectMeta(name=name, namespace="default"), spec=PodSpec(containers=(container,)))


def _problem(prefix: str, cpus: tuple[str, ...] = ("600m", "600m", "600m")) -> Problem:
    nodes = [_node(f"{prefix}-a", "1"), _node(f"{prefix}-b", "1")]
    return Problem(build_node_infos(nodes, ()), tuple(_pod(f"{prefix}-{i}", cpu) for i, cpu in enumerate(cpus)))


def _unremembered(problem: Problem) -> SchedulingSolver:
    """A solver whose checks all go to Z3 (as every check did before the memo)."""
    solver = SchedulingSolver(problem)
    solver._checked = True
    return solver


@pytest.fixture(autouse=True)
def _empty_memo() -> Iterator[None]:
    solver_module._FIRST.clear()
    yield
    solver_module._FIRST.clear()


def _contexts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made: list[int] = []
    real = solver_module.new_context

    def counted() -> object:
        made.append(1)
        return real()

    monkeypatch.setattr(solver_module, "new_context", counted)
    return made


@pytest.mark.parametrize("down", [(), ("p-b",)])
def test_a_problem_met_again_is_answered_without_z3_as_z3_answered_it(monkeypatch: pytest.MonkeyPatch,
                                                                      down: tuple[str, ...]) -> None:
    made = _contexts(monkeypatch)
    first = SchedulingSolver(_problem("p")).check(down)
    assert len(made) == 1
    again = SchedulingSolver(_problem("p")).check(down)
    assert len(made) == 1  # no context, no parse, no check
    assert again == first == _unremembered(_problem("p")).check(down)
    assert first.status == "unsat" and first.core and first.spent > 0


def test_a_problem_that_differs_only_in_names_gets_its_own_names() -> None:
    feasible = ("600m", "300m", "300m")
    first = SchedulingSolver(_problem("p", feasible)).check()
    other = SchedulingSolver(_problem("q", feasible)).check()
    assert first.status == other.status == "sat"
    assert set(other.placement) == {"default/q-0", "default/q-1", "default/q-2"}
    assert set(other.placement.values()) <= {"q-a", "q-b"}
    assert other == _unremembered(_problem("q", feasible)).check()
    load = {"q-a": 0, "q-b": 0}
    for i, cpu in enumerate((600, 300, 300)):
        load[other.placement[f"default/q-{i}"]] += cpu
    assert max(load.values()) <= 1000  # each pod named with its own node: it fits there
    assert [other.placement[f"default/q-{i}"][-1] for i in range(3)] == [
        first.placement[f"default/p-{i}"][-1] for i in range(3)]


def test_the_checks_after_a_remembered_first_one_are_z3s(monkeypatch: pytest.MonkeyPatch) -> None:
    SchedulingSolver(_problem("p")).check()
    made = _contexts(monkeypatch)
    solver, plain = SchedulingSolver(_problem("p")), _unremembered(_problem("p"))
    outcomes: list[tuple[Outcome, Outcome]] = []
    for down in ((), ("p-a",), (), ("p-b",)):
        outcomes.append((solver.check(down), plain.check(down)))
        assert solver.spent == plain.spent
    assert all(mine == theirs for mine, theirs in outcomes)
    assert len(made) == 2  # the twin's context, and this solver's once it had to ask Z3


def test_what_the_first_check_depends_on_keeps_answers_apart() -> None:
    unsat = SchedulingSolver(_problem("p")).check()
    sat = SchedulingSolver(_problem("p", ("600m", "300m", "300m"))).check()
    plain_core = SchedulingSolver(_problem("p")).check(minimise=False)
    without = SchedulingSolver(_problem("p")).check(placement=False)
    assert unsat.status == "unsat" and sat.status == "sat"
    assert plain_core == _unremembered(_problem("p")).check(minimise=False)
    assert without == _unremembered(_problem("p")).check(placement=False)
    assert len(solver_module._FIRST) == 4
