"""Markdown -> safe HTML. The only importer of the Markdown library and the sanitizer.

cmarkgfm binds cmark, CommonMark's reference implementation (in C, linear in its input);
nh3 (Rust's ammonia) is an allow-list sanitizer: no script, no event handler, no style,
no unsafe URL survives it. Relative links and image sources are made absolute against
the article's own link, since a feed reader has no base URL of its own to resolve them with.
"""

from __future__ import annotations

import html
import re

import nh3

from mkfeeds.model import Link
from mkfeeds.urls import BadURL, absolute_url

_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
    "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "time", "tr", "u", "ul",
})
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
    "time": {"datetime"},
}
_URL_ATTRIBUTES = frozenset({"href", "src"})


def prepare() -> None:
    """Import the Markdown library now (before forking workers that render bodies, so
    that each need not); a build whose bodies all come from its state never imports it."""
    import cmarkgfm  # noqa: F401


# Raw HTML tags a body may carry. Sanitizing is superlinear in nesting depth (20,000
# nested <div>s take seconds); past this many tags the body's raw HTML is left out.
MAX_RAW_TAGS = 2_000
_TAG_START = re.compile(r"<[A-Za-z/!?]")


def too_much_markup(source: str) -> bool:
    return len(_TAG_START.findall(source, 0, len(source))) > MAX_RAW_TAGS


def render_markdown(source: str, base_url: str) -> str:
    """CommonMark to sanitized HTML, URLs absolute against ``base_url``."""
    if not source.strip():
        return ""
    from cmarkgfm import markdown_to_html
    from cmarkgfm.cmark import Options

    # UNSAFE only lets raw HTML through to the sanitizer; without it cmark leaves it out.
    options = 0 if too_much_markup(source) else Options.CMARK_OPT_UNSAFE
    html_text: str = markdown_to_html(source, options=options)
    return sanitize(html_text, base_url)


def sanitize(fragment: str, base_url: str) -> str:
    def keep_url(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in _URL_ATTRIBUTES:
            return value
        try:
            return absolute_url(value, base_url)
        except BadURL:
            return None

    return nh3.clean(
        fragment,
        tags=set(_TAGS),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        attribute_filter=keep_url,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def related_list(links: tuple[Link, ...]) -> str:
    """The ``related`` items as a short HTML list a reader shows under the article."""
    if not links:
        return ""
    items = "".join(
        f'<li><a href="{html.escape(link.url)}">{html.escape(link.title)}</a></li>' for link in links
    )
    return f"<h2>Related</h2>\n<ul>{items}</ul>"


def paragraph(plain: str) -> str:
    """Plain text as an HTML paragraph (line breaks kept)."""
    return "<p>" + html.escape(plain).replace("\n", "<br>\n") + "</p>"
