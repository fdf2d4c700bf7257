"""The gate's outputs: JUnit XML for CI test reports, and a Markdown summary for a job page.

Both are written without clobbering (`kubeprop.counterexamples.output`): atomically onto a new
path or a regular file, through links and devices, never over one of the gate's inputs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from itertools import groupby
from pathlib import Path
from typing import Literal

import attrs

from kubeprop.counterexamples.output import append_text, write_text

Status = Literal["passed", "failed", "error", "skipped"]


@attrs.frozen
class Case:
    """One gate case: a corpus file, or a property × scenario check."""

    suite: str
    name: str
    status: Status
    message: str
    detail: str = ""
    seconds: float = 0.0
    counterexample: str = ""


def junit_xml(cases: Iterable[Case]) -> str:
    """JUnit XML: one <testsuite> per suite, one <testcase> per case."""
    root = ET.Element("testsuites", name="kubeprop gate")
    for suite, group in groupby(cases, key=lambda c: c.suite):
        members = list(group)
        node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(members)),
                             failures=str(sum(c.status == "failed" for c in members)),
                             errors=str(sum(c.status == "error" for c in members)),
                             skipped=str(sum(c.status == "skipped" for c in members)))
        for case in members:
            tc = ET.SubElement(node, "testcase", classname=suite, name=case.name, time=f"{case.seconds:.3f}")
            if case.status in ("failed", "error"):
                tag = "failure" if case.status == "failed" else "error"
                body = ET.SubElement(tc, tag, message=case.message)
                body.text = case.detail + (f"\ncounterexample: {case.counterexample}" if case.counterexample else "")
            elif case.status == "skipped":
                ET.SubElement(tc, "skipped", message=case.message)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(cases: Iterable[Case], path: Path, inputs: Iterable[Path] = ()) -> None:
    """Write JUnit XML (never over one of `inputs`)."""
    write_text(path, junit_xml(cases), inputs)


def markdown_summary(cases: Iterable[Case]) -> str:
    """A Markdown table of every case, failures first."""
    items = sorted(cases, key=lambda c: (c.status not in ("failed", "error"), c.suite, c.name))
    failed = sum(c.status in ("failed", "error") for c in items)
    icon = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️"}
    lines = [f"## kubeprop gate: {'FAILED' if failed else 'PASSED'} ({len(items) - failed}/{len(items)} held)", "",
             "| | suite | case | result |", "|---|---|---|---|"]
    for c in items:
        message = c.message.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {icon[c.status]} | {c.suite} | {c.name} | {message} |")
    return "\n".join(lines) + "\n"


def write_summary(cases: Iterable[Case], path: Path, append: bool = False, inputs: Iterable[Path] = ()) -> None:
    """Write the Markdown summary, or append it (GitHub's step summary file is shared by every
    step of a job, so the gate appends there); never over one of `inputs`."""
    if append:
        append_text(path, markdown_summary(cases), inputs)
    else:
        write_text(path, markdown_summary(cases), inputs)
