"""Rendering a feed set: each feed's model, and its files in the three formats.

Feeds of a set show the same entries again and again (an article is in the main feed,
in each of its topics, its category, its provider), so each format's rendering of an
entry is made once per build (``render.EntryMemo``). The build hands over whole entries
with their content; nothing here reads a file. A set of many feeds is rendered on all
cores by worker processes forked with the entries at hand; the bytes are the same as in
one process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from datetime import datetime, timezone
from urllib.parse import quote, urljoin

from mkfeeds import __version__, parallel
from mkfeeds.archives import page_folder
from mkfeeds.config import Settings
from mkfeeds.feedsets import FeedSpec
from mkfeeds.model import Author, Entry, Feed, FeedFile, FeedListing, FeedMeta, FeedURLs, Format, HistoryLinks

if TYPE_CHECKING:  # feedgen and lxml are imported by a build that renders, not by one up to date
    from mkfeeds.render import EntryMemo, KeptRenderings

# The date of a feed with no entries: fixed, so output stays reproducible, and after
# 1990, which validators take as the earliest plausible feed date.
EMPTY_FEED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)


def feed_meta(settings: Settings, spec: FeedSpec) -> FeedMeta:
    return FeedMeta(
        title=spec.title,
        description=spec.description,
        site_url=settings.home_url,
        author=Author(settings.author or settings.title, settings.author_url),
        language=settings.language,
        icon=settings.icon,
        copyright=settings.copyright,
        generator="mkfeeds",
        generator_version=__version__,
        hubs=settings.hub_urls,
    )


STYLESHEET = "feed.xsl"
MEDIA_TYPES: dict[Format, str] = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}


def file_names(settings: Settings) -> dict[Format, str]:
    return {"rss": settings.rss_file, "atom": settings.atom_file, "json": settings.json_file}


def make_feed(settings: Settings, spec: FeedSpec, entries: tuple[Entry, ...]) -> Feed:
    """A feed whose ``updated`` is its newest entry's date (from the keys the feed set
    chose, so it is known before any entry is decoded): never the clock."""
    updated = max((e.updated for e in spec.entries), key=lambda d: d.timestamp(), default=EMPTY_FEED_DATE)
    urls = feed_urls(settings, spec.folder)
    depth = spec.folder.count("/")
    return Feed(
        meta=feed_meta(settings, spec),
        rss_url=urls.rss,
        atom_url=urls.atom,
        json_url=urls.json,
        updated=updated,
        entries=entries,
        stylesheet="../" * depth + STYLESHEET if settings.stylesheet else None,
        history=history_links(settings, spec),
    )


def feed_urls(settings: Settings, folder: str) -> FeedURLs:
    base = urljoin(settings.base_url, quote(folder))
    names = file_names(settings)
    return FeedURLs(urljoin(base, names["rss"]), urljoin(base, names["atom"]), urljoin(base, names["json"]))


def history_links(settings: Settings, spec: FeedSpec) -> HistoryLinks:
    """The spec's place among its archive pages, as URLs (RFC 5005)."""
    history = spec.history
    if history is None:
        return HistoryLinks(complete=spec.complete)

    def page(number: int) -> FeedURLs | None:
        return feed_urls(settings, page_folder(history.current, number)) if number else None

    return HistoryLinks(archive=bool(history.page), current=feed_urls(settings, history.current) if history.page else None,
                        prev_archive=page(history.prev), next_archive=page(history.next))


def render_feed(settings: Settings, feed: Feed, folder: str = "", memo: EntryMemo | None = None) -> dict[str, bytes]:
    """The feed in the three formats. A ``memo`` shared by the feeds of a build has each
    entry's XML built once, however many feeds show it."""
    from mkfeeds.render import render_atom, render_json, render_rss

    names = file_names(settings)
    return {
        folder + names["rss"]: render_rss(feed, memo),
        folder + names["atom"]: render_atom(feed, memo),
        folder + names["json"]: render_json(feed, memo),
    }


def listing(settings: Settings, spec: FeedSpec, feed: Feed, entries: int) -> FeedListing:
    urls: dict[Format, str] = {"rss": feed.rss_url, "atom": feed.atom_url, "json": feed.json_url}
    return FeedListing(
        key=spec.key, kind=spec.kind, title=spec.title, description=spec.description, entries=entries,
        files=tuple(FeedFile(fmt, spec.folder + name, urls[fmt], MEDIA_TYPES[fmt])
                    for fmt, name in file_names(settings).items()),
        page=page_name(settings, spec),
    )


def page_name(settings: Settings, spec: FeedSpec) -> str | None:
    """Where the feed's HTML page goes: ``index.html`` in its folder (the main feed's folder
    is the output root, so its page is the site-wide index), or None without pages."""
    from mkfeeds.htmlparts import PAGE_NAME

    return spec.folder + PAGE_NAME if settings.pages else None


def render_page(settings: Settings, spec: FeedSpec, feed_listing: FeedListing, entries: Sequence[Entry]) -> bytes:
    """The HTML page of a feed other than the main one (whose page is the site index)."""
    from mkfeeds.feedpage import render_feed_page
    from mkfeeds.htmlparts import PAGE_NAME

    return render_feed_page(feed_listing, settings.home_url, entries, total=feed_listing.entries,
                            language=settings.language, zone=settings.zone, depth=spec.folder.count("/"),
                            index_path=PAGE_NAME)


RENDER_PARALLEL_MIN = 8  # feeds; fewer render faster here than workers start


def render_feeds(settings: Settings, feeds: Sequence[tuple[str, Feed]], jobs: int,
                 kept: KeptRenderings | None = None) -> list[dict[str, bytes]]:
    """Each (folder, feed)'s files, in order: on all cores for a set of many feeds.
    ``kept``: entries rendered by earlier builds with the same settings (and where the
    entries this call renders here are kept for the next)."""
    from mkfeeds.render import EntryMemo

    memo = EntryMemo(kept=kept)

    def render(item: tuple[str, Feed]) -> dict[str, bytes]:
        return render_feed(settings, item[1], item[0], memo)

    processes = 1 if len(feeds) < RENDER_PARALLEL_MIN else parallel.processes_for(jobs, len(feeds))
    try:
        with parallel.forked_map(render, feeds, processes) as rendered:
            return list(rendered)
    except parallel.PoolBroken:  # a worker died: render them here
        return [render(item) for item in feeds]
