"""RSS 2.0 with the content, dc and media modules, and an atom:link to itself."""

from __future__ import annotations

import html
from datetime import timezone

from feedgen.entry import FeedEntry

from mkfeeds.model import Entry, Feed
from mkfeeds.render._feedgen import EntryMemo, add_entries, new_generator, with_stylesheet


def render_rss(feed: Feed, memo: EntryMemo | None = None) -> bytes:
    fg = new_generator(feed, feed.rss_url, "application/rss+xml")
    fg.description(feed.meta.description)
    fg.generator(f"{feed.meta.generator} {feed.meta.generator_version}".strip())  # RSS has no version attribute
    fg.lastBuildDate(feed.updated.astimezone(timezone.utc))
    fg.docs("https://www.rssboard.org/rss-specification")
    if feed.meta.icon:
        fg.image(url=feed.meta.icon, title=feed.meta.title, link=feed.meta.site_url)
    add_entries(fg, feed, _fill, "rss", memo)
    return with_stylesheet(fg.rss_str(pretty=True, encoding="UTF-8"), feed.stylesheet)


def _fill(fe: FeedEntry, entry: Entry) -> None:
    fe.guid(entry.id, permalink=entry.id == entry.url)
    if entry.summary:
        # RSS description is HTML by convention: escape the plain-text excerpt.
        fe.description(html.escape(entry.summary, quote=False).replace("\n", "<br>\n"))
    if entry.content_html:
        fe.content(entry.content_html)  # content:encoded, or the description when no excerpt
    fe.pubDate(entry.published.astimezone(timezone.utc))  # offsets like +0545 draw W3C warnings
    author = entry.byline or entry.author
    if author:
        fe.dc.dc_creator(author.name)  # RSS <author> must be an e-mail address
