"""An article's own author (``author``, optionally ``author-url``) is the entry's author in
all three formats; without it the provider is, as before; the config ``author`` is the
feed's; with both, the provider still makes the provider feeds."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from lxml import etree

from mkfeeds.cli import cli

from conftest import article_text, write_tree
from feedcheck import check_atom, check_jsonfeed, check_rss

ATOM = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"


@pytest.fixture
def built(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {
        "mkfeeds.toml": 'base-url = "https://feeds.example.org/"\nauthor = "The Desk"\n',
        "seeds/a.txt": article_text(title="By Jane", webUrl="https://n.example/a", author="Jane Doe",
                                    **{"author-url": "https://n.example/jane/"}, publishedDateTime="2026-01-02T00:00:00Z"),
        "seeds/b.txt": article_text(title="By the provider", webUrl="https://n.example/b",
                                    publishedDateTime="2026-01-01T00:00:00Z"),
    })
    result = CliRunner().invoke(cli, ["build"], catch_exceptions=False)
    assert result.exit_code == 0 and result.stderr == "", result.output
    return tmp_path / "out"


def test_the_article_author_is_the_entry_author_in_every_format(built):
    rss, atom = etree.parse(str(built / "rss.xml")), etree.parse(str(built / "atom.xml"))
    assert [i.findtext(f"{DC}creator") for i in rss.iter("item")] == ["Jane Doe", "MIT Technology Review"]
    assert [(e.findtext(f"{ATOM}author/{ATOM}name"), e.findtext(f"{ATOM}author/{ATOM}uri"))
            for e in atom.iter(f"{ATOM}entry")] == [("Jane Doe", "https://n.example/jane/"),
                                                    ("MIT Technology Review", "https://technologyreview.com/")]
    items = json.loads((built / "feed.json").read_text())["items"]
    assert [item["authors"] for item in items] == [
        [{"name": "Jane Doe", "url": "https://n.example/jane/"}],
        [{"name": "MIT Technology Review", "url": "https://technologyreview.com/"}]]
    assert check_rss((built / "rss.xml").read_bytes()) == []
    assert check_atom((built / "atom.xml").read_bytes()) == []
    assert check_jsonfeed((built / "feed.json").read_bytes()) == []


def test_the_config_author_stays_the_feeds(built):
    atom = etree.parse(str(built / "atom.xml"))
    assert atom.getroot().findtext(f"{ATOM}author/{ATOM}name") == "The Desk"
    assert json.loads((built / "feed.json").read_text())["authors"] == [{"name": "The Desk"}]


def test_with_both_the_provider_still_makes_the_provider_feed(built):
    items = json.loads((built / "provider/technologyreview-com/feed.json").read_text())["items"]
    assert [item["title"] for item in items] == ["By Jane", "By the provider"]
    assert json.loads((built / "provider/technologyreview-com/feed.json").read_text())["title"].endswith(
        ": MIT Technology Review")


def test_an_author_url_without_an_author_is_left_out_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"seeds/a.txt": article_text(title="A", webUrl="https://n.example/a",
                                                      **{"author-url": "https://n.example/jane/"})})
    result = CliRunner().invoke(cli, ["check"], catch_exceptions=False)
    assert "seeds/a.txt:" in result.stdout and "warning: author-url: is given without an author; left out" in result.stdout
