"""The digest of each article's text, by path, as a build holds it for every article."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping

from mkfeeds.source import Listing

SIZE = 16  # bytes: the digest ``loading`` takes of a text


class ListedDigests(MutableMapping[str, bytes]):
    """Path -> digest for the files of one listing: 16 bytes a file in one buffer, found
    by the file's place in the listing's sorted paths, rather than a dict entry and a
    bytes object each (a cold build holds one per article until its feeds are written).
    A path the listing lacks, or a digest of another size, is held in a dict. The files
    of a listing are gone through in order (by the build's reading and comparing), so
    the place after the last one found is tried before bisecting."""

    def __init__(self, listing: Listing) -> None:
        if not listing.in_path_order:
            raise ValueError("the listing's paths are not sorted")
        self._listing, self._rels = listing, listing.rels
        self._buffer = bytearray(SIZE * len(self._rels))
        self._held = bytearray(len(self._rels))
        self._others: dict[str, bytes] = {}
        self._hint = 0

    def _place(self, rel: str) -> int | None:
        rels, at = self._rels, self._hint
        if at < len(rels) and rels[at] is rel:
            return at
        if at + 1 < len(rels) and rels[at + 1] is rel:
            self._hint = at + 1
            return at + 1
        found = self._listing.position(rel)
        if found is not None:
            self._hint = found
        return found

    def _digest_at(self, at: int) -> bytes:
        return bytes(self._buffer[SIZE * at:SIZE * (at + 1)])

    _MISSING = object()

    def pop(self, rel: str, default: object = _MISSING) -> object:  # type: ignore[override]  # one lookup, not two
        at = self._place(rel)
        if at is not None and self._held[at]:
            self._held[at] = 0
            return self._digest_at(at)
        if default is self._MISSING:
            return self._others.pop(rel)
        return self._others.pop(rel, default)

    def __getitem__(self, rel: str) -> bytes:
        at = self._place(rel)
        if at is not None and self._held[at]:
            return self._digest_at(at)
        return self._others[rel]

    def get(self, rel: str, default: bytes | None = None) -> bytes | None:  # type: ignore[override]  # no exception
        at = self._place(rel)
        if at is not None and self._held[at]:
            return self._digest_at(at)
        return self._others.get(rel, default)

    def __setitem__(self, rel: str, digest: bytes) -> None:
        at = self._place(rel)
        if at is not None and type(digest) is bytes and len(digest) == SIZE:
            self._buffer[SIZE * at:SIZE * (at + 1)] = digest
            self._held[at] = 1
            self._others.pop(rel, None)
            return
        if at is not None:
            self._held[at] = 0
        self._others[rel] = digest

    def __delitem__(self, rel: str) -> None:
        at = self._place(rel)
        if at is not None and self._held[at]:
            self._held[at] = 0
            return
        del self._others[rel]

    def __iter__(self) -> Iterator[str]:
        yield from (rel for rel, held in zip(self._rels, self._held) if held)
        yield from self._others

    def __len__(self) -> int:
        return self._held.count(1) + len(self._others)
