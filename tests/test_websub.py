"""WebSub: every feed names its hubs beside its self URL, in the three formats, validly;
``mkfeeds ping`` and ``mkfeeds build --ping`` tell a real hub (a threaded http.server on
127.0.0.1, started by the test) of exactly the feeds whose bytes changed, one exact POST
per feed, trying a failing hub again and keeping what failed for the next ping."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import feedparser
import pytest
from click.testing import CliRunner
from conftest import article_text, write_tree
from feedcheck import check_atom, check_jsonfeed, check_rss
from lxml import etree

from mkfeeds.cli import cli

BASE = "https://feeds.example.org/"
MAIN = [BASE + "atom.xml", BASE + "feed.json", BASE + "rss.xml"]
ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)


class Hub:
    """A WebSub hub on loopback that records every request and answers as told:
    ``answers`` is consumed one per request (a status code, or "hang": never answer),
    then every request gets ``then``."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.answers: list[int | str] = []
        self.then: int | str = 204
        self.release = threading.Event()  # lets a hanging handler go when the test ends
        self._lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with hub._lock:
                    hub.requests.append(Request(self.command, self.path,
                                                {k.lower(): v for k, v in self.headers.items()}, body))
                    answer = hub.answers.pop(0) if hub.answers else hub.then
                if answer == "hang":
                    hub.release.wait(30)
                    self.close_connection = True
                    return
                assert isinstance(answer, int)
                self.send_response(answer)
                if 300 <= answer < 400:
                    self.send_header("Location", "https://elsewhere.example/hub")
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = do_PUT = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hub"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def topics(self) -> list[str]:
        return sorted(dict(r.form)["hub.url"] for r in self.requests)

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def hub():
    running = Hub()
    running.thread.start()
    yield running
    running.stop()


def closed_port() -> int:
    """A loopback port nothing listens on: a connection to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config(head: str = "", **extra: str) -> str:
    """A config; short timeouts and waits, so that failing hubs cost the suite little."""
    keys = {"base-url": f'"{BASE}"', "site-url": '"https://news.example.org/"', "jobs": "1",
            "taxonomies": "[]", "ping-timeout": "0.5", "ping-backoff": "0.01", **extra}
    return "\n".join([head] + [f"{key} = {value}" for key, value in keys.items()]) + "\n"


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A working directory with two articles in seeds/ and a config naming no hub yet."""
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {
        "seeds/a.txt": article(title="A", webUrl="https://news.example.org/a", topics=["Alpha"]),
        "seeds/b.txt": article(title="B", webUrl="https://news.example.org/b", topics=["Beta"],
                               publishedDateTime="2024-03-05T08:00:00Z"),
        "mkfeeds.toml": config()})
    return tmp_path


def article(**fields: object) -> str:
    return article_text(**{"publishedDateTime": "2024-03-04T11:32:00Z", **fields})


def use_hubs(site: Path, *urls: str, **extra: str) -> None:
    listed = ", ".join(f'"{url}"' for url in urls)
    (site / "mkfeeds.toml").write_text(config(f"hubs = [{listed}]", **extra))


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def feed_bytes(site: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in (site / "out").glob("*") if p.suffix in (".xml", ".json")
            and not p.name.startswith(".")}


# -- the feeds ---------------------------------------------------------------------------------

def test_every_feed_names_its_hubs_and_its_self_url_in_every_format_validly(site):
    (site / "mkfeeds.toml").write_text(config('hub = "https://hub.example/"\nhubs = ["https://push.example/ws"]',
                                              taxonomies='["topics"]'))
    assert run("build").exit_code == 0
    hubs = ["https://hub.example/", "https://push.example/ws"]
    for folder in ("out", "out/topics/alpha", "out/topics/beta"):
        out = site / folder
        self_base = BASE + folder.removeprefix("out").strip("/") + ("/" if folder != "out" else "")
        rss = etree.fromstring((out / "rss.xml").read_bytes()).find("channel")
        assert [link.get("href") for link in rss.findall(f"{ATOM}link[@rel='hub']")] == hubs
        assert rss.find(f"{ATOM}link[@rel='self']").get("href") == self_base + "rss.xml"
        atom = etree.fromstring((out / "atom.xml").read_bytes())
        assert [link.get("href") for link in atom.findall(f"{ATOM}link[@rel='hub']")] == hubs
        assert atom.find(f"{ATOM}link[@rel='self']").get("href") == self_base + "atom.xml"
        document = json.loads((out / "feed.json").read_bytes())
        assert document["hubs"] == [{"type": "WebSub", "url": url} for url in hubs]
        assert document["feed_url"] == self_base + "feed.json"
        assert check_rss((out / "rss.xml").read_bytes()) == []
        assert check_atom((out / "atom.xml").read_bytes()) == []
        assert check_jsonfeed((out / "feed.json").read_bytes()) == []
        for name in ("rss.xml", "atom.xml"):  # a reader finds them where a WebSub subscriber looks
            links = feedparser.parse((out / name).read_bytes()).feed.links
            assert [link.href for link in links if link.rel == "hub"] == hubs


def test_without_a_hub_no_feed_names_one_and_nothing_is_recorded(site):
    assert run("build").exit_code == 0
    assert all(b"hub" not in data for data in feed_bytes(site).values())
    assert not (site / "out" / ".mkfeeds-ping.json").exists()


@pytest.mark.parametrize("setting, message", [
    ('hub = "ftp://hub.example/"', "hub must be an absolute http(s) URL"),
    ('hub = ["https://hub.example/"]', "hub must be a hub URL (use hubs for a list)"),
    ('hubs = "https://hub.example/"', "hubs must be a list of hub URLs"),
    ("ping-timeout = 0", "ping-timeout must be a number of seconds, more than 0"),
    ('ping-backoff = "1s"', "ping-backoff must be a number of seconds"),
])
def test_a_bad_hub_setting_is_a_config_error(site, setting, message):
    (site / "mkfeeds.toml").write_text(config(**dict([setting.split(" = ")])))
    result = run("build")
    assert result.exit_code == 2
    assert message in result.stderr


# -- what is sent ------------------------------------------------------------------------------

def test_ping_sends_one_exact_publish_request_per_changed_feed_file(site, hub):
    use_hubs(site, hub.url)
    assert run("build").exit_code == 0
    assert hub.requests == []  # a build alone tells no hub: the feeds may not be live yet
    result = run("ping")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "mkfeeds ping: 3 sent, 0 failed (1 hub, 3 feed files)\n"
    for request in hub.requests:
        assert (request.method, request.path) == ("POST", "/hub")
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        assert int(request.headers["content-length"]) == len(request.body)
        assert request.form == [("hub.mode", "publish"), ("hub.url", dict(request.form)["hub.url"])]
    assert hub.topics() == MAIN  # one request per topic, each the feed's exact self URL
    assert sorted(r.body for r in hub.requests)[0] == (
        b"hub.mode=publish&hub.url=https%3A%2F%2Ffeeds.example.org%2Fatom.xml")


def test_a_second_ping_with_nothing_changed_sends_nothing(site, hub):
    use_hubs(site, hub.url)
    run("build")
    run("ping")
    sent = len(hub.requests)
    run("build")  # nothing changed: no feed file is rewritten
    result = run("ping")
    assert result.exit_code == 0
    assert result.stdout == "mkfeeds ping: nothing to send: no feed changed since the last ping\n"
    assert len(hub.requests) == sent


def test_only_the_feeds_whose_bytes_changed_are_pinged(site, hub):
    use_hubs(site, hub.url, taxonomies='["topics"]')
    run("build")
    run("ping")
    assert len(hub.requests) == 9  # the main feed and two topics, three files each
    hub.requests.clear()
    write_tree(site, {"seeds/a.txt": article(title="A, edited", webUrl="https://news.example.org/a",
                                                  topics=["Alpha"])})
    run("build")
    assert run("ping").exit_code == 0
    alpha = [BASE + "topics/alpha/" + name for name in ("atom.xml", "feed.json", "rss.xml")]
    assert hub.topics() == sorted(MAIN + alpha)  # not Beta's feed: its bytes did not change


def test_builds_add_up_until_a_ping_and_each_feed_is_told_once(site, hub):
    use_hubs(site, hub.url)
    run("build")
    write_tree(site, {"seeds/c.txt": article(title="C", webUrl="https://news.example.org/c", publishedDateTime="2024-03-06T08:00:00Z")})
    run("build")
    run("ping")
    assert hub.topics() == MAIN


def test_build_ping_tells_the_hubs_right_after_writing(site, hub):
    use_hubs(site, hub.url)
    result = run("build", "--ping")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "mkfeeds ping: 3 sent, 0 failed (1 hub, 3 feed files)"
    assert hub.topics() == MAIN
    assert run("ping").stdout.startswith("mkfeeds ping: nothing to send")


def test_each_hub_is_told_of_each_feed(site, hub):
    other = Hub()
    other.thread.start()
    try:
        use_hubs(site, hub.url, other.url)
        assert run("build", "--ping").exit_code == 0
        assert hub.topics() == MAIN and other.topics() == MAIN
    finally:
        other.stop()


def test_dry_run_prints_what_would_be_sent_and_sends_nothing(site, hub):
    use_hubs(site, hub.url)
    run("build")
    result = run("ping", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"would send: POST {hub.url} (application/x-www-form-urlencoded) "
        f"hub.mode=publish&hub.url=https%3A%2F%2Ffeeds.example.org%2F{name}"
        for name in ("atom.xml", "feed.json", "rss.xml")] + [
        "mkfeeds ping: 3 notifications would be sent (1 hub, 3 feed files); dry run: nothing sent"]
    assert hub.requests == []
    run("ping")
    assert hub.topics() == MAIN  # the dry run kept them pending


# -- hubs that fail ----------------------------------------------------------------------------

def test_a_hub_that_answers_503_is_tried_again(site, hub):
    use_hubs(site, hub.url)
    run("build")
    hub.answers = [503, 503]  # the first feed's first two tries
    result = run("ping")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert [dict(r.form)["hub.url"] for r in hub.requests[:3]] == [MAIN[0]] * 3
    assert hub.topics() == sorted(MAIN + [MAIN[0]] * 2)


def test_three_503s_are_a_warning_naming_hub_and_feed_and_the_feed_stays_pending(site, hub):
    use_hubs(site, hub.url)
    run("build")
    before = feed_bytes(site)
    hub.answers = [503, 503, 503]
    result = run("ping")
    assert result.exit_code == 3
    assert result.stderr == (
        f"mkfeeds: warning: hub {hub.url} was not told that {MAIN[0]} changed: the hub answered 503 "
        "Service Unavailable (after 3 tries); it stays pending for the next `mkfeeds ping`\n")
    assert result.stdout == "mkfeeds ping: 2 sent, 1 failed (1 hub, 3 feed files)\n"
    assert feed_bytes(site) == before  # a failed notification never changes the feeds
    hub.requests.clear()
    assert run("ping").exit_code == 0
    assert hub.topics() == [MAIN[0]]  # only what failed is sent again


def test_a_client_error_is_not_tried_again(site, hub):
    use_hubs(site, hub.url)
    run("build")
    hub.answers = [400]
    result = run("ping")
    assert result.exit_code == 3
    assert "the hub answered 400 Bad Request; it stays pending" in result.stderr
    assert len(hub.requests) == 3  # one for the failed feed, one for each other


def test_a_redirect_is_not_followed(site, hub):
    use_hubs(site, hub.url)
    run("build")
    hub.then = 307
    result = run("ping")
    assert result.exit_code == 3
    assert "the hub answered 307, a redirect to https://elsewhere.example/hub; configure the URL" in result.stderr
    assert len(hub.requests) == 3


def test_a_refused_connection_is_tried_three_times_then_the_hub_is_left_for_next_time(site):
    refusing = f"http://127.0.0.1:{closed_port()}/"
    use_hubs(site, refusing)
    run("build")
    result = run("ping")
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert lines[0] == (f"mkfeeds: warning: hub {refusing} was not told that {MAIN[0]} changed: connection "
                        "refused (after 3 tries); it stays pending for the next `mkfeeds ping`")
    assert lines[1:] == [
        f"mkfeeds: warning: hub {refusing} was not told that {topic} changed: not tried, as the hub could not "
        "be reached for another feed (connection refused); it stays pending for the next `mkfeeds ping`"
        for topic in MAIN[1:]]
    assert len(run("ping", "--dry-run").stdout.splitlines()) == 4  # all three still pending


def test_a_hub_that_never_answers_costs_one_feeds_tries_each_bounded_by_the_timeout(site, hub):
    use_hubs(site, hub.url, **{"ping-timeout": "0.2"})
    run("build")
    hub.then = "hang"
    result = run("build", "--ping")
    assert result.exit_code == 3
    assert f"{MAIN[0]} changed: no answer within the timeout (after 3 tries)" in result.stderr
    assert result.stderr.count("not tried, as the hub could not be reached") == 2
    assert len(hub.requests) == 3  # three tries of the first feed; the others wait for the next ping


def test_no_hub_no_request_even_with_notifications_left_from_when_there_was_one(site, hub):
    use_hubs(site, hub.url)
    run("build")  # notifications recorded for this hub
    (site / "mkfeeds.toml").write_text(config())  # the hub is no longer configured
    build = run("build", "--ping")
    assert build.exit_code == 0
    assert "mkfeeds: warning: --ping: no hub configured (set hub in mkfeeds.toml); no hub was told" in build.stderr
    ping = run("ping")
    assert ping.exit_code == 2
    assert ping.stderr == "mkfeeds: error: no hub configured: set hub (or hubs) in mkfeeds.toml\n"
    assert hub.requests == []


def test_a_hub_removed_from_the_config_is_not_told_what_was_pending_for_it(site, hub):
    other = Hub()
    other.thread.start()
    try:
        use_hubs(site, hub.url, other.url)
        run("build")
        use_hubs(site, other.url)
        assert run("ping").exit_code == 0
        assert hub.requests == [] and other.topics() == MAIN
    finally:
        other.stop()


def test_a_rejected_article_outranks_a_failed_ping_in_the_exit_status(site, hub):
    use_hubs(site, hub.url)
    write_tree(site, {"seeds/bad.txt": "---\ntitle: [unclosed\n---\n"})
    hub.then = 503
    result = run("build", "--ping")
    assert result.exit_code == 1
    assert "after 3 tries" in result.stderr


def test_a_damaged_record_is_an_error_for_ping_and_replaced_by_a_build(site, hub):
    use_hubs(site, hub.url)
    run("build")
    record = site / "out" / ".mkfeeds-ping.json"
    record.write_text("{not json")
    ping = run("ping")
    assert ping.exit_code == 2
    assert "is not a ping record mkfeeds wrote; remove it" in ping.stderr
    assert hub.requests == []
    write_tree(site, {"seeds/c.txt": article(title="C", webUrl="https://news.example.org/c", publishedDateTime="2024-03-06T08:00:00Z")})
    build = run("build")
    assert "is not a ping record mkfeeds wrote" in build.stderr and "it is replaced" in build.stderr
    assert run("ping").exit_code == 0
    assert hub.topics() == MAIN
