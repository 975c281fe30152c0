"""The one CLI: every command of the table is reachable, a group of one command stays a group
(`hallwatch signals run`, `db upgrade`), and `hallwatch --help` lists them all without loading them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from central.cli.main import COMMANDS, app

SUBCOMMANDS = [
    ["db", "upgrade"],
    ["signals", "run"],
    ["evidence", "purge"],
    ["keypad", "emulate"],
    ["edge", "run"],
    ["edge", "analyse"],
    ["devices", "keys", "issue"],
    ["audit", "verify"],
    ["users", "create"],
    ["serve"],
    ["demo"],
]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_answers_help(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "--install-completion" not in result.output  # the root's option only


@pytest.mark.parametrize("words", SUBCOMMANDS, ids=" ".join)
def test_subcommands_are_where_they_always_were(words: list[str]) -> None:
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0, result.output


def test_the_listing_names_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name, command in COMMANDS.items():
        assert name in result.output and command.help.split(" (")[0] in result.output
