"""Hostile values and file-system oddities the fuzz surfaces draw from.

`hostile` gives JSON/YAML data an attacker or a careless user might write where a field expects a
name, a number or a list: huge and negative integers, NaN and infinities, strings with terminal
control sequences and bidirectional overrides, digits from other scripts, YAML specials, deep
nesting. `Sandbox` creates the odd things a path can name: FIFOs with nobody on the other end,
devices, folders where files are expected, symlink loops, dangling links, very long and
non-UTF-8 names, an oversized sparse file.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

CONTROL_STRINGS = [
    "\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "\u202eevil", "\x00nul",
    "\r\roverwrite", "\x9b31m", "a\nb", "\t",
]
ODD_STRINGS = [
    "", " ", "*a", "&a", "!!python/object/apply:os.system ['true']", "<<", "~", "null", "yes", "no", "on",
    "0x1F", "1_000", "0o17", "1:20", "2024-01-01", "²", "٣", "５", "1e400", ".nan", ".inf", "-.inf", "NaN",
    "-1", "0", "9" * 30, "../../etc/passwd", "/etc", "a" * 300, "default/../x", "UPPER", "ü",
    "\ufffd",
]
NUMBERS = [0, -1, -5, 1, 2, 7, 8, 9, 100, 1000, 1001, 2**31, 2**63, -(2**63), 10**30, 10**400]
FLOATS = [float("nan"), float("inf"), float("-inf"), 0.5, -0.0, 1e308, 3.0]
NUMBER_TEXT = ["nan", "inf", "-inf", "-1", "0", "1e400", "1e3", "²", "٣", "５", "0x10", "1_0", " 5", "5 ",
               "+3", "3.", ".5", "1" * 50, "", "-0", "1e-400", "NaN", "Infinity", "2", "3"]
TRUSTED_PAYLOADS = ["sys:exit", "os:abort", "os:_exit", "builtins:input", "os:fork", "os:getcwd",
                    "kubeprop_fuzz_canary:plugin", "kubeprop_fuzz_canary:missing", "no_such_module:x", "os", ":x",
                    "os:", "kubeprop.properties.cli.main:main", "importlib:import_module", "builtins:exec"]
"""Entries for a scenario the user gives (trusted: imported, but nothing named may crash kubeprop)."""
PAYLOADS = [*TRUSTED_PAYLOADS, "pdb:set_trace", "code:interact", "antigravity:x", "this:s"]
"""Entries for data under review (refused whatever they name): also modules that run a debugger or a
browser, which a trusted scenario naming them would legitimately run."""


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


plausible = st.one_of(st.integers(0, 12), st.sampled_from(["1", "100m", "1Gi", "web", "default", "true", "correct"]),
                      st.booleans())
scalars = st.one_of(
    plausible, plausible,
    st.sampled_from(NUMBERS), st.sampled_from(FLOATS), st.sampled_from(CONTROL_STRINGS), st.sampled_from(ODD_STRINGS),
    st.booleans(), st.none(), st.text(max_size=20), st.integers(min_value=-(10**6), max_value=10**6),
)
hostile = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.sampled_from(["a", "name", "\x1b[2J", "", "apiVersion", "kind"]), scalars, max_size=3),
    st.sampled_from([300, 60]).map(_deep),
)
"""A value for any field: mostly wrong, sometimes right by accident."""


@dataclass
class Sandbox:
    """One case's folder: `work` is the command's working folder; `odd` maps names to odd paths."""

    root: Path
    odd: dict[str, Path] = field(default_factory=dict)

    @property
    def work(self) -> Path:
        """The working folder of the command."""
        return self.root / "work"

    def make(self) -> Sandbox:
        """Create the folder and every odd path (devices only as root, as private device nodes)."""
        work = self.work
        work.mkdir(parents=True, exist_ok=True)
        fifo = work / "fifo.yaml"
        os.mkfifo(fifo)
        (work / "folder.yaml").mkdir()
        (work / "empty-folder").mkdir()
        (work / "loop.yaml").symlink_to(work / "loop.yaml")
        (work / "dangling.yaml").symlink_to(work / "missing-target.yaml")
        (work / "zero-link.yaml").symlink_to("/dev/zero")
        big = work / "big.yaml"
        with big.open("wb") as handle:
            handle.truncate(17 * 1024 * 1024)
        target = work / "target.txt"
        target.write_text("keep me\n")
        (work / "link-to-target.html").symlink_to(target)
        self.odd = {"fifo": fifo, "folder": work / "folder.yaml", "empty-folder": work / "empty-folder",
                    "loop": work / "loop.yaml", "dangling": work / "dangling.yaml",
                    "zero-link": work / "zero-link.yaml",
                    "big": big, "target": target, "link": work / "link-to-target.html",
                    "long": work / ("x" * 5000 + ".yaml"), "long-name": work / ("y" * 300 + ".yaml"),
                    "dev-zero": Path("/dev/zero"), "dev-urandom": Path("/dev/urandom"), "dot": Path("."),
                    "missing": work / "missing.yaml"}
        bad_name = os.fsencode(work) + b"/caf\xe9-\xff.yaml"
        with open(bad_name, "wb") as handle:
            handle.write(b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad-name}\n")
        self.odd["non-utf8"] = Path(os.fsdecode(bad_name))
        if os.geteuid() == 0:
            for name, minor in (("full", 7), ("null", 3)):
                node = work / f"dev-{name}"
                os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, minor))
                self.odd[f"dev-{name}"] = node
        return self

    def protected(self) -> list[Path]:
        """Odd paths whose nature must survive the command (links stay links, devices stay devices)."""
        keep = ("fifo", "folder", "loop", "dangling", "zero-link", "link", "non-utf8", "dev-full", "dev-null")
        return [self.odd[k] for k in keep if k in self.odd]

    def protected_for(self, argv: list[str], env: dict[str, str] | None = None) -> tuple[list[Path], list[Path]]:
        """(paths that must not change at all, paths whose kind must not change): a regular file the
        command names (or a link to it) may be written as an output, so only its kind is kept; the
        rest of `protected()` must stay exactly as it was."""
        named = " ".join([*argv, *(env or {}).values()])
        strict, kind_only = [], []
        for path in [*self.protected(), self.odd["target"]]:
            as_output = str(path) in named or (path == self.odd["target"] and str(self.odd["link"]) in named)
            (kind_only if as_output and path in (self.odd["target"], self.odd["non-utf8"]) else strict).append(path)
        return strict, kind_only

ODD_INPUTS = ["fifo", "folder", "empty-folder", "loop", "dangling", "zero-link", "big", "long", "long-name",
              "dev-zero", "dev-urandom", "dot", "missing", "non-utf8"]
ODD_OUTPUTS = ["folder", "dot", "link", "dangling", "fifo", "long", "long-name", "dev-full", "dev-null", "target"]
