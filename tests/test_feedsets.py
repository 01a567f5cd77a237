"""The set of feeds: taxonomy feeds, custom feeds, slugs, and stale-feed removal."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from mkfeeds.build import build, plan
from mkfeeds.config import CustomFeed, Settings
from mkfeeds.feedsets import SLUG_MAX, custom_specs, slugify, taxonomy_specs, unique_slugs
from mkfeeds.model import Author, Entry

from conftest import NOW, article_text, write_tree

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def entry(n: int, **fields) -> Entry:
    values = dict(id=f"https://n.example/{n}", url=f"https://n.example/{n}", title=f"Story {n}",
                  published=T0 + timedelta(days=n), updated=T0 + timedelta(days=n), source=f"{n:03}.txt")
    values.update(fields)
    return Entry(**values)


def newest_first(*entries: Entry) -> tuple[Entry, ...]:
    return tuple(sorted(entries, key=lambda e: -e.published.timestamp()))


@pytest.mark.parametrize("name, slug", [
    ("Natural Language Processing", "natural-language-processing"),
    ("AI", "ai"),
    ("Café & Société", "cafe-societe"),
    ("C++", "c"),
    ("../../etc/passwd", "etc-passwd"),
    ("人工知能", "人工知能"),
    ("a/b\\c", "a-b-c"),
])
def test_slugs_are_readable_and_safe(name, slug):
    assert slugify(name) == slug


@pytest.mark.parametrize("name", ["CON", "nul", "Com1", "LPT9"])
def test_device_names_never_become_slugs(name):
    assert slugify(name).startswith(name.lower() + "-") and len(slugify(name)) > len(name)


def test_a_name_of_only_punctuation_still_gets_a_slug():
    assert len(slugify("???")) == 8


@given(st.text(max_size=300))
def test_any_name_gives_a_safe_bounded_slug(name):
    slug = slugify(name)
    assert slug and len(slug) <= SLUG_MAX + 9
    assert "/" not in slug and "\\" not in slug and slug not in (".", "..") and not slug.startswith(".")


def test_names_that_slug_alike_get_distinct_slugs_and_the_exact_speller_keeps_the_plain_one():
    slugs = unique_slugs(["c", "c++", "c#"])
    assert slugs["c"] == "c"
    assert len(set(slugs.values())) == 3
    assert slugs["c++"].startswith("c-") and slugs["c#"].startswith("c-")


def test_slug_of_a_name_does_not_change_when_a_colliding_name_appears():
    assert unique_slugs(["c"])["c"] == unique_slugs(["c", "c++"])["c"]


def test_taxonomy_feeds_group_terms_case_insensitively(make_settings):
    entries = newest_first(entry(1, topics=("AI",)), entry(2, topics=("ai", "Chips")))
    specs = {s.key: s for s in taxonomy_specs(make_settings(taxonomies=("topics",)), entries)}
    assert sorted(specs) == ["topics/ai", "topics/chips"]
    assert [e.id for e in specs["topics/ai"].entries] == ["https://n.example/2", "https://n.example/1"]
    assert specs["topics/ai"].title == "Example News: AI"  # ties in spelling: the first in sort order


def test_taxonomy_feed_needs_the_minimum_count(make_settings):
    entries = newest_first(entry(1, topics=("AI",)), entry(2, topics=("AI", "Chips")))
    settings = make_settings(taxonomies=("topics",), taxonomy_min_entries=2)
    assert [s.key for s in taxonomy_specs(settings, entries)] == ["topics/ai"]


def test_provider_feeds_are_keyed_by_domain(make_settings):
    e = entry(1, author=Author("MIT Technology Review", "https://technologyreview.com/"),
              provider_key="technologyreview.com")
    specs = taxonomy_specs(make_settings(taxonomies=("provider",)), (e,))
    assert [(s.key, s.title) for s in specs] == [
        ("provider/technologyreview-com", "Example News: MIT Technology Review")]


def test_category_feeds_come_from_category_and_categories(make_settings):
    specs = taxonomy_specs(make_settings(taxonomies=("category",)), (entry(1, sections=("news", "World")),))
    assert [s.folder for s in specs] == ["category/news/", "category/world/"]


def test_taxonomy_limit(make_settings):
    entries = newest_first(*(entry(n, topics=("AI",)) for n in range(5)))
    specs = taxonomy_specs(make_settings(taxonomies=("topics",), taxonomy_limit=2), entries)
    assert len(specs[0].entries) == 2


def test_a_term_counts_every_entry_and_is_named_by_its_most_used_spelling(make_settings):
    entries = newest_first(entry(1, topics=("AI",)), entry(2, topics=("ai",)), entry(3, topics=("ai",)))
    settings = make_settings(taxonomies=("topics",), taxonomy_limit=1, taxonomy_min_entries=3)
    (spec,) = taxonomy_specs(settings, entries)
    assert spec.title == "Example News: ai"
    assert [e.id for e in spec.entries] == ["https://n.example/3"]


def _taxonomy_feeds_as_specified(settings, entries):
    """The rule, written plainly: (key, title, ids) of each taxonomy feed."""
    from collections import Counter

    limit = settings.limit if settings.taxonomy_limit is None else settings.taxonomy_limit
    feeds = []
    for taxonomy in settings.taxonomies:
        groups: dict[str, list] = {}
        names: dict[str, Counter] = {}
        for e in entries:
            if taxonomy == "topics":
                pairs = [(n.casefold(), n) for n in e.topics]
            elif taxonomy == "category":
                pairs = [(n.casefold(), n) for n in e.sections]
            else:
                pairs = [(e.provider_key.casefold(), e.author.name if e.author else e.provider_key)] \
                    if e.provider_key else []
            for key, name in pairs:
                groups.setdefault(key, []).append(e)
                names.setdefault(key, Counter())[name] += 1
        wanted = {k: g for k, g in groups.items() if len(g) >= settings.taxonomy_min_entries}
        slugs = unique_slugs(wanted)
        for key in sorted(wanted, key=lambda k: slugs[k]):
            display = min(names[key].items(), key=lambda item: (-item[1], item[0]))[0]
            shown = wanted[key][:limit] if limit else wanted[key]
            feeds.append((f"{taxonomy}/{slugs[key]}", f"Example News: {display}", [e.id for e in shown]))
    return feeds


_TERMS = st.lists(st.sampled_from(["AI", "ai", "Ai", "Space", "space", "C++", "c", "C#", "Ünï", "ÜNÏ"]),
                  max_size=3, unique=True)


@given(st.lists(st.tuples(_TERMS, _TERMS, st.sampled_from([None, "a.example", "B.example", "b.example"]),
                          st.sampled_from([None, "Desk A", "Desk B"])), max_size=12),
       st.integers(0, 3), st.integers(1, 3))
def test_taxonomy_feeds_follow_the_rule(rows, limit, min_entries):
    entries = newest_first(*(
        entry(n, topics=tuple(topics), sections=tuple(sections), provider_key=provider,
              author=Author(name) if name else None)
        for n, (topics, sections, provider, name) in enumerate(rows)))
    settings = Settings(title="Example News", taxonomy_limit=limit, taxonomy_min_entries=min_entries)
    specs = taxonomy_specs(settings, entries)
    assert [(s.key, s.title, [e.id for e in s.entries]) for s in specs] == \
        _taxonomy_feeds_as_specified(settings, entries)


def test_custom_feed_filters_and_sorts_by_heat(make_settings):
    entries = newest_first(entry(1, heat=5.0, topics=("AI",)), entry(2, heat=9.0, topics=("AI",)),
                           entry(3, heat=50.0, topics=("Cooking",)), entry(4, topics=("ai",)))
    feed = CustomFeed(name="hot-ai", title="Hot AI", path="feeds/hot-ai", sort="heat", topics=("AI",))
    (spec,) = custom_specs(make_settings(feeds=(feed,)), entries)
    assert [e.id[-1] for e in spec.entries] == ["2", "1", "4"]
    assert (spec.key, spec.folder, spec.title) == ("custom/hot-ai", "feeds/hot-ai/", "Hot AI")


def test_custom_feed_minimum_quality_and_type(make_settings):
    entries = newest_first(entry(1, quality=10.0, article_type="article"), entry(2, quality=50.0, article_type="video"),
                           entry(3, quality=60.0, article_type="article"), entry(4))
    feed = CustomFeed(name="best", title="best", path="best", min_quality=30, types=("article",))
    (spec,) = custom_specs(make_settings(feeds=(feed,)), entries)
    assert [e.id[-1] for e in spec.entries] == ["3"]


def test_custom_feed_by_provider_name_or_domain(make_settings):
    e = entry(1, author=Author("Reuters", "https://reuters.com/"), provider_key="reuters.com")
    for provider in ("reuters.com", "REUTERS"):
        feed = CustomFeed(name="r", title="r", path="r", providers=(provider,))
        assert len(custom_specs(make_settings(feeds=(feed,)), (e,))[0].entries) == 1


def _corpus(make_settings, tmp_path, files):
    write_tree(tmp_path / "in", files)
    return make_settings(pages=True, stylesheet=True)


def test_every_feed_is_written_in_three_formats_with_its_own_self_links(make_settings, tmp_path):
    settings = _corpus(make_settings, tmp_path, {
        "a.txt": article_text(title="A", webUrl="https://n.example/a", topics=["Space Flight"]),
    })
    build(settings, NOW)
    rss = (tmp_path / "out/topics/space-flight/rss.xml").read_text()
    assert 'href="https://feeds.example.org/topics/space-flight/rss.xml" rel="self"' in rss
    assert "<title>Example News: Space Flight</title>" in rss
    assert '<?xml-stylesheet type="text/xsl" href="../../feed.xsl"?>' in rss
    document = json.loads((tmp_path / "out/topics/space-flight/feed.json").read_text())
    assert document["feed_url"] == "https://feeds.example.org/topics/space-flight/feed.json"


def test_removing_the_last_article_of_a_topic_removes_its_feeds(make_settings, tmp_path):
    settings = _corpus(make_settings, tmp_path, {
        "a.txt": article_text(title="A", webUrl="https://n.example/a", topics=["Space"]),
        "b.txt": article_text(title="B", webUrl="https://n.example/b", topics=["Oceans"]),
    })
    build(settings, NOW)
    assert (tmp_path / "out/topics/oceans/rss.xml").exists()
    (tmp_path / "in/b.txt").unlink()
    result = build(settings, NOW)
    assert not (tmp_path / "out/topics/oceans").exists()
    assert "topics/oceans/rss.xml" in result.files_removed
    assert "topics/oceans" not in (tmp_path / "out/feeds.opml").read_text()


def test_files_mkfeeds_did_not_write_are_never_deleted(make_settings, tmp_path):
    settings = _corpus(make_settings, tmp_path, {"a.txt": article_text(title="A", webUrl="https://n.example/a")})
    write_tree(tmp_path / "out", {"topics/mine/rss.xml": "hand-made", "robots.txt": "keep"})
    build(settings, NOW)
    build(settings, NOW)
    assert (tmp_path / "out/topics/mine/rss.xml").read_text() == "hand-made"
    assert (tmp_path / "out/robots.txt").read_text() == "keep"


def test_opml_lists_exactly_the_feeds_written(make_settings, tmp_path):
    settings = _corpus(make_settings, tmp_path, {
        "a.txt": article_text(title="A", webUrl="https://n.example/a", topics=["Space"]),
    })
    planned = plan(settings, NOW)
    from lxml import etree
    outlines = etree.fromstring(planned.files["feeds.opml"]).iter("outline")
    urls = sorted(o.get("xmlUrl") for o in outlines if o.get("xmlUrl"))
    rss_files = {name for name in planned.files if name.endswith("rss.xml")}  # one outline per feed
    assert urls == sorted("https://feeds.example.org/" + name for name in rss_files)
    assert len(urls) == len(planned.feeds)


def test_summary_only_feeds_carry_no_content(make_settings, tmp_path):
    settings = _corpus(make_settings, tmp_path, {
        "a.txt": article_text("Full *body*.", title="A", webUrl="https://n.example/a", topics=["Space"]),
    })
    planned = plan(replace(settings, taxonomy_content="summary"), NOW)
    assert "Full <em>body</em>" in planned.files["feed.json"].decode()
    assert "content_html" not in planned.files["topics/space/feed.json"].decode()


def test_size_budget_warns_about_large_feeds(make_settings, tmp_path):
    settings = _corpus(make_settings, tmp_path, {
        "a.txt": article_text(title="A", webUrl="https://n.example/a"),
    })
    notices = plan(replace(settings, max_feed_bytes=500, taxonomies=()), NOW).result.notices
    assert any("rss.xml is" in n and "above the 500-byte budget" in n for n in notices)


def test_the_whole_set_is_byte_identical_across_runs(make_settings, tmp_path):
    settings = _corpus(make_settings, tmp_path, {
        f"{n}.txt": article_text(title=f"T{n}", webUrl=f"https://n.example/{n}", topics=["X", f"Y{n % 3}"])
        for n in range(12)
    })
    assert plan(settings, NOW).files == plan(settings, NOW).files


def _count_renders(monkeypatch) -> list[str]:
    import mkfeeds.render as render_module
    rendered: list[str] = []
    real = render_module.render_rss
    monkeypatch.setattr(render_module, "render_rss", lambda feed, memo=None: rendered.append(feed.rss_url) or real(feed, memo))
    return rendered


def test_a_rebuild_renders_only_the_feeds_whose_inputs_changed(make_settings, tmp_path, monkeypatch):
    write_tree(tmp_path / "in", {
        "a.txt": article_text(title="A", webUrl="https://n.example/a", topics=["Space"], category=None),
        "b.txt": article_text(title="B", webUrl="https://n.example/b", topics=["Oceans"], category=None),
    })
    settings = make_settings(cache=tmp_path / "state", taxonomies=("topics",))
    build(settings, NOW)
    first = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*.*")}
    rendered = _count_renders(monkeypatch)
    result = build(settings, NOW)
    assert rendered == [] and result.files_written == ()
    (tmp_path / "in/b.txt").write_text(article_text(title="B2", webUrl="https://n.example/b", topics=["Oceans"]))
    build(settings, NOW)
    assert rendered == ["https://feeds.example.org/rss.xml", "https://feeds.example.org/topics/oceans/rss.xml"]
    assert (tmp_path / "out/topics/space/rss.xml").read_bytes() == first[tmp_path / "out/topics/space/rss.xml"]


def test_a_feed_whose_entry_had_a_problem_is_rendered_again_and_tells_it_again(make_settings, tmp_path):
    """A feed kept from the last build would not meet its entries' problems: one with a
    problem is never kept, so every build reports what it publishes with a warning."""
    write_tree(tmp_path / "in", {
        "a.txt": article_text("<b>x</b>" * 2001, title="A", webUrl="https://n.example/a", topics=["Space"],
                              category=None, publishedDateTime="2024-01-01T00:00:00Z"),
        "b.txt": article_text(title="B", webUrl="https://n.example/b", topics=["Oceans"], category=None,
                              publishedDateTime="2024-02-01T00:00:00Z"),
    })
    settings = make_settings(cache=tmp_path / "state", taxonomies=("topics",), limit=1)
    warning = "a.txt: warning: body: more than 2,000 HTML tags; the body's raw HTML is left out"
    assert [str(p) for p in build(settings, NOW).problems] == [warning]
    (tmp_path / "in/b.txt").write_text(article_text(title="B2", webUrl="https://n.example/b", topics=["Oceans"],
                                                    category=None, publishedDateTime="2024-02-01T00:00:00Z"))
    again = build(settings, NOW)
    assert not again.up_to_date and "topics/space/rss.xml" in again.files_unchanged  # same bytes, rendered
    assert [str(p) for p in again.problems] == [warning]


@pytest.mark.parametrize("change", ["mkfeeds' code", "a rendering library"])
def test_a_new_renderer_renders_every_feed_again(change, make_settings, tmp_path, monkeypatch):
    """Even at the same mkfeeds version: its code or feedgen may write other bytes now."""
    from mkfeeds.incremental import fingerprint
    write_tree(tmp_path / "in", {
        "a.txt": article_text(title="A", webUrl="https://n.example/a", topics=["Space"], category=None)})
    settings = make_settings(cache=tmp_path / "state", taxonomies=("topics",))
    build(settings, NOW)
    rendered = _count_renders(monkeypatch)
    if change == "mkfeeds' code":
        monkeypatch.setattr(fingerprint, "package_digest", lambda: "another version of the code")
    else:
        real = fingerprint.installed_versions
        monkeypatch.setattr(fingerprint, "installed_versions", lambda names: (
            ("feedgen-9.9.dist-info",) if names == fingerprint.RENDERING_LIBRARIES else real(names)))
    build(settings, NOW)
    assert rendered == ["https://feeds.example.org/rss.xml", "https://feeds.example.org/topics/space/rss.xml"]


def test_a_feed_file_changed_by_hand_is_rendered_again(make_settings, tmp_path):
    write_tree(tmp_path / "in", {"a.txt": article_text(title="A", webUrl="https://n.example/a")})
    settings = make_settings(cache=tmp_path / "state", taxonomies=())
    build(settings, NOW)
    good = (tmp_path / "out/rss.xml").read_bytes()
    (tmp_path / "out/rss.xml").write_text("vandalised")
    build(settings, NOW)
    assert (tmp_path / "out/rss.xml").read_bytes() == good
