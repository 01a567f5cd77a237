"""Entries -> their bodies as safe HTML: the dearest step of a build, so it is done only
for the entries a feed shows, each once, on all cores when there are many.

The body is read from the article file again (a build keeps only what choosing entries
needs), its front matter parsed again only when the body is blank (the API's ``content``
then stands in), and rendered by ``markup``. A body the build's state already holds never comes
here: the build asks the state first. Markdown and the sanitizer are imported when a
body is first needed: a build that renders none (up to date) never loads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import NamedTuple

from mkfeeds import parallel
from mkfeeds.errors import ArticleError
from mkfeeds.loading import problem_of
from mkfeeds.mapping import body_markdown, markdown_of
from mkfeeds.model import Entry, Problem
from mkfeeds.source import SourceFile, load_body

PARALLEL_MIN = 64  # bodies (a few ms each): fewer render faster here than workers start
PER_PROCESS_MIN = 32


class Body(NamedTuple):
    """One entry's body: its HTML (None when it could not be had), the problems met, and
    whether the HTML may be kept for later builds (not when it drew a warning, which every
    build that shows it must tell again)."""

    html: str | None
    problems: tuple[Problem, ...]
    keep: bool


def render_body(entry: Entry, source: SourceFile) -> Body:
    """The body of ``entry``, read from its file (the mapping's ``body_markdown``)."""
    from mkfeeds import markup

    try:
        found = load_body(source)
    except ArticleError as exc:  # changed or vanished since it was first read
        return Body(None, (problem_of(exc),), False)
    problems: tuple[Problem, ...] = ()
    try:
        text = markdown_of(found) if isinstance(found, str) else body_markdown(found)
        if markup.too_much_markup(text):
            problems = (Problem("warning", entry.source, f"more than {markup.MAX_RAW_TAGS:,} HTML tags; "
                                "the body's raw HTML is left out", field="body"),)
        html = markup.render_markdown(text, entry.url)
    except Exception as exc:  # noqa: BLE001 - a bug must not cost the other articles
        if os.environ.get("MKFEEDS_DEBUG"):
            raise
        return Body(None, (*problems, internal_error(entry, exc)), False)
    return Body(html, problems, not problems)


def render_bodies(entries: Sequence[Entry], sources: Mapping[str, SourceFile], jobs: int) -> list[Body]:
    """The bodies of ``entries`` (each with ``has_body``), in order."""
    processes = 1 if len(entries) < PARALLEL_MIN else parallel.processes_for(jobs, len(entries),
                                                                             per_process=PER_PROCESS_MIN)
    def render(entry: Entry) -> Body:
        return render_body(entry, sources[entry.source])

    try:
        with parallel.forked_map(render, entries, processes) as bodies:
            return list(bodies)
    except parallel.PoolBroken:  # a worker died: render them here
        return [render(entry) for entry in entries]


def with_content(entry: Entry, body_html: str = "") -> Entry:
    """Fill in ``content_html``: the body's HTML, then the related links."""
    from mkfeeds import markup

    related = markup.related_list(entry.related)
    if body_html:
        content: str | None = body_html + ("\n" + related if related else "")
    elif related:
        content = (markup.paragraph(entry.summary) + "\n" if entry.summary else "") + related
    else:
        content = None
    return replace(entry, content_html=content)


def internal_error(entry: Entry, exc: Exception) -> Problem:
    return Problem("error", entry.source, f"internal error ({type(exc).__name__}); please report it")
