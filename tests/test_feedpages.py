"""Every feed as a plain HTML page, no XSLT needed: what a person sees, that the pages are
valid HTML5, and how a build writes, keeps and rewrites them.

``tests/test_browser.py`` loads the same pages in headless Chromium."""

from __future__ import annotations

import dataclasses
from datetime import timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import html5lib
import lxml.html
import pytest
from conftest import NOW, article_text, write_tree
from test_pages import BASE, HOSTILE, SITE, listing_of, make_entry, make_feed

from mkfeeds import pages
from mkfeeds.build import build
from mkfeeds.config import Settings
from mkfeeds.feedpage import render_feed_page
from mkfeeds.htmlparts import INDEX_ENTRIES, PAGE_ENTRIES
from mkfeeds.model import Image

UTC = timezone.utc


def valid_html5(data: bytes) -> lxml.html.HtmlElement:
    """Parse as a browser would, failing on any HTML5 parse error; the DOM for reading."""
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(data)  # raises html5lib.html5parser.ParseError on the first error
    assert data.startswith(b"<!DOCTYPE html>\n")
    return lxml.html.document_fromstring(data)


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def topic_page(entries=None, language="en", zone=UTC, total=None, **meta) -> bytes:
    feed = make_feed(entries, folder="topics/ai/", title="Tide Times: AI", description="Entries about AI", **meta)
    listing = listing_of(feed, "topics/ai", "topics/ai/", "taxonomy")
    listing = dataclasses.replace(listing, entries=len(feed.entries) if total is None else total)
    return render_feed_page(listing, SITE, feed.entries, total=listing.entries, language=language, zone=zone,
                            depth=2)


# ------------------------------------------------------------------ a feed's page


def test_a_feed_page_shows_what_a_person_needs():
    image = Image("https://img.example.org/tide.jpg", 640, 480)
    entries = (make_entry(0, images=(image, Image("https://img.example.org/second.jpg"))), make_entry(1))
    doc = valid_html5(topic_page(entries))

    assert doc.get("lang") == "en"
    assert doc.xpath("//title")[0].text == "Tide Times: AI"
    assert [text_of(h) for h in doc.xpath("//h1")] == ["Tide Times: AI"]
    assert "Entries about AI" in text_of(doc.xpath("//header")[0])
    assert doc.xpath("//header//a[text()='All feeds']/@href") == ["../../index.html"]  # back to the site index
    assert [(link.get("type"), link.get("href")) for link in doc.xpath("//head/link[@rel='alternate']")] == [
        ("application/rss+xml", f"{BASE}topics/ai/rss.xml"), ("application/atom+xml", f"{BASE}topics/ai/atom.xml"),
        ("application/feed+json", f"{BASE}topics/ai/feed.json")]
    # The subscribe box: each URL in a field a person can select, labelled with its format.
    fields = doc.xpath("//section[@aria-labelledby='subscribe']//input")
    assert [(f.get("value"), f.get("readonly") is not None) for f in fields] == [
        (f"{BASE}topics/ai/rss.xml", True), (f"{BASE}topics/ai/atom.xml", True), (f"{BASE}topics/ai/feed.json", True)]
    assert [text_of(label) for label in doc.xpath("//section[@aria-labelledby='subscribe']//label")] == [
        "RSS", "Atom", "JSON Feed"]
    buttons = doc.xpath("//button[@data-copy]")
    assert [b.get("data-copy") for b in buttons] == [f.get("id") for f in fields]
    assert all(b.get("hidden") is not None for b in buttons)  # shown by the script only where it can copy

    articles = doc.xpath("//ol[@class='entries']/li/article")
    assert [text_of(a.xpath("h3")[0]) for a in articles] == [e.title for e in entries]
    assert [a.xpath("h3/a/@href") for a in articles] == [[e.url] for e in entries]
    first, second = articles
    assert first.xpath(".//time/@datetime") == [entries[0].published.isoformat()]
    assert first.xpath(".//time")[0].text_content() == "October 27, 2026, 7:00\u202fAM"
    assert "by Writer 0" in text_of(first.xpath(".//p[@class='meta']")[0])
    assert [(i.get("src"), i.get("width"), i.get("height"), i.get("alt")) for i in first.xpath(".//img")] == [
        ("https://img.example.org/tide.jpg", "640", "480", "")]  # the first image only, as a thumbnail
    assert not second.xpath(".//img")
    assert text_of(first.xpath(".//p[@class='summary']")[0]) == entries[0].summary
    assert "Body of entry" not in text_of(doc)  # the content stays in the feed
    assert not doc.xpath("//*[@class='more']")  # every entry is shown


def test_dates_are_written_in_the_feeds_language_and_time_zone():
    entry = make_entry(0)  # 2026-10-27 07:00 UTC
    paris = valid_html5(topic_page((entry,), language="fr", zone=ZoneInfo("Europe/Paris")))
    assert paris.xpath("//time")[0].text_content() == "27 octobre 2026, 08:00"
    assert paris.xpath("//time/@datetime") == [entry.published.isoformat()]  # the instant, exactly
    assert "Europe/Paris" in text_of(paris.xpath("//footer")[0])
    assert paris.get("lang") == "fr"
    german = valid_html5(topic_page((entry,), language="de-DE"))
    assert german.xpath("//time")[0].text_content() == "27. Oktober 2026, 07:00"
    # A language tag no calendar knows is still a page, dated in English.
    unknown = valid_html5(topic_page((entry,), language="zz"))
    assert unknown.xpath("//time")[0].text_content() == "October 27, 2026, 7:00\u202fAM"


def test_a_long_feed_shows_its_newest_entries_and_says_how_many_it_holds():
    entries = tuple(make_entry(n) for n in range(PAGE_ENTRIES + 5))
    doc = valid_html5(topic_page(entries, total=1000))
    assert len(doc.xpath("//ol[@class='entries']/li")) == PAGE_ENTRIES
    assert text_of(doc.xpath("//*[@class='more']")[0]) == (
        f"The newest {PAGE_ENTRIES} of the feed's 1000 entries; your feed reader shows them all.")


def test_an_empty_feed_has_a_page_that_says_so():
    doc = valid_html5(topic_page(()))
    assert not doc.xpath("//ol")
    assert text_of(doc.xpath("//*[@class='more']")[0]) == "No entries yet."


def test_a_feed_page_shows_hostile_text_as_text_and_runs_only_its_own_script():
    entries = (make_entry(0, title=f"{HOSTILE} & co", summary=f"{HOSTILE} <img src=x onerror=alert(2)>",
                          author=dataclasses.replace(make_entry(0).author, name=HOSTILE)),)
    data = topic_page(entries)
    doc = valid_html5(data)
    assert len(doc.xpath("//script")) == 1 and "alert" not in doc.xpath("//script")[0].text
    assert not doc.xpath("//iframe | //img[@src='x']")
    assert not [a for el in doc.iter() for a in el.attrib if a.lower().startswith("on")]
    assert text_of(doc.xpath("//article/h3")[0]) == f"{HOSTILE} & co"
    assert f"by {HOSTILE}" in text_of(doc.xpath("//article")[0])


def test_a_feed_page_is_the_same_bytes_for_the_same_input():
    assert topic_page() == topic_page()


# ------------------------------------------------------------ the site-wide index


def index_page(latest, feeds=None) -> lxml.html.HtmlElement:
    main = make_feed(latest)
    listings = feeds or [listing_of(main), listing_of(make_feed(folder="topics/ai/", title="AI"), "topics/ai",
                                                      "topics/ai/", "taxonomy")]
    return valid_html5(pages.render_index("Tide Times", "News", SITE, listings, latest=latest))


def test_the_index_shows_the_main_feeds_newest_entries_and_links_every_feeds_page():
    latest = tuple(make_entry(n) for n in range(INDEX_ENTRIES + 3))
    doc = index_page(latest)
    titles = [text_of(h) for h in doc.xpath("//section[@aria-labelledby='latest']//article/h3")]
    assert titles == [e.title for e in latest[:INDEX_ENTRIES]]
    assert f"The newest {INDEX_ENTRIES} of the feed's {len(latest)} entries" in text_of(doc)
    assert doc.xpath("//tbody/tr/th/a/@href") == ["#latest", "topics/ai/index.html"]
    assert [f.get("value") for f in doc.xpath("//section[@aria-labelledby='subscribe']//input")] == [
        f"{BASE}rss.xml", f"{BASE}atom.xml", f"{BASE}feed.json"]


def test_the_discovery_snippet_is_for_the_site_owner_in_a_collapsed_section():
    doc = index_page(())
    snippet = doc.xpath("//details[not(@open)]//pre/code")
    assert len(snippet) == 1 and snippet[0].text_content().count('<link rel="alternate"') == 3
    assert "For the site owner" in text_of(doc.xpath("//details/summary")[0])


# ----------------------------------------------------------------- the stylesheet


def test_the_xsl_view_links_to_the_html_page_unless_there_are_no_pages():
    from test_pages import transform

    from lxml import etree

    from mkfeeds.render import render_rss

    feed = render_rss(make_feed(folder="topics/ai/"))
    assert "index.html" in transform(feed).xpath("//header//a/@href")
    without = etree.XSLT(etree.fromstring(pages.stylesheet(page_link=False)))
    page = lxml.html.document_fromstring(str(without(etree.fromstring(feed))))
    assert page.xpath("//header//a/@href") == [SITE]


# ---------------------------------------------------------------------- in a build


def corpus(root: Path, count: int = 4) -> Path:
    return write_tree(root / "in", {f"{i:02}.md": article_text(
        f"Body {i}.", title=f"Story {i}", webUrl=f"https://news.example.org/{i}/",
        publishedDateTime=f"2026-03-{1 + i:02}T10:00:00Z", topics=["AI"] if i % 2 else ["Space"],
        images=[{"url": f"https://img.example.org/{i}.jpg", "width": 300, "height": 200}]) for i in range(count)})


def settings_for(root: Path, **overrides) -> Settings:
    values = dict(input=root / "in", output=root / "out", base_url=BASE, site_url=SITE, cache=root / "state")
    values.update(overrides)
    return Settings(**values)


def test_a_build_writes_a_page_for_every_feed_and_keeps_it_while_the_feed_is_unchanged(tmp_path):
    corpus(tmp_path)
    settings = settings_for(tmp_path, feeds=())
    first = build(settings, NOW)
    page_files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("index.html"))
    assert page_files == ["category/news/index.html", "index.html", "provider/technologyreview-com/index.html",
                          "topics/ai/index.html", "topics/space/index.html"]
    assert set(page_files) <= set(first.files_written)
    ai = valid_html5((tmp_path / "out/topics/ai/index.html").read_bytes())
    assert [text_of(h) for h in ai.xpath("//article/h3")] == ["Story 3", "Story 1"]
    index = valid_html5((tmp_path / "out/index.html").read_bytes())
    assert [text_of(h) for h in index.xpath("//article/h3")] == ["Story 3", "Story 2", "Story 1", "Story 0"]

    # A new Space story: the Space page changes, the AI page is kept as it is.
    write_tree(tmp_path / "in", {"09.md": article_text(title="Story 9", webUrl="https://news.example.org/9/",
                                                        publishedDateTime="2026-04-01T10:00:00Z",
                                                        topics=["Space"])})
    second = build(settings, NOW)
    assert "topics/space/index.html" in second.files_written
    assert "topics/ai/index.html" in second.files_unchanged
    space = valid_html5((tmp_path / "out/topics/space/index.html").read_bytes())
    assert text_of(space.xpath("//article/h3")[0]) == "Story 9"

    # A page deleted by hand is written again, though its feed did not change.
    (tmp_path / "out/topics/ai/index.html").unlink()
    third = build(settings, NOW)
    assert "topics/ai/index.html" in third.files_written
    assert (tmp_path / "out/topics/ai/index.html").read_bytes().startswith(b"<!DOCTYPE html>")


def test_the_pages_are_the_same_bytes_from_the_state_as_from_scratch(tmp_path):
    corpus(tmp_path, 6)
    build(settings_for(tmp_path), NOW)
    (tmp_path / "in/00.md").write_text(article_text(title="Story 0, edited", webUrl="https://news.example.org/0/",
                                                    publishedDateTime="2026-03-01T10:00:00Z", topics=["Space"]))
    build(settings_for(tmp_path), NOW)
    build(settings_for(tmp_path, output=tmp_path / "fresh", cache=None), NOW)
    for name in ("index.html", "topics/space/index.html", "topics/ai/index.html"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
    assert "Story 0, edited" in (tmp_path / "out/topics/space/index.html").read_text()


def test_pages_false_writes_no_page_and_no_page_link(tmp_path):
    corpus(tmp_path)
    build(settings_for(tmp_path, pages=False), NOW)
    assert not list((tmp_path / "out").rglob("*.html"))
    assert b"index.html" not in (tmp_path / "out/feed.xsl").read_bytes()


def test_the_page_of_a_streamed_feed_shows_its_newest_entries(tmp_path, monkeypatch):
    from mkfeeds import build as build_module

    corpus(tmp_path, 9)
    monkeypatch.setattr(build_module, "STREAM_MIN", 2)  # every feed of more than two entries streams
    build(settings_for(tmp_path, limit=0, cache=None), NOW)
    doc = valid_html5((tmp_path / "out/topics/ai/index.html").read_bytes())
    assert [text_of(h) for h in doc.xpath("//article/h3")] == ["Story 7", "Story 5", "Story 3", "Story 1"]


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
def test_the_index_dates_follow_the_configured_time_zone(tmp_path, zone):
    corpus(tmp_path, 1)
    build(settings_for(tmp_path, timezone=zone, language="en"), NOW)
    doc = valid_html5((tmp_path / "out/index.html").read_bytes())
    expected = "March 1, 2026, 10:00\u202fAM" if zone == "UTC" else "March 1, 2026, 7:00\u202fPM"
    assert doc.xpath("//time")[0].text_content() == expected
