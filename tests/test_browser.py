"""End to end in a real browser: headless Chromium loads index.html and the feeds (which
it renders through feed.xsl) from a local HTTP server, and the tests read the resulting
DOM the way a person reads the page.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped where it is absent. XSLT
only runs over http(s), not file://, hence the server. The server sends feeds as
``application/xml``, as most static hosts do: Chromium applies the stylesheet only to
XML media types and shows ``application/rss+xml``/``application/atom+xml`` as plain
text, and Firefox offers those for download.

Browsers are retiring XSLT (Chromium shows a deprecation banner from M143 and is
disabling it by default from M155; Firefox and WebKit plan the same). A probe page tells
"this browser has no XSLT" (skip, with the reason) from "our stylesheet is broken" (fail).

Set ``MKFEEDS_SCREENSHOTS=<folder>`` to also save a screenshot of every page.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import lxml.html
import pytest

from test_pages import BASE, HOSTILE, SITE, write_site

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not installed (Debian package 'chromium', installed by .ci/run): "
           "browser tests skipped")

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--mute-audio")
PAGES = ("index.html", "rss.xml", "atom.xml", "topics/ai/rss.xml", "_probe.xml", "topics/ai/index.html?probe",
         "index.html?probe")
TIMEOUT = 60  # seconds for all pages together; they load in parallel, ~3 s in practice

PROBE_XML = b"""<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="_probe.xsl"?>
<probe/>
"""
PROBE_XSL = b"""<?xml version="1.0"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="html"/>
<xsl:template match="/"><html><body><p id="probe">XSLT works</p></body></html></xsl:template>
</xsl:stylesheet>
"""


# Added to an HTML page served with ``?probe`` (never to the files): it records in the DOM
# what a person sees at the centre of the title and whether the Copy buttons show.
PROBE_SCRIPT = b"""<script>
addEventListener("load", () => {
  const h1 = document.querySelector("h1"), box = h1.getBoundingClientRect();
  const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  document.documentElement.dataset.titleCoveredBy = top && top.closest("h1") ? "" : (top ? top.tagName : "nothing");
  document.documentElement.dataset.copyButtons = [...document.querySelectorAll("button[data-copy]")]
    .filter(b => !b.hidden).length;
});
</script>"""


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {".html": "text/html; charset=utf-8", ".xml": "application/xml",
                      ".xsl": "application/xml", ".json": "application/feed+json",
                      ".opml": "text/x-opml"}

    def do_GET(self):  # noqa: N802 - http.server's name
        if not self.path.endswith("?probe"):
            return super().do_GET()
        page = Path(self.translate_path(self.path.removesuffix("?probe"))).read_bytes()
        page = page.replace(b"</body>", PROBE_SCRIPT + b"</body>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, format, *args):  # noqa: A002 - keep test output clean
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a browser hanging up early: not ours
        pass


@pytest.fixture(scope="module")
def site():
    with tempfile.TemporaryDirectory(prefix="mkfeeds-browser-") as folder:
        root = Path(folder, "out")
        root.mkdir()
        models = write_site(root)
        (root / "_probe.xml").write_bytes(PROBE_XML)
        (root / "_probe.xsl").write_bytes(PROBE_XSL)
        server = _Server(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "tmp": Path(folder), **models}
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def doms(site) -> dict[str, str]:
    """Every page's DOM after load (and after XSLT), fetched by parallel Chromiums."""
    shots = os.environ.get("MKFEEDS_SCREENSHOTS")
    running = {}
    for page in PAGES:
        profile = site["tmp"] / ("profile-" + page.replace("/", "-").replace("?", "-"))
        command = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom",
                   site["url"] + page]
        running[page] = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            shot = Path(shots, page.replace("/", "-").replace("?", "-") + ".png").resolve()
            subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}-shot", "--window-size=1000,1600",
                              f"--screenshot={shot}", site["url"] + page],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = {}
    try:
        for page, process in running.items():
            out, err = process.communicate(timeout=TIMEOUT)
            assert process.returncode == 0 and out.strip(), f"chromium failed on {page}: {err[-2000:]}"
            results[page] = out
    finally:
        for process in running.values():
            if process.poll() is None:
                process.kill()
    return results


@pytest.fixture(scope="module")
def xslt(doms) -> None:
    """Skip the feed pages when this browser no longer runs XSLT at all."""
    if "XSLT works" not in doms["_probe.xml"]:
        version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
        pytest.skip(f"{version or 'chromium'} does not apply XSLT stylesheets any more "
                    "(browsers are retiring XSLT); the feeds are unaffected, only their browser view")


def page_of(dom: str) -> lxml.html.HtmlElement:
    doc = lxml.html.document_fromstring(dom)
    for banner in doc.xpath("//xslt-warning-banner"):  # Chromium's XSLT deprecation notice
        banner.drop_tree()
    return doc


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def test_index_page(site, doms):
    doc = page_of(doms["index.html"])
    main = site["main"]
    assert [text_of(h) for h in doc.xpath("//h1")] == [main.meta.title]
    assert [(link.get("type"), link.get("href")) for link in doc.xpath("//head/link[@rel='alternate']")] == [
        ("application/rss+xml", f"{BASE}rss.xml"), ("application/atom+xml", f"{BASE}atom.xml"),
        ("application/feed+json", f"{BASE}feed.json")]
    rows = doc.xpath("//tbody/tr")
    assert [text_of(row.xpath("th")[0]) for row in rows] == [
        f"{main.meta.title} {main.meta.description}", "Tide Times: AI Entries about AI"]
    assert [row.xpath("th/a/@href") for row in rows] == [["#latest"], ["topics/ai/index.html"]]
    assert [[a.get("href") for a in row.xpath("td//a")] for row in rows] == [
        ["rss.xml", "atom.xml", "feed.json"], ["topics/ai/rss.xml", "topics/ai/atom.xml", "topics/ai/feed.json"]]
    assert [text_of(row.xpath("td")[-1]) for row in rows] == [str(len(main.entries)), "2"]
    snippet = doc.xpath("//pre/code")[0].text_content()
    assert snippet.count('<link rel="alternate"') == 3 and f'href="{BASE}atom.xml"' in snippet
    assert "Subscribe" in text_of(doc.find("body"))


@pytest.mark.parametrize("page", ["rss.xml", "atom.xml"])
def test_feed_renders_as_a_readable_page(site, doms, xslt, page):
    doc = page_of(doms[page])
    main = site["main"]
    body = text_of(doc.find("body"))
    assert doc.xpath("//h1"), f"{page} was not transformed: {doms[page][:300]}"
    assert [text_of(h) for h in doc.xpath("//h1")] == [main.meta.title]
    assert main.meta.description in body
    assert "This is a web feed" in body and "copy this URL into your feed reader" in body
    assert doc.xpath("//section[@class='about']//code")[0].text_content() == BASE + page
    assert doc.xpath("//header//a/@href") == [SITE, "index.html"]  # the site, and the feed's own page

    articles = doc.xpath("//ol[@class='entries']/li/article")
    assert [text_of(a.xpath("h3")[0]) for a in articles] == [e.title for e in main.entries]
    assert [a.xpath("h3/a/@href") for a in articles] == [[e.url] for e in main.entries]
    for article, entry in zip(articles, main.entries):
        assert article.xpath(".//time/@datetime") == [entry.published.isoformat()]
        assert f"by {entry.author.name}" in text_of(article)
    # The hostile entry (last) is shown as the text it is, never run.
    assert not doc.xpath("//script | //img | //iframe")
    assert HOSTILE in text_of(articles[-1].xpath("h3")[0])
    assert text_of(articles[-1].xpath(".//p[@class='summary']")[0]).startswith(HOSTILE)


def test_nested_feed_finds_the_stylesheet_two_folders_up(site, doms, xslt):
    doc = page_of(doms["topics/ai/rss.xml"])
    assert [text_of(h) for h in doc.xpath("//h1")] == ["Tide Times: AI"]
    assert len(doc.xpath("//ol[@class='entries']/li")) == 2
    assert doc.xpath("//section[@class='about']//code")[0].text_content() == f"{BASE}topics/ai/rss.xml"


@pytest.mark.parametrize("page", ["topics/ai/index.html", "index.html"])
def test_html_pages_show_entries_and_subscribe_urls_with_nothing_over_the_title(site, doms, page):
    """The feeds' HTML pages need no XSLT: what a person sees, read from the DOM Chromium
    built, with a probe (added by the test server only) that asks what is drawn at the
    centre of the title."""
    dom = doms[page + "?probe"]
    doc = lxml.html.document_fromstring(dom)
    feed, folder = (site["topic"], "topics/ai/") if page != "index.html" else (site["main"], "")
    assert [text_of(h) for h in doc.xpath("//h1")] == [feed.meta.title]
    assert doc.get("data-title-covered-by") == "", f"the title is covered by {doc.get('data-title-covered-by')}"
    assert not doc.xpath("//xslt-warning-banner")
    assert [text_of(a) for a in doc.xpath("//ol[@class='entries']//h3")] == [e.title for e in feed.entries]
    assert [f.get("value") for f in doc.xpath("//section[@aria-labelledby='subscribe']//input")] == [
        f"{BASE}{folder}rss.xml", f"{BASE}{folder}atom.xml", f"{BASE}{folder}feed.json"]
    assert doc.get("data-copy-buttons") == "3"  # the clipboard works on http://127.0.0.1: the buttons show
    # The hostile entry of the main feed is text on the page, never markup.
    assert not doc.xpath("//iframe | //img[@src='x']")
    if page == "index.html":
        assert HOSTILE in text_of(doc.xpath("//ol[@class='entries']//h3")[-1])
        assert doc.xpath("//tbody/tr/th/a/@href") == ["#latest", "topics/ai/index.html"]
    else:
        assert doc.xpath("//header//a[text()='All feeds']/@href") == ["../../index.html"]
