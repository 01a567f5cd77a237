"""A feed's document in pieces: a head, the entries a chunk at a time, and a tail, so a
feed of any length is written as it is produced, in memory that does not grow with it.

The pieces are cut from whole documents, never assembled by hand: a chunk's entries are
rendered by the format's own renderer as a feed of just those entries, and the part
between that feed's head and tail is kept. Pretty printing indents an element by its
depth alone and feedgen adds entries after every feed-level element, so the pieces
joined are, byte for byte, the document rendered whole (a property test checks it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Callable

from mkfeeds.model import Entry, Feed, Format
from mkfeeds.render.atom import render_atom
from mkfeeds.render.jsonfeed import render_json
from mkfeeds.render.memo import EntryMemo
from mkfeeds.render.rss import render_rss

RENDERERS: dict[Format, Callable[[Feed, EntryMemo | None], bytes]] = {
    "rss": render_rss, "atom": render_atom, "json": render_json}
_CLOSING: dict[Format, bytes] = {"rss": b"  </channel>\n</rss>\n", "atom": b"</feed>\n"}
_JSON_ITEMS = b',\n  "items": [\n'
_JSON_END = b"\n  ]\n}\n"


class Pieces:
    """The head and tail of one feed in one format, and its entries' pieces."""

    def __init__(self, fmt: Format, feed: Feed) -> None:
        self.fmt, self.feed = fmt, feed
        empty = RENDERERS[fmt](replace(feed, entries=()), None)
        if fmt == "json":
            if not empty.endswith(b'  "items": []\n}\n'):
                raise AssertionError("JSON Feed document of an unexpected shape")
            self.head = empty[:-len(b'  "items": []\n}\n') - 2] + _JSON_ITEMS
            self.tail = _JSON_END
            self.empty_tail = empty[len(self.head) - len(_JSON_ITEMS):]
        else:
            closing = _CLOSING[fmt]
            if not empty.endswith(closing):
                raise AssertionError(f"{fmt} document of an unexpected shape")
            self.head = empty[:-len(closing)]
            self.tail = self.empty_tail = closing

    def entries(self, entries: Sequence[Entry], memo: EntryMemo | None = None) -> bytes:
        """The piece of these entries (one or more), as they stand in the document."""
        if not entries:
            return b""
        document = RENDERERS[self.fmt](replace(self.feed, entries=tuple(entries)), memo)
        head = self.head[:-len(_JSON_ITEMS)] + b',\n  "items": [\n' if self.fmt == "json" else self.head
        if not (document.startswith(head) and document.endswith(self.tail)):
            raise AssertionError(f"{self.fmt} entries do not sit between the head and the tail")
        return document[len(head):-len(self.tail)]


class Writer:
    """Writes one document to ``sink`` as the pieces of its entries come."""

    def __init__(self, pieces: Pieces, sink: Callable[[bytes], object]) -> None:
        self.pieces, self.sink, self.started = pieces, sink, False

    def add(self, piece: bytes) -> None:
        if not piece:
            return
        if not self.started:
            self.sink(self.pieces.head)
            self.started = True
        elif self.pieces.fmt == "json":
            self.sink(b",\n")
        self.sink(piece)

    def finish(self) -> None:
        pieces = self.pieces
        if self.started:
            self.sink(pieces.tail)
        else:  # no entry at all
            self.sink(pieces.head[:-len(_JSON_ITEMS)] if pieces.fmt == "json" else pieces.head)
            self.sink(pieces.empty_tail)


def document(pieces: Pieces, chunks: Iterable[bytes]) -> bytes:
    """Head, each chunk's piece (JSON items joined by commas), tail: the whole document."""
    out: list[bytes] = []
    writer = Writer(pieces, out.append)
    for chunk in chunks:
        writer.add(chunk)
    writer.finish()
    return b"".join(out)
