"""Atom 1.0 (RFC 4287)."""

from __future__ import annotations

from feedgen.entry import FeedEntry

from mkfeeds.model import Entry, Feed
from mkfeeds.render._feedgen import EntryMemo, add_entries, new_generator, with_stylesheet


def render_atom(feed: Feed, memo: EntryMemo | None = None) -> bytes:
    meta = feed.meta
    fg = new_generator(feed, feed.atom_url, "application/atom+xml")
    fg.id(feed.history.current.atom if feed.history.current else feed.atom_url)  # an archive page: the feed's id
    fg.subtitle(meta.description)
    fg.author({"name": meta.author.name, **({"uri": meta.author.url} if meta.author.url else {})})
    fg.updated(feed.updated)
    if meta.icon:
        fg.icon(meta.icon)
    add_entries(fg, feed, _fill, "atom", memo)
    return with_stylesheet(fg.atom_str(pretty=True, encoding="UTF-8"), feed.stylesheet)


def _fill(fe: FeedEntry, entry: Entry) -> None:
    fe.id(entry.id)
    if entry.summary or not entry.content_html:  # W3C warns on an entry with no text at all
        fe.summary(entry.summary or entry.title, type="text")
    if entry.content_html:
        fe.content(entry.content_html, type="html")
    author = entry.byline or entry.author
    if author:
        fe.author({"name": author.name, **({"uri": author.url} if author.url else {})})
    extras = fe.mkfeeds
    if entry.external_url:
        extras.links.append({"rel": "via", "href": entry.external_url, "type": "text/html"})
    for link in entry.related:
        extras.links.append({"rel": "related", "href": link.url, "title": link.title})
    extras.language = entry.language
