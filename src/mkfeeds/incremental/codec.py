"""A file's outcome <-> the values a row stores (interim: to be replaced by explicit functions)."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from mkfeeds.model import Author, Entry, EntryKey, FileOutcome, KeyedOutcome, Problem

SCHEMA = 5


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
            raise Uncacheable(f"the cache cannot store this version's model ({exc})") from None
    return _codec_instance


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


# The key of an outcome is stored as plain columns, read for every row of every build:
# SQLite hands them over as Python values, which decode several times faster than JSON.
# ``KEY_COLUMNS`` are their names (and order); an outcome without an entry has NULL in all
# but ``problems``. Lists of names are joined by U+001F, which clean text never holds.
KEY_COLUMNS = ("id", "published", "updated", "draft", "author", "author_url", "topics", "sections",
               "quality", "heat", "kind", "provider_key", "problems")
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
        updated = None if entry.updated == entry.published and entry.updated.tzinfo is entry.published.tzinfo \
            else _encode_datetime(entry.updated)
        key = (entry.id, published if type(published) is str else _dumps(published),
               updated if type(updated) is not list else _dumps(updated), int(entry.draft),
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

    def decode(rel: str, key: tuple) -> KeyedOutcome | None:
        try:
            (id_, published, updated, draft, author_name, author_url, topics, sections, quality, heat, kind,
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
            if updated is None:
                changed = when
            elif type(updated) is str:
                changed = fromisoformat(updated) if updated[:1] != "[" else _decode_datetime(loads(updated))
                if changed.tzinfo is None:
                    return None
            else:
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
            entry_key = new(EntryKey, (id_, rel, when, changed, flags[draft], author, topic_names, section_names,
                                       ranking(quality), ranking(heat), kind_name, provider))
        except (_Bad, ValueError, TypeError, RecursionError):
            return None
        return new(KeyedOutcome, (rel, entry_key, decoded_problems))

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




MODEL_LAYOUT = "|".join(_layout(Entry) + _layout(Problem) + [
    f"EntryKey.{name}:{hint}" for name, hint in EntryKey.__annotations__.items()] + list(KEY_COLUMNS))
