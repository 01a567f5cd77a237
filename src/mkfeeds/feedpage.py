"""Each feed as a plain HTML page (``index.html`` in the feed's folder): what a person who
opens the feed in a browser should see, without XSLT, which browsers are retiring.

The page shows the feed's newest entries (at most ``PAGE_ENTRIES``; a feed of every
article would make a page nobody loads), a subscribe box with the three URLs, the
discovery tags and a link back to the site-wide index. No JavaScript is needed to read
it; a small script only adds Copy buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from mkfeeds.htmlparts import (PAGE_ENTRIES, discovery_tags, document, escape, href, latest_section, lede,
                               site_link, subscribe_box, text)
from mkfeeds.model import Entry, FeedListing


def render_feed_page(listing: FeedListing, site_url: str, entries: Sequence[Entry], *, total: int,
                     language: str | None, zone: tzinfo, depth: int, index_path: str | None = "index.html") -> bytes:
    """The page of one feed, ``depth`` folders below the output root. ``entries`` are the
    feed's newest (the first ``PAGE_ENTRIES`` are shown); ``total`` is how many it holds.
    ``index_path`` is the site-wide index's path from the root, or None if there is none."""
    name = escape(text(listing.title))
    crumb = f'<p class="crumb"><a href="{href(index_path, depth)}">All feeds</a></p>' if index_path else ""
    return document(
        language=language, title=text(listing.title), head=discovery_tags(listing), skip_to="entries",
        header=[crumb, f"<h1>{name}</h1>", lede(listing.description), site_link(site_url)],
        main=[subscribe_box(listing), latest_section("entries", entries[:PAGE_ENTRIES], total, language, zone)],
        zone=zone)
