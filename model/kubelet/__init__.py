"""The kubelets: what really runs on each node (`runtime`), the status they report (`status`),
node-pressure eviction (`eviction`: which pod goes under memory, disk or PID pressure; `pressure`:
the node conditions, their transition period and the admission refusals meanwhile), admission
(`admission`: pods refused when they do not fit next to the pods the kubelet runs, or for an
untolerated NoExecute taint), and the component's actions and handlers (`component`).

May import: `kubeprop.model.api`, `kubeprop.model.state`, `kubeprop.model.frozen`, and the
scheduler's filters and NodeInfo (`kubeprop.model.scheduler.filters`, `.nodeinfo`): upstream's
kubelet admission runs the scheduler's AdmissionCheck (`pkg/kubelet/lifecycle/predicate.go`).
"""
