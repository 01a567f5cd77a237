"""Hostile input, one named fixture per case, each with its exact outcome.

Every case is a tiny input folder: the hostile file (usually ``in/bad.txt``) next to a
good neighbour (``in/good.txt``). Each runs through the real command line twice:

* ``mkfeeds check`` must print exactly the expected problem lines (file, line, field,
  message) and exit 1 when something is rejected, 0 otherwise;
* ``mkfeeds build`` must exit the same way, publish the neighbour in all three formats,
  publish the hostile article with exactly the expected text or leave it out, and never
  let the planted secret reach an output file, stdout or stderr.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner
from lxml import etree

from mkfeeds.cli import cli
from mkfeeds.mapping import SUMMARY_MAX, TITLE_MAX
from mkfeeds.source import MAX_FILE_BYTES

from conftest import SECRET, article_text, write_tree

ATOM = "{http://www.w3.org/2005/Atom}"
SITE = "https://news.example.org/"
URL = "https://news.example.org/2024/hostile"
GOOD_URL = "https://news.example.org/2024/good"
BAD = "in/bad.txt"

GOOD = article_text(title="Good neighbour", webUrl=GOOD_URL, originalUrl=..., images=...)


def doc(*lines: str, body: str = "") -> str:
    """A file whose front matter is ``lines``: the first one is on line 2."""
    return "---\n" + "".join(line + "\n" for line in lines) + "---\n" + body


TITLE = "title: Hostile but harmless"  # line 2 in fine(); fine() keeps this order
DATE = "publishedDateTime: 2024-03-04T11:32:00Z"  # line 3
LINK = f"webUrl: {URL}"  # line 4
SECRET_LINE = f"secured: {SECRET}"  # line 5


def fine(title: str = TITLE, date: str = DATE, link: str = LINK, *extra: str, body: str = "") -> str:
    """A valid article (title line 2, date line 3, link line 4, secret line 5, then
    ``extra``) with one line swapped for a hostile one."""
    return doc(title, date, link, SECRET_LINE, *extra, body=body)


@dataclass(frozen=True)
class Case:
    """One hostile input and what must come of it.

    ``problems`` are the exact lines ``mkfeeds check`` prints (errors and warnings).
    ``published`` is None when the hostile article must not be in the feeds; else the
    exact JSON Feed item fields it must have (title, dates, ...), whose title and link
    the RSS and Atom feeds must carry too."""

    name: str
    files: dict[str, str | bytes]
    problems: tuple[str, ...] = ()
    published: dict[str, object] | None = None
    args: tuple[str, ...] = ()
    setup: Callable[[Path], None] | None = None  # extra file-system preparation
    rejected: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rejected", any(": error: " in line for line in self.problems))


def bad(name: str, content: str | bytes, *problems: str, **kwargs) -> Case:
    return Case(name, {"bad.txt": content}, problems, **kwargs)


def ok(name: str, content: str | bytes, published: dict[str, object], *problems: str, **kwargs) -> Case:
    return Case(name, {"bad.txt": content}, problems, published=published, **kwargs)


BILLION_LAUGHS = doc(
    TITLE, DATE, LINK,
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
    "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]",
)


def _symlink_out(root: Path) -> None:
    outside = root / "elsewhere" / "outside.txt"
    write_tree(root, {"elsewhere/outside.txt": fine(title="title: Read through a link")})
    (root / "in" / "link.txt").symlink_to(outside)


def _symlink_loop(root: Path) -> None:
    (root / "in" / "loop-a.txt").symlink_to("loop-b.txt")
    (root / "in" / "loop-b.txt").symlink_to("loop-a.txt")
    (root / "in" / "loop-dir").symlink_to(".")


def _symlink_inside(root: Path) -> None:
    (root / "in" / "alias.txt").symlink_to("bad.txt")


CASES = [
    # --- the file itself ------------------------------------------------------------
    bad("undecodable_bytes", fine().encode().replace(b"Hostile", b"Hostil\xe9"),
        f"{BAD}:2: error: is not valid UTF-8 (it looks like Windows-1252 or Latin-1): save the file as UTF-8"),
    bad("utf16_file", fine().encode("utf-16"),
        f"{BAD}:1: error: is not valid UTF-8 (it looks like UTF-16): save the file as UTF-8"),
    bad("empty_file", b"", f"{BAD}:1: error: has no front matter: the file must start with a '---' line"),
    bad("no_front_matter", "Just a body, no fence\n",
        f"{BAD}:1: error: has no front matter: the file must start with a '---' line"),
    bad("unclosed_fence", "---\n" + TITLE + "\n" + DATE + "\n",
        f"{BAD}:1: error: front matter is not closed: no '---' line after the first"),
    bad("front_matter_is_a_list", doc("- title", "- date"),
        f"{BAD}:2: error: front matter must be a YAML mapping of keys to values"),
    bad("front_matter_is_text", doc("just some words"),
        f"{BAD}:2: error: front matter must be a YAML mapping of keys to values"),
    bad("oversized_file", fine(body="x" * MAX_FILE_BYTES), f"{BAD}: error: is larger than 1024 KiB"),
    # --- YAML -----------------------------------------------------------------------
    bad("invalid_yaml", fine(title='title: "never closed', date=f'secret: "{SECRET}'),
        f"{BAD}:3: error: invalid YAML: did not find expected key"),
    bad("invalid_yaml_tab_indent", fine(title="title:\n\t- x"),
        f"{BAD}:3: error: invalid YAML: found character that cannot start any token "
        "(YAML does not allow tabs for indentation: indent with spaces)"),
    bad("python_tag", fine(title="title: !!python/object/apply:os.system ['touch pwned']"),
        f"{BAD}:2: error: invalid YAML: YAML tags (!name) are not allowed"),
    bad("local_tag", fine(link=f"webUrl: !url {URL}"),
        f"{BAD}:4: error: invalid YAML: YAML tags (!name) are not allowed"),
    bad("standard_tag_on_bad_value", fine(date="publishedDateTime: !!timestamp next tuesday"),
        f"{BAD}:3: error: invalid YAML: YAML tags (!name) are not allowed"),
    bad("binary_tag_under_unknown_key", fine("title: Tagged", DATE, LINK, "blob: !!binary aGVsbG8="),
        f"{BAD}:6: error: invalid YAML: YAML tags (!name) are not allowed"),
    bad("alias_bomb", BILLION_LAUGHS,
        f"{BAD}:6: error: invalid YAML: YAML anchors and aliases (&name, *name) are not supported"),
    bad("merge_key", fine(TITLE, DATE, LINK, "<<: {title: Merged over}"),
        f"{BAD}:6: error: invalid YAML: YAML merge keys (<<) are not supported"),
    bad("deep_nesting", fine(TITLE, DATE, LINK, "deep: " + "[" * 5000 + "]" * 5000),
        f"{BAD}:6: error: invalid YAML: exceeded maximum nesting depth"),
    bad("duplicate_key", fine(TITLE, DATE, LINK, "title: Second title"),
        f"{BAD}:6: error: invalid YAML: duplicate key"),
    bad("duplicate_key_by_value", fine(TITLE, DATE, LINK, "ranks: {1: a, 0x1: b}"),
        f"{BAD}:6: error: invalid YAML: duplicate key"),
    bad("non_text_key", fine(TITLE, DATE, LINK, "2024: year"),
        f"{BAD}:6: error: front matter keys must be text"),
    bad("huge_number", fine(title="title: " + "9" * 5000),
        f"{BAD}:2: error: invalid YAML: a number longer than 1000 characters (put it in quotes if it is text)"),
    # --- title ----------------------------------------------------------------------
    bad("missing_title", doc(DATE, LINK), f"{BAD}: error: title: is missing"),
    bad("empty_title", fine(title='title: "   "'), f"{BAD}:2: error: title: is empty"),
    bad("yes_no_title", fine(title="title: no"),
        f"{BAD}:2: error: title: is a yes/no value, not text: put it in quotes"),
    bad("mapping_title", fine(title="title: {text: nested}"), f"{BAD}:2: error: title: must be text"),
    bad("only_forbidden_characters_title", fine(title='title: "\\x01\\x02\\u0085"'),
        f"{BAD}:2: error: title: is empty"),
    # --- dates ----------------------------------------------------------------------
    bad("missing_date", doc(TITLE, LINK), f"{BAD}: error: publishedDateTime: is missing"),
    bad("unparseable_date", fine(date="publishedDateTime: next tuesday"),
        f"{BAD}:3: error: publishedDateTime: is not an ISO 8601 / RFC 3339 or RFC 822 date"),
    bad("impossible_date", fine(date="publishedDateTime: 2024-02-30"),
        f"{BAD}:3: error: publishedDateTime: is an impossible date (no such day, month, time or offset)"),
    bad("impossible_quoted_date", fine(date="publishedDateTime: '2024-02-30T10:00:00Z'"),
        f"{BAD}:3: error: publishedDateTime: is an impossible date (no such day, month, time or offset)"),
    bad("date_before_1900", fine(date="publishedDateTime: 1899-12-31T23:59:59Z"),
        f"{BAD}:3: error: publishedDateTime: is before 1900, which feeds cannot express"),
    bad("date_out_of_range", fine(date="publishedDateTime: 9999-12-31T23:00:00-05:00"),
        f"{BAD}:3: error: publishedDateTime: is out of range"),
    bad("date_is_a_number", fine(date="publishedDateTime: 1709551920"),
        f"{BAD}:3: error: publishedDateTime: is not a date"),
    # --- the publish flag -----------------------------------------------------------
    bad("published_null", fine(TITLE, DATE, LINK, "published: null"),
        f"{BAD}:6: error: published: must be true or false (or yes/no); the article is rejected until it is one "
        "of them"),
    bad("published_unclear_word", fine(TITLE, DATE, LINK, "published: maybe"),
        f"{BAD}:6: error: published: must be true or false (or yes/no); the article is rejected until it is one "
        "of them"),
    bad("published_false_is_withheld_quietly", fine(TITLE, DATE, LINK, 'published: "false"')),
    # --- URLs -----------------------------------------------------------------------
    bad("javascript_url", fine(link="webUrl: javascript:alert(document.cookie)"),
        f"{BAD}:4: error: webUrl: uses the 'javascript' scheme; only http and https are published"),
    bad("data_url", fine(link="webUrl: 'data:text/html,<script>alert(1)</script>'"),
        f"{BAD}:4: error: webUrl: uses the 'data' scheme; only http and https are published"),
    bad("url_without_host", fine(link="webUrl: https:///2024/hostile"), f"{BAD}:4: error: webUrl: has no host"),
    bad("url_with_credentials", fine(link="webUrl: https://user:pw@news.example.org/x"),
        f"{BAD}:4: error: webUrl: contains credentials"),
    bad("malformed_ipv6_url", fine(link="webUrl: http://[::1/x"),
        f"{BAD}:4: error: webUrl: is not a well-formed URL"),
    bad("url_is_a_number", fine(link="webUrl: 42"), f"{BAD}:4: error: webUrl: must be a URL"),
    Case("duplicate_id", {"zz-copy.txt": fine(link=f"webUrl: {GOOD_URL}")},
         ("in/zz-copy.txt: error: webUrl: has the same link (id) as in/good.txt, which is published instead",)),
    ok("relative_url_resolved_against_site", fine(link="webUrl: /2024/relative"),
       {"id": "https://news.example.org/2024/relative", "url": "https://news.example.org/2024/relative",
        "title": "Hostile but harmless"}),  # against a configured site-url: as a blog expects, no warning
    ok("unsafe_image_url_dropped", fine(TITLE, DATE, LINK, "images: [{url: 'vbscript:msgbox(1)'}]"),
       {"title": "Hostile but harmless", "image": None},
       f"{BAD}:6: warning: images[0].url: uses the 'vbscript' scheme; only http and https are published; left out"),
    # --- text exactly as written ------------------------------------------------------
    ok("markup_in_title_is_text", fine(title="title: '<b>Bold</b> & <i>co</i> ]]> &amp; <!-- -->'"),
       {"title": "<b>Bold</b> & <i>co</i> ]]> &amp; <!-- -->"}),
    ok("control_characters_removed", fine(title='title: "Bell\\a, NEL\\N, DEL\\x7f and NUL\\0 gone"'),
       {"title": "Bell, NEL, DEL and NUL gone"},
       f"{BAD}:2: warning: title: characters that feeds cannot carry were removed"),
    ok("rtl_and_emoji_title", fine(title="title: \"\u05e9\u05dc\u05d5\u05dd \u202eevil\u202c \U0001f44b \u0645\u0631\u062d\u0628\u0627\""),
       {"title": "\u05e9\u05dc\u05d5\u05dd \u202eevil\u202c \U0001f44b \u0645\u0631\u062d\u0628\u0627"}),
    ok("octal_looking_title", fine(title="title: 010"), {"title": "010"}),
    ok("sexagesimal_looking_title", fine(title="title: 1:30"), {"title": "1:30"}),
    ok("float_looking_title", fine(title="title: 1e3"), {"title": "1e3"}),
    ok("bom_and_crlf", ("\ufeff" + fine()).replace("\n", "\r\n"), {"title": "Hostile but harmless"}),
    ok("oversized_title_truncated", fine(title="title: " + "word " * 200),
       {"title": ("word " * 100).strip() + "\u2026"},
       f"{BAD}:2: warning: title: longer than {TITLE_MAX} characters; shortened"),
    ok("truncated_before_escaping", fine(TITLE, DATE, LINK, "excerpt: '" + "&" * (SUMMARY_MAX + 10) + "'"),
       {"summary": "&" * (SUMMARY_MAX - 1) + "\u2026"},
       f"{BAD}:6: warning: excerpt: longer than {SUMMARY_MAX} characters; shortened"),
    # --- dates that are fine ----------------------------------------------------------
    ok("naive_date_is_utc", fine(date="publishedDateTime: 2024-03-04 10:00:00"),
       {"date_published": "2024-03-04T10:00:00+00:00"}),
    ok("naive_date_in_configured_zone", fine(date="publishedDateTime: '2024-03-04 10:00:00'"),
       {"date_published": "2024-03-04T10:00:00+01:00"}, args=("--timezone", "Europe/Paris")),
    ok("bare_date_is_midnight", fine(date="publishedDateTime: 2024-03-04"),
       {"date_published": "2024-03-04T00:00:00+00:00"}),
    ok("offset_keeps_its_instant", fine(date="publishedDateTime: 2024-03-04T11:32:00+05:30"),
       {"date_published": "2024-03-04T11:32:00+05:30"}),
    ok("rfc822_date", fine(date="publishedDateTime: 'Mon, 04 Mar 2024 11:32:00 -0800'"),
       {"date_published": "2024-03-04T11:32:00-08:00"}),
    # --- HTML from the Markdown body ----------------------------------------------------
    ok("script_and_handlers_stripped",
       fine(body="<script>alert(1)</script>\n\nHi <img src=x onerror=alert(1)> "
                 "<a href='javascript:alert(1)' onclick='x()'>j</a> <a href='data:text/html,x'>d</a>\n"),
       {"content_html": '<p>Hi <img src="https://news.example.org/2024/x"> '
                        '<a rel="noopener noreferrer">j</a> <a rel="noopener noreferrer">d</a></p>'}),
    ok("relative_links_made_absolute", fine(body="[up](../index.html) ![pic](img/p.png) [frag](#top)\n"),
       {"content_html": '<p><a href="https://news.example.org/index.html" rel="noopener noreferrer">up</a> '
                        '<img src="https://news.example.org/2024/img/p.png" alt="pic"> '
                        '<a href="https://news.example.org/2024/hostile#top" rel="noopener noreferrer">frag</a></p>'}),
    ok("cdata_end_in_body", fine(body="Ends ]]> here <![CDATA[ x ]]>\n"),
       {"content_html": "<p>Ends ]]&gt; here </p>"}),
    # --- private values ---------------------------------------------------------------
    ok("secret_under_unknown_keys", fine(TITLE, DATE, LINK, f"private: {{token: {SECRET}, list: [{SECRET}]}}",
                                         f"{SECRET}: as a key"),
       {"title": "Hostile but harmless"}),
    bad("secret_in_broken_yaml", fine(TITLE, DATE, LINK, f"secret: '{SECRET}", "other: x"),
        f"{BAD}:8: error: invalid YAML: found unexpected end of stream"),
    # --- the file system ----------------------------------------------------------------
    Case("hidden_and_backup_files_skipped",
         {".hidden.txt": "not an article", "bad.txt~": "not an article", "#bad.txt#": "autosave",
          "notes.json": "{}"}),
    Case("symlink_leaving_the_input_folder", {}, setup=_symlink_out, problems=(
        "in/link.txt: warning: skipped: a symbolic link that leads outside the input folder",)),
    Case("symlink_loops_end", {}, setup=_symlink_loop, problems=(
        "in/loop-a.txt: warning: skipped: a symbolic link that loops",
        "in/loop-b.txt: warning: skipped: a symbolic link that loops",
        "in/loop-dir: warning: skipped: a symbolic link to a folder (folder links are never followed)")),
    ok("symlink_inside_is_followed", fine(), {"title": "Hostile but harmless"},
       "in/bad.txt: error: webUrl: has the same link (id) as in/alias.txt, which is published instead",
       setup=_symlink_inside),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_tree(tmp_path, {"in/good.txt": GOOD, **{f"in/{name}": body for name, body in case.files.items()}})
    if case.setup:
        case.setup(tmp_path)
    before = _snapshot(tmp_path / "in")
    options = ["-i", "in", "--base-url", "https://feeds.example.org/", "--site-url", SITE, *case.args]

    check = CliRunner().invoke(cli, ["check", *options], catch_exceptions=False)
    problem_lines = tuple(line for line in check.stdout.splitlines() if not line.startswith("mkfeeds check:"))
    assert problem_lines == case.problems
    assert check.exit_code == (1 if case.rejected else 0), check.output
    assert not (tmp_path / "out").exists(), "check must write nothing"

    built = CliRunner().invoke(cli, ["build", *options, "-o", "out", "--no-cache"], catch_exceptions=False)
    assert built.exit_code == (1 if case.rejected else 0), built.output
    assert tuple(line for line in built.stderr.splitlines()) == case.problems
    assert "Traceback" not in built.output and "internal error" not in built.output

    items = _published(tmp_path / "out")
    assert GOOD_URL in items, "the good neighbour must be published in every format"
    hostile = [url for url in items if url != GOOD_URL]
    if case.published is None:
        assert hostile == []
    else:
        assert len(hostile) == 1
        item = items[hostile[0]]
        for key, value in case.published.items():
            assert item["json"].get(key) == value, key
        assert item["atom"] == item["rss"] == (item["json"]["title"], item["json"]["url"])

    for text in (check.output, built.output, *_texts(tmp_path / "out")):
        assert SECRET not in text
    assert _snapshot(tmp_path / "in") == before, "the input folder must never be modified"
    assert not (tmp_path / "pwned").exists()


def _published(out: Path) -> dict[str, dict[str, object]]:
    """Each published entry by id: its JSON Feed item, and (title, link) from Atom and RSS.
    Also checks the three formats list the same ids."""
    json_items = {item["id"]: item for item in json.loads((out / "feed.json").read_bytes())["items"]}
    atom = etree.fromstring((out / "atom.xml").read_bytes())
    atom_items = {
        e.findtext(f"{ATOM}id"): (atom_text(e.find(f"{ATOM}title")), e.find(f"{ATOM}link").get("href"))
        for e in atom.iter(f"{ATOM}entry")
    }
    rss = etree.fromstring((out / "rss.xml").read_bytes())
    rss_items = {i.findtext("guid"): (i.findtext("title"), i.findtext("link")) for i in rss.iter("item")}
    assert list(json_items) == list(atom_items) == list(rss_items)
    return {key: {"json": json_items[key], "atom": atom_items[key], "rss": rss_items[key]} for key in json_items}


def atom_text(element) -> str:
    """The text an Atom text construct shows: ``type="html"`` holds escaped markup."""
    return html.unescape(element.text) if element.get("type") == "html" else element.text


def _texts(folder: Path) -> list[str]:
    return [p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()]


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every entry under ``folder`` (links not followed): its mtime and its bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        st = path.lstat()
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes() if path.is_file() else b""
        found[str(path.relative_to(folder))] = (st.st_mtime_ns, data)
    return found


def test_there_are_at_least_thirty_named_fixtures() -> None:
    assert len({case.name for case in CASES}) == len(CASES) >= 30


def test_every_hostile_file_in_one_folder_is_judged_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """All the rejected fixtures side by side: ``check`` lists each one's problems exactly
    as when it was alone, sorted by file, and the good neighbour is still published."""
    monkeypatch.chdir(tmp_path)
    alone = [case for case in CASES if case.rejected and list(case.files) == ["bad.txt"]
             and not case.setup and not case.args]
    write_tree(tmp_path, {"in/good.txt": GOOD, **{f"in/{case.name}.txt": case.files["bad.txt"] for case in alone}})
    expected = [line.replace(BAD, f"in/{case.name}.txt") for case in sorted(alone, key=lambda c: c.name)
                for line in case.problems]
    options = ["-i", "in", "--base-url", "https://feeds.example.org/", "--site-url", SITE]

    check = CliRunner().invoke(cli, ["check", *options], catch_exceptions=False)
    assert check.exit_code == 1
    assert check.stdout.splitlines() == [
        *expected, f"mkfeeds check: 1 publishable, 0 withheld, {len(alone)} rejected, 0 warnings"]

    built = CliRunner().invoke(cli, ["build", *options, "-o", "out", "--no-cache"], catch_exceptions=False)
    assert built.exit_code == 1
    assert list(_published(tmp_path / "out")) == [GOOD_URL]
    assert f", {len(alone)} rejected\n" in built.stdout
