"""Messages that say how to fix: one style for every error (``mkfeeds: error: WHAT``,
then ``mkfeeds: hint: HOW``), click's usage errors included, exit codes unchanged."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import SECRET, article_text, write_tree
from test_cli import run, site  # noqa: F401 - the CLI tests' working directory and runner


def mkfeeds(site, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, as a user runs it (click's usage errors are shown there)."""
    return subprocess.run([sys.executable, "-m", "mkfeeds", *args], cwd=site, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("args, stderr", [
    (["build", "--limt", "3"],
     "mkfeeds: error: no such option: --limt\nmkfeeds: hint: did you mean --limit? (see 'mkfeeds build --help')\n"),
    (["chek"], "mkfeeds: error: no such command 'chek'\nmkfeeds: hint: did you mean 'check'? (see 'mkfeeds --help')\n"),
    (["check", "--format", "xml"],
     "mkfeeds: error: invalid value for '--format': 'xml' is not one of 'text', 'json', 'github'\n"
     "mkfeeds: hint: see 'mkfeeds check --help'\n"),
    (["build", "--limit", "-1"],
     "mkfeeds: error: invalid value for '--limit': -1 is not in the range x>=0\n"
     "mkfeeds: hint: see 'mkfeeds build --help'\n"),
])
def test_usage_errors_speak_in_the_same_style(site, args, stderr):
    done = mkfeeds(site, *args)
    assert (done.returncode, done.stderr, done.stdout) == (2, stderr, "")


def test_quiet_and_verbose_together_are_a_usage_error(site):
    done = mkfeeds(site, "build", "-q", "-v")
    assert (done.returncode, done.stderr) == (
        2, "mkfeeds: error: -q/--quiet and -v/--verbose cannot be used together\n"
           "mkfeeds: hint: see 'mkfeeds build --help'\n")
    assert not (site / "out").exists()


def test_an_option_outweighs_the_other_one_in_the_config(site):
    (site / "mkfeeds.toml").write_text("verbose = true\n")
    assert run("build", "-q").output == ""
    (site / "mkfeeds.toml").write_text("quiet = true\nverbose = true\n")
    result = run("build")
    assert (result.exit_code, result.stderr) == (
        2, "mkfeeds: error: quiet and verbose are both true in the config\n"
           "mkfeeds: hint: keep one of them, or pass -q or -v\n")


def test_a_missing_input_folder_names_the_option_the_key_and_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in ("build", "check"):
        result = run(command)
        assert result.exit_code == 2
        assert result.stderr.endswith(
            "mkfeeds: error: seeds: the input folder does not exist or is not a folder\n"
            "mkfeeds: hint: name the folder of articles with --input DIR or the input key of mkfeeds.toml; "
            "mkfeeds init starts one with an example article\n"), command


# -- did you mean ---------------------------------------------------------------------------

@pytest.mark.parametrize("config, hint", [
    ('baseurl = "https://feeds.example.org/"\n', "did you mean base-url?"),
    ('site_url = "https://news.example.org/"\n', "did you mean site-url?"),
    ('[[feeds]]\nname = "top"\nsrot = "heat"\n', "did you mean sort?"),
])
def test_a_misspelled_config_key_gets_a_did_you_mean(site, config, hint):
    (site / "mkfeeds.toml").write_text(config)
    result = run("build")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"mkfeeds: hint: {hint}"
    assert "unknown key" in result.stderr.splitlines()[-2]


def test_an_unknown_config_key_far_from_any_gets_no_guess(site):
    (site / "mkfeeds.toml").write_text('colour = "blue"\n')
    assert "hint" not in run("build").stderr


ARTICLE = """---
title: Misspelled
{date}
webUrl: https://news.example.org/m/
{extra}
---
Body.
"""


def check_lines(site, **files: str) -> list[str]:
    write_tree(site, {f"seeds/{name}": text for name, text in files.items()})
    return run("check").stdout.splitlines()[:-1]


def test_a_misspelled_required_key_is_named_where_it_stands(site):
    text = ARTICLE.format(date="publishDate: 2026-01-02T10:00:00Z", extra="")
    assert check_lines(site, **{"m.md": text}) == [
        "seeds/m.md:3: error: publishedDateTime: is missing; did you mean it as 'publishDate'?"]


def test_a_misspelled_optional_key_draws_a_warning_and_never_its_value(site):
    text = ARTICLE.format(date="publishedDateTime: 2026-01-02T10:00:00Z",
                          extra=f"exerpt: {SECRET}\ninternalNote: {SECRET}")
    write_tree(site, {"seeds/m.md": text})
    result = run("check")
    assert result.stdout.splitlines()[:-1] == [
        "seeds/m.md:5: warning: exerpt: is not a key mkfeeds reads; did you mean excerpt? (left out)"]
    assert SECRET not in result.output  # internalNote: an API's extra field, left out without a word


# -- what the messages say ------------------------------------------------------------------

def test_an_unclear_published_flag_is_rejected_and_says_so(site):
    text = ARTICLE.format(date="publishedDateTime: 2026-01-02T10:00:00Z", extra="published: maybe")
    lines = check_lines(site, **{"m.md": text})
    assert lines == ["seeds/m.md:5: error: published: must be true or false (or yes/no); "
                     "the article is rejected until it is one of them"]
    assert run("check").stdout.endswith(" 1 rejected, 0 warnings\n")


def test_an_impossible_date_is_reported_on_the_date_field(site):
    text = ARTICLE.format(date="publishedDateTime: 2026-02-30", extra="")
    assert check_lines(site, **{"m.md": text}) == [
        "seeds/m.md:3: error: publishedDateTime: is an impossible date (no such day, month, time or offset)"]


def test_a_tab_used_for_indentation_gets_a_hint(site):
    text = ARTICLE.format(date="publishedDateTime: 2026-01-02T10:00:00Z", extra="provider:\n\tname: Desk")
    assert check_lines(site, **{"m.md": text}) == [
        "seeds/m.md:6: error: invalid YAML: found character that cannot start any token "
        "(YAML does not allow tabs for indentation: indent with spaces)"]


def test_a_windows_1252_file_is_told_to_be_saved_as_utf_8(site):
    text = ARTICLE.format(date="publishedDateTime: 2026-01-02T10:00:00Z", extra="excerpt: Caf\u00e9 \u201cnews\u201d")
    (site / "seeds/m.md").write_bytes(text.encode("cp1252"))
    assert run("check").stdout.splitlines()[0] == (
        "seeds/m.md:5: error: is not valid UTF-8 (it looks like Windows-1252 or Latin-1): save the file as UTF-8")


def test_every_path_in_a_message_is_relative_to_the_same_folder(site):
    (site / "mkfeeds.toml").write_text('input = "articles"\n')
    same = article_text(title="Same", webUrl="https://news.example.org/same/")
    write_tree(site, {"articles/2026/x.md": same, "articles/2026/y.md": same})
    for command in ("check", "build"):
        result = run(command)
        assert ("articles/2026/y.md: error: webUrl: has the same link (id) as articles/2026/x.md, "
                "which is published instead") in result.output, command


@pytest.mark.parametrize("value, shown", [("feeds/", "mkfeeds.toml"), ("/feeds/", "mkfeeds.toml")])
def test_a_relative_base_url_is_told_to_be_absolute_with_an_example(site, value, shown):
    (site / "mkfeeds.toml").write_text(f'base-url = "{value}"\n')
    result = run("build")
    assert (result.exit_code, result.stderr) == (2, (
        f"mkfeeds: error: {shown}: base-url must be an absolute URL, with its scheme and host, such as "
        "https://feeds.example.org/ (a relative one has nothing to be resolved against)\n"))


RELATIVE = ARTICLE.replace("webUrl: https://news.example.org/m/", "webUrl: /2026/relative/").format(
    date="publishedDateTime: 2026-01-02T10:00:00Z", extra="")


def test_a_relative_web_url_against_a_configured_site_is_normal(site):
    (site / "mkfeeds.toml").write_text('site-url = "https://news.example.org/"\n')
    write_tree(site, {"seeds/r.md": RELATIVE})
    result = run("check")
    assert result.stdout == "mkfeeds check: 2 publishable, 0 withheld, 0 rejected, 0 warnings\n"
    run("build")
    assert "<link>https://news.example.org/2026/relative/</link>" in (site / "out/rss.xml").read_text()


def test_a_relative_web_url_against_the_placeholder_is_warned_about(site):
    write_tree(site, {"seeds/r.md": RELATIVE})
    assert check_lines(site) == [
        "seeds/r.md:4: warning: webUrl: is relative; resolved against the placeholder site URL "
        "https://example.com/ (set site-url in mkfeeds.toml or pass --site-url)"]


def test_names_in_one_line_separated_by_commas_are_several_names(site):
    """``topics: Meta, News`` means two topics (as Pelican reads it); a name with a comma
    in it is written in a list. ``category`` is one name by the shape's own rule."""
    text = ARTICLE.format(date="publishedDateTime: 2026-01-02T10:00:00Z",
                          extra="topics: Meta, News\ntags: a,b,\ncategory: Arts, Culture\n"
                                "categories: [\"Film, TV\"]")
    write_tree(site, {"seeds/t.md": text})
    assert run("check").stdout == "mkfeeds check: 2 publishable, 0 withheld, 0 rejected, 0 warnings\n"
    run("build")
    items = json.loads((site / "out/feed.json").read_text())["items"]
    assert [item["tags"] for item in items if item["url"].endswith("/m/")] == [
        ["Arts, Culture", "Film, TV", "Meta", "News", "a", "b"]]
    assert (site / "out/topics/meta/rss.xml").exists() and (site / "out/topics/news/rss.xml").exists()
    assert (site / "out/category/arts-culture/rss.xml").exists()
