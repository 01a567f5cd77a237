"""Hugo as a peer: the same corpus as a Hugo site whose home page is three full feeds.

``write_site(corpus, site, base_url, taxonomies=...)`` converts every article into a Hugo
content file (JSON front matter: ``title``, ``date``, ``lastmod``, ``summary`` and
``description`` (the excerpt), ``link`` (``webUrl``, else ``originalUrl``), ``categories``
(the article's ``category``), ``topics``, ``tags``, ``providers``, ``author`` and ``draft``
(``published: false``), no body: the peer of a ``content = "summary"`` build) and writes a
minimal site: a config that defines Atom and JSON Feed output formats (``outputFormats`` +
``mediaTypes``) and templates ``index.rss.xml``, ``index.atom.xml`` and ``index.json`` that
list every entry (title, link, id, dates, excerpt, categories). With ``taxonomies`` (the
peer of mkfeeds' default feed set) every term of ``topics``, ``categories`` and
``providers`` gets the same three feeds (``_default/term.*``); without, only the home page
does (the peer of ``--main-only``). No page of its own is rendered for any article
(``_build.render = "never"``): a feed builder writes feeds, not pages.

Converting is not timed (``benchmarks/run.py`` times ``hugo_command`` only). Drafts and
articles dated in the future are left out by Hugo as by mkfeeds (both by default).

API (for ``benchmarks/run.py``)::

    from hugo import find_hugo, write_site, hugo_command, feed_entries
    exe = find_hugo()                                  # None when hugo is not on PATH
    n = write_site(corpus_root, site_dir, BASE_URL, taxonomies=True)
    cmd = hugo_command(exe, site_dir, dest_dir, cache_dir)  # hugo --quiet --ignoreCache ...

Script: ``python benchmarks/hugo.py CORPUS SITE [--main-only]`` writes the site only.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import yaml

__all__ = ["find_hugo", "hugo_version", "write_site", "hugo_command", "feed_entries"]

_CONFIG = """\
baseURL = "{base_url}"
title = "mkfeeds benchmark (Hugo peer)"
languageCode = "en"
timeout = "3600s"
disableKinds = {disabled}
enableRobotsTXT = false
ignoreErrors = ["error-disable-taxonomy"]

[taxonomies]
{taxonomies}

[mediaTypes."application/atom+xml"]
suffixes = ["xml"]
[mediaTypes."application/feed+json"]
suffixes = ["json"]

[outputFormats.RSS]
baseName = "rss"
[outputFormats.Atom]
mediaType = "application/atom+xml"
baseName = "atom"
rel = "alternate"
isPlainText = false
[outputFormats.JSON]
mediaType = "application/feed+json"
baseName = "feed"
isPlainText = true

[outputs]
home = ["RSS", "Atom", "JSON"]
term = ["RSS", "Atom", "JSON"]
"""

_TAXONOMIES = 'topic = "topics"\ncategory = "categories"\nprovider = "providers"'

# Every article stays listed (in .Site.RegularPages and its terms' .Pages) but gets no page.
_HOME = {"title": "Home", "cascade": [{"_target": {"kind": "page"}, "_build": {"render": "never"}}]}

# The pages a feed lists: every regular page for the home page, the term's pages for a term.
_PAGES = "{{- $pages := .Pages }}{{ if .IsHome }}{{ $pages = .Site.RegularPages }}{{ end }}"

_RSS = _PAGES + """
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>{{ .Site.Title }}{{ if not .IsHome }}: {{ .Title }}{{ end }}</title>
<link>{{ .Site.BaseURL }}</link>
<description>{{ .Site.Title }}</description>
{{ with .OutputFormats.Get "RSS" }}<atom:link href="{{ .Permalink }}" rel="self" type="application/rss+xml"/>{{ end }}
{{- range $pages.ByDate.Reverse }}
<item>
<title>{{ .Title }}</title>
<link>{{ .Params.link }}</link>
<guid isPermaLink="true">{{ .Params.link }}</guid>
<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
<dc:creator>{{ .Params.author }}</dc:creator>
<description>{{ .Description }}</description>
{{- range .Params.categories }}<category>{{ . }}</category>{{ end }}
{{- range .Params.topics }}<category>{{ . }}</category>{{ end }}
{{- range .Params.tags }}<category>{{ . }}</category>{{ end }}
</item>
{{- end }}
</channel>
</rss>
"""

_ATOM = _PAGES + """
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<feed xmlns="http://www.w3.org/2005/Atom">
<title>{{ .Site.Title }}{{ if not .IsHome }}: {{ .Title }}{{ end }}</title>
<id>{{ .Site.BaseURL }}{{ if not .IsHome }}{{ .RelPermalink }}{{ end }}</id>
<link href="{{ .Site.BaseURL }}"/>
{{ with .OutputFormats.Get "Atom" }}<link href="{{ .Permalink }}" rel="self"/>{{ end }}
<updated>{{ now.Format "2006-01-02T15:04:05Z07:00" | safeHTML }}</updated>
{{- range $pages.ByDate.Reverse }}
<entry>
<title>{{ .Title }}</title>
<link href="{{ .Params.link }}"/>
<id>{{ .Params.link }}</id>
<published>{{ .Date.Format "2006-01-02T15:04:05Z07:00" | safeHTML }}</published>
<updated>{{ .Lastmod.Format "2006-01-02T15:04:05Z07:00" | safeHTML }}</updated>
<author><name>{{ .Params.author }}</name></author>
<summary type="text">{{ .Description }}</summary>
{{- range .Params.categories }}<category term="{{ . }}"/>{{ end }}
{{- range .Params.topics }}<category term="{{ . }}"/>{{ end }}
{{- range .Params.tags }}<category term="{{ . }}"/>{{ end }}
</entry>
{{- end }}
</feed>
"""

_JSON = _PAGES + """
{"version": "https://jsonfeed.org/version/1.1",
"title": {{ .Site.Title | jsonify }},
"home_page_url": {{ .Site.BaseURL | jsonify }},
{{ with .OutputFormats.Get "JSON" }}"feed_url": {{ .Permalink | jsonify }},{{ end }}
"items": [
{{- range $i, $p := $pages.ByDate.Reverse }}{{ if $i }},{{ end }}
{{- $tags := slice }}
{{- range $p.Params.categories }}{{ $tags = $tags | append . }}{{ end }}
{{- range $p.Params.topics }}{{ $tags = $tags | append . }}{{ end }}
{{- range $p.Params.tags }}{{ $tags = $tags | append . }}{{ end }}
{"id": {{ $p.Params.link | jsonify }}, "url": {{ $p.Params.link | jsonify }}, \
"title": {{ $p.Title | jsonify }}, "summary": {{ $p.Description | jsonify }}, \
"date_published": {{ $p.Date.Format "2006-01-02T15:04:05Z07:00" | jsonify }}, \
"date_modified": {{ $p.Lastmod.Format "2006-01-02T15:04:05Z07:00" | jsonify }}, \
"authors": [{"name": {{ $p.Params.author | jsonify }}}], "tags": {{ $tags | jsonify }}}
{{- end }}
]}
"""

_TEMPLATES = {"rss.xml": _RSS, "atom.xml": _ATOM, "json": _JSON}


def find_hugo() -> str | None:
    return shutil.which("hugo")


def hugo_version(exe: str) -> str:
    out = subprocess.run([exe, "version"], capture_output=True, text=True, check=False).stdout
    return out.split()[1] if out.split()[1:] else "?"


def _stamp(value: object) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if value is not None else None


def _strings(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    return [str(value)] if value is not None else []


def front_matter(meta: dict) -> dict:
    """The Hugo front matter of one article's (parsed) front matter."""
    provider = meta.get("provider") if isinstance(meta.get("provider"), dict) else {}
    published = meta.get("published", True)
    excerpt = str(meta.get("excerpt") or "")
    fm = {
        "title": str(meta.get("title") or ""),
        "date": _stamp(meta.get("publishedDateTime")),
        "lastmod": _stamp(meta.get("updatedDateTime") or meta.get("publishedDateTime")),
        "summary": excerpt,
        "description": excerpt,
        "link": str(meta.get("webUrl") or meta.get("originalUrl") or ""),
        "categories": _strings(meta.get("category")),
        "topics": _strings(meta.get("topics")),
        "tags": _strings(meta.get("tags")),
        "providers": _strings(provider.get("name")),
        "author": str(provider.get("name") or ""),
        "draft": published is False or str(published).lower() in ("false", "no", "0"),
    }
    return {k: v for k, v in fm.items() if v not in (None, [])}


def _split(text: str) -> str:
    if not text.startswith("---"):
        return ""
    end = text.find("\n---", 3)
    return text[text.find("\n") + 1:end + 1] if end > 0 else ""


def _convert(task: tuple[str, str]) -> int:
    source, target = task
    with open(source, "rb") as f:
        meta = yaml.load(_split(f.read().decode("utf-8")), Loader=yaml.CSafeLoader)
    if not isinstance(meta, dict):
        return 0
    with open(target, "w", encoding="utf-8") as f:
        f.write(json.dumps(front_matter(meta), ensure_ascii=False) + "\n")
    return 1


def write_site(corpus: Path, site: Path, base_url: str, *, taxonomies: bool = True,
               processes: int | None = None) -> int:
    """Write the Hugo site of the corpus under ``site`` (replaced); returns how many
    articles became content files."""
    if site.exists():
        shutil.rmtree(site)
    content = site / "content" / "posts"
    tasks = []
    for source in sorted(corpus.rglob("*.txt")):
        rel = source.relative_to(corpus).with_suffix(".md")
        tasks.append((str(source), str(content / rel)))
    for folder in sorted({os.path.dirname(t) for _, t in tasks}):
        os.makedirs(folder, exist_ok=True)
    (site / "content" / "_index.md").write_text(json.dumps(_HOME) + "\n")
    disabled = ["section", "taxonomy", "sitemap", "robotsTXT", "404"]
    if not taxonomies:
        disabled.append("term")
    (site / "config.toml").write_text(_CONFIG.format(
        base_url=base_url, disabled=json.dumps(disabled), taxonomies=_TAXONOMIES if taxonomies else ""))
    layouts = site / "layouts"
    (layouts / "_default").mkdir(parents=True)
    for suffix, template in _TEMPLATES.items():
        (layouts / f"index.{suffix}").write_text(template)
        if taxonomies:
            (layouts / "_default" / f"term.{suffix}").write_text(template)
    with multiprocessing.get_context().Pool(processes or os.cpu_count() or 1) as pool:
        return sum(pool.imap_unordered(_convert, tasks, chunksize=256))


def hugo_command(exe: str, site: Path, dest: Path, cache: Path) -> list[str]:
    """A cold build: nothing cached (``--ignoreCache``, a fresh ``--cacheDir``), no output."""
    return [exe, "--quiet", "--ignoreCache", "--source", str(site), "--destination", str(dest),
            "--cacheDir", str(cache)]


def feed_entries(dest: Path) -> int:
    """How many entries the home page's JSON Feed lists (to check a build did its work)."""
    return len(json.loads((dest / "feed.json").read_text(encoding="utf-8"))["items"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("site", type=Path)
    ap.add_argument("--base-url", default="https://bench.example.org/")
    ap.add_argument("--main-only", action="store_true", help="no taxonomy term feeds")
    a = ap.parse_args(argv)
    n = write_site(a.corpus, a.site, a.base_url, taxonomies=not a.main_only)
    print(f"{n} content files under {a.site / 'content'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
