"""The front matter loader builds values straight from libyaml's events (for speed), so
it must read every document exactly as PyYAML's own safe loader does, apart from the
refusals it adds (aliases, tags, merge keys, duplicate keys, non-text top-level keys).

The reference is ``yaml.load(text, Loader=yaml.CSafeLoader)``: same types, same values,
same key order, whatever the scalar looks like (YAML 1.1 reads ``010`` as 8, ``1:30``
as 90, ``yes`` as True) and however the document is laid out.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import frontmatter
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mkfeeds.errors import ArticleError
from mkfeeds.source import WrittenFloat, WrittenInt, load_yaml, parse_article

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# Scalars whose YAML 1.1 type is easy to get wrong, each written plain, quoted and in a block.
TRICKY_SCALARS = [
    "010", "0x1F", "0b101", "0o17", "1_000", "-0", "+12", "1:30", "190:20:30", "1e3", "1.5e+3",
    "6.8523015e+5", ".5", "1.", ".nan", ".NaN", ".inf", "-.Inf", "+.inf", "yes", "No", "ON", "off",
    "y", "n", "true", "False", "TRUE", "~", "null", "Null", "NULL", "2024-03-04",
    "2024-03-04T10:00:00Z", "2024-03-04 10:00:00.5 +05:30", "2024-3-4t1:02:03-08",
    "2001-12-14t21:59:43.10-05:00", "2021-11-26T06:02:00-04:00", "2024-03-04T11:32:00+05:45",
    "2024-03-04T11:32:00+00:00", "2024-03-04T11:32:00-00:00", "0001-01-01T00:00:00Z", "=", "<<", "-", ".", "0.", "1,000", "12:30:00", "0xZZ",
    "The New York Times", "news", "Natural Language Processing", "ö", "1 2", "true story",
]


def reference(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)


def loaded(text: str) -> Any:
    return load_yaml("a.txt", text)[0]


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (``1 == 1.0 == True`` is not enough;
    our numbers are ``int`` and ``float`` subclasses that remember how they were written)."""
    if plain_type(a) is not plain_type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, datetime):
        return a == b and a.tzinfo == b.tzinfo
    return a == b


def plain_type(value: Any) -> type:
    return {WrittenInt: int, WrittenFloat: float}.get(type(value), type(value))


@pytest.mark.parametrize("scalar", TRICKY_SCALARS)
@pytest.mark.parametrize("form", ["plain", "single", "double", "block", "in_list"])
def test_scalars_read_as_pyyaml_reads_them(scalar: str, form: str) -> None:
    written = {
        "plain": f"v: {scalar}\n",
        "single": "v: '" + scalar.replace("'", "''") + "'\n",
        "double": f'v: "{scalar}"\n',
        "block": f"v: |-\n  {scalar}\n",
        "in_list": f"v: [{scalar}]\n" if "," not in scalar else f"v:\n  - {scalar}\n",
    }[form]
    if scalar in ("=", "<<") and form in ("plain", "in_list"):
        # PyYAML has no constructor for these two YAML 1.1 tags and fails; ours keeps the text.
        assert loaded(written)["v"] in (scalar, [scalar])
        return
    assert_reads_as_pyyaml(written)


def assert_reads_as_pyyaml(text: str) -> None:
    """Same value as PyYAML's, or refused where PyYAML refuses too."""
    try:
        expected = reference(text)
    except yaml.YAMLError:
        with pytest.raises(ArticleError, match="invalid YAML"):
            loaded(text)
        return
    assert same(loaded(text), expected)


def test_numbers_remember_how_they_were_written() -> None:
    data = loaded("a: 010\nb: 1:30\nc: 1.5e+3\nd: 12\n")
    assert (data["a"], data["b"], data["c"], data["d"]) == (8, 90, 1500.0, 12)
    assert [data[k].written for k in "abcd"] == ["010", "1:30", "1.5e+3", "12"]


@pytest.mark.parametrize("seed", sorted(p.name for p in SEEDS.rglob("*.*")))
def test_the_seeds_read_as_pyyaml_reads_them(seed: str) -> None:
    text = next(SEEDS.rglob(seed)).read_text(encoding="utf-8")
    front_matter = text.split("\n---\n", 1)[0].removeprefix("---\n")
    assert same(loaded(front_matter), reference(front_matter))


def test_top_level_key_lines_count_from_the_first_line() -> None:
    data, lines = load_yaml("a.txt", "# comment\ntitle: x\n\nlist:\n  - 1\nlast: {a: b}\n", first_line=2)
    assert lines == {"title": 3, "list": 5, "last": 7}
    assert data == {"title": "x", "list": [1], "last": {"a": "b"}}


@pytest.mark.parametrize("text, message, line", [
    ("a: &x 1\nb: *x\n", "invalid YAML: YAML anchors and aliases (&name, *name) are not supported", 2),
    ("a: !!int x\n", "invalid YAML: YAML tags (!name) are not allowed", 1),
    ("a: !!int '1'\n", "invalid YAML: YAML tags (!name) are not allowed", 1),
    ("a: !custom {}\n", "invalid YAML: YAML tags (!name) are not allowed", 1),
    ("a: !!seq {}\n", "invalid YAML: YAML tags (!name) are not allowed", 1),
    ("<<: {a: 1}\n", "invalid YAML: YAML merge keys (<<) are not supported", 1),
    ("a: 1\nb:\n  c: 1\n  0x1: 2\n  1: 3\n", "invalid YAML: duplicate key", 5),
    ("a: 1\na: 2\n", "invalid YAML: duplicate key", 2),
    ("a:\n  [1, 2]: x\n", "invalid YAML: mapping keys must be plain values", 2),
    ("? {a: 1}\n: x\n", "invalid YAML: mapping keys must be plain values", 1),
    ("a: 1\n2: b\n", "front matter keys must be text", 2),
    ("a: 1\nnull: b\n", "front matter keys must be text", 2),
    ("- a\n", "front matter must be a YAML mapping of keys to values", 1),
    ("\n\njust text\n", "front matter must be a YAML mapping of keys to values", 3),
    ("a: 1\n--- {b: 2}\n", "invalid YAML: expected a single document in the stream", 2),
    ("a: 9" + "9" * 1000 + "\n", "invalid YAML: a number longer than 1000 characters "
                                 "(put it in quotes if it is text)", 1),
])
def test_refusals_name_the_line(text: str, message: str, line: int) -> None:
    with pytest.raises(ArticleError) as raised:
        load_yaml("a.txt", text)
    assert (raised.value.message, raised.value.line) == (message, line)


@pytest.mark.parametrize("written", ["2024-02-30", "2024-02-30T10:00:00Z", "2024-01-01T10:00:00+24:00"])
def test_an_impossible_date_is_kept_as_written(written: str) -> None:
    """PyYAML refuses the whole document; the date field names the problem instead
    (``publishedDateTime: is an impossible date``), and a text field keeps the text."""
    assert loaded(f"a: x\nb: {written}\n") == {"a": "x", "b": written}


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_an_empty_document_is_an_empty_mapping(text: str) -> None:
    assert load_yaml("a.txt", text) == ({}, {})


def test_an_anchor_without_an_alias_is_harmless() -> None:
    assert loaded("a: &x 1\n") == {"a": 1}


def test_explicit_tags_that_change_nothing_are_accepted() -> None:
    assert loaded("a: !!str 010\nb: !!int 12\nc: ! 12\nd: !!map {e: !!seq [1]}\n") == {
        "a": "010", "b": 12, "c": "12", "d": {"e": [1]}}


# -- any document PyYAML can write ------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
    st.sampled_from(TRICKY_SCALARS),
    st.dates(min_value=date(1900, 1, 1)),
    st.datetimes(min_value=datetime(1900, 1, 1), timezones=st.just(timezone.utc)),
)
keys = st.one_of(st.text(max_size=10), st.integers(), st.booleans(), st.sampled_from(TRICKY_SCALARS))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=20)
documents = st.dictionaries(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
                            values, max_size=6)


@settings(max_examples=400, deadline=None)
@given(documents, st.sampled_from([None, False, True]), st.sampled_from([None, "'", '"']))
def test_any_document_reads_as_pyyaml_reads_it(document: dict, flow: bool | None, style: str | None) -> None:
    text = yaml.safe_dump(document, default_flow_style=flow, default_style=style, allow_unicode=True,
                          sort_keys=False, width=40)
    expected = reference(text)
    if any(isinstance(token, yaml.TagToken) for token in yaml.scan(text)):  # the dumper tags what its
        # style would otherwise misread: refused (a "!!" inside a quoted string is no tag)
        with pytest.raises(ArticleError, match="YAML tags"):
            loaded(text)
    elif all(isinstance(key, str) for key in expected):  # else refused, as tested above
        assert same(loaded(text), expected)


# -- where the front matter ends ----------------------------------------------------------

LINES = ["---", "--- ", "----", "---\t", "-", "- a", "-- -", "a: 1", "", " ---", "---x", "b: |", "  ---"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LINES), max_size=8), st.sampled_from(["", "\n"]))
def test_the_front_matter_ends_where_python_frontmatter_says(lines: list[str], end: str) -> None:
    text = "---\n" + "\n".join(lines) + end
    try:
        front_matter, body = frontmatter.YAMLHandler().split(text)
    except ValueError:  # no closing delimiter
        with pytest.raises(ArticleError, match="not closed"):
            parse_article("a.txt", text)
        return
    try:
        article = parse_article("a.txt", text)
    except ArticleError as exc:  # the YAML between the lines is refused: as PyYAML refuses it
        assert "invalid YAML" in exc.message or "mapping" in exc.message
        if exc.message.endswith("duplicate key"):  # refused by us alone, on purpose
            return
        with pytest.raises(yaml.YAMLError if "invalid YAML" in exc.message else AssertionError):
            assert isinstance(reference(front_matter) or {}, dict)
        return
    assert article.meta == (reference(front_matter) or {})
    assert article.body == body.strip("\n")
