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

from mkfeeds.htmlparts import (COPY_SCRIPT, CSS, PAGE_ENTRIES, discovery_tags, entry_list, escape, href,
                               subscribe_box, text)
from mkfeeds.model import Entry, FeedListing


def render_feed_page(listing: FeedListing, site_url: str, entries: Sequence[Entry], *, total: int,
                     language: str | None, zone: tzinfo, depth: int, index_path: str | None = "index.html") -> bytes:
    """The page of one feed, ``depth`` folders below the output root. ``entries`` are the
    feed's newest (the first ``PAGE_ENTRIES`` are shown); ``total`` is how many it holds.
    ``index_path`` is the site-wide index's path from the root, or None if there is none."""
    shown = entries[:PAGE_ENTRIES]
    name = escape(text(listing.title))
    lede = f'<p class="lede">{escape(text(listing.description))}</p>' if listing.description else ""
    crumb = (f'<p class="crumb"><a href="{href(index_path, depth)}">All feeds</a></p>' if index_path else "")
    site = (f'<p><a class="site" href="{escape(site_url)}">Visit the website<span aria-hidden="true"> →</span></a></p>'
            if site_url else "")
    if shown:
        more = (f'<p class="more">The newest {len(shown)} of the feed\'s {total} entries; '
                'your feed reader shows them all.</p>' if total > len(shown) else "")
        articles = entry_list(shown, language, zone) + more
    else:
        articles = '<p class="more">No entries yet.</p>'
    page = f"""<!DOCTYPE html>
<html lang="{escape(language or "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{name}</title>
{chr(10).join(discovery_tags(listing))}
<style>
{CSS}</style>
</head>
<body>
<a class="skip" href="#entries">Skip to the articles</a>
<header>
<div class="wrap">
{crumb}
<h1>{name}</h1>
{lede}
{site}
</div>
</header>
<main class="wrap">
{subscribe_box(listing)}
<section aria-labelledby="entries">
<h2 id="entries">Latest articles</h2>
{articles}
</section>
</main>
<footer class="wrap">
<p>Times are in {escape(str(zone))}. Published with mkfeeds.</p>
</footer>
{COPY_SCRIPT}
</body>
</html>
"""
    return page.encode("utf-8")
