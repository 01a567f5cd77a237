"""Discovery pages: the OPML list, index.html, and the feeds' XSL browser view.

The stylesheet is exercised for real: feeds rendered by mkfeeds' own renderers are
transformed with lxml's XSLT (libxslt, the engine Chromium embeds), and the result is
parsed as HTML and read the way a person would read it: its text, its links.
``tests/test_browser.py`` does the same in headless Chromium.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import lxml.html
import pytest
from lxml import etree

from mkfeeds import pages
from mkfeeds.feedpage import render_feed_page
from mkfeeds.htmlparts import COPY_SCRIPT
from mkfeeds.model import Author, Entry, Feed, FeedFile, FeedListing, FeedMeta
from mkfeeds.render import render_atom, render_json, render_rss

HOSTILE = "<script>alert(1)</script>"
COPY_SCRIPT_TEXT = COPY_SCRIPT.removeprefix("<script>").removesuffix("</script>")
BASE = "https://feeds.example.org/"
SITE = "https://news.example.org/"
T0 = datetime(2026, 10, 27, 7, 0, tzinfo=timezone.utc)


# ------------------------------------------------------------------------- builders


def make_entry(n: int, **overrides) -> Entry:
    published = T0 - timedelta(days=n)
    values = dict(
        id=f"{SITE}articles/{n}", url=f"{SITE}articles/{n}", title=f"Entry number {n} about tides",
        published=published, updated=published + timedelta(hours=2), source=f"{n:03}.md",
        summary=f"Summary {n}: what the tide tables say.", author=Author(f"Writer {n}"),
        content_html=f"<p>Body of entry {n}.</p>")
    values.update(overrides)
    return Entry(**values)


def make_feed(entries: tuple[Entry, ...] | None = None, folder: str = "", **meta) -> Feed:
    meta_values = dict(title="Tide Times", description="News about the sea, twice a day",
                       site_url=SITE, author=Author("Tide Desk"), language="en")
    meta_values.update(meta)
    return Feed(
        meta=FeedMeta(**meta_values),
        rss_url=f"{BASE}{folder}rss.xml", atom_url=f"{BASE}{folder}atom.xml",
        json_url=f"{BASE}{folder}feed.json",
        updated=T0, entries=tuple(make_entry(n) for n in range(3)) if entries is None else entries,
        stylesheet="../" * folder.count("/") + "feed.xsl")


def hostile_feed() -> Feed:
    return make_feed((
        make_entry(0, id=f"{SITE}hostile", url=f"{SITE}hostile", title=f"{HOSTILE} & friends", summary=f"{HOSTILE} <img src=x onerror=alert(2)> 5 < 6",
                   author=Author(HOSTILE)),
        make_entry(1, url="javascript:alert(3)", id=f"{SITE}js"),
    ), title=f"Tides {HOSTILE}", description=f"Desc {HOSTILE}")


def files_of(folder: str, formats=("rss", "atom", "json")) -> tuple[FeedFile, ...]:
    names = {"rss": ("rss.xml", "application/rss+xml"), "atom": ("atom.xml", "application/atom+xml"),
             "json": ("feed.json", "application/feed+json")}
    return tuple(FeedFile(f, folder + names[f][0], BASE + folder + names[f][0], names[f][1])
                 for f in formats)


def listing_of(feed: Feed, key: str = "main", folder: str = "", kind: str = "main") -> FeedListing:
    return FeedListing(key, kind, feed.meta.title, feed.meta.description, len(feed.entries),
                       files_of(folder), page=folder + "index.html")


def write_site(root: Path) -> dict[str, object]:
    """A built output folder as mkfeeds will write it: the main feed (with a hostile
    entry) and a nested taxonomy feed in three formats each, feed.xsl, index.html and
    feeds.opml. Returns the models, for assertions."""
    main = make_feed(make_feed().entries + hostile_feed().entries[:1])
    topic = make_feed(make_feed().entries[:2], folder="topics/ai/", title="Tide Times: AI",
                      description="Entries about AI")
    listings = [listing_of(main), listing_of(topic, "topics/ai", "topics/ai/", "taxonomy")]
    for feed, listing in ((main, listings[0]), (topic, listings[1])):
        rendered = {"rss": render_rss(feed), "atom": render_atom(feed), "json": render_json(feed)}
        for file in listing.files:
            path = root / file.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(rendered[file.format])
    (root / "feed.xsl").write_bytes(pages.stylesheet())
    (root / "index.html").write_bytes(
        pages.render_index(main.meta.title, main.meta.description, SITE, listings, latest=main.entries))
    (root / "topics/ai/index.html").write_bytes(render_feed_page(
        listings[1], SITE, topic.entries, total=len(topic.entries), language="en", zone=timezone.utc, depth=2))
    (root / "feeds.opml").write_bytes(pages.render_opml(main.meta.title, SITE, listings))
    return {"main": main, "topic": topic, "listings": listings}


# ---------------------------------------------------------------------------- OPML


def test_opml_lists_one_subscription_per_feed_pointing_at_rss():
    main, topic = make_feed(), make_feed(folder="topics/ai/", title="AI", description="About AI")
    atom_only = FeedListing("custom/atom", "custom", "Atom only", "", 4, files_of("custom/atom/", ("json", "atom")))
    feeds = [listing_of(main), listing_of(topic, "topics/ai", "topics/ai/", "taxonomy"), atom_only]
    data = pages.render_opml("Tide Times", SITE, feeds)

    root = etree.fromstring(data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Tide Times"
    assert root.find("head/dateCreated") is None and root.find("head/dateModified") is None
    outlines = root.findall("body/outline")
    assert [(o.get("type"), o.get("text"), o.get("title"), o.get("xmlUrl"), o.get("htmlUrl")) for o in outlines] == [
        ("rss", "Tide Times", "Tide Times", f"{BASE}rss.xml", SITE),
        ("rss", "AI", "AI", f"{BASE}topics/ai/rss.xml", SITE),
        ("rss", "Atom only", "Atom only", f"{BASE}custom/atom/atom.xml", SITE),  # Atom before JSON Feed
    ]
    assert outlines[1].get("description") == "About AI"
    assert outlines[2].get("description") is None
    assert not root.findall("body/outline/outline")  # flat: no folders imposed on readers


def test_opml_escapes_titles_and_is_deterministic():
    feed = make_feed(title=f'{HOSTILE} & "quotes"\x00\x07', description="a\nb")
    listing = listing_of(feed)
    data = pages.render_opml(f"Site {HOSTILE} &", SITE, [listing])
    assert data == pages.render_opml(f"Site {HOSTILE} &", SITE, [listing])
    assert b"<script" not in data and b"\x00" not in data
    root = etree.fromstring(data)  # well-formed despite the control characters
    assert root.findtext("head/title") == f"Site {HOSTILE} &"
    assert root.find("body/outline").get("text") == f'{HOSTILE} & "quotes"'
    assert root.find("body/outline").get("description") == "a b"


def test_opml_with_no_feeds_is_still_a_valid_document():
    root = etree.fromstring(pages.render_opml("Empty", SITE, []))
    assert root.find("body") is not None and not root.findall("body/outline")


# ---------------------------------------------------------------------- index.html


def parse_html(data: bytes) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(data)


def visible_text(doc: lxml.html.HtmlElement) -> str:
    body = doc.find("body")
    return " ".join(body.text_content().split())


def test_index_head_carries_discovery_links_for_the_main_feed_only():
    main, topic = make_feed(), make_feed(folder="topics/ai/", title="AI")
    listings = [listing_of(topic, "topics/ai", "topics/ai/", "taxonomy"), listing_of(main)]  # main not first
    doc = parse_html(pages.render_index("Tide Times", "News about the sea", SITE, listings))

    alternates = [(link.get("type"), link.get("title"), link.get("href"))
                  for link in doc.xpath("/html/head/link[@rel='alternate']")]
    assert alternates == [
        ("application/rss+xml", "Tide Times (RSS)", f"{BASE}rss.xml"),
        ("application/atom+xml", "Tide Times (Atom)", f"{BASE}atom.xml"),
        ("application/feed+json", "Tide Times (JSON Feed)", f"{BASE}feed.json"),
    ]
    assert doc.get("lang") == "en"
    assert doc.xpath("/html/head/meta[@name='viewport']")
    assert doc.xpath("/html/head/title")[0].text_content() == "Tide Times: feeds"
    assert [h.text_content() for h in doc.xpath("//h1")] == ["Tide Times"]
    assert doc.xpath("//main") and doc.xpath("//header") and doc.xpath("//footer")


def test_index_lists_every_feed_with_formats_and_entry_counts():
    main = make_feed()
    topic = make_feed(make_feed().entries[:1], folder="topics/ai/", title="AI", description="About AI")
    listings = [listing_of(main), listing_of(topic, "topics/ai", "topics/ai/", "taxonomy")]
    doc = parse_html(pages.render_index("Tide Times", "News", SITE, listings))

    rows = doc.xpath("//table//tbody/tr")
    assert len(rows) == 2
    seen = []
    for row in rows:
        heading = row.xpath("th")[0]
        links = [(a.text_content(), a.get("href"), a.get("type")) for a in row.xpath("td//a")]
        seen.append((heading.text_content(), links, row.xpath("td")[-1].text_content()))
    # Each feed's title links to its page; the main feed's page is this one.
    assert [row.xpath("th/a/@href") for row in rows] == [["#latest"], ["topics/ai/index.html"]]
    assert seen == [
        ("Tide Times News about the sea, twice a day",
         [("RSS", "rss.xml", "application/rss+xml"), ("Atom", "atom.xml", "application/atom+xml"),
          ("JSON Feed", "feed.json", "application/feed+json")], "3"),
        ("AI About AI",
         [("RSS", "topics/ai/rss.xml", "application/rss+xml"), ("Atom", "topics/ai/atom.xml", "application/atom+xml"),
          ("JSON Feed", "topics/ai/feed.json", "application/feed+json")], "1"),
    ]
    assert doc.xpath("//a[@href='feeds.opml']")
    no_opml = parse_html(pages.render_index("Tide Times", "News", SITE, listings, opml_path=None))
    assert not no_opml.xpath("//a[contains(@href, 'opml')]")


def test_index_groups_feeds_main_then_each_taxonomy_then_custom():
    main = make_feed()
    listings = [
        listing_of(main),
        listing_of(main, "topics/ai", "topics/ai/", "taxonomy"),
        listing_of(main, "category/news", "category/news/", "taxonomy"),
        listing_of(main, "topics/space", "topics/space/", "taxonomy"),
        listing_of(main, "custom/top", "custom/top/", "custom"),
    ]
    doc = parse_html(pages.render_index("Tide Times", "News", SITE, listings))
    groups = [(h.text_content(), len(h.getparent().xpath(".//tbody/tr"))) for h in doc.xpath("//main//h3")]
    assert groups == [("Main feed (1)", 1), ("Topics (2)", 2), ("Categories (1)", 1), ("Custom feeds (1)", 1)]
    assert doc.xpath("//nav//a/@href") == ["#feeds-main", "#feeds-topics", "#feeds-category", "#feeds-custom"]
    assert all(doc.xpath(f"//*[@id='{href[1:]}']") for href in doc.xpath("//nav//a/@href"))
    only_main = parse_html(pages.render_index("Tide Times", "News", SITE, listings[:1]))
    assert not only_main.xpath("//main//h3 | //nav")  # one feed: no groups to jump between


def test_index_snippet_is_the_head_tags_as_text():
    doc = parse_html(pages.render_index("Tide Times", "News", SITE, [listing_of(make_feed())]))
    code = doc.xpath("//pre/code")
    assert len(code) == 1
    snippet = code[0].text_content()
    assert snippet.startswith('<link rel="alternate" type="application/rss+xml"')
    assert not code[0].getchildren()  # text, not elements
    # Pasted into a page, the snippet yields exactly the page's own discovery links.
    pasted = lxml.html.document_fromstring(f"<html><head>{snippet}</head><body></body></html>")
    as_links = lambda d: [dict(link.attrib) for link in d.xpath("//head/link")]  # noqa: E731
    assert as_links(pasted) == as_links(doc)


def test_index_escapes_hostile_titles_and_runs_no_script():
    feed = hostile_feed()
    listings = [listing_of(feed), FeedListing("topics/x", "taxonomy", HOSTILE, HOSTILE, 1,
                                              files_of('topics/"x"&/'))]
    data = pages.render_index(f"Site {HOSTILE}", f"About {HOSTILE}", SITE, listings)
    doc = parse_html(data)
    assert [s.text for s in doc.xpath("//script")] == [COPY_SCRIPT_TEXT]  # ours alone
    assert not [a for el in doc.iter() for a in el.attrib if a.lower().startswith("on")]
    assert doc.xpath("//h1")[0].text_content() == f"Site {HOSTILE}"
    assert HOSTILE in visible_text(doc)
    assert doc.xpath("//head/link[@rel='alternate']")[0].get("title") == f"Tides {HOSTILE} (RSS)"
    assert doc.xpath("(//tbody/tr)[2]/td//a")[0].get("href") == "topics/%22x%22%26/rss.xml"
    snippet = doc.xpath("//pre/code")[0].text_content()
    assert 'title="Tides &lt;script&gt;alert(1)&lt;/script&gt; (RSS)"' in snippet  # escaped once more, as HTML


def test_index_is_deterministic_and_requires_the_main_feed():
    listings = [listing_of(make_feed())]
    assert pages.render_index("T", "D", SITE, listings) == pages.render_index("T", "D", SITE, listings)
    with pytest.raises(ValueError, match="main"):
        pages.render_index("T", "D", SITE, [listing_of(make_feed(), key="topics/ai")])


# ---------------------------------------------------------------- the stylesheet


def test_stylesheet_is_self_contained_xslt_1():
    data = pages.stylesheet()
    root = etree.fromstring(data)
    assert root.get("version") == "1.0"
    output = root.find("{http://www.w3.org/1999/XSL/Transform}output")
    assert output.get("method") == "html" and output.get("doctype-system") == "about:legacy-compat"
    for comment in list(root.iter(etree.Comment)):  # the rules are stated in comments
        comment.getparent().remove(comment)
    text = etree.tostring(root, encoding="unicode")
    # Never unescape feed text into markup; nothing fetched, nothing scripted.
    for forbidden in ("disable-output-escaping", "<script", "<img", "<link", "@import", "url(",
                      "xsl:import", "xsl:include", "document(", "exsl", "msxsl"):
        assert forbidden not in text, forbidden


XSLT = etree.XSLT(etree.fromstring(pages.stylesheet()))


def transform(feed_bytes: bytes) -> lxml.html.HtmlElement:
    result = XSLT(etree.fromstring(feed_bytes))
    assert not [e for e in XSLT.error_log if e.level_name == "ERROR"], XSLT.error_log
    html = str(result)
    assert html.startswith("<!DOCTYPE html")  # standards mode
    return parse_html(html.encode())


RENDERERS = {"rss": render_rss, "atom": render_atom}


@pytest.mark.parametrize("fmt", RENDERERS)
def test_feed_page_shows_what_a_person_needs(fmt):
    feed = make_feed()
    doc = transform(RENDERERS[fmt](feed))
    text = visible_text(doc)

    assert doc.get("lang") == "en"
    assert doc.xpath("//meta[@name='viewport']")
    assert doc.xpath("//title")[0].text_content() == f"Tide Times ({'RSS' if fmt == 'rss' else 'Atom'} feed)"
    assert [h.text_content() for h in doc.xpath("//h1")] == ["Tide Times"]
    assert "News about the sea, twice a day" in text
    assert "This is a web feed" in text and "copy this URL into your feed reader" in text
    self_url = feed.rss_url if fmt == "rss" else feed.atom_url
    assert doc.xpath("//section[@class='about']//code")[0].text_content() == self_url
    assert doc.xpath("//header//a")[0].get("href") == SITE
    assert doc.xpath("//header//a")[0].text_content().startswith("Visit the website")
    assert doc.xpath("//main") and doc.xpath("//header") and doc.xpath("//footer")

    articles = doc.xpath("//ol[@class='entries']/li/article")
    assert len(articles) == len(feed.entries)
    for article, entry in zip(articles, feed.entries):
        link = article.xpath("h3/a")[0]
        assert (link.text_content(), link.get("href")) == (entry.title, entry.url)
        time = article.xpath(".//time")[0]
        written = (entry.published.strftime("%a, %d %b %Y %H:%M:%S +0000") if fmt == "rss"
                   else entry.published.isoformat())
        assert time.text_content() == written  # as the feed writes it
        assert time.get("datetime") == entry.published.isoformat()
        assert f"by {entry.author.name}" in article.text_content()
        assert article.xpath(".//p[@class='summary']")[0].text_content() == entry.summary


@pytest.mark.parametrize("fmt", RENDERERS)
def test_feed_page_shows_hostile_text_as_text(fmt):
    doc = transform(RENDERERS[fmt](hostile_feed()))
    assert not doc.xpath("//script | //img | //iframe | //object")
    assert not [a for el in doc.iter() for a in el.attrib if a.lower().startswith("on")]
    assert not doc.xpath("//a[starts-with(normalize-space(@href), 'javascript:')]")
    assert doc.xpath("//h1")[0].text_content() == f"Tides {HOSTILE}"
    first, second = doc.xpath("//article")
    assert first.xpath("h3/a")[0].text_content() == f"{HOSTILE} & friends"
    assert first.xpath(".//p[@class='summary']")[0].text_content() == (
        f"{HOSTILE} <img src=x onerror=alert(2)> 5 < 6")
    assert f"by {HOSTILE}" in first.text_content()
    assert second.xpath("h3")[0].text_content() == "Entry number 1 about tides"  # shown...
    assert not second.xpath("h3/a")  # ...but its javascript: link is not


@pytest.mark.parametrize("fmt", RENDERERS)
def test_feed_page_reduces_content_html_to_a_short_plain_text(fmt):
    body = "".join(f"<p>Paragraph {i} with <em>emphasis</em> &amp; an entity.</p>\n" for i in range(40))
    feed = make_feed((make_entry(0, summary=None, content_html=body),
                      make_entry(1, summary="Line one\nLine two &amp; <b>not bold</b>")))
    first, second = transform(RENDERERS[fmt](feed)).xpath("//p[@class='summary']")
    shown = first.text_content()
    assert shown.startswith("Paragraph 0 with emphasis & an entity.\nParagraph 1")
    assert shown.endswith("…") and len(shown) <= 321
    assert "<" not in shown and "&amp;" not in shown
    assert second.text_content() == "Line one\nLine two &amp; <b>not bold</b>"  # plain text stays verbatim


@pytest.mark.parametrize("fmt", RENDERERS)
def test_feed_page_survives_pathological_summaries(fmt):
    entries = (make_entry(0, summary="&" * 5000), make_entry(1, summary="<" * 3000 + "x"),
               make_entry(2, summary="word " * 2000))
    summaries = [p.text_content() for p in transform(RENDERERS[fmt](make_feed(entries))).xpath("//p[@class='summary']")]
    assert all(len(s) <= 321 for s in summaries)
    assert summaries[2].endswith("word…")


def test_feed_page_for_an_empty_feed():
    doc = transform(render_atom(make_feed(())))
    assert "This feed has no entries yet." in visible_text(doc)
    assert "Latest entries (0)" in visible_text(doc)


def test_stylesheet_instruction_leaves_the_feeds_valid():
    feed = make_feed(folder="topics/ai/")
    for data in (render_rss(feed), render_atom(feed)):
        assert b'<?xml-stylesheet type="text/xsl" href="../../feed.xsl"?>' in data.split(b"\n", 2)[1]
        parsed = feedparser.parse(data)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert [e.title for e in parsed.entries] == [e.title for e in feed.entries]


def test_write_site_produces_a_browsable_folder(tmp_path):
    write_site(tmp_path)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert names == ["atom.xml", "feed.json", "feed.xsl", "feeds.opml", "index.html", "rss.xml",
                     "topics/ai/atom.xml", "topics/ai/feed.json", "topics/ai/index.html", "topics/ai/rss.xml"]
    nested = transform((tmp_path / "topics/ai/rss.xml").read_bytes())
    assert nested.xpath("//h1")[0].text_content() == "Tide Times: AI"


def test_no_stylesheet_no_instruction():
    assert b"xml-stylesheet" not in render_rss(dataclasses.replace(make_feed(), stylesheet=None))


def test_index_page_speaks_the_feeds_language():
    """Screen readers pick their voice from <html lang>: it follows the config's language."""
    from mkfeeds.model import FeedFile, FeedListing
    from mkfeeds.pages import render_index
    main = FeedListing("main", "main", "Nouvelles", "", 0, (
        FeedFile("rss", "rss.xml", "https://f.example/rss.xml", "application/rss+xml"),))
    assert b'<html lang="fr">' in render_index("Nouvelles", "", "https://f.example/", [main], language="fr")
