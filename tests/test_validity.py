"""Every feed mkfeeds writes passes the W3C validator's rules (as mirrored offline in
feedcheck.py: errors and avoidable warnings alike) and the JSON Feed 1.1 spec."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mkfeeds.build import plan
from mkfeeds.config import Settings, load_config

from conftest import NOW
from feedcheck import check_atom, check_jsonfeed, check_rss

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden"
# RSS has no way to say a title is plain text: a literal "<script>" in a title is a
# ContainsHTML warning in any generator. The guide accepts it; only the escaping case has it.
UNAVOIDABLE = {"escaping": ("ContainsHTML",)}


def problems_in(files: dict[str, bytes], settings: Settings, allowed: tuple[str, ...] = ()) -> dict[str, list[str]]:
    checks = {settings.rss_file: check_rss, settings.atom_file: check_atom, settings.json_file: check_jsonfeed}
    found = {}
    for name, data in files.items():
        check = checks.get(name.rsplit("/", 1)[-1])
        if check:
            problems = [p for p in check(data) if not any(rule in p for rule in allowed)]
            if problems:
                found[name] = problems
    return found


def test_every_feed_built_from_seeds_is_valid(tmp_path):
    settings = Settings(input=ROOT / "seeds", output=tmp_path, base_url="https://feeds.example.org/",
                        site_url="https://news.example.org/", title="Seeds", language="en", cache=None, jobs=1)
    planned = plan(settings, NOW)
    assert len(planned.feeds) > 20
    assert problems_in(planned.files, settings) == {}


def test_the_sample_builds_valid_feeds_without_any_config(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    settings = load_config(None, {"cache": False, "output": str(tmp_path)}, ROOT)
    assert problems_in(plan(settings, NOW).files, settings) == {}


@pytest.mark.parametrize("case", sorted(p.name for p in GOLDEN.iterdir() if p.is_dir()))
def test_every_golden_case_is_valid(case, tmp_path):
    work = tmp_path / case
    shutil.copytree(GOLDEN / case, work, ignore=shutil.ignore_patterns("expected", "out"))
    settings = load_config(work / "mkfeeds.toml", {}, work)
    assert problems_in(plan(settings, NOW).files, settings, UNAVOIDABLE.get(case, ())) == {}
