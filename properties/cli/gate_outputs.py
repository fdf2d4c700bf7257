"""The gate's output paths — `--out`, `--junit`, `--summary` (or `$GITHUB_STEP_SUMMARY`) — checked
before any work is done, every problem at once, each named by its flag (`output_problems`):

- an empty value (`--junit ""`, which `Path` would read as the working folder `.`);
- a path in a corpus folder, or (`--out`) the corpus folder itself, reached however (a symbolic
  link, `..`): the gate replays every `*.json` file there, so a counterexample written into it
  would join the corpus unreviewed and replay as an expected REPRODUCES on the next run (trial 20);
- a path it could not write (`output.check_output`, `output.check_output_folder`);
- two outputs naming the same file or folder (`--junit same.xml --summary same.xml` ran every
  check, wrote the JUnit file, then refused the summary as "a file kubeprop did not write").
  A character device or FIFO (`/dev/null`, `/dev/stdout`) may be named by several.
"""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Sequence
from pathlib import Path

import attrs

from kubeprop.counterexamples.output import (
    JUNIT_OWNER,
    SUMMARY_OWNER,
    OutputError,
    check_output,
    check_output_folder,
    file_identity,
)
from kubeprop.model.api.manifests import Problem

__all__ = ["Corpus", "GateOutput", "gate_outputs", "output_problems"]


@attrs.frozen
class Corpus:
    """A corpus folder of the gate: its path and how the user named it (`corpus: [x]` in FILE)."""

    path: Path
    named: str


@attrs.frozen
class GateOutput:
    """One output of the gate: the flag (or variable) naming it, its path ('' for an empty value),
    whether it is a folder (`--out`), and the owner marker of the file kind it replaces (None: any)."""

    flag: str
    path: Path | str
    what: str
    folder: bool = False
    owner: str | None = None


_EMPTY = {
    "--out": "give a folder for new counterexample files (the default is kubeprop-out)",
    "--junit": "give a file name (such as --junit junit.xml), or leave the flag out to write no JUnit XML",
    "--summary": "give a file name (such as --summary summary.md), or leave the flag out (the summary then goes "
                 "to $GITHUB_STEP_SUMMARY when that is set)",
}


def gate_outputs(args: argparse.Namespace) -> tuple[Path | None, Path | None, bool]:
    """(JUnit path, summary path, append to the summary?): `--summary`, else `$GITHUB_STEP_SUMMARY`
    (appended to: it is shared with the job's other steps)."""
    summary, append = args.summary, False
    if summary is None and os.environ.get("GITHUB_STEP_SUMMARY"):
        summary, append = Path(os.environ["GITHUB_STEP_SUMMARY"]), True
    return args.junit, summary, append


def _outputs(args: argparse.Namespace) -> list[GateOutput]:
    junit, summary, append = gate_outputs(args)
    found = [GateOutput("--out", args.out, "the folder for new counterexample files", folder=True)]
    if junit is not None:
        found.append(GateOutput("--junit", junit, "the JUnit XML", owner=JUNIT_OWNER))
    if summary is not None and append:  # first: a clash is then told on the flag the user can change
        found.insert(0, GateOutput("$GITHUB_STEP_SUMMARY", summary, "the job's step summary"))
    elif summary is not None:
        found.append(GateOutput("--summary", summary, "the Markdown summary", owner=SUMMARY_OWNER))
    return found


def _in_corpus(output: GateOutput, corpus: Corpus) -> str | None:
    """Why `output` must not be written (None: it may): it is `corpus`'s folder (`--out`), or lies in
    it, judged by what the path resolves to (links and `..` followed) and by the folders' identity."""
    folder = file_identity(corpus.path)
    if folder is None:
        return None
    place = Path(os.path.realpath(output.path))
    for above in (place, *place.parents):
        if file_identity(above) != folder:
            continue
        where = "is the corpus folder" if above == place else "is in the corpus folder"
        if output.folder:
            return (f"it {where} {corpus.named}, whose *.json files the gate replays: a new counterexample "
                    "written there would join the corpus unreviewed (and replay as expected on the next run). Give "
                    "--out a folder outside every corpus folder (the default kubeprop-out, say), and copy a "
                    "counterexample file into the corpus once it is reviewed")
        return (f"it {where} {corpus.named}, whose entries the gate replays or lists: an output file there would "
                f"be one of them on the next run. Give {output.flag} a file outside every corpus folder")
    return None


def _special(path: Path) -> bool:
    """A character device or FIFO (`/dev/null`, `/dev/stdout`): several outputs may write through it."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _same(a: Path, b: Path) -> bool:
    """Whether `a` and `b` name the same file or folder (existing: by identity; new: by the path
    they resolve to)."""
    if _special(a) or _special(b):
        return False
    found = file_identity(a)
    if found is not None:
        return found == file_identity(b)
    return os.path.realpath(a) == os.path.realpath(b)


def _problem(output: GateOutput, inputs: Sequence[Path], corpora: Sequence[Corpus],
             earlier: Sequence[GateOutput]) -> str | None:
    """The first thing wrong with one output (None: nothing): empty, in a corpus folder, the path of
    an `earlier` output (told before what the file holds: the other output's own file would be "a
    file kubeprop did not write" of this kind), or not writable."""
    if output.path == "":
        return f"the value is empty; {_EMPTY.get(output.flag, 'give a file name')}"
    path = Path(output.path)
    if "\0" in str(path):  # no file system path: the writability check below names it
        corpora, earlier = (), ()
    for corpus in corpora:
        why = _in_corpus(output, corpus)
        if why is not None:
            return f"cannot write {'into ' if output.folder else ''}{path}: {why}"
    clash = next((other for other in earlier if _same(Path(other.path), path)), None)
    if clash is not None:
        return (f"cannot write {path}: {clash.flag} names the same path, for {clash.what}; each output needs a "
                f"path of its own: give {output.flag} another name")
    try:
        if output.folder:
            check_output_folder(path)
        else:
            check_output(path, inputs, output.owner)
    except OutputError as err:
        return str(err)
    return None


def output_problems(args: argparse.Namespace, inputs: Sequence[Path], corpora: Sequence[Corpus] = ()
                    ) -> list[Problem]:
    """Every output path the gate must not or could not write (the module docstring), each as a
    problem `argument FLAG`, all at once."""
    problems: list[Problem] = []
    earlier: list[GateOutput] = []
    for output in _outputs(args):
        why = _problem(output, inputs, corpora, earlier)
        if why is not None:
            problems.append(Problem(f"argument {output.flag}", 0, "", why))
        if output.path != "":
            earlier.append(output)
    return problems
