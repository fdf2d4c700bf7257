"""The kubelets: what really runs on each node (`runtime`), the status they report (`status`),
node-pressure eviction (`eviction`), admission (`admission`: pods refused for an untolerated
NoExecute taint), and the component's actions and handlers (`component`).

May import: `kubeprop.model.api`, `kubeprop.model.state`, `kubeprop.model.frozen`.
"""
