"""Old import paths of modules that moved in kubeprop 0.2 (CHANGELOG.md lists each move).

Each old module is a two-line file calling `alias`, which warns once per import and makes the old
name the new module itself, so `from kubeprop.model.drive import settle` keeps working.
"""

from __future__ import annotations

import importlib
import sys
import warnings


def alias(old: str, new: str) -> None:
    """Make module `old` an alias of module `new`, with a DeprecationWarning naming both."""
    warnings.warn(f"{old} moved to {new} in kubeprop 0.2; import it from there", DeprecationWarning, stacklevel=3)
    sys.modules[old] = importlib.import_module(new)
