"""Full content: Markdown rendered, sanitized, made absolute, related items appended."""

from __future__ import annotations

import json

from mkfeeds import markup
from mkfeeds.build import plan
from mkfeeds.model import Link

from conftest import NOW, article_text, write_tree

BASE = "https://news.example.org/2024/story/"


def test_commonmark_is_rendered():
    assert markup.render_markdown("# Title\n\n*em* and **strong**", BASE) == (
        "<h1>Title</h1>\n<p><em>em</em> and <strong>strong</strong></p>")


def test_relative_links_and_images_become_absolute_against_the_article():
    html = markup.render_markdown("[about](/about) ![chart](fig.png)", BASE)
    assert 'href="https://news.example.org/about"' in html
    assert 'src="https://news.example.org/2024/story/fig.png"' in html


def test_scripts_handlers_and_unsafe_urls_are_removed():
    html = markup.render_markdown(
        '<script>x()</script><img src=x onerror="y()"><a href="javascript:z()">a</a>'
        '<a href="data:text/html,hi">b</a><a href="vbscript:w">c</a><iframe src="https://e.example"></iframe>'
        '<p style="color:red" onclick="q()">p</p>', BASE)
    for banned in ("script", "onerror", "javascript", "data:", "vbscript", "iframe", "style", "onclick"):
        assert banned not in html


def test_related_items_are_a_list_of_links():
    assert markup.related_list((Link("https://a.example/?x=1&y=2", "A <b>"),)) == (
        '<h2>Related</h2>\n<ul><li><a href="https://a.example/?x=1&amp;y=2">A &lt;b&gt;</a></li></ul>')


def test_a_body_with_thousands_of_tags_is_bounded_and_its_raw_html_left_out(make_settings, tmp_path):
    write_tree(tmp_path / "in", {
        "a.txt": article_text("<div>" * 20_000 + "\n\nThe *text* stays.", title="Deep",
                              webUrl="https://n.example/a"),
    })
    planned = plan(make_settings(taxonomies=()), NOW)  # unbounded, sanitizing this takes seconds
    content = json.loads(planned.files["feed.json"])["items"][0]["content_html"]
    assert content == "<p>The <em>text</em> stays.</p>"
    assert [(p.severity, p.field) for p in planned.result.problems] == [("warning", "body")]


def test_related_items_show_in_all_three_formats(make_settings, tmp_path):
    write_tree(tmp_path / "in", {"a.txt": article_text(
        title="A", webUrl="https://n.example/a",
        related=[{"title": "Background", "webUrl": "https://b.example/bg"}])})
    files = plan(make_settings(taxonomies=()), NOW).files
    assert "https://b.example/bg" in files["rss.xml"].decode()
    assert 'rel="related"' in files["atom.xml"].decode() and "Background" in files["atom.xml"].decode()
    assert "https://b.example/bg" in files["feed.json"].decode()


def test_the_apis_content_stands_in_for_a_blank_body_and_a_body_wins_over_it(make_settings, tmp_path):
    write_tree(tmp_path / "in", {
        "blank.txt": article_text("\n\n", title="Blank", webUrl="https://n.example/blank",
                                  content="From the **API**"),
        "both.txt": article_text("The *body*", title="Both", webUrl="https://n.example/both",
                                 content="From the **API**"),
    })
    items = json.loads(plan(make_settings(taxonomies=()), NOW).files["feed.json"])["items"]
    content = {item["title"]: item["content_html"] for item in items}
    assert content == {"Blank": "<p>From the <strong>API</strong></p>", "Both": "<p>The <em>body</em></p>"}
