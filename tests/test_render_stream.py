"""A feed written in pieces is, byte for byte, the feed rendered whole."""

from __future__ import annotations

import json
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
        publishedDateTime=f"2024-03-{1 + i % 28:02}T10:{i % 60:02}:00Z", topics=["AI", f"T{i % 4}"],
        **({"content": f"From the **API** {i}"} if i % 2 else {}))  # it stands in for a blank body
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
    content = {item["title"]: item.get("content_html") for item in json.loads(whole["feed.json"])["items"]}
    assert content["T3"] == "<p>From the <strong>API</strong> 3</p>" and content["T5"] == "<p>Body <em>5</em>.</p>"
    assert "main" in streamed and "topics/ai" in streamed


def test_a_long_feed_tells_its_bodies_problems_and_keeps_its_bodies_for_the_next_build(tmp_path, monkeypatch):
    from conftest import NOW, article_text, write_tree

    from mkfeeds import bodies
    from mkfeeds import build as build_module
    from mkfeeds.config import Settings

    write_tree(tmp_path / "in", {f"{i:02}.md": article_text(
        "<div>" * 20_000 + "\n\nDeep." if i == 5 else f"Body *{i}*.", title=f"T{i}",
        webUrl=f"https://n.example/{i}/", publishedDateTime=f"2024-03-{1 + i:02}T10:00:00Z") for i in range(24)})
    monkeypatch.setattr(build_module, "STREAM_MIN", 20)
    monkeypatch.setattr(build_module, "STREAM_CHUNK", 7)
    rendered: list[str] = []
    real = bodies.render_body

    def counted(entry, source):
        rendered.append(entry.source)
        return real(entry, source)

    monkeypatch.setattr(bodies, "render_body", counted)
    settings = Settings(input=tmp_path / "in", output=tmp_path / "out", base_url="https://f.example/",
                        cache=tmp_path / "state", limit=0, jobs=1, taxonomies=())
    first = build_module.build(settings, NOW)
    assert [(p.path, p.severity, p.field) for p in first.problems] == [("05.md", "warning", "body")]
    assert len(rendered) == 24
    (tmp_path / "in" / "07.md").write_text(article_text("Body *edited*.", title="T7", webUrl="https://n.example/7/",
                                                        publishedDateTime="2024-03-08T10:00:00Z"))
    rendered.clear()
    second = build_module.build(settings, NOW)
    assert sorted(rendered) == ["05.md", "07.md"]  # the edited body, and the one whose warning is told again
    assert [(p.path, p.severity, p.field) for p in second.problems] == [("05.md", "warning", "body")]


def test_a_long_feed_whose_worker_dies_is_finished_here_to_the_same_bytes(tmp_path, monkeypatch):
    """A worker killed mid-chunk (out of memory, say) costs time only: the build renders
    the rest of that chunk in its own process, and the files are those of a whole render."""
    import os

    from conftest import NOW, article_text, write_tree

    from mkfeeds import bodies
    from mkfeeds import build as build_module
    from mkfeeds.config import Settings

    write_tree(tmp_path / "in", {f"{i:03}.md": article_text(
        f"Body *{i}*.", title=f"T{i}", webUrl=f"https://n.example/{i}/",
        publishedDateTime=f"2024-03-{1 + i % 28:02}T10:{i % 60:02}:00Z") for i in range(300)})

    def built(out: str) -> dict[str, bytes]:
        settings = Settings(input=tmp_path / "in", output=tmp_path / out, base_url="https://f.example/",
                            cache=tmp_path / f"{out}.state", limit=0, jobs=2, taxonomies=(), pages=False)
        result = build_module.build(settings, NOW)
        assert result.problems == []
        return {p.relative_to(tmp_path / out).as_posix(): p.read_bytes()
                for p in sorted((tmp_path / out).rglob("*")) if p.is_file()}

    whole = built("whole")
    here, died = os.getpid(), tmp_path / "died"
    real = bodies.render_body

    def dies_in_a_worker(entry, source):
        if os.getpid() != here and entry.source == "150.md":
            died.write_text("yes")
            os._exit(9)
        return real(entry, source)

    monkeypatch.setattr(bodies, "render_body", dies_in_a_worker)
    monkeypatch.setattr(build_module, "STREAM_MIN", 20)
    monkeypatch.setattr(build_module, "STREAM_CHUNK", 256)  # two chunks, each on two workers
    assert built("streamed") == whole
    assert died.exists()
