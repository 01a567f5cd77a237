"""Date parsing at the boundary: every shape YAML or a news API hands us becomes an
aware ``datetime`` truncated to whole seconds (RSS cannot carry fractions, and the three
formats must carry the same instant)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone, tzinfo

# Shaped as ISO 8601 (YAML 1.1's timestamp), whether or not the day exists.
_ISO_SHAPED = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:(?:[Tt]|[ \t]+)\d{1,2}:\d{2}(?::\d{2}(?:\.\d*)?)?"
                         r"(?:[ \t]*(?:Z|z|[-+]\d{1,2}(?::?\d{2})?))?)?$")

MIN_YEAR = 1900  # RSS (RFC 822) dates before 1900 are invalid in feed validators


class BadDate(ValueError):
    """The value is not a usable date; the message says why."""


def parse_date(value: object, zone: tzinfo) -> datetime:
    """Naive times are read in ``zone``; a bare date is midnight in ``zone``; offsets keep
    their instant and their offset."""
    if isinstance(value, bool) or value is None:
        raise BadDate("is not a date")
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, str):
        result = _parse_text(value.strip())
    else:
        raise BadDate("is not a date")
    if result.tzinfo is None or result.utcoffset() is None:
        result = result.replace(tzinfo=zone)
    if result.year < MIN_YEAR:
        raise BadDate(f"is before {MIN_YEAR}, which feeds cannot express")
    try:  # an offset that pushes the instant past year 1..9999 in UTC or in ``zone``
        result.astimezone(timezone.utc).astimezone(zone)
    except (OverflowError, ValueError):
        raise BadDate("is out of range") from None
    return result.replace(microsecond=0)


def _parse_text(text: str) -> datetime:
    if not text:
        raise BadDate("is empty")
    if len(text) > 64:
        raise BadDate("is not a date")
    try:
        iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        return datetime.fromisoformat(iso)
    except ValueError:
        if _ISO_SHAPED.match(text):
            raise BadDate("is an impossible date (no such day, month, time or offset)") from None
    import email.utils  # 15 ms to import, for the dates that are not ISO 8601

    try:
        parsed = email.utils.parsedate_to_datetime(text)  # RFC 822 / 2822
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = None
    if parsed is None:
        raise BadDate("is not an ISO 8601 / RFC 3339 or RFC 822 date")
    return parsed
