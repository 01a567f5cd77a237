"""Output is identical however it is built: cold or warm, serial or parallel, before and
after edits, deletions and additions, in a fresh process or after many builds in this
one. Parallel reading keeps input order, reports progress, and survives a worker that
dies."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import NOW, article_text, index_mirrors_table, write_tree
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mkfeeds import bodies, loading, parallel, rendering
from mkfeeds.build import build, mapping_settings
from mkfeeds.config import Settings
from mkfeeds.source import discover


@pytest.fixture
def parallel_always(monkeypatch):
    """Use a pool of workers whatever the number of files, bodies or feeds (the real
    thresholds are ~200 files, 64 bodies, 8 feeds)."""
    monkeypatch.setattr(loading, "PARALLEL_MIN", 1)
    monkeypatch.setattr(loading, "PER_PROCESS_MIN", 1)
    monkeypatch.setattr(bodies, "PARALLEL_MIN", 1)
    monkeypatch.setattr(bodies, "PER_PROCESS_MIN", 1)
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


def spy_on_pools(monkeypatch) -> list[tuple[str, bool]]:
    """Record each ``parallel.forked_map``: for what ("files", "bodies", "feeds",
    "listing") and whether it forked workers."""
    used: list[tuple[str, bool]] = []
    real = parallel.forked_map
    names = {"mkfeeds.loading": "files", "mkfeeds.bodies": "bodies", "mkfeeds.rendering": "feeds",
             "mkfeeds.source": "listing"}

    def spy(function, items, processes, **kwargs):
        mapped = real(function, items, processes, **kwargs)
        used.append((names.get(function.__module__, function.__module__), mapped.forked))
        return mapped

    monkeypatch.setattr(parallel, "forked_map", spy)
    return used


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
    state = root / "state"

    def built(out: str, **overrides) -> dict[str, bytes]:
        build(settings_for(root, out, timezone=zone, **overrides), NOW)
        return outputs(root / out)

    reference = built("serial")
    assert built("parallel", jobs=2) == reference
    assert built("cold", jobs=2, cache=state) == reference
    assert index_mirrors_table(state)
    assert built("warm", jobs=1, cache=state) == reference

    apply(root / "in", edits)
    reference = built("serial-after")
    assert built("warm-parallel-after", jobs=2, cache=state) == reference
    assert index_mirrors_table(state)
    backdate(root / "in")
    assert built("warm-serial-after", jobs=1, cache=state) == reference
    assert index_mirrors_table(state)


# --- parallel rendering ----------------------------------------------------------------------

def test_many_feeds_render_in_parallel_to_the_same_bytes_and_problems(tmp_path, monkeypatch):
    """Taxonomy feeds render on all cores, to the bytes they have when rendered here; a
    body shown by several feeds is rendered once, and its problem reported once."""
    topics = [f"Topic {i}" for i in range(12)]
    write_tree(tmp_path / "in", {
        f"{i:03}.txt": article_text(("<b>x</b>" * 2001 if i == 6 else f"Body *{i}*") if i % 3 == 0 else "",
                                    title=f"Story {i}", webUrl=f"https://n.example/{i}/",
                                    publishedDateTime=f"2024-01-01T00:{i:02}:00Z",
                                    topics=[topics[i % 12], topics[(i + 5) % 12]])
        for i in range(40)})
    pools = spy_on_pools(monkeypatch)
    rendered: list[str] = []
    real_render = bodies.render_body
    with monkeypatch.context() as patched:
        patched.setattr(bodies, "render_body", lambda entry, source: rendered.append(entry.source)
                        or real_render(entry, source))
        in_parallel = build(settings_for(tmp_path, "parallel", jobs=2), NOW)
    serial = build(settings_for(tmp_path, "serial", jobs=1), NOW)
    # 40 files, 14 bodies: read and rendered here; the feeds: on two workers, then (jobs=1) here
    assert pools == [("files", False), ("bodies", False), ("feeds", True),
                     ("files", False), ("bodies", False), ("feeds", False)]
    assert rendered.count("006.txt") == 1  # shown by the main feed, two topic feeds, its category...
    assert sorted(rendered) == sorted(set(rendered))
    assert in_parallel.feeds == serial.feeds > rendering.RENDER_PARALLEL_MIN
    assert outputs(tmp_path / "parallel") == outputs(tmp_path / "serial")
    assert in_parallel.problems == serial.problems
    assert [str(p) for p in serial.problems] == [
        "006.txt: warning: body: more than 2,000 HTML tags; the body's raw HTML is left out"]


def test_many_bodies_render_in_parallel_once_each_then_come_from_the_cache(tmp_path, monkeypatch):
    """Bodies are rendered before the feeds, each once however many feeds show it (on
    all cores when there are many), and kept in the state: a rebuild after one article
    changed renders that one body again and no other, to the same bytes."""
    import mkfeeds.markup as markup

    n = bodies.PARALLEL_MIN + 6
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
    settings = settings_for(tmp_path, "out", jobs=2, limit=0, cache=tmp_path / "state")
    build(settings, NOW)
    assert pools == [("files", False), ("bodies", True), ("feeds", True)]  # 70 files < 200: read here
    assert rendered == []  # all in the workers, which a parent's spy does not see
    cold = outputs(tmp_path / "out")
    (tmp_path / "in/005.txt").write_text(article_text("Body *five*", title="Story 5", webUrl="https://n.example/5/",
                                                      publishedDateTime="2024-01-01T00:05:00Z",
                                                      topics=["All", "Topic 5"]))
    backdate(tmp_path / "in")
    build(settings, NOW)
    assert rendered == ["https://n.example/5/"]  # the 69 others: from the state
    warm = outputs(tmp_path / "out")
    assert b"&lt;em&gt;five&lt;/em&gt;" in warm["rss.xml"]
    build(settings_for(tmp_path, "fresh", jobs=1, limit=0), NOW)
    assert warm == outputs(tmp_path / "fresh") != cold


# --- parallel reading ------------------------------------------------------------------------

@pytest.fixture
def many(tmp_path):
    write_tree(tmp_path / "in", {
        f"{i % 7}/{i:03}.txt": article_text(title=f"Story {i}", webUrl=f"https://n.example/{i}/",
                                            publishedDateTime=f"2024-01-01T00:{i % 60:02}:00Z")
        for i in range(120)})
    write_tree(tmp_path / "in", {"bad.txt": "---\ntitle: [\n---\n"})
    backdate(tmp_path / "in")
    return tmp_path


def read(root: Path, jobs: int, work=None, progress=None, meanwhile=None) -> list:
    """What ``loading.read_files`` gives for ``work`` (default: every file): (position,
    whole outcome) in the order it hands them over."""
    sources = discover(root / "in")
    rules = mapping_settings(settings_for(root, "out"))
    work = range(len(sources)) if work is None else work
    return [(r.position, r.encoded) for chunk in loading.read_files(sources, work, {}, rules, lambda o: o, jobs=jobs,
                                                                    progress=progress, meanwhile=meanwhile)
            for r in chunk]


def test_parallel_outcomes_equal_serial_ones_in_input_order(many, parallel_always, monkeypatch):
    work = list(range(0, 121, 2)) + list(range(1, 121, 2))  # any order: kept
    serial = read(many, 1, work)
    pools = spy_on_pools(monkeypatch)
    assert read(many, 3, work) == serial
    assert pools == [("files", True)]
    assert [position for position, _ in serial] == work
    assert all(outcome is not None and outcome.rel for _, outcome in serial)


def test_progress_counts_every_file_once_on_every_path(many, parallel_always):
    total = len(discover(many / "in"))
    for out, overrides in (("a", {"jobs": 1}), ("b", {"jobs": 2}), ("c", {"jobs": 2, "cache": many / "state"}),
                           ("d", {"jobs": 2, "cache": many / "state"})):  # the last one: all from the state
        steps: list[int] = []
        result = build(settings_for(many, out, **overrides), NOW, progress=steps.append)
        assert not result.up_to_date
        assert sum(steps) == total and all(step > 0 for step in steps)


def test_parallel_progress_moves_before_the_end(many, parallel_always, monkeypatch):
    pools = spy_on_pools(monkeypatch)
    steps: list[int] = []
    read(many, 2, progress=steps.append)
    assert pools == [("files", True)]
    assert len(steps) > 1 and sum(steps) == 121


@pytest.mark.parametrize("where", ["table", "index"])
def test_a_stored_row_that_does_not_decode_is_read_from_its_file_again(many, parallel_always, monkeypatch, where):
    """A damaged row whose file is unchanged. In the table, its seal fails: the file is
    read as a new one. In a row index that holds (its CRC, its shape), the row does not
    decode: the file's text is confirmed by its digest, the row still does not decode, so
    the file is read again, alone, after the others. Either way the output is right."""
    import sqlite3

    from conftest import state_file

    from mkfeeds.incremental import codec, store

    state = many / "state"
    build(settings_for(many, "cold", jobs=2, cache=state), NOW)
    with sqlite3.connect(state_file(state)) as db:
        if where == "table":
            db.execute("UPDATE files SET k_draft = 'maybe' WHERE rel = '3/003.txt'")
            db.execute("DELETE FROM meta WHERE key = 'row_index'")  # else the rows come from the index
        else:
            position = store.KEY_AT + codec.KEY_COLUMNS.index("draft")
            [(rels,)] = db.execute("SELECT value FROM meta WHERE key = 'row_index/0'").fetchall()
            [(blob,)] = db.execute("SELECT value FROM meta WHERE key = ?", (f"row_index/{position}",)).fetchall()
            column = store._column_of_blob(blob)
            column[store._column_of_blob(rels).index("3/003.txt")] = "maybe"
            db.execute("UPDATE meta SET value = ? WHERE key = ?",
                       (store._column_blob(column, False), f"row_index/{position}"))
        db.execute("DELETE FROM meta WHERE key = 'build'")
    db.close()
    for name in ("0/000.txt", "1/001.txt"):  # changed files
        path = many / "in" / name
        stamp = path.stat().st_mtime_ns - 10**10  # older than the state, yet another stamp
        path.write_text(path.read_text() + "\nMore body.\n")
        os.utime(path, ns=(stamp, stamp))
    works: list[list[str]] = []
    real = loading.read_files
    monkeypatch.setattr(loading, "read_files",
                        lambda sources, work, confirm, *args, **kwargs: works.append(
                            [sources[i].rel + ("?" if i in confirm else "") for i in work])
                        or real(sources, work, confirm, *args, **kwargs))
    build(settings_for(many, "warm", jobs=2, cache=state), NOW)
    assert works == ([["0/000.txt?", "1/001.txt?", "3/003.txt"]] if where == "table" else
                     [["0/000.txt?", "1/001.txt?", "3/003.txt?"], ["3/003.txt"]])  # ?: to confirm
    build(settings_for(many, "fresh", jobs=1), NOW)
    assert outputs(many / "warm") == outputs(many / "fresh")


def test_rendering_is_prepared_meanwhile_only_while_workers_read(many, parallel_always, monkeypatch):
    """While workers read the files, this process imports the renderers (once, before
    the first results); with no workers, nothing is done meanwhile."""
    pools = spy_on_pools(monkeypatch)
    events: list[str] = []
    read(many, 2, progress=lambda n: events.append("progress"), meanwhile=lambda: events.append("meanwhile"))
    assert pools == [("files", True)]
    assert events[0] == "meanwhile" and events.count("meanwhile") == 1
    events.clear()
    read(many, 1, progress=lambda n: events.append("progress"), meanwhile=lambda: events.append("meanwhile"))
    assert "meanwhile" not in events and events


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """Every ``os.fork`` of this process."""
    calls: list[int] = []
    real = os.fork
    monkeypatch.setattr(os, "fork", lambda: calls.append(1) or real())
    return calls


def test_one_job_never_starts_a_pool(many, parallel_always, forks):
    assert len(read(many, 1)) == 121
    build(settings_for(many, "out", jobs=1, cache=many / "state"), NOW)
    assert forks == []


def test_small_batches_stay_in_process(many, forks):
    assert len(read(many, 4)) == 121  # 121 files < PARALLEL_MIN
    assert forks == []


def test_a_worker_that_dies_does_not_lose_files(many, parallel_always, monkeypatch):
    """A killed worker (out of memory, a crash in a C library): the rest is read here."""
    serial = read(many, 1)
    parent = os.getpid()
    real = loading.read_one

    def dying(*args):
        if os.getpid() != parent:
            os._exit(9)
        return real(*args)

    monkeypatch.setattr(loading, "read_one", dying)
    pools = spy_on_pools(monkeypatch)
    assert read(many, 2) == serial
    assert pools == [("files", True)]


def test_jobs_zero_means_every_available_core(monkeypatch):
    monkeypatch.setattr(parallel, "available_cpus", lambda: 6)
    assert parallel.allowed_processes(0) == 6
    assert parallel.processes_for(0, 10_000) == 6
    assert parallel.processes_for(2, 10_000) == 2
    assert parallel.processes_for(0, 100, per_process=loading.PER_PROCESS_MIN) == 3  # 32 files each at least


ORPHAN = """
import os, sys, time
from mkfeeds import parallel

pids = sys.argv[1]

def serve(item):
    with open(pids, "a") as out:
        out.write(f"{os.getpid()}\\n")
    time.sleep(60)
    return item

mapped = parallel.forked_map(serve, [1, 2], 2)
while len(open(pids).read().split()) < 2:
    time.sleep(0.05)
os._exit(0)  # the build, killed: its workers must not wait forever
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie waiting for init to reap it is not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="looks for the workers in /proc")
def test_workers_leave_when_their_build_is_killed(tmp_path):
    import time

    pids = tmp_path / "pids"
    pids.write_text("")
    subprocess.run([sys.executable, "-c", ORPHAN, str(pids)], check=True, timeout=30)
    workers = [int(pid) for pid in pids.read_text().split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 10
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_running, workers))


# --- many builds in one process --------------------------------------------------------------

def fresh_process_build(root: Path, out: str) -> dict[str, bytes]:
    """What ``python -m mkfeeds build`` publishes from the same articles, starting afresh."""
    done = subprocess.run([sys.executable, "-m", "mkfeeds", "build", "--input", str(root / "in"), "--output",
                           str(root / out), "--base-url", "https://feeds.example.org/", "--site-url",
                           "https://news.example.org/", "--limit", "0", "--no-cache", "--quiet"],
                          cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr  # bad.txt
    return outputs(root / out)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts descriptors in /proc")
def test_thirty_builds_in_one_process_give_what_a_fresh_process_gives(tmp_path, parallel_always):
    """``build`` called again and again (a watcher, a server) gives what a fresh process
    would, and leaves nothing behind: no descriptor, no thread, no child process."""
    write_tree(tmp_path / "in", {
        f"{i % 3}/{i:02}.txt": article_text(f"Body *{i}*." if i % 2 else "", title=f"Story {i}",
                                            webUrl=f"https://news.example.org/{i}/", topics=[f"T{i % 4}"],
                                            publishedDateTime=f"2024-01-01T00:{i:02}:00Z")
        for i in range(24)})
    write_tree(tmp_path / "in", {"bad.txt": "---\ntitle: [\n---\n"})
    backdate(tmp_path / "in")
    settings = Settings(input=tmp_path / "in", output=tmp_path / "out", base_url="https://feeds.example.org/",
                        site_url="https://news.example.org/", limit=0, jobs=2, cache=tmp_path / "state")
    build(settings, NOW)  # imports, the codec, the markdown renderer: made once per process
    fds, threads = open_fds(), threading.active_count()
    for call in range(1, 31):
        if call % 5 == 0:  # an edit, an addition, a deletion
            (tmp_path / "in/0/00.txt").write_text(article_text(f"Edit {call}.", title=f"Story 0, edit {call}",
                                                               webUrl="https://news.example.org/0/"))
            write_tree(tmp_path / "in", {f"new/{call}.txt": article_text(
                title=f"New {call}", webUrl=f"https://news.example.org/new/{call}/")})
            min((tmp_path / "in" / "2").iterdir()).unlink()
        result = build(settings, NOW)
        assert result.rejected == 1 and not result.notices
        if call in (1, 15, 30):
            assert outputs(tmp_path / "out") == fresh_process_build(tmp_path, f"fresh-{call}")
    assert open_fds() <= fds
    assert threading.active_count() <= threads
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
