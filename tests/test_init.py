"""``mkfeeds init [DIR]``: a commented config with every key and its default, one minimal
article that builds into valid feeds, never an overwritten file, and the next command."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from mkfeeds.cli import cli
from mkfeeds.config import KEYS, Settings, load_config, settings_from_mapping

from feedcheck import check_atom, check_jsonfeed, check_rss

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_writes_a_config_and_an_article_and_says_what_to_run_next(cwd):
    result = run("init", "blog")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "mkfeeds: created mkfeeds.toml and articles/hello-mkfeeds.md in blog/\n"
        "next: set title and base-url in blog/mkfeeds.toml, then run: cd blog && mkfeeds build\n")
    assert sorted(p.relative_to(cwd / "blog").as_posix() for p in (cwd / "blog").rglob("*") if p.is_file()) == [
        "articles/hello-mkfeeds.md", "mkfeeds.toml"]


def test_init_without_a_folder_uses_the_current_one(cwd):
    result = run("init")
    assert result.stdout == ("mkfeeds: created mkfeeds.toml and articles/hello-mkfeeds.md\n"
                             "next: set title and base-url in mkfeeds.toml, then run: mkfeeds build\n")


def test_the_config_is_accepted_by_the_loader(cwd):
    run("init")
    settings = load_config(None, {}, cwd)
    assert (settings.input, settings.title, settings.description) == (
        Path("articles"), "My feed", "What this feed is about")


def test_the_config_shows_every_key_with_its_default(cwd):
    """Uncommenting every line that shows a default changes nothing."""
    run("init")
    text = (cwd / "mkfeeds.toml").read_text()
    shown = set(re.findall(r"^#? ?([a-z-]+) = ", text, re.M))
    assert set(KEYS) - {"feeds"} <= set(shown)
    assert "# [[feeds]]" in text
    settings_part = text.split("# Custom feeds")[0]  # the [[feeds]] example's keys are a feed's
    uncommented = tomllib.loads(re.sub(r"^# ([a-z-]+ = )", r"\1", settings_part, flags=re.M))
    set_by_init = {"input", "title", "description"}
    no_default = {key for key, f in KEYS.items() if getattr(Settings(), f.name) is None}
    defaults = {key: value for key, value in uncommented.items() if key not in set_by_init | no_default}
    assert settings_from_mapping(defaults) == Settings()
    assert settings_from_mapping(uncommented)  # the examples of unset keys are valid values too


def test_the_example_article_builds_into_valid_feeds(cwd):
    run("init")
    result = run("build")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("mkfeeds: 1 feed in out/: 1 published, 0 withheld, 0 rejected\n  1 entry ")
    for name, check in (("rss.xml", check_rss), ("atom.xml", check_atom), ("feed.json", check_jsonfeed)):
        assert check((cwd / "out" / name).read_bytes()) == [], name
    assert run("check").stdout == "mkfeeds check: 1 publishable, 0 withheld, 0 rejected, 0 warnings\n"


def test_the_example_article_has_only_the_keys_an_article_needs(cwd):
    run("init")
    text = (cwd / "articles/hello-mkfeeds.md").read_text()
    front = re.findall(r"^([A-Za-z]+):", text.split("---\n")[1], re.M)
    assert front == ["title", "publishedDateTime", "webUrl", "excerpt"]
    assert f"publishedDateTime: {datetime.now(timezone.utc).date().isoformat()}\n" in text
    assert text.split("---\n", 2)[2].strip()  # a short body


def test_the_readme_shows_the_minimal_article(cwd):
    run("init")
    text = (cwd / "articles/hello-mkfeeds.md").read_text()
    shown = re.sub(r"publishedDateTime: \S+", "publishedDateTime: 2026-12-03", text)
    assert shown in README


@pytest.mark.parametrize("existing", ["mkfeeds.toml", "articles/hello-mkfeeds.md"])
def test_init_refuses_to_overwrite_anything(cwd, existing):
    (cwd / existing).parent.mkdir(parents=True, exist_ok=True)
    (cwd / existing).write_text("mine\n")
    result = run("init")
    assert result.exit_code == 2
    assert result.stderr == (
        f"mkfeeds: error: {existing} already exists; mkfeeds init never overwrites a file\n"
        "mkfeeds: hint: move it away, or run mkfeeds init in another folder (mkfeeds init DIR)\n")
    assert (cwd / existing).read_text() == "mine\n"
    assert sorted(p.name for p in cwd.rglob("*") if p.is_file()) == [Path(existing).name]
