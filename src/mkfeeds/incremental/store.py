"""The state folder's SQLite file: one row per article file, and the build's records.

The ``files`` table holds what each article file became (``codec``: its key as plain
columns, its whole entry as JSON, its body's HTML once a feed has shown it), with the
stat it had when read and a digest of its text. ``meta`` holds the fingerprint (what
empties the table), the row index (the rows' stat and key columns, a BLOB per column,
which a rebuild reads in one go instead of walking the table), the paths of the rows
changed since the index was written (read from the table on top of it, so a build that
changes a few rows does not rewrite the whole index), a generation (a token that changes
with every commit, which tells a process whether the state is still the one it
remembers) and the records of the last build (feed digests, the up-to-date record),
each written in the build's one transaction: they always agree with the rows.

Every value read back is proven to be what was stored: the row index by a CRC, each
row's key, entry and body and the build's records by a seal (a digest of the value and
its row's path or record's name), checked on read. A value that fails is damage: the row
or record is treated as missing, and ``damaged_values`` counts it (the build warns).

A store is opened inside one write transaction for the whole build (``BEGIN
IMMEDIATE``): concurrent builds cannot interleave, and an interrupted or failed build
leaves the previous state as it was. ``StoreUnavailable`` says, in one line, why a store
cannot be used; the build then goes on without it.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
import stat
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from pathlib import Path
from operator import itemgetter
from typing import Any, BinaryIO, NamedTuple, cast

SCHEMA_VERSION = 8  # the table layout, the JSON shape of a row, the sealed records; bump on any change
APPLICATION_ID = 0x6D6B6664  # "mkfd": marks an SQLite file as an mkfeeds state file
LOCK_TIMEOUT = 2.0  # seconds to wait for another build's write lock before going without
STATE_FILE = "state.sqlite"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_INDEX_FORMAT = b"mkfeeds row index 2\n"
_CHANGES_KEY = "row_index_changes"  # the paths whose rows the index does not hold as they are

# The columns of a row as the row index holds them (no entry, no body), in this order.
STAT_COLUMNS = ("rel", "size", "mtime_ns", "ctime_ns", "ino", "digest", "checked_ns")
KEY_AT = len(STAT_COLUMNS)  # where the key columns start in a row of the index


class StoreUnavailable(Exception):
    """The store cannot be used for this build; ``str()`` says why, in one line."""


class NotOurs(StoreUnavailable):
    """A file at the state path that is not mkfeeds' own: it is left alone."""


class Rows(NamedTuple):
    """Every row's stat and key columns, as columns (lists of equal length), sorted by path."""

    columns: list[list[Any]]

    @classmethod
    def empty(cls, width: int) -> Rows:
        return cls([[] for _ in range(width)])

    def in_path_order(self) -> Rows:
        """These rows sorted by path: the same value when they already are (rows put in
        the order they were listed)."""
        rels = self.columns[0]
        if all(a < b for a, b in zip(rels, rels[1:])):
            return self
        order = sorted(range(len(rels)), key=rels.__getitem__)
        return Rows([[column[i] for i in order] for column in self.columns])

    def updated(self, put: dict[str, tuple[Any, ...] | None], confirmed: dict[str, tuple[int, ...]]) -> Rows:
        """The rows after a build's writes: rows put whole (or dropped: None), rows whose
        file was confirmed unchanged given new (size, mtime_ns, ctime_ns, ino, checked_ns).
        Changes these lists: this value is not to be used after."""
        columns = self.columns
        rels = columns[0]
        added: list[tuple[Any, ...]] = []
        dropped: set[int] = set()
        for rel, row in put.items():
            j = bisect_left(rels, rel)
            found = j < len(rels) and rels[j] == rel
            if row is None:
                if found:
                    dropped.add(j)
            elif found:
                for column, value in zip(columns, row):
                    column[j] = value
            else:
                added.append(row)
        for rel, values in confirmed.items():
            j = bisect_left(rels, rel)
            if j < len(rels) and rels[j] == rel:
                for position, value in zip((1, 2, 3, 4, 6), values):
                    columns[position][j] = value
        if not added and not dropped:
            return self
        rows = [row for j, row in enumerate(zip(*columns)) if j not in dropped]
        rows.extend(added)
        rows.sort(key=itemgetter(0))
        return Rows([list(column) for column in zip(*rows)] if rows else [[] for _ in columns])


def seal(rel: str, value: str | bytes) -> bytes:
    """What proves a stored value is the one written for this row."""
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
    return hashlib.blake2b(data, digest_size=12, key=rel.encode("utf-8", "surrogatepass")[:64]).digest()


def key_seal(rel: str, row: Sequence[Any]) -> bytes:
    """What proves a row's digest and key columns are the ones written (its stats need no
    proof: a wrong one only makes the file be read again)."""
    return seal(rel, repr((row[5], *row[KEY_AT:])))  # the digest and the key, not the checked time


def regular_or_absent(path: Path) -> os.stat_result | None:
    """The stat of ``path`` if it is a regular file, None if it does not exist; anything
    else (a folder, a FIFO, a device) cannot be a state file: ``StoreUnavailable``."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreUnavailable(f"{path} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise StoreUnavailable(f"{path} is not a regular file; remove it or choose another --cache")
    return st


class Store:
    """The open state file, inside one write transaction."""

    def __init__(self, path: Path, fingerprint: str, key_columns: Sequence[str]) -> None:
        self.path = path
        self.key_columns = tuple(key_columns)
        self.width = KEY_AT + len(self.key_columns)
        self.reset_reason: str | None = None  # set when the rows were emptied (new fingerprint...)
        self.replaced: str | None = None  # set when a damaged file was replaced by this one
        self.index_held = False  # the rows came from the row index, which held
        self.index_changes: frozenset[str] = frozenset()  # rows read from the table on top of the index
        self.damaged_values = 0  # values read back that failed their check (treated as missing)
        self._db = _open_file(path)
        try:
            self._begin(fingerprint)
        except BaseException:
            self._db.close()
            raise

    # -- opening ---------------------------------------------------------------------------

    def _begin(self, fingerprint: str) -> None:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")  # the write lock, for the whole build
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise StoreUnavailable(f"{self.path} is in use by another build") from None
            raise
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if app_id != APPLICATION_ID:
            if app_id != 0 or tables:
                raise NotOurs(f"{self.path} is an SQLite database but not mkfeeds' state; it was left alone: "
                              "remove it, or choose another --cache")
            self._create()
        elif db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION or tables != {"files", "meta"}:
            for table in tables:
                db.execute(f'DROP TABLE "{table}"')
            self._create()
            self.reset_reason = "it was written by another version of mkfeeds"
        elif self.meta("fingerprint") != fingerprint:
            db.execute("DELETE FROM files")
            db.execute("DELETE FROM meta")
            self.reset_reason = "the mkfeeds version, its rules, the settings or the input folder changed"
        self.set_meta("fingerprint", fingerprint)

    def _create(self) -> None:
        db = self._db
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        keys = ", ".join(f"k_{name}" for name in self.key_columns)  # no type: values kept as given
        db.execute(f"CREATE TABLE files (rel TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL, "
                   f"mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, ino INTEGER NOT NULL, "
                   f"digest BLOB NOT NULL, checked_ns INTEGER NOT NULL, {keys}, "
                   f"key_seal BLOB, entry TEXT, entry_seal BLOB, body TEXT, body_seal BLOB)")
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value)")

    # -- the records beside the rows --------------------------------------------------------

    def meta(self, key: str) -> Any:
        found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return found[0] if found else None

    def set_meta(self, key: str, value: Any) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def sealed_meta(self, key: str) -> str | None:
        """A record written by ``set_sealed_meta``, if it is the one written (else damage)."""
        found = self._db.execute("SELECT key, value FROM meta WHERE key IN (?, ?)", (key, f"{key}/seal")).fetchall()
        values = dict(found)
        text = values.get(key)
        if text is None:
            return None
        if type(text) is str and values.get(f"{key}/seal") == seal(key, text):
            return text
        self.damaged_values += 1
        return None

    def set_sealed_meta(self, key: str, text: str | None) -> None:
        self.set_meta(key, text)
        self.set_meta(f"{key}/seal", None if text is None else seal(key, text))

    # -- the rows ---------------------------------------------------------------------------

    def rows(self) -> Rows:
        """Every row's stat and key columns, sorted by path: from the row index when it
        holds (its CRC and shape), with the rows changed since it was written read from
        the table; else all from the table (each row then checked for the types the
        comparison relies on). ``ValueError`` when the table is damaged."""
        found = self.read_index()
        self.index_held = found is not None
        if found is not None:
            return found
        self.index_changes = frozenset()
        columns: list[list[Any]] = [[] for _ in range(self.width)]
        shared: dict[Any, Any] = {}
        share = shared.setdefault  # one string per distinct name, not one per row
        cursor = self._db.execute(f"SELECT {self._row_columns} FROM files ORDER BY rel")
        while batch := cursor.fetchmany(1024):
            proven = self._proven(batch)
            for position, (column, values) in enumerate(zip(columns, zip(*proven))):  # a row not proven:
                column.extend(values if position < KEY_AT else map(share, values, values))  # as if missing
        if not plausible(columns):
            raise ValueError("rows whose values are not of their types")
        return Rows(columns)

    @property
    def _row_columns(self) -> str:
        return ", ".join([*STAT_COLUMNS, *(f"k_{n}" for n in self.key_columns), "key_seal"])

    def _proven(self, batch: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """The rows whose seal holds (the others count as damage), without the seal."""
        proven = [row[:-1] for row in batch if type(row[0]) is str and row[-1] == key_seal(row[0], row[:-1])]
        self.damaged_values += len(batch) - len(proven)
        return proven

    def put(self, rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Rows of (stat columns..., key columns..., entry JSON or None), body emptied.
        Returns the rows written (a path that is not UTF-8 cannot be stored)."""
        width = self.width
        sealed = [(*row[:width], key_seal(row[0], row[:width]), row[-1],
                   None if row[-1] is None else seal(row[0], row[-1])) for row in rows]
        marks = ", ".join("?" * (self.width + 3))
        written = self._write(f"INSERT OR REPLACE INTO files VALUES ({marks}, NULL, NULL)", sealed)
        return [row[:self.width] for row in written]

    def confirm(self, rows: Iterable[tuple[int, int, int, int, int, str]]) -> None:
        """(size, mtime_ns, ctime_ns, ino, checked_ns, rel): the text was confirmed unchanged."""
        self._write("UPDATE files SET size = ?, mtime_ns = ?, ctime_ns = ?, ino = ?, checked_ns = ? "
                    "WHERE rel = ?", list(rows))

    def drop(self, rels: Iterable[str]) -> None:
        self._write("DELETE FROM files WHERE rel = ?", [(rel,) for rel in rels])

    def forget(self, rel: str) -> None:
        """Drop a row found damaged after the row index was written, and the index with it
        (the next build reads the table and writes it again): the file is read anew."""
        self._write("DELETE FROM files WHERE rel = ?", [(rel,)])
        self._db.execute("DELETE FROM meta WHERE key = 'row_index'")

    def entry_text(self, rel: str) -> str | None:
        """The entry's JSON, if it is the one stored for this row."""
        return self._sealed("SELECT entry, entry_seal FROM files WHERE rel = ?", rel)

    def entry_texts(self, rels: Sequence[str], bodies: bool) -> tuple[dict[str, tuple[str | None, str | None]], list[str]]:
        """``entry_text`` (and, with ``bodies``, ``body``) of many rows at once, in the
        order of the table rather than of the caller; and the rows whose entry failed
        its check."""
        found: dict[str, tuple[str | None, str | None]] = {}
        damaged: list[str] = []
        columns = "rel, entry, entry_seal" + (", body, body_seal" if bodies else "")
        storable = [rel for rel in rels if _is_utf8(rel)]  # a path that is not UTF-8: never stored
        for start in range(0, len(storable), 500):
            part = storable[start:start + 500]
            for row in self._db.execute(f"SELECT {columns} FROM files WHERE rel IN ({', '.join('?' * len(part))})",
                                        part):
                rel = row[0]
                entry = self._proven_value(rel, row[1], row[2])
                if entry is None and row[1:3] != (None, None):
                    damaged.append(rel)
                found[rel] = (entry, self._proven_value(rel, row[3], row[4]) if bodies else None)
        return found, damaged

    def body(self, rel: str) -> str | None:
        """The body's HTML, if a build has rendered it since the row was written."""
        return self._sealed("SELECT body, body_seal FROM files WHERE rel = ?", rel)

    def keep_bodies(self, bodies: Iterable[tuple[str, str]]) -> None:
        """(rel, HTML): the body of each file as its row has it."""
        self._write("UPDATE files SET body = ?, body_seal = ? WHERE rel = ?",
                    [(html, seal(rel, html), rel) for rel, html in bodies])

    def write_index(self, rows: Rows, shared: frozenset[int]) -> None:
        """The row index: each column as a BLOB of its own, in this transaction."""
        self._write_index((position, _column_blob(column, position in shared))
                          for position, column in enumerate(rows.columns))

    def packed_rows(self, shared: frozenset[int]) -> PackedRows:
        """Rows to pack as a cold build puts them, spilled to an unnamed file beside the
        state file (held in memory if none can be made)."""
        import tempfile

        try:
            spill: BinaryIO | None = tempfile.TemporaryFile(dir=self.path.parent)
        except OSError:
            spill = None
        return PackedRows(self.width, shared, spill)

    def write_packed_index(self, packed: PackedRows) -> None:
        """The row index of a cold build, from the rows as they were packed when put (in
        path order): each column's BLOB made and written one at a time."""
        if not packed.in_order:
            raise ValueError("rows packed out of path order")
        self._write_index(packed.blobs())

    def _write_index(self, blobs: Iterable[tuple[int, bytes]]) -> None:
        self._db.execute("DELETE FROM meta WHERE key LIKE 'row_index/%'")
        for position, blob in blobs:
            self.set_meta(f"row_index/{position}", blob)
        self.set_meta("row_index", self.width)
        self.set_index_changes(frozenset())

    def set_index_changes(self, rels: frozenset[str]) -> None:
        """The paths whose rows changed (or went) since the row index was written."""
        self.set_meta(_CHANGES_KEY, _column_blob(sorted(rels), False))
        self.index_changes = rels

    def read_index(self) -> Rows | None:
        """The row index, if every column of it holds and they agree, with the rows
        changed since it was written read from the table; else None."""
        if self.meta("row_index") != self.width:
            return None
        columns = []
        for position in range(self.width):
            column = _column_of_blob(self.meta(f"row_index/{position}"))
            if column is None:  # the table holds the same rows: an optimisation lost, not damage to tell
                return None
            columns.append(column)
        changes = _column_of_blob(self.meta(_CHANGES_KEY))
        if changes is None or not all(type(rel) is str for rel in changes):
            return None
        if len({len(column) for column in columns}) != 1 or not _sorted_paths(columns[0]):
            return None
        rows = Rows(columns)
        if changes:  # as the table holds them now (a row not proven: as if missing)
            put: dict[str, tuple[Any, ...] | None] = dict.fromkeys(changes)
            for start in range(0, len(changes), 500):
                part = changes[start:start + 500]
                found = self._db.execute(f"SELECT {self._row_columns} FROM files WHERE rel IN "
                                         f"({', '.join('?' * len(part))})", part).fetchall()
                put.update((row[0], row) for row in self._proven(found))
            rows = rows.updated(put, {})
        if not plausible(rows.columns):
            return None
        self.index_changes = frozenset(changes)
        return rows

    def generation(self) -> Any:
        """The token of the last commit (None before the first)."""
        return self.meta("generation")

    def commit(self) -> str:
        """Commit, under a new generation; returns it."""
        token = os.urandom(12).hex()
        self.set_meta("generation", token)
        self._db.execute("COMMIT")
        return token

    def close(self) -> None:
        """Close; anything not committed is rolled back."""
        try:
            self._db.close()
        except sqlite3.Error:
            pass

    def _sealed(self, query: str, rel: str) -> str | None:
        try:
            found = self._db.execute(query, (rel,)).fetchone()
        except UnicodeEncodeError:  # a path that is not UTF-8: never stored
            return None
        if found is None:
            return None
        return self._proven_value(rel, *found)

    def _proven_value(self, rel: str, value: Any, value_seal: Any) -> str | None:
        """``value`` if its seal proves it is the one written for this row (None: none
        kept yet, or damaged, which is counted)."""
        if value is None and value_seal is None:  # no value kept yet
            return None
        if type(value) is str and type(value_seal) is bytes and seal(rel, value) == value_seal:
            return value
        self.damaged_values += 1
        return None

    def _write(self, statement: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """SQLite holds UTF-8 text only: a row with an unpaired surrogate (from a file
        name that is not UTF-8) is left out, so that file is simply not cached. The rows
        are checked only when a batch fails (each statement is idempotent)."""
        try:
            self._db.executemany(statement, rows)
        except UnicodeEncodeError:
            rows = [row for row in rows if _utf8(row)]
            self._db.executemany(statement, rows)
        return rows


def _utf8(row: tuple[Any, ...]) -> bool:
    try:
        for value in row:
            if type(value) is str:
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def plausible(columns: list[list[Any]]) -> bool:
    """What comparing rows with files relies on, without the decoder's checks: paths
    (sorted, unique), stats and digests of their types."""
    rels, digests = columns[0], columns[5]
    return (_sorted_paths(rels)
            and all(type(value) is int for column in (columns[1], columns[2], columns[3], columns[4], columns[6])
                    for value in column)
            and all(type(value) is bytes and len(value) == 16 for value in digests))


def _sorted_paths(rels: list[Any]) -> bool:
    return all(type(rel) is str for rel in rels) and all(a < b for a, b in zip(rels, rels[1:]))


class PackedRows:
    """A cold build's rows as it puts them, packed per column: a column with few
    distinct values as a table of values and a number per row (its BLOB's shape), any
    other as compressed chunks of marshalled values, which go to ``spill`` (an
    unnamed temporary file) as they are made. The build then holds a few bytes a row
    while it reads every article, not a list per column and an object per value, and
    the row index is written from these (``Store.write_packed_index``). Rows must come
    in path order, as a listing is; ``in_order`` says whether they did. ``close``
    releases the spill."""

    CHUNK = 4096  # rows marshalled and compressed together

    def __init__(self, width: int, shared: frozenset[int], spill: BinaryIO | None = None) -> None:
        self.width, self.shared = width, shared
        self.in_order = True
        self._last: str | None = None
        self._tables: dict[int, dict[Any, int]] = {position: {} for position in shared}
        self._codes = {position: array("H") for position in shared}  # widened to "I" past 65,536 values
        # Per column, each chunk: its bytes, or where the spill holds them (offset, length).
        self._chunks: dict[int, list[bytes | tuple[int, int]]] = {
            position: [] for position in range(width) if position not in shared}
        self._pending: list[tuple[Any, ...]] = []
        self._spill = spill

    def add(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows of the index's columns (``Store.put``'s return), after those added before."""
        for row in rows:
            if self._last is not None and not self._last < row[0]:
                self.in_order = False
            self._last = row[0]
        self._pending.extend(rows)
        while len(self._pending) >= self.CHUNK:
            self._pack(self.CHUNK)

    def _pack(self, count: int | None = None) -> None:
        """Pack the first ``count`` pending rows (all of them: None)."""
        pending, self._pending = self._pending[:count], self._pending[len(self._pending) if count is None else count:]
        spill = self._spill
        for position, values in enumerate(zip(*pending)):
            if position in self.shared:
                table = self._tables[position]
                codes = [table.setdefault(value, len(table)) for value in values]
                if len(table) > 0xFFFF and self._codes[position].typecode == "H":
                    self._codes[position] = array("I", self._codes[position])
                self._codes[position].extend(codes)
                continue
            chunk = zlib.compress(marshal.dumps(list(values), 4), 1)
            if spill is None:
                self._chunks[position].append(chunk)
            else:
                self._chunks[position].append((spill.seek(0, os.SEEK_END), len(chunk)))
                spill.write(chunk)

    def _chunk(self, held: bytes | tuple[int, int]) -> bytes:
        if isinstance(held, bytes):
            return held
        assert self._spill is not None
        offset, length = held
        self._spill.seek(offset)
        chunk = self._spill.read(length)
        if len(chunk) != length:
            raise OSError("the spilled rows were cut short")
        return chunk

    def blobs(self) -> Iterable[tuple[int, bytes]]:
        """(position, the column's BLOB), one column at a time."""
        self._pack()
        for position in range(self.width):
            if position in self.shared:
                yield position, _table_blob(list(self._tables[position]), array("I", self._codes[position]))
            else:
                yield position, _framed(marshal.dumps(("z", [self._chunk(held) for held in self._chunks[position]]), 4))

    def rows(self) -> Rows:
        """The rows unpacked, as the columns of ``Rows`` (in the order they came)."""
        columns = [_column_of_blob(blob) for _, blob in self.blobs()]
        if any(column is None for column in columns):
            raise ValueError("packed rows that do not unpack")
        return Rows(cast("list[list[Any]]", columns))

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()


def _column_blob(column: list[Any], shared: bool) -> bytes:
    """One column marshalled (data only: marshal runs no code): a column with few
    distinct values as a table of values and a number per row (``PackedRows`` writes
    the others of a cold build as compressed chunks); then a CRC-32. One column
    at a time, so packing the index never holds more than one column twice."""
    if shared:
        table: dict[Any, int] = {}
        codes = array("I", [table.setdefault(value, len(table)) for value in column])
        return _table_blob(list(table), codes)
    return _framed(marshal.dumps(("l", column), 4))


def _table_blob(values: list[Any], codes: array) -> bytes:
    """A column as its distinct values and a four-byte code per row."""
    return _framed(marshal.dumps(("t", values, codes.tobytes()), 4))


def _framed(data: bytes) -> bytes:
    return _INDEX_FORMAT + data + zlib.crc32(data).to_bytes(4, "big")


def _column_of_blob(blob: Any) -> list[Any] | None:
    """The column stored as ``blob``, if it holds (its CRC, its shape); else None."""
    head = len(_INDEX_FORMAT)
    if type(blob) is not bytes or not blob.startswith(_INDEX_FORMAT) or len(blob) < head + 4:
        return None
    data = memoryview(blob)[head:-4]
    if zlib.crc32(data) != int.from_bytes(blob[-4:], "big"):
        return None
    try:
        part = marshal.loads(data)
        if type(part) is tuple and len(part) == 2 and part[0] == "l" and type(part[1]) is list:
            return part[1]
        if type(part) is tuple and len(part) == 3 and part[0] == "t" and type(part[1]) is list \
                and type(part[2]) is bytes:
            codes = array("I")
            codes.frombytes(part[2])
            if codes and max(codes) >= len(part[1]):
                return None
            return list(map(part[1].__getitem__, codes))
        if type(part) is tuple and len(part) == 2 and part[0] == "z" and type(part[1]) is list:
            column: list[Any] = []
            for chunk in part[1]:
                values = marshal.loads(zlib.decompress(chunk)) if type(chunk) is bytes else None
                if type(values) is not list:
                    return None
                column.extend(values)
            return column
    except (ValueError, TypeError, EOFError, OverflowError, MemoryError, zlib.error):
        pass
    return None


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(os.fspath(path), timeout=LOCK_TIMEOUT, isolation_level=None)
    try:
        # KiB: a build writes its rows in one transaction, and pages that spill out of the
        # cache are written twice; but the cache is part of a cold build's peak memory.
        db.execute("PRAGMA cache_size = -8192")
        # No fsync: the state is an optimisation. A power cut may lose or damage it, which
        # costs one full build (a damaged file is replaced, with a warning).
        db.execute("PRAGMA synchronous = OFF")
    except sqlite3.Error:
        db.close()
        raise
    return db


def _open_file(path: Path) -> sqlite3.Connection:
    """A connection to ``path`` once it is known to be an SQLite file (or nothing yet):
    never a FIFO or device (which would block), never someone else's file format."""
    st = regular_or_absent(path)
    if st is not None and st.st_size:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise StoreUnavailable(f"{path} is not a regular file; remove it or choose another --cache")
                magic = os.read(fd, len(_SQLITE_MAGIC))
            finally:
                os.close(fd)
        except OSError as exc:
            raise StoreUnavailable(f"{path} cannot be read ({exc.strerror})") from None
        if magic != _SQLITE_MAGIC:
            raise NotOurs(f"{path} is not mkfeeds' state (not an SQLite file); it was left alone: "
                          "remove it, or choose another --cache")
    for suffix in ("-journal", "-wal", "-shm"):  # SQLite would open these blindly
        regular_or_absent(Path(os.fspath(path) + suffix))
    return _connect(path)


def damaged(exc: sqlite3.Error) -> bool:
    text = str(exc)
    return any(word in text for word in ("malformed", "not a database", "corrupt", "disk image"))


def remove_damaged(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.unlink(os.fspath(path) + suffix)
        except FileNotFoundError:
            pass


def open_store(path: Path, fingerprint: str, key_columns: Sequence[str]) -> Store:
    """Open (or create, or replace when damaged) the state file at ``path``. Raises
    ``StoreUnavailable`` with the reason it cannot be used."""
    try:
        return Store(path, fingerprint, key_columns)
    except StoreUnavailable:
        raise
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and not damaged(exc):
            raise StoreUnavailable(f"{path} cannot be used ({exc})") from None
        try:  # damaged: an SQLite file at our path that SQLite cannot read; start afresh
            remove_damaged(path)
            store = Store(path, fingerprint, key_columns)
        except (OSError, sqlite3.Error, StoreUnavailable) as again:
            raise StoreUnavailable(f"{path} is damaged and cannot be replaced ({again})") from None
        store.replaced = str(exc)
        return store
