"""Ids that never change: an article's own ``id`` is its entry's id in every format; a
bad one rejects the article with its file, line and field; a published article whose id
changes since the last build draws a warning that says how to keep the old one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import feedparser
import pytest
from conftest import NOW, article_text, write_tree
from feedcheck import check_atom, check_jsonfeed, check_rss
from lxml import etree

from mkfeeds.build import build

LINK = "https://news.example.org/2024/03/04/llms/"


def backdate(root: Path, seconds: int = 120) -> None:
    """As if the files had been written a while before the build (their stat is trusted)."""
    for path in root.rglob("*"):
        if path.is_file():
            stamp = path.stat().st_mtime_ns - seconds * 10**9
            os.utime(path, ns=(stamp, stamp))


def guid(out: Path) -> etree._Element:
    return etree.fromstring((out / "rss.xml").read_bytes()).find("channel/item/guid")


def ids_in_every_format(out: Path) -> dict[str, str]:
    rss = feedparser.parse((out / "rss.xml").read_bytes()).entries[0].id
    atom = feedparser.parse((out / "atom.xml").read_bytes()).entries[0].id
    jsonfeed = json.loads((out / "feed.json").read_bytes())["items"][0]["id"]
    return {"rss": rss, "atom": atom, "json": jsonfeed}


@pytest.mark.parametrize("given", [
    "tag:news.example.org,2024-03-04:llms",
    "tag:desk@example.org,2024:stories/llms#1",
    "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "urn:isbn:0451450523",
    "https://news.example.org/ids/llms",
])
def test_an_articles_own_id_is_its_entry_id_in_every_format_and_valid(tmp_path, make_settings, given):
    write_tree(tmp_path / "in", {"a.txt": article_text(id=given, webUrl=LINK, originalUrl=LINK)})
    result = build(make_settings(), NOW)
    out = tmp_path / "out"
    assert result.problems == [] and result.entries == 1
    assert ids_in_every_format(out) == {"rss": given, "atom": given, "json": given}
    assert guid(out).get("isPermaLink") == "false"  # an id, not the link
    assert feedparser.parse((out / "rss.xml").read_bytes()).entries[0].link == LINK
    assert json.loads((out / "feed.json").read_bytes())["items"][0]["url"] == LINK
    assert check_rss((out / "rss.xml").read_bytes(), now=NOW) == []
    assert check_atom((out / "atom.xml").read_bytes(), now=NOW) == []
    assert check_jsonfeed((out / "feed.json").read_bytes()) == []


def test_without_an_id_the_link_stays_the_id_and_a_permalink(tmp_path, make_settings):
    write_tree(tmp_path / "in", {"a.txt": article_text(webUrl=LINK, originalUrl=LINK)})
    build(make_settings(), NOW)
    assert ids_in_every_format(tmp_path / "out") == {"rss": LINK, "atom": LINK, "json": LINK}
    assert guid(tmp_path / "out").get("isPermaLink") == "true"


def test_an_id_equal_to_the_link_is_a_permalink(tmp_path, make_settings):
    write_tree(tmp_path / "in", {"a.txt": article_text(id=LINK, webUrl=LINK, originalUrl=LINK)})
    build(make_settings(), NOW)
    assert guid(tmp_path / "out").get("isPermaLink") == "true"


@pytest.mark.parametrize("given", [
    "llms-2024",  # no scheme
    "/2024/llms",  # relative
    "mailto:desk@example.org",  # another scheme
    "HTTPS://News.Example.org/x",  # not canonical: would not compare equal to its canonical form
    "https://news.example.org/a b",
    "tag:News.Example.org,2024:x",  # tagging entity not in lower case
    "tag:example.org:x",  # no date
    "tag:example.org,2024-13:x",  # no such month
    "urn:x:y",  # a one-letter namespace
    "urn:uuid:not-a-uuid",
    "URN:isbn:0451450523",
    12345,
    "",
])
def test_an_invalid_id_rejects_the_article_naming_file_line_and_field(tmp_path, make_settings, given):
    write_tree(tmp_path / "in", {"bad.txt": article_text(id=given), "good.txt": article_text(
        webUrl="https://news.example.org/good/")})
    result = build(make_settings(), NOW)
    [problem] = result.problems
    assert (problem.severity, problem.path, problem.field) == ("error", "bad.txt", "id")
    lines = (tmp_path / "in" / "bad.txt").read_text().splitlines()
    assert lines[problem.line - 1].startswith("id:")
    assert result.entries == 1 and result.rejected == 1
    if isinstance(given, str) and len(given) > 3:
        assert given not in problem.message  # messages never quote input


def test_two_articles_with_the_same_own_id_the_second_is_rejected(tmp_path, make_settings):
    same = "tag:news.example.org,2024:llms"
    write_tree(tmp_path / "in", {"a.txt": article_text(id=same, webUrl="https://news.example.org/a"),
                                 "b.txt": article_text(id=same, webUrl="https://news.example.org/b")})
    result = build(make_settings(), NOW)
    [problem] = [str(p) for p in result.problems]
    assert problem.startswith("b.txt: error: id: has the same id as ")
    assert problem.endswith("a.txt, which is published instead")
    assert result.entries == 1


def changed_link_warnings(result) -> list[str]:
    return [str(p) for p in result.problems if p.field == "id"]


def test_a_changed_id_warns_naming_the_file_both_ids_and_the_fix(tmp_path, make_settings):
    old, new = "http://news.example.org/llms/", "https://news.example.org/llms/"
    write_tree(tmp_path / "in", {"a.txt": article_text(webUrl=old, originalUrl=old),
                                 "b.txt": article_text(webUrl="https://news.example.org/b")})
    backdate(tmp_path / "in")
    settings = make_settings(cache=tmp_path / "state")
    assert changed_link_warnings(build(settings, NOW)) == []
    write_tree(tmp_path / "in", {"a.txt": article_text(webUrl=new, originalUrl=new)})
    backdate(tmp_path / "in")
    result = build(settings, NOW)
    assert changed_link_warnings(result) == [
        f"a.txt: warning: id: its id changed from {old} to {new} since the last build, so readers will show "
        f"it again as new; to keep the old id, add `id: {old}` to its front matter"]
    assert result.entries == 2  # published all the same

    # Doing as the warning says keeps the old id, and nothing is told any more.
    write_tree(tmp_path / "in", {"a.txt": article_text(id=old, webUrl=new, originalUrl=new)})
    backdate(tmp_path / "in")
    settled = build(settings, NOW)
    assert settled.problems == []
    atom = feedparser.parse((tmp_path / "out" / "atom.xml").read_bytes())
    assert sorted(entry.id for entry in atom.entries) == [old, "https://news.example.org/b"]


def test_an_edit_that_keeps_the_id_does_not_warn(tmp_path, make_settings):
    write_tree(tmp_path / "in", {"a.txt": article_text(webUrl=LINK, originalUrl=LINK)})
    backdate(tmp_path / "in")
    settings = make_settings(cache=tmp_path / "state")
    build(settings, NOW)
    write_tree(tmp_path / "in", {"a.txt": article_text(title="Edited title", webUrl=LINK, originalUrl=LINK)})
    backdate(tmp_path / "in")
    assert build(settings, NOW).problems == []


def test_a_draft_that_gets_a_new_link_before_it_publishes_does_not_warn(tmp_path, make_settings):
    write_tree(tmp_path / "in", {"a.txt": article_text(published=False, webUrl="https://news.example.org/d")})
    backdate(tmp_path / "in")
    settings = make_settings(cache=tmp_path / "state")
    build(settings, NOW)
    write_tree(tmp_path / "in", {"a.txt": article_text(webUrl=LINK, originalUrl=LINK)})
    backdate(tmp_path / "in")
    assert build(settings, NOW).problems == []


def test_without_the_state_only_the_warning_is_lost(tmp_path, make_settings):
    old, new = "http://news.example.org/llms/", "https://news.example.org/llms/"
    write_tree(tmp_path / "in", {"a.txt": article_text(webUrl=old, originalUrl=old)})
    backdate(tmp_path / "in")
    build(make_settings(cache=tmp_path / "state"), NOW)
    write_tree(tmp_path / "in", {"a.txt": article_text(webUrl=new, originalUrl=new)})
    backdate(tmp_path / "in")
    result = build(make_settings(cache=tmp_path / "another-state"), NOW)
    assert result.problems == [] and result.entries == 1
    assert ids_in_every_format(tmp_path / "out")["json"] == new


def test_changing_the_articles_own_id_is_taken_as_meant(tmp_path, make_settings):
    write_tree(tmp_path / "in", {"a.txt": article_text(id="urn:isbn:0451450523")})
    backdate(tmp_path / "in")
    settings = make_settings(cache=tmp_path / "state")
    build(settings, NOW)
    write_tree(tmp_path / "in", {"a.txt": article_text(id="urn:isbn:0451450524")})
    backdate(tmp_path / "in")
    assert build(settings, NOW).problems == []
