"""kubeprop.model: what the Kubernetes control plane is, as pure data and pure functions.

Subpackages, lowest layer first (each imports only from those above it in this list):

- `frozen`, `memo` (modules): immutable mappings every value type uses; memos by the identity of
  objects for costly derived values;
- `api`: API objects, quantities, names, selectors, codec, manifests, the API server pipeline
  (authn, RBAC, defaults, admission, validation) and the store with its watch log;
- `state`: the composed `ClusterState`, `ClusterModel`, action values, informer caches and the
  `Controller` protocol: the contracts every component is written against;
- `scenario`: scenario files, FeastFlow, model variants, bootstrap through the API server;
- `scheduler`, `kubelet`, `controllers`, `descheduler`: the components;
- `cluster`: the composition (`build_model`, `initial_state`, `actions`, `step`), faults, time,
  workload steps and the fair driver;
- `raft`: etcd members as a Raft transition system (a model of its own).

Everything is deterministic and side-effect free, except manifest and scenario loading (which read
files). Nothing here imports `kubeprop.properties` or `kubeprop.counterexamples`.
"""
