"""Archived feeds (RFC 5005, section 4): every entry of a feed in pages of a fixed size,
the oldest first, so a full page never changes when newer articles arrive. Pure: feed
specs and the page ends of the last build in, page specs and the new ends out.

A page is a folder next to the feed's files, ``<feed folder>archive/<n>/``, holding the
three formats under the feed's own file names. Pages 1 to n-1 are full; page n, the
newest, holds the entries too new to fill a page (none, just after a page filled up), so
every full page can name its next-archive from the start and never changes again.

Where a page ends is remembered (``Ends``, kept in the output's manifest): an entry
edited or deleted in a full page changes that page alone, and an article dated into the
past joins the page that covers its date, instead of shifting every page after it.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from typing import Any

from mkfeeds.feedsets import FeedSpec
from mkfeeds.model import EntryKey, History

FOLDER = "archive/"
PageEnd = tuple[int, str]  # (published, as seconds since the epoch; id) of a full page's newest entry


@dataclass(frozen=True)
class Ends:
    """Where each full page of one feed ends, oldest page first, for one page size."""

    page_size: int
    ends: tuple[PageEnd, ...]

    def document(self) -> dict[str, Any]:
        return {"page-size": self.page_size, "ends": [list(end) for end in self.ends]}

    @classmethod
    def from_document(cls, value: Any) -> Ends | None:
        """Ends read back from the manifest; None for anything not shaped as written."""
        if not isinstance(value, dict):
            return None
        size, ends = value.get("page-size"), value.get("ends")
        if type(size) is not int or size < 1 or not isinstance(ends, list):
            return None
        if not all(isinstance(end, list) and len(end) == 2 and type(end[0]) is int and isinstance(end[1], str)
                   for end in ends):
            return None
        parsed = tuple((end[0], end[1]) for end in ends)
        if any(a >= b for a, b in zip(parsed, parsed[1:])):
            return None
        return cls(size, parsed)


def _order(key: EntryKey) -> PageEnd:
    return int(key.published.timestamp()), key.id


def page_folder(folder: str, number: int) -> str:
    return f"{folder}{FOLDER}{number}/"


def paginate(every: tuple[EntryKey, ...], size: int, previous: Ends | None) -> tuple[list[list[EntryKey]], Ends]:
    """Every entry (any order) in pages, the oldest page first, each page newest first:
    the pages the last build ended keep their ends; the rest fill pages of ``size``;
    the last page holds what is left (maybe nothing)."""
    unique = {key.id: key for key in every}
    oldest_first = sorted(unique.values(), key=_order)
    if not oldest_first:
        return [], Ends(size, ())
    orders = [_order(key) for key in oldest_first]
    ends = list(previous.ends) if previous is not None and previous.page_size == size else []
    pages: list[list[EntryKey]] = []
    start = 0
    for end in ends:
        stop = bisect_right(orders, end, lo=start)
        pages.append(oldest_first[start:stop])
        start = stop
    while len(oldest_first) - start >= size:
        pages.append(oldest_first[start:start + size])
        ends.append(orders[start + size - 1])
        start += size
    pages.append(oldest_first[start:])
    return [page[::-1] for page in pages], Ends(size, tuple(ends))


def archived(spec: FeedSpec, previous: Ends | None) -> tuple[FeedSpec, list[FeedSpec], Ends | None]:
    """The feed's subscription document (linked to its newest page and showing, after
    its own entries, those edited since its oldest was published: readers do not fetch
    an archive page again), its archive pages, and their ends. A feed without archive
    pages comes back as it is."""
    if spec.archived is None:
        return spec, [], None
    pages, ends = paginate(spec.archived, spec.page_size, previous)
    newest = len(pages)
    subscription = replace(spec, entries=with_edits(spec.entries, spec.archived),
                           history=History(spec.folder, prev=newest) if newest else None)
    page_specs = [
        replace(spec, key=f"{spec.key}/{FOLDER}{number}", folder=page_folder(spec.folder, number),
                entries=tuple(page), archived=None,
                history=History(spec.folder, page=number, prev=number - 1, next=number + 1 if number < newest else 0))
        for number, page in enumerate(pages, start=1)
    ]
    return subscription, page_specs, ends


def with_edits(shown: tuple[EntryKey, ...], every: tuple[EntryKey, ...]) -> tuple[EntryKey, ...]:
    """``shown``, then (most recently updated first, at most as many as ``shown``) the
    entries it does not show that were updated after their publication and after the
    oldest shown entry was published: a correction reaches subscribers."""
    if not shown:
        return shown
    since = min(key.published.timestamp() for key in shown)
    ids = {key.id for key in shown}
    edited = [key for key in every if key.id not in ids and key.updated > key.published
              and key.updated.timestamp() > since]
    edited.sort(key=lambda key: (-key.updated.timestamp(), key.id))
    return shown + tuple(edited[:len(shown)])
