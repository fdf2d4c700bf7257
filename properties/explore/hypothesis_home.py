"""Where Hypothesis keeps its scratch files during a check, set without importing Hypothesis.

`kubeprop check` and `kubeprop gate` put Hypothesis' files (its cache of source constants; the
example database is off) under the output folder instead of `.hypothesis/` of the working folder
(`keep_under`). Importing Hypothesis costs a check about 0.1–0.2 CPU seconds of its start-up, and
a check whose search ends before the Hypothesis member's first turn never needs it (on FeastFlow
every find in the first round: the member's turn comes last): so the folder is remembered and
given to Hypothesis when its engine imports it (`apply`, from `stateful.py`), or at once if
Hypothesis was imported already.

Imports nothing of Hypothesis at module level (`tests/properties/cli/test_startup.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

_HOME: list[Path] = []
"""The folder `keep_under` was last given (empty: none; Hypothesis' own default then)."""


def keep_under(directory: Path) -> None:
    """Hypothesis' files go to `directory` (now, if Hypothesis is imported; else once `apply` runs)."""
    _HOME[:] = [directory]
    if "hypothesis.configuration" in sys.modules:
        apply()


def apply() -> None:
    """Give Hypothesis the folder `keep_under` remembered, if any (imports Hypothesis)."""
    if _HOME:
        from hypothesis.configuration import set_hypothesis_home_dir

        set_hypothesis_home_dir(_HOME[-1])
