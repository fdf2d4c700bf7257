"""Controllers of kube-controller-manager (ReplicaSet, Deployment, StatefulSet, Endpoints,
EndpointSlice, garbage collector, pod GC, node lifecycle) and the work-queue machinery (`base`).

May import: `kubeprop.model.api`, `kubeprop.model.state`, `kubeprop.model.scheduler`,
`kubeprop.model.frozen`.
"""
