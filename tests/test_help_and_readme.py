"""Every promise in the help and the README kept (issue 14): what the options say they do,
what the README says comes out, comes out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from mkfeeds.cli import cli

from conftest import article_text, write_tree

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def help_of(*command: str) -> str:
    return " ".join(run(*command, "--help").stdout.split())  # as one line: click wraps it


@pytest.fixture
def site(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {
        "mkfeeds.toml": 'base-url = "https://feeds.example.org/"\n',
        "seeds/a.txt": article_text(title="A", webUrl="https://n.example/a", excerpt="Trailing space ",
                                    publishedDateTime="2026-01-02T10:00:00+02:00"),
        "seeds/draft.txt": article_text(title="D", webUrl="https://n.example/d", published=False),
        "seeds/notes.docx": "x",
    })
    return tmp_path


def test_verbose_lists_what_its_help_says(site):
    assert "-v, --verbose Also list every file written, removed or skipped." in help_of("build")
    listed = run("build", "-v").stderr.splitlines()
    assert "skipped seeds/notes.docx (not .txt, .md or .markdown)" in listed
    assert "wrote out/rss.xml" in listed
    (site / "seeds/a.txt").unlink()
    (site / "mkfeeds.toml").write_text('base-url = "https://feeds.example.org/"\ntaxonomies = []\n')
    assert any(line.startswith("removed out/") for line in run("build", "-v").stderr.splitlines())


def test_check_help_says_it_writes_nothing_and_where_problems_go(site):
    text = help_of("check")
    assert "and write nothing (not even the cache)" in text
    assert "every file written" not in text and "written" not in text.split("--verbose")[1].split(".")[0]
    assert "-v, --verbose Also list every file skipped because it is not an article." in text
    assert "Prints each problem on stdout" in text
    run("check")
    assert sorted(p.name for p in site.iterdir()) == ["mkfeeds.toml", "seeds"]
    result = run("check", "--base-url", "https://feeds.example.org/")
    assert result.stderr == "" and result.stdout.startswith("mkfeeds check: ")


def test_the_group_help_lists_every_command(site):
    text = help_of()
    for command in ("build", "check", "init"):
        assert re.search(rf"\b{command}\b", text), command


def test_an_offset_is_kept_in_atom_and_json_and_written_in_utc_in_rss(site):
    assert "RSS writes the same instant in UTC" in README
    run("build")
    out = site / "out"
    assert "<pubDate>Fri, 02 Jan 2026 08:00:00 +0000</pubDate>" in (out / "rss.xml").read_text()
    assert "<published>2026-01-02T10:00:00+02:00</published>" in (out / "atom.xml").read_text()
    items = json.loads((out / "feed.json").read_text())["items"]
    assert items[0]["date_published"] == "2026-01-02T10:00:00+02:00"


def test_text_loses_only_the_white_space_at_its_ends(site):
    assert "minus white space at its two ends" in README
    run("build")
    items = json.loads((site / "out" / "feed.json").read_text())["items"]
    assert items[0]["summary"] == "Trailing space"
    assert "<summary type=\"text\">Trailing space</summary>" in (site / "out" / "atom.xml").read_text()
