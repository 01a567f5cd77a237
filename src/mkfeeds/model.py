"""Typed data that flows through the pipeline. No I/O, no behaviour beyond derivations.

``Article`` is what a file says, uninterpreted; ``Entry`` is one format-neutral feed item;
``Feed`` is everything a renderer needs. Renderers read only these types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, NamedTuple, TypeVar

Severity = Literal["error", "warning"]
FeedKind = Literal["main", "taxonomy", "custom"]
Format = Literal["rss", "atom", "json"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one input file. ``error`` rejects the article; ``warning``
    publishes it with the named field cleaned or dropped."""

    severity: Severity
    path: str
    message: str
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        from mkfeeds.text import printable

        where = printable(self.path) + (f":{self.line}" if self.line else "")
        fld = f"{self.field}: " if self.field else ""
        return f"{where}: {self.severity}: {fld}{self.message}"


@dataclass(frozen=True, slots=True)
class Article:
    """One input file as read: front matter (a mapping), body text, where keys stand."""

    path: str  # relative to the input folder, POSIX separators; used in every message
    meta: dict[str, Any]
    body: str
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> 1-based line


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class Link:
    """A titled link: a related article."""

    url: str
    title: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed item, format-neutral. Text fields are plain text, already cleaned;
    ``content_html`` is sanitized HTML, filled in only for entries that are published."""

    id: str
    url: str
    title: str
    published: datetime
    updated: datetime
    source: str  # the article's path, for messages and tie-breaking duplicates
    summary: str | None = None
    external_url: str | None = None
    author: Author | None = None
    categories: tuple[str, ...] = ()  # every taxonomy name, for the formats' category elements
    topics: tuple[str, ...] = ()  # ``topics`` alone, for per-topic feeds
    sections: tuple[str, ...] = ()  # ``category`` and ``categories``, for per-category feeds
    images: tuple[Image, ...] = ()
    related: tuple[Link, ...] = ()
    language: str | None = None
    draft: bool = False
    has_body: bool = False
    content_html: str | None = None
    # Fields used by custom feed filters and sorts, never rendered.
    quality: float | None = None
    heat: float | None = None
    article_type: str | None = None  # the API's ``type``, for custom feed filters
    provider_key: str | None = None
    byline: Author | None = None  # the article's own author (a person); else ``author``, the provider


class EntryKey(NamedTuple):
    """What choosing an entry takes (publishing rules, order, duplicates, taxonomy and
    custom feeds), and no more: the same attributes as ``Entry``'s, so the selection
    code takes either. A build holds one per article; the full ``Entry`` is decoded only
    for the entries a feed shows (``Incremental.entry``). ``updated`` is here because a
    feed's own date comes from its entries', so a feed's head is written before any entry is
    decoded. A named tuple, not a frozen dataclass: a rebuild makes one per article, and a
    tuple is much cheaper to make."""

    id: str
    source: str
    published: datetime
    updated: datetime
    draft: bool = False
    author: Author | None = None
    topics: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    quality: float | None = None
    heat: float | None = None
    article_type: str | None = None  # the API's ``type``, for custom feed filters
    provider_key: str | None = None

    @classmethod
    def of(cls, entry: Entry) -> EntryKey:
        return cls(entry.id, entry.source, entry.published, entry.updated, entry.draft, entry.author, entry.topics,
                   entry.sections, entry.quality, entry.heat, entry.article_type, entry.provider_key)


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """Feed-level metadata shared by the three formats of one feed."""

    title: str
    description: str
    site_url: str
    author: Author
    language: str | None = None
    icon: str | None = None
    copyright: str | None = None
    generator: str = "mkfeeds"
    generator_version: str = ""
    hubs: tuple[str, ...] = ()  # WebSub hubs that push the feed's updates to subscribers


@dataclass(frozen=True, slots=True)
class History:
    """Where a document stands among its feed's archive pages (RFC 5005, section 4), as
    page numbers (1 = the oldest page): what its links are, and nothing more, so equal
    histories mean equal links."""

    current: str  # the subscription document's folder ("" or ending in "/")
    page: int = 0  # this archive page's number; 0: the subscription document
    prev: int = 0  # the page its prev-archive link points to (the next older); 0: none
    next: int = 0  # the page its next-archive link points to (the next newer); 0: none


@dataclass(frozen=True, slots=True)
class FeedURLs:
    """One document's public URL in each format."""

    rss: str
    atom: str
    json: str


@dataclass(frozen=True, slots=True)
class HistoryLinks:
    """A document's RFC 5005 markers and links, as URLs: ``fh:archive`` on an archive
    page, ``fh:complete`` on a feed that holds every entry, and the ``current``,
    ``prev-archive`` and ``next-archive`` documents."""

    archive: bool = False
    complete: bool = False
    current: FeedURLs | None = None
    prev_archive: FeedURLs | None = None
    next_archive: FeedURLs | None = None

    @property
    def empty(self) -> bool:
        return not (self.archive or self.complete or self.current or self.prev_archive or self.next_archive)


@dataclass(frozen=True, slots=True)
class Feed:
    """What a renderer needs: metadata, the feed's own public URLs, and its entries,
    newest first. ``updated`` is derived from the entries, never the clock."""

    meta: FeedMeta
    rss_url: str
    atom_url: str
    json_url: str
    updated: datetime
    entries: tuple[Entry, ...]
    stylesheet: str | None = None  # href of an XSL stylesheet for browsers, or None
    history: HistoryLinks = HistoryLinks()  # RFC 5005 markers and archive links


class FileOutcome(NamedTuple):
    """What one article file became: a whole entry (published or withheld) or nothing,
    and the problems met. Picklable, so workers and the cache can hand it around. A named
    tuple, not a frozen dataclass: a rebuild makes one per file, and a tuple is much
    cheaper to make."""

    rel: str
    entry: Entry | None
    problems: tuple[Problem, ...] = ()


class KeyedOutcome(NamedTuple):
    """What one article file became, as a rebuild first reads it from the cache: the
    entry's ``EntryKey`` (the whole entry is decoded only if a feed shows it) or nothing,
    and the problems met. A named tuple for the same reason as ``FileOutcome``."""

    rel: str
    key: EntryKey | None
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One written feed file in one format."""

    format: Format
    path: str  # relative to the output folder, POSIX separators
    url: str  # public URL
    media_type: str  # application/rss+xml, application/atom+xml, application/feed+json


@dataclass(frozen=True, slots=True)
class FeedListing:
    """A feed as discovery pages (OPML, index.html) list it: one logical feed, three files."""

    key: str  # "main", "topics/ai", "custom/top-stories": stable, unique
    kind: FeedKind
    title: str
    description: str
    entries: int
    files: tuple[FeedFile, ...]
    page: str | None = None  # its HTML page, relative to the output folder; None: no page


E = TypeVar("E")


class FileRead(NamedTuple, Generic[E]):
    """What reading one article file gave (``loading``): its outcome encoded by the
    build's encoder (compact to send between processes, ready to keep), or as an object
    when it cannot be encoded (a read error; a value the encoding cannot keep)."""

    position: int  # in the build's list of sources
    digest: bytes | None  # of its text; None: the outcome depends on more than the text
    same: bool  # the text's digest is the one given to confirm: nothing was parsed
    encoded: E | None
    outcome: FileOutcome | None
