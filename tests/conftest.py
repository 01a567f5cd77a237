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
    """``make_settings`` with a state folder (``--cache``) at tmp_path/cache.sqlite: a
    folder, whose name predates it (``state_file`` is the SQLite file inside)."""

    def make(**overrides: Any) -> Settings:
        overrides.setdefault("cache", tmp_path / "cache.sqlite")
        return make_settings(**overrides)

    return make


def state_file(folder: Path) -> Path:
    """The SQLite file of the state folder ``folder``."""
    from mkfeeds.incremental.store import STATE_FILE

    return folder / STATE_FILE


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="Rewrite tests/golden/*/expected/ from the current output.")


def index_mirrors_table(folder: Path) -> bool:
    """The row index (``meta.row_index``) of the state folder ``folder`` holds exactly
    the table's rows (but entries and bodies), apart from the rows it lists as changed
    since it was written (``row_index_changes``, which a build reads from the table):
    what a build that trusts it reads instead of the table."""
    import sqlite3

    from mkfeeds.incremental import codec, store

    width = store.KEY_AT + len(codec.KEY_COLUMNS)
    with sqlite3.connect(state_file(folder)) as db:
        found = dict(db.execute("SELECT key, value FROM meta WHERE key LIKE 'row_index%'").fetchall())
        columns = ", ".join([*store.STAT_COLUMNS, *("k_" + n for n in codec.KEY_COLUMNS)])
        rows = db.execute(f"SELECT {columns} FROM files ORDER BY rel").fetchall()
    db.close()
    if found.get("row_index") != width:
        return False
    index = [store._column_of_blob(found.get(f"row_index/{position}")) for position in range(width)]
    changed = store._column_of_blob(found.get("row_index_changes"))
    if None in index or changed is None:
        return False
    return ([row for row in zip(*index) if row[0] not in changed]
            == [row for row in rows if row[0] not in changed])
