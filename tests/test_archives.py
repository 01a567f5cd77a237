"""Archived feeds (RFC 5005, section 4): every published entry in fixed pages, oldest
first, linked from each feed; a full page never changes when newer articles arrive."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner

from mkfeeds.build import build
from mkfeeds.cli import cli
from mkfeeds.config import CustomFeed

from conftest import NOW, article_text, write_tree
from feedcheck import check_atom, check_jsonfeed, check_rss

BASE = "https://feeds.example.org/"
START = datetime(2024, 1, 1, 8, 0, tzinfo=timezone.utc)


def article(n: int, **fields) -> str:
    return article_text(title=f"Story {n}", webUrl=f"https://news.example.org/{n}/", originalUrl=...,
                        publishedDateTime=(START + timedelta(hours=n)).isoformat(), topics=["AI"], **fields)


def url(n: int) -> str:
    return f"https://news.example.org/{n}/"


def write_articles(root: Path, numbers) -> None:
    write_tree(root / "in", {f"{n:03}.md": article(n) for n in numbers})


def local(out: Path, link: str) -> Path:
    assert link.startswith(BASE), link
    return out / link[len(BASE):]


def walk_xml(out: Path, first: str) -> list[tuple[str, list[str]]]:
    """(document, entry ids) for the subscription document and each archive page, as an
    archive-aware client reads them: feedparser, following prev-archive."""
    seen: list[tuple[str, list[str]]] = []
    path: Path | None = out / first
    while path is not None:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
        seen.append((str(path.relative_to(out)), [entry.id for entry in parsed.entries]))
        older = [link.href for link in parsed.feed.get("links", []) if link.rel == "prev-archive"]
        assert len(older) <= 1
        path = local(out, older[0]) if older else None
        assert len(seen) < 100, "the archive links loop"
    return seen


def walk_json(out: Path, first: str) -> list[tuple[str, list[str]]]:
    seen: list[tuple[str, list[str]]] = []
    path: Path | None = out / first
    while path is not None:
        document = json.loads(path.read_bytes())
        seen.append((str(path.relative_to(out)), [item["id"] for item in document["items"]]))
        path = local(out, document["next_url"]) if "next_url" in document else None
        assert len(seen) < 100, "the archive links loop"
    return seen


WALKS = {"rss.xml": walk_xml, "atom.xml": walk_xml, "feed.json": walk_json}


def assert_walk_gets_every_article_once(out: Path, folder: str, published: set[str]) -> None:
    for name, walk in WALKS.items():
        seen = walk(out, folder + name)
        assert seen[0][0] == folder + name
        pages = seen[1:]
        assert pages, f"{name}: no archive page is linked"
        in_pages = [entry for _, ids in pages for entry in ids]
        assert len(in_pages) == len(set(in_pages)), f"{name}: an entry is in two archive pages"
        assert set(in_pages) == published, f"{name}: the archive pages do not hold exactly every article"
        assert set(seen[0][1]) <= published
        assert [page for page, _ in pages] == [f"{folder}archive/{n}/{name}" for n in range(len(pages), 0, -1)]


@pytest.mark.parametrize("page_size", [None, 2, 7])  # the limit (3), below it, above it
def test_a_client_walking_the_archive_links_gets_every_article_exactly_once(tmp_path, make_settings, page_size):
    write_articles(tmp_path, range(1, 12))
    settings = make_settings(limit=3, archive=True, archive_page_size=page_size, taxonomy_archive=True,
                             feeds=(CustomFeed("hot", "Hot", "feeds/hot", sort="heat"),))
    build(settings, NOW)
    out = tmp_path / "out"
    published = {url(n) for n in range(1, 12)}
    for folder in ("", "topics/ai/", "feeds/hot/"):
        assert_walk_gets_every_article_once(out, folder, published)
    pages = sorted((out / "archive").iterdir(), key=lambda p: int(p.name))
    size = page_size or 3
    counts = [len(feedparser.parse((page / "atom.xml").read_bytes()).entries) for page in pages]
    assert counts == [size] * (11 // size) + [11 % size]  # full pages, then the newest (maybe empty)


def test_every_archive_document_is_valid(tmp_path, make_settings):
    write_articles(tmp_path, range(1, 8))
    build(make_settings(limit=2, archive=True, taxonomy_archive=True), NOW)
    documents = sorted((tmp_path / "out").rglob("archive/*/*"))
    # pages 1-3 full, page 4 holds one, three formats: the main feed, its topic, category and provider
    assert len(documents) == 4 * 3 * 4
    checks = {"rss.xml": check_rss, "atom.xml": check_atom, "feed.json": check_jsonfeed}
    for document in documents:
        assert checks[document.name](document.read_bytes()) == [], document
    for name in ("rss.xml", "atom.xml", "feed.json"):
        assert checks[name]((tmp_path / "out" / name).read_bytes()) == []


def test_archive_documents_carry_the_rfc5005_markers_and_links(tmp_path, make_settings):
    write_articles(tmp_path, range(1, 8))
    build(make_settings(limit=2, archive=True), NOW)
    out = tmp_path / "out"

    def links(path: str) -> dict[str, str]:
        parsed = feedparser.parse((out / path).read_bytes())
        return {link.rel: link.href for link in parsed.feed.links if link.rel != "alternate"}

    for fmt in ("rss", "atom"):
        first, middle, newest = (f"archive/{n}/{fmt}.xml" for n in (1, 2, 4))
        assert links(first) == {"self": BASE + first, "current": f"{BASE}{fmt}.xml",
                                "next-archive": f"{BASE}archive/2/{fmt}.xml"}
        assert links(middle) == {"self": BASE + middle, "current": f"{BASE}{fmt}.xml",
                                 "prev-archive": f"{BASE}archive/1/{fmt}.xml",
                                 "next-archive": f"{BASE}archive/3/{fmt}.xml"}
        assert links(newest) == {"self": BASE + newest, "current": f"{BASE}{fmt}.xml",
                                 "prev-archive": f"{BASE}archive/3/{fmt}.xml"}
        assert links(f"{fmt}.xml") == {"self": f"{BASE}{fmt}.xml", "prev-archive": f"{BASE}archive/4/{fmt}.xml"}
        for path in (first, middle, newest):
            assert b"<fh:archive/>" in (out / path).read_bytes()
        assert b"fh:archive" not in (out / f"{fmt}.xml").read_bytes()
        assert b"fh:complete" not in (out / f"{fmt}.xml").read_bytes()
    page = json.loads((out / "archive/2/feed.json").read_bytes())
    assert page["feed_url"] == BASE + "feed.json"  # a page of the feed, which it identifies
    assert page["next_url"] == BASE + "archive/1/feed.json"
    assert "next_url" not in json.loads((out / "archive/1/feed.json").read_bytes())


def stamps(out: Path) -> dict[str, tuple[bytes, int, int]]:
    return {str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino)
            for p in sorted(out.rglob("archive/*/*"))}


@pytest.mark.parametrize(("cache", "first"), [(True, 7), (False, 7), (True, 6)])
def test_new_articles_leave_full_pages_as_they_were(tmp_path, make_settings, cache, first):
    # limit 3: pages 1 and 2 full, page 3 holds one article, or none yet (it is where the next go)
    write_articles(tmp_path, range(1, first + 1))
    settings = make_settings(limit=3, archive=True, cache=tmp_path / "state" if cache else None)
    build(settings, NOW)
    before = stamps(tmp_path / "out")
    write_articles(tmp_path, range(first + 1, 11))
    result = build(settings, NOW)
    after = stamps(tmp_path / "out")
    full = [name for name in before if name.startswith(("archive/1/", "archive/2/"))]
    assert len(full) == 6
    for name in full:
        assert after[name] == before[name], f"{name} was rewritten"
    assert set(full) <= set(result.files_unchanged)
    assert {"archive/3/atom.xml", "archive/4/atom.xml"} <= set(result.files_written)  # filled; the new newest
    assert_walk_gets_every_article_once(tmp_path / "out", "", {url(n) for n in range(1, 11)})


def test_an_edit_rewrites_its_page_alone_and_reaches_the_subscription_document(tmp_path, make_settings):
    write_articles(tmp_path, range(1, 11))  # pages of 3: 1-3, 4-6, 7-9, then 10
    settings = make_settings(limit=3, archive=True)
    build(settings, NOW)
    out = tmp_path / "out"
    before = stamps(out)
    write_tree(tmp_path / "in", {"005.md": article(5, excerpt="Corrected.",
                                                  updatedDateTime=(START + timedelta(hours=11)).isoformat())})
    result = build(settings, NOW)
    after = stamps(out)
    changed = {name for name in before if after[name] != before[name]}
    assert changed == {f"archive/2/{name}" for name in ("rss.xml", "atom.xml", "feed.json")}
    assert "archive/2/atom.xml" in result.files_written
    for name in ("rss.xml", "atom.xml"):
        ids = [entry.id for entry in feedparser.parse((out / name).read_bytes()).entries]
        assert ids == [url(10), url(9), url(8), url(5)]  # the newest three, then the correction
    items = json.loads((out / "feed.json").read_bytes())["items"]
    assert [item["id"] for item in items] == [url(10), url(9), url(8), url(5)]
    assert items[3]["summary"] == "Corrected."


def test_a_deletion_rewrites_its_page_alone(tmp_path, make_settings):
    write_articles(tmp_path, range(1, 11))
    settings = make_settings(limit=3, archive=True)
    build(settings, NOW)
    out = tmp_path / "out"
    before = stamps(out)
    (tmp_path / "in" / "002.md").unlink()
    build(settings, NOW)
    after = stamps(out)
    changed = {name for name in before if after[name] != before[name]}
    assert changed == {f"archive/1/{name}" for name in ("rss.xml", "atom.xml", "feed.json")}
    assert_walk_gets_every_article_once(out, "", {url(n) for n in range(1, 11) if n != 2})
    write_articles(tmp_path, [11, 12])  # page 4 fills up (10, 11, 12), as it would have anyway
    build(settings, NOW)
    assert stamps(out)["archive/3/atom.xml"] == after["archive/3/atom.xml"]
    assert len(feedparser.parse((out / "archive/4/atom.xml").read_bytes()).entries) == 3


@pytest.mark.parametrize(("limit", "articles", "archive", "complete"), [
    (0, 5, False, True), (10, 5, False, True), (5, 5, False, True), (3, 5, False, False),
    (10, 5, True, False), (0, 5, True, True),  # every entry in one document needs no archive
])
def test_a_feed_that_holds_every_entry_is_marked_complete(tmp_path, make_settings, limit, articles, archive,
                                                           complete):
    write_articles(tmp_path, range(1, articles + 1))
    build(make_settings(limit=limit, archive=archive), NOW)
    out = tmp_path / "out"
    for name in ("rss.xml", "atom.xml"):
        assert (b"<fh:complete/>" in (out / name).read_bytes()) is complete
    assert (out / "archive").exists() is (archive and bool(limit))


def test_taxonomy_feeds_have_archives_only_with_taxonomy_archive(tmp_path, make_settings):
    write_articles(tmp_path, range(1, 6))
    build(make_settings(limit=2, archive=True), NOW)
    out = tmp_path / "out"
    assert (out / "archive/1/atom.xml").is_file()
    assert not (out / "topics/ai/archive").exists()
    assert b"prev-archive" not in (out / "topics/ai/atom.xml").read_bytes()


def test_index_and_opml_list_subscription_documents_only(tmp_path, make_settings):
    write_articles(tmp_path, range(1, 8))
    build(make_settings(limit=2, archive=True, taxonomy_archive=True), NOW)
    out = tmp_path / "out"
    for page in ("index.html", "feeds.opml"):
        text = (out / page).read_text()
        assert "rss.xml" in text and "archive/" not in text, page


def test_the_archive_option_and_keys(tmp_path):
    write_articles(tmp_path, range(1, 6))
    (tmp_path / "mkfeeds.toml").write_text('archive-page-size = 2\ntaxonomy-archive = true\nlimit = 3\n'
                                           f'base-url = "{BASE}"\ncache = false\n')
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        plain = runner.invoke(cli, ["build", "-i", "in", "-o", "out"])
        assert plain.exit_code == 0, plain.output
        assert not (tmp_path / "out/archive").exists()
        result = runner.invoke(cli, ["build", "-i", "in", "-o", "out", "--archive"])
        assert result.exit_code == 0, result.output
        (tmp_path / "mkfeeds.toml").write_text("archive-page-size = 0\n")
        refused = runner.invoke(cli, ["build", "-i", "in", "-o", "out", "--archive"])
        assert refused.exit_code == 2 and "archive-page-size must be a whole number, 1 or more" in refused.output
    finally:
        os.chdir(cwd)
    assert sorted(p.name for p in (tmp_path / "out/archive").iterdir()) == ["1", "2", "3"]
    assert (tmp_path / "out/topics/ai/archive/3/feed.json").is_file()
