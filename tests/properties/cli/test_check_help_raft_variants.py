"""`kubeprop check --help` names every Raft variant of the catalogue as one (the help once listed
three of five, written out by hand; it is now made from `RAFT_VARIANTS`)."""

from __future__ import annotations

import argparse

from kubeprop.model.raft.state import RAFT_VARIANTS
from kubeprop.properties.cli.check_args import add_arguments


def test_the_variant_help_names_every_raft_variant() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    [variant] = [a for a in parser._actions if "--variant" in a.option_strings]
    assert variant.help is not None
    listed = variant.help.split("the bug catalogue; ")[1].split(" are Raft variants")[0]
    assert listed.split(", ") == list(RAFT_VARIANTS)
    assert len(RAFT_VARIANTS) >= 5
