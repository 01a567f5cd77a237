"""Up to date: a build whose inputs are exactly those of the last build reads nothing
and reports the last build's result again (``build.up_to_date``), as ``make`` and
``ninja`` skip a target whose inputs have not changed.

The inputs are everything the output depends on besides the clock: mkfeeds' code and
parsers, the settings, and each article file's path, size and modification time. The
clock counts too, through the scheduled articles: the first one's date ends the record's
validity. And the output files must be as the last build left them.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NOW, article_text, write_tree

from mkfeeds import build as build_module
from mkfeeds.build import StrictFailure, build
from mkfeeds.cli import cli

ARTICLES = {
    "a.txt": article_text(title="Alpha", webUrl="https://news.example.org/a/",
                          publishedDateTime="2024-03-01T10:00:00+02:00"),
    "sub/b.md": article_text("Some *body*.", title="Beta", webUrl="https://news.example.org/b/"),
    "bad.txt": "---\ntitle: [unclosed\n---\n",
    "draft.txt": article_text(title="Draft", webUrl="https://news.example.org/d/", published=False),
    "later.txt": article_text(title="Later", webUrl="https://news.example.org/l/",
                              publishedDateTime=(NOW + timedelta(days=2)).isoformat()),
}


def age(root: Path, seconds: float = 60) -> None:
    """Date every file back, as if written well before the build (``cache.RACY_NS``)."""
    for path in root.rglob("*"):
        if path.is_file():
            stamp = path.stat().st_mtime_ns - int(seconds * 1e9)
            os.utime(path, ns=(stamp, stamp))


def forget_last_build(state: Path) -> None:
    """Remove the record that lets an unchanged build skip everything."""
    import sqlite3

    with sqlite3.connect(state / "state.sqlite") as db:
        db.execute("DELETE FROM meta WHERE key = 'build'")
    db.close()


@pytest.fixture
def tree(tmp_path):
    write_tree(tmp_path / "in", ARTICLES)
    age(tmp_path / "in")
    return tmp_path / "in"


@pytest.fixture
def settings(cached, tree):
    """Settings with a cache, for the articles above."""
    return cached


@pytest.fixture
def loads(monkeypatch):
    """How many builds read their articles (called ``read_outcomes``)."""
    calls: list[int] = []
    real = build_module.read_outcomes

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "read_outcomes", counting)
    return calls


def outputs(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_an_unchanged_build_reads_nothing_and_reports_the_same(settings, tmp_path, loads):
    first = build(settings(), NOW)
    before = outputs(tmp_path / "out")
    again = build(settings(), NOW + timedelta(minutes=5))
    assert len(loads) == 1 and again.up_to_date and not first.up_to_date
    assert outputs(tmp_path / "out") == before
    assert (again.entries, again.published, again.drafts, again.scheduled, again.feeds, again.rejected) == (
        first.entries, first.published, first.drafts, first.scheduled, first.feeds, first.rejected) == (
        2, 2, 1, 1, again.feeds, 1)
    assert again.problems == first.problems and again.notices == first.notices
    assert again.files_written == () and again.files_unchanged == tuple(
        sorted(first.files_written + first.files_unchanged))


def test_the_command_line_says_exactly_what_a_real_rebuild_says(tmp_path, tree, monkeypatch, loads):
    monkeypatch.chdir(tmp_path)
    args = ["build", "-i", "in", "-o", "out", "--base-url", "https://feeds.example.org/", "--cache", "c.sqlite"]
    first = CliRunner().invoke(cli, args)
    second = CliRunner().invoke(cli, args)
    full = CliRunner().invoke(cli, [*args, "--no-cache"])  # never up to date: no record without a cache
    assert len(loads) == 2  # the second build read nothing
    assert first.exit_code == second.exit_code == full.exit_code == 1  # bad.txt is rejected
    assert "in/bad.txt:3: error: invalid YAML" in second.output
    *problems, headline, details = second.output.splitlines()
    assert problems == full.output.splitlines()[:-2] == first.output.splitlines()[:-2]
    assert headline == full.output.splitlines()[-2].replace("mkfeeds: ", "mkfeeds: up to date: ", 1)
    assert details == ("  3 entries in the main feed; nothing changed since the last build (22 files unchanged); "
                       "withheld: 1 draft, 0 scheduled")


@pytest.mark.parametrize("change", [
    "touch an article", "add an article", "remove an article", "edit an output file",
    "remove an output file", "remove the manifest", "change a setting", "a scheduled article comes due", "turn the clock back",
    "an article written just before the last build",
])
def test_any_change_to_the_inputs_means_a_real_build(change, settings, tmp_path, tree, loads):
    build(settings(), NOW)
    when, overrides = NOW + timedelta(minutes=5), {}
    if change == "touch an article":
        os.utime(tree / "a.txt")
    elif change == "add an article":
        write_tree(tree, {"new.txt": article_text(title="New", webUrl="https://news.example.org/n/")})
        age(tree)
    elif change == "remove an article":
        (tree / "sub" / "b.md").unlink()
    elif change == "edit an output file":
        (tmp_path / "out" / "feed.json").write_text("{}")
    elif change == "remove an output file":
        (tmp_path / "out" / "atom.xml").unlink()
    elif change == "remove the manifest":  # the list of the files mkfeeds may remove later
        (tmp_path / "out" / ".mkfeeds-manifest.json").unlink()
    elif change == "change a setting":
        overrides = {"title": "Another title"}
    elif change == "a scheduled article comes due":
        when = NOW + timedelta(days=3)
    elif change == "turn the clock back":
        when = NOW - timedelta(minutes=5)
    else:  # its mtime is too close to the last build's start to prove it unchanged since
        os.utime(tree / "a.txt")
        forget_last_build(tmp_path / "cache.sqlite")
        build(settings(), NOW)
    result = build(settings(**overrides), when)
    assert not result.up_to_date and loads[-1] == 1 and len(loads) >= 2
    assert result.published == (3 if change in ("add an article", "a scheduled article comes due")
                                else 1 if change == "remove an article" else 2)


def test_strict_still_refuses_a_build_with_rejections(settings):
    build(settings(), NOW)
    with pytest.raises(StrictFailure):
        build(settings(strict=True), NOW)
