"""Pieces shared by the HTML pages (the site index and each feed's page): escaping, the
style sheet, discovery tags, the subscribe box and the list of entries. Pure functions:
no I/O, no clock, so the pages are the same bytes for the same input.

Dates are written for people, in the feed's language (Babel's CLDR data: "2 décembre
2026, 15:05" for ``fr``), in the build's time zone, with the exact instant in the
``<time datetime>`` attribute. An unknown language falls back to English rather than
failing the build: the page is a courtesy, the feeds are the product.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from mkfeeds.model import Entry, FeedFile, FeedListing
from mkfeeds.text import clean, one_line

if TYPE_CHECKING:
    from babel import Locale

FORMAT_NAMES = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
FORMAT_ORDER = ("rss", "atom", "json")  # OPML preference and display order
PAGE_NAME = "index.html"  # each feed's page, in the feed's own folder
PAGE_ENTRIES = 50  # newest entries on a feed's page: a page of every article is a page nobody loads
INDEX_ENTRIES = 10  # the main feed's newest, on the site-wide index


def files_in_order(listing: FeedListing) -> list[FeedFile]:
    rank = {name: position for position, name in enumerate(FORMAT_ORDER)}
    return sorted(listing.files, key=lambda f: rank.get(f.format, len(rank)))


def text(value: str) -> str:
    """One line of XML-safe text: forbidden characters removed, white space collapsed."""
    return one_line(clean(value))


def escape(value: str) -> str:
    return html.escape(clean(value), quote=True)


def href(path: str, depth: int = 0) -> str:
    """A link from a page ``depth`` folders below the output root to ``path`` (from the root)."""
    return escape("../" * depth + quote(path, safe="/#"))


def discovery_tags(listing: FeedListing) -> list[str]:
    """``<link rel="alternate">`` tags for a feed's files, absolute URLs, RSS first."""
    return [
        f'<link rel="alternate" type="{escape(f.media_type)}" '
        f'title="{escape(f"{text(listing.title)} ({FORMAT_NAMES.get(f.format, f.format)})")}" '
        f'href="{escape(f.url)}">'
        for f in files_in_order(listing)
    ]


def subscribe_box(listing: FeedListing) -> str:
    """The feed's three public URLs, each in a read-only field a person can select (and,
    where the browser allows scripts and the clipboard, a Copy button: ``COPY_SCRIPT``)."""
    items = []
    for file in files_in_order(listing):
        name = FORMAT_NAMES.get(file.format, file.format)
        field = f"url-{escape(file.format)}"
        items.append(
            f'<li><label for="{field}">{escape(name)}</label> '
            f'<input id="{field}" class="url" type="url" readonly value="{escape(file.url)}">'
            f' <button type="button" class="copy" data-copy="{field}" hidden>Copy</button></li>')
    return (
        '<section class="about" aria-labelledby="subscribe">\n'
        '<h2 id="subscribe">Subscribe</h2>\n'
        '<p>A web feed delivers new articles to your feed reader app as soon as they are published: '
        'no account, no algorithm, no inbox. Copy one of these links (RSS works everywhere) and '
        'paste it into your reader.</p>\n'
        f'<ul class="urls">{"".join(items)}</ul>\n'
        '</section>')


# The only script on the pages, and only for the Copy buttons: the pages read the same without it.
COPY_SCRIPT = """<script>
if (navigator.clipboard) {
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const field = document.getElementById(button.dataset.copy);
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(field.value).then(() => { button.textContent = "Copied"; },
                                                      () => { field.select(); });
    });
  }
}
</script>"""


def _locale(language: str | None) -> Locale:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse((language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@lru_cache(maxsize=4096)
def when(moment: datetime, language: str | None, zone: tzinfo) -> str:
    """``moment`` as people of ``language`` write a date and time, in ``zone``."""
    from babel.dates import format_date, format_time, get_datetime_format

    locale = _locale(language)
    local = moment.astimezone(zone)
    pattern = str(get_datetime_format("medium", locale=locale)).replace("'", "")
    return (pattern.replace("{1}", format_date(local, "long", locale=locale))
                   .replace("{0}", format_time(local, "short", locale=locale)))


def entry_list(entries: Sequence[Entry], language: str | None, zone: tzinfo, heading_level: int = 3) -> str:
    """The entries as a person reads them: linked title, date, author, the first image as
    a thumbnail, the excerpt. All of it is plain text from the entry, escaped once."""
    h = f"h{heading_level}"
    items = []
    for entry in entries:
        parts = [f'<li><article>\n<{h}><a href="{escape(entry.url)}">{escape(text(entry.title))}</a></{h}>']
        byline = f'<time datetime="{escape(entry.published.isoformat())}">' \
                 f'{escape(when(entry.published, language, zone))}</time>'
        if entry.author is not None:
            byline += f' · by {escape(text(entry.author.name))}'
        parts.append(f'<p class="meta">{byline}</p>')
        if entry.images:
            image = entry.images[0]
            size = "".join(f' {name}="{value}"' for name, value in (("width", image.width), ("height", image.height))
                           if value)
            parts.append(f'<img class="thumb" src="{escape(image.url)}" alt="" loading="lazy"{size}>')
        if entry.summary:
            parts.append(f'<p class="summary">{escape(entry.summary)}</p>')
        items.append("\n".join(parts) + "\n</article></li>")
    return '<ol class="entries">\n' + "\n".join(items) + "\n</ol>"


def site_link(site_url: str) -> str:
    return (f'<p><a class="site" href="{escape(site_url)}">Visit the website<span aria-hidden="true"> →</span>'
            '</a></p>' if site_url else "")


def lede(description: str) -> str:
    return f'<p class="lede">{escape(text(description))}</p>' if description else ""


def latest_section(section_id: str, shown: Sequence[Entry], total: int, language: str | None,
                   zone: tzinfo) -> str:
    """The "Latest articles" section: ``shown`` (a feed's newest), and how many more the
    feed holds (``total``) that a feed reader shows."""
    if shown:
        more = (f'<p class="more">The newest {len(shown)} of the feed\'s {total} entries; '
                'your feed reader shows them all.</p>' if total > len(shown) else "")
        articles = entry_list(shown, language, zone) + more
    else:
        articles = '<p class="more">No entries yet.</p>'
    return (f'<section aria-labelledby="{section_id}">\n<h2 id="{section_id}">Latest articles</h2>\n'
            f'{articles}\n</section>')


def document(*, language: str | None, title: str, head: Sequence[str], skip_to: str, header: Sequence[str],
             main: Sequence[str], zone: tzinfo) -> bytes:
    """A whole page in the pages' one layout: ``head`` tags, the ``header`` lines inside
    the banner, the ``main`` parts, and the footer that names the time zone of its dates.
    ``title`` is plain text; the other parts are HTML."""
    lines = "\n".join
    page = f"""<!DOCTYPE html>
<html lang="{escape(language or "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{escape(title)}</title>
{lines(head)}
<style>
{CSS}</style>
</head>
<body>
<a class="skip" href="#{skip_to}">Skip to the articles</a>
<header>
<div class="wrap">
{lines(header)}
</div>
</header>
<main class="wrap">
{lines(main)}
</main>
<footer class="wrap">
<p>Times are in {escape(str(zone))}. Published with mkfeeds.</p>
</footer>
{COPY_SCRIPT}
</body>
</html>
"""
    return page.encode("utf-8")


CSS = """\
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
a:focus-visible,button:focus-visible,input:focus-visible{outline:3px solid currentColor;outline-offset:3px;border-radius:2px}
.skip{position:absolute;left:.5rem;top:-3rem;padding:.5rem .75rem;background:var(--accent);color:var(--accent-fg);z-index:1}
.skip:focus{top:.5rem}
header{background:var(--head-bg);color:var(--head-fg);padding:2rem 0 1.75rem}
header a{color:var(--head-fg)}
h1{margin:0 0 .5rem;font-size:clamp(1.6rem,5vw,2.25rem);line-height:1.2}
.lede{margin:0 0 .75rem;color:var(--head-muted)}
.crumb{margin:0 0 .5rem;font-size:.9375rem}
header p:last-child{margin-bottom:0}
main{padding-top:1.5rem;padding-bottom:1rem}
section{margin:0 0 2.25rem}
h2{font-size:1.25rem;line-height:1.3;margin:0 0 .5rem}
h3{font-size:1.0625rem;line-height:1.3;margin:1.75rem 0 .25rem}
section section{margin:0}
.jump{list-style:none;margin:0 0 .5rem;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}
.about{background:var(--panel);border-left:4px solid var(--accent);border-radius:4px;padding:1rem 1.25rem}
.about p{margin:.5rem 0}
.urls{list-style:none;margin:.5rem 0 0;padding:0;display:grid;gap:.4rem}
.urls li{display:flex;flex-wrap:wrap;align-items:center;gap:.25rem .5rem}
.urls label{min-width:6.25rem;font-weight:600}
.urls input{flex:1 1 18rem;min-width:0;padding:.3rem .5rem;border:1px solid var(--line);border-radius:4px;\
background:var(--bg);color:var(--fg);font:.875rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.copy{padding:.3rem .75rem;border:1px solid var(--accent);border-radius:4px;background:var(--accent);color:var(--accent-fg);\
font:inherit;font-size:.875rem;cursor:pointer}
.entries{list-style:none;margin:0;padding:0}
.entries li{border-bottom:1px solid var(--line);padding:0 0 1rem;display:flow-root}
.entries h3 a{text-decoration:none}.entries h3 a:hover{text-decoration:underline}
.meta{margin:.1rem 0 .4rem;color:var(--muted);font-size:.9375rem}
.thumb{float:right;margin:.25rem 0 .5rem 1rem;width:7.5rem;height:auto;max-height:6rem;object-fit:cover;border-radius:4px}
.summary{margin:0}
.more{color:var(--muted)}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;vertical-align:top;padding:.7rem .75rem .7rem 0;border-bottom:1px solid var(--line)}
thead th{font-size:.875rem;color:var(--muted);font-weight:600;border-bottom-width:2px}
td.n,th.n{text-align:right;padding-right:0;white-space:nowrap}
.feed{font-weight:600}
.desc{display:block;color:var(--muted);font-size:.9375rem;font-weight:normal}
.formats{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem .9rem;white-space:nowrap}
.count{color:var(--muted);font-weight:normal}
.site{font-weight:600}
details{margin:0 0 2.25rem}summary{cursor:pointer;font-weight:600}
pre{margin:.5rem 0 0;padding:.75rem 1rem;background:var(--code-bg);border:1px solid var(--line);border-radius:4px;\
white-space:pre-wrap;overflow-wrap:anywhere;font:.875rem/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
footer{color:var(--muted);font-size:.9375rem;padding-bottom:2rem}
@media (min-width:36.01rem){.formats{flex-wrap:nowrap}}
@media (max-width:36rem){thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}\
tr{display:block;border-bottom:1px solid var(--line);padding:.6rem 0}\
th,td{display:block;border:0;padding:.15rem 0}td.n{text-align:left}td.n::after{content:" entries"}\
td.n.one::after{content:" entry"}.thumb{width:5rem}}
"""
