"""Folder -> article files -> ``Article``. The only module that reads input files.

Promises kept here: only regular files; hidden and backup files skipped; directory
symlinks never followed (so loops cannot happen) and file symlinks only when they stay
inside the input folder; input is UTF-8 (a BOM and CRLF are fine); front matter is a YAML
mapping between ``---`` lines, parsed by libyaml and read as PyYAML's safe loader reads
it, with no tags, no aliases, no duplicate keys and a cap on the file size.
"""

from __future__ import annotations

import errno
import marshal
import os
import re
import stat
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from itertools import islice
from operator import lt
from pathlib import Path
from typing import Any, NamedTuple, overload

import frontmatter
import yaml

from mkfeeds import parallel
from mkfeeds.errors import ArticleError
from mkfeeds.model import Article

ARTICLE_SUFFIXES = (".txt", ".md", ".markdown")
MAX_FILE_BYTES = 1024 * 1024  # 1 MiB: far above any real article, far below trouble

_HANDLER = frontmatter.YAMLHandler()  # its delimiter rules define the file format
_FENCE = _HANDLER.FM_BOUNDARY

try:  # libyaml is ~10x faster; the PyPI wheels of PyYAML ship it
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader  # type: ignore[assignment,misc]  # the same interface, in pure Python


class SourceFile(NamedTuple):
    """A discovered article file: where it is and how it looked when listed. A named
    tuple rather than a frozen dataclass: a build makes one per file, on every build. Its
    stat includes the inode change time and number, which no tool can set back (as git's
    index does): a same-size edit whose mtime was restored is still seen."""

    root: str  # the input folder, absolute: one string shared by every file of a listing
    rel: str  # relative to the input folder, POSIX separators
    size: int
    mtime_ns: int
    ctime_ns: int = 0
    ino: int = 0

    @property
    def path(self) -> str:
        """Absolute, made when opened rather than held: a listing has a file per article."""
        return self.root + "/" + self.rel


class Listing(Sequence[SourceFile]):
    """Files as ``discover`` lists them, of one root, held as columns: a path and four
    numbers a file rather than a tuple and five objects, as a build holds its listing
    while it reads every article. A ``SourceFile`` is made each time one is asked for.
    Not to be changed once made (``rels`` is read by the build's lookups)."""

    __slots__ = ("root", "rels", "_sizes", "_mtimes", "_ctimes", "_inodes", "_ordered")

    def __init__(self, root: str, files: Sequence[SourceFile]) -> None:
        if any(file.root != root for file in files):
            raise ValueError("a listing holds the files of one root")
        self.root = root
        self.rels = [file.rel for file in files]
        self._sizes = array("q", [file.size for file in files])
        self._mtimes = array("q", [file.mtime_ns for file in files])
        self._ctimes = array("q", [file.ctime_ns for file in files])
        self._inodes = array("Q", [file.ino for file in files])
        self._ordered: bool | None = None

    @property
    def in_path_order(self) -> bool:
        """Whether the paths are sorted (as ``discover`` sorts them): then a file is found
        by bisection."""
        if self._ordered is None:
            rels = self.rels
            self._ordered = all(map(lt, rels, islice(rels, 1, None)))
        return self._ordered

    @classmethod
    def sorted_from(cls, root: str, parts: Iterable[tuple[list[str], array, array, array, array]]) -> Listing:
        """The files of these columns (rels, sizes, mtimes, ctimes, inodes), sorted by path."""
        listing = cls(root, [])
        for rels, *stats in parts:
            listing.rels.extend(rels)
            for column, values in zip(listing._stat_columns(), stats):
                column.extend(values)
        rels = listing.rels
        if not listing.in_path_order:
            order = sorted(range(len(rels)), key=rels.__getitem__)
            listing.rels = list(map(rels.__getitem__, order))
            listing._sizes, listing._mtimes, listing._ctimes, listing._inodes = (
                array(column.typecode, map(column.__getitem__, order)) for column in listing._stat_columns())
            listing._ordered = True
        return listing

    def _stat_columns(self) -> tuple[array, array, array, array]:
        return self._sizes, self._mtimes, self._ctimes, self._inodes

    def __len__(self) -> int:
        return len(self.rels)

    @overload
    def __getitem__(self, at: int) -> SourceFile: ...

    @overload
    def __getitem__(self, at: slice) -> list[SourceFile]: ...

    def __getitem__(self, at: int | slice) -> SourceFile | list[SourceFile]:
        if isinstance(at, slice):
            return list(self._files(range(len(self.rels))[at]))
        return tuple.__new__(SourceFile, (self.root, self.rels[at], self._sizes[at], self._mtimes[at],
                                          self._ctimes[at], self._inodes[at]))

    def __iter__(self) -> Iterator[SourceFile]:
        return self._files(range(len(self.rels)))

    def _files(self, positions: range) -> Iterator[SourceFile]:
        new, rels, sizes, mtimes, ctimes, inodes = (tuple.__new__, self.rels, self._sizes, self._mtimes,
                                                    self._ctimes, self._inodes)
        return (new(SourceFile, (self.root, rels[i], sizes[i], mtimes[i], ctimes[i], inodes[i])) for i in positions)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]  # equal to a list of the same files, which cannot be hashed

    def __repr__(self) -> str:
        return f"Listing({self.root!r}, {len(self):,} files)"

    def stats(self) -> Iterator[tuple[str, int, int, int, int]]:
        """(rel, size, mtime_ns, ctime_ns, ino) of each file, in order, with no
        ``SourceFile`` made: what a rebuild compares of every file."""
        return zip(self.rels, self._sizes, self._mtimes, self._ctimes, self._inodes)

    def position(self, rel: str) -> int | None:
        """Where the file ``rel`` is in the listing, found by bisection (paths in order)."""
        rels = self.rels
        at = bisect_left(rels, rel)
        return at if at < len(rels) and rels[at] == rel else None

    def by_path(self) -> Mapping[str, SourceFile]:
        """The files by path: found by bisection in the (sorted) paths, with no table
        of their own; a table when the paths are not sorted."""
        if self.in_path_order:
            return _ByPath(self)
        return {file.rel: file for file in self}


class _ByPath(Mapping[str, SourceFile]):
    def __init__(self, listing: Listing) -> None:
        self._listing = listing

    def __getitem__(self, rel: str) -> SourceFile:
        at = self._listing.position(rel)
        if at is None:
            raise KeyError(rel)
        return self._listing[at]

    def __len__(self) -> int:
        return len(self._listing)

    def __iter__(self) -> Iterator[str]:
        return iter(self._listing.rels)


def stats_of(sources: Sequence[SourceFile]) -> Iterator[tuple[str, int, int, int, int]]:
    """(rel, size, mtime_ns, ctime_ns, ino) of each file, in order: of a ``Listing``
    from its columns, without making a ``SourceFile`` each."""
    if isinstance(sources, Listing):
        return sources.stats()
    return ((s.rel, s.size, s.mtime_ns, s.ctime_ns, s.ino) for s in sources)


class Skipped(NamedTuple):
    """A file (or folder) of the input folder that is not read, and why: everything but
    hidden files and backups, which are skipped without a word."""

    rel: str
    reason: str

    @property
    def not_an_article(self) -> bool:
        return self.reason == NOT_AN_ARTICLE


NOT_AN_ARTICLE = "not .txt, .md or .markdown"
_LINK_OUTSIDE = "a symbolic link that leads outside the input folder"
_FOLDER_LINK = "a symbolic link to a folder (folder links are never followed)"
_NOT_REGULAR = "not a regular file (a FIFO, socket or device)"


def discover(root: Path, processes: int = 1, skipped: list[Skipped] | None = None) -> Listing:
    """Every article file under ``root``, recursively, sorted by relative path. With
    ``processes`` > 1 and sub-folders to share, two processes list half of them each:
    a rebuild stats every file, and this is most of a no-op rebuild. ``skipped``, when
    given, receives every other file (hidden files and backups aside) with the reason,
    sorted by path."""
    real_root = os.path.realpath(root)
    found: list[SourceFile] = []
    passed: list[Skipped] = []
    top = os.path.abspath(root)
    folders = [(top, "")]
    while len(folders) == 1:  # down to where the tree branches (one folder per year, say)
        branches: list[tuple[str, str]] = []
        found.extend(_walk(top, folders, real_root, subfolders=branches, skipped=passed))
        folders = branches
    listed: list[tuple[list[str], array, array, array, array]] = []
    listed_skipped: list[Skipped] = []

    def list_half(half: list[tuple[str, str]]) -> bytes:
        skipped_here: list[Skipped] = []
        return _packed((_walk(top, half, real_root, skipped=skipped_here), skipped_here))

    if processes > 1 and len(folders) > 1:  # two listers, each of half the branches
        try:
            with parallel.forked_map(list_half, [folders[0::2], folders[1::2]], 2) as halves:
                for packed in halves:
                    columns, others = _unpacked(packed)
                    listed.append(columns)
                    listed_skipped.extend(others)
        except parallel.PoolBroken:  # a lister died or could not start: list here
            listed, listed_skipped = [], []
            processes = 1
    if processes <= 1 or len(folders) <= 1:
        found.extend(_walk(top, folders, real_root, skipped=listed_skipped))
    if skipped is not None:
        skipped.extend(sorted(passed + listed_skipped))
    return Listing.sorted_from(top, [_columns(found), *listed])


def _walk(top: str, folders: list[tuple[str, str]], real_root: str,
          subfolders: list[tuple[str, str]] | None = None,
          skipped: list[Skipped] | None = None) -> list[SourceFile]:
    """The article files in these (folder, rel prefix) pairs and below them; or, given
    a ``subfolders`` list, in them only, their sub-folders going to that list. Files
    that are neither articles nor hidden nor backups go to ``skipped``, with the reason."""
    found: list[SourceFile] = []
    keep, is_file = found.append, stat.S_ISREG  # a rebuild lists every file: ~5 us each matters
    passed = skipped.append if skipped is not None else (lambda _: None)
    stack = list(folders)
    below = stack if subfolders is None else subfolders
    while stack:
        folder, prefix = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:  # an unreadable sub-folder is skipped; the root is checked by the caller
            passed(Skipped(prefix.rstrip("/") or ".", f"a folder that cannot be read ({exc.strerror})"))
            continue
        for entry in entries:
            name = entry.name
            if name[0] in ".#" or name[-1] == "~":  # hidden, editor backups and locks
                continue
            if entry.is_dir(follow_symlinks=False):
                below.append((entry.path, prefix + name + "/"))
                continue
            if not name.lower().endswith(ARTICLE_SUFFIXES):
                passed(Skipped(prefix + name, _FOLDER_LINK if entry.is_symlink() and entry.is_dir()
                               else NOT_AN_ARTICLE))
                continue
            if entry.is_symlink() and not _inside(os.path.realpath(entry.path), real_root):
                passed(Skipped(prefix + name, _LINK_OUTSIDE))
                continue
            try:
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:  # dangling link, or vanished since listing
                passed(Skipped(prefix + name, f"cannot be read ({exc.strerror})" if not entry.is_symlink()
                               else "a symbolic link that loops" if exc.errno == errno.ELOOP
                               else "a symbolic link to nothing"))
                continue
            if is_file(st.st_mode):
                keep(SourceFile(top, prefix + name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
            else:
                passed(Skipped(prefix + name, _NOT_REGULAR))
    return found


def source_file(root: Path, rel: str) -> SourceFile | None:
    """The one file ``rel`` (POSIX separators) as ``discover`` would list it, or None if
    it would not list it (gone, hidden, not an article, not a regular file, below a
    directory symlink, a symlink leading out): for a caller told which files changed,
    so that it need not list them all again."""
    names = rel.split("/")
    if not rel or any(not name or name[0] in ".#" or name[-1] == "~" for name in names):
        return None
    if not names[-1].lower().endswith(ARTICLE_SUFFIXES):
        return None
    top = os.path.abspath(root)
    real_root = os.path.realpath(root)
    path = top + "/" + rel
    if os.path.realpath(os.path.dirname(path)) != os.path.join(real_root, *names[:-1]):
        return None  # below a directory symlink, which discover never follows
    try:
        st = os.lstat(path)
        if stat.S_ISLNK(st.st_mode):
            if not _inside(os.path.realpath(path), real_root):
                return None
            st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return SourceFile(top, rel, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _columns(files: list[SourceFile]) -> tuple[list[str], array, array, array, array]:
    return ([s.rel for s in files], array("q", [s.size for s in files]), array("q", [s.mtime_ns for s in files]),
            array("q", [s.ctime_ns for s in files]), array("Q", [s.ino for s in files]))


def _packed(listing: tuple[list[SourceFile], list[Skipped]]) -> bytes:
    """Files as marshalled columns, without their root (the caller's): several times
    quicker to send and load than tuples."""
    found, skipped = listing
    rels, *stats = _columns(found)
    return marshal.dumps(("\0".join(rels), *(column.tobytes() for column in stats),
                          [tuple(item) for item in skipped]))


def _unpacked(data: bytes) -> tuple[tuple[list[str], array, array, array, array], list[Skipped]]:
    rels, sizes, mtimes, ctimes, inodes, skipped = marshal.loads(data)
    others = [Skipped(*item) for item in skipped]
    return ((rels.split("\0") if rels else [], array("q", sizes), array("q", mtimes), array("q", ctimes),
             array("Q", inodes)), others)


def _inside(path: str, root: str) -> bool:
    return os.path.commonpath([path, root]) == root


_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_inside(source: SourceFile) -> int:
    """Open without following a symlink, unless it still leads inside the input folder:
    the file may have been replaced by a link since ``discover`` looked at it."""
    try:
        return os.open(source.path, _OPEN_FLAGS | _NOFOLLOW)
    except OSError as exc:
        if not _NOFOLLOW or exc.errno not in (errno.ELOOP, errno.EMLINK):
            raise
    if not _inside(os.path.realpath(source.path), os.path.realpath(source.root)):
        raise ArticleError(source.rel, "is a symbolic link that leads outside the input folder")
    return os.open(source.path, _OPEN_FLAGS)


def read_text(source: SourceFile) -> str:
    """The file's text, decoded as UTF-8 (a BOM is dropped, CRLF becomes LF)."""
    try:
        fd = _open_inside(source)
    except FileNotFoundError:
        raise ArticleError(source.rel, "the file disappeared during the build") from None
    except OSError as exc:
        raise ArticleError(source.rel, f"cannot be read ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ArticleError(source.rel, "is not a regular file")
        data = _read_at_most(fd, MAX_FILE_BYTES + 1, st.st_size + 1)
    except OSError as exc:
        raise ArticleError(source.rel, f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:
        raise ArticleError(source.rel, f"is larger than {MAX_FILE_BYTES // 1024} KiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ArticleError(source.rel, "is not valid UTF-8" + _encoding_hint(data), line=line) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _encoding_hint(data: bytes) -> str:
    """What the file's encoding seems to be, and what to do: editors on Windows save
    Windows-1252 (or Latin-1) unless told otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return " (it looks like UTF-16): save the file as UTF-8"
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return ": save the file as UTF-8"
    return " (it looks like Windows-1252 or Latin-1): save the file as UTF-8"


def _read_at_most(fd: int, limit: int, expected: int) -> bytes:
    """Up to ``limit`` bytes: read in one call of the size ``fstat`` gave (plus one, to
    see the end), without a file object; more calls only if the file grew meanwhile."""
    data = os.read(fd, min(expected, limit))
    while len(data) < limit:
        more = os.read(fd, limit - len(data))
        if not more:
            break
        data += more
    return data


def parse_article(rel: str, text: str) -> Article:
    """Split front matter from body and load the front matter safely."""
    split = split_article(rel, text)
    meta, key_lines = load_yaml(rel, split.front_matter, split.first_line)
    return Article(path=rel, meta=meta, body=split.body, key_lines=key_lines)


class Split(NamedTuple):
    """An article's text cut at its front matter's fences, nothing parsed yet."""

    front_matter: str
    body: str
    first_line: int  # of the front matter: YAML's line 0


def split_article(rel: str, text: str) -> Split:
    opening = _FENCE.match(text)  # python-frontmatter's delimiter rule, at the start
    if opening is None:
        raise ArticleError(rel, "has no front matter: the file must start with a '---' line", line=1)
    closing = _closing_fence(text, opening.end())
    if closing is None:
        raise ArticleError(rel, "front matter is not closed: no '---' line after the first", line=1)
    return Split(text[opening.end():closing.start()], text[closing.end():].strip("\n"),
                 text.count("\n", 0, opening.end()) + 1)


def _closing_fence(text: str, start: int) -> re.Match | None:
    """The first delimiter line after ``start``: tried only where a line starts with
    '-' (the same match as the regex's own scan, which is ten times slower)."""
    at = start
    while (at := text.find("\n-", at)) >= 0:
        at += 1
        if fence := _FENCE.match(text, at):
            return fence
    return None


def load_article(source: SourceFile) -> Article:
    return parse_article(source.rel, read_text(source))


def load_body(source: SourceFile) -> str | Article:
    """The article's body, its front matter left unparsed (it is what costs); the whole
    article when the body is blank, as the front matter may then hold the content."""
    text = read_text(source)
    split = split_article(source.rel, text)
    if split.body.strip():
        return split.body
    meta, key_lines = load_yaml(source.rel, split.front_matter, split.first_line)
    return Article(path=source.rel, meta=meta, body=split.body, key_lines=key_lines)


class WrittenInt(int):
    """An integer from YAML that remembers how it was written. YAML 1.1 reads ``010`` as
    8 and ``1:30`` as 90; a text field (``title: 010``) must come out as written."""

    written: str


class WrittenFloat(float):
    """A float from YAML that remembers how it was written (``1e3``, ``.nan``)."""

    written: str


MAX_NUMBER_CHARS = 1000  # longer numbers cost quadratic time (sexagesimal) or cannot be printed
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"
_NON_SPECIFIC = "!"


# libyaml's marks and the pure-Python parser's are two classes with one interface.
_Mark = yaml.Mark | yaml._yaml.Mark | None


class _YAMLError(yaml.MarkedYAMLError):
    """A front matter rule broken, reported as libyaml reports its own errors."""

    def __init__(self, problem: str, mark: _Mark) -> None:
        super().__init__(None, None, problem, mark)  # type: ignore[arg-type]  # libyaml's marks quack alike


class _NotAMapping(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


class _KeyNotText(_NotAMapping):
    pass


_SAFE = yaml.constructor.SafeConstructor()  # its number and date rules, applied to one scalar
_IMPLICIT: dict[str, list] = {first: [(tag, regexp) for tag, regexp in resolvers]
                              for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()}


def _plain_tag(value: str) -> str:
    """The tag YAML 1.1 (as PyYAML's safe loader) infers for an unquoted scalar."""
    for tag, regexp in _IMPLICIT.get(value[:1], ()):
        if regexp.match(value):
            return tag
    return _STR


def _number(tag: str, value: str, mark: _Mark) -> int | float:
    if len(value) > MAX_NUMBER_CHARS:
        raise _YAMLError(f"a number longer than {MAX_NUMBER_CHARS} characters "
                         "(put it in quotes if it is text)", mark)
    if tag == "tag:yaml.org,2002:int":
        if value.isascii() and value.isdigit() and (value[0] != "0" or value == "0"):
            number: WrittenInt | WrittenFloat = WrittenInt(value)  # decimal: no YAML 1.1 forms
        else:
            number = WrittenInt(_SAFE.construct_yaml_int(yaml.ScalarNode(tag, value)))
    else:
        number = WrittenFloat(_SAFE.construct_yaml_float(yaml.ScalarNode(tag, value)))
    number.written = value
    return number


# RFC 3339 to the second, the usual shape of a date in front matter: ``fromisoformat``
# reads it as SafeConstructor would (same fields, same fixed-offset zone), five times faster.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)")


def _timestamp(value: str, mark: _Mark) -> Any:
    """A date or time; an impossible one (``2026-02-30``) is kept as its text, so that a
    date field can say what is wrong with it and a text field keeps it as written."""
    try:
        if _RFC3339.fullmatch(value):
            return datetime.fromisoformat(value)
        return _SAFE.construct_yaml_timestamp(yaml.ScalarNode("tag:yaml.org,2002:timestamp", value))
    except (ValueError, OverflowError):
        return value


def _scalar(event: yaml.ScalarEvent) -> tuple[Any, str]:
    """The value of a scalar event and its tag. Explicit tags are refused (even the
    standard ones crash their constructors on bad values: ``!!int x``), except where
    they change nothing: ``!!str``, or ``!!int 12``."""
    value, tag = event.value, event.tag
    if tag is None:
        tag = _plain_tag(value) if event.implicit[0] else _STR
    elif tag == _NON_SPECIFIC:
        tag = _STR
    elif tag != _STR and (event.style or tag != _plain_tag(value)):
        raise _YAMLError("YAML tags (!name) are not allowed", event.start_mark)
    if tag == _STR:
        return value, tag
    return _typed(tag, value, event.start_mark), tag


def _typed(tag: str, value: str, mark: _Mark) -> Any:
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _SAFE.bool_values[value.lower()]
    if tag == "tag:yaml.org,2002:int" or tag == "tag:yaml.org,2002:float":
        return _number(tag, value, mark)
    if tag == "tag:yaml.org,2002:timestamp":
        return _timestamp(value, mark)
    return value  # ``=`` (YAML 1.1's "value") or ``<<`` as a value: plain text


# What plain scalars (``true``, ``800``, ``news``) were read as, shared between the
# articles a process reads: the values are immutable, and the same few recur.
_PLAIN_MEMO: dict[str, tuple[Any, str]] = {}
_MEMO_MAX, _MEMO_MAX_LEN = 20_000, 32

_Scalar = yaml.ScalarEvent
_MappingStart, _MappingEnd = yaml.MappingStartEvent, yaml.MappingEndEvent
_SequenceStart, _SequenceEnd = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_NO_KEY = object()


def _compose(loader: Any) -> tuple[dict, dict[str, int]] | None:
    """Build the document straight from libyaml's events (no node graph, no
    generic constructor: a third of the cost of ``yaml.load``), with the front matter
    rules: no aliases (they make cheap-to-load, costly-to-walk bombs), no explicit tags,
    no merge keys, no duplicate keys (compared as values: ``1`` and ``01`` collide), no
    non-scalar keys, numbers that remember how they were written, impossible dates
    reported with their line. Returns the mapping and the (0-based) line of each key
    (None for an empty document); ``_NotAMapping`` when the document is something else."""
    get = loader.get_event
    get()  # StreamStartEvent
    event = get()
    if type(event) is yaml.StreamEndEvent:
        return None
    root_line = loader.peek_event().start_mark.line
    # Each open collection: [container, is_mapping, pending key (or _NO_KEY)].
    stack: list[list] = []
    key_lines: dict[str, int] = {}
    root: Any = None
    while True:
        event = get()
        event_type = type(event)
        mark = event.start_mark
        if event_type is _Scalar:
            if event.tag is None and not event.style:  # plain: the common case, inline
                value = event.value
                if value[:1] not in _IMPLICIT:  # cannot be anything but text
                    tag = _STR
                elif (known := _PLAIN_MEMO.get(value)) is not None:
                    value, tag = known
                else:
                    tag = _plain_tag(value)
                    known = (_typed(tag, value, mark) if tag != _STR else value, tag)
                    if len(value) <= _MEMO_MAX_LEN and len(_PLAIN_MEMO) < _MEMO_MAX:
                        _PLAIN_MEMO[value] = known
                    value = known[0]
            else:
                value, tag = _scalar(event)
        elif event_type is _MappingStart or event_type is _SequenceStart:
            if event.tag not in (None, _NON_SPECIFIC, _MAP if event_type is _MappingStart else _SEQ):
                raise _YAMLError("YAML tags (!name) are not allowed", mark)
            if stack and stack[-1][1] and stack[-1][2] is _NO_KEY:
                raise _YAMLError("mapping keys must be plain values", mark)
            stack.append([{} if event_type is _MappingStart else [], event_type is _MappingStart, _NO_KEY])
            continue
        elif event_type is _MappingEnd or event_type is _SequenceEnd:
            value, tag = stack.pop()[0], None
        elif event_type is yaml.AliasEvent:
            raise _YAMLError("YAML anchors and aliases (&name, *name) are not supported", mark)
        else:  # pragma: no cover - libyaml sends only nodes inside a document
            raise _YAMLError("not well-formed", mark)
        if not stack:
            root = value
            break
        frame = stack[-1]
        if not frame[1]:
            frame[0].append(value)
        elif frame[2] is _NO_KEY:  # a key: scalars only (a collection was refused on start)
            if tag == _MERGE:
                raise _YAMLError("YAML merge keys (<<) are not supported", mark)
            if value in frame[0]:
                raise _YAMLError("duplicate key", mark)
            if len(stack) == 1:
                if tag != _STR:
                    raise _KeyNotText(mark.line)
                key_lines[value] = mark.line
            frame[2] = value
        else:
            frame[0][frame[2]] = value
            frame[2] = _NO_KEY
    if type(get()) is not yaml.DocumentEndEvent:  # pragma: no cover - libyaml guarantees it
        raise _YAMLError("not well-formed", mark)
    event = get()
    if type(event) is not yaml.StreamEndEvent:
        raise _YAMLError("expected a single document in the stream", event.start_mark)
    if type(root) is not dict:
        raise _NotAMapping(root_line)
    return root, key_lines


# A quoted run of two or more non-space characters: how the pure-Python parser quotes
# input (an alias name, a character); libyaml's own quoted punctuation (',' or ']') stays.
_QUOTED = re.compile(r"'[^'\s]{2,}'|\"[^\"\s]{2,}\"")


_TAB_INDENT = re.compile(r"^ *\t", re.M)  # a line indented with a tab


def load_yaml(rel: str, text: str, first_line: int = 1) -> tuple[dict[str, Any], dict[str, int]]:
    """Load front matter text; return the mapping and the line of each top-level key."""
    loader = _BaseLoader(text)
    try:
        loaded = _compose(loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + mark.line if mark is not None else None
        message = "invalid YAML: " + _describe(exc)
        if _TAB_INDENT.search("\n".join(text.split("\n")[:mark.line + 2] if mark is not None else text)):
            message += " (YAML does not allow tabs for indentation: indent with spaces)"
        raise ArticleError(rel, message, line=line) from None
    except yaml.YAMLError:
        raise ArticleError(rel, "invalid YAML", line=first_line) from None
    except _KeyNotText as exc:
        raise ArticleError(rel, "front matter keys must be text", line=first_line + exc.line) from None
    except _NotAMapping as exc:
        raise ArticleError(rel, "front matter must be a YAML mapping of keys to values",
                           line=first_line + exc.line) from None
    finally:
        loader.dispose()
    if loaded is None:
        return {}, {}
    data, key_lines = loaded
    return data, {key: first_line + line for key, line in key_lines.items()}


def _describe(exc: yaml.MarkedYAMLError) -> str:
    """The parser's own words, minus any quoted input (which could be private)."""
    problem = exc.problem or "not well-formed"
    if isinstance(exc, yaml.constructor.ConstructorError) and "tag" in problem:
        return "YAML tags (!name) are not allowed"
    return _QUOTED.sub("'…'", problem)
