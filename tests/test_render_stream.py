"""A feed written in pieces is, byte for byte, the feed rendered whole."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mkfeeds.model import Author, Entry, Feed, FeedMeta, Image, Link
from mkfeeds.render.stream import RENDERERS, Pieces, document

DAY = datetime(2024, 1, 1, tzinfo=timezone.utc)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)


@st.composite
def entries(draw: st.DrawFn, index: int) -> Entry:
    url = f"https://news.example.org/{index}/"
    return Entry(
        id=url, url=url, title=draw(TEXT) or "t", published=DAY - timedelta(hours=index),
        updated=DAY - timedelta(hours=index), source=f"{index}.txt",
        summary=draw(st.one_of(st.none(), TEXT.filter(bool))),
        content_html=draw(st.one_of(st.none(), st.just("<p>a\nb</p>"))),
        author=draw(st.one_of(st.none(), st.just(Author("P", "https://p.example/")))),
        categories=tuple(draw(st.lists(st.sampled_from(["AI", "Space", "<b>"]), max_size=2, unique=True))),
        images=draw(st.sampled_from([(), (Image("https://i.example/a.jpg", 10, 20),)])),
        related=draw(st.sampled_from([(), (Link("https://r.example/", "R"),)])),
        language=draw(st.sampled_from([None, "en", "fr-CA"])),
        external_url=draw(st.sampled_from([None, "https://o.example/x"])))


@st.composite
def feeds(draw: st.DrawFn) -> tuple[Feed, list[Entry]]:
    count = draw(st.integers(0, 12))
    shown = [draw(entries(i)) for i in range(count)]
    meta = FeedMeta(draw(TEXT) or "T", "D", "https://news.example.org/", Author("Desk"),
                    language=draw(st.sampled_from([None, "en"])))
    feed = Feed(meta, "https://f.example/rss.xml", "https://f.example/atom.xml", "https://f.example/feed.json",
                DAY, (), draw(st.sampled_from([None, "feed.xsl"])))
    return feed, shown


@settings(max_examples=60, deadline=None)
@given(feeds(), st.integers(1, 5))
def test_pieces_joined_are_the_document_rendered_whole(feed_and_entries, chunk):
    feed, shown = feed_and_entries
    for fmt, render in RENDERERS.items():
        whole = render(replace(feed, entries=tuple(shown)), None)
        pieces = Pieces(fmt, feed)
        parts = [pieces.entries(shown[i:i + chunk]) for i in range(0, len(shown), chunk)]
        assert document(pieces, parts) == whole, fmt


@pytest.mark.parametrize("chunk", [7, 300])  # 300: the chunk's entries render on two processes
def test_a_long_feed_is_written_as_it_is_rendered_to_the_same_bytes(tmp_path, monkeypatch, chunk):
    """Feeds longer than ``STREAM_MIN`` go through ``LongFeed``: chunk by chunk, on
    all cores, each chunk written as it comes; the files are those of a whole render."""
    from conftest import NOW, article_text, write_tree

    from mkfeeds import build as build_module
    from mkfeeds.config import Settings

    write_tree(tmp_path / "in", {f"{i:03}.md": article_text(
        f"Body *{i}*." if i % 3 else "", title=f"T{i}", webUrl=f"https://n.example/{i}/",
        publishedDateTime=f"2024-03-{1 + i % 28:02}T10:{i % 60:02}:00Z", topics=["AI", f"T{i % 4}"])
        for i in range(150)})

    def built(out: str, **overrides) -> dict[str, bytes]:
        settings = Settings(input=tmp_path / "in", output=tmp_path / out, base_url="https://f.example/",
                            cache=None, limit=0, jobs=2, **overrides)
        build_module.build(settings, NOW)
        return {p.relative_to(tmp_path / out).as_posix(): p.read_bytes()
                for p in sorted((tmp_path / out).rglob("*")) if p.is_file()}

    whole = built("whole")
    streamed: list[str] = []
    real = build_module.LongFeed.produce

    def spy(self, sinks):
        streamed.append(self.spec.key)
        return real(self, sinks)

    monkeypatch.setattr(build_module, "STREAM_MIN", 20)
    monkeypatch.setattr(build_module, "STREAM_CHUNK", chunk)
    monkeypatch.setattr(build_module.LongFeed, "produce", spy)
    assert built("streamed") == whole
    assert "main" in streamed and "topics/ai" in streamed
