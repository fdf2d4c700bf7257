"""The `kubeprop` command: `main` dispatches to one module per subcommand (validate, check, replay,
gate, schedule, raft). The only package that prints.

May import: everything; nothing imports it.
"""
