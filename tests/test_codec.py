"""The state's codec: what is stored of an outcome comes back exactly, or not at all."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mkfeeds.incremental import codec
from mkfeeds.model import Author, Entry, EntryKey, FileOutcome, Image, Link, Problem

TEXT = st.text(max_size=15)
ZONES = st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=45)), ZoneInfo("Europe/Paris")])
MOMENTS = st.builds(lambda d, zone, fold: d.replace(tzinfo=zone, fold=fold),
                    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)), ZONES,
                    st.integers(0, 1))
NAMES = st.lists(st.text(st.characters(exclude_characters="\x1f"), min_size=1, max_size=8), max_size=3).map(tuple)

ENTRIES = st.builds(
    Entry, id=TEXT, url=TEXT, title=TEXT, published=MOMENTS, updated=MOMENTS, source=TEXT,
    summary=st.one_of(st.none(), TEXT), external_url=st.one_of(st.none(), TEXT),
    author=st.one_of(st.none(), st.builds(Author, TEXT, st.one_of(st.none(), TEXT))),
    categories=NAMES, topics=NAMES, sections=NAMES,
    images=st.lists(st.builds(Image, TEXT, st.one_of(st.none(), st.integers(0, 10**6)),
                              st.one_of(st.none(), st.integers(0, 10**6))), max_size=2).map(tuple),
    related=st.lists(st.builds(Link, TEXT, TEXT), max_size=2).map(tuple),
    language=st.one_of(st.none(), TEXT), draft=st.booleans(), has_body=st.booleans(),
    content_html=st.one_of(st.none(), TEXT),
    quality=st.one_of(st.none(), st.integers(-5, 500), st.floats(allow_nan=False)),
    heat=st.one_of(st.none(), st.floats(allow_nan=False)), article_type=st.one_of(st.none(), TEXT),
    provider_key=st.one_of(st.none(), TEXT))
PROBLEMS = st.lists(st.builds(Problem, st.sampled_from(["error", "warning"]), TEXT, TEXT,
                              st.one_of(st.none(), TEXT), st.one_of(st.none(), st.integers(1, 999))),
                    max_size=2).map(tuple)


def same(a: object, b: object) -> bool:
    """Equal, and every datetime with the very same zone (and fold, where a zone has folds)."""
    if isinstance(a, datetime):
        if not isinstance(b, datetime) or a != b or a.replace(tzinfo=None) != b.replace(tzinfo=None):
            return False
        if isinstance(a.tzinfo, ZoneInfo):  # the same zone, by identity, and the same side of a fold
            return a.tzinfo is b.tzinfo and a.fold == b.fold
        return a.tzinfo == b.tzinfo
    if dataclasses.is_dataclass(a):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


def test_the_codec_knows_every_field_of_the_model():
    assert codec.ENTRY_FIELDS == tuple(f.name for f in dataclasses.fields(Entry))
    assert codec.PROBLEM_FIELDS == tuple(f.name for f in dataclasses.fields(Problem))


@settings(max_examples=200, deadline=None)
@given(ENTRIES, PROBLEMS)
def test_an_outcome_comes_back_exactly(entry, problems):
    entry = dataclasses.replace(entry, source="a.txt")
    encoded = codec.encode_outcome(FileOutcome("a.txt", entry, problems))
    back = codec.decode_outcome("a.txt", encoded)
    assert back is not None and same(back.entry, entry) and same(back.problems, problems)
    keyed = codec.outcome_decoder()("a.txt", encoded.key)
    assert keyed is not None and keyed.key == EntryKey.of(entry)
    assert same(keyed.key.published, entry.published)
    assert same(keyed.key.updated, entry.updated) or entry.updated == entry.published  # then stored once


def test_the_keys_of_many_rows_share_one_zone_object_per_offset():
    """A rebuild holds a key per article: its dates are decoded with one zone object
    for each offset, not one each, and keep their zone (name, fold) otherwise."""
    decode = codec.outcome_decoder()
    zones = [timezone(timedelta(hours=5, minutes=45)), timezone(timedelta(hours=-3)), timezone.utc,
             ZoneInfo("Europe/Paris")]
    keys = []
    for i in range(40):
        when = datetime(2024, 3, 1 + i % 28, 10, tzinfo=zones[i % len(zones)])
        entry = dataclasses.replace(GOOD, source=f"{i}.txt", published=when, updated=when + timedelta(hours=1))
        keyed = decode(f"{i}.txt", codec.encode_outcome(FileOutcome(f"{i}.txt", entry)).key)
        assert keyed is not None and keyed.key is not None
        assert same(keyed.key.published, entry.published) and same(keyed.key.updated, entry.updated)
        keys.append(keyed.key)
    for offset in range(len(zones)):
        assert len({id(key.published.tzinfo) for key in keys[offset::len(zones)]}
                   | {id(key.updated.tzinfo) for key in keys[offset::len(zones)]}) == 1


def test_a_rejection_comes_back_without_an_entry():
    problems = (Problem("error", "a.txt", "bad", "title", 3),)
    back = codec.decode_outcome("a.txt", codec.encode_outcome(FileOutcome("a.txt", None, problems)))
    assert back == FileOutcome("a.txt", None, problems)


GOOD = Entry(id="https://n.example/a", url="https://n.example/a", title="A",
             published=datetime(2024, 3, 1, tzinfo=timezone.utc), updated=datetime(2024, 3, 2, tzinfo=timezone.utc),
             source="a.txt", summary="S", author=Author("P", "https://p.example/"), topics=("AI",),
             categories=("AI",), images=(Image("https://i.example/a.jpg", 10, 20),),
             related=(Link("https://r.example/", "R"),), quality=4.5)


@pytest.mark.parametrize("position", range(len(codec.ENTRY_FIELDS)))
@pytest.mark.parametrize("wrong", [None, 7, "x", [], True, 1.5, ["x"]])
def test_a_stored_entry_value_of_the_wrong_type_is_damage_never_an_error(position, wrong):
    encoded = codec.encode_outcome(FileOutcome("a.txt", GOOD))
    assert isinstance(encoded.entry, str)
    values = json.loads(encoded.entry)
    values[position] = wrong
    key = codec.outcome_decoder()("a.txt", encoded.key)
    assert key is not None and key.key is not None
    decoded = codec.entry_decoder()(key.key, json.dumps(values))
    assert decoded is None or same(decoded, dataclasses.replace(decoded)) and EntryKey.of(decoded) == key.key


@pytest.mark.parametrize("position", range(len(codec.KEY_COLUMNS)))
@pytest.mark.parametrize("wrong", [None, 7, "x", b"x", 1.5, "[1]"])
def test_a_stored_key_value_of_the_wrong_type_is_damage_never_an_error(position, wrong):
    key = list(codec.encode_outcome(FileOutcome("a.txt", GOOD)).key)
    key[position] = wrong
    codec.outcome_decoder()("a.txt", tuple(key))  # None or an outcome; never raises


@pytest.mark.parametrize("entry", [
    dataclasses.replace(GOOD, published=datetime(2024, 3, 1)),  # no zone
    dataclasses.replace(GOOD, quality=True),  # a flag where a number goes
    dataclasses.replace(GOOD, topics=("a\x1fb",)),  # the separator of stored name lists
    dataclasses.replace(GOOD, topics=["AI"]),  # a list where a tuple goes
])
def test_values_that_would_not_come_back_exactly_are_not_stored(entry):
    with pytest.raises(codec.Uncacheable):
        codec.encode_outcome(FileOutcome("a.txt", entry))
