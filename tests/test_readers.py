"""Round trips through a real reader: feedparser must read back, from RSS and from
Atom, exactly the entries the model holds; the JSON Feed must conform to 1.1."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from mkfeeds.build import plan

from conftest import NOW
from feedcheck import check_jsonfeed

SEEDS = Path(__file__).parent.parent / "seeds"


@pytest.fixture(scope="module")
def seeds_plan(tmp_path_factory):
    from mkfeeds.config import Settings
    settings = Settings(input=SEEDS, output=tmp_path_factory.mktemp("out"), base_url="https://feeds.example.org/",
                        site_url="https://news.example.org/", title="Seeds", language="en", cache=None, jobs=1)
    return plan(settings, NOW)


def _parsed(seeds_plan, name):
    parsed = feedparser.parse(seeds_plan.files[name])
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_feedparser_reads_back_every_entry_in_order(seeds_plan, name):
    entries = seeds_plan.feeds["main"].entries
    parsed = _parsed(seeds_plan, name)
    assert [e.id for e in parsed.entries] == [e.id for e in entries]
    assert [e.title for e in parsed.entries] == [e.title for e in entries]
    assert [e.link for e in parsed.entries] == [e.url for e in entries]


@pytest.mark.parametrize("name", ["rss.xml", "atom.xml"])
def test_feedparser_reads_back_the_publication_instants(seeds_plan, name):
    entries = seeds_plan.feeds["main"].entries
    parsed = _parsed(seeds_plan, name)
    assert [tuple(e.published_parsed)[:6] for e in parsed.entries] == [
        e.published.utctimetuple()[:6] for e in entries]


def test_feedparser_reads_atom_updated_and_authors(seeds_plan):
    entries = seeds_plan.feeds["main"].entries
    parsed = _parsed(seeds_plan, "atom.xml")
    assert [tuple(e.updated_parsed)[:6] for e in parsed.entries] == [e.updated.utctimetuple()[:6] for e in entries]
    assert [e.get("author") for e in parsed.entries] == [e.author.name if e.author else None for e in entries]


def test_feedparser_sees_the_self_and_site_links(seeds_plan):
    for name, self_url in (("rss.xml", "https://feeds.example.org/rss.xml"),
                           ("atom.xml", "https://feeds.example.org/atom.xml")):
        feed = _parsed(seeds_plan, name).feed
        assert feed.link == "https://news.example.org/"
        assert any(link.get("rel") == "self" and link.get("href") == self_url for link in feed.links)


def test_feedparser_reads_the_content_and_summary(seeds_plan):
    entries = seeds_plan.feeds["main"].entries
    parsed = _parsed(seeds_plan, "atom.xml")
    for model, read in zip(entries, parsed.entries):
        assert read.summary == (model.summary or read.summary)
        if model.content_html:
            assert read.content[0].type == "text/html"


def test_three_formats_carry_the_same_entries(seeds_plan):
    document = json.loads(seeds_plan.files["feed.json"])
    rss = _parsed(seeds_plan, "rss.xml")
    atom = _parsed(seeds_plan, "atom.xml")
    json_items = [(i["id"], i["title"], i["url"]) for i in document["items"]]
    assert json_items == [(e.id, e.title, e.link) for e in rss.entries] == [(e.id, e.title, e.link) for e in atom.entries]


def test_json_feed_conforms_to_1_1(seeds_plan):
    assert check_jsonfeed(seeds_plan.files["feed.json"]) == []


def test_json_feed_dates_match_the_model(seeds_plan):
    document = json.loads(seeds_plan.files["feed.json"])
    from datetime import datetime
    for item, entry in zip(document["items"], seeds_plan.feeds["main"].entries):
        assert datetime.fromisoformat(item["date_published"]) == entry.published
        assert datetime.fromisoformat(item["date_modified"]) == entry.updated
