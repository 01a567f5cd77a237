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

import html
import re
import xml.etree.ElementTree as ET
from importlib import resources
from urllib.parse import quote

from mkfeeds.model import FeedFile, FeedListing
from mkfeeds.text import clean, one_line

OPML_DOCS = "https://opml.org/spec2.opml"
FORMAT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
FORMAT_ORDER = ("rss", "atom", "json")  # OPML preference and display order


def stylesheet() -> bytes:
    """The XSL stylesheet that renders RSS and Atom feeds as pages in browsers; write it
    next to the main feed (``feed.xsl``) and point the feeds' processing instruction at it."""
    return (resources.files("mkfeeds") / "assets" / "feed.xsl").read_bytes()


def _files_in_order(listing: FeedListing) -> list[FeedFile]:
    rank = {name: position for position, name in enumerate(FORMAT_ORDER)}
    return sorted(listing.files, key=lambda f: rank.get(f.format, len(rank)))


def _text(value: str) -> str:
    """One line of XML-safe text: forbidden characters removed, white space collapsed."""
    return one_line(clean(value))


# ---------------------------------------------------------------------------- OPML


def render_opml(title: str, site_url: str, feeds: list[FeedListing]) -> bytes:
    """An OPML 2.0 subscription list: one outline per feed, in the order given (see the
    module docstring for why one per feed and why ``type="rss"``)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _text(title)
    ET.SubElement(head, "docs").text = OPML_DOCS
    body = ET.SubElement(root, "body")
    for listing in feeds:
        files = _files_in_order(listing)
        if not files:
            continue
        name = _text(listing.title)
        attributes = {"type": "rss", "text": name, "title": name, "xmlUrl": clean(files[0].url)}
        if site_url:
            attributes["htmlUrl"] = clean(site_url)
        if listing.description:
            attributes["description"] = _text(listing.description)
        ET.SubElement(body, "outline", attributes)
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


# ---------------------------------------------------------------------- index.html


def _e(value: str) -> str:
    return html.escape(clean(value), quote=True)


def _href(path: str) -> str:
    """A link from index.html (at the output root) to a file ``path`` below it."""
    return _e(quote(path, safe="/"))


def discovery_tags(listing: FeedListing) -> list[str]:
    """``<link rel="alternate">`` tags for a feed's files, absolute URLs, RSS first."""
    return [
        f'<link rel="alternate" type="{_e(f.media_type)}" '
        f'title="{_e(f"{_text(listing.title)} ({FORMAT_NAMES.get(f.format, f.format)})")}" '
        f'href="{_e(f.url)}">'
        for f in _files_in_order(listing)
    ]


_CSS = """\
:root{--bg:#fff;--fg:#1b1b1f;--muted:#4f4f58;--line:#dcdce3;--accent:#0b57d0;--accent-fg:#fff;\
--panel:#f3f6fc;--code-bg:#f6f6f9;--head-bg:#102a56;--head-fg:#fff;--head-muted:#d5deee}
@media (prefers-color-scheme:dark){:root{--bg:#131316;--fg:#ececf1;--muted:#b7b7c2;--line:#34343c;\
--accent:#9cc0ff;--accent-fg:#131316;--panel:#1c2230;--code-bg:#1b1b21;--head-bg:#0c1a33;--head-fg:#fff;\
--head-muted:#c9d4ea}}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);overflow-wrap:break-word;\
font:1.0625rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,sans-serif}
.wrap{max-width:52rem;margin:0 auto;padding:0 1.25rem}
a{color:var(--accent);text-underline-offset:.15em}
a:hover{text-decoration-thickness:2px}
a:focus-visible{outline:3px solid currentColor;outline-offset:3px;border-radius:2px}
.skip{position:absolute;left:.5rem;top:-3rem;padding:.5rem .75rem;background:var(--accent);color:var(--accent-fg);z-index:1}
.skip:focus{top:.5rem}
header{background:var(--head-bg);color:var(--head-fg);padding:2rem 0 1.75rem}
header a{color:var(--head-fg)}
h1{margin:0 0 .5rem;font-size:clamp(1.6rem,5vw,2.25rem);line-height:1.2}
.lede{margin:0 0 .75rem;color:var(--head-muted)}
header p:last-child{margin-bottom:0}
main{padding-top:1.5rem;padding-bottom:1rem}
section{margin:0 0 2.25rem}
h2{font-size:1.25rem;line-height:1.3;margin:0 0 .5rem}
h3{font-size:1.0625rem;line-height:1.3;margin:1.75rem 0 .25rem}
section section{margin:0}
.jump{list-style:none;margin:0 0 .5rem;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.about{background:var(--panel);border-left:4px solid var(--accent);border-radius:4px;padding:1rem 1.25rem}
.about p{margin:.5rem 0}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:.7rem .75rem .7rem 0;border-bottom:1px solid var(--line)}
thead th{font-size:.875rem;color:var(--muted);font-weight:600;border-bottom-width:2px}
td.n,th.n{text-align:right;padding-right:0;white-space:nowrap}
.feed{font-weight:600}
.desc{display:block;color:var(--muted);font-size:.9375rem;font-weight:normal}
.formats{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem .9rem;white-space:nowrap}
.count{color:var(--muted);font-weight:normal}
.site{font-weight:600}
pre{margin:.5rem 0 0;padding:.75rem 1rem;background:var(--code-bg);border:1px solid var(--line);border-radius:4px;\
white-space:pre-wrap;overflow-wrap:anywhere;font:.875rem/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
footer{color:var(--muted);font-size:.9375rem;padding-bottom:2rem}
@media (min-width:36.01rem){.formats{flex-wrap:nowrap}}
@media (max-width:36rem){thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}\
tr{display:block;border-bottom:1px solid var(--line);padding:.6rem 0}\
th,td{display:block;border:0;padding:.15rem 0}td.n{text-align:left}td.n::after{content:" entries"}\
td.n.one::after{content:" entry"}}
"""


GROUP_HEADINGS = {"main": "Main feed", "custom": "Custom feeds", "topics": "Topics",
                  "category": "Categories", "provider": "Providers"}


def _group_of(listing: FeedListing) -> tuple[str, str]:
    """The index groups feeds: the main feed, each taxonomy (by the key's first folder:
    ``topics/ai`` is in ``topics``), custom feeds. Returns an id-safe name and a heading."""
    name = listing.key.split("/", 1)[0] if listing.kind == "taxonomy" else listing.kind
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", name) or "feeds"
    return name, GROUP_HEADINGS.get(name, name.replace("-", " ").replace("_", " ").capitalize())


def _row(listing: FeedListing) -> str:
    title = _e(_text(listing.title))
    links = "".join(
        f'<li><a href="{_href(f.path)}" type="{_e(f.media_type)}">'
        f"{_e(FORMAT_NAMES.get(f.format, f.format))}</a></li>"
        for f in _files_in_order(listing))
    desc = f' <span class="desc">{_e(_text(listing.description))}</span>' if listing.description else ""
    one = " one" if listing.entries == 1 else ""
    return (f'<tr><th scope="row" class="feed">{title}{desc}</th>'
            f'<td><ul class="formats" aria-label="Formats of {title}">{links}</ul></td>'
            f'<td class="n{one}">{listing.entries}</td></tr>')


def _table(labelled_by: str, rows: list[str]) -> str:
    return (f'<table aria-labelledby="{labelled_by}">\n'
            '<thead><tr><th scope="col">Feed</th><th scope="col">Formats</th>'
            '<th scope="col" class="n">Entries</th></tr></thead>\n'
            '<tbody>\n' + "\n".join(rows) + '\n</tbody>\n</table>')


def render_index(title: str, description: str, site_url: str, feeds: list[FeedListing],
                 main_key: str = "main", opml_path: str | None = "feeds.opml",
                 language: str | None = None) -> bytes:
    """``index.html``: every feed with its formats and entry count, discovery tags for the
    main feed in ``<head>``, and those tags as a snippet to paste into a site's pages.
    Feeds are grouped (main, then each taxonomy, then custom, in first-seen order) with a
    jump list, once there is more than one group.

    Links to the feed files are relative (``FeedFile.path``), so the page also works when
    previewed locally or served from another location; the discovery tags and the snippet
    use the public ``FeedFile.url``, as a reader or another site needs. ``opml_path`` is
    the OPML file's path from the output root, or None when there is none.
    Raises ValueError when no feed has ``main_key``."""
    main = next((listing for listing in feeds if listing.key == main_key), None)
    if main is None:
        raise ValueError(f"no feed with key {main_key!r} among {[f.key for f in feeds]}")
    tags = discovery_tags(main)
    name = _e(_text(title))

    groups: dict[str, tuple[str, list[str]]] = {}  # group id -> (heading, rows), first-seen order
    for listing in feeds:
        group, heading = _group_of(listing)
        groups.setdefault(group, (heading, []))[1].append(_row(listing))
    if len(groups) == 1:
        (heading, rows), = groups.values()
        tables = _table("feeds", rows)
        jump = ""
    else:
        tables = "\n".join(
            f'<section aria-labelledby="feeds-{group}">\n'
            f'<h3 id="feeds-{group}">{_e(heading)} <span class="count">({len(rows)})</span></h3>\n'
            f'{_table(f"feeds-{group}", rows)}\n</section>'
            for group, (heading, rows) in groups.items())
        jump = ('<nav aria-label="Feed groups"><ul class="jump">' + "".join(
            f'<li><a href="#feeds-{group}">{_e(heading)}</a></li>' for group, (heading, _) in groups.items())
            + "</ul></nav>")

    snippet = html.escape("\n".join(tags), quote=False)
    opml = (f'<p>Subscribe to all of them at once: import <a href="{_href(opml_path)}" '
            f'type="text/x-opml">{_e(opml_path.rsplit("/", 1)[-1])}</a> (OPML) into your feed reader.</p>'
            if opml_path else "")
    site = (f'<p><a class="site" href="{_e(site_url)}">Visit the website<span aria-hidden="true"> →</span></a></p>'
            if site_url else "")
    lede = f'<p class="lede">{_e(_text(description))}</p>' if description else ""
    total = len(feeds)

    page = f"""<!DOCTYPE html>
<html lang="{_e(language or "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{name}: feeds</title>
{chr(10).join(tags)}
<style>
{_CSS}</style>
</head>
<body>
<a class="skip" href="#feeds">Skip to the feeds</a>
<header>
<div class="wrap">
<h1>{name}</h1>
{lede}
{site}
</div>
</header>
<main class="wrap">
<section class="about" aria-labelledby="about">
<h2 id="about">Follow with a feed reader</h2>
<p>A web feed delivers new articles to your feed reader app as soon as they are published: no account, no algorithm, no inbox.
To subscribe, copy a feed's link (RSS works everywhere) and paste it into your reader.</p>
{opml}
</section>
<section aria-labelledby="feeds">
<h2 id="feeds">Feeds <span class="count">({total})</span></h2>
{jump}
{tables}
</section>
<section aria-labelledby="snippet">
<h2 id="snippet">Add the feed to your site</h2>
<p>Paste these tags into the <code>&lt;head&gt;</code> of your site's pages, so that browsers and feed readers find the feed ({_e(_text(main.title))}) from any page:</p>
<pre><code>{snippet}</code></pre>
</section>
</main>
<footer class="wrap">
<p>Published with mkfeeds.</p>
</footer>
</body>
</html>
"""
    return page.encode("utf-8")
