"""etcd members as a Raft transition system, a model of its own apart from `ClusterState`:
configuration and state (`state`), the rules (`rules`), message handling (`handlers`), the
key-value state machine (`kv`) and the transition system (`system`: initial state, actions, step).

May import: nothing of kubeprop outside this package.
"""
