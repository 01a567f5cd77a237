"""``mkfeeds check`` for a content repository's CI: three formats, failing on warnings,
a progress bar on a terminal."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading

import pytest
from click.testing import CliRunner

from mkfeeds.cli import cli

from conftest import article_text, write_tree

GOOD = article_text(title="Good story", webUrl="https://news.example.org/good/")
BAD = article_text(title=..., webUrl="https://news.example.org/bad/")
WARNED = article_text(title="Warned", webUrl="https://news.example.org/warned/", locale="not a tag")


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"seeds/001_good.txt": GOOD, "seeds/002_bad.txt": BAD, "seeds/003_warned.txt": WARNED})
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_text_is_the_default_format_one_line_per_problem_then_the_counts(site):
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout == (
        "seeds/002_bad.txt: error: title: is missing\n"
        "seeds/003_warned.txt:24: warning: locale: is not a language tag like en or en-GB; left out\n"
        "mkfeeds check: 2 publishable, 0 withheld, 1 rejected, 1 warning\n")
    assert result.stderr == ""


def test_json_is_one_document_with_every_problem_and_the_counts(site):
    result = run("check", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "problems": [
            {"file": "seeds/002_bad.txt", "line": None, "field": "title", "severity": "error",
             "message": "is missing"},
            {"file": "seeds/003_warned.txt", "line": 24, "field": "locale", "severity": "warning",
             "message": "is not a language tag like en or en-GB; left out"},
        ],
        "notices": [],
        "skipped": [],
        "counts": {"publishable": 2, "withheld": 0, "rejected": 1, "errors": 1, "warnings": 1, "skipped": 0},
    }


def test_json_stays_whole_with_quiet(site):
    assert len(json.loads(run("check", "--format", "json", "-q").stdout)["problems"]) == 2


def test_github_prints_workflow_annotations(site):
    result = run("check", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=seeds/002_bad.txt,title=mkfeeds%3A title::is missing",
        "::warning file=seeds/003_warned.txt,line=24,title=mkfeeds%3A locale::"
        "is not a language tag like en or en-GB; left out",
        "mkfeeds check: 2 publishable, 0 withheld, 1 rejected, 1 warning",
    ]


def test_an_unknown_format_is_a_usage_error(site):
    result = run("check", "--format", "xml")
    assert result.exit_code == 2


def test_warnings_pass_unless_fail_on_warning_is_given(site):
    (site / "seeds/002_bad.txt").unlink()
    assert run("check").exit_code == 0
    assert run("check", "--fail-on-warning").exit_code == 1
    (site / "mkfeeds.toml").write_text("fail-on-warning = true\n")
    assert run("check").exit_code == 1
    assert run("check", "--no-fail-on-warning").exit_code == 0


def test_build_fail_on_warning_writes_nothing(site):
    (site / "seeds/002_bad.txt").unlink()
    result = run("build", "--fail-on-warning")
    assert result.exit_code == 2
    assert result.stderr.endswith("mkfeeds: error: 1 warning; nothing written (--fail-on-warning)\n")
    assert not (site / "out").exists()


def test_strict_in_the_config_does_not_crash_check(site):
    (site / "mkfeeds.toml").write_text("strict = true\n")
    result = run("check")
    assert result.exit_code == 1
    assert "1 rejected" in result.stdout


def on_a_terminal(folder, *args: str) -> tuple[subprocess.CompletedProcess[bytes], str]:
    """Run mkfeeds with its stderr on a terminal; what the terminal showed."""
    controller, terminal = os.openpty()
    shown = bytearray()

    def read_terminal() -> None:  # read as it is written: a full terminal buffer would block mkfeeds
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the other end is closed: everything was read
                return
            if not chunk:
                return
            shown.extend(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    try:
        done = subprocess.run([sys.executable, "-m", "mkfeeds", *args], cwd=folder,
                              stdout=subprocess.PIPE, stderr=terminal, timeout=300)
    finally:
        os.close(terminal)
        reader.join()
        os.close(controller)
    return done, shown.decode()


@pytest.fixture
def many(tmp_path):
    write_tree(tmp_path, {f"seeds/{i:05}.txt": article_text(title=f"Story {i}", webUrl=f"https://n.example/{i}")
                          for i in range(2000)})
    return tmp_path


def test_check_draws_a_progress_bar_on_a_terminal(many):
    """A long check is not silent: on a terminal it draws the build's bar on stderr,
    then names the stage that follows reading."""
    done, shown = on_a_terminal(many, "check")
    assert done.returncode == 0
    assert "Reading 2,000 articles" in shown
    assert re.search(r"100% *(ETA.*)?\x1b\[\?25h\r\nmkfeeds: rendering 5 feeds\.\.\.\r\n\Z", shown), shown[-200:]
    assert done.stdout.endswith(b"mkfeeds check: 2,000 publishable, 0 withheld, 0 rejected, 0 warnings\n")


def test_build_names_each_stage_after_reading(many):
    done, shown = on_a_terminal(many, "build", "--no-cache")
    assert done.returncode == 0
    assert "Reading 2,000 articles" in shown
    assert re.search(r"100% *(ETA.*)?\x1b\[\?25h\r\nmkfeeds: rendering 5 feeds\.\.\.\r\nmkfeeds: writing\.\.\.\r\n\Z",
                     shown), shown[-200:]
