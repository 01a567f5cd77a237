"""Messages that say how to fix: one style for every error (``mkfeeds: error: WHAT``,
then ``mkfeeds: hint: HOW``), click's usage errors included, exit codes unchanged."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from mkfeeds.cli import cli

from conftest import article_text, write_tree

GOOD = article_text(title="Good story", webUrl="https://news.example.org/good/")


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"seeds/001_good.txt": GOOD})
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def mkfeeds(site, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it (click's usage errors are shown there)."""
    return subprocess.run([sys.executable, "-m", "mkfeeds", *args], cwd=site, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args, stderr", [
    (["build", "--limt", "3"],
     "mkfeeds: error: no such option: --limt\nmkfeeds: hint: did you mean --limit? (see 'mkfeeds build --help')\n"),
    (["chek"], "mkfeeds: error: no such command 'chek'\nmkfeeds: hint: did you mean 'check'? (see 'mkfeeds --help')\n"),
    (["check", "--format", "xml"],
     "mkfeeds: error: invalid value for '--format': 'xml' is not one of 'text', 'json', 'github'\n"
     "mkfeeds: hint: see 'mkfeeds check --help'\n"),
    (["build", "--limit", "-1"],
     "mkfeeds: error: invalid value for '--limit': -1 is not in the range x>=0\n"
     "mkfeeds: hint: see 'mkfeeds build --help'\n"),
])
def test_usage_errors_speak_in_the_same_style(site, args, stderr):
    done = mkfeeds(site, *args)
    assert (done.returncode, done.stderr, done.stdout) == (2, stderr, "")


def test_quiet_and_verbose_together_are_a_usage_error(site):
    done = mkfeeds(site, "build", "-q", "-v")
    assert (done.returncode, done.stderr) == (
        2, "mkfeeds: error: -q/--quiet and -v/--verbose cannot be used together\n"
           "mkfeeds: hint: see 'mkfeeds build --help'\n")
    assert not (site / "out").exists()


def test_an_option_outweighs_the_other_one_in_the_config(site):
    (site / "mkfeeds.toml").write_text("verbose = true\n")
    assert run("build", "-q").output == ""
    (site / "mkfeeds.toml").write_text("quiet = true\nverbose = true\n")
    result = run("build")
    assert (result.exit_code, result.stderr) == (
        2, "mkfeeds: error: quiet and verbose are both true in the config\n"
           "mkfeeds: hint: keep one of them, or pass -q or -v\n")


def test_a_missing_input_folder_names_the_option_the_key_and_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in ("build", "check"):
        result = run(command)
        assert result.exit_code == 2
        assert result.stderr.endswith(
            "mkfeeds: error: seeds: the input folder does not exist or is not a folder\n"
            "mkfeeds: hint: name the folder of articles with --input DIR or the input key of mkfeeds.toml; "
            "mkfeeds init starts one with an example article\n"), command
