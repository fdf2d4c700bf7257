"""Z3 scheduling checks: the hard constraints of pods on nodes as one problem (`encode`), an
incremental solver (`solver`), unsat cores in Kubernetes terms (`explain`), and the pods a
scenario asks for (`workloads`).

May import: `kubeprop.model`.
"""
