"""Kubeprop's `hypothesis` entry point (pyproject.toml): registers the strategies of
`kubeprop.model.api.strategies` for kubeprop's own value types, as Hypothesis' extension docs
describe, so that `st.from_type(Quantity)` and `st.from_type(LabelSelector)` draw valid values.

It is a module of its own that imports the strategies only when Hypothesis resolves the type:
importing `kubeprop.model.api.strategies` imports Hypothesis, and Hypothesis runs its entry points
while it is imported, so an entry point inside the strategies module found that module half
initialised (`from kubeprop.model.api.strategies import quantities` before any `import hypothesis`
failed with a circular import).

May import: the API's value types; Hypothesis and the strategies module only inside functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeprop.model.api.quantity import Quantity
from kubeprop.model.api.selectors import LabelSelector

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["register_type_strategies"]


def register_type_strategies() -> None:
    """Register `quantities()` for `Quantity` and `label_selectors()` for `LabelSelector`, each
    resolved when Hypothesis first asks for the type."""
    from hypothesis import strategies as st

    st.register_type_strategy(Quantity, _quantities)
    st.register_type_strategy(LabelSelector, _label_selectors)


def _quantities(_: type[Quantity]) -> SearchStrategy[Quantity]:
    from kubeprop.model.api import strategies

    return strategies.quantities()


def _label_selectors(_: type[LabelSelector]) -> SearchStrategy[LabelSelector]:
    from kubeprop.model.api import strategies

    return strategies.label_selectors()
