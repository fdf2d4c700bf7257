"""Benchmark: Z3 joint feasibility and incremental N-1 what-ifs (docs/scheduling.md).

    /tmp/venv/bin/python benchmarks/bench_scheduling.py [--seed 7] [--instances 3] [--rlimit 50000000]

Instances are generated deterministically from the seed: nodes with 4 cpu / 16Gi / 110 pods,
pods requesting cpu and memory drawn from typical sizes until the cluster is loaded to a random
70-90% of its cpu (memory follows). For each size (100 pods x 10 nodes, 1000 pods x 100 nodes)
it reports the first check from scratch — building the encoding (static filters, SMT-LIB text,
parsing; for the large size Z3 first checks a packing proposal on a restricted encoding, see
`SchedulingSolver`) and solving — and one "lose node j" what-if per node on the same solver (the
verdict, no placement), plus the share of checks that ended `unknown`, whether the complete
encoding had to be built for them, and one infeasible question — 30% of the nodes lost, which
always needs the complete encoding — with its minimal core. Targets (issues 7, 17): <= 0.1 s and
<= 3 s build+solve on every run, <= 1 s for every what-if (the maximum, not only the mean).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

from kubeprop.model.api.core import Node, NodeStatus
from kubeprop.model.api.meta import ObjectMeta
from kubeprop.model.api.pod import Container, Pod, PodSpec, ResourceRequirements
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.scheduler.decide import build_node_infos
from kubeprop.properties.scheduling.encode import Problem
from kubeprop.properties.scheduling.solver import DEFAULT_RLIMIT, SchedulingSolver

NODE_CPU, NODE_MEM = 4000, 16 * 1024
SIZES = ((100, 10), (1000, 100))
CPU_CHOICES = (50, 100, 200, 250, 500)
MEM_CHOICES = (64, 128, 256, 512, 1024)


def instance(pods: int, nodes: int, rng: random.Random) -> Problem:
    """`pods` pods loaded onto `nodes` nodes at a random 70-90% of cpu."""
    load = rng.uniform(0.70, 0.90)
    budget = int(NODE_CPU * nodes * load)
    per_pod = budget // pods
    cpus = [max(10, min(per_pod * 2, int(rng.choice(CPU_CHOICES) * per_pod / 200))) for _ in range(pods)]
    scale = budget / sum(cpus)
    node_objs = [Node(metadata=ObjectMeta(name=f"node-{j:03d}", labels={"kubernetes.io/hostname": f"node-{j:03d}"}),
                      status=NodeStatus(allocatable={"cpu": Quantity.parse(f"{NODE_CPU}m"),
                                                     "memory": Quantity.parse(f"{NODE_MEM}Mi"),
                                                     "pods": Quantity.parse("110")}))
                 for j in range(nodes)]
    pod_objs = []
    for i, cpu in enumerate(cpus):
        mem = rng.choice(MEM_CHOICES) * nodes * NODE_MEM * load // (pods * 400)
        requests = {"cpu": Quantity.parse(f"{max(1, int(cpu * scale))}m"), "memory": Quantity.parse(f"{max(1, mem)}Mi")}
        pod_objs.append(Pod(metadata=ObjectMeta(name=f"pod-{i:04d}", namespace="default"),
                            spec=PodSpec(containers=(Container(name="c", resources=ResourceRequirements(
                                requests=requests)),))))
    return Problem(build_node_infos(node_objs, ()), tuple(pod_objs))


def run(pods: int, nodes: int, seed: int, rlimit: int, overload: bool = True) -> dict[str, Any]:
    """One instance: build, solve, and an N-1 what-if per node (wall clock, and the CPU time of
    this process, which other jobs on the machine affect less)."""
    problem = instance(pods, nodes, random.Random(seed))
    start, start_cpu = time.perf_counter(), time.process_time()
    solver = SchedulingSolver(problem, rlimit)
    first = solver.check()
    solved, solved_cpu = time.perf_counter(), time.process_time()
    statuses = [first.status]
    per: list[float] = []
    per_cpu: list[float] = []
    for ni in problem.nodes:
        t, c = time.perf_counter(), time.process_time()
        statuses.append(solver.check((ni.name,), minimise=False, placement=False).status)
        per.append(time.perf_counter() - t)
        per_cpu.append(time.process_time() - c)
    complete_built = solver._full is not None
    lost = [ni.name for ni in problem.nodes[-max(1, nodes * 3 // 10):]]
    t = time.perf_counter()
    over = solver.check(lost) if overload else None
    overload_seconds = time.perf_counter() - t
    return {"first": solved - start, "first_cpu": solved_cpu - start_cpu, "overload": overload_seconds,
            "overload_status": over.status if over else "skipped", "overload_core": len(over.core) if over else 0,
            "whatif_mean": statistics.mean(per), "whatif_max": max(per), "whatif_max_cpu": max(per_cpu),
            "unknown": statuses.count("unknown") / len(statuses),
            "sat": float(first.status == "sat"), "infeasible_whatifs": statuses[1:].count("unsat"),
            "complete_built": complete_built}


def main() -> None:
    """Run every size over a few seeds and print one line per instance."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--rlimit", type=int, default=DEFAULT_RLIMIT)
    parser.add_argument("--large-only", action="store_true", help="only 1000 pods x 100 nodes")
    parser.add_argument("--no-overload", action="store_true", help="skip the 30%%-of-nodes-lost question")
    args = parser.parse_args()
    for pods, nodes in SIZES[1:] if args.large_only else SIZES:
        for k in range(args.instances):
            r = run(pods, nodes, args.seed + k, args.rlimit, not args.no_overload)
            core = f", core of {r['overload_core']} literals" if r["overload_status"] == "unsat" else ""
            print(f"{pods} pods x {nodes} nodes seed {args.seed + k}: build+solve {r['first']:.3f}s "
                  f"(cpu {r['first_cpu']:.3f}s), "
                  f"{'sat' if r['sat'] else 'not sat'}"
                  f"{' (complete encoding built too)' if r['complete_built'] else ''}; "
                  f"N-1 what-ifs mean {r['whatif_mean']:.3f}s max {r['whatif_max']:.3f}s "
                  f"(cpu max {r['whatif_max_cpu']:.3f}s), "
                  f"{int(r['infeasible_whatifs'])} infeasible, unknown share {r['unknown']:.0%}; "
                  f"30% of the nodes lost: {r['overload_status']} in {r['overload']:.3f}s"
                  f"{core}",
                  flush=True)


if __name__ == "__main__":
    main()
