"""The preview server: the output folder over HTTP, as a good feed host serves it.

Not a production server (it serves one folder to a few clients, for checking feeds in
browsers and readers), but correct where readers and browsers look: media types with a
charset, ``Accept`` negotiation (a browser asking for HTML first gets RSS and Atom as
``application/xml`` so the stylesheet applies), strong ETags from the bytes with a
``Last-Modified`` that changes whenever they do, ``304`` on ``If-None-Match`` and
``If-Modified-Since``, ``HEAD``, gzip, ``Cache-Control``, ``Vary``.

Only regular files under the output folder are served, through a path that names them
plainly: ``..`` (raw or percent-encoded), empty segments, backslashes, NUL, hidden names
(the manifest, the temp files of a build in progress) and symlinks leading out all get
404; a folder only through its ``index.html``. Each response is made from the bytes of
one open file read whole, and builds replace files by renaming a complete temp file
over them, so a reader polling during a rebuild gets the old feed or the new one, never
a torn one.

``respond`` is the whole of the HTTP behaviour and does no socket I/O; ``PreviewServer``
is ``http.server`` with a bounded pool of worker threads around it.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import socket
import stat
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import unquote_to_bytes

WORKERS = 16  # threads answering requests; more clients wait in the listen queue
IDLE_SECONDS = 5.0  # a kept-alive connection idle this long is closed, freeing its worker
GZIP_MIN_BYTES = 256  # smaller bodies gain nothing from gzip
MEMO_BYTES = 64 * 1024 * 1024  # file bytes (and their gzip) kept between requests

FEED_TYPES = {"rss": "application/rss+xml", "atom": "application/atom+xml", "json": "application/feed+json"}
SUFFIX_TYPES = {
    ".xml": "application/xml", ".json": "application/json", ".opml": "text/x-opml", ".xsl": "text/xsl",
    ".html": "text/html", ".htm": "text/html", ".css": "text/css", ".js": "text/javascript",
    ".txt": "text/plain", ".svg": "image/svg+xml",
}
TEXT_TYPES = ("text/", "application/xml", "application/json", "application/rss+xml", "application/atom+xml",
              "application/feed+json", "image/svg+xml", "text/javascript")

# Cache-Control. A feed may change at any build: readers should come back soon (and can
# do so cheaply, with the validators). With --watch it may change any second: always
# revalidate. A full RFC 5005 archive page (``<feed>/archive/<n>/`` when page n+1
# exists) is meant never to change: cache it for a year.
SHORT = "public, max-age=60"
WATCHING = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
ARCHIVE_PAGE = re.compile(r"^(?P<feed>(?:[^/]+/)*)archive/(?P<n>[1-9][0-9]*)/[^/]+$")


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class Variant:
    """One file's bytes as last read, with what a response needs of them."""

    data: bytes
    etag: str  # quoted, without the variant suffix
    last_modified: int  # seconds since the epoch
    gzipped: bytes | None = None


@dataclass
class Site:
    """The output folder as served: where it is, what each file name is, and what the
    server remembers of the files it has read (bounded)."""

    root: Path
    feed_files: Mapping[str, str] = field(default_factory=dict)  # file name -> format ("rss", ...)
    watching: bool = False
    _memo: OrderedDict[tuple[int, int, int, int], Variant] = field(default_factory=OrderedDict)
    _memo_bytes: int = 0
    _announced: dict[str, tuple[str, int]] = field(default_factory=dict)  # path -> (etag, Last-Modified)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.real_root = os.path.realpath(self.root)

    def media_type(self, name: str) -> str:
        fmt = self.feed_files.get(name)
        if fmt is not None:
            return FEED_TYPES[fmt]
        suffix = os.path.splitext(name)[1].lower()
        return SUFFIX_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"

    def cache_control(self, relative: str) -> str:
        """Long and immutable for a full archive page, else short (``no-cache`` while
        watching: the next edit may change anything)."""
        if self.watching:
            return WATCHING
        match = ARCHIVE_PAGE.match(relative)
        if match and os.path.isdir(os.path.join(self.real_root, match["feed"], "archive", str(int(match["n"]) + 1))):
            return IMMUTABLE
        return SHORT

    def variant(self, relative: str, fd: int) -> Variant:
        """The bytes of the open file ``fd``, read whole, with their validators. The
        Last-Modified date a path announces moves forward whenever its bytes change,
        even twice in one second, so it always agrees with the ETag."""
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            known = self._memo.get(key)
            if known is not None:
                self._memo.move_to_end(key)
                return known
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        data = b"".join(chunks)
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        modified = st.st_mtime_ns // 1_000_000_000
        zipped = gzip.compress(data, compresslevel=6, mtime=0) if len(data) >= GZIP_MIN_BYTES else None
        with self._lock:
            before = self._announced.get(relative)
            if before is not None and before[0] != etag and modified <= before[1]:
                modified = before[1] + 1
            elif before is not None and before[0] == etag:
                modified = before[1]
            self._announced[relative] = (etag, modified)
            found = Variant(data, etag, modified, zipped)
            self._memo[key] = found
            self._memo_bytes += len(data) + len(zipped or b"")
            while self._memo_bytes > MEMO_BYTES and len(self._memo) > 1:
                _, old = self._memo.popitem(last=False)
                self._memo_bytes -= len(old.data) + len(old.gzipped or b"")
        return found


def not_found() -> Response:
    body = b"404 Not Found\n"
    return Response(404, (("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))), body)


def _plain(status: HTTPStatus, extra: tuple[tuple[str, str], ...] = ()) -> Response:
    body = f"{status.value} {status.phrase}\n".encode()
    return Response(status.value, (("Content-Type", "text/plain; charset=utf-8"),
                                   ("Content-Length", str(len(body))), *extra), body)


def segments(target: str) -> list[str] | None:
    """The path of a request target as plain names, or None when it is anything but a
    plain path below the root: not starting with ``/`` (absolute URIs, ``*``), a ``..``
    or ``.`` segment (raw or encoded), an empty segment (``//etc``), a backslash, NUL
    or control character, a hidden name, or bytes that are not UTF-8. A trailing slash
    leaves an empty last name (a folder)."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return None
    try:
        decoded = unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ch == "\\" or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded):
        return None
    names = decoded[1:].split("/")
    for i, name in enumerate(names):
        if name == "" and i != len(names) - 1:
            return None
        if name.startswith("."):  # "..", ".", and hidden files such as the manifest
            return None
    return names


def _open_inside(site: Site, names: list[str]) -> tuple[int, str] | None:
    """An open descriptor of the regular file the names lead to, and its path relative
    to the root, if it lies inside the root once symlinks are followed; a folder gives
    its index.html."""
    relative = "/".join(names)
    path = os.path.join(site.real_root, *names) if relative else site.real_root
    real = os.path.realpath(path)
    if real != site.real_root and not real.startswith(site.real_root + os.sep):
        return None  # a symlink leading out
    if any(name.startswith(".") for name in real[len(site.real_root):].split(os.sep)):
        return None  # a symlink to a hidden file inside
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode) and names[-1] == "":
            os.close(fd)
            return _open_inside(site, [*names[:-1], "index.html"])
        if stat.S_ISREG(mode) and names[-1] != "":
            return fd, relative
    except OSError:
        pass
    os.close(fd)
    return None


def _is_folder_with_index(site: Site, names: list[str]) -> bool:
    real = os.path.realpath(os.path.join(site.real_root, *names))
    if not real.startswith(site.real_root + os.sep):
        return False
    return os.path.isdir(real) and os.path.isfile(os.path.join(real, "index.html"))


def _media_ranges(header: str | None) -> list[tuple[str, float]]:
    ranges = []
    for part in (header or "").split(","):
        pieces = part.strip().split(";")
        media_range = pieces[0].strip().lower()
        if not media_range:
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        ranges.append((media_range, quality))
    return ranges


def _quality(ranges: list[tuple[str, float]], media_type: str, *, exact: bool = False) -> float:
    """How much ``Accept`` wants ``media_type``: the q of the most specific range that
    matches (``exact``: only a range naming it)."""
    major = media_type.split("/")[0]
    best, rank = 0.0, -1
    for media_range, quality in ranges:
        specificity = 2 if media_range == media_type else 1 if media_range == major + "/*" else 0 if media_range == "*/*" else -1
        if specificity < 0 or (exact and specificity != 2):
            continue
        if specificity > rank:
            best, rank = quality, specificity
    return best


def prefers_html(accept: str | None, media_type: str) -> bool:
    """A browser: it names ``text/html`` and wants it more than the feed's own type
    (which it reaches only through ``*/*``). A reader naming the feed type as high, or
    a client sending ``*/*`` alone, gets the feed type."""
    ranges = _media_ranges(accept)
    html = _quality(ranges, "text/html", exact=True)
    return html > 0 and html > _quality(ranges, media_type)


def accepts_gzip(header: str | None) -> bool:
    for media_range, quality in _media_ranges(header):
        if media_range in ("gzip", "x-gzip", "*"):
            return quality > 0
    return False


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: ``W/`` is ignored."""
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _not_modified_since(header: str, last_modified: int) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        return False
    return last_modified <= since.timestamp()


def respond(site: Site, method: str, target: str, headers: Mapping[str, str]) -> Response:
    """The response to one request (``headers`` looked up case-insensitively by the caller)."""
    if method not in ("GET", "HEAD"):
        return _plain(HTTPStatus.METHOD_NOT_ALLOWED, (("Allow", "GET, HEAD"),))
    names = segments(target)
    if names is None:
        return not_found()
    opened = _open_inside(site, names)
    if opened is None:
        if names[-1] != "" and _is_folder_with_index(site, names):
            location = target.split("?", 1)[0] + "/"
            return _plain(HTTPStatus.MOVED_PERMANENTLY, (("Location", location),))
        return not_found()
    fd, relative = opened
    try:
        found = site.variant(relative, fd)
    finally:
        os.close(fd)
    media_type = site.media_type(os.path.basename(relative))
    suffix = ""
    if media_type in (FEED_TYPES["rss"], FEED_TYPES["atom"]) and prefers_html(headers.get("accept"), media_type):
        media_type, suffix = "application/xml", "-xml"
    body = found.data
    zipped = found.gzipped is not None and accepts_gzip(headers.get("accept-encoding"))
    if zipped:
        assert found.gzipped is not None
        body, suffix = found.gzipped, suffix + "-gzip"
    etag = found.etag[:-1] + suffix + '"'
    content_type = media_type + ("; charset=utf-8" if media_type.startswith(TEXT_TYPES) else "")
    common = (("ETag", etag), ("Last-Modified", formatdate(found.last_modified, usegmt=True)),
              ("Cache-Control", site.cache_control(relative)), ("Vary", "Accept, Accept-Encoding"))
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        fresh = _etag_matches(if_none_match, etag)
    else:
        since = headers.get("if-modified-since")
        fresh = since is not None and _not_modified_since(since, found.last_modified)
    if fresh:
        return Response(304, common)
    entity = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if zipped:
        entity.append(("Content-Encoding", "gzip"))
    return Response(200, (*entity, *common, ("X-Content-Type-Options", "nosniff")),
                    b"" if method == "HEAD" else body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a reader polling reuses its connection
    timeout = IDLE_SECONDS
    server: PreviewServer

    def do_GET(self) -> None:
        self._answer()

    def do_HEAD(self) -> None:
        self._answer()

    def _answer(self) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = respond(self.server.site, self.command, self.path, headers)
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)

    def _refuse(self) -> None:
        self._answer()  # ``respond`` answers any method but GET and HEAD with 405

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.log is not None:
            status = code.value if isinstance(code, HTTPStatus) else code
            self.server.log(f'{self.address_string()} "{self.requestline}" {status}')

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass  # errors and requests are told through ``log_request`` only, and only with -v

    def version_string(self) -> str:
        from mkfeeds import __version__

        return f"mkfeeds/{__version__} (preview)"


class PreviewServer(HTTPServer):
    """``http.server`` answering on a bounded pool of threads (``WORKERS``)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: Site, log: Callable[[str], None] | None = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.site, self.log = site, log
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="mkfeeds-http")
        super().__init__(address, _Handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]  # typeshed: the request is socket | tuple, the address Any
        self.pool.submit(self._answer, request, client_address)

    def _answer(self, request: socket.socket, client_address: object) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # a client that went away mid-answer: nothing to tell
            pass
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.shutdown(wait=False, cancel_futures=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{name}]" if ":" in name else name
        return f"http://{shown}:{port}/"


def is_loopback(address: str) -> bool:
    """Whether binding ``address`` keeps the server on this machine."""
    import ipaddress

    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
