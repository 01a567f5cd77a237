"""What a build renders of an entry once, for every feed that shows it."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from mkfeeds.model import Entry, Format


class EntryMemo:
    """Each entry's rendering in each format: an XML element for RSS and Atom, the text
    of its item for JSON Feed. The feeds of a build show the same entries again and
    again (the main feed, the entry's topics, its category, its provider; see
    benchmarks/README.md for how often). Entries are told apart by identity, as the feed
    set holds one ``Entry`` per article and content mode. At most ``capacity``
    renderings are kept, the oldest dropped first, which bounds memory whatever the
    feed set. ``kept``: renderings of earlier builds, found by the entry's value (a
    process that builds again and again renders only the entries that changed)."""

    def __init__(self, capacity: int = 8192, kept: KeptRenderings | None = None) -> None:
        self.capacity = capacity
        self._held: dict[tuple[Format, int], tuple[Entry, Any]] = {}
        self._kept = kept

    def held(self, fmt: Format, entry: Entry) -> Any:
        """The rendering kept for this very entry (or an equal one, earlier), or None."""
        found = self._held.get((fmt, id(entry)))
        if found is not None and found[0] is entry:
            return found[1]
        return self._kept.get(fmt, entry) if self._kept is not None else None

    def keep(self, fmt: Format, entry: Entry, rendering: Any) -> None:
        if len(self._held) >= self.capacity:
            del self._held[next(iter(self._held))]
        self._held[(fmt, id(entry))] = (entry, rendering)  # the entry is held: its id stays its own
        if self._kept is not None:
            self._kept.put(fmt, entry, rendering)


class KeptRenderings:
    """Renderings of entries kept from one build to the next, by the entry's value: the
    rendering of an entry is a function of the entry and the output settings, so the
    owner keeps one of these per settings. The least recently used go first."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._held: OrderedDict[tuple[Format, Entry], Any] = OrderedDict()

    def get(self, fmt: Format, entry: Entry) -> Any:
        try:
            found = self._held[(fmt, entry)]
        except (KeyError, TypeError):  # TypeError: a value that cannot be hashed is never kept
            return None
        self._held.move_to_end((fmt, entry))
        return found

    def put(self, fmt: Format, entry: Entry, rendering: Any) -> None:
        try:
            self._held[(fmt, entry)] = rendering
        except TypeError:
            return
        self._held.move_to_end((fmt, entry))
        while len(self._held) > self.capacity:
            self._held.popitem(last=False)
