"""`mkfeeds serve`: the output folder over real HTTP on 127.0.0.1, as feed readers and
browsers expect it, and the watch loop that rebuilds it. Each test starts the command
as a subprocess with `--port 0` and reads the port from its ready line."""

from __future__ import annotations

import gzip
import http.client
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from email.utils import formatdate
from pathlib import Path
from typing import Iterator

import pytest

from conftest import article_text, write_tree
from feedcheck import check_atom, check_rss

WAIT = 60.0  # seconds: a safety net for a stuck server, never a speed requirement
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
READER = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"


def articles(n: int = 3, title: str = "Story") -> dict[str, str]:
    return {f"in/{i:03d}.md": article_text(
        f"Body of story {i}.\n", title=f"{title} {i}", webUrl=f"https://news.example.org/{i}",
        publishedDateTime=f"2024-03-{i + 1:02d}T10:00:00Z") for i in range(n)}


class Server:
    """A running `mkfeeds serve`, its stdout read line by line as it comes."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.cwd = cwd
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mkfeeds", "serve", "-i", "in", "-o", "out", "--cache", "state",
             "--base-url", "https://feeds.example.org/", "--port", "0", "-j", "1", *args],
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()
        ready = self.wait_for("Serving ")
        self.url = ready.split()[1]
        assert self.url.startswith("http://127.0.0.1:") and self.url.endswith("/")
        self.port = int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip("\n"))

    def wait_for(self, start: str) -> str:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line starting {start!r}; stdout: {self.seen}; stderr: {self.stderr}")
            self.seen.append(line)
            if line.startswith(start):
                return line

    def wait_for_stderr(self, *parts: str) -> str:
        deadline = time.monotonic() + WAIT
        while True:
            for line in list(self.stderr):
                if all(part in line for part in parts):
                    return line
            assert time.monotonic() < deadline, f"no {parts} on stderr: {self.stderr}"
            time.sleep(0.02)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)

    def get(self, path: str, method: str = "GET", **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
        conn = self.connection()
        try:
            conn.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
            response = conn.getresponse()
            return response, response.read()
        finally:
            conn.close()

    def raw(self, request_line: bytes) -> int:
        """The status for a request line sent byte for byte (no client normalises it)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=WAIT) as sock:
            sock.sendall(request_line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        return int(data.split(b" ", 2)[1])

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=WAIT)
        time.sleep(0.05)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code


@pytest.fixture
def serve(tmp_path: Path) -> Iterator:
    started: list[Server] = []

    def start(*args: str, files: dict[str, str] | None = None) -> Server:
        write_tree(tmp_path, files if files is not None else articles())
        server = Server(tmp_path, *args)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait()


# -- the command ----------------------------------------------------------------------

def test_it_builds_then_prints_one_ready_line_and_stops_cleanly_on_ctrl_c(serve, tmp_path: Path):
    server = serve("--no-watch")
    assert (tmp_path / "out" / "rss.xml").is_file()
    response, _ = server.get("/rss.xml")
    assert response.status == 200
    assert server.stop() == 0
    assert [line for line in server.seen if line.startswith("Serving")] == [f"Serving {server.url} ... (Ctrl-C to stop)"]
    assert not any("/rss.xml" in line for line in server.seen), "requests are listed only with -v"
    assert "mkfeeds: stopped" in server.stderr


def test_verbose_lists_each_request(serve):
    server = serve("--no-watch", "-v")
    server.get("/atom.xml")
    server.stop()
    assert any('"GET /atom.xml HTTP/1.1" 200' in line for line in server.seen)


def test_a_port_in_use_is_a_clear_error(serve, tmp_path: Path):
    server = serve("--no-watch")
    second = subprocess.run([sys.executable, "-m", "mkfeeds", "serve", "-i", "in", "-o", "out2", "--no-cache",
                             "--port", str(server.port)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=WAIT)
    assert second.returncode == 2
    assert f"cannot listen on 127.0.0.1 port {server.port}" in second.stderr
    assert "--port 0 for a free one" in second.stderr
    assert not (tmp_path / "out2").exists(), "nothing is built when it cannot serve"


def test_binding_beyond_loopback_warns_that_it_is_a_preview_server(tmp_path: Path):
    """Only loopback is this machine: any other address gets a warning on stderr."""
    write_tree(tmp_path, articles())
    proc = subprocess.Popen([sys.executable, "-m", "mkfeeds", "serve", "-i", "in", "-o", "out", "--no-cache",
                             "--bind", "0.0.0.0", "--port", "0", "--no-watch"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert any(line.startswith("Serving http://0.0.0.0:") for line in iter(proc.stdout.readline, ""))
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=WAIT)
    assert "warning: serving on 0.0.0.0, beyond this machine: this is a preview server, not a production one" in err
    quiet = Server(tmp_path, "--no-watch")
    quiet.stop()
    assert not any("beyond this machine" in line for line in quiet.stderr)


def test_only_loopback_addresses_count_as_this_machine():
    from mkfeeds.serve import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("127.0.0.2") and is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.0.2.1") and not is_loopback("::")


# -- HTTP as readers and browsers expect it -----------------------------------------------

@pytest.mark.parametrize("path, media_type", [
    ("/rss.xml", "application/rss+xml"), ("/atom.xml", "application/atom+xml"),
    ("/feed.json", "application/feed+json"), ("/feeds.opml", "text/x-opml"), ("/feed.xsl", "text/xsl"),
    ("/index.html", "text/html"), ("/", "text/html"), ("/topics/ai/rss.xml", "application/rss+xml"),
])
def test_each_kind_of_file_has_its_media_type_with_a_charset(serve, path: str, media_type: str):
    server = serve("--no-watch")
    response, body = server.get(path, Accept=READER)
    assert response.status == 200
    assert response.headers["Content-Type"] == f"{media_type}; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(body) > 0
    assert response.headers["Vary"] == "Accept, Accept-Encoding"


def test_a_browser_gets_rss_and_atom_as_xml_so_the_stylesheet_applies(serve):
    server = serve("--no-watch")
    for path, own in (("/rss.xml", "application/rss+xml"), ("/atom.xml", "application/atom+xml")):
        browser, browser_body = server.get(path, Accept=BROWSER)
        reader, reader_body = server.get(path, Accept=READER)
        bare, _ = server.get(path)
        anything, _ = server.get(path, Accept="*/*")
        assert browser.headers["Content-Type"] == "application/xml; charset=utf-8"
        assert reader.headers["Content-Type"] == f"{own}; charset=utf-8"
        assert bare.headers["Content-Type"] == reader.headers["Content-Type"]
        assert anything.headers["Content-Type"] == reader.headers["Content-Type"]
        assert browser_body == reader_body
        assert browser.headers["ETag"] != reader.headers["ETag"], "two representations, two tags"
    json_response, _ = server.get("/feed.json", Accept=BROWSER)
    assert json_response.headers["Content-Type"] == "application/feed+json; charset=utf-8"


def test_validators_give_304_for_if_none_match_and_if_modified_since(serve):
    server = serve("--no-watch")
    first, body = server.get("/rss.xml")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again, again_body = server.get("/rss.xml", If_None_Match=etag)
    assert again.status == 304 and again_body == b""
    assert again.headers["ETag"] == etag
    assert server.get("/rss.xml", If_None_Match='"other", ' + etag)[0].status == 304
    assert server.get("/rss.xml", If_None_Match='"other"')[0].status == 200
    assert server.get("/rss.xml", If_Modified_Since=modified)[0].status == 304
    long_ago = formatdate(0, usegmt=True)
    assert server.get("/rss.xml", If_Modified_Since=long_ago)[0].status == 200
    assert server.get("/rss.xml", If_None_Match='"other"', If_Modified_Since=modified)[0].status == 200, \
        "If-None-Match wins over If-Modified-Since"


def test_head_gives_the_headers_of_get_and_no_body(serve):
    server = serve("--no-watch")
    get, body = server.get("/atom.xml")
    head, head_body = server.get("/atom.xml", method="HEAD")
    assert head.status == 200 and head_body == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control", "Vary"):
        assert head.headers[name] == get.headers[name]
    assert int(head.headers["Content-Length"]) == len(body)
    assert server.get("/atom.xml", method="POST")[0].status == 405


def test_gzip_when_the_client_accepts_it(serve):
    server = serve("--no-watch")
    plain, body = server.get("/rss.xml")
    zipped, zipped_body = server.get("/rss.xml", Accept_Encoding="gzip, deflate")
    refused, refused_body = server.get("/rss.xml", Accept_Encoding="gzip;q=0, identity")
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped_body) == body
    assert int(zipped.headers["Content-Length"]) == len(zipped_body) < len(body)
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert server.get("/rss.xml", Accept_Encoding="gzip", If_None_Match=zipped.headers["ETag"])[0].status == 304
    assert "Content-Encoding" not in refused.headers and refused_body == body


def test_cache_control_is_short_for_feeds_and_immutable_for_full_archive_pages(serve, tmp_path: Path):
    server = serve("--no-watch")
    write_tree(tmp_path / "out", {"archive/1/rss.xml": "<rss/>", "archive/2/rss.xml": "<rss/>"})
    assert server.get("/rss.xml")[0].headers["Cache-Control"] == "public, max-age=60"
    assert server.get("/archive/1/rss.xml")[0].headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert server.get("/archive/2/rss.xml")[0].headers["Cache-Control"] == "public, max-age=60", \
        "the newest page still fills up"


def test_while_watching_everything_is_revalidated(serve):
    server = serve()
    assert server.get("/rss.xml")[0].headers["Cache-Control"] == "no-cache"


# -- only the files of the output folder ---------------------------------------------------

def test_paths_that_leave_the_output_folder_are_not_found(serve, tmp_path: Path):
    server = serve("--no-watch")
    (tmp_path / "secret.txt").write_text("private")
    os.symlink(tmp_path / "secret.txt", tmp_path / "out" / "escape.xml")
    os.symlink(tmp_path, tmp_path / "out" / "up")
    os.symlink(tmp_path / "out" / ".mkfeeds-manifest.json", tmp_path / "out" / "manifest.json")
    assert server.raw(b"GET /rss.xml HTTP/1.1") == 200
    for target in [b"/../secret.txt", b"/%2e%2e/secret.txt", b"/%2E%2E/secret.txt", b"/topics/%2e%2e/%2e%2e/secret.txt",
                   b"/..%2fsecret.txt", b"/..%5csecret.txt", b"/..\\secret.txt", b"/topics\\..\\..\\secret.txt",
                   b"//etc/passwd", b"/%2fetc/passwd", b"http://127.0.0.1/../secret.txt", b"secret.txt",
                   b"/escape.xml", b"/up/secret.txt", b"/manifest.json", b"/rss.xml%00.html", b"/%ff.xml",
                   b"/./rss.xml"]:
        assert server.raw(b"GET " + target + b" HTTP/1.1") == 404, target


def test_hidden_files_are_never_served(serve, tmp_path: Path):
    server = serve("--no-watch")
    assert (tmp_path / "out" / ".mkfeeds-manifest.json").is_file()
    write_tree(tmp_path / "out", {".rss.xml.abc.tmp": "<half", "topics/.hidden/rss.xml": "<rss/>"})
    for target in ("/.mkfeeds-manifest.json", "/%2emkfeeds-manifest.json", "/.rss.xml.abc.tmp",
                   "/topics/.hidden/rss.xml"):
        assert server.get(target)[0].status == 404, target


def test_a_folder_is_served_only_through_its_index_page(serve, tmp_path: Path):
    server = serve("--no-watch")
    write_tree(tmp_path / "out", {"sub/index.html": "<!doctype html><title>sub</title>", "bare/rss.xml": "<rss/>"})
    response, body = server.get("/sub/")
    assert response.status == 200 and body == b"<!doctype html><title>sub</title>"
    moved, _ = server.get("/sub?x=1")
    assert moved.status == 301 and moved.headers["Location"] == "/sub/"
    assert server.get("/bare/")[0].status == 404
    assert server.get("/bare")[0].status == 404
    assert server.get("/rss.xml/")[0].status == 404
    assert server.get("/missing.xml")[0].status == 404


def test_many_clients_at_once_all_get_whole_feeds(serve):
    server = serve("--no-watch")
    _, expected = server.get("/rss.xml")
    failures: list[str] = []

    def client() -> None:
        conn = server.connection()
        try:
            for _ in range(10):
                conn.request("GET", "/rss.xml")
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or body != expected:
                    failures.append(f"{response.status} {len(body)}")
        except OSError as exc:
            failures.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(40)]  # more clients than workers
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert failures == []


# -- --watch ------------------------------------------------------------------------------

def _titles(body: bytes) -> list[str]:
    return [item.findtext("title") or "" for item in ET.fromstring(body).iter("item")]


def test_an_edit_while_a_reader_polls_shows_up_and_no_poll_is_torn(serve, tmp_path: Path):
    server = serve()
    stop = threading.Event()
    seen: list[bytes] = []
    problems: list[str] = []

    def poll() -> None:
        conn = server.connection()
        while not stop.is_set():
            conn.request("GET", "/rss.xml", headers={"Accept-Encoding": "gzip"})
            response = conn.getresponse()
            body = gzip.decompress(response.read())
            try:
                ET.fromstring(body)
            except ET.ParseError as exc:
                problems.append(f"torn: {exc}")
            seen.append(body)
        conn.close()

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        for edit in range(3):
            (tmp_path / "in" / "001.md").write_text(article_text(
                "Edited.\n", title=f"Edited {edit}", webUrl="https://news.example.org/1",
                publishedDateTime="2024-03-02T10:00:00Z"))
            line = server.wait_for("mkfeeds: in/001.md changed")
            assert "files written in ./, " in line and line.endswith(" ms)")
            response, body = server.get("/rss.xml")
            assert f"Edited {edit}" in _titles(body)
        deadline = time.monotonic() + WAIT
        while not any(b"Edited 2" in body for body in seen[-5:]) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        poller.join(WAIT)
    assert problems == []
    assert any(b"Edited 2" in body for body in seen), "the poller saw the last edit"
    final = server.get("/rss.xml")[1]
    assert check_rss(final) == [] and check_atom(server.get("/atom.xml")[1]) == []


def test_a_new_folder_a_new_article_in_it_and_a_deleted_article_are_all_seen(serve, tmp_path: Path):
    server = serve()
    (tmp_path / "in" / "new").mkdir()
    server.wait_for("mkfeeds: in/new changed")
    (tmp_path / "in" / "new" / "009.md").write_text(article_text(
        title="Brand new", webUrl="https://news.example.org/9", publishedDateTime="2024-04-01T10:00:00Z"))
    server.wait_for("mkfeeds: in/new/009.md changed")
    assert _titles(server.get("/rss.xml")[1])[0] == "Brand new"
    (tmp_path / "in" / "000.md").unlink()
    server.wait_for("mkfeeds: in/000.md changed")
    assert "Story 0" not in _titles(server.get("/rss.xml")[1])


def test_a_broken_edit_keeps_the_last_good_feeds_and_fixing_it_recovers(serve, tmp_path: Path):
    server = serve()
    before = server.get("/rss.xml")[1]
    (tmp_path / "in" / "002.md").write_text("---\ntitle: [unclosed\n---\n")
    line = server.wait_for("mkfeeds: in/002.md changed")
    assert "not published" in line and "still serving the last good feeds" in line
    assert server.wait_for_stderr("in/002.md:", ": error: ").startswith("in/002.md:")
    assert server.get("/rss.xml")[1] == before
    (tmp_path / "in" / "002.md").write_text(article_text(
        title="Fixed story", webUrl="https://news.example.org/2", publishedDateTime="2024-03-03T10:00:00Z"))
    line = server.wait_for("mkfeeds: in/002.md changed")
    assert "files written in ./" in line and "not published" not in line
    assert "Fixed story" in _titles(server.get("/rss.xml")[1])


def test_a_config_change_rebuilds_and_a_broken_config_keeps_serving(serve, tmp_path: Path):
    server = serve()
    (tmp_path / "mkfeeds.toml").write_text('title = "Renamed desk"\n')
    server.wait_for("mkfeeds: the config or the clock changed")
    channel = ET.fromstring(server.get("/rss.xml")[1]).find("channel")
    assert channel is not None and channel.findtext("title") == "Renamed desk"
    (tmp_path / "mkfeeds.toml").write_text('title = "Broken\n')
    line = server.wait_for_stderr("still serving the last good feeds")
    assert line.startswith("mkfeeds: error: mkfeeds.toml: invalid TOML")
    channel = ET.fromstring(server.get("/rss.xml")[1]).find("channel")
    assert channel is not None and channel.findtext("title") == "Renamed desk"


def test_the_listing_kept_from_the_watchers_paths_is_what_listing_the_folder_gives(tmp_path: Path, make_settings):
    from mkfeeds.source import discover
    from mkfeeds.watch import Listing

    root = write_tree(tmp_path / "in", {"a.md": "x", "b/c.txt": "x", "b/d.md": "x", "notes.rst": "x"})
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "out.md").write_text("x")
    listing = Listing.of(make_settings())
    changed = {
        "a.md": lambda p: p.write_text("edited, longer"),
        "b/d.md": lambda p: p.unlink(),
        "b/e.md": lambda p: p.write_text("new"),
        ".hidden.md": lambda p: p.write_text("x"),
        "b/backup.md~": lambda p: p.write_text("x"),
        "b/4913": lambda p: p.write_text("x"),  # an editor probing the folder
        "inside.md": lambda p: os.symlink(root / "a.md", p),
        "outside.md": lambda p: os.symlink(tmp_path / "elsewhere" / "out.md", p),
        "linked": lambda p: os.symlink(tmp_path / "elsewhere", p),
        "linked/out.md": lambda p: None,  # a watcher that follows the folder link names it
    }
    for rel, change in changed.items():
        change(root / rel)
    assert listing.update(str(root / rel) for rel in changed)
    assert listing.sources == discover(root)
    shutil.rmtree(root / "b")
    assert not listing.update([str(root / "b")]), "a folder that went: list again"


def test_last_modified_moves_with_the_etag_even_within_one_second(serve, tmp_path: Path):
    server = serve()
    for edit in range(2):
        before, _ = server.get("/rss.xml")
        (tmp_path / "in" / "001.md").write_text(article_text(
            title=f"Quick edit {edit}", webUrl="https://news.example.org/1", publishedDateTime="2024-03-02T10:00:00Z"))
        server.wait_for("mkfeeds: in/001.md changed")
        after, _ = server.get("/rss.xml", If_Modified_Since=before.headers["Last-Modified"])
        assert after.status == 200, "new bytes are never 'not modified since' the old ones"
        assert after.headers["ETag"] != before.headers["ETag"]
        assert after.headers["Last-Modified"] != before.headers["Last-Modified"]
