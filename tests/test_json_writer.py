"""JSON Feed is written by ``render.jsonfeed.pretty_json``, not ``json.dumps(indent=2)``
(which pretty-prints in pure Python): it must write the very same bytes, for any text."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from mkfeeds.render.jsonfeed import pretty_json

TEXT = st.text(st.characters(codec="utf-8"))  # surrogates, controls, quotes, U+2028: all escaped alike
VALUES = st.recursive(
    st.one_of(TEXT, st.none(), st.booleans(), st.integers()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=25)


@settings(max_examples=1000, deadline=None)
@given(VALUES)
def test_the_same_bytes_as_json_dumps(value):
    assert pretty_json(value) == json.dumps(value, ensure_ascii=False, indent=2)


def test_empty_containers_and_nesting():
    value = {"a": [], "b": {}, "c": [{"d": [1, None, True]}], "e": "\u2028\"\\"}
    assert pretty_json(value) == json.dumps(value, ensure_ascii=False, indent=2)
