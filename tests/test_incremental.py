"""Output is identical however it is built: cold or warm, serial or parallel, before and
after edits, deletions and additions. Parallel loading keeps input order, reports
progress, and survives a worker that dies."""

from __future__ import annotations

import os
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import NOW, article_text, index_mirrors_table, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mkfeeds import loading, rendering, rowindex
from mkfeeds.build import build, mapping_settings
from mkfeeds.config import Settings
from mkfeeds.model import Problem
from mkfeeds.source import discover


@pytest.fixture
def parallel_always(monkeypatch):
    """Use a pool of workers whatever the number of files (the real threshold is ~200)."""
    monkeypatch.setattr(loading, "PARALLEL_MIN", 1)
    monkeypatch.setattr(loading, "PER_PROCESS_MIN", 1)
    monkeypatch.setattr(rendering, "RENDER_PARALLEL_MIN", 1)


def settings_for(root: Path, out: str, **overrides) -> Settings:
    values = dict(input=root / "in", output=root / out, base_url="https://feeds.example.org/",
                  site_url="https://news.example.org/", title="Example News", description="Latest",
                  language="en", cache=None, jobs=1, limit=0)
    values.update(overrides)
    return Settings(**values)


def outputs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def backdate(root: Path, seconds: int = 120) -> None:
    """As if the files had been written a while before the build (not within a tick)."""
    for path in root.rglob("*"):
        if path.is_file():
            stamp = path.stat().st_mtime_ns - seconds * 10**9
            os.utime(path, ns=(stamp, stamp))


# --- strategies ------------------------------------------------------------------------------

NAMES = [f"{folder}{i:02}_{suffix}" for folder in ("", "x/", "x/y/") for i in range(6)
         for suffix in ("a.txt", "b.md")]
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
TITLES = st.one_of(TEXT.map(lambda t: "T" + t), st.sampled_from(["", "no", "<b>&amp;</b>", "]]>", "A\u2028B"]))
MOMENTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1))
DATES = st.one_of(
    MOMENTS.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    st.builds(lambda d, m: d.replace(tzinfo=timezone(timedelta(minutes=m))).isoformat(), MOMENTS,
              st.integers(-14 * 60, 14 * 60)),
    MOMENTS.map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),  # naive: read in the zone
    MOMENTS.map(lambda d: d.date()),
    st.just(date(2024, 10, 27)), st.just("2024-10-27 02:30:00"),  # a DST fold in Europe/Paris
    st.sampled_from(["yesterday", "2024-02-30", None]),
)
URLS = st.sampled_from([f"https://news.example.org/{i}/" for i in range(8)] + ["/relative/", "javascript:x"])
ARTICLES = st.builds(
    lambda body, **fields: article_text(body, **fields),
    body=st.one_of(st.just(""), TEXT.map(lambda t: "Some *body* " + t)),
    title=TITLES, publishedDateTime=DATES, webUrl=URLS,
    published=st.sampled_from([True, True, True, False, "no", None]),
    topics=st.lists(st.sampled_from(["AI", "ai", "Robots", "Space"]), max_size=3),
    quality=st.one_of(st.none(), st.integers(0, 100), st.floats(allow_nan=False, allow_infinity=False)),
    excerpt=st.one_of(st.just(...), TEXT),
)
RAW = st.sampled_from([
    b"---\ntitle: [unclosed\n---\n", b"no front matter", b"\xff\xfe not utf-8",
    (b"\xef\xbb\xbf---\r\ntitle: BOM and CRLF\r\npublishedDateTime: 2024-01-01\r\n"
     b"webUrl: https://news.example.org/bom/\r\n---\r\n"),
])
FILES = st.one_of(ARTICLES.map(str.encode), ARTICLES.map(str.encode), ARTICLES.map(str.encode), RAW)
CORPORA = st.dictionaries(st.sampled_from(NAMES), FILES, min_size=1, max_size=10)
EDITS = st.lists(st.tuples(st.sampled_from(["edit", "delete", "add", "touch"]), st.sampled_from(NAMES), FILES),
                 max_size=6)


def apply(root: Path, edits) -> None:
    for action, name, data in edits:
        path = root / name
        if action == "delete":
            if path.exists():
                path.unlink()
        elif action == "touch":
            if path.exists():
                stamp = path.stat().st_mtime_ns + 10**9
                os.utime(path, ns=(stamp, stamp))
        elif action == "edit" and path.exists() or action == "add":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(corpus=CORPORA, edits=EDITS, zone=st.sampled_from(["UTC", "Europe/Paris"]))
def test_cold_warm_serial_and_parallel_builds_write_the_same_bytes(
        corpus, edits, zone, tmp_path_factory, parallel_always):
    root = tmp_path_factory.mktemp("corpus")
    write_tree(root / "in", corpus)
    backdate(root / "in")
    cache = root / "cache.sqlite"

    def built(out: str, **overrides) -> dict[str, bytes]:
        build(settings_for(root, out, timezone=zone, **overrides), NOW)
        return outputs(root / out)

    reference = built("serial")
    assert built("parallel", jobs=2) == reference
    assert built("cold", jobs=2, cache=cache) == reference
    assert index_mirrors_table(cache)
    assert built("warm", jobs=1, cache=cache) == reference

    apply(root / "in", edits)
    reference = built("serial-after")
    assert built("warm-parallel-after", jobs=2, cache=cache) == reference
    assert index_mirrors_table(cache)
    backdate(root / "in")
    assert built("warm-serial-after", jobs=1, cache=cache) == reference
    assert index_mirrors_table(cache)


# --- parallel rendering ----------------------------------------------------------------------

def test_many_feeds_render_in_parallel_to_the_same_bytes_and_problems(tmp_path, monkeypatch):
    """Taxonomy feeds render on all cores, to the bytes they have when rendered here; a
    problem that comes back from several feeds (several workers) is reported once."""
    topics = [f"Topic {i}" for i in range(12)]
    write_tree(tmp_path / "in", {
        f"{i:03}.txt": article_text(("<b>x</b>" * 2001 if i == 6 else f"Body *{i}*") if i % 3 == 0 else "",
                                    title=f"Story {i}", webUrl=f"https://n.example/{i}/",
                                    publishedDateTime=f"2024-01-01T00:{i:02}:00Z",
                                    topics=[topics[i % 12], topics[(i + 5) % 12]])
        for i in range(40)})
    pools = spy_on_pools(monkeypatch)
    met = Problem("warning", "007.txt", "met in a feed")
    real_full, real_collect = rendering.Contents.full, rendering._collect_renderings
    returned: list[Problem] = []

    def full(self, key):  # every feed that shows story 7 meets a problem with it
        if key.source == "007.txt":
            self.problems.append(met)
        return real_full(self, key)

    def collect(settings, specs, pending, contents, results):
        returned.extend(p for _, _, problems in results for p in problems)
        return real_collect(settings, specs, pending, contents, results)

    with monkeypatch.context() as patched:
        patched.setattr(rendering.Contents, "full", full)
        patched.setattr(rendering, "_collect_renderings", collect)
        parallel = build(settings_for(tmp_path, "parallel", jobs=2), NOW)
    serial = build(settings_for(tmp_path, "serial", jobs=1), NOW)
    assert pools == [("feeds", True), ("feeds", False)]  # 14 bodies: rendered here; jobs=1: no pool
    assert returned.count(met) == 5  # from the main feed, Topic 7, Topic 0, its category, its provider
    assert parallel.feeds == serial.feeds > rendering.RENDER_PARALLEL_MIN
    assert outputs(tmp_path / "parallel") == outputs(tmp_path / "serial")
    assert parallel.problems == serial.problems + [met]
    assert [str(p) for p in serial.problems] == [
        "006.txt: warning: body: more than 2,000 HTML tags; the body's raw HTML is shown as text"]


def spy_on_pools(monkeypatch) -> list[tuple[str, bool]]:
    """Record each ``forked_map``: what for ("bodies", "feeds") and whether it ran."""
    used: list[tuple[str, bool]] = []
    real = rendering.forked_map

    def spy(function, items, processes):
        result = real(function, items, processes)
        used.append(("bodies" if "Contents" in function.__qualname__ else "feeds", result is not None))
        return result

    monkeypatch.setattr(rendering, "forked_map", spy)
    return used


def test_many_bodies_render_in_parallel_once_each_then_come_from_the_cache(tmp_path, monkeypatch):
    """Bodies are rendered before the feeds, each once however many feeds show it (on
    all cores when there are many), and kept in the cache: a rebuild after one article
    changed renders that one body again and no other, to the same bytes."""
    import mkfeeds.markup as markup

    n = rendering.BODY_PARALLEL_MIN + 6
    write_tree(tmp_path / "in", {
        f"{i:03}.txt": article_text(f"Body *{i}* [link](/{i})", title=f"Story {i}", webUrl=f"https://n.example/{i}/",
                                    publishedDateTime=f"2024-01-01T{i // 60:02}:{i % 60:02}:00Z",
                                    topics=["All", f"Topic {i % 9}"])
        for i in range(n)})
    backdate(tmp_path / "in")
    pools = spy_on_pools(monkeypatch)
    rendered: list[str] = []
    real_render = markup.render_markdown
    monkeypatch.setattr(markup, "render_markdown", lambda source, base: rendered.append(base) or real_render(source, base))
    settings = settings_for(tmp_path, "out", jobs=2, limit=0, cache=tmp_path / "cache.sqlite")
    build(settings, NOW)
    assert pools == [("bodies", True), ("feeds", True)]
    assert rendered == []  # all in the workers, which a parent's spy does not see
    cold = outputs(tmp_path / "out")
    (tmp_path / "in/005.txt").write_text(article_text("Body *five*", title="Story 5", webUrl="https://n.example/5/",
                                                      publishedDateTime="2024-01-01T00:05:00Z",
                                                      topics=["All", "Topic 5"]))
    backdate(tmp_path / "in")
    build(settings, NOW)
    assert rendered == ["https://n.example/5/"]  # the 73 others: from the cache
    warm = outputs(tmp_path / "out")
    assert b"&lt;em&gt;five&lt;/em&gt;" in warm["rss.xml"]
    build(settings_for(tmp_path, "fresh", jobs=1, limit=0), NOW)
    assert warm == outputs(tmp_path / "fresh") != cold


# --- parallel loading ------------------------------------------------------------------------

@pytest.fixture
def many(tmp_path):
    write_tree(tmp_path / "in", {
        f"{i % 7}/{i:03}.txt": article_text(title=f"Story {i}", webUrl=f"https://n.example/{i}/",
                                            publishedDateTime=f"2024-01-01T00:{i % 60:02}:00Z")
        for i in range(120)})
    write_tree(tmp_path / "in", {"bad.txt": "---\ntitle: [\n---\n"})
    backdate(tmp_path / "in")
    return tmp_path


def outcomes(root: Path, progress=None, **overrides):
    """Every outcome, with its whole entry (decoded from JSON where it came as JSON)."""
    s = settings_for(root, "out", **overrides)
    with loading.load_outcomes(discover(s.input), s, mapping_settings(s), progress) as loaded:
        return loaded.resolved()


def test_parallel_outcomes_equal_serial_ones_in_input_order(many, parallel_always):
    assert outcomes(many, jobs=3) == outcomes(many, jobs=1)


def test_progress_counts_every_file_once_on_every_path(many, parallel_always):
    total = len(discover(many / "in"))
    for overrides in ({"jobs": 1}, {"jobs": 2}, {"jobs": 2, "cache": many / "c.sqlite"},
                      {"jobs": 2, "cache": many / "c.sqlite"}):  # the last one: all cached
        steps: list[int] = []
        outcomes(many, steps.append, **overrides)
        assert sum(steps) == total and all(step > 0 for step in steps)


def test_parallel_progress_moves_before_the_end(many, parallel_always):
    steps: list[int] = []
    outcomes(many, steps.append, jobs=2)
    assert len(steps) > 1


def test_cached_rows_decoded_while_workers_run_fall_back_on_the_file(many, parallel_always):
    """Unchanged rows are decoded while workers read the changed files; a row that does
    not decode then is read from its file, after the workers are done."""
    import sqlite3

    cache = many / "c.sqlite"
    reference = outcomes(many, jobs=1)
    outcomes(many, jobs=2, cache=cache)
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE files SET k_draft = 'maybe' WHERE rel = '3/003.txt'")
    db.close()
    rowindex.path_for(cache).unlink()  # else the rows come from it, undamaged
    for name in ("0/000.txt", "1/001.txt"):  # changed files: the pool starts
        path = many / "in" / name
        stamp = path.stat().st_mtime_ns - 10**10  # older than the cache, yet another stamp
        path.write_text(path.read_text() + "\nMore body.\n")
        os.utime(path, ns=(stamp, stamp))
    decoded_meanwhile: list[int] = []
    real = loading._Loader.decode_hits
    with pytest.MonkeyPatch.context() as spy:
        spy.setattr(loading._Loader, "decode_hits",
                    lambda self: decoded_meanwhile.append(len(self.hits)) or real(self))
        changed = outcomes(many, jobs=2, cache=cache)
    assert decoded_meanwhile[0] == 121 - 2  # every unchanged row, damaged one included
    assert [o.rel for o in changed] == [o.rel for o in reference]
    assert [o for o in changed if o.rel not in ("0/000.txt", "1/001.txt")] == \
        [o for o in reference if o.rel not in ("0/000.txt", "1/001.txt")]


def test_rendering_is_prepared_meanwhile_only_when_the_workers_read_most_files(many, parallel_always):
    """A cold build waits for its workers: it imports the renderers meanwhile. A rebuild
    decodes its cached rows meanwhile, and renders perhaps nothing: it does not."""
    s = settings_for(many, "out", jobs=2, cache=many / "c.sqlite")
    prepared: list[str] = []

    def load(label: str) -> None:
        with loading.load_outcomes(discover(s.input), s, mapping_settings(s),
                                   meanwhile=lambda: prepared.append(label)):
            pass

    load("cold")
    path = many / "in" / "0" / "000.txt"
    stamp = path.stat().st_mtime_ns - 10**10
    path.write_text(path.read_text() + "\nMore body.\n")
    os.utime(path, ns=(stamp, stamp))
    load("one changed")
    assert prepared == ["cold"]


def test_one_job_never_starts_a_pool(many, parallel_always, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started")

    monkeypatch.setattr(loading, "_pool_map", no_pool)
    assert len(outcomes(many, jobs=1)) == 121


def test_small_batches_stay_in_process(many, monkeypatch):
    def no_pool(*args, **kwargs):
        raise AssertionError("a pool was started")

    monkeypatch.setattr(loading, "_pool_map", no_pool)
    assert len(outcomes(many, jobs=4)) == 121  # 121 files < PARALLEL_MIN


def dying(bounds):
    os._exit(9)


def test_a_worker_that_dies_does_not_lose_files(many, parallel_always, monkeypatch):
    """A killed worker (out of memory, a crash in a C library): the rest is loaded here."""
    monkeypatch.setattr(loading, "_work_range", dying)
    assert outcomes(many, jobs=2) == outcomes(many, jobs=1)


def test_jobs_zero_means_every_available_core(monkeypatch):
    monkeypatch.setattr(loading, "available_cpus", lambda: 6)
    assert loading._processes(Settings(jobs=0), 10_000) == 6
    assert loading._processes(Settings(jobs=2), 10_000) == 2
    assert loading._processes(Settings(jobs=0), loading.PARALLEL_MIN - 1) == 1


ORPHAN = """
import os, sys, time
from mkfeeds import loading, rendering
job = loading._Job([], [], {}, None, loading.OBJECTS)
pid = os.fork()
if pid == 0:  # the worker
    loading._init_worker(job)
    time.sleep(60)
    os._exit(0)
print(pid, flush=True)
os._exit(0)  # the build, killed: the worker must not wait forever
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="looks for the worker in /proc")
def test_workers_leave_when_their_build_is_killed():
    import subprocess
    import time

    out = subprocess.run([sys.executable, "-c", ORPHAN], capture_output=True, text=True, check=True).stdout
    worker = int(out.split()[0])
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{worker}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{worker}")
