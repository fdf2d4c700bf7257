"""Explorations marked `slow` run only when asked: `pytest -m slow`, or with KUBEPROP_SLOW=1 in the
environment (the rule is the whole suite's, in tests/conftest.py)."""
