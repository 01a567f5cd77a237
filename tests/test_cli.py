"""The command line through click's CliRunner: exit codes, messages, summary line."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from mkfeeds import __version__
from mkfeeds.cli import cli

from conftest import SECRET, article_text, write_tree

GOOD = article_text(title="Good story", webUrl="https://news.example.org/good/")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A working directory with seeds/ holding one good article."""
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"seeds/001_good.txt": GOOD})
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_no_arguments_builds_out_from_seeds(site):
    result = run()
    assert result.exit_code == 0
    assert {"atom.xml", "feed.json", "rss.xml", "feeds.opml", "index.html", "feed.xsl"} <= set(os.listdir(site / "out"))
    assert result.stdout == ("mkfeeds: 5 feeds in out/: 1 published, 0 withheld, 0 rejected\n"
                             "  1 entry in the main feed; 22 files written, 0 unchanged\n")


def test_placeholder_base_url_is_announced_on_stderr(site):
    assert "no base-url configured" in run().stderr


def test_second_run_rewrites_nothing(site):
    run()
    before = {p: p.stat().st_mtime_ns for p in (site / "out").rglob("*")}
    result = run()
    assert "; 0 files written, 22 unchanged" in result.stdout
    assert {p: p.stat().st_mtime_ns for p in (site / "out").rglob("*")} == before


def test_build_with_folders_and_options(site):
    write_tree(site, {"articles/a.txt": GOOD})
    result = run("build", "--input", "articles", "--output", "public", "--base-url", "https://f.example/x",
                 "--limit", "1")
    assert result.exit_code == 0, result.stderr
    assert 'href="https://f.example/x/rss.xml"' in (site / "public" / "rss.xml").read_text()


def test_version():
    result = run("--version")
    assert result.stdout == f"mkfeeds, version {__version__}\n"


def test_help_lists_the_exit_codes():
    assert "1  feeds written, but some articles were rejected" in run("--help").stdout


def test_drafts_are_withheld_unless_asked_for(site):
    write_tree(site, {"seeds/002_draft.txt": article_text(title="Draft", webUrl="https://n.example/d", published=False)})
    assert "; withheld: 1 draft, 0 scheduled\n" in run().stdout
    assert "2 entries in the main feed" in run("build", "--drafts").stdout


def test_future_articles_are_withheld_unless_asked_for(site):
    write_tree(site, {"seeds/002_later.txt": article_text(
        title="Later", webUrl="https://n.example/l", publishedDateTime="2999-01-01T00:00:00Z")})
    assert "; withheld: 0 drafts, 1 scheduled (the next is due 2999-01-01T00:00:00Z)\n" in run().stdout
    assert "2 entries in the main feed" in run("build", "--future").stdout


def test_rejected_article_is_named_and_the_rest_is_published(site):
    write_tree(site, {"seeds/002_bad.txt": article_text(title=..., webUrl="https://n.example/b")})
    result = run()
    assert result.exit_code == 1
    assert "seeds/002_bad.txt: error: title: is missing\n" in result.stderr
    assert "1 entry in the main feed" in result.stdout and "1 rejected" in result.stdout


def test_strict_writes_nothing_when_an_article_is_rejected(site):
    write_tree(site, {"seeds/002_bad.txt": article_text(title=..., webUrl="https://n.example/b")})
    result = run("build", "--strict")
    assert result.exit_code == 2
    assert result.stderr.endswith("mkfeeds: error: 1 article rejected; nothing written (--strict)\n")
    assert not (site / "out").exists()


def test_missing_input_folder_builds_nothing(site):
    result = run("build", "--input", "nowhere")
    assert result.exit_code == 2
    assert "mkfeeds: error: nowhere: the input folder does not exist or is not a folder" in result.stderr


def test_quiet_prints_only_errors(site):
    write_tree(site, {"seeds/002_warn.txt": article_text(title="Warned", webUrl="https://n.example/w", locale="not a tag")})
    result = run("build", "--quiet")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_warnings_are_shown_without_quiet(site):
    write_tree(site, {"seeds/002_warn.txt": article_text(title="Warned", webUrl="https://n.example/w", locale="not a tag")})
    assert "seeds/002_warn.txt:" in run().stderr and "warning: locale: is not a language tag" in run().stderr


def test_verbose_lists_written_files(site):
    assert "wrote out/rss.xml" in run("build", "--verbose").stderr


def test_config_file_sets_feed_metadata(site):
    (site / "mkfeeds.toml").write_text('title = "Desk"\nbase-url = "https://feeds.example.org/"\nlimit = 5\n')
    result = run()
    assert result.exit_code == 0 and result.stderr == ""
    assert "<title>Desk</title>" in (site / "out" / "rss.xml").read_text()


def test_pyproject_tool_table_is_read(site):
    (site / "pyproject.toml").write_text('[tool.mkfeeds]\ntitle = "From pyproject"\n')
    run()
    assert "<title>From pyproject</title>" in (site / "out" / "rss.xml").read_text()


def test_options_override_the_config_file(site):
    (site / "mkfeeds.toml").write_text('output = "public"\n')
    run("build", "--output", "elsewhere")
    assert (site / "elsewhere" / "rss.xml").exists() and not (site / "public").exists()


def test_unknown_config_key_is_an_error_naming_the_known_ones(site):
    (site / "mkfeeds.toml").write_text('titel = "typo"\n')
    result = run()
    assert result.exit_code == 2
    assert result.stderr.startswith("mkfeeds: error: mkfeeds.toml: unknown key 'titel'; known keys: archive, archive-page-size, atom-file, ")


def test_invalid_config_value_is_an_error(site):
    (site / "mkfeeds.toml").write_text('base-url = "ftp://x.example/"\n')
    result = run()
    assert result.exit_code == 2
    assert "base-url must be an absolute http(s) URL" in result.stderr


def test_invalid_toml_is_an_error(site):
    (site / "mkfeeds.toml").write_text('title = \n')
    result = run()
    assert result.exit_code == 2
    assert result.stderr.startswith("mkfeeds: error: mkfeeds.toml: invalid TOML: ")
    assert not (site / "out").exists()


def test_explicit_config_file(site):
    (site / "feeds.toml").write_text('title = "Explicit"\n')
    run("build", "--config", "feeds.toml")
    assert "<title>Explicit</title>" in (site / "out" / "rss.xml").read_text()


def test_check_lists_problems_and_writes_nothing(site):
    write_tree(site, {"seeds/002_bad.txt": article_text(webUrl="ftp://n.example/b")})
    result = run("check")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith("seeds/002_bad.txt:")
    assert "error: webUrl: uses the 'ftp' scheme" in result.stdout
    assert not (site / "out").exists()


def test_check_passes_a_clean_folder(site):
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "mkfeeds check: 1 publishable, 0 withheld, 0 rejected, 0 warnings\n")


def test_secret_never_reaches_stdout_stderr_or_output(site):
    write_tree(site, {"seeds/002_bad.txt": article_text(title=..., webUrl="https://n.example/b")})
    result = run("build", "--verbose")
    assert SECRET not in result.stdout + result.stderr
    for path in (site / "out").rglob("*"):
        assert path.is_dir() or SECRET not in path.read_text()


def test_a_feed_file_name_cannot_take_a_page_name(site):
    (site / "mkfeeds.toml").write_text('rss-file = "index.html"\n')
    result = run()
    assert result.exit_code == 2
    assert "index.html is written by mkfeeds itself; choose another feed file name" in result.stderr


def test_build_options_work_without_the_command_name(site):
    write_tree(site, {"seeds/002_draft.txt": article_text(title="Draft", webUrl="https://n.example/d", published=False)})
    result = run("--drafts", "--quiet")
    assert result.exit_code == 0 and "Draft" in (site / "out" / "rss.xml").read_text()


def test_check_does_not_write_the_cache_either(site):
    run("check")
    assert sorted(p.name for p in site.iterdir()) == ["seeds"]


@pytest.mark.parametrize("arguments, status", [(["build", "--base-url", "https://f.example/"], 1),
                                               (["--version"], 0), (["build", "--no-such-option"], 2)])
def test_the_installed_command_says_everything_before_it_exits(site, arguments, status):
    """``mkfeeds`` ends without Python's teardown (``cli._exit_at_once``): whatever it
    printed still arrives whole, and the status is the command's."""
    import subprocess
    import sys

    write_tree(site / "seeds", {"bad.md": "---\ntitle: [\n---\n"})
    done = subprocess.run([sys.executable, "-m", "mkfeeds", *arguments], cwd=site, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == status, done.stderr
    if status == 1:
        assert done.stdout.startswith("mkfeeds: ") and " 1 rejected\n  " in done.stdout
        assert done.stderr.startswith("seeds/bad.md:3: error: invalid YAML")
        assert (site / "out/rss.xml").read_bytes().endswith(b"</rss>\n")
    elif status == 0:
        assert done.stdout == f"mkfeeds, version {__version__}\n"
    else:
        assert done.stderr == ("mkfeeds: error: no such option: --no-such-option\n"
                               "mkfeeds: hint: see 'mkfeeds build --help'\n")


def test_the_progress_bar_is_drawn_only_for_builds_of_many_articles(capsys):
    from mkfeeds.cli import PROGRESS_THRESHOLD, ProgressBar

    few = ProgressBar()
    few.listed(PROGRESS_THRESHOLD - 1)
    few.update(10)
    few.close()
    assert few.bar is None and capsys.readouterr().err == ""

    many = ProgressBar()
    many.listed(PROGRESS_THRESHOLD)
    many.update(PROGRESS_THRESHOLD)
    assert many.bar is not None and many.bar.pos == PROGRESS_THRESHOLD
    many.close()
    assert many.bar is None
