"""The kube-scheduler: the decision for one pod (`decide`: framework, filters, scores, spreading,
affinity, preemption, the FitError message) and the component (`component`: queue, assume cache,
binding actions).

May import: `kubeprop.model.api`, `kubeprop.model.state`, `kubeprop.model.frozen`.
"""
