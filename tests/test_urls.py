"""URLs: what reaches a feed, and the fast path for URLs that are already canonical.

``absolute_url`` returns a URL that already has the form it would write without
parsing it; these tests hold that shortcut to the long way (``_normalised_url``) for
any string, and pin the forms both must produce.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mkfeeds.urls import BadURL, _normalised_url, absolute_url

BASE = "https://news.example.org/2024/"


def outcome(function, value: str) -> str:
    try:
        return function(value, BASE)
    except BadURL as exc:
        return f"BadURL: {exc}"


@pytest.mark.parametrize("value, expected", [
    ("https://www.example.org/2024/03/04/a-b_c~d/", "https://www.example.org/2024/03/04/a-b_c~d/"),
    ("https://example.org/p?w=2100&h=1183&fit=crop", "https://example.org/p?w=2100&h=1183&fit=crop"),
    ("HTTPS://Example.ORG/p", "https://example.org/p"),
    ("https://example.org", "https://example.org/"),
    ("https://example.org:443/p", "https://example.org/p"),
    ("http://example.org:8080/p", "http://example.org:8080/p"),
    ("https://example.org/a%7eb%2f", "https://example.org/a~b%2F"),
    ("https://example.org/caf\u00e9 au lait", "https://example.org/caf%C3%A9%20au%20lait"),
    ("https://example.org/p?", "https://example.org/p"),
    ("https://example.org/p#top", "https://example.org/p#top"),
    ("https://b\u00fccher.example/", "https://xn--bcher-kva.example/"),
    ("/relative/path", "https://news.example.org/relative/path"),
    ("  https://example.org/padded  ", "https://example.org/padded"),
    ("javascript:alert(1)", "BadURL: uses the 'javascript' scheme; only http and https are published"),
    ("https://user:pw@example.org/", "BadURL: contains credentials"),
    ("https://exa_mple.org/", "BadURL: has a host name that is not valid"),
    ("https://example.org/" + "a" * 2048, "BadURL: is longer than 2048 characters"),
])
def test_what_a_url_becomes(value: str, expected: str) -> None:
    assert outcome(absolute_url, value) == expected
    assert outcome(_normalised_url, value) == expected


URL_CHARS = st.sampled_from(list("abcXYZ019-._~!$&'()*+,;=:@/?#%[] \t\u00e9\x00") + ["%7e", "%2F", "%zz"])
url_like = st.builds(
    lambda scheme, host, port, slash, rest: f"{scheme}://{host}{port}{slash}{rest}",
    st.sampled_from(["http", "https", "HTTP", "ftp", "javascript"]),
    st.sampled_from(["example.org", "EXAMPLE.org", "a-b.example", "-bad.example", "x" * 64 + ".org",
                     "ex_ample.org", "[::1]", "b\u00fccher.example", "", "example.org."]),
    st.sampled_from(["", ":80", ":443", ":8080", ":x"]),
    st.sampled_from(["/", "/", ""]),
    st.lists(URL_CHARS, max_size=30).map("".join),
)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(url_like, st.lists(URL_CHARS, max_size=30).map("".join)))
def test_the_shortcut_agrees_with_the_long_way(value: str) -> None:
    assert outcome(absolute_url, value) == outcome(_normalised_url, value)
