"""Regenerate the reviewed corpus (counterexamples/corpus/) from the bug-catalogue procedures.

    /tmp/venv/bin/python tests/counterexamples/make_corpus.py      # from the repository root

Each recipe is the procedure of tests/model/scenario/test_variants.py for one variant (a breadth-first
search over a restricted action set, or a deterministic `settle`), recorded with expectation
`reproduces`; `rs-no-expectations-fixed` replays the buggy variant's trace against the correct
model with expectation `passes` (a fixed bug kept as a regression). Review the diff before
committing: a changed file means the model changed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from kubeprop.counterexamples.format import write
from kubeprop.counterexamples.format_records import Counterexample
from kubeprop.counterexamples.trace import record
from kubeprop.model.api.objects import Pod
from kubeprop.model.cluster.compose import build_model, initial_state, step
from kubeprop.model.cluster.drive import settle
from kubeprop.model.scenario.load import load_scenario
from kubeprop.model.state.actions import Action, Partition, Quiesce, UserStep
from kubeprop.model.state.cluster import ClusterModel, ClusterState
from kubeprop.properties.registry import Property, Violation, first_violation, select

SUPPORT = Path(__file__).resolve().parents[1] / "support"  # the shared test helpers
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))

from catalogue_searches import dual_search, rs_search  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
DATA = Path("tests/model/data/variants")
CORPUS = ROOT / "counterexamples" / "corpus"


def make(scenario: str, variant: str, **parameters: object) -> ClusterModel:
    return build_model(load_scenario(DATA / f"{scenario}.yaml"), variant=variant, parameters=parameters or None)


def until_violation(model: ClusterModel, state: ClusterState, trace: Iterable[Action], props: tuple[Property, ...]
                    ) -> tuple[tuple[Action, ...], Violation]:
    """The prefix of `trace` up to the first state violating `props`."""
    taken: list[Action] = []
    for act in trace:
        state = step(model, state, act)
        taken.append(act)
        found = first_violation(model, state, props)
        if found is not None:
            return tuple(taken), found
    raise AssertionError("no violation along the trace")


def settled(model: ClusterModel) -> tuple[ClusterState, tuple[Action, ...]]:
    run = settle(model, initial_state(model))
    return run.state, run.trace


def rs_no_expectations() -> list[Counterexample]:
    model = make("web", "rs-no-expectations", instantCaches=False)
    report = rs_search(model)
    assert report.violation is not None
    note = "kubernetes#129795: without expectations the ReplicaSet controller acts on a stale pod cache"
    bug = record(model, report.trace, report.violation, engine="bfs", expectation="reproduces", note=note,
                 options={"maxDepth": 12, "actions": "deployment/replicaset reconciles, their pod/RS deliveries"})
    fixed_model = make("web", "correct", instantCaches=False)
    fixed = record(fixed_model, report.trace, report.violation, prop=select(["replicaset-no-overcreation"])[0],
                   engine="bfs", expectation="passes", verify=False,
                   note="the rs-no-expectations trace against the correct model: expectations prevent the "
                        "third pod (a fixed bug kept as a regression)")
    return [bug, fixed]


def endpoints_terminating() -> Counterexample:
    model = make("web", "endpoints-terminating", instantCaches=True)
    state, prefix = settled(model)
    state = step(model, state, UserStep(0))
    trace, found = until_violation(model, state, settle(model, state).trace, select(["endpoints-ready-pods"]))
    return record(model, (*prefix, UserStep(0), *trace), found, engine="settle", expectation="reproduces",
                  note="kubernetes#54723: a terminating pod that still reports Ready stays in the ready addresses")


def sts_split_brain() -> Counterexample:
    from kubeprop.model.state.actions import Heal

    model = make("db", "sts-split-brain", instantCaches=True)
    state, prefix = settled(model)
    node = next(p.spec.node_name for p in state.store.list("pods") if isinstance(p, Pod))
    fault = (Partition(node), Quiesce())
    for act in fault:
        state = step(model, state, act)
    run = settle(model, state, avoid=(Heal,), max_ticks=100)
    props = select(["one-running-pod-per-identity", "read-write-once-volume-on-one-node"])
    trace, found = until_violation(model, state, run.trace, props)
    return record(model, (*prefix, *fault, *trace), found, engine="settle", expectation="reproduces",
                  note="seed §4.4: the pod on an unreachable node is replaced before its kill is confirmed")


def dual_scheduler() -> Counterexample:
    model = make("tight", "dual-scheduler", instantCaches=False)
    report = dual_search(model)
    assert report.violation is not None
    return record(model, report.trace, report.violation, engine="bfs", expectation="reproduces",
                  options={"maxDepth": 14, "actions": "schedule/bind, replicaset reconciles, pod deliveries"},
                  note="kubernetes#136782: two schedulers without leader election over-commit a node")


def scheduler_ignores_taints() -> Counterexample:
    model = make("tainted", "scheduler-ignores-taints", instantCaches=True)
    state = initial_state(model)
    trace, found = until_violation(model, state, settle(model, state).trace,
                                   select(["bindings-respect-hard-constraints"]))
    return record(model, trace, found, engine="settle", expectation="reproduces",
                  note="the TaintToleration filter disabled: a pod lands on a node whose taint it does not tolerate")


RECIPES: tuple[Callable[[], Counterexample | list[Counterexample]], ...] = (
    rs_no_expectations, endpoints_terminating, sts_split_brain, dual_scheduler, scheduler_ignores_taints,
)


def main() -> None:
    import os

    os.chdir(ROOT)
    for recipe in RECIPES:
        made = recipe()
        for ce in made if isinstance(made, list) else [made]:
            path = write(ce, CORPUS, keep_shorter=False)
            print(f"{ce.expectation:<10} {len(ce.actions):>4} steps  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
