"""The `kubeprop` command: `main` dispatches to one module per subcommand (validate, check, replay,
gate, schedule, raft). The only package that prints. Each subcommand's arguments live apart from
its work, in light modules (`check_args`, `raft_args`, `commands` for the others) that `main`
imports only when that subcommand is chosen, and its `run` imports the subcommand's module only
when it runs: `kubeprop --help` and `--version` import nothing of the model, a bad flag none of the
engines. Shared: `exit_codes`, `flagtypes` (strict number and folder flags), `terminal` (control
characters escaped in everything printed), `interrupted` (Ctrl-C with what was done so far); the
gate's parts are `gate_config`, `gate_replay` (corpus replays in child processes) and `gate_report`.

May import: everything; nothing imports it.
"""
