"""Everything that makes a rebuild cheap, behind one interface that only the build uses.

``Incremental`` keeps, between builds, what each article file became (its key, its whole
entry, its body's HTML), the digests of the feeds it wrote and a record of the last build.
The stages never see it: the build asks it which files need reading (``reuse``), hands it
what reading gave (``take``), and asks it for whole entries and bodies (``entry``,
``body``); a value it cannot prove it stored comes back as None, and the build computes it
again. Without a state folder (``--no-cache``, ``check``) the same interface holds the
values in memory for one build, so there is one path.

Every problem it meets (a state file that is someone else's, damaged, locked, unwritable)
is a notice in ``notices``, never an exception: the build goes on without it.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from mkfeeds.incremental import codec
from mkfeeds.incremental.fingerprint import outcome_fingerprint, output_environment
from mkfeeds.incremental.freshness import BuildRecord, FeedRecord, feed_digest, inputs_digest, replay
from mkfeeds.incremental.store import (KEY_AT, STATE_FILE, Rows, Store, StoreUnavailable, damaged, open_store,
                                       remove_damaged)
from mkfeeds.model import Entry, EntryKey, FileOutcome, FileRead, KeyedOutcome
from mkfeeds.source import SourceFile

__all__ = ["Incremental", "Reuse", "BuildRecord", "RACY_NS"]

RACY_NS = 2_000_000_000  # coarsest file timestamp tick allowed for (FAT: 2 s)
# Key columns with few distinct values (names, lists of names, problems): the row index
# holds and stores each value once.
_ID_AT, _DRAFT_AT = codec.KEY_COLUMNS.index("id"), codec.KEY_COLUMNS.index("draft")
_SHARED = ("author", "author_url", "topics", "sections", "article_type", "provider_key", "problems")


@dataclass
class Reuse:
    """How this build's files compare with the stored rows."""

    outcomes: list[KeyedOutcome | None]  # by source position; None until read
    work: list[int]  # positions to read
    confirm: dict[int, bytes]  # position -> stored digest, for files whose stat changed
    stale: list[str] = field(default_factory=list)  # rows of files that are gone


class Incremental:
    """The state of past builds, for one build. Use it as a context manager; ``finish``
    commits what this build learnt, anything else leaves the state as it was."""

    def __init__(self, settings: Any, rules: Any, *, keep: bool = True) -> None:
        self.settings, self.rules = settings, rules
        self._told: list[str] = []
        self._undecoded = 0  # proven values that still did not decode: damage too
        self.started_ns = time.time_ns()  # before any file is read: see RACY_NS
        self._fingerprint = outcome_fingerprint(rules, settings.input, codec.SCHEMA, codec.MODEL_LAYOUT)
        self.environment = output_environment(settings, self._fingerprint)
        self._memo: dict[Any, Any] = {}  # values shared between decoded rows
        self._digests: dict[str, bytes] = {}  # rel -> digest of the text its outcome came from
        self._entries: dict[str, bytes] = {}  # rel -> compressed entry JSON, held in memory
        self._bodies: dict[str, str] = {}  # rel -> body HTML, held in memory
        self._whole: dict[str, Entry] = {}  # rel -> entries that could not be encoded
        self._put: dict[str, tuple[Any, ...] | None] = {}
        self._confirmed: dict[str, tuple[int, ...]] = {}
        self._rows: Rows | None = None
        self._previous_ids: dict[str, str] = {}  # rel -> the id its published entry had last time
        self._shared: dict[Any, Any] = {}
        self._shared_positions = frozenset(KEY_AT + codec.KEY_COLUMNS.index(name) for name in _SHARED)
        self._store: Store | None = None
        folder = settings.cache if keep else None
        if folder is not None:
            self._store = self._open(Path(folder))

    @property
    def notices(self) -> list[str]:
        """What the build should tell about the state: each problem met, once."""
        store = self._store
        if not self._undecoded and (store is None or not store.damaged_values):
            return list(self._told)
        return [*self._told, f"cache {self.settings.cache} held damaged values (they failed their check); "
                "they were not used: what they held was read again, and the cache repaired"]

    @functools.cached_property
    def _decode_key(self) -> Callable[[str, tuple[Any, ...]], KeyedOutcome | None]:
        return codec.outcome_decoder(self._memo)

    @functools.cached_property
    def _decode_entry(self) -> Callable[[EntryKey, str | None], Entry | None]:
        return codec.entry_decoder(self._memo)

    # -- opening, failing soft --------------------------------------------------------------

    def _open(self, folder: Path) -> Store | None:
        try:
            self._refuse_inside(folder)
            if os.path.lexists(folder) and not folder.is_dir():
                raise StoreUnavailable(f"{folder} is not a folder; remove it, or choose another --cache")
            folder.mkdir(parents=True, exist_ok=True)
            store = open_store(folder / STATE_FILE, self._fingerprint, codec.KEY_COLUMNS)
        except StoreUnavailable as exc:
            self._told.append(f"cache not used: {exc}; every article is read")
            return None
        except (OSError, sqlite3.Error) as exc:
            self._told.append(f"cache not used: {folder} cannot be opened ({exc}); every article is read")
            return None
        if store.replaced:
            self._told.append(f"cache {folder} was damaged ({store.replaced}) and has been replaced; "
                                "every article is read")
        return store

    def _refuse_inside(self, folder: Path) -> None:
        """Not in the output folder (it would be published, drafts and all), not in the
        input folder (which a build never modifies)."""
        real = Path(os.path.realpath(folder))
        for what, root in (("output", self.settings.output), ("input", self.settings.input)):
            top = Path(os.path.realpath(root))
            if real == top or top in real.parents:
                raise StoreUnavailable(f"{folder} is inside the {what} folder {root}; choose another --cache")

    def _lost(self, exc: Exception, *, reading: bool) -> None:
        """Go on without the store after ``exc``; what it held this build is rolled back."""
        if self._store is None:
            return
        self._store.close()
        self._store = None
        if reading:
            self._told.append(f"cache {self.settings.cache} could not be read ({exc}); "
                                "the rest of the build goes on without it")
        else:
            self._told.append(f"cache {self.settings.cache} could not be updated ({exc}); "
                                "the next build reads the changed articles again")

    def __enter__(self) -> Incremental:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Roll back anything not committed by ``finish`` and release the lock."""
        if self._store is not None:
            self._store.close()
            self._store = None
        self._memo.clear()

    # -- the last build ----------------------------------------------------------------------

    def replay(self, sources: Sequence[SourceFile], now: datetime) -> BuildRecord | None:
        """The last build's record, if this build would do exactly what it did."""
        if self._store is None:
            return None
        try:
            record = self._store.sealed_meta("build")
        except sqlite3.Error as exc:
            self._lost(exc, reading=True)
            return None
        found = replay(record, self.inputs(sources), sources, now, self.settings.output, RACY_NS)
        if found is not None:
            found.notices[:0] = self.notices
        return found

    def inputs(self, sources: Sequence[SourceFile]) -> str:
        return inputs_digest(self.environment, sources)

    # -- files -------------------------------------------------------------------------------

    def reuse(self, sources: Sequence[SourceFile]) -> Reuse:
        """Compare the files with the stored rows: decode the keys of the unchanged ones,
        list what needs reading, and the rows of vanished files."""
        count = len(sources)
        fresh = Reuse([None] * count, list(range(count)), {})
        store = self._store
        if store is None:
            self._rows = None
            return fresh
        try:
            rows = store.rows()
        except (sqlite3.Error, ValueError, TypeError) as exc:
            self._replace_damaged(exc)
            return fresh
        columns = rows.columns
        rels, sizes, mtimes, ctimes, inodes, digests, checked = columns[:KEY_AT]
        keys = list(zip(*columns[KEY_AT:]))
        source_rels = [source.rel for source in sources]
        reuse = Reuse([None] * count, [], {})
        if source_rels == rels:  # the same files as last time: the usual case
            positions: Any = range(len(rels))
        else:
            at = dict(zip(rels, range(len(rels))))
            positions = [at.get(rel) for rel in source_rels]
            listed = set(source_rels)
            reuse.stale = [rel for rel in rels if rel not in listed]
        decode, outcomes, known = self._decode_key, reuse.outcomes, self._digests
        for i, j in enumerate(positions):
            if j is None:
                reuse.work.append(i)
                continue
            source = sources[i]
            if (sizes[j] == source.size and mtimes[j] == source.mtime_ns and ctimes[j] == source.ctime_ns
                    and inodes[j] == source.ino and source.mtime_ns <= checked[j] - RACY_NS):
                outcome = decode(source.rel, keys[j])
                if outcome is not None:
                    outcomes[i] = outcome
                    known[source.rel] = digests[j]
                    continue
                self._undecoded += 1
            reuse.work.append(i)  # changed, too recent to trust its stat, or a row that did not decode
            reuse.confirm[i] = digests[j]
            stored_id, draft = keys[j][_ID_AT], keys[j][_DRAFT_AT]
            if type(stored_id) is str and draft == 0:
                self._previous_ids[source.rel] = stored_id
        self._rows = rows
        return reuse

    def previous_ids(self) -> dict[str, str]:
        """Path -> the id its entry had in the last build (a published one, not a draft),
        for the files this build reads again: an id that changes makes readers show the
        article again as new. Known only while the state holds the rows."""
        return self._previous_ids

    def _replace_damaged(self, exc: Exception) -> None:
        store = self._store
        assert store is not None
        path = store.path
        store.close()
        self._store = None
        if isinstance(exc, sqlite3.Error) and not damaged(exc):
            self._told.append(f"cache not used: {path} cannot be read ({exc}); every article is read")
            return
        try:
            remove_damaged(path)
            self._store = open_store(path, self._fingerprint, codec.KEY_COLUMNS)
        except (StoreUnavailable, OSError, sqlite3.Error):
            self._store = None
        self._told.append(f"cache {path.parent} was damaged ({exc}); every article is read"
                            + ("" if self._store is not None else " and the cache is not written"))

    def encode(self, outcome: FileOutcome) -> codec.Encoded | None:
        """The outcome as stored (in a worker process: compact to send), or None when a
        value would not come back exactly."""
        try:
            encoded = codec.encode_outcome(outcome)
        except codec.Uncacheable:
            return None
        if self._store is None and type(encoded.entry) is str:  # held in memory until rendered: compressed
            return codec.Encoded(encoded.key, zlib.compress(encoded.entry.encode("utf-8", "surrogatepass"), 1))
        return encoded

    def take(self, sources: Sequence[SourceFile], reads: Iterable[FileRead[codec.Encoded]], reuse: Reuse) -> list[int]:
        """Record what reading files gave; returns the positions to read again (a stored
        row that did not decode after all)."""
        rows, confirmed, dropped, again = [], [], [], []
        outcomes, started = reuse.outcomes, self.started_ns
        for read in reads:
            i = read.position
            source = sources[i]
            rel = source.rel
            self._digests.pop(rel, None)
            stat = (source.size, source.mtime_ns, source.ctime_ns, source.ino)
            if read.same:
                outcome = self._stored_outcome(rel)
                if outcome is None:
                    again.append(i)
                    reuse.confirm.pop(i, None)
                    continue
                outcomes[i] = outcome
                assert read.digest is not None
                self._digests[rel] = read.digest
                confirmed.append((*stat, started, rel))
                continue
            if read.encoded is not None:
                key, entry = read.encoded
                outcome = self._decode_key(rel, key)
                if outcome is None:  # cannot happen for a key just encoded
                    raise AssertionError(f"{rel}: an encoded key did not decode")
                outcomes[i] = outcome
                if read.digest is not None and self._store is not None:
                    self._digests[rel] = read.digest
                    rows.append((rel, *stat, read.digest, started, *key, entry))
                else:
                    if i in reuse.confirm:
                        dropped.append(rel)
                    if type(entry) is bytes:
                        self._entries[rel] = entry
                    elif type(entry) is str:
                        self._entries[rel] = zlib.compress(entry.encode("utf-8", "surrogatepass"), 1)
                    if read.digest is not None:
                        self._digests[rel] = read.digest
                continue
            whole = read.outcome
            assert whole is not None
            outcomes[i] = KeyedOutcome(rel, None if whole.entry is None else EntryKey.of(whole.entry),
                                       whole.problems)
            if whole.entry is not None:
                self._whole[rel] = whole.entry
            if i in reuse.confirm:
                dropped.append(rel)
        self._write(rows, confirmed, dropped)
        return again

    def _stored_outcome(self, rel: str) -> KeyedOutcome | None:
        """The stored outcome of a file whose text was confirmed unchanged."""
        rows = self._rows
        if rows is None:
            return None
        from bisect import bisect_left

        j = bisect_left(rows.columns[0], rel)
        if j >= len(rows.columns[0]) or rows.columns[0][j] != rel:
            return None
        outcome = self._decode_key(rel, tuple(column[j] for column in rows.columns[KEY_AT:]))
        self._undecoded += outcome is None
        return outcome

    def _write(self, rows: list[tuple[Any, ...]], confirmed: list[tuple[Any, ...]], dropped: list[str]) -> None:
        store = self._store
        if store is None:
            return
        try:
            shared, share = self._shared_positions, self._shared.setdefault
            for row in store.put(rows):  # as the row index holds it; a value many rows have, once
                self._put[row[0]] = tuple([share(v, v) if at in shared else v for at, v in enumerate(row)])
                self._confirmed.pop(row[0], None)
            store.confirm(confirmed)
            for values in confirmed:
                self._confirmed[values[-1]] = values[:-1]
            store.drop(dropped)
            for rel in dropped:
                self._put[rel] = None
        except sqlite3.Error as exc:
            self._lost(exc, reading=False)

    def index_rows(self, reuse: Reuse) -> None:
        """Every file is read: drop the rows of vanished ones and write the row index
        (in this build's transaction), freeing what it took before the feeds render."""
        store, rows = self._store, self._rows
        self._rows = None
        if store is None:
            return
        try:
            store.drop(reuse.stale)
            for rel in reuse.stale:
                self._put[rel] = None
            if rows is None or self._put or self._confirmed or not store.index_held:
                base = rows if rows is not None else Rows.empty(store.width)
                updated = base.updated(self._put, self._confirmed)
                self._put, self._confirmed, self._shared = {}, {}, {}  # freed before the index is packed
                store.write_index(updated, self._shared_positions)
                del updated
        except (sqlite3.Error, MemoryError, ValueError, OverflowError) as exc:
            self._lost(exc, reading=False)
        self._put, self._confirmed, self._shared = {}, {}, {}

    # -- whole entries and bodies ------------------------------------------------------------

    def entry(self, key: EntryKey) -> Entry | None:
        """The whole entry behind ``key``, or None when it cannot be proven to be the one
        stored for it (the build then reads its file again)."""
        held = self._whole.get(key.source)
        if held is not None:
            return held if EntryKey.of(held) == key else None
        packed = self._entries.get(key.source)
        text: str | None = None
        if packed is not None:
            text = zlib.decompress(packed).decode("utf-8", "surrogatepass")
        elif self._store is not None:
            store = self._store
            try:
                damaged_before = store.damaged_values
                text = store.entry_text(key.source)
                if store.damaged_values > damaged_before:  # read again now; stored again next build
                    store.forget(key.source)
            except sqlite3.Error as exc:
                self._lost(exc, reading=True)
        return self._decode_entry(key, text)

    def body(self, key: EntryKey) -> str | None:
        """The body's HTML as an earlier build rendered it from the same text, if kept."""
        html = self._bodies.get(key.source)
        if html is not None or self._store is None:
            return html
        try:
            return self._store.body(key.source)
        except sqlite3.Error as exc:
            self._lost(exc, reading=True)
            return None

    def keep_bodies(self, bodies: list[tuple[str, str]]) -> None:
        """(path, HTML): bodies this build rendered, for the feeds still to render and
        the next builds."""
        if self._store is None:
            self._bodies.update(bodies)
            return
        try:
            self._store.keep_bodies(bodies)
        except sqlite3.Error as exc:
            self._lost(exc, reading=False)

    # -- feeds -------------------------------------------------------------------------------

    def feed_digest(self, spec: Any, sources: dict[str, SourceFile]) -> str:
        """What the feed's bytes depend on; equal digests, equal bytes."""
        def text_of(key: EntryKey) -> str:
            known = self._digests.get(key.source)
            return known.hex() if known is not None else repr(self.entry(key))

        return feed_digest(self.environment, spec, sources, text_of)

    def kept_feeds(self) -> dict[str, str]:
        """Feed key -> digest, for each feed of the last build whose files are still
        exactly as it wrote them."""
        if self._store is None:
            return {}
        try:
            return FeedRecord.intact(self._store.sealed_meta("feeds"), self.settings.output)
        except sqlite3.Error as exc:
            self._lost(exc, reading=True)
            return {}

    def finish(self, feeds: dict[str, tuple[str, list[str]]], record: BuildRecord | None) -> None:
        """Commit: the rows, the feeds' digests with their files' stamps as they now are,
        and (``record``) this build, for the next one to replay."""
        store = self._store
        if store is None:
            return
        output = self.settings.output
        try:
            store.set_sealed_meta("feeds", FeedRecord.document(feeds, output))
            store.set_sealed_meta("build", None if record is None else record.document(output))
            store.commit()
        except sqlite3.Error as exc:
            self._lost(exc, reading=False)
