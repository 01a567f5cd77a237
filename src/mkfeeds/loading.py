"""Files -> outcomes: load and map every article file, each judged alone.

The unit of work is ``process_file``: one file in, one picklable ``FileOutcome`` out,
so it can run in worker processes and be kept in the build cache."""

from __future__ import annotations

import os
from typing import Callable

from mkfeeds.config import Settings
from mkfeeds.errors import ArticleError
from mkfeeds.mapping import MappingSettings, map_article
from mkfeeds.model import FileOutcome, Problem
from mkfeeds.source import SourceFile, load_article


def process_file(source: SourceFile, rules: MappingSettings) -> FileOutcome:
    """Load and map one file; every failure is confined to it."""
    try:
        article = load_article(source)
        entry, warnings = map_article(article, rules)
        return FileOutcome(source.rel, entry, tuple(warnings))
    except ArticleError as exc:
        return FileOutcome(source.rel, None, (problem_of(exc),))
    except RecursionError:
        return FileOutcome(source.rel, None, (Problem("error", source.rel, "nested too deeply"),))
    except Exception as exc:  # a bug must not cost the other articles; say so plainly
        if os.environ.get("MKFEEDS_DEBUG"):
            raise
        return FileOutcome(source.rel, None, (Problem(
            "error", source.rel, f"internal error ({type(exc).__name__}); please report it"),))


def problem_of(exc: ArticleError) -> Problem:
    return Problem("error", exc.path, exc.message, exc.field, exc.line)


def load_outcomes(sources: list[SourceFile], settings: Settings, rules: MappingSettings,
                  progress: Callable[[int], None] | None = None) -> list[FileOutcome]:
    outcomes = []
    for source in sources:
        outcomes.append(process_file(source, rules))
        if progress:
            progress(1)
    return outcomes


