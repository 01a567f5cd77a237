"""What a build renders of an entry once, for every feed that shows it."""

from __future__ import annotations

from typing import Any

from mkfeeds.model import Entry, Format


class EntryMemo:
    """Each entry's rendering in each format: an XML element for RSS and Atom, the text
    of its item for JSON Feed. The feeds of a build show the same entries again and
    again (the main feed, the entry's topics, its category, its provider; see
    benchmarks/README.md for how often). Entries are told apart by identity, as the feed
    set holds one ``Entry`` per article and content mode. At most ``capacity``
    renderings are kept, the oldest dropped first, which bounds memory whatever the
    feed set."""

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self._held: dict[tuple[Format, int], tuple[Entry, Any]] = {}

    def held(self, fmt: Format, entry: Entry) -> Any:
        """The rendering kept for this very entry, or None."""
        found = self._held.get((fmt, id(entry)))
        return found[1] if found is not None and found[0] is entry else None

    def keep(self, fmt: Format, entry: Entry, rendering: Any) -> None:
        if len(self._held) >= self.capacity:
            del self._held[next(iter(self._held))]
        self._held[(fmt, id(entry))] = (entry, rendering)  # the entry is held: its id stays its own
