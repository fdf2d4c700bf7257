"""The gate's outputs: JUnit XML for CI test reports, and a Markdown summary for a job page.

Both are written without clobbering (`kubeprop.counterexamples.output`): atomically onto a new
path or a regular file, through links and devices, never over one of the gate's inputs.

Their text comes partly from corpus files (file names, recorded violation messages), so it is
written as data: names, suites and messages with every control character as a visible escape
(`kubeprop.counterexamples.printable.shown`: a line feed in a file name is `\\x0a`, so it cannot
forge a line or a test name), a trace's text with its lines kept but every other control character
escaped, and whatever XML 1.0 cannot hold escaped too, so CI's JUnit parser never rejects the
report; each summary cell as a Markdown code span on one line, so a name or message cannot add
headings, links, images or HTML to a job page.
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
from kubeprop.counterexamples.printable import CONTROL_IN_TEXT, escape, shown

Status = Literal["passed", "failed", "error", "skipped", "vacuous"]
"""A case's outcome; `vacuous`: the property could not have failed in the check's scenario
(`kubeprop.properties.vacuity`), so it is not "held" — a JUnit skip with the reason, a warning
in the log and the summary, and no failure of the gate."""


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
    relies: str = ""
    """A violation's `relies on:` line (`kubeprop.counterexamples.reliance`), as `kubeprop check`
    prints under each violation and `kubeprop replay` under the one it replays: a failed case's, a
    known upstream behaviour's, a corpus file's that reproduces; '' for a case without a violation."""
    notes: tuple[tuple[str, str], ...] = ()
    """(label, text) notes on the case that do not change its verdict: a corpus file's `replays under`
    (the parameters it replays under that are not at their defaults) and `scenario differs` (its
    own scenario against the one of the same name a check runs on). The log prints each as
    `label: text` under the case, the summary adds each to the case's cell, JUnit writes each as a
    `<property>` of the test case."""


@attrs.frozen
class GateWarning:
    """A warning about one check as a whole (its variant cannot show in its scenario, a portfolio
    lane's figures are missing): the log's `warning:` lines, its suite's JUnit `<system-out>`
    and the summary's warnings."""

    suite: str
    text: str


_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Multi-line `text` with every control character but tab and line feed, and every character
    XML 1.0 cannot hold, written as a visible escape."""
    return escape(escape(text, CONTROL_IN_TEXT), _NOT_XML)


def xml_name(text: str) -> str:
    """A name, suite or one-line message for XML: `shown`, and what XML cannot hold escaped."""
    return escape(shown(text), _NOT_XML)


def code_span(text: str) -> str:
    """`text` as a one-line Markdown code span inside a table cell: nothing in it is Markdown or
    HTML (a fence longer than any run of backticks in it; `|` escaped, as tables require)."""
    flat = xml_name(text)
    fence = "`" * (max((len(run) for run in re.findall("`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat.replace('|', chr(92) + '|')}{pad}{fence}"


def junit_xml(cases: Iterable[Case], warnings: Iterable[GateWarning] = ()) -> str:
    """JUnit XML: one <testsuite> per suite, one <testcase> per case (a vacuous one `<skipped>`
    with its reason); a suite's warnings, one `warning:` line each, in its `<system-out>`."""
    root = ET.Element("testsuites", name="kubeprop gate")
    notes = list(warnings)
    for suite, group in groupby(cases, key=lambda c: c.suite):
        members = list(group)
        node = ET.SubElement(root, "testsuite", name=xml_name(suite), tests=str(len(members)),
                             failures=str(sum(c.status == "failed" for c in members)),
                             errors=str(sum(c.status == "error" for c in members)),
                             skipped=str(sum(c.status in ("skipped", "vacuous") for c in members)))
        for case in members:
            tc = ET.SubElement(node, "testcase", classname=xml_name(suite), name=xml_name(case.name),
                               time=f"{case.seconds:.3f}")
            if case.notes:
                listed = ET.SubElement(tc, "properties")
                for label, text in case.notes:
                    ET.SubElement(listed, "property", name=xml_name(label), value=xml_name(text))
            relies = f"{xml_name(case.relies)}\n" if case.relies else ""
            if case.status in ("failed", "error"):
                tag = "failure" if case.status == "failed" else "error"
                body = ET.SubElement(tc, tag, message=xml_name(case.message))
                body.text = relies + xml_text(case.detail + (f"\ncounterexample: {shown(case.counterexample)}"
                                                             if case.counterexample else ""))
            elif case.status in ("skipped", "vacuous"):
                ET.SubElement(tc, "skipped", message=xml_name(case.message))
            elif relies:  # a passing case with a violation (known upstream behaviour, a bug that reproduces)
                ET.SubElement(tc, "system-out").text = relies
        mine = [w.text for w in notes if w.suite == suite]
        if mine:
            ET.SubElement(node, "system-out").text = "".join(f"warning: {xml_name(text)}\n" for text in mine)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(cases: Iterable[Case], path: Path, inputs: Iterable[Path] = (),
                warnings: Iterable[GateWarning] = ()) -> None:
    """Write JUnit XML (never over one of `inputs`)."""
    write_text(path, junit_xml(cases, warnings), inputs, JUNIT_OWNER)


@attrs.frozen
class Tally:
    """The gate's figures: `held` of `counted` cases (skipped corpus entries are not counted: they
    were not checked), how many of those are `vacuous`, and how many entries were `skipped`."""

    held: int
    counted: int
    vacuous: int
    skipped: int
    failed: int

    @classmethod
    def of(cls, cases: Iterable[Case]) -> Tally:
        """The figures of `cases`."""
        items = list(cases)
        skipped = sum(c.status == "skipped" for c in items)
        failed = sum(c.status in ("failed", "error") for c in items)
        vacuous = sum(c.status == "vacuous" for c in items)
        return cls(len(items) - skipped - failed - vacuous, len(items) - skipped, vacuous, skipped, failed)


def tally(cases: Iterable[Case]) -> str:
    """`14/17 held`, then `, 3 vacuous` and `, 2 skipped` when some are: the summary's heading (a
    skipped corpus entry, not a counterexample file, is neither held nor counted)."""
    t = Tally.of(cases)
    return (f"{t.held}/{t.counted} held" + (f", {t.vacuous} vacuous" if t.vacuous else "")
            + (f", {t.skipped} skipped" if t.skipped else ""))


_ORDER = {"failed": 0, "error": 0, "vacuous": 1}


def markdown_summary(cases: Iterable[Case], warnings: Iterable[GateWarning] = ()) -> str:
    """A Markdown table of every case, failures first, then the vacuous ones; then the warnings."""
    items = sorted(cases, key=lambda c: (_ORDER.get(c.status, 2), c.suite, c.name))
    failed = any(c.status in ("failed", "error") for c in items)
    icon = {"passed": "✅", "failed": "❌", "error": "💥", "skipped": "⏭️", "vacuous": "⚠️"}
    lines = [f"## kubeprop gate: {'FAILED' if failed else 'PASSED'} ({tally(items)})", "",
             "| | suite | case | result |", "|---|---|---|---|"]
    for c in items:
        relies = f"<br>{code_span(c.relies)}" if c.relies else ""  # each part a code span: no Markdown from data
        relies += "".join(f"<br>{code_span(f'{label}: {text}')}" for label, text in c.notes)
        lines.append(f"| {icon[c.status]} | {code_span(c.suite)} | {code_span(c.name)} | {code_span(c.message)}"
                     f"{relies} |")
    notes = list(warnings)
    if notes:
        lines += ["", "**Warnings**", ""] + [f"- ⚠️ {code_span(w.suite)}: {code_span(w.text)}" for w in notes]
    return "\n".join(lines) + "\n"


def write_summary(cases: Iterable[Case], path: Path, append: bool = False, inputs: Iterable[Path] = (),
                  warnings: Iterable[GateWarning] = ()) -> None:
    """Write the Markdown summary, or append it (GitHub's step summary file is shared by every
    step of a job, so the gate appends there); never over one of `inputs`."""
    text = markdown_summary(cases, warnings)
    if append:
        append_text(path, text, inputs)
    else:
        write_text(path, text, inputs, SUMMARY_OWNER)
