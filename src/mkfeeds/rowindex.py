"""The build cache's rows as columns, in one file beside it, for the next build to read
in one go.

A rebuild compares every article file with its row and decodes every unchanged row's
key. Fetched from SQLite row by row, 100,000 rows cost ~1 s of the one process that
does it, most of a rebuild after a small change; read as a few columns from one file,
~0.2 s. The file (``<cache>.index``) holds what the ``files`` table holds but the
entries and bodies (path, size, mtime, digest, checked time and the key columns), as the
last committed build left it. ``BuildCache`` applies each of its writes to the index it
read and writes the result once the build's rows are written (``settle_index``), with a
random generation that the same transaction stores in the table's ``meta``: a build uses
the file only when the generations agree and its checksum holds, and otherwise reads
the rows from the table (and then writes a new index).

It is data, like the cache: marshalled lists of strings, numbers and bytes (marshal runs
no code), in a checksummed file, checked for shape before use; every key it gives still
goes through the cache's decoder, and every entry shown is still read from the table
and checked against its key.
"""

from __future__ import annotations

import glob
import marshal
import os
import tempfile
import zlib
from array import array
from bisect import bisect_left
from itertools import islice
from operator import itemgetter, lt
from pathlib import Path
from typing import Any

FORMAT = b"mkfeeds row index 1\n"
DIGEST_SIZE = 16  # ``cache.digest``


def path_for(cache_path: Path) -> Path:
    return cache_path.with_name(cache_path.name + ".index")


class RowIndex:
    """Rows as columns (lists of equal length), sorted by path: position 0 the path,
    then size, mtime_ns, digest, checked_ns and the key columns (``cache.KEY_COLUMNS``)."""

    def __init__(self, columns: list[Any]) -> None:
        self.columns = columns  # lists (tuples in an index only to be written)

    @classmethod
    def empty(cls, width: int) -> RowIndex:
        return cls([[] for _ in range(width)])

    def updated(self, put: dict[str, tuple | None], restated: dict[str, tuple[int, int, int]]) -> RowIndex:
        """The index after a build's writes: rows put whole (or dropped: None), rows
        whose file was confirmed unchanged given a new (size, mtime_ns, checked_ns).
        Changes this index's lists: it is not to be used after."""
        columns = self.columns
        rels = columns[0]
        added: list[tuple] = []
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
        for rel, (size, mtime_ns, checked_ns) in restated.items():
            j = bisect_left(rels, rel)
            if j < len(rels) and rels[j] == rel:
                columns[1][j], columns[2][j], columns[4][j] = size, mtime_ns, checked_ns
        if not added and not dropped:
            return RowIndex(columns)
        rows = [row for j, row in enumerate(zip(*columns)) if j not in dropped] if dropped \
            else list(zip(*columns)) if rels else []
        rows.extend(added)
        rows.sort(key=itemgetter(0))
        return RowIndex(list(zip(*rows)) if rows else [[] for _ in columns])  # tuples: to be written, not changed


def write(path: Path, index: RowIndex, generation: str, shared: frozenset[int] = frozenset()) -> None:
    """Write ``index`` for the table of this ``generation`` (replacing the file at once):
    a header, then each column marshalled (one at a time: no copy of the whole in
    memory) after its length, then the CRC-32 of what follows the header. Columns at the
    ``shared`` positions (few distinct values) are written as a table of values and a
    number per row."""
    # Files left by a build killed while writing: the caller holds the cache's write lock,
    # so no other build is writing one now.
    for leftover in path.parent.glob(f"{glob.escape(path.name)}.*.tmp"):
        try:
            leftover.unlink()
        except OSError:
            pass
    # A new file of its own (O_EXCL): never a link someone left at a name we would choose.
    descriptor, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with open(descriptor, "wb") as handle:
            handle.write(FORMAT + generation.encode("ascii") + b"\n")
            crc = 0
            for position, column in enumerate(index.columns):
                data = marshal.dumps(_encoded(column, position in shared), 2)
                size = len(data).to_bytes(8, "big")
                handle.write(size)
                handle.write(data)
                crc = zlib.crc32(data, zlib.crc32(size, crc))
                del data
            handle.write(crc.to_bytes(4, "big"))
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def read(path: Path, generation: str, width: int) -> RowIndex | None:
    """The index at ``path`` if it was written for this ``generation`` of the table and
    is whole and of the right shape; else None (never an error: the table is there)."""
    try:
        return _read(path, generation, width)
    except (OSError, ValueError, TypeError, EOFError, IndexError, OverflowError, MemoryError):
        return None


def _read(path: Path, generation: str, width: int) -> RowIndex | None:
    head = FORMAT + generation.encode("ascii", "replace") + b"\n"
    with open(path, "rb") as handle:
        data = handle.read()
    if not data.startswith(head) or len(data) < len(head) + 4:
        return None
    columns = []
    with memoryview(data) as view:
        if zlib.crc32(view[len(head):-4]) != int.from_bytes(data[-4:], "big"):
            return None
        at, end = len(head), len(data) - 4
        for _ in range(width):  # each column: its length (8 bytes), then it, marshalled
            size = int.from_bytes(view[at:at + 8], "big")
            if at + 8 + size > end:
                return None
            columns.append(_decoded(marshal.loads(view[at + 8:at + 8 + size])))
            at += 8 + size
        if at != end:
            return None
    if len({len(column) for column in columns}) != 1 or not plausible(columns):
        return None
    return RowIndex(columns)


def _encoded(column: list[Any], shared: bool) -> tuple:
    if shared:
        table: dict[Any, int] = {}
        codes = array("I", [table.setdefault(value, len(table)) for value in column])
        return ("t", list(table), codes.tobytes())
    return ("l", column)


def _decoded(item: Any) -> list[Any]:
    if type(item) is not tuple or not item:
        raise ValueError
    if item[0] == "l" and len(item) == 2 and type(item[1]) in (list, tuple):
        return list(item[1])
    if item[0] == "t" and len(item) == 3 and type(item[1]) is list and type(item[2]) is bytes:
        table, codes = item[1], array("I")
        codes.frombytes(item[2])
        if codes and max(codes) >= len(table):
            raise ValueError
        return list(map(table.__getitem__, codes))
    raise ValueError


def plausible(columns: list[list[Any]]) -> bool:
    """What the walk uses without the decoder's checks: paths, stats and digests."""
    rels, sizes, mtimes, digests, checked = columns[:5]
    return (all(type(rel) is str for rel in rels) and all(map(lt, rels, islice(rels, 1, None)))  # sorted, unique
            and all(type(value) is int for column in (sizes, mtimes, checked) for value in column)
            and all(type(value) is bytes and len(value) == DIGEST_SIZE for value in digests))
