"""A file's outcome <-> the values a row stores: plain, explicit functions, one per type.

The key of an outcome (what choosing entries needs) is stored as plain columns, read for
every row of every build; the whole entry as a JSON list, read only for the entries a
feed shows. No pickle: stored values are data, never code, and every value read back is
checked against the model's type before an object is made of it; a value that does not
fit makes the decoder return None (the row is then treated as missing), never raise.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable, Iterator
from datetime import datetime, timezone, tzinfo
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from mkfeeds.model import Author, Entry, EntryKey, FileOutcome, Image, KeyedOutcome, Link, Problem

SCHEMA = 5


class Uncacheable(Exception):
    """An outcome holds a value this codec cannot store exactly: it is not cached."""


class _Bad(Exception):
    """A stored value does not match the model: the row is treated as missing."""


_MEMO_MAX_LEN = 40  # short strings (names, categories, languages) are shared between entries
_FLOAT, _INT, _AUTHOR = object(), object(), object()  # memo keys no stored value can equal


def _encode_datetime(value: Any) -> Any:
    """A datetime that comes back with its exact zone: UTC or a fixed offset as ISO text,
    an IANA zone as [naive ISO text, key, fold]."""
    if type(value) is not datetime:
        raise Uncacheable("not a datetime")
    zone = value.tzinfo
    if zone is None:
        raise Uncacheable("a datetime without a zone")
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
            decoded = datetime.fromisoformat(value)
            if decoded.tzinfo is not None:
                return decoded
        elif type(value) is list and len(value) == 3 and type(value[0]) is str \
                and type(value[1]) is str and type(value[2]) is int and value[2] in (0, 1):
            naive = datetime.fromisoformat(value[0])
            if naive.tzinfo is None:
                return naive.replace(tzinfo=ZoneInfo(value[1]), fold=value[2])
    except (ValueError, OSError, LookupError):  # a bad date or zone key
        pass
    raise _Bad


# -- checks of plain values ------------------------------------------------------------------

def _text(value: Any) -> str:
    if type(value) is not str:
        raise Uncacheable("not text")
    return value


def _optional_text(value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise Uncacheable("not text")
    return value


def _number(value: Any) -> float | int | None:
    if value is not None and type(value) not in (int, float):
        raise Uncacheable("not a number")
    return value


def _optional_int(value: Any) -> int | None:
    if value is not None and type(value) is not int:
        raise Uncacheable("not a whole number")
    return value


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise Uncacheable("not true or false")
    return value


def _names(value: Any) -> list[str]:
    if type(value) is not tuple or any(type(name) is not str for name in value):
        raise Uncacheable("not a tuple of names")
    return list(value)


def _shared(value: str, memo: dict[Any, Any]) -> str:
    return memo.setdefault(value, value) if len(value) <= _MEMO_MAX_LEN else value


def _is_text(value: Any) -> str:
    if type(value) is not str:
        raise _Bad
    return value


def _is_optional_text(value: Any, memo: dict[Any, Any]) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        raise _Bad
    return _shared(value, memo)


def _is_names(value: Any, memo: dict[Any, Any]) -> tuple[str, ...]:
    if type(value) is not list:
        raise _Bad
    for name in value:
        if type(name) is not str:
            raise _Bad
    return tuple([_shared(name, memo) for name in value])


def _is_flag(value: Any) -> bool:
    if type(value) is not bool:
        raise _Bad
    return value


def _is_number(value: Any, memo: dict[Any, Any]) -> float | int | None:
    if value is None or type(value) is int:
        return value
    if type(value) is not float:
        raise _Bad
    return memo.setdefault((_FLOAT, value), value) if value else value  # 0.0 and -0.0 kept apart


def _is_optional_int(value: Any, memo: dict[Any, Any]) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        raise _Bad
    return memo.setdefault((_INT, value), value) if value > 256 else value  # CPython shares only -5..256


# -- the model's types -------------------------------------------------------------------------

def _encode_author(author: Any) -> list[Any] | None:
    if author is None:
        return None
    if type(author) is not Author:
        raise Uncacheable("not an author")
    return [_text(author.name), _optional_text(author.url)]


def _decode_author(value: Any, memo: dict[Any, Any]) -> Author | None:
    if value is None:
        return None
    if type(value) is not list or len(value) != 2:
        raise _Bad
    key = (_AUTHOR, *value) if all(type(v) in (str, type(None)) for v in value) else None
    found = memo.get(key) if key is not None else None
    if found is None:
        found = Author(_is_text(value[0]), _is_optional_text(value[1], memo))
        if key is not None:
            memo[key] = found
    return found


def _encode_image(image: Any) -> list[Any]:
    if type(image) is not Image:
        raise Uncacheable("not an image")
    return [_text(image.url), _optional_int(image.width), _optional_int(image.height)]


def _decode_image(value: Any, memo: dict[Any, Any]) -> Image:
    if type(value) is not list or len(value) != 3:
        raise _Bad
    return Image(_is_text(value[0]), _is_optional_int(value[1], memo), _is_optional_int(value[2], memo))


def _encode_link(link: Any) -> list[Any]:
    if type(link) is not Link:
        raise Uncacheable("not a link")
    return [_text(link.url), _text(link.title)]


def _decode_link(value: Any, memo: dict[Any, Any]) -> Link:
    if type(value) is not list or len(value) != 2:
        raise _Bad
    return Link(_is_text(value[0]), _is_text(value[1]))


def _items(value: Any) -> tuple[Any, ...]:
    if type(value) is not tuple:
        raise Uncacheable("not a tuple")
    return value


def _decode_items(value: Any, decode: Any, memo: dict[Any, Any]) -> tuple[Any, ...]:
    if type(value) is not list:
        raise _Bad
    return tuple([decode(item, memo) for item in value])


# Entry fields in the order they are stored; ``test_codec`` holds it to the model.
ENTRY_FIELDS = ("id", "url", "title", "published", "updated", "source", "summary", "external_url", "author",
                "categories", "topics", "sections", "images", "related", "language", "draft", "has_body",
                "content_html", "quality", "heat", "article_type", "provider_key", "byline")


def encode_entry(entry: Entry) -> list[Any]:
    if type(entry) is not Entry:
        raise Uncacheable("not a whole entry")
    published = _encode_datetime(entry.published)
    return [
        _text(entry.id), _text(entry.url), _text(entry.title), published,
        None if entry.updated == entry.published and entry.updated.tzinfo is entry.published.tzinfo
        and entry.updated.fold == entry.published.fold else _encode_datetime(entry.updated),
        _text(entry.source), _optional_text(entry.summary), _optional_text(entry.external_url),
        _encode_author(entry.author), _names(entry.categories), _names(entry.topics), _names(entry.sections),
        [_encode_image(image) for image in _items(entry.images)],
        [_encode_link(link) for link in _items(entry.related)],
        _optional_text(entry.language), _flag(entry.draft), _flag(entry.has_body),
        _optional_text(entry.content_html), _number(entry.quality), _number(entry.heat),
        _optional_text(entry.article_type), _optional_text(entry.provider_key), _encode_author(entry.byline),
    ]


def decode_entry(value: Any, memo: dict[Any, Any]) -> Entry:
    if type(value) is not list or len(value) != len(ENTRY_FIELDS):
        raise _Bad
    (id_, url, title, published, updated, source, summary, external_url, author, categories, topics, sections,
     images, related, language, draft, has_body, content_html, quality, heat, article_type, provider_key,
     byline) = value
    when = _decode_datetime(published)
    return Entry(
        _is_text(id_), url if url == id_ and type(url) is str else _is_text(url), _is_text(title),
        when, when if updated is None else _decode_datetime(updated), _is_text(source),
        _is_optional_text(summary, memo), _is_optional_text(external_url, memo), _decode_author(author, memo),
        _is_names(categories, memo), _is_names(topics, memo), _is_names(sections, memo),
        _decode_items(images, _decode_image, memo), _decode_items(related, _decode_link, memo),
        _is_optional_text(language, memo), _is_flag(draft), _is_flag(has_body),
        _is_optional_text(content_html, {}), _is_number(quality, memo), _is_number(heat, memo),
        _is_optional_text(article_type, memo), _is_optional_text(provider_key, memo), _decode_author(byline, memo))


PROBLEM_FIELDS = ("severity", "path", "message", "field", "line")


def encode_problem(problem: Problem) -> list[Any]:
    if type(problem) is not Problem or problem.severity not in ("error", "warning"):
        raise Uncacheable("not a problem")
    return [problem.severity, _text(problem.path), _text(problem.message), _optional_text(problem.field),
            _optional_int(problem.line)]


def decode_problem(value: Any, memo: dict[Any, Any]) -> Problem:
    if type(value) is not list or len(value) != len(PROBLEM_FIELDS):
        raise _Bad
    severity, path, message, field, line = value
    if severity not in ("error", "warning"):
        raise _Bad
    return Problem(severity, _is_text(path), _is_text(message), _is_optional_text(field, memo),
                   _is_optional_int(line, memo))


def _layout(cls: type, seen: set[type] | None = None) -> list[str]:
    """Every field name and annotation reachable from ``cls``: part of the fingerprint,
    so a change to the model empties the rows instead of misreading them."""
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


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


# The key of an outcome is stored as plain columns, read for every row of every build:
# SQLite hands them over as Python values, which decode several times faster than JSON.
# ``KEY_COLUMNS`` are their names (and order); an outcome without an entry has NULL in all
# but ``problems``. Lists of names are joined by U+001F, which clean text never holds.
KEY_COLUMNS = ("id", "published", "updated", "draft", "author", "author_url", "topics", "sections",
               "quality", "heat", "article_type", "provider_key", "problems")
_SEPARATOR = "\x1f"


class Encoded(NamedTuple):
    """An outcome as stored: ``key``, the values of ``KEY_COLUMNS`` (its ``EntryKey`` and
    its problems), read for every article on every build; ``entry``, the JSON of the whole
    entry, read only for the entries a feed shows (None for a rejected article); while a
    build holds it in memory (no state kept), that JSON compressed with zlib."""

    key: tuple
    entry: str | bytes | None


def encode_outcome(outcome: FileOutcome) -> Encoded:
    """``outcome`` (without its path, which is the row's key) as column values and JSON.
    Raises ``Uncacheable`` when it holds a value that would not come back exactly."""
    if type(outcome.problems) is not tuple:
        raise Uncacheable("problems is not a tuple")
    entry = outcome.entry
    if entry is not None and type(entry) is not Entry:
        raise Uncacheable("not a whole entry")
    try:
        problems = _dumps([encode_problem(p) for p in outcome.problems]) if outcome.problems else None
        if entry is None:
            return Encoded((None,) * (len(KEY_COLUMNS) - 1) + (problems,), None)
        entry_json = _dumps(encode_entry(entry))  # checks every field, the key's included
        if entry.source != outcome.rel:
            raise Uncacheable("an entry from another file")
        published = _encode_datetime(entry.published)
        author = entry.author
        updated = None if entry.updated == entry.published and entry.updated.tzinfo is entry.published.tzinfo \
            else _encode_datetime(entry.updated)
        key = (entry.id, published if type(published) is str else _dumps(published),
               updated if type(updated) is not list else _dumps(updated), int(entry.draft),
               author.name if author else None, author.url if author else None,
               _joined(entry.topics), _joined(entry.sections), entry.quality, entry.heat, entry.article_type,
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
    if outcome is None or outcome.key is None:
        return FileOutcome(rel, None, outcome.problems) if outcome is not None and encoded.entry is None else None
    entry = entry_decoder(memo)(outcome.key, encoded.entry if isinstance(encoded.entry, str) else None)
    return None if entry is None else FileOutcome(outcome.rel, entry, outcome.problems)


def outcome_decoder(memo: dict | None = None) -> Callable[[str, tuple], KeyedOutcome | None]:
    """Decodes the key columns of many rows: outcomes whose entry is an ``EntryKey``, or
    None for a row whose values do not fit the model (damaged). ``memo`` shares repeated
    values (names, authors, lists of topics, rankings) between them. A rebuild decodes
    every unchanged row, so this is written for speed: a value already seen (and
    checked) is one dict lookup, and the tuples are made without a Python call."""
    memo = {} if memo is None else memo
    lists: dict[Any, tuple[str, ...]] = memo.setdefault(("outcome_decoder", "lists"), {"": ()})
    authors: dict[Any, Author | None] = memo.setdefault(("outcome_decoder", "authors"), {(None, None): None})
    names_: dict[Any, str | None] = memo.setdefault(("outcome_decoder", "names"), {None: None})
    floats: dict[float, float] = memo.setdefault(("outcome_decoder", "floats"), {})
    zones: dict[tzinfo, tzinfo] = memo.setdefault(("outcome_decoder", "zones"), {})
    loads, fromisoformat, utc = json.loads, datetime.fromisoformat, timezone.utc
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

    def zoned(when: datetime) -> datetime:
        """The date with one object per offset (a parsed date has a zone object of its own)."""
        zone = when.tzinfo
        if zone is utc or type(zone) is not timezone:
            return when
        shared = zones.setdefault(zone, zone)
        return when if shared is zone else when.replace(tzinfo=shared)

    def ranking(value: Any) -> Any:
        if type(value) is float:
            return floats.setdefault(value, value) if value else value
        if type(value) not in numbers:
            raise _Bad
        return value

    def decode(rel: str, key: tuple) -> KeyedOutcome | None:
        try:
            (id_, published, updated, draft, author_name, author_url, topics, sections, quality, heat, article_type,
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
                return new(KeyedOutcome, (rel, None, decoded_problems))
            if type(id_) is not str or type(draft) is not int or draft not in (0, 1) or type(published) is not str:
                return None
            when = fromisoformat(published) if published[:1] != "[" else _decode_datetime(loads(published))
            if when.tzinfo is None:
                return None
            when = zoned(when)
            if updated is None:
                changed = when
            elif type(updated) is str:
                changed = fromisoformat(updated) if updated[:1] != "[" else _decode_datetime(loads(updated))
                if changed.tzinfo is None:
                    return None
                changed = zoned(changed)
            else:
                return None
            if (author := authors.get((author_name, author_url), unseen)) is unseen:
                author = author_of(author_name, author_url)
            if (topic_names := lists.get(topics)) is None:
                topic_names = names(topics)
            if (section_names := lists.get(sections)) is None:
                section_names = names(sections)
            if (type_name := names_.get(article_type, unseen)) is unseen:
                type_name = shared(article_type)
            if (provider := names_.get(provider_key, unseen)) is unseen:
                provider = shared(provider_key)
            entry_key = new(EntryKey, (id_, rel, when, changed, flags[draft], author, topic_names, section_names,
                                       ranking(quality), ranking(heat), type_name, provider))
        except (_Bad, ValueError, TypeError, RecursionError):
            return None
        return new(KeyedOutcome, (rel, entry_key, decoded_problems))

    return decode


def entry_decoder(memo: dict | None = None) -> Callable[[EntryKey, str | None], Entry | None]:
    """Decodes the ``entry`` part of a row, given the key it was stored with: None if it
    does not decode, or does not agree with its key (a damaged row)."""
    memo = {} if memo is None else memo
    loads = json.loads

    def decode(key: EntryKey, text: str | None) -> Entry | None:
        if type(text) is not str:
            return None
        try:
            entry = decode_entry(loads(text), memo)
        except (_Bad, ValueError, TypeError, RecursionError):
            return None
        return entry if EntryKey.of(entry) == key else None

    return decode




MODEL_LAYOUT = "|".join(_layout(Entry) + _layout(Problem) + [
    f"EntryKey.{name}:{hint}" for name, hint in EntryKey.__annotations__.items()] + list(KEY_COLUMNS))
