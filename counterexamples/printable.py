"""Names and paths taken from data, made safe to print: one helper for every output.

A file name, a scenario path or a name recorded in a counterexample file is data: it can hold a
line feed (`x.json: ok\\n\\ngate: … PASSED` forges a line of the gate's log), a carriage return
(overwrites the line), a tab, an ANSI escape (`ESC [ 2 J` clears the screen) or a bidirectional
override (U+202E shows `exe.txt` for `txt.exe`). `shown` writes every such character as a visible
escape (`\\x0a`, `\\x1b`, `\\u202e`), so a name prints as one line that says what it is; the
terminal, the gate's JUnit XML and its Markdown summary all use it. `shell_word` quotes a word for
a POSIX shell so that the command still names the same file: `'…'` as usual, or bash's ANSI-C
quoting `$'…\\x0a…'` when the word holds a control character.

`shown_error` prints an input error's problems, one a line, each with its file name `shown`.
`CONTROL` is the set escaped; `CONTROL_IN_TEXT` leaves out tab and line feed, for multi-line text
whose own lines must stay (`kubeprop.properties.cli.terminal`).
"""

from __future__ import annotations

import re
import shlex

from kubeprop.model.api.yamlsource import located

__all__ = ["CONTROL", "CONTROL_IN_TEXT", "escape", "shell_word", "shown", "shown_error"]

_BIDI_AND_SEPARATORS = "\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}\ud800-\udfff]")
"""Every character `shown` escapes: C0 and C1 controls (line feed, carriage return and tab
included), DEL, the bidirectional marks, embeddings, overrides and isolates, the Unicode line and
paragraph separators, and lone surrogates (from file names that are not UTF-8)."""
CONTROL_IN_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}\ud800-\udfff]")
"""`CONTROL` but tab and line feed: what multi-line text escapes."""


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str, pattern: re.Pattern[str] = CONTROL) -> str:
    """`text` with every character `pattern` matches written as a visible escape."""
    return pattern.sub(_visible, text)


def shown(name: object) -> str:
    """A name or path from data as one printable line: every control character escaped."""
    return escape(str(name))


def shell_word(word: object) -> str:
    """`word` quoted for a POSIX shell (`shlex.quote`), or — when it holds a control character — in
    bash's ANSI-C quoting `$'…'`, which names the same bytes in one visible line."""
    text = str(word)
    if not CONTROL.search(text):
        return shlex.quote(text)
    return "$'" + CONTROL.sub(_shell_visible, text.replace("\\", "\\\\").replace("'", "\\'")) + "'"


def _shell_visible(match: re.Match[str]) -> str:
    """As `_visible`, but a byte of a file name that is not UTF-8 (a surrogate escape, U+DC80 to
    U+DCFF) is that byte again."""
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else _visible(match)


def shown_error(err: BaseException) -> str:
    """An input error for printing: each of its problems (`file:line: field: message`, as the
    model's errors print them) on a line of its own with the file, field and message `shown`; an
    error without problems as its text, lines kept."""
    problems = getattr(err, "problems", None)
    if problems is None and all(hasattr(err, a) for a in ("file", "line", "field", "message")):
        problems = [err]
    if not problems:
        return escape(str(err), CONTROL_IN_TEXT)
    return "\n".join(located(shown(p.file), p.line, shown(p.field), shown(p.message)) for p in problems)
