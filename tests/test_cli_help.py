"""Every `ainode` command answers --help (argparse formats help text with %, so one stray % breaks it)."""
from __future__ import annotations

import argparse

import pytest

from ainode_core.cli.main import build_parser, main


def _commands() -> list[str]:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(actions[0].choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"usage: ainode {command}" in capsys.readouterr().out
