"""README's "Use in CI" section: the workflow, the pre-commit hook and shell completion
it shows work as shown."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from mkfeeds.cli import cli

from conftest import article_text, write_tree

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Use in CI\n", 1)[1].split("\n## ", 1)[0]


def _yaml_blocks() -> list[dict]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", SECTION, re.S)]


def _runs_cleanly(command: str, tmp_path: Path, monkeypatch) -> None:
    """The README's ``mkfeeds ...`` command line parses and checks a folder."""
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"seeds/a.txt": article_text(title="A", webUrl="https://n.example/a")})
    program, *args = shlex.split(command)
    assert program == "mkfeeds"
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_the_github_workflow_runs_check_with_annotations(tmp_path, monkeypatch):
    workflow = _yaml_blocks()[0]
    runs = [step["run"].split("#")[0].strip() for step in workflow["jobs"]["check"]["steps"] if "run" in step]
    assert runs[-1] == "mkfeeds check --format github"
    _runs_cleanly(runs[-1], tmp_path, monkeypatch)


def test_the_pre_commit_hook_runs_check_on_the_whole_folder(tmp_path, monkeypatch):
    hook = _yaml_blocks()[1]["repos"][0]["hooks"][0]
    assert (hook["entry"], hook["language"], hook["pass_filenames"]) == ("mkfeeds check", "system", False)
    assert re.search(hook["files"], "articles/2026/story.md") and re.search(hook["files"], "mkfeeds.toml")
    _runs_cleanly(hook["entry"], tmp_path, monkeypatch)


def test_shell_completion_works_as_documented():
    assert 'eval "$(_MKFEEDS_COMPLETE=bash_source mkfeeds)"' in SECTION
    script = subprocess.run([sys.executable, "-m", "mkfeeds"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "_MKFEEDS_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "complete -o nosort -F _mkfeeds_completion mkfeeds" in script.stdout
    words = subprocess.run([sys.executable, "-m", "mkfeeds"], capture_output=True, text=True, timeout=60,
                           env={**os.environ, "_MKFEEDS_COMPLETE": "bash_complete", "COMP_WORDS": "mkfeeds check --for",
                                "COMP_CWORD": "2"})
    assert "plain,--format" in words.stdout
