"""Golden files: each case in tests/golden/ must build to exactly its expected bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mkfeeds.build import build
from mkfeeds.config import load_config

from conftest import NOW

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())
FILES = ("rss.xml", "atom.xml", "feed.json")


@pytest.mark.parametrize("case", CASES)
def test_golden_case_builds_to_its_expected_bytes(case, tmp_path, request):
    """Changing an output byte on purpose shows up here as a reviewable diff."""
    work = tmp_path / case
    shutil.copytree(GOLDEN / case, work, ignore=shutil.ignore_patterns("expected", "out"))
    settings = load_config(work / "mkfeeds.toml", {}, work)
    build(settings, NOW)
    expected = GOLDEN / case / "expected"
    if request.config.getoption("--update-golden"):
        expected.mkdir(exist_ok=True)
        for name in FILES:
            shutil.copyfile(work / "out" / name, expected / name)
    for name in FILES:
        assert (work / "out" / name).read_bytes() == (expected / name).read_bytes(), f"{case}/{name}"
