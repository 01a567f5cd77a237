"""Discovery pages: an OPML subscription list, a browser index page, and the feeds' XSL
stylesheet. Pure functions of their arguments: no I/O (the stylesheet is package data),
no clock, so a rebuild writes byte-identical files.

OPML choices (``render_opml``):

* One ``<outline>`` per *feed* (``FeedListing``), not per file. The three files of a
  feed carry the same entries; a reader importing an outline per file subscribes to the
  same feed three times and shows every article thrice, and OPML has no way to mark
  outlines as alternates of one another. The outline points at the RSS file, the format
  every reader supports, else Atom, else JSON Feed. The other formats stay discoverable on
  ``index.html`` and through the feeds' own ``<link rel="alternate">`` tags.
* ``type="rss"`` for every outline, whatever the format: OPML 2.0 defines only that type
  for subscription lists, and readers (Feedly, Inoreader, NetNewsWire, Miniflux, Feedbin,
  FreshRSS...) take the URL from ``xmlUrl`` and detect the format by fetching it, so an
  Atom or JSON Feed URL there imports fine. No ``version`` attribute: it names an RSS
  dialect and would mislabel Atom.
* A flat list: readers turn nested outlines into folders, which is the subscriber's
  choice to make. ``text`` and ``title`` are both set (OPML 2.0 requires ``text``; some
  readers show ``title``); ``htmlUrl`` is the site; ``description`` the feed's.
* No ``dateCreated``/``dateModified``: they would make every build differ.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import timezone, tzinfo
from importlib import resources

from mkfeeds.htmlparts import (FORMAT_NAMES, INDEX_ENTRIES, discovery_tags, document, escape, files_in_order, href,
                               latest_section, lede, site_link, subscribe_box, text)
from mkfeeds.model import Entry, FeedListing
from mkfeeds.text import clean

OPML_DOCS = "https://opml.org/spec2.opml"
PAGE_LINK = ("<!-- page-link -->", "<!-- /page-link -->")  # the stylesheet's link to the feed's HTML page


def stylesheet(page_link: bool = True) -> bytes:
    """The XSL stylesheet that renders RSS and Atom feeds as pages in browsers; write it
    next to the main feed (``feed.xsl``) and point the feeds' processing instruction at it.
    With ``page_link`` its page links to the feed's own HTML page (``index.html`` beside it)."""
    data = (resources.files("mkfeeds") / "assets" / "feed.xsl").read_text("utf-8")
    if not page_link:
        start, end = data.index(PAGE_LINK[0]), data.index(PAGE_LINK[1]) + len(PAGE_LINK[1])
        data = data[:start] + data[end:]
    return data.encode("utf-8")


# ---------------------------------------------------------------------------- OPML


def render_opml(title: str, site_url: str, feeds: list[FeedListing]) -> bytes:
    """An OPML 2.0 subscription list: one outline per feed, in the order given (see the
    module docstring for why one per feed and why ``type="rss"``)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = text(title)
    ET.SubElement(head, "docs").text = OPML_DOCS
    body = ET.SubElement(root, "body")
    for listing in feeds:
        files = files_in_order(listing)
        if not files:
            continue
        name = text(listing.title)
        attributes = {"type": "rss", "text": name, "title": name, "xmlUrl": clean(files[0].url)}
        if site_url:
            attributes["htmlUrl"] = clean(site_url)
        if listing.description:
            attributes["description"] = text(listing.description)
        ET.SubElement(body, "outline", attributes)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


# ---------------------------------------------------------------------- index.html


GROUP_HEADINGS = {"main": "Main feed", "custom": "Custom feeds", "topics": "Topics",
                  "category": "Categories", "provider": "Providers"}


def _group_of(listing: FeedListing) -> tuple[str, str]:
    """The index groups feeds: the main feed, each taxonomy (by the key's first folder:
    ``topics/ai`` is in ``topics``), custom feeds. Returns an id-safe name and a heading."""
    name = listing.key.split("/", 1)[0] if listing.kind == "taxonomy" else listing.kind
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", name) or "feeds"
    return name, GROUP_HEADINGS.get(name, name.replace("-", " ").replace("_", " ").capitalize())


def _row(listing: FeedListing, main_key: str) -> str:
    title = escape(text(listing.title))
    if listing.key == main_key:
        title = f'<a href="#latest">{title}</a>'  # the main feed's page is this one
    elif listing.page:
        title = f'<a href="{href(listing.page)}">{title}</a>'
    links = "".join(
        f'<li><a href="{href(f.path)}" type="{escape(f.media_type)}">'
        f"{escape(FORMAT_NAMES.get(f.format, f.format))}</a></li>"
        for f in files_in_order(listing))
    desc = f' <span class="desc">{escape(text(listing.description))}</span>' if listing.description else ""
    one = " one" if listing.entries == 1 else ""
    return (f'<tr><th scope="row" class="feed">{title}{desc}</th>'
            f'<td><ul class="formats" aria-label="Formats of {escape(text(listing.title))}">{links}</ul></td>'
            f'<td class="n{one}">{listing.entries}</td></tr>')


def _table(labelled_by: str, rows: list[str]) -> str:
    return (f'<table aria-labelledby="{labelled_by}">\n'
            '<thead><tr><th scope="col">Feed</th><th scope="col">Formats</th>'
            '<th scope="col" class="n">Entries</th></tr></thead>\n'
            '<tbody>\n' + "\n".join(rows) + '\n</tbody>\n</table>')


def render_index(title: str, description: str, site_url: str, feeds: list[FeedListing],
                 main_key: str = "main", opml_path: str | None = "feeds.opml",
                 language: str | None = None, latest: Sequence[Entry] = (),
                 zone: tzinfo = timezone.utc) -> bytes:
    """``index.html``, the site's page and the main feed's: a subscribe box for the main
    feed, its newest entries (``latest``, at most ``INDEX_ENTRIES``), every feed with a
    link to its own page, its formats and entry count, and (collapsed, for the site
    owner) the discovery tags to paste into a site's pages. Feeds are grouped (main, then
    each taxonomy, then custom, in first-seen order) with a jump list, once there is more
    than one group.

    Links to the feed files are relative (``FeedFile.path``), so the page also works when
    previewed locally or served from another location; the discovery tags and the snippet
    use the public ``FeedFile.url``, as a reader or another site needs. ``opml_path`` is
    the OPML file's path from the output root, or None when there is none.
    Raises ValueError when no feed has ``main_key``."""
    main = next((listing for listing in feeds if listing.key == main_key), None)
    if main is None:
        raise ValueError(f"no feed with key {main_key!r} among {[f.key for f in feeds]}")
    tags = discovery_tags(main)
    name = escape(text(title))

    groups: dict[str, tuple[str, list[str]]] = {}  # group id -> (heading, rows), first-seen order
    for listing in feeds:
        group, heading = _group_of(listing)
        groups.setdefault(group, (heading, []))[1].append(_row(listing, main_key))
    if len(groups) == 1:
        (heading, rows), = groups.values()
        tables = _table("feeds", rows)
        jump = ""
    else:
        tables = "\n".join(
            f'<section aria-labelledby="feeds-{group}">\n'
            f'<h3 id="feeds-{group}">{escape(heading)} <span class="count">({len(rows)})</span></h3>\n'
            f'{_table(f"feeds-{group}", rows)}\n</section>'
            for group, (heading, rows) in groups.items())
        jump = ('<nav aria-label="Feed groups"><ul class="jump">' + "".join(
            f'<li><a href="#feeds-{group}">{escape(heading)}</a></li>' for group, (heading, _) in groups.items())
            + "</ul></nav>")

    snippet = escape("\n".join(tags))
    opml = (f'<p>Subscribe to all of them at once: import <a href="{href(opml_path)}" '
            f'type="text/x-opml">{escape(opml_path.rsplit("/", 1)[-1])}</a> (OPML) into your feed reader.</p>'
            if opml_path else "")
    owner = ("<details>\n<summary>For the site owner: the discovery tags</summary>\n"
             "<p>Paste these tags into the <code>&lt;head&gt;</code> of your site's pages, so that browsers and "
             f"feed readers find the feed ({escape(text(main.title))}) from any page:</p>\n"
             f"<pre><code>{snippet}</code></pre>\n</details>")
    feeds_section = (f'<section aria-labelledby="feeds">\n<h2 id="feeds">Feeds <span class="count">({len(feeds)})'
                     f'</span></h2>\n{jump}\n{tables}\n{opml}\n</section>')
    return document(
        language=language, title=f"{text(title)}: feeds", head=tags, skip_to="latest",
        header=[f"<h1>{name}</h1>", lede(description), site_link(site_url)],
        main=[subscribe_box(main), latest_section("latest", latest[:INDEX_ENTRIES], main.entries, language, zone),
              feeds_section, owner],
        zone=zone)
