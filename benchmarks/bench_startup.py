"""Start-up of the `kubeprop` command: CPU and wall clock of `--help`, `--version` and a bad flag.

Run: `python benchmarks/bench_startup.py [--repeat 5]`.

Each row runs the command in a fresh process, as a user types it, `--repeat` times, and reports the
median CPU seconds (user + system, from the child's resource usage) and wall-clock seconds. CPU is
the figure to compare on a loaded machine. Before cli13 every row imported the whole model (about
1.1 s CPU); now `--help` and `--version` import nothing of it, and a bad flag only what its
command's flags show (tests/properties/cli/test_startup.py checks which modules, never times).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROWS: tuple[tuple[str, ...], ...] = (
    ("--help",),
    ("--version",),
    ("check", "--budget", "x"),
    ("check", "--help"),
    ("gate", "--budget", "-1"),
    ("schedule", "--rlimit", "x"),
    ("raft", "--workers", "0"),
    ("replay", "--full"),
)
"""Arguments of each measured `kubeprop` command."""


def kubeprop_command() -> list[str]:
    """The `kubeprop` console script next to this interpreter, else `python -m kubeprop.properties.cli`."""
    script = Path(sys.executable).with_name("kubeprop")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kubeprop.properties.cli"]


def measure(args: tuple[str, ...]) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, exit code) of one run of `kubeprop ARGS`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([*kubeprop_command(), *args], capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (default 5)")
    repeat = parser.parse_args().repeat
    print(f"{'command':<34} {'exit':>4} {'CPU s':>7} {'wall s':>7}")
    for args in ROWS:
        runs = [measure(args) for _ in range(repeat)]
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        print(f"{'kubeprop ' + ' '.join(args):<34} {runs[-1][2]:>4} {cpu:>7.3f} {wall:>7.3f}")


if __name__ == "__main__":
    main()
