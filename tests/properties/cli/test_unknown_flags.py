"""Trial 9: an unknown flag of `check` or `gate` was refused by the top-level parser
(`kubeprop: bad input: unrecognized arguments: --reduction`) with no close match, where a
misspelt `--param` name gets one. Now the subcommand refuses it, with the flag it may mean."""

from __future__ import annotations

import pytest

from kubeprop.properties.cli.main import main


@pytest.mark.parametrize(("argv", "lines"), [
    (["check", "--reduction"], ["kubeprop check: bad input:", "unrecognized arguments: --reduction",
                                "--reduction: did you mean '--no-reduction'?", "(try 'kubeprop check --help')"]),
    (["gate", "--bugdet=3"], ["kubeprop gate: bad input:", "unrecognized arguments: --bugdet=3",
                              "--bugdet: did you mean '--budget'?", "(try 'kubeprop gate --help')"]),
    (["check", "--zzz-nothing-like-it"], ["kubeprop check: bad input:",
                                          "unrecognized arguments: --zzz-nothing-like-it",
                                          "(try 'kubeprop check --help')"]),
])
def test_an_unknown_flag_is_refused_by_its_command_with_a_close_match(
        argv: list[str], lines: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == lines and captured.out == ""
