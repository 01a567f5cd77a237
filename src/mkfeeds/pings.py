"""What the WebSub hubs still have to be told, and a round of telling them (``ping``).

A build that writes feeds records, next to the manifest in the output folder, a
notification for each hub and each feed file whose bytes it changed
(``.mkfeeds-ping.json``). ``mkfeeds ping`` (after the deploy step: a hub fetches the
feed as soon as it is told) sends what is recorded and keeps only what failed, so a
second ping with nothing changed sends nothing. Notifications add up until they are
sent: a build that changes a feed that an unsent notification names records it once.
The record lives beside the feeds rather than in the state folder so that it holds
whether or not a state is kept (``--no-cache``), and a build and a ping on another
machine read the same thing as long as the output folder travels with them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mkfeeds.errors import OutputError
from mkfeeds.output import write_all
from mkfeeds.websub import Notification, PingResult, notify_all

RECORD = ".mkfeeds-ping.json"


class DamagedRecord(OutputError):
    """The record is not one mkfeeds wrote: what it held cannot be sent."""


def read_pending(root: Path) -> tuple[Notification, ...]:
    """The notifications not yet sent; none without a record. Raises ``DamagedRecord``."""
    path = root / RECORD
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedRecord(str(path), f"cannot be read ({exc})") from None
    try:
        listed = json.loads(text)["pending"]
        pending = tuple(Notification(item["hub"], item["topic"]) for item in listed)
    except (ValueError, KeyError, TypeError):
        raise DamagedRecord(str(path), "is not a ping record mkfeeds wrote; remove it (the notifications "
                            "it held are lost: the feeds' next changes are recorded again)") from None
    if not all(isinstance(n.hub, str) and isinstance(n.topic, str) for n in pending):
        raise DamagedRecord(str(path), "is not a ping record mkfeeds wrote; remove it")
    return pending


def record_bytes(pending: Iterable[Notification]) -> bytes:
    items = [{"hub": n.hub, "topic": n.topic} for n in sorted(set(pending))]
    return (json.dumps({"generator": "mkfeeds", "pending": items}, indent=1) + "\n").encode()


def write_pending(root: Path, pending: Iterable[Notification]) -> None:
    write_all(root, {RECORD: record_bytes(pending)})


def after_build(previous: Iterable[Notification], hubs: Iterable[str],
                changed_topics: Iterable[str]) -> tuple[Notification, ...]:
    """What is pending once a build changed the feeds of ``changed_topics``. Pure."""
    topics = sorted(set(changed_topics))
    return tuple(sorted(set(previous) | {Notification(hub, topic) for hub in hubs for topic in topics}))


def changed_topics(written: Iterable[str], self_urls: dict[str, str]) -> list[str]:
    """The self URLs of the feed files among ``written`` (not the pages or the stylesheet)."""
    return sorted({self_urls[name] for name in written if name in self_urls})


@dataclass(frozen=True)
class PingRound:
    """A ``ping``: what was due, and (unless it was a dry run) what sending it did."""

    due: tuple[Notification, ...]
    result: PingResult | None = None  # None: a dry run, nothing sent


def ping(output: Path, hubs: tuple[str, ...], *, timeout: float, backoff: float, dry_run: bool = False,
         send: Callable[[Notification, float], None] | None = None,
         sleep: Callable[[float], None] = time.sleep) -> PingRound:
    """Tell the hubs of what is pending for them; keep only what failed. Notifications
    for a hub no longer configured are dropped. A dry run changes nothing."""
    pending = read_pending(output)
    due = tuple(n for n in pending if n.hub in hubs)
    if dry_run:
        return PingRound(due)
    result = notify_all(due, timeout=timeout, backoff=backoff, send=send, sleep=sleep)
    sent = set(result.sent)
    # Read again: a build that ran meanwhile may have added notifications.
    remaining = tuple(n for n in read_pending(output) if n not in sent and n.hub in hubs)
    if remaining != pending:
        write_pending(output, remaining)
    return PingRound(due, result)
