"""The gate's outputs: JUnit XML for CI test reports, and a Markdown summary for a job page.

Both are written without clobbering (`kubeprop.counterexamples.output`): atomically onto a new
path or a regular file, through links and devices, never over one of the gate's inputs.

Their text comes partly from corpus files (file names, recorded violation messages), so it is
written as data: a character XML 1.0 cannot hold (NUL, ESC, a lone surrogate) as a visible escape
(`\\x1b`), so CI's JUnit parser never rejects the report; each summary cell as a Markdown code
span on one line, so a name or message cannot add headings, links, images or HTML to a job page.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from itertools import groupby
from pathlib import Path
from typing import Literal

import attrs

from kubeprop.counterexamples.output import JUNIT_OWNER, SUMMARY_OWNER, append_text, write_text

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


_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` with every character XML 1.0 cannot hold written as a visible escape."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def code_span(text: str) -> str:
    """`text` as a one-line Markdown code span inside a table cell: nothing in it is Markdown or
    HTML (a fence longer than any run of backticks in it; `|` escaped, as tables require)."""
    flat = xml_text(re.sub(r"[\r\n]+", " ", text))
    fence = "`" * (max((len(run) for run in re.findall("`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat.replace('|', chr(92) + '|')}{pad}{fence}"


def junit_xml(cases: Iterable[Case]) -> str:
    """JUnit XML: one <testsuite> per suite, one <testcase> per case."""
    root = ET.Element("testsuites", name="kubeprop gate")
    for suite, group in groupby(cases, key=lambda c: c.suite):
        members = list(group)
        node = ET.SubElement(root, "testsuite", name=xml_text(suite), tests=str(len(members)),
                             failures=str(sum(c.status == "failed" for c in members)),
                             errors=str(sum(c.status == "error" for c in members)),
                             skipped=str(sum(c.status == "skipped" for c in members)))
        for case in members:
            tc = ET.SubElement(node, "testcase", classname=xml_text(suite), name=xml_text(case.name),
                               time=f"{case.seconds:.3f}")
            if case.status in ("failed", "error"):
                tag = "failure" if case.status == "failed" else "error"
                body = ET.SubElement(tc, tag, message=xml_text(case.message))
                body.text = xml_text(case.detail + (f"\ncounterexample: {case.counterexample}"
                                                    if case.counterexample else ""))
            elif case.status == "skipped":
                ET.SubElement(tc, "skipped", message=xml_text(case.message))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(cases: Iterable[Case], path: Path, inputs: Iterable[Path] = ()) -> None:
    """Write JUnit XML (never over one of `inputs`)."""
    write_text(path, junit_xml(cases), inputs, JUNIT_OWNER)


def markdown_summary(cases: Iterable[Case]) -> str:
    """A Markdown table of every case, failures first."""
    items = sorted(cases, key=lambda c: (c.status not in ("failed", "error"), c.suite, c.name))
    failed = sum(c.status in ("failed", "error") for c in items)
    icon = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️"}
    lines = [f"## kubeprop gate: {'FAILED' if failed else 'PASSED'} ({len(items) - failed}/{len(items)} held)", "",
             "| | suite | case | result |", "|---|---|---|---|"]
    for c in items:
        lines.append(f"| {icon[c.status]} | {code_span(c.suite)} | {code_span(c.name)} | {code_span(c.message)} |")
    return "\n".join(lines) + "\n"


def write_summary(cases: Iterable[Case], path: Path, append: bool = False, inputs: Iterable[Path] = ()) -> None:
    """Write the Markdown summary, or append it (GitHub's step summary file is shared by every
    step of a job, so the gate appends there); never over one of `inputs`."""
    if append:
        append_text(path, markdown_summary(cases), inputs)
    else:
        write_text(path, markdown_summary(cases), inputs, SUMMARY_OWNER)
