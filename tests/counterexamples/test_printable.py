"""Names and paths from data print as one visible line; shell words still name the same file."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from kubeprop.counterexamples.printable import shell_word, shown, shown_error
from kubeprop.model.api.manifests import ManifestError, Problem

FORGED = "x.json: ok\n\ngate: 40 of 40 cases held; PASSED\n\n.json"


@pytest.mark.parametrize(("name", "expected"), [
    (FORGED, "x.json: ok\\x0a\\x0agate: 40 of 40 cases held; PASSED\\x0a\\x0a.json"),
    ("a\rb\tc\x1b[2J", "a\\x0db\\x09c\\x1b[2J"),
    ("txt\u202eexe.json \u2066\u200f\u2028", "txt\\u202eexe.json \\u2066\\u200f\\u2028"),
    ("bad-\udc80.json", "bad-\\udc80.json"),
    ("plain/ünïcode name.json", "plain/ünïcode name.json"),
])
def test_shown_escapes_every_control_character(name: str, expected: str) -> None:
    assert shown(name) == expected


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash for $'…' quoting")
@pytest.mark.parametrize("name", [FORGED, "a\\b'c\x1b\u202e", "bad-\udc80\n", "x\\udc80", "plain name.json"])
def test_shell_word_is_one_line_and_names_the_same_bytes(name: str) -> None:
    word = shell_word(name)
    assert "\n" not in word and "\x1b" not in word and "\u202e" not in word
    printed = subprocess.run(["bash", "-c", f"printf %s {word}"], capture_output=True, check=True).stdout
    assert printed == name.encode("utf-8", "surrogateescape")


def test_shown_error_escapes_each_problems_file_but_keeps_one_line_per_problem() -> None:
    err = ManifestError([Problem(FORGED, 3, "kind", "bad\nkind"), Problem("b.yaml", 0, "", "unreadable")])
    assert shown_error(err).splitlines() == [
        "x.json: ok\\x0a\\x0agate: 40 of 40 cases held; PASSED\\x0a\\x0a.json:3: kind: bad\\x0akind",
        "b.yaml: unreadable"]
