"""Telling WebSub hubs that a feed changed (W3C WebSub, section 7: publishing).

A hub takes one ``POST`` per topic, form-encoded: ``hub.mode=publish&hub.url=<topic>``,
where the topic is the feed's exact self URL; any 2xx is success. A hub that is slow,
down or answers 5xx gets up to ``TRIES`` tries, each with its own timeout, with an
exponential wait between them. Every outcome is a value (``PingResult``), never a log
line or an exception: the caller tells the user and keeps what failed for next time.

The network is one function at the edge (``post``), on the standard library's urllib:
one small form POST needs no more, and the retries, the backoff and what counts as worth
retrying are ours with any client (httpx retries connection failures only, never a 5xx,
and without waiting). Redirects are not followed: urllib would turn the POST into a GET,
which a hub does not take as a publish request.
"""

from __future__ import annotations

import email.message
import http.client
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO
from urllib.parse import urlencode

from mkfeeds import __version__

TRIES = 3  # per notification: the first and two more
CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True, order=True)
class Notification:
    """One publish request: this hub is told that this topic (a feed's self URL) changed."""

    hub: str
    topic: str

    @property
    def body(self) -> bytes:
        return urlencode([("hub.mode", "publish"), ("hub.url", self.topic)]).encode("ascii")

    def __str__(self) -> str:
        return f"POST {self.hub} ({CONTENT_TYPE}) {self.body.decode('ascii')}"


@dataclass(frozen=True)
class Failure:
    """A notification that failed for good this time; it stays pending."""

    notification: Notification
    reason: str
    tries: int

    def __str__(self) -> str:
        tried = f" (after {self.tries} tries)" if self.tries > 1 else ""
        return (f"hub {self.notification.hub} was not told that {self.notification.topic} changed: "
                f"{self.reason}{tried}; it stays pending for the next `mkfeeds ping`")


@dataclass(frozen=True)
class PingResult:
    """What a round of notifications did."""

    sent: tuple[Notification, ...] = ()
    failed: tuple[Failure, ...] = ()


class HubError(Exception):
    """One request failed: ``reason`` says how; ``retry`` whether trying again may help
    (a timeout, a refused connection, a 5xx, 408 or 429; not another 4xx or a redirect);
    ``reached`` whether the hub answered or took the connection at all."""

    def __init__(self, reason: str, retry: bool, reached: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.retry, self.reached = reason, retry, reached


def notify_all(notifications: Iterable[Notification], *, timeout: float, backoff: float,
               send: Callable[[Notification, float], None] | None = None,
               sleep: Callable[[float], None] = time.sleep) -> PingResult:
    """Send each notification, in order, trying each up to ``TRIES`` times, waiting
    ``backoff`` seconds before the second try and twice as long before each next one.
    A hub that could not be reached at all (every try timed out or was refused) is not
    tried again in this round: its other notifications fail at once, so a dead hub costs
    one notification's tries, not one per feed."""
    post_one = post if send is None else send
    sent: list[Notification] = []
    failed: list[Failure] = []
    unreachable: dict[str, str] = {}  # hub -> why
    for notification in notifications:
        if notification.hub in unreachable:
            failed.append(Failure(notification, "not tried, as the hub could not be reached for another feed "
                                                f"({unreachable[notification.hub]})", 0))
            continue
        tries = 0
        while True:
            tries += 1
            try:
                post_one(notification, timeout)
            except HubError as exc:
                if exc.retry and tries < TRIES:
                    sleep(backoff * 2 ** (tries - 1))
                    continue
                failed.append(Failure(notification, exc.reason, tries))
                if not exc.reached:
                    unreachable[notification.hub] = exc.reason
            else:
                sent.append(notification)
            break
    return PingResult(tuple(sent), tuple(failed))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: email.message.Message, newurl: str) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_opener = urllib.request.build_opener(_NoRedirects)


def post(notification: Notification, timeout: float) -> None:
    """The one request, over the network; raises ``HubError`` unless the hub answers 2xx."""
    request = urllib.request.Request(
        notification.hub, data=notification.body, method="POST",
        headers={"Content-Type": CONTENT_TYPE, "User-Agent": f"mkfeeds/{__version__} (WebSub publisher)"})
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(65536)  # a short answer is read, so the connection closes cleanly
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        if 300 <= exc.code < 400:
            where = exc.headers.get("Location") if exc.headers else None
            raise HubError(f"the hub answered {exc.code}, a redirect{f' to {where}' if where else ''}; "
                           "configure the URL it redirects to", retry=False) from None
        raise HubError(f"the hub answered {exc.code} {exc.reason}".rstrip(),
                       retry=exc.code >= 500 or exc.code in (408, 429)) from None
    except urllib.error.URLError as exc:
        raise _network_error(exc.reason) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _network_error(exc) from None
    if not 200 <= status < 300:
        raise HubError(f"the hub answered {status}", retry=status >= 500)


def _network_error(reason: object) -> HubError:
    if isinstance(reason, (TimeoutError, socket.timeout)) or "timed out" in str(reason):
        return HubError("no answer within the timeout", retry=True, reached=False)
    if isinstance(reason, ConnectionRefusedError):
        return HubError("connection refused", retry=True, reached=False)
    if isinstance(reason, socket.gaierror):
        return HubError(f"the hub's host name does not resolve ({reason.strerror})", retry=True, reached=False)
    if isinstance(reason, OSError):
        return HubError(f"the connection failed: {reason.strerror or reason}", retry=True)
    return HubError(f"the request failed: {reason}", retry=True)
