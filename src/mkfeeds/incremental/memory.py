"""What one process remembers of its last build for its next one (a watch loop's).

A fresh build learns what the state holds by reading the row index and decoding every
row's key, compares every file with its row, hashes every file's stat and selects
among all the articles: work in proportion to the corpus, done again by every build. A
process that builds again and again (``mkfeeds serve``) keeps those values instead, as
the last build that committed left them, and the next build in it goes only through
the files whose listing changed (the caller's listing keeps a ``SourceFile`` object
for each file it did not restat, so an object that is not the one of the last build is
a file to look at again) and the few whose stat could not be trusted yet.

The values hold only while the state file is the one they were remembered from: each
commit writes a new generation into it, and a build that finds another (another
process built meanwhile, the state was replaced or emptied) forgets them and starts
from the state file, as a fresh process would. A build that does not commit (a
refused edit, an interrupted build) leaves them as they were: they still describe
the state, which was rolled back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mkfeeds.incremental.store import Rows
from mkfeeds.model import Entry, EntryKey, KeyedOutcome
from mkfeeds.feedsets import TermIndex
from mkfeeds.select import Choice
from mkfeeds.source import SourceFile

if TYPE_CHECKING:  # the renderers are imported by a build that renders, not by one up to date
    from mkfeeds.render import KeptRenderings


@dataclass
class Memory:
    """Owned by the caller (one per watch session), filled and read by ``Incremental``
    alone. Empty, it makes a build behave as in a fresh process."""

    generation: str | None = None  # the state's generation these values are of
    state_file: str | None = None
    rows: Rows | None = None  # every row's stat and key columns, as committed
    index_changes: frozenset[str] = frozenset()  # rows the stored row index does not hold as they are
    decoded: dict[str, KeyedOutcome] = field(default_factory=dict)  # path -> its row's key, decoded
    sources: list[SourceFile] = field(default_factory=list)  # the last build's files, in order
    outcomes: list[KeyedOutcome] = field(default_factory=list)  # what each became, by position
    unsettled: list[int] = field(default_factory=list)  # positions to compare again whatever their object
    digests: dict[str, bytes] = field(default_factory=dict)  # path -> digest of the text its outcome is of
    lines: list[str] = field(default_factory=list)  # each file's line of the inputs digest, by position
    input_chunks: list[bytes] = field(default_factory=list)  # the digests of those lines, a chunk at a time
    by_path: dict[str, SourceFile] = field(default_factory=dict)
    choice: Choice | None = None  # the last selection, to follow changes
    terms: TermIndex | None = None  # the taxonomies' terms of that selection's entries
    feed_digests: dict[str, tuple[Any, tuple[EntryKey, ...], str]] = field(default_factory=dict)  # key ->
    feed_digests_environment: str | None = None  # (place, entries, digest), and the environment of those
    entries: dict[str, tuple[bytes, Entry]] = field(default_factory=dict)  # path -> whole entries decoded lately
    renderings: KeptRenderings | None = None  # entries rendered by the last builds, with these settings:
    renderings_environment: str | None = None

    def keep_entry(self, rel: str, digest: bytes, entry: Entry) -> None:
        """A whole entry decoded for a feed, with the digest of the text it is of (which
        is what makes it the entry of that file whatever build asks: the rules are the
        state's fingerprint). The least recently kept go first."""
        entries = self.entries
        entries.pop(rel, None)
        entries[rel] = (digest, entry)
        if len(entries) > ENTRIES_KEPT:
            del entries[next(iter(entries))]

    def forget(self) -> None:
        """Back to empty, in place (the caller keeps this object)."""
        empty = Memory()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(empty, name))

    def holds(self, state_file: str, generation: object) -> bool:
        return self.rows is not None and self.state_file == state_file and self.generation == generation

    def changed_positions(self, sources: Sequence[SourceFile]) -> list[int] | None:
        """The positions whose file is not as the last build saw it (its path and stat:
        the rows' own test), with those whose stat was not trusted yet; or None when the
        listing itself changed (a file came or went): then every file is compared with
        its row. Compared a slice at a time, which is one C loop for the many slices
        that hold no change (the caller's listing keeps the objects of unchanged files)."""
        old = self.sources
        if self.rows is None or len(sources) != len(old):
            return None
        changed = set(self.unsettled)
        step = _SLICE
        for start in range(0, len(sources), step):
            if sources[start:start + step] != old[start:start + step]:
                changed.update(i for i in range(start, min(start + step, len(sources))) if sources[i] != old[i])
        if any(sources[i].rel != old[i].rel for i in changed):
            return None
        return sorted(changed)


_SLICE = 512
ENTRIES_KEPT = 8192  # whole entries: those of the feeds a rebuild renders again, with room to spare
