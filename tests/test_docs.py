"""The docs cannot drift: README's set-up commands, options, config keys and exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from mkfeeds import cli as cli_module
from mkfeeds.config import KEYS
from mkfeeds.mapping import LEFT_OUT

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _shell_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, re.S)


def test_readme_opens_with_the_two_set_up_commands():
    first, second = _shell_blocks()[:2]
    assert first.strip().endswith("&& .venv/bin/mkfeeds")
    assert "pytest" in second


def test_ci_runs_exactly_the_readme_test_command_then_the_type_checker():
    test_command = _shell_blocks()[1].strip()
    *_, tests, types = (ROOT / ".ci/run").read_text().strip().splitlines()
    assert (tests, types) == (test_command, ".venv/bin/mypy")


@pytest.mark.parametrize("command", sorted(cli_module.cli.commands))
def test_every_command_is_in_the_readme(command):
    assert f"`mkfeeds {command}" in README


@pytest.mark.parametrize("option", sorted({
    opt for command in cli_module.cli.commands.values() for param in command.params
    if isinstance(param, click.Option) for opt in param.opts if opt.startswith("--")}))
def test_every_option_is_in_the_readme(option):
    assert any(f"{before}{option}" in README for before in ("`", ", ", "/")), option


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_config_key_is_in_the_readme(key):
    assert f"`{key}`" in README or f"\n{key} = " in README or f"[[{key}]]" in README, key


@pytest.mark.parametrize("code", [cli_module.EXIT_OK, cli_module.EXIT_REJECTED, cli_module.EXIT_FAILED,
                                  cli_module.EXIT_INTERNAL, cli_module.EXIT_INTERRUPTED])
def test_every_exit_code_is_in_the_readme(code):
    assert f"| `{code}` |" in README


@pytest.mark.parametrize("key", sorted(k.split("[")[0].split(",")[0] for k in LEFT_OUT))
def test_every_key_left_out_is_in_the_mapping_table(key):
    assert f"`{key}" in README


@pytest.mark.parametrize("command", [[], ["build"], ["check"]])
def test_every_command_has_help(command):
    from click.testing import CliRunner
    result = CliRunner().invoke(cli_module.cli, [*command, "--help"])
    assert result.exit_code == 0 and len(result.stdout) > 200
