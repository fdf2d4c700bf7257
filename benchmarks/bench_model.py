"""The model's cost per transition: `step` and the enabled actions, with no engine and no property.

Run: `python benchmarks/bench_model.py [--repeat 3] [--tree DIR] [--cpu N] [--transitions 3000]`
(after `pip install -e .`). On FeastFlow (the built-in scenario) and
tests/model/data/catalogue/web.yaml, from the scenario's initial state, it measures two fixed
amounts of work, the same for any tree, in CPU seconds (median of `--repeat` runs, interleaved
scenario by scenario):

- **fair run**: `drive.fair_run` — the run a user expects, the backbone of the search around it
  and of every convergence judgement (a fair continuation): each step asks the fair policy for
  its next action (the enabled actions, part by part) and takes it;
- **around the fair run**: at 50 states evenly spaced along the fair run, each enabled action
  and four fair steps after it (the fair run's own steps are work, not counted);
- **BFS expansion**: a breadth-first expansion of `--transitions` transitions, each a `step` and
  the successor's enabled actions — what every engine pays the model per new state.

Both run inside `incremental.memoised(model)`, as the engines do. It prints a Markdown table of
transitions per CPU second. `--tree DIR` measures another checkout (`git archive <commit> | tar -x
-C DIR`), as in `bench_steps.py`; `--cpu N` pins the process to one core; the load average is
printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench_steps import SCENARIOS, _TreeFinder, count_flag


def fair(model: Any, start: Any) -> int:
    """Steps of the fair run from `start` (the run a user expects)."""
    from kubeprop.model.cluster.drive import fair_run

    return len(fair_run(model, start).trace)


def breadth_first(model: Any, start: Any, count: int, visit: Callable[[Any], object] = lambda state: None) -> int:
    """A breadth-first expansion of `count` transitions from `start`: each a `step`, the
    successor's enabled actions and `visit(successor)` (bench_engines checks properties there)."""
    from kubeprop.model.cluster.compose import actions, step

    seen, frontier, done, head = {start}, [start], 0, 0
    while head < len(frontier) and done < count:
        state = frontier[head]
        head += 1
        for act in actions(model, state):
            nxt = step(model, state, act)
            actions(model, nxt)
            visit(nxt)
            done += 1
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
            if done >= count:
                break
    return done


def expansion(count: int) -> Callable[[Any, Any], int]:
    """`breadth_first` of `count` transitions, as a measured workload."""

    def expand(model: Any, start: Any) -> int:
        return breadth_first(model, start, count)

    return expand


def around(model: Any, start: Any) -> int:
    """Deviations from the fair run, as the search around it begins them: at 50 states evenly
    spaced along the fair run from `start`, each enabled action, then four steps of the fair
    policy (its first horizon), each state's enabled actions asked for on the way."""
    from kubeprop.model.cluster.compose import actions, step
    from kubeprop.model.cluster.drive import expected_policy, fair_run

    run = fair_run(model, start)
    policy = expected_policy()
    state, done, stride = start, 0, max(1, len(run.trace) // 50)
    for i, taken in enumerate(run.trace):
        if i % stride == 0:
            for act in actions(model, state):
                after, follow = step(model, state, act), policy.copy()
                done += 1
                for _ in range(4):
                    fair = follow.choose(actions(model, after))
                    if fair is None:
                        break
                    follow.taken(fair)
                    after = step(model, after, fair)
                    done += 1
        policy.taken(taken)
        state = step(model, state, taken)
    return done


def timed(work: Callable[[Any, Any], int], model: Any, start: Any) -> tuple[int, float]:
    """(transitions, CPU seconds) of `work` with the enabled-actions cache on, as the engines run it."""
    from kubeprop.model.cluster.incremental import memoised

    began = time.process_time()
    with memoised(model):
        done = work(model, start)
    return done, time.process_time() - began


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=count_flag, default=3, help="runs of each measurement (the median is shown)")
    parser.add_argument("--transitions", type=count_flag, default=3000, help="transitions of the BFS expansion")
    parser.add_argument("--tree", type=Path, help="measure this checkout of the project instead of the installed one")
    parser.add_argument("--cpu", type=int, help="pin the process to this CPU")
    args = parser.parse_args(argv)
    if args.tree is not None:
        sys.meta_path.insert(0, _TreeFinder(args.tree.resolve()))
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    import kubeprop.model
    from kubeprop.model.cluster.compose import build_model, initial_state
    from kubeprop.model.scenario.load import feastflow_path, load_scenario

    tree = Path(kubeprop.model.__file__).parents[1]
    print(f"tree {tree}; load average before {', '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| scenario | work | transitions | CPU s (median) | transitions per CPU s |")
    print("|---|---|---:|---:|---:|")
    works = (("fair run", fair), ("BFS expansion", expansion(args.transitions)), ("around the fair run", around))
    for name, path in SCENARIOS:
        model = build_model(load_scenario(path or feastflow_path()))
        start = initial_state(model)
        for label, work in works:
            runs = [timed(work, model, start) for _ in range(args.repeat)]
            done, seconds = runs[0][0], statistics.median(s for _, s in runs)
            print(f"| {name} | {label} | {done:,} | {seconds:.2f} | {done / seconds:,.0f} |", flush=True)
    print(f"\nload average after {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
