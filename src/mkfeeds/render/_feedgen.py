"""The one place that pins feedgen's defaults (see shared/guides/feeds.md).

feedgen stamps *now* into feed and entry dates, advertises itself as generator,
prepends entries, picks the RSS channel link by call order, and drops ``rel`` from Atom
entry links. Every renderer goes through ``new_generator`` and ``add_entries`` so none
of those defaults can reach a feed.
"""

from __future__ import annotations

import copy
import html
import re
from typing import Callable

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from mkfeeds.model import Entry, Feed, Format, HistoryLinks
from mkfeeds.render.memo import EntryMemo

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM_NS = "http://www.w3.org/2005/Atom"
FH_NS = "http://purl.org/syndication/history/1.0"  # RFC 5005


class _NoFeedExtension(BaseExtension):
    pass


class FeedHistory(BaseExtension):
    """RFC 5005's markers (``fh:archive``, ``fh:complete``) and archive links
    (``current``, ``prev-archive``, ``next-archive``) in the feed's head: Atom links in
    Atom, ``atom:link`` in the RSS channel (RFC 5005, Appendix B). feedgen's own RSS
    writer keeps only the self link. Written before the entries, as feedgen calls
    extensions first."""

    def __init__(self) -> None:
        self.history = HistoryLinks()

    def extend_ns(self):
        return {"fh": FH_NS}

    def extend_atom(self, feed):
        self._extend(feed, "link", "atom", "application/atom+xml")
        return feed

    def extend_rss(self, feed):
        self._extend(feed.find("channel"), f"{{{ATOM_NS}}}link", "rss", "application/rss+xml")
        return feed

    def _extend(self, parent, link_tag: str, fmt: Format, media_type: str) -> None:
        history = self.history
        if history.archive:
            xml_elem(f"{{{FH_NS}}}archive", parent)
        if history.complete:
            xml_elem(f"{{{FH_NS}}}complete", parent)
        for rel, urls in (("current", history.current), ("prev-archive", history.prev_archive),
                          ("next-archive", history.next_archive)):
            if urls is not None:
                xml_elem(link_tag, parent, href=getattr(urls, fmt), rel=rel, type=media_type)

class WebSubHubs(BaseExtension):
    """The feed's WebSub hubs (``rel="hub"``, beside its self link, which is the topic
    hubs are told of): Atom links in Atom, ``atom:link`` in the RSS channel, where
    feedgen's own RSS writer keeps only the self link."""

    def __init__(self) -> None:
        self.hubs: tuple[str, ...] = ()

    def extend_atom(self, feed):
        for hub in self.hubs:
            xml_elem("link", feed, href=hub, rel="hub")
        return feed

    def extend_rss(self, feed):
        channel = feed.find("channel")
        for hub in self.hubs:
            xml_elem("{http://www.w3.org/2005/Atom}link", channel, href=hub, rel="hub")
        return feed


class AtomEntryExtras(BaseEntryExtension):
    """Atom entry parts feedgen 1.0 cannot write: typed links (its entry-link code
    loses ``rel``, bugs #135/#143) and a per-entry ``xml:lang``."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.language: str | None = None

    def extend_atom(self, entry):
        for attributes in self.links:
            xml_elem("link", entry, **attributes)
        if self.language:
            entry.set(XML_LANG, self.language)
        for name in ("title", "summary"):  # feedgen builds Atom elements without a namespace
            declare_markup_as_html(entry.find(name))
        return entry


_LOOKS_LIKE_MARKUP = re.compile(r"<[A-Za-z/!?]")


def declare_markup_as_html(element) -> None:
    """Plain text that contains something tag-like (``<b>``) is valid Atom, but the W3C
    validator warns (ContainsUndeclaredHTML) and some readers guess it is HTML. Say
    ``type="html"`` and escape it instead: every reader then shows the same literal text."""
    if element is not None and element.text and _LOOKS_LIKE_MARKUP.search(element.text):
        element.text = html.escape(element.text, quote=False)
        element.set("type", "html")


def new_generator(feed: Feed, self_url: str, self_type: str) -> FeedGenerator:
    """A generator with the feed-level fields every format shares, pinned."""
    meta = feed.meta
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.load_extension("media", atom=True, rss=True)
    fg.register_extension("mkfeeds", _NoFeedExtension, AtomEntryExtras, atom=True, rss=False)
    if not feed.history.empty:  # the fh namespace is declared only where it is used
        fg.register_extension("history", FeedHistory, None, atom=True, rss=True)
        fg.history.history = feed.history
    if meta.hubs:
        fg.register_extension("websub", WebSubHubs, None, atom=True, rss=True)
        fg.websub.hubs = meta.hubs
    fg.title(meta.title)
    fg.link(href=self_url, rel="self", type=self_type)  # first: the RSS channel link is the last call
    fg.link(href=meta.site_url, rel="alternate", type="text/html")
    fg.generator(meta.generator, version=meta.generator_version)
    if meta.language:
        fg.language(meta.language)
    if meta.copyright:
        fg.rights(meta.copyright)
    return fg


class _Remembered(FeedEntry):
    """Filled as any entry; the element feedgen builds from it goes to the memo."""

    def __init__(self, memo: EntryMemo, fmt: Format, entry: Entry) -> None:
        super().__init__()
        self._memo = (memo, fmt, entry)

    def rss_entry(self, extensions=True):
        return self._kept(super().rss_entry(extensions))

    def atom_entry(self, extensions=True):
        return self._kept(super().atom_entry(extensions))

    def _kept(self, element):
        memo, fmt, entry = self._memo
        memo.keep(fmt, entry, element)
        return copy.deepcopy(element)  # the memo's stays out of any document


class _Copied(FeedEntry):
    """An entry whose element the memo holds: nothing to fill or to extend, as the
    element has it all; ``FeedGenerator`` asks an entry for its element only."""

    def __init__(self, element) -> None:
        self._element = element  # FeedEntry.__init__'s empty fields would never be read

    def register_extension(self, namespace, extension_class_entry=None, atom=True, rss=True):
        pass  # the element carries what the extensions wrote

    def rss_entry(self, extensions=True):
        return copy.deepcopy(self._element)

    atom_entry = rss_entry


def add_entries(fg: FeedGenerator, feed: Feed, fill: Callable[[FeedEntry, Entry], None],
                fmt: Format, memo: EntryMemo | None = None) -> None:
    """Entries in the feed's order (feedgen prepends by default). With a ``memo``, an
    entry another feed of the build has shown is added as the element built then."""
    for entry in feed.entries:
        element = memo.held(fmt, entry) if memo is not None else None
        if element is not None:
            fg.add_entry(_Copied(element), order="append")
            continue
        fe = fg.add_entry(_Remembered(memo, fmt, entry) if memo is not None else None, order="append")
        fe.title(entry.title)
        fe.link(href=entry.url, rel="alternate")
        fe.published(entry.published)
        fe.updated(entry.updated)
        if entry.categories:  # one call: feedgen validates its argument on every call
            fe.category([{"term": name} for name in entry.categories])
        for position, image in enumerate(entry.images):
            attributes = {"url": image.url, "medium": "image"}
            if image.width and image.height:
                attributes |= {"width": str(image.width), "height": str(image.height)}
            fe.media.content(group=None, **attributes)
            if position == 0:
                fe.media.thumbnail(group=None, **{k: v for k, v in attributes.items() if k != "medium"})
        fill(fe, entry)


def with_stylesheet(document: bytes, href: str | None) -> bytes:
    """Insert an ``xml-stylesheet`` processing instruction after the XML declaration,
    so browsers render the feed as a page; feed readers ignore it."""
    if not href:
        return document
    declaration_end = document.index(b"?>") + 2
    instruction = f'\n<?xml-stylesheet type="text/xsl" href="{href}"?>'.encode()
    return document[:declaration_end] + instruction + document[declaration_end:]
