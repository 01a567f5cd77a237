"""What a build says when it is done: a first line that fits 100 columns (what a glance
or a cron mail needs), then the details on a second. Pure: a result in, text out.

Counts carry thousands separators and the right plural; an up-to-date build says so;
a waiting scheduled article says when it is due, so a cron job can build then.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from mkfeeds.report import plural
from mkfeeds.text import printable

if TYPE_CHECKING:
    from mkfeeds.build import BuildResult


def due(when: datetime) -> str:
    """A due time as a cron job's author reads it: UTC, to the second, ISO 8601."""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def headline(output: Path, result: BuildResult) -> str:
    state = "up to date: " if result.up_to_date else ""
    return (f"mkfeeds: {state}{plural(result.feeds, 'feed')} in {printable(output.as_posix().rstrip('/'))}/: "
            f"{result.published:,} published, {result.withheld:,} withheld, {result.rejected:,} rejected")


def details(result: BuildResult) -> str:
    if result.up_to_date:
        files = (f"nothing changed since the last build "
                 f"({plural(len(result.files_unchanged), 'file')} unchanged)")
    else:
        removed = f", {len(result.files_removed):,} removed" if result.files_removed else ""
        files = (f"{plural(len(result.files_written), 'file')} written, "
                 f"{len(result.files_unchanged):,} unchanged{removed}")
    parts = [f"{plural(result.entries, 'entry', 'entries')} in the main feed", files]
    if result.withheld:
        withheld = f"withheld: {plural(result.drafts, 'draft')}, {result.scheduled:,} scheduled"
        if result.next_due is not None:
            withheld += f" (the next is due {due(result.next_due)})"
        parts.append(withheld)
    return "  " + "; ".join(parts)


def summary(output: Path, result: BuildResult) -> str:
    """The two lines (without the final newline)."""
    return headline(output, result) + "\n" + details(result)
