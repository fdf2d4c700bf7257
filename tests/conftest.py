"""Shared by every test folder: `tests/support/` on the import path, so a test imports the helpers
several folders share (`api_harness`, `cluster_harness`) by name."""

from __future__ import annotations

import sys
from pathlib import Path

SUPPORT = str(Path(__file__).resolve().parent / "support")
if SUPPORT not in sys.path:
    sys.path.insert(0, SUPPORT)
