"""Everything that makes a rebuild cheap, behind one interface that only the build uses.

``Incremental`` keeps, between builds, what each article file became (its key, its whole
entry, its body's HTML), the digests of the feeds it wrote and a record of the last build.
The stages never see it: the build asks it which files need reading (``reuse``), hands it
what reading gave (``take``), and asks it for whole entries and bodies (``entry``,
``body``); a value it cannot prove it stored comes back as None, and the build computes it
again. Without a state folder (``--no-cache``, ``check``) the same interface holds the
values in memory for one build, so there is one path. A process that builds again and
again passes a ``Memory`` (``memory.py``): what the last build knew, kept in the process,
so that the next one goes only through what changed.

Every problem it meets (a state file that is someone else's, damaged, locked, unwritable)
is a notice in ``notices``, never an exception: the build goes on without it.
"""

from __future__ import annotations

import enum
import functools
import operator
import os
import sqlite3
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from mkfeeds.incremental import codec
from mkfeeds.incremental.digests import ListedDigests
from mkfeeds.incremental.fingerprint import outcome_fingerprint, output_environment
from mkfeeds.incremental.freshness import (BuildRecord, FeedRecord, feed_digest, input_chunks, input_line,
                                           input_lines, inputs_digest, replay)
from mkfeeds.incremental.memory import Memory
from mkfeeds.incremental.store import (KEY_AT, STATE_FILE, PackedRows, Rows, Store, StoreUnavailable, damaged,
                                       open_store, remove_damaged)
from mkfeeds.model import Entry, EntryKey, FileOutcome, FileRead, KeyedOutcome
from mkfeeds.feedsets import TermIndex
from mkfeeds.select import Choice, Selection, choose, rechoose, select
from mkfeeds.source import Listing, SourceFile

if TYPE_CHECKING:  # the renderers are imported by a build that renders, not by one up to date
    from mkfeeds.render import KeptRenderings

__all__ = ["Incremental", "Memory", "Reuse", "BuildRecord", "StoredEntry", "RACY_NS"]

# What ``Incremental.stored`` gives for a key: the entry (or its stored text, or None:
# read the file again), and its body's HTML if one is kept.
StoredEntry = tuple[Entry | str | None, str | None]


class _Where(enum.Enum):
    IN_STORE = "not held in this process: ask the store"  # what ``_held`` gives then


_IN_STORE = _Where.IN_STORE

RACY_NS = 2_000_000_000  # coarsest file timestamp tick allowed for (FAT: 2 s)
# Key columns with few distinct values (names, lists of names, problems): the row index
# holds and stores each value once.
_ID_AT, _DRAFT_AT = codec.KEY_COLUMNS.index("id"), codec.KEY_COLUMNS.index("draft")
_SHARED = ("author", "author_url", "topics", "sections", "article_type", "provider_key", "problems")
# Rows changed since the row index was written, up to which a build records their paths
# (read from the table on top of the index) instead of writing the whole index again.
INDEX_CHANGES_MIN = 256
INDEX_CHANGES_SHARE = 64  # or one row in this many, for a larger corpus


@dataclass
class Reuse:
    """How this build's files compare with the stored rows."""

    outcomes: list[KeyedOutcome | None]  # by source position; None until read
    work: Sequence[int]  # positions to read (a range when every file is)
    confirm: dict[int, bytes]  # position -> stored digest, for files whose stat changed
    stale: list[str] = field(default_factory=list)  # rows of files that are gone


class Incremental:
    """The state of past builds, for one build. Use it as a context manager; ``finish``
    commits what this build learnt, anything else leaves the state as it was."""

    def __init__(self, settings: Any, rules: Any, *, keep: bool = True, memory: Memory | None = None) -> None:
        self.settings, self.rules = settings, rules
        self._told: list[str] = []
        self._undecoded = 0  # proven values that still did not decode: damage too
        self.started_ns = time.time_ns()  # before any file is read: see RACY_NS
        self._fingerprint = outcome_fingerprint(rules, settings.input, codec.SCHEMA, codec.MODEL_LAYOUT)
        self.environment = output_environment(settings, self._fingerprint)
        self._memo: dict[Any, Any] = {}  # values shared between decoded rows
        # rel -> digest of the text its outcome came from (a dict, which a memory keeps)
        self._digests: MutableMapping[str, bytes] = {}
        self._entries: dict[str, bytes] = {}  # rel -> compressed entry JSON, held in memory
        self._bodies: dict[str, str] = {}  # rel -> body HTML, held in memory
        self._whole: dict[str, Entry] = {}  # rel -> entries that could not be encoded
        self._put: dict[str, tuple[Any, ...] | None] = {}
        # A cold build (an empty table, no memory) puts every row once, in path order:
        # packed as they come, the row index's columns are written from them.
        self._cold: PackedRows | None = None
        self._confirmed: dict[str, tuple[int, ...]] = {}
        self._rows: Rows | None = None
        self._previous_ids: dict[str, str] = {}  # rel -> the id its published entry had last time
        self._shared: dict[Any, Any] = {}
        self._shared_positions = frozenset(KEY_AT + codec.KEY_COLUMNS.index(name) for name in _SHARED)
        self._store: Store | None = None
        folder = settings.cache if keep else None
        if folder is not None:
            self._store = self._open(Path(folder))
        self._decoded: dict[str, KeyedOutcome] = {}  # path -> its row's key, decoded
        self._decoded_changes: dict[str, KeyedOutcome | None] = {}  # this build's rows put (or dropped: None)
        self._written: set[str] = set()  # paths whose row this build put or confirmed
        self._reuse: Reuse | None = None
        self._index_held = False  # the rows this build started from are the row index's (with its changes)
        self._index_changes: frozenset[str] = frozenset()
        self._committed_rows: Rows | None = None
        self._unapplied: tuple[dict[str, tuple[Any, ...] | None], dict[str, tuple[int, ...]]] | None = None
        self._delta: tuple[Sequence[SourceFile], list[int] | None] | None = None
        self._inputs: tuple[Sequence[SourceFile], list[str], list[bytes], str] | None = None
        self._by_path: dict[str, SourceFile] | None = None
        self._choice: Choice | None = None
        self._terms: TermIndex | None = None
        self._feed_digests: dict[str, tuple[Any, tuple[EntryKey, ...], str]] = {}
        self._changed_rels: set[str] | None = None
        self._memory, self._recall = self._recalled(memory)

    def _recalled(self, memory: Memory | None) -> tuple[Memory | None, bool]:
        """The memory to fill after this build, and whether what it holds is this state's."""
        store = self._store
        if memory is None:
            return None, False
        if store is None:
            memory.forget()
            return None, False
        try:
            generation = store.generation()
        except sqlite3.Error as exc:
            memory.forget()
            self._lost(exc, reading=True)
            return None, False
        if memory.holds(str(store.path), generation):
            return memory, True
        memory.forget()
        return memory, False

    def _forget(self) -> None:
        """What the memory holds may no longer be the state's: start again next time."""
        if self._memory is not None:
            self._memory.forget()
        self._memory, self._recall = None, False

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
        self._forget()
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
        if self._cold is not None:  # a build that stopped while reading
            self._cold.close()
            self._cold = None
        if self._store is not None:
            self._store.close()
            self._store = None
        self._memo.clear()

    # -- the last build ----------------------------------------------------------------------

    def replay(self, sources: Sequence[SourceFile], now: datetime) -> BuildRecord | None:
        """The last build's record, if this build would do exactly what it did (and
        there is no memory to fill: a watch session's first build goes through every
        file once, so that its rebuilds need not)."""
        if self._store is None or (self._memory is not None and not self._recall):
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
        """The digest of the environment and every file's path and stat."""
        if self._inputs is not None and self._inputs[0] is sources:
            return self._inputs[3]
        changed = self._changed(sources)
        memory = self._memory
        if changed is not None and memory is not None and len(memory.lines) == len(sources):
            lines = list(memory.lines)
            for i in changed:
                lines[i] = input_line(sources[i])
            chunks = input_chunks(lines, changed, memory.input_chunks)
        else:
            lines = input_lines(sources)
            chunks = input_chunks(lines)
        digest = inputs_digest(self.environment, chunks)
        self._inputs = (sources, lines if memory is not None else [], chunks, digest)  # kept for a memory only
        return digest

    def _changed(self, sources: Sequence[SourceFile]) -> list[int] | None:
        """The positions to compare with their rows, when the memory can tell (else None)."""
        if not self._recall or self._memory is None:
            return None
        if self._delta is None or self._delta[0] is not sources:
            self._delta = (sources, self._memory.changed_positions(sources))
        return self._delta[1]

    def sources_by_path(self, sources: Sequence[SourceFile]) -> Mapping[str, SourceFile]:
        """Path -> file, for the build's lookups."""
        changed = self._changed(sources)
        memory = self._memory
        if changed is not None and memory is not None and memory.by_path:
            found = memory.by_path  # changed in place: it maps each path to its newest object
            for i in changed:
                found[sources[i].rel] = sources[i]
        elif memory is None and isinstance(sources, Listing):
            return sources.by_path()
        else:
            found = {source.rel: source for source in sources}
        self._by_path = found if memory is not None else None  # held to the end of the build for a memory only
        return found

    def selection(self, outcomes: list[KeyedOutcome], now: datetime, *, drafts: bool, future: bool,
                  shown: Callable[[str], str]) -> Selection:
        """``select``'s selection of ``outcomes`` (by source position), following the
        changed files only when the memory holds the last one."""
        memory = self._memory
        if memory is None:
            return select(outcomes, now, drafts=drafts, future=future, shown=shown)
        choice = None
        changed = self._delta[1] if self._recall and self._delta is not None else None
        last = memory.choice
        if (changed is not None and last is not None and last.drafts == drafts and last.future == future
                and len(memory.outcomes) == len(outcomes)):
            before = memory.outcomes
            choice = rechoose(last, [(before[i], outcomes[i]) for i in changed if before[i] is not outcomes[i]], now)
        if choice is None:
            choice = choose(outcomes, now, drafts=drafts, future=future, shown=shown)
        self._choice = choice
        return choice.selection

    # -- files -------------------------------------------------------------------------------

    def reuse(self, sources: Sequence[SourceFile]) -> Reuse:
        """Compare the files with the stored rows: take the keys of the unchanged ones,
        list what needs reading, and the rows of vanished files."""
        count = len(sources)
        if self._memory is None and isinstance(sources, Listing) and sources.in_path_order:
            self._digests = ListedDigests(sources)
        fresh = Reuse([None] * count, range(count), {})
        self._reuse = fresh if self._memory is not None else None  # for the memory only: held to the end
        store = self._store
        if store is None:
            self._rows = None
            return fresh
        memory = self._memory
        if self._recall and memory is not None and memory.rows is not None:
            rows, self._decoded = memory.rows, memory.decoded
            self._index_held, self._index_changes = True, memory.index_changes
        else:
            try:
                rows = store.rows()
            except (sqlite3.Error, ValueError, TypeError) as exc:
                self._forget()
                self._replace_damaged(exc)
                return fresh
            self._index_held, self._index_changes = store.index_held, store.index_changes
        columns = rows.columns
        rels = columns[0]
        changed = self._changed(sources)
        if changed is not None and memory is not None:  # only the files the memory cannot vouch for
            reuse = Reuse(list(memory.outcomes), [], {})
            # Changed in place: the digests of the changed files are set again by this build
            # before any is used, and a build that does not commit leaves them changed, which
            # the next is again (their objects are still not the memory's).
            self._digests = memory.digests
            for i in changed:
                reuse.outcomes[i] = None
            pairs: Any = [(i, _find(rels, sources[i].rel)) for i in changed]
        elif not rels:  # an empty table: every file is read
            self._rows = rows
            if memory is None:
                self._cold = store.packed_rows(self._shared_positions)
            return fresh  # held for a memory since the start
        else:
            source_rels = sources.rels if isinstance(sources, Listing) else [source.rel for source in sources]
            reuse = Reuse([None] * count, [], {})
            if source_rels == rels:  # the same files as last time: the usual case
                pairs = enumerate(range(len(rels)))
            else:
                at = dict(zip(rels, range(len(rels))))
                pairs = enumerate([at.get(rel) for rel in source_rels])
                listed = set(source_rels)
                reuse.stale = [rel for rel in rels if rel not in listed]
        self._compare(sources, rows, pairs, reuse)
        self._rows = rows
        self._reuse = reuse if self._memory is not None else None
        return reuse

    def _compare(self, sources: Sequence[SourceFile], rows: Rows, pairs: Iterable[tuple[int, int | None]],
                 reuse: Reuse) -> None:
        """For each (source position, row position or None): the stored outcome, when
        the stat vouches for it, or the file to read."""
        columns = rows.columns
        _, sizes, mtimes, ctimes, inodes, digests, checked = columns[:KEY_AT]
        key_columns = columns[KEY_AT:]
        decode, decoded, outcomes, known = self._decode_key, self._decoded, reuse.outcomes, self._digests
        work: list[int] = []
        for i, j in pairs:
            if j is None:
                work.append(i)
                continue
            source = sources[i]
            if (sizes[j] == source.size and mtimes[j] == source.mtime_ns and ctimes[j] == source.ctime_ns
                    and inodes[j] == source.ino and source.mtime_ns <= checked[j] - RACY_NS):
                outcome = decoded.get(source.rel) or decode(source.rel, tuple([c[j] for c in key_columns]))
                if outcome is not None:
                    outcomes[i] = outcome
                    known[source.rel] = digests[j]
                    continue
                self._undecoded += 1
            work.append(i)  # changed, too recent to trust its stat, or a row that did not decode
            reuse.confirm[i] = digests[j]
            stored_id, draft = key_columns[_ID_AT][j], key_columns[_DRAFT_AT][j]
            if type(stored_id) is str and draft == 0:
                self._previous_ids[source.rel] = stored_id
        reuse.work = work

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
        stored: dict[str, KeyedOutcome] = {}  # the outcomes of the rows put
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
                    if self._memory is not None:
                        stored[rel] = outcome
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
        self._write(rows, confirmed, dropped, stored)
        return again

    def _stored_outcome(self, rel: str) -> KeyedOutcome | None:
        """The stored outcome of a file whose text was confirmed unchanged."""
        rows = self._rows
        if rows is None:
            return None
        j = _find(rows.columns[0], rel)
        if j is None:
            return None
        outcome = self._decoded.get(rel) or self._decode_key(rel, tuple(column[j] for column in rows.columns[KEY_AT:]))
        self._undecoded += outcome is None
        return outcome

    def _write(self, rows: list[tuple[Any, ...]], confirmed: list[tuple[Any, ...]], dropped: list[str],
               stored: dict[str, KeyedOutcome]) -> None:
        store = self._store
        if store is None:
            return
        try:
            shared, share = self._shared_positions, self._shared.setdefault
            written = store.put(rows)
            cold = self._cold
            if cold is not None:
                cold.add(written)
            for row in written if cold is None else ():
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
            return
        if self._memory is not None:  # what the memory will need of these rows (only then: a cold build
            for row in written:  # would hold it for every article)
                self._decoded_changes[row[0]] = stored[row[0]]
                self._written.add(row[0])
            self._written.update(values[-1] for values in confirmed)
            for rel in dropped:
                self._decoded_changes[rel] = None
                self._written.discard(rel)

    def index_rows(self, reuse: Reuse) -> None:
        """Every file is read: drop the rows of vanished ones and bring the row index up
        to date (in this build's transaction): the paths of the rows changed since it
        was written, while they are few, else the whole index again, freeing what it
        took before the feeds render (unless a memory keeps the rows)."""
        store, rows, cold = self._store, self._rows, self._cold
        self._rows = self._cold = None
        try:
            if store is not None:
                self._index(store, rows, cold, reuse)
        finally:
            if cold is not None:
                cold.close()

    def _index(self, store: Store, rows: Rows | None, cold: PackedRows | None, reuse: Reuse) -> None:
        """``index_rows`` with a store: from the rows it started from, or the cold rows."""
        try:
            store.drop(reuse.stale)
            for rel in reuse.stale:
                self._put[rel] = None
                if self._memory is not None:
                    self._decoded_changes[rel] = None
            updated = rows
            if rows is None or self._put or self._confirmed or not self._index_held:
                most = max(INDEX_CHANGES_MIN, len(rows.columns[0]) // INDEX_CHANGES_SHARE) if rows is not None else 0
                few = self._index_held and len(self._put) + len(self._confirmed) <= most  # before making the set
                changes = self._index_changes.union(self._put, self._confirmed) if few else frozenset()
                if rows is not None and few and len(changes) <= most:
                    store.set_index_changes(changes)
                    if self._recall:  # the memory's rows change once this build commits (``_remember``)
                        self._unapplied = (self._put, self._confirmed)
                    else:
                        updated = rows.updated(self._put, self._confirmed)
                elif cold is not None and cold.in_order and not self._put and not self._confirmed:
                    store.write_packed_index(cold)  # every row this build put, and the table held none
                else:
                    base = rows if rows is not None else Rows.empty(store.width)
                    if cold is not None:  # rows put out of path order: unpacked, sorted
                        base = cold.rows().in_path_order()
                    if self._recall:  # the memory's rows stay as they are until this build commits
                        base = Rows([list(column) for column in base.columns])
                    updated = base.updated(self._put, self._confirmed)
                    self._put, self._confirmed, self._shared = {}, {}, {}  # freed before the index is packed
                    store.write_index(updated, self._shared_positions)
                self._index_changes = store.index_changes
            self._committed_rows = updated if self._memory is not None else None
            del updated
        except (sqlite3.Error, MemoryError, ValueError, OverflowError, OSError) as exc:
            self._lost(exc, reading=False)
        self._put, self._confirmed, self._shared = {}, {}, {}

    # -- whole entries and bodies ------------------------------------------------------------

    def entry(self, key: EntryKey) -> Entry | None:
        """The whole entry behind ``key``, or None when it cannot be proven to be the one
        stored for it (the build then reads its file again)."""
        found = self._held(key)
        if found is not _IN_STORE:
            return self.decoded(key, found)
        store, text = self._store, None
        if store is not None:
            try:
                damaged_before = store.damaged_values
                text = store.entry_text(key.source)
                if store.damaged_values > damaged_before:  # read again now; stored again next build
                    store.forget(key.source)
                    self._forget()
            except sqlite3.Error as exc:
                self._lost(exc, reading=True)
        entry = self._decode_entry(key, text)
        memory = self._memory
        if entry is not None and memory is not None and (digest := self._digests.get(key.source)) is not None:
            memory.keep_entry(key.source, digest, entry)
        return entry

    def stored(self, keys: Sequence[EntryKey], bodies: bool) -> list[StoredEntry]:
        """For each key, what ``entry`` and (with ``bodies``) ``body`` give, the entry's
        decoding left to ``decoded``, which a worker process may run: the entry if it is
        held, else the text it is proven stored as (None: read its file again); and the
        body's HTML if one is kept. The store is asked once for them all."""
        entries: list[Entry | str | None | Literal[_Where.IN_STORE]] = []
        kept: list[str | None] = []
        asked: list[int] = []
        for key in keys:
            held = self._held(key)
            body = self._bodies.get(key.source) if bodies else None
            if held is _IN_STORE or (bodies and body is None):
                asked.append(len(entries))
            entries.append(held)
            kept.append(body)
        store = self._store
        if asked and store is not None:
            try:
                texts, damaged = store.entry_texts([keys[i].source for i in asked], bodies)
                for rel in damaged:  # read again now; stored again next build
                    store.forget(rel)
                if damaged:
                    self._forget()
            except sqlite3.Error as exc:
                self._lost(exc, reading=True)
                texts = {}
            for i in asked:
                text, html = texts.get(keys[i].source, (None, None))
                if entries[i] is _IN_STORE:
                    entries[i] = text
                if kept[i] is None:
                    kept[i] = html
        return [(None if held is _IN_STORE else held, body) for held, body in zip(entries, kept)]

    def decoded(self, key: EntryKey, found: Entry | str | None) -> Entry | None:
        """The entry ``stored`` gave for ``key``: decoded, if it was a text. Reads nothing."""
        return self._decode_entry(key, found) if isinstance(found, str) else found

    def _held(self, key: EntryKey) -> Entry | str | None | Literal[_Where.IN_STORE]:
        """The entry if this build or the memory holds it (None: it holds another),
        its text if held packed, else ``_IN_STORE``."""
        held = self._whole.get(key.source)
        if held is not None:
            return held if EntryKey.of(held) == key else None
        packed = self._entries.get(key.source)
        if packed is not None:
            return zlib.decompress(packed).decode("utf-8", "surrogatepass")
        memory = self._memory
        if memory is not None and (digest := self._digests.get(key.source)) is not None:  # decoded earlier
            known = memory.entries.get(key.source)
            if known is not None and known[0] == digest and EntryKey.of(known[1]) == key:
                return known[1]
        return _IN_STORE

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

    def term_index(self, taxonomies: tuple[str, ...], selection: Selection) -> TermIndex | None:
        """The terms of ``selection``'s entries (for ``feedsets``), followed from the
        last build's when the memory holds them, or None without a memory. The memory's
        index is changed in place, so it is taken from the memory until this build
        commits (a build that does not commit leaves none: the next makes it anew)."""
        memory, choice = self._memory, self._choice
        if memory is None or choice is None or choice.selection is not selection:
            return None
        index, memory.terms = memory.terms, None
        if not (self._recall and index is not None and choice.followed and index.taxonomies == taxonomies
                and index.changed(choice.removed, choice.added)):
            index = TermIndex(taxonomies, selection.entries)
        self._terms = index
        return index

    def renderings(self) -> KeptRenderings | None:
        """The entries rendered by the earlier builds of this process with the same output
        settings (a ``render.KeptRenderings``), or None without a memory."""
        memory = self._memory
        if memory is None:
            return None
        if memory.renderings is None or memory.renderings_environment != self.environment:
            from mkfeeds.render import KeptRenderings

            memory.renderings, memory.renderings_environment = KeptRenderings(), self.environment
        return memory.renderings

    def feed_digest(self, spec: Any, sources: Mapping[str, SourceFile]) -> str:
        """What the feed's bytes depend on; equal digests, equal bytes. With the memory,
        a feed whose place, names and entries (the very keys) are the last build's, none
        of whose files changed, has the last build's digest without going through them."""
        place = (spec.key, spec.kind, spec.folder, spec.title, spec.description, spec.full_content,
                 spec.complete, spec.history)
        memory = self._memory
        changed = self._changed_paths()
        if memory is not None and changed is not None and memory.feed_digests_environment == self.environment:
            last = memory.feed_digests.get(spec.key)
            if (last is not None and last[0] == place and len(last[1]) == len(spec.entries)
                    and all(map(operator.is_, last[1], spec.entries))
                    and changed.isdisjoint(map(operator.attrgetter("source"), spec.entries))):
                self._feed_digests[spec.key] = last
                return last[2]

        def text_of(key: EntryKey) -> str:
            known = self._digests.get(key.source)
            return known.hex() if known is not None else repr(self.entry(key))

        digest = feed_digest(self.environment, spec, sources, text_of)
        if memory is not None:
            self._feed_digests[spec.key] = (place, spec.entries, digest)
        return digest

    def _changed_paths(self) -> set[str] | None:
        """The paths this build compared with their rows, when the memory told which."""
        if self._changed_rels is None and self._delta is not None:
            sources, changed = self._delta
            if changed is not None:
                self._changed_rels = {sources[i].rel for i in changed}
        return self._changed_rels

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
            generation = store.commit()
        except sqlite3.Error as exc:
            self._lost(exc, reading=False)
            return
        self._remember(str(store.path), generation)

    def _remember(self, state_file: str, generation: str) -> None:
        """After a commit: what the next build in this process needs of this one."""
        memory, reuse, rows, inputs = self._memory, self._reuse, self._committed_rows, self._inputs
        if memory is None:
            return
        if reuse is None or rows is None or inputs is None:
            memory.forget()
            return
        sources, lines, chunks, _ = inputs
        if self._unapplied is not None:
            rows = rows.updated(*self._unapplied)  # in place, now that the state holds them too
        outcomes = cast("list[KeyedOutcome]", reuse.outcomes)  # every one is set: the build checked
        if self._recall:
            decoded = memory.decoded
            for rel, outcome in self._decoded_changes.items():
                if outcome is None:
                    decoded.pop(rel, None)
                else:
                    decoded[rel] = outcome
        else:  # a row for a file holds that file's outcome
            decoded = dict(zip([source.rel for source in sources], outcomes))
            if len(decoded) != len(rows.columns[0]) or list(decoded) != rows.columns[0]:
                held = set(rows.columns[0])
                decoded = {rel: outcome for rel, outcome in decoded.items() if rel in held}
        trusted_until = self.started_ns - RACY_NS
        written = self._written
        memory.generation, memory.state_file = generation, state_file
        memory.rows, memory.index_changes, memory.decoded = rows, self._index_changes, decoded
        memory.sources, memory.outcomes = list(sources), outcomes  # the caller's list changes; this build's not
        memory.lines, memory.input_chunks = lines, chunks
        memory.unsettled = [i for i in reuse.work
                            if not (sources[i].rel in written and sources[i].mtime_ns <= trusted_until)]
        memory.digests = self._digests if isinstance(self._digests, dict) else dict(self._digests)  # a dict with a memory
        memory.by_path = self._by_path if self._by_path is not None else {s.rel: s for s in sources}
        memory.choice, memory.terms = self._choice, self._terms
        memory.feed_digests, memory.feed_digests_environment = self._feed_digests, self.environment


def _find(rels: list[str], rel: str) -> int | None:
    """Where ``rel`` is in the sorted ``rels``, if it is."""
    from bisect import bisect_left

    j = bisect_left(rels, rel)
    return j if j < len(rels) and rels[j] == rel else None
