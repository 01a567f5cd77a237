"""The incremental build cache: what each article file became, kept between builds.

One SQLite file (stdlib ``sqlite3``), outside the output folder, with one row per article
file: its relative path, the size and modification time it had when it was read, a digest
of its text, and its ``FileOutcome``: the ``EntryKey`` and the problems as plain columns
(``KEY_COLUMNS``, read for every row on every build), the whole entry as JSON (read only
for the entries a feed shows), and the article's body as sanitized HTML once a feed has
shown it (``body``: Markdown is the dearest step of all, and most feeds a rebuild renders
again show mostly articles it did not change).

- A row is reused when the file's size and mtime are unchanged. When they changed, the
  file's text is hashed and the row is still reused if the digest matches (a ``touch``, a
  ``git checkout`` back and forth); otherwise the file is read and mapped again.
- A row written within ``RACY_NS`` of its file's last change is confirmed by digest once
  more (a file changed twice within one timestamp tick keeps its size and mtime).
- Rows for files that are gone are dropped, so a deleted article leaves the feeds.
- Everything is invalidated when anything an outcome depends on changes: the mkfeeds
  version, ``mapping.MAPPING_VERSION``, the code of the package itself, the model's field
  layout, the mapping settings (site URL, time zone) and the input folder (``fingerprint``).
- No pickle: a cache file is data, not trusted code. Outcomes are written as plain values
  and JSON lists and read back through decoders that check every value's type against the
  model before constructing it; a row that does not decode, or whose entry disagrees with
  its key, is treated as missing. Datetimes keep their exact ``tzinfo`` (UTC, a fixed
  offset, or an IANA zone by key, with ``fold``).
- A cache that cannot be used (unreadable, damaged, locked by another build, someone
  else's database) raises ``CacheUnavailable`` with a one-line reason: the build goes on
  without it. A damaged mkfeeds cache is replaced; a file that is not one is left alone.

Beside it, ``<cache>.index`` holds the same rows without their entries and bodies as a
few columns, which a rebuild reads in one go instead of reading the table (``rowindex``;
used only when it is this very table's, by a generation both record).

This module only stores and decodes; ``loading`` decides what to reuse.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import secrets
import sqlite3
import sys
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from mkfeeds import rowindex
from mkfeeds.model import Author, Entry, EntryKey, FileOutcome, Problem

SCHEMA_VERSION = 4  # the table layout and the JSON shape of a row; bump on any change
APPLICATION_ID = 0x6D6B6664  # "mkfd": marks an SQLite file as an mkfeeds cache
RACY_NS = 2_000_000_000  # coarsest file timestamp tick we allow for (FAT: 2 s)
LOCK_TIMEOUT = 2.0  # seconds to wait for another build's write lock before going without
_SQLITE_MAGIC = b"SQLite format 3\x00"


class CacheUnavailable(Exception):
    """The cache cannot be used for this build; ``str()`` says why, in one line."""


# ---------------------------------------------------------------------------------------------
# Outcome <-> JSON, derived from the model's type annotations
# ---------------------------------------------------------------------------------------------

class Uncacheable(Exception):
    """An outcome holds a value this codec cannot store exactly: it is not cached."""


class _Bad(Exception):
    """A stored value does not match the model: the row is treated as missing."""


_MEMO_MAX_LEN = 40  # short strings (names, categories, languages) are shared between entries
_PLAIN = (str, int, float, bool)


def _kind(hint: Any) -> tuple:
    """The shape of an annotated type, as the code generator below reads it:
    ("plain", kinds, optional, shared), ("datetime", optional), ("dataclass", cls, optional)
    or ("tuple", element). ``shared``: short values are likely to repeat between entries
    (optional fields such as a language or a kind, and literals), so one object serves all. ``TypeError`` for anything else: the cache is then switched off
    rather than guessing."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = tuple(a for a in typing.get_args(hint) if a is not type(None))
        optional = len(args) < len(typing.get_args(hint))
        if args and all(a in _PLAIN for a in args):
            return ("plain", args, optional, optional)
        if len(args) == 1 and optional:
            inner = _kind(args[0])
            if inner[0] in ("datetime", "dataclass"):
                return inner[:-1] + (True,)
        raise TypeError(f"cannot cache values of type {hint}")
    if origin is typing.Literal:
        kinds = tuple(sorted({type(a) for a in typing.get_args(hint)}, key=lambda k: k.__name__))
        if all(k in (str, int, bool) for k in kinds):
            return ("plain", kinds, False, True)
        raise TypeError(f"cannot cache values of type {hint}")
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return ("tuple", _kind(args[0]))
        raise TypeError(f"cannot cache values of type {hint}")
    if hint in _PLAIN:
        return ("plain", (hint,), False, False)
    if hint is datetime:
        return ("datetime", False)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return ("dataclass", hint, False)
    raise TypeError(f"cannot cache values of type {hint}")


def _encode_datetime(value: Any) -> Any:
    if type(value) is not datetime:
        raise Uncacheable("not a datetime")
    zone = value.tzinfo
    if zone is None:
        return value.isoformat()
    if type(zone) is timezone:  # UTC or a fixed offset: isoformat keeps it exactly
        if zone.tzname(None) != timezone(zone.utcoffset(None)).tzname(None):
            raise Uncacheable("a named fixed-offset time zone")
        return value.isoformat()
    if type(zone) is ZoneInfo and zone.key and ZoneInfo(zone.key) is zone:
        return [value.replace(tzinfo=None).isoformat(), zone.key, value.fold]
    raise Uncacheable(f"a {type(zone).__name__} time zone")


def _decode_datetime(value: Any) -> datetime:
    try:
        if type(value) is str:
            return datetime.fromisoformat(value)
        if type(value) is list and len(value) == 3 and type(value[0]) is str \
                and type(value[1]) is str and type(value[2]) is int and value[2] in (0, 1):
            naive = datetime.fromisoformat(value[0])
            if naive.tzinfo is None:
                return naive.replace(tzinfo=ZoneInfo(value[1]), fold=value[2])
    except (ValueError, OSError, LookupError):  # a bad date or zone key
        pass
    raise _Bad


def _decode_strings(value: Any, memo: dict) -> tuple:
    if type(value) is not list:
        raise _Bad
    for item in value:
        if type(item) is not str:
            raise _Bad
    return tuple([memo.setdefault(item, item) if len(item) <= _MEMO_MAX_LEN else item
                  for item in value])


def _bad() -> Any:
    raise _Bad


class _Generator:
    """Writes, once per process, a straight-line encoder and decoder for each dataclass
    of the model (as ``dataclasses`` writes ``__init__``): checking ~25 fields per
    entry through generic closures would cost more than reading the row."""

    def __init__(self) -> None:
        self.env: dict[str, Any] = {
            "_Bad": _Bad, "Uncacheable": Uncacheable, "_bad": _bad,
            "_enc_dt": _encode_datetime, "_dec_dt": _decode_datetime, "_dec_strs": _decode_strings,
            "_FLOAT": object(), "_INT": object(),  # memo keys no JSON value can equal
            "isinstance": isinstance, "type": type, "len": len, "tuple": tuple, "list": list,
            "str": str, "int": int, "float": float, "bool": bool, "NoneType": type(None),
        }
        self.done: dict[type, tuple[str, str]] = {}
        self.count = 0

    def name(self, prefix: str, value: Any) -> str:
        self.count += 1
        key = f"_{prefix}{self.count}"
        self.env[key] = value
        return key

    def functions(self, cls: type) -> tuple[str, str]:
        """Names of the encoder and decoder of ``cls`` in ``self.env``."""
        if cls in self.done:
            return self.done[cls]
        hints = typing.get_type_hints(cls)
        fields = [f.name for f in dataclasses.fields(cls)]
        kinds = [_kind(hints[f]) for f in fields]
        enc_name, dec_name = f"_enc_{cls.__name__}", f"_dec_{cls.__name__}"
        self.done[cls] = (enc_name, dec_name)
        cls_name = self.name("cls", cls)
        enc = [f"def {enc_name}(o):",
               f"    if type(o) is not {cls_name}: raise Uncacheable('not a {cls.__name__}')"]
        dec = [f"def {dec_name}(v, memo):",
               f"    if type(v) is not list or len(v) != {len(fields)}: raise _Bad",
               f"    ({', '.join(f'a{i}' for i in range(len(fields)))},) = v"]
        out = []
        previous_dt: list[int] = []
        for i, (field, kind) in enumerate(zip(fields, kinds)):
            enc.append(f"    a{i} = o.{field}")
            enc.extend("    " + line for line in self.encode(f"a{i}", kind))
            out.append(f"a{i}")
            if i and kind == ("plain", (str,), False, False) and kinds[i - 1] == kind:
                dec.append(f"    if a{i} == a{i - 1}: a{i} = a{i - 1}")  # ``url`` is often ``id``
            if kind[0] == "datetime":
                dec.append(f"    r{i} = a{i}")
            if kind[0] == "datetime" and previous_dt:  # ``updated`` is often ``published``
                j = previous_dt[-1]
                dec.append(f"    if type(a{i}) is str and a{i} == r{j}: a{i} = a{j}")
                dec.append("    else:")
                dec.extend("        " + line for line in self.decode(f"a{i}", kind, top=True))
            else:
                dec.extend("    " + line for line in self.decode(f"a{i}", kind, top=True))
            if kind[0] == "datetime":
                previous_dt.append(i)
        enc.append(f"    return [{', '.join(out)}]")
        dec.append(f"    return {cls_name}({', '.join(out)})")
        exec("\n".join(enc) + "\n\n" + "\n".join(dec), self.env)  # noqa: S102 - our own code
        return enc_name, dec_name

    def encode(self, var: str, kind: tuple) -> list[str]:
        if kind[0] == "plain":
            _, kinds, optional, _ = kind
            accepted = kinds + ((int,) if float in kinds and int not in kinds else ())
            acc = self.name("acc", accepted)
            test = f"not isinstance({var}, {acc})"
            if bool not in kinds and (int in accepted):
                test = f"({test} or isinstance({var}, bool))"
            if optional:
                test = f"{var} is not None and {test}"
            return [f"if {test}: raise Uncacheable('a value of the wrong type')"]
        if kind[0] == "datetime":
            line = f"{var} = _enc_dt({var})"
            return [f"if {var} is not None: {line}"] if kind[1] else [line]
        if kind[0] == "dataclass":
            enc_name, _ = self.functions(kind[1])
            line = f"{var} = {enc_name}({var})"
            return [f"if {var} is not None: {line}"] if kind[2] else [line]
        inner = kind[1]  # a tuple
        lines = [f"if type({var}) is not tuple: raise Uncacheable('not a tuple')"]
        if inner[0] == "plain" and not inner[2]:
            acc = self.name("acc", inner[1])
            lines.append(f"for x in {var}:")
            lines.append(f"    if not isinstance(x, {acc}) or isinstance(x, bool) and bool not in {acc}: "
                         "raise Uncacheable('a value of the wrong type')")
            lines.append(f"{var} = list({var})")
        else:
            fn = self.item_function(inner, encode=True)
            lines.append(f"{var} = [{fn}(x) for x in {var}]")
        return lines

    def decode(self, var: str, kind: tuple, top: bool = False) -> list[str]:
        if kind[0] == "plain":
            _, kinds, optional, shared = kind
            exact = kinds + ((int,) if float in kinds and int not in kinds else ()) \
                + ((type(None),) if optional else ())
            if len(exact) == 1:
                lines = [f"if type({var}) is not {exact[0].__name__}: raise _Bad"]
            else:
                lines = [f"if type({var}) not in {self.name('exact', frozenset(exact))}: raise _Bad"]
            if str in kinds and shared:
                guard = f"type({var}) is str and " if len(exact) > 1 else ""
                lines.append(f"if {guard}len({var}) <= {_MEMO_MAX_LEN}: {var} = memo.setdefault({var}, {var})")
            if float in kinds:  # rankings: a handful of distinct values (0.0 and -0.0 kept apart)
                lines.append(f"if type({var}) is float and {var}: {var} = memo.setdefault((_FLOAT, {var}), {var})")
            elif int in kinds and bool not in kinds:  # image sizes: CPython shares only -5..256
                lines.append(f"if type({var}) is int and {var} > 256: {var} = memo.setdefault((_INT, {var}), {var})")
            return lines
        if kind[0] == "datetime":
            line = f"{var} = _dec_dt({var})"
            return [f"if {var} is not None: {line}"] if kind[1] else [line]
        if kind[0] == "dataclass":
            _, dec_name = self.functions(kind[1])
            if kind[2] and top and all(k[0] == "plain" for k in map(
                    _kind, typing.get_type_hints(kind[1]).values())):
                # an optional value object of plain fields (the author): one per distinct value
                return [f"if {var} is not None:",
                        f"    if type({var}) is not list: raise _Bad",
                        f"    k = ({self.name('tag', object())}, *{var})",  # a key no JSON value equals
                        "    d = memo.get(k)",
                        f"    if d is None: d = memo[k] = {dec_name}({var}, memo)",
                        f"    {var} = d"]
            line = f"{var} = {dec_name}({var}, memo)"
            return [f"if {var} is not None: {line}"] if kind[2] else [line]
        inner = kind[1]  # a tuple
        if inner[0] == "plain" and inner[1] == (str,) and not inner[2]:  # names, shared one by one
            return [f"{var} = _dec_strs({var}, memo) if {var} or type({var}) is not list else ()"]
        fn = self.item_function(inner, encode=False)
        return [f"if type({var}) is not list: raise _Bad",
                f"{var} = tuple([{fn}(x, memo) for x in {var}])"]

    def item_function(self, kind: tuple, encode: bool) -> str:
        """A function for one element of a tuple field."""
        if kind[0] == "dataclass" and not kind[2]:
            return self.functions(kind[1])[0 if encode else 1]
        self.count += 1
        name = f"_item{self.count}"
        if encode:
            body = self.encode("x", kind)
            source = [f"def {name}(x):"] + ["    " + line for line in body] + ["    return x"]
        else:
            body = self.decode("x", kind)
            source = [f"def {name}(x, memo):"] + ["    " + line for line in body] + ["    return x"]
        exec("\n".join(source), self.env)  # noqa: S102 - our own code
        return name


def _layout(cls: type, seen: set[type] | None = None) -> list[str]:
    """Every field name and annotation reachable from ``cls``: part of the fingerprint,
    so a change to the model empties the cache instead of misreading it."""
    seen = set() if seen is None else seen
    if cls in seen:
        return []
    seen.add(cls)
    out = []
    for f in dataclasses.fields(cls):
        out.append(f"{cls.__name__}.{f.name}:{f.type}")
        for arg in _walk(typing.get_type_hints(cls)[f.name]):
            if dataclasses.is_dataclass(arg) and isinstance(arg, type):
                out.extend(_layout(arg, seen))
    return out


def _walk(hint: Any) -> Iterator[Any]:
    yield hint
    for arg in typing.get_args(hint):
        yield from _walk(arg)


class _OutcomeCodec:
    def __init__(self) -> None:
        gen = _Generator()
        enc, dec = gen.functions(Entry)
        self.encode_entry, self.decode_entry = gen.env[enc], gen.env[dec]
        enc, dec = gen.functions(Problem)
        self.encode_problem, self.decode_problem = gen.env[enc], gen.env[dec]
        self.layout = "|".join(_layout(Entry) + _layout(Problem) + [
            f"EntryKey.{name}:{hint}" for name, hint in EntryKey.__annotations__.items()] + list(KEY_COLUMNS))


_codec_instance: _OutcomeCodec | None = None


def _outcome_codec() -> _OutcomeCodec:
    global _codec_instance
    if _codec_instance is None:
        try:
            _codec_instance = _OutcomeCodec()
        except TypeError as exc:  # a model field of a kind the codec cannot store
            raise CacheUnavailable(f"the cache cannot store this version's model ({exc})") from None
    return _codec_instance


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


# The key of an outcome is stored as plain columns, read for every row of every build:
# SQLite hands them over as Python values, which decode several times faster than JSON.
# ``KEY_COLUMNS`` are their names (and order); an outcome without an entry has NULL in all
# but ``problems``. Lists of names are joined by U+001F, which clean text never holds.
KEY_COLUMNS = ("id", "published", "draft", "author", "author_url", "topics", "sections",
               "quality", "heat", "kind", "provider_key", "problems")
_SEPARATOR = "\x1f"


class Encoded(NamedTuple):
    """An outcome as stored: ``key``, the values of ``KEY_COLUMNS`` (its ``EntryKey`` and
    its problems), read for every article on every build; ``entry``, the JSON of the whole
    entry, read only for the entries a feed shows (None for a rejected article)."""

    key: tuple
    entry: str | None


def encode_outcome(outcome: FileOutcome) -> Encoded:
    """``outcome`` (without its path, which is the row's key) as column values and JSON.
    Raises ``Uncacheable`` when it holds a value that would not come back exactly."""
    codec = _outcome_codec()
    if type(outcome.problems) is not tuple:
        raise Uncacheable("problems is not a tuple")
    entry = outcome.entry
    if entry is not None and type(entry) is not Entry:
        raise Uncacheable("not a whole entry")
    try:
        problems = _dumps([codec.encode_problem(p) for p in outcome.problems]) if outcome.problems else None
        if entry is None:
            return Encoded((None,) * (len(KEY_COLUMNS) - 1) + (problems,), None)
        entry_json = _dumps(codec.encode_entry(entry))  # checks every field, the key's included
        if entry.source != outcome.rel:
            raise Uncacheable("an entry from another file")
        published = _encode_datetime(entry.published)
        author = entry.author
        key = (entry.id, published if type(published) is str else _dumps(published), int(entry.draft),
               author.name if author else None, author.url if author else None,
               _joined(entry.topics), _joined(entry.sections), entry.quality, entry.heat, entry.kind,
               entry.provider_key, problems)
        return Encoded(key, entry_json)
    except (TypeError, ValueError) as exc:
        raise Uncacheable(str(exc)) from None


def _joined(names: tuple[str, ...]) -> str:
    if any(not name or _SEPARATOR in name for name in names):
        raise Uncacheable("a name that cannot be joined")
    return _SEPARATOR.join(names)


def decode_outcome(rel: str, encoded: Encoded, memo: dict | None = None) -> FileOutcome | None:
    """The whole outcome stored as ``encoded`` for the file ``rel``, or None if it does
    not decode into the model exactly (a damaged or foreign row)."""
    memo = {} if memo is None else memo
    outcome = outcome_decoder(memo)(rel, encoded.key)
    if outcome is None or outcome.entry is None:
        return outcome if outcome is not None and encoded.entry is None else None
    entry = entry_decoder(memo)(outcome.entry, encoded.entry)
    return None if entry is None else FileOutcome(outcome.rel, entry, outcome.problems)


def outcome_decoder(memo: dict | None = None) -> Callable[[str, tuple], FileOutcome | None]:
    """Decodes the key columns of many rows: outcomes whose entry is an ``EntryKey``, or
    None for a row whose values do not fit the model (damaged). ``memo`` shares repeated
    values (names, authors, lists of topics, rankings) between them. A rebuild decodes
    every unchanged row, so this is written for speed: a value already seen (and
    checked) is one dict lookup, and the tuples are made without a Python call."""
    codec = _outcome_codec()
    memo = {} if memo is None else memo
    lists: dict[Any, tuple[str, ...]] = memo.setdefault(("outcome_decoder", "lists"), {"": ()})
    authors: dict[Any, Author | None] = memo.setdefault(("outcome_decoder", "authors"), {(None, None): None})
    names_: dict[Any, str | None] = memo.setdefault(("outcome_decoder", "names"), {None: None})
    floats: dict[float, float] = memo.setdefault(("outcome_decoder", "floats"), {})
    decode_problem, loads, fromisoformat = codec.decode_problem, json.loads, datetime.fromisoformat
    new, numbers, flags, unseen = tuple.__new__, (int, float, type(None)), (False, True), object()

    def names(joined: Any) -> tuple[str, ...]:
        if type(joined) is not str:
            raise _Bad
        found = lists[joined] = tuple([memo.setdefault(n, n) if len(n) <= _MEMO_MAX_LEN else n
                                       for n in joined.split(_SEPARATOR)]) if joined else ()
        return found

    def author_of(name: Any, url: Any) -> Author | None:
        if type(name) is not str or (url is not None and type(url) is not str):
            raise _Bad  # a URL without a name, too
        found = authors[(name, url)] = Author(name, url)
        return found

    def shared(name: Any) -> str:
        if type(name) is not str:
            raise _Bad
        found = names_[name] = memo.setdefault(name, name)
        return found

    def ranking(value: Any) -> Any:
        if type(value) is float:
            return floats.setdefault(value, value) if value else value
        if type(value) not in numbers:
            raise _Bad
        return value

    def decode(rel: str, key: tuple) -> FileOutcome | None:
        try:
            (id_, published, draft, author_name, author_url, topics, sections, quality, heat, kind,
             provider_key, problems) = key
            if problems is None:
                decoded_problems: tuple[Problem, ...] = ()
            elif type(problems) is str and type(listed := loads(problems)) is list and listed:
                decoded_problems = tuple([decode_problem(p, memo) for p in listed])
            else:
                return None
            if id_ is None:
                if any(value is not None for value in key[1:-1]):
                    return None
                return new(FileOutcome, (rel, None, decoded_problems))
            if type(id_) is not str or type(draft) is not int or draft not in (0, 1) or type(published) is not str:
                return None
            when = fromisoformat(published) if published[:1] != "[" else _decode_datetime(loads(published))
            if when.tzinfo is None:
                return None
            if (author := authors.get((author_name, author_url), unseen)) is unseen:
                author = author_of(author_name, author_url)
            if (topic_names := lists.get(topics)) is None:
                topic_names = names(topics)
            if (section_names := lists.get(sections)) is None:
                section_names = names(sections)
            if (kind_name := names_.get(kind, unseen)) is unseen:
                kind_name = shared(kind)
            if (provider := names_.get(provider_key, unseen)) is unseen:
                provider = shared(provider_key)
            entry_key = new(EntryKey, (id_, rel, when, flags[draft], author, topic_names, section_names,
                                       ranking(quality), ranking(heat), kind_name, provider))
        except (_Bad, ValueError, TypeError, RecursionError):
            return None
        return new(FileOutcome, (rel, entry_key, decoded_problems))

    return decode


def entry_decoder(memo: dict | None = None) -> Callable[[EntryKey, str | None], Entry | None]:
    """Decodes the ``entry`` part of a row, given the key it was stored with: None if it
    does not decode, or does not agree with its key (a damaged row)."""
    codec = _outcome_codec()
    memo = {} if memo is None else memo
    decode_entry, loads = codec.decode_entry, json.loads

    def decode(key: EntryKey, text: str | None) -> Entry | None:
        if type(text) is not str:
            return None
        try:
            entry = decode_entry(loads(text), memo)
        except (_Bad, ValueError, TypeError, RecursionError):
            return None
        return entry if EntryKey.of(entry) == key else None

    return decode


# ---------------------------------------------------------------------------------------------
# What invalidates the cache
# ---------------------------------------------------------------------------------------------

def digest(text: str) -> bytes:
    """The change key of a file's (decoded) text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


_OUTCOME_MODULES = ("loading", "source", "mapping", "model", "cache", "rowindex", "markup")  # markup: the bodies
_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+mkfeeds(?:\.(\w+))?[ \t]+import[ \t]+(\([^)]*\)|[^\n]+)"
                     rb"|import[ \t]+mkfeeds\.(\w+))", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def _code_digest() -> str:
    """A digest of the source of the modules an outcome is computed by (those above and
    every mkfeeds module they import, transitively): during development the version does
    not move when a rule changes, and a stale cache must never publish an old mapping
    (or an old body). Changes elsewhere (renderers, pages) keep the cache."""
    package = Path(__file__).resolve().parent
    h = hashlib.blake2b(digest_size=16)
    todo, seen = list(_OUTCOME_MODULES), set()
    try:
        while todo:
            name = todo.pop()
            path = package / (name.replace(".", "/") + ".py")
            if name in seen or not path.is_file():
                continue
            seen.add(name)
            source = path.read_bytes()
            h.update(name.encode() + b"\0" + source + b"\0")
            for module, names, plain in _IMPORT.findall(source):
                if plain or module:
                    todo.append((plain or module).decode())
                else:  # from mkfeeds import a, b as c
                    todo.extend(n.split()[0].decode() for n in names.strip(b"()").split(b",") if n.strip())
    except OSError:  # an unusual install: fall back on the version numbers alone
        return "unknown"
    return h.hexdigest() + ":" + ",".join(sorted(seen))


def _setting_value(value: Any) -> Any:
    if isinstance(value, ZoneInfo):
        return "zone:" + str(value.key)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)


def _library_versions() -> dict[str, Any]:
    """The parsers an article goes through: a new PyYAML may read a file differently, a
    new python-frontmatter split it elsewhere (its fence pattern is what we use of it),
    a new markdown-it-py or nh3 make other HTML of a body."""
    import frontmatter
    import yaml

    return {"pyyaml": f"{yaml.__version__} libyaml={getattr(yaml, '__with_libyaml__', False)}",
            "frontmatter": str(frontmatter.YAMLHandler.FM_BOUNDARY.pattern),
            "bodies": installed_versions(_BODY_LIBRARIES)}


_BODY_LIBRARIES = frozenset({"markdown_it_py", "nh3"})


def installed_versions(names: frozenset[str]) -> tuple[str, ...]:
    """The installed distributions among ``names`` (normalised: ``markdown_it_py``), as
    the names of their ``*.dist-info`` folders beside PyYAML's (``nh3-0.3.2.dist-info``):
    ``importlib.metadata`` would tell the same, but importing it costs 0.08 s, and
    importing the libraries themselves would cost a build that needs none of them."""
    import yaml

    folder = os.path.dirname(os.path.dirname(os.path.abspath(yaml.__file__ or "")))
    try:
        entries = os.listdir(folder)
    except OSError:
        return ()
    return tuple(sorted(name for name in entries if name.endswith(".dist-info")
                        and name.split("-", 1)[0].lower().replace(".", "_") in names))


def fingerprint(rules: Any, input_root: Path) -> str:
    """Everything besides a file's own text that its outcome depends on, as one string."""
    from mkfeeds import __version__
    from mkfeeds.mapping import MAPPING_VERSION

    settings = {f.name: _setting_value(getattr(rules, f.name)) for f in dataclasses.fields(rules)}
    return json.dumps({
        "schema": SCHEMA_VERSION,
        "mkfeeds": __version__,
        "mapping": MAPPING_VERSION,
        "code": _code_digest(),
        "model": hashlib.blake2b(_outcome_codec().layout.encode(), digest_size=16).hexdigest(),
        "python": list(sys.version_info[:2]),
        "libraries": _library_versions(),
        "rules": settings,
        "input": os.fsdecode(os.path.abspath(input_root)),
    }, sort_keys=True, ensure_ascii=True)


# ---------------------------------------------------------------------------------------------
# The SQLite file
# ---------------------------------------------------------------------------------------------

_CREATE = """
CREATE TABLE files (
    rel TEXT PRIMARY KEY NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    digest BLOB NOT NULL,
    checked_ns INTEGER NOT NULL,
    {KEY},
    entry TEXT,
    body TEXT
);
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
""".replace("{KEY}", ",\n    ".join(f"k_{name}" for name in KEY_COLUMNS))  # no type: values kept as given
_KEY_SELECT = ", ".join(f"k_{name}" for name in KEY_COLUMNS)
KEY_AT = 5  # where the key columns start in a row of ``BuildCache.row_index``
ROW_WIDTH = KEY_AT + len(KEY_COLUMNS)
_ROWS = f"SELECT rel, size, mtime_ns, digest, checked_ns, {_KEY_SELECT} FROM files ORDER BY rel"
# Key columns with few distinct values (names, lists of names, problems): the index holds
# and stores each value once, the rows pointing at it.
SHARED_COLUMNS = frozenset(KEY_AT + KEY_COLUMNS.index(name) for name in (
    "author", "author_url", "topics", "sections", "kind", "provider_key", "problems"))


class BuildCache:
    """An open cache, inside one write transaction for the whole build: concurrent
    builds cannot interleave, and an interrupted build leaves the previous cache."""

    def __init__(self, path: Path, key: str) -> None:
        self.path = path
        self.reset_reason: str | None = None  # set when the rows were dropped (new fingerprint...)
        self.damage: str | None = None  # set when a damaged file was replaced by this one
        self._index_path = rowindex.path_for(path)
        self._index: rowindex.RowIndex | None = None  # the rows as the last build left them
        self._put: dict[str, tuple | None] = {}  # this build's rows, for the index (None: dropped)
        self._restated: dict[str, tuple[int, int, int]] = {}
        self._shared: dict[Any, Any] = {}
        self._empty = False  # the table is new or emptied: its index is empty, whatever the file says
        self._index_current = False  # the index read is the file's, this table's before any write
        self._db = _connect(path)
        try:
            self._open(key)
        except BaseException:
            self._db.close()
            raise

    def _open(self, key: str) -> None:
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")  # the write lock, for the whole build
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise CacheUnavailable(f"{self.path} is in use by another build") from None
            raise
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if app_id != APPLICATION_ID:
            if app_id != 0 or tables:
                raise _NotOurs
            self._create()
            self._set_meta(key)
            return
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION or tables != {"files", "meta"}:
            for table in tables:
                db.execute(f'DROP TABLE "{table}"')
            self._create()
            self._set_meta(key)
            self.reset_reason = "it was written by another version of mkfeeds"
            return
        stored = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if stored.get("fingerprint") != key:
            db.execute("DELETE FROM files")
            db.execute("DELETE FROM meta WHERE key = 'generation'")  # no index file is this table's now
            self._empty = True
            self.reset_reason = "the mkfeeds version, its rules, the settings or the input folder changed"
        self._set_meta(key)

    def _create(self) -> None:
        self._empty = True
        self._db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        for statement in _CREATE.split(";"):
            if statement.strip():
                self._db.execute(statement)

    def _set_meta(self, key: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (key,))

    def row_index(self) -> rowindex.RowIndex:
        """Every row (rel, size, mtime_ns, digest, checked_ns, then the ``KEY_COLUMNS``
        from position ``KEY_AT``; not the entry), sorted by ``rel``: from the index file
        when it is this table's, else read from the table. Raises ``ValueError`` for rows
        whose paths, stats or digests are not of their types (a damaged table)."""
        if self._index is None:
            if self._empty:
                self._index = rowindex.RowIndex.empty(ROW_WIDTH)
            else:
                found = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
                if found and type(found[0]) is str:
                    self._index = rowindex.read(self._index_path, found[0], ROW_WIDTH)
                    self._index_current = self._index is not None
                if self._index is None:
                    self._index = self._index_from_table()
                    if not rowindex.plausible(self._index.columns):
                        raise ValueError("rows whose values are not of their types")
        return self._index

    def key(self, rel: str) -> tuple | None:
        found = self._row(f"SELECT {_KEY_SELECT} FROM files WHERE rel = ?", rel)
        return tuple(found) if found else None

    def entry_text(self, rel: str) -> str | None:
        found = self._row("SELECT entry FROM files WHERE rel = ?", rel)
        return found[0] if found else None

    def body(self, rel: str) -> str | None:
        """The body's HTML, if a build has rendered it since the row was written."""
        found = self._row("SELECT body FROM files WHERE rel = ?", rel)
        return found[0] if found else None

    def _row(self, query: str, rel: str) -> tuple | None:
        try:
            return self._db.execute(query, (rel,)).fetchone()
        except UnicodeEncodeError:  # a file name that is not UTF-8: never stored (see ``_write``)
            return None

    def keep_bodies(self, bodies: list[tuple[str, str]]) -> None:
        """(HTML, rel): the body of the file as the row has it (a new row has none)."""
        self._write("UPDATE files SET body = ? WHERE rel = ?", bodies)

    def put(self, rows: list[tuple[str, int, int, bytes, int, tuple, str | None]]) -> None:
        marks = ", ".join("?" * (6 + len(KEY_COLUMNS)))
        written = self._write(f"INSERT OR REPLACE INTO files VALUES ({marks}, NULL)",
                              [row[:5] + row[5] + row[6:] for row in rows])
        share = self._shared.setdefault  # a value many rows have is held once (a 100,000-row build)
        for written_row in written:
            row = list(written_row[:ROW_WIDTH])  # as the index holds it: no entry, no body
            for position in SHARED_COLUMNS:
                row[position] = share(row[position], row[position])
            self._put[row[0]] = tuple(row)
            self._restated.pop(row[0], None)

    def _write(self, statement: str, rows: list[tuple]) -> list[tuple]:
        """SQLite holds UTF-8 text only: a row with an unpaired surrogate (from a file
        name that is not UTF-8) is left out, so that file is simply not cached. Rare:
        the rows are checked only when a batch fails (each statement of the batch is
        idempotent, so running the rest again is harmless). Returns the rows written."""
        try:
            self._db.executemany(statement, rows)
        except UnicodeEncodeError:
            rows = [row for row in rows if _utf8(row)]
            self._db.executemany(statement, rows)
        return rows

    def restat(self, rows: Iterable[tuple[int, int, int, str]]) -> None:
        """(size, mtime_ns, checked_ns, rel): the file's text was confirmed unchanged."""
        for size, mtime_ns, checked_ns, rel in self._write(
                "UPDATE files SET size = ?, mtime_ns = ?, checked_ns = ? WHERE rel = ?", list(rows)):
            row = self._put.get(rel)
            if row is not None:  # put by this build, then confirmed: not so far, but exact either way
                self._put[rel] = (rel, size, mtime_ns, row[3], checked_ns) + row[KEY_AT:]
            else:
                self._restated[rel] = (size, mtime_ns, checked_ns)

    def drop(self, rels: Iterable[str]) -> None:
        for (rel,) in self._write("DELETE FROM files WHERE rel = ?", [(r,) for r in rels]):
            self._put[rel] = None
            self._restated.pop(rel, None)

    def settle_index(self) -> None:
        """Write the index file of the rows as they now are (see ``rowindex``), under a
        new generation that this transaction records: once a build has written its rows,
        before it renders, so that what the index took is freed early. A build that
        changed no row keeps the index it read. A write after this one makes ``commit``
        settle again."""
        if self._index_current and not self._put and not self._restated:
            return
        generation = secrets.token_hex(16)
        try:
            rows = self.row_index().updated(self._put, self._restated)
            rowindex.write(self._index_path, rows, generation, SHARED_COLUMNS)
            written = True
        except (OSError, MemoryError, ValueError, OverflowError):
            written = False  # no index, or an older one: its generation is not the table's
        self._index, self._put, self._restated, self._shared = None, {}, {}, {}
        self._empty = False  # from now on, the rows are in the table (and in the file, if written)
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (generation,))
        self._index_current = written

    def commit(self) -> None:
        self.settle_index()
        self._db.execute("COMMIT")

    def _index_from_table(self) -> rowindex.RowIndex:
        """The rows, read from the table (SQLite sorts text as Python does: by code point)."""
        columns: list[list[Any]] = [[] for _ in range(ROW_WIDTH)]
        share = self._shared.setdefault  # one string per distinct name, not one per row
        cursor = self._db.execute(_ROWS)
        while batch := cursor.fetchmany(1024):
            for position, (column, values) in enumerate(zip(columns, zip(*batch))):
                column.extend(map(share, values, values) if position in SHARED_COLUMNS else values)
        return rowindex.RowIndex(columns)

    def close(self) -> None:
        """Close; anything not committed is rolled back."""
        try:
            self._db.close()
        except sqlite3.Error:
            pass


def _utf8(row: tuple) -> bool:
    try:
        for value in row:
            if type(value) is str:
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class _NotOurs(Exception):
    pass


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(os.fspath(path), timeout=LOCK_TIMEOUT, isolation_level=None,
                         check_same_thread=False)
    try:
        # KiB: a build writes its rows in one transaction; pages that spill out of a small
        # cache are written twice (measured: inserts twice as slow with the default 2 MiB)
        db.execute("PRAGMA cache_size = -32768")
        # No fsync: the cache is an optimisation. A power cut may lose or damage it, which
        # costs one full build (a damaged cache is replaced, with a warning); waiting for
        # the disk to take a 300 MB file would cost every build.
        db.execute("PRAGMA synchronous = OFF")
    except sqlite3.Error:
        db.close()
        raise
    return db


def open_cache(path: Path, key: str) -> BuildCache:
    """Open (or create, or replace when damaged) the cache at ``path`` for a build whose
    fingerprint is ``key``. Raises ``CacheUnavailable`` with the reason it cannot be used."""
    shown = os.fspath(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise CacheUnavailable(f"{shown} cannot be read ({exc.strerror})") from None
    if st is not None:
        import stat as stat_module

        if not stat_module.S_ISREG(st.st_mode):
            raise CacheUnavailable(f"{shown} is not a file")
        if st.st_size:
            try:
                with open(path, "rb") as handle:
                    magic = handle.read(len(_SQLITE_MAGIC))
            except OSError as exc:
                raise CacheUnavailable(f"{shown} cannot be read ({exc.strerror})") from None
            if magic != _SQLITE_MAGIC:
                raise CacheUnavailable(
                    f"{shown} is not an mkfeeds cache (not an SQLite file); it was left alone: "
                    "delete it or choose another --cache")
    try:
        return BuildCache(path, key)
    except _NotOurs:
        raise CacheUnavailable(
            f"{shown} is an SQLite database but not an mkfeeds cache; it was left alone: "
            "choose another --cache") from None
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.OperationalError) and not _damaged(exc):
            raise CacheUnavailable(f"{shown} cannot be used ({exc})") from None
        # Damaged (an SQLite file at our path that SQLite cannot read): start afresh.
        try:
            _remove_damaged(path)
            cache = BuildCache(path, key)
        except (OSError, sqlite3.Error, _NotOurs) as again:
            raise CacheUnavailable(f"{shown} is damaged and cannot be replaced ({again})") from None
        cache.damage = str(exc)
        return cache


def _damaged(exc: sqlite3.Error) -> bool:
    text = str(exc)
    return any(word in text for word in ("malformed", "not a database", "corrupt", "disk image"))


def _remove_damaged(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        try:
            os.unlink(os.fspath(path) + suffix)
        except FileNotFoundError:
            pass
