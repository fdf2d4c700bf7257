"""kubeprop.properties: what must hold of the control plane, and how it is checked.

- `registry`, `invariants`, `convergence`, `scheduler_decisions`, `raft`, `linearizability`: the
  properties (safety, convergence, Raft) and the registry of built-ins;
- `etcd_histories`, `etcd_trace`: histories recorded against a real etcd, their linearizability
  verdict, and their trace validation against the Raft model;
- `scheduling`: the Z3 scheduling checks (encoding, solver, explanations);
- `upstream_behaviour`: known races of Kubernetes itself that break a property on the correct
  model, recognized in a trace and cited (reported apart by `kubeprop check` and `gate`); the
  recognizers by component in `upstream_behaviour_*`, the replay on a variant's twin in `upstream_twin`;
- `explore`: the engines (BFS, walks, Hypothesis, shrinking) and the runner;
- `cli`: the `kubeprop` command, the only place that prints.

May import: `kubeprop.model`. Only `cli` imports `kubeprop.counterexamples`; nothing imports `cli`.
"""
