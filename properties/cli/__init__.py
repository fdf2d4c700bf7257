"""The `kubeprop` command: `main` dispatches to one module per subcommand (validate, check, replay,
gate, schedule, raft). The only package that prints. Shared: `exit_codes`, `flagtypes` (strict number
and folder flags), `terminal` (control characters escaped in everything printed), `interrupted` (Ctrl-C with
what was done so far); the gate's parts are `gate_config`, `gate_replay` (corpus replays in child
processes) and `gate_report`.

May import: everything; nothing imports it.
"""
