"""Z3 scheduling checks: the hard constraints of pods on nodes as one problem (`encode`), an
incremental solver (`solver`), unsat cores in Kubernetes terms (`explain`), the pods a
scenario asks for (`workloads`), and `kubectl drain` / a deleted Node as changes to a problem (`drain`).

May import: `kubeprop.model`.
"""
