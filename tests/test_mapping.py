"""The mapping, rule by rule: what each front-matter key becomes in an Entry."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from mkfeeds.errors import ArticleError
from mkfeeds.mapping import MappingSettings, body_markdown, map_article
from mkfeeds.model import Article, Author, Image, Link

from conftest import SECRET, front_matter

RULES = MappingSettings(site_url="https://news.example.org/", zone=timezone.utc)


def mapped(body: str = "", rules: MappingSettings = RULES, **fields):
    meta = front_matter(**fields)
    entry, problems = map_article(Article("a.txt", meta, body, {k: i + 2 for i, k in enumerate(meta)}), rules)
    return entry, problems


def rejected(**fields) -> ArticleError:
    with pytest.raises(ArticleError) as info:
        mapped(**fields)
    return info.value


def test_title_becomes_the_entry_title():
    assert mapped(title="Hello, world")[0].title == "Hello, world"


def test_title_white_space_is_collapsed_to_one_line():
    assert mapped(title="  Two\n  lines ")[0].title == "Two lines"


def test_title_markup_is_kept_as_plain_text():
    assert mapped(title="<b>Bold</b> & co")[0].title == "<b>Bold</b> & co"


def test_missing_title_rejects_the_article():
    error = rejected(title=...)
    assert (error.field, error.message) == ("title", "is missing")


def test_yes_no_title_rejects_with_a_hint_to_quote():
    assert rejected(title=False).message == "is a yes/no value, not text: put it in quotes"


def test_numeric_title_is_text():
    assert mapped(title=1984)[0].title == "1984"


def test_excerpt_becomes_the_summary():
    assert mapped(excerpt="Short.")[0].summary == "Short."


def test_null_excerpt_means_no_summary():
    assert mapped(excerpt=None)[0].summary is None


def test_web_url_is_link_and_id():
    entry = mapped(webUrl="https://a.example/x", originalUrl="https://a.example/x")[0]
    assert (entry.url, entry.id, entry.external_url) == ("https://a.example/x", "https://a.example/x", None)


def test_original_url_that_differs_becomes_the_external_url():
    entry = mapped(webUrl="https://agg.example/x", originalUrl="https://src.example/x")[0]
    assert (entry.url, entry.external_url) == ("https://agg.example/x", "https://src.example/x")


def test_original_url_is_the_link_when_web_url_is_missing():
    entry = mapped(webUrl=..., originalUrl="https://src.example/x")[0]
    assert (entry.url, entry.external_url) == ("https://src.example/x", None)


def test_relative_link_is_resolved_against_the_site_url():
    assert mapped(webUrl="/2024/story")[0].url == "https://news.example.org/2024/story"


def test_javascript_link_rejects_the_article():
    error = rejected(webUrl="javascript:alert(1)")
    assert (error.field, error.message) == ("webUrl", "uses the 'javascript' scheme; only http and https are published")


def test_no_link_at_all_rejects_the_article():
    assert rejected(webUrl=..., originalUrl=...).field == "webUrl"


def test_published_date_with_z_is_utc():
    assert mapped(publishedDateTime="2024-03-04T11:32:00Z")[0].published == datetime(
        2024, 3, 4, 11, 32, tzinfo=timezone.utc)


def test_offset_keeps_its_instant():
    entry = mapped(publishedDateTime="2025-05-01T09:15:00+02:00")[0]
    assert entry.published.utcoffset() == timedelta(hours=2)
    assert entry.published == datetime(2025, 5, 1, 7, 15, tzinfo=timezone.utc)


def test_naive_time_is_read_in_the_configured_zone():
    rules = MappingSettings(RULES.site_url, ZoneInfo("Europe/Paris"))
    entry = mapped(publishedDateTime=datetime(2024, 7, 1, 12, 0), rules=rules)[0]
    assert entry.published == datetime(2024, 7, 1, 10, 0, tzinfo=timezone.utc)


def test_bare_date_is_midnight():
    from datetime import date
    assert mapped(publishedDateTime=date(2024, 3, 4))[0].published == datetime(2024, 3, 4, tzinfo=timezone.utc)


def test_fractional_seconds_are_dropped_so_all_formats_agree():
    assert mapped(publishedDateTime="2024-03-04T11:32:00.750Z")[0].published.microsecond == 0


def test_updated_date_defaults_to_published():
    entry = mapped()[0]
    assert entry.updated == entry.published


def test_updated_date_is_read_from_updated_date_time():
    entry = mapped(updatedDateTime="2024-03-05T08:00:00Z")[0]
    assert entry.updated == datetime(2024, 3, 5, 8, tzinfo=timezone.utc)


def test_updated_date_never_precedes_published():
    entry = mapped(updatedDateTime="2020-01-01T00:00:00Z")[0]
    assert entry.updated == entry.published


def test_missing_published_date_rejects():
    assert (rejected(publishedDateTime=...).message) == "is missing"


def test_year_before_1900_rejects():
    assert rejected(publishedDateTime="1899-12-31T00:00:00Z").message == "is before 1900, which feeds cannot express"


@pytest.mark.parametrize("flag", [True, "true", "yes", 1])
def test_clear_yes_publishes(flag):
    assert mapped(published=flag)[0].draft is False


def test_missing_published_flag_publishes():
    assert mapped(published=...)[0].draft is False


@pytest.mark.parametrize("flag", [False, "false", "no", "0", 0, "FALSE"])
def test_clear_no_makes_a_draft(flag):
    assert mapped(published=flag)[0].draft is True


@pytest.mark.parametrize("flag", [None, "maybe", 2, [], "draft"])
def test_unclear_published_flag_rejects(flag):
    assert rejected(published=flag).field == "published"


def test_provider_becomes_the_author_with_its_site():
    assert mapped()[0].author == Author("MIT Technology Review", "https://technologyreview.com/")


def test_provider_without_domain_is_a_name_only_author():
    assert mapped(provider={"name": "Desk"})[0].author == Author("Desk", None)


def test_no_provider_no_author():
    assert mapped(provider=None)[0].author is None


def test_category_and_topics_become_categories_in_order_without_repeats():
    entry = mapped(category="news", categories=["World", "news"], topics=["AI", "ai", "Chips"], tags=["GPUs"])[0]
    assert entry.categories == ("news", "World", "AI", "Chips", "GPUs")


def test_null_topics_and_tags_are_accepted():
    assert mapped(topics=None, tags=None, category=None)[0].categories == ()


def test_images_keep_url_width_and_height():
    entry = mapped(images=[{"url": "https://i.example/a.jpg", "width": 800, "height": 600, "isCached": True}])[0]
    assert entry.images == (Image("https://i.example/a.jpg", 800, 600),)


def test_image_with_unsafe_url_is_dropped_with_a_warning():
    entry, problems = mapped(images=[{"url": "data:image/png;base64,AAAA"}])
    assert entry.images == ()
    assert [(p.severity, p.field) for p in problems] == [("warning", "images[0].url")]


def test_related_items_become_titled_links():
    entry = mapped(related=[{"title": "More", "webUrl": "https://b.example/more", "excerpt": "x", "quality": 1}])[0]
    assert entry.related == (Link("https://b.example/more", "More"),)


def test_locale_becomes_the_language():
    assert mapped(locale="en_GB")[0].language == "en-GB"


def test_null_locale_is_accepted():
    assert mapped(locale=None)[0].language is None


def test_body_is_used_for_content():
    entry = mapped(body="Hello *world*")[0]
    assert entry.has_body is True


def test_api_content_field_is_the_body_when_the_file_has_none():
    meta = front_matter(content="From the **API**")
    assert body_markdown(Article("a.txt", meta, "")) == "From the **API**"


def test_no_body_no_content():
    assert mapped()[0].has_body is False


def test_private_and_internal_keys_are_not_carried_by_the_entry():
    entry = mapped(ampWebUrl="https://amp.example/x", unknown={"nested": SECRET})[0]
    assert SECRET not in repr(entry)
    assert "amp.example" not in repr(entry)


def test_control_characters_are_removed_with_a_warning():
    entry, problems = mapped(title="Bell\x07 and \x1b escape\ud800")
    assert entry.title == "Bell and escape"
    assert [(p.field, p.message) for p in problems] == [("title", "characters that feeds cannot carry were removed")]


def test_long_excerpt_is_shortened_at_a_word_with_a_warning():
    entry, problems = mapped(excerpt="word " * 2000)
    assert len(entry.summary) <= 5000 and entry.summary.endswith("word\u2026")
    assert problems[0].field == "excerpt"


def test_error_names_the_line_of_the_field():
    error = rejected(publishedDateTime="yesterday")
    assert error.line is not None and str(error).startswith(f"a.txt:{error.line}: publishedDateTime: ")
