"""Edit-to-feed latency of ``mkfeeds serve`` (and of ``hugo server``, the yardstick).

``python benchmarks/latency.py N [--edits 9] [--all-feeds] [--hugo] [--workdir DIR]``

Generates (once, under ``benchmarks/.corpus/N/``, as ``run.py`` does) a corpus of N
articles, starts ``mkfeeds serve --port 0`` on it (main feed only unless ``--all-feeds``:
``taxonomies = []``, ``pages = false``, the peer of ``run.py --main-only``), waits for the
ready line, then, ``--edits`` times: rewrites the title of the article shown first in the
main feed (a plain write, as most editors save) and polls ``/rss.xml`` every 5 ms over one
kept-alive connection until the new title is served. The latency is from just before the write to
the response that shows it; the median, best and worst are printed.

With ``--hugo``, the same for ``hugo server`` on the corpus converted by ``hugo.py``, its
feed templates cut to the newest 50 entries (the peer of mkfeeds' default limit), editing
the same article's content file and polling its ``/rss.xml``. Hugo serves from memory
(``hugo server``'s default) with live reload off.

It prints figures and asserts nothing; it is not part of the test run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import hugo  # noqa: E402
from corpus import generate  # noqa: E402

BASE_URL = "https://bench.example.org/"
MAIN_ONLY = "taxonomies = []\npages = false\n"
WAIT_S = 600.0
POLL_S = 0.005  # between polls: a tight loop would take the server's CPU from the rebuild it waits for


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line.rstrip("\n"))


def _wait_line(lines: queue.Queue, pattern: str, timeout: float = WAIT_S) -> str:
    deadline = time.monotonic() + timeout
    while True:
        line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        if re.search(pattern, line):
            return line


def first_link(body: bytes) -> str:
    item = ET.fromstring(body).find("channel/item")
    assert item is not None, "the main feed is empty"
    return item.findtext("link") or ""


def find_article(corpus: Path, link: str) -> Path:
    needle = f'webUrl: "{link}"'
    for path in sorted(corpus.rglob("*.txt")):
        if needle in path.read_text(encoding="utf-8"):
            return path
    raise SystemExit(f"no article with webUrl {link}")


def poll_until(port: int, path: str, marker: bytes, started: float) -> float:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        while True:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            if marker in body:
                return time.perf_counter() - started
            if time.perf_counter() - started > WAIT_S:
                raise SystemExit("the change never showed")
            time.sleep(POLL_S)
    finally:
        conn.close()


def measure(port: int, edit, edits: int, settle: float) -> list[float]:
    """``edit(i)`` rewrites the article and returns the marker the feed will show."""
    took = []
    for i in range(edits):
        time.sleep(settle)  # a person does not save twice within a rebuild
        started = time.perf_counter()
        marker = edit(i)
        took.append(poll_until(port, "/rss.xml", marker, started))
    return took


def mkfeeds_latency(corpus: Path, work: Path, edits: int, all_feeds: bool) -> list[float]:
    for name in ("out", "state"):
        shutil.rmtree(work / name, ignore_errors=True)
    config = work / "bench.toml"
    config.write_text("" if all_feeds else MAIN_ONLY)
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkfeeds", "serve", "--config", str(config), "-i", str(corpus),
         "-o", str(work / "out"), "--cache", str(work / "state"), "--base-url", BASE_URL, "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=work)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    try:
        ready = _wait_line(lines, r"^Serving ")
        port = int(ready.split()[1].rsplit(":", 1)[1].rstrip("/"))
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/rss.xml")
        article = find_article(corpus, first_link(conn.getresponse().read()))
        conn.close()
        original = article.read_text(encoding="utf-8")

        def edit(i: int) -> bytes:
            title = f"Edited for the latency benchmark {i} {time.time_ns()}"
            article.write_text(re.sub(r'(?m)^title: .*$', f'title: "{title}"', original, count=1),
                               encoding="utf-8")
            return title.encode()

        try:
            return measure(port, edit, edits, settle=0.5)
        finally:
            article.write_text(original, encoding="utf-8")
    finally:
        proc.terminate()
        proc.wait(60)


def hugo_latency(exe: str, corpus: Path, work: Path, edits: int) -> list[float]:
    site = work / "hugo-site"
    hugo.write_site(corpus, site, "http://127.0.0.1/", taxonomies=False)
    for layout in (site / "layouts").rglob("index.*"):  # the newest 50, as mkfeeds' default limit
        layout.write_text(layout.read_text().replace("range $pages.ByDate.Reverse",
                                                     "range first 50 $pages.ByDate.Reverse")
                          .replace("range $i, $p := $pages.ByDate.Reverse",
                                   "range $i, $p := first 50 $pages.ByDate.Reverse"))
    port = _free_port()
    proc = subprocess.Popen(
        [exe, "server", "--source", str(site), "--bind", "127.0.0.1", "--port", str(port),
         "--baseURL", f"http://127.0.0.1:{port}/", "--appendPort=false", "--disableLiveReload",
         "--cacheDir", str(work / "hugo-cache")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=work)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    try:
        _wait_line(lines, r"Web Server is available")
        conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", "/rss.xml")
        link = first_link(conn.getresponse().read())
        conn.close()
        content = _hugo_file(site, link)
        original = content.read_text(encoding="utf-8")

        def edit(i: int) -> bytes:
            title = f"Edited for the latency benchmark {i} {time.time_ns()}"
            content.write_text(re.sub(r'"title": "(?:[^"\\]|\\.)*"', f'"title": "{title}"', original, count=1),
                               encoding="utf-8")
            return title.encode()

        try:
            return measure(port, edit, edits, settle=1.0)
        finally:
            content.write_text(original, encoding="utf-8")
    finally:
        proc.terminate()
        proc.wait(60)


def _hugo_file(site: Path, link: str) -> Path:
    needle = json.dumps(link)
    for path in sorted((site / "content" / "posts").rglob("*.md")):
        if needle in path.read_text(encoding="utf-8"):
            return path
    raise SystemExit(f"no Hugo content file links {link}")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _row(name: str, took: list[float]) -> str:
    ms = sorted(t * 1000 for t in took)
    return f"| {name} | {statistics.median(ms):.0f} | {ms[0]:.0f} | {ms[-1]:.0f} | {len(ms)} |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("n", type=int, help="articles in the corpus")
    ap.add_argument("--edits", type=int, default=9)
    ap.add_argument("--all-feeds", action="store_true", help="the default feed set (taxonomies), not the main feed alone")
    ap.add_argument("--hugo", action="store_true", help="also hugo server, when hugo is on PATH")
    ap.add_argument("--workdir", type=Path, default=HERE / ".latency")
    args = ap.parse_args(argv)
    corpus = HERE / ".corpus" / str(args.n)
    if not corpus.is_dir():
        generate(corpus, args.n)
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    rows = [_row(f"mkfeeds serve, {'all feeds' if args.all_feeds else 'main feed only'}",
                 mkfeeds_latency(corpus, work, args.edits, args.all_feeds))]
    exe = hugo.find_hugo()
    if args.hugo and exe:
        rows.append(_row(f"hugo server {hugo.hugo_version(exe)}, home feeds (newest 50)",
                         hugo_latency(exe, corpus, work, args.edits)))
    print(f"edit-to-feed latency, {args.n:,} articles (ms)\n")
    print("| server | median | best | worst | edits |\n|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
