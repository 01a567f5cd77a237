"""Shared test helpers: an article builder, a tree writer, a fixed clock, settings."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml

from mkfeeds.config import Settings

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=timezone.utc)
SECRET = "vZtW2PM0gwctDtt4x4CLTwIi-SECRET-NEVER-PUBLISHED"


def front_matter(**fields: Any) -> dict[str, Any]:
    """A valid article in the seed's shape; keyword arguments override or add keys
    (a value of ``...`` removes the key)."""
    meta: dict[str, Any] = {
        "category": "news",
        "title": "Large language models can do jaw-dropping things",
        "excerpt": "And that's a problem.",
        "publishedDateTime": "2024-03-04T11:32:00Z",
        "originalUrl": "https://www.technologyreview.com/2024/03/04/llms/",
        "webUrl": "https://www.technologyreview.com/2024/03/04/llms/",
        "type": "article",
        "quality": 40,
        "heat": 40,
        "published": True,
        "provider": {"name": "MIT Technology Review", "domain": "technologyreview.com"},
        "topics": ["Natural Language Processing", "AI"],
        "images": [{"url": "https://wp.technologyreview.com/llm.jpg?w=2100", "width": 2100,
                    "height": 1182, "isCached": True}],
        "secured": SECRET,
    }
    for key, value in fields.items():
        if value is ...:
            meta.pop(key, None)
        else:
            meta[key] = value
    return meta


def article_text(body: str = "", **fields: Any) -> str:
    dumped = yaml.safe_dump(front_matter(**fields), sort_keys=False, allow_unicode=True)
    return f"---\n{dumped}---\n{body}"


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root``; return ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def make_settings(tmp_path: Path):
    """Settings for a build from ``tmp_path/in`` to ``tmp_path/out``, no cache."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = dict(
            input=tmp_path / "in", output=tmp_path / "out", base_url="https://feeds.example.org/",
            site_url="https://news.example.org/", title="Example News",
            description="The example desk's latest stories", language="en", cache=None, jobs=1,
        )
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def cached(make_settings, tmp_path: Path):
    """``make_settings`` with a build cache at tmp_path/cache.sqlite."""

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("cache", tmp_path / "cache.sqlite")
        return make_settings(**overrides)

    return make


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite tests/golden/*/expected/ from the current output.")


def index_mirrors_table(cache_path: Path) -> bool:
    """The cache's index file holds exactly the table's rows (but entries and bodies),
    for the table's generation: what a build that trusts it reads instead of the table."""
    import sqlite3

    from mkfeeds import cache, rowindex

    with sqlite3.connect(cache_path) as db:
        generation = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0]
        rows = db.execute(f"SELECT rel, size, mtime_ns, digest, checked_ns, "
                          f"{', '.join('k_' + n for n in cache.KEY_COLUMNS)} FROM files ORDER BY rel").fetchall()
    db.close()
    index = rowindex.read(rowindex.path_for(cache_path), generation, cache.ROW_WIDTH)
    return index is not None and list(zip(*index.columns)) == rows
