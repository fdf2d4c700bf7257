"""kubeprop's strategies are registered with Hypothesis through its entry point: in a fresh
interpreter that never imports `kubeprop.model.api.strategies` itself, `st.from_type` gives them."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
from hypothesis import strategies as st
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector
found = (repr(st.from_type(Quantity)), repr(st.from_type(LabelSelector)))
from kubeprop.model.api.strategies import label_selectors, quantities
print(found == (repr(quantities()), repr(label_selectors())))
"""


def test_from_type_uses_the_registered_strategies() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "True", done.stderr


STRATEGIES_FIRST = """
from kubeprop.model.api.strategies import label_selectors, quantities
from hypothesis import strategies as st
from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector
found = (repr(st.from_type(Quantity)), repr(st.from_type(LabelSelector)))
print(found == (repr(quantities()), repr(label_selectors())))
"""


def test_importing_the_strategies_before_hypothesis_works() -> None:
    """The entry point lives apart from the strategies module: importing the strategies first
    imports Hypothesis, which runs the entry point while the strategies module is half initialised
    (this was a circular import)."""
    done = subprocess.run([sys.executable, "-c", STRATEGIES_FIRST], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True", done.stderr
