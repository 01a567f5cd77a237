"""Tests for tests/feedcheck.py, the offline stand-in for the W3C Feed Validation Service.

Each format has one hand-written feed that must pass untouched.  Each rule is then
shown to fire on a copy of that feed with one small change (the case id is the rule
name), and, unless a case says otherwise, to be the *only* rule that fires, so a
rule that over-reports fails too.  A few cases pin what must stay silent.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

try:  # tests/ as a package or as a plain directory on sys.path
    from . import feedcheck
except ImportError:  # pragma: no cover - depends on how pytest imports tests/
    import feedcheck

check_rss = feedcheck.check_rss
check_atom = feedcheck.check_atom
check_jsonfeed = feedcheck.check_jsonfeed

# ---------------------------------------------------------------------------
# Known-good feeds.  Indentation is part of the anchors the cases replace.
# ---------------------------------------------------------------------------

GOOD_RSS = """\
<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
  <channel>
    <title>Example News</title>
    <link>https://example.com/</link>
    <description>Articles from Example News.</description>
    <atom:link href="https://example.com/feed.rss" rel="self" type="application/rss+xml"/>
    <language>en-us</language>
    <generator>mkfeeds 0.1</generator>
    <docs>http://www.rssboard.org/rss-specification</docs>
    <ttl>60</ttl>
    <lastBuildDate>Mon, 04 Mar 2024 11:32:00 +0000</lastBuildDate>
    <image>
      <url>https://example.com/logo.png</url>
      <title>Example News</title>
      <link>https://example.com/</link>
      <width>144</width>
      <height>40</height>
    </image>
    <item>
      <title>Large language models &amp; why they work</title>
      <link>https://example.com/2024/03/04/llms</link>
      <description>&lt;p&gt;Nobody knows &lt;a href="https://example.com/why"&gt;why&lt;/a&gt;.&lt;/p&gt;</description>
      <content:encoded><![CDATA[<p>Full text with an <img src="https://example.com/a.jpg" alt="chart"> image.</p>]]></content:encoded>
      <dc:creator>MIT Technology Review</dc:creator>
      <category>AI</category>
      <guid isPermaLink="true">https://example.com/2024/03/04/llms</guid>
      <pubDate>Mon, 04 Mar 2024 11:32:00 +0000</pubDate>
      <enclosure url="https://example.com/a.mp3" length="12345" type="audio/mpeg"/>
      <media:content url="https://example.com/a.jpg" medium="image" width="2100" height="1182" type="image/jpeg"/>
      <media:thumbnail url="https://example.com/a-thumb.jpg" width="210" height="118"/>
    </item>
    <item>
      <title>Second article</title>
      <link>https://example.com/2024/03/03/second</link>
      <description>Plain text summary.</description>
      <author>editor@example.com (Jane Editor)</author>
      <guid isPermaLink="false">tag:example.com,2024:second</guid>
      <pubDate>Sun, 03 Mar 2024 09:00:00 GMT</pubDate>
    </item>
  </channel>
</rss>
"""

GOOD_ATOM = """\
<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/" xml:lang="en">
  <id>https://example.com/</id>
  <title>Example News</title>
  <subtitle>Articles from Example News.</subtitle>
  <updated>2024-03-04T11:32:00Z</updated>
  <link href="https://example.com/" rel="alternate" type="text/html"/>
  <link href="https://example.com/feed.atom" rel="self" type="application/atom+xml"/>
  <author>
    <name>Example News</name>
    <uri>https://example.com/about</uri>
  </author>
  <generator uri="https://example.com/mkfeeds" version="0.1">mkfeeds</generator>
  <icon>https://example.com/icon.png</icon>
  <entry>
    <id>https://example.com/2024/03/04/llms</id>
    <title>Large language models &amp; why they work</title>
    <updated>2024-03-04T11:32:00Z</updated>
    <published>2024-03-04T11:32:00+00:00</published>
    <link href="https://example.com/2024/03/04/llms" rel="alternate" type="text/html"/>
    <link href="https://example.com/a.mp3" rel="enclosure" type="audio/mpeg" length="12345"/>
    <summary>Nobody knows why.</summary>
    <content type="html">&lt;p&gt;Full text with &lt;a href="/why"&gt;a relative link&lt;/a&gt;.&lt;/p&gt;</content>
    <category term="AI"/>
    <media:thumbnail url="https://example.com/a-thumb.jpg" width="210" height="118"/>
  </entry>
  <entry>
    <id>tag:example.com,2024:second</id>
    <title type="text">Second article</title>
    <updated>2024-03-03T09:00:00.5-05:00</updated>
    <author><name>Jane Editor</name><email>editor@example.com</email></author>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <em>world</em>.</p></div></content>
  </entry>
</feed>
"""

GOOD_JSON = """\
{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Example News",
  "home_page_url": "https://example.com/",
  "feed_url": "https://example.com/feed.json",
  "description": "Articles from Example News.",
  "icon": "https://example.com/icon-512.png",
  "favicon": "https://example.com/icon-64.png",
  "language": "en-US",
  "authors": [{"name": "Example News", "url": "https://example.com/about"}],
  "_mkfeeds": {"about": "https://example.com/mkfeeds"},
  "items": [
    {
      "id": "https://example.com/2024/03/04/llms",
      "url": "https://example.com/2024/03/04/llms",
      "title": "Large language models & why they work",
      "content_html": "<p>Nobody knows <a href=\\"https://example.com/why\\">why</a>.</p>",
      "summary": "Nobody knows why.",
      "image": "https://example.com/a.jpg",
      "date_published": "2024-03-04T11:32:00Z",
      "date_modified": "2024-03-04T12:00:00+01:00",
      "tags": ["AI", "Natural Language Processing"],
      "authors": [{"name": "MIT Technology Review"}],
      "attachments": [{"url": "https://example.com/a.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 12345}]
    },
    {
      "id": "tag:example.com,2024:second",
      "content_text": "Plain text.",
      "date_published": "2024-03-03T09:00:00-05:00"
    }
  ]
}
"""

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

PROBLEM = re.compile(r"^(?P<path>.+?): (?P<message>.+) \[(?P<severity>error|warning) (?P<rule>[\w:]+)\]$")


def rules_of(problems: list[str]) -> dict[str, str]:
    """{rule: severity} of a checker's output; every line must have the documented shape."""
    found = {}
    for line in problems:
        match = PROBLEM.match(line)
        assert match, f"badly formed problem line: {line!r}"
        found[match["rule"]] = match["severity"]
    return found


def mutate(document: str, old: str, new: str) -> bytes:
    """The document with one exact, unique substring replaced, as UTF-8 bytes."""
    assert document.count(old) == 1, f"anchor {old!r} occurs {document.count(old)} times"
    return document.replace(old, new).encode("utf-8")


def case(rule: str, old: str, new: str, severity: str = "error", also: tuple[str, ...] = (), id: str = ""):
    """One mutation case: replacing old by new must raise rule (with severity);
    rules in also may fire alongside it, nothing else may."""
    return pytest.param(old, new, rule, severity, also, id=id or rule)


def assert_flags(problems: list[str], rule: str, severity: str, also: tuple[str, ...] = ()) -> None:
    found = rules_of(problems)
    assert found.get(rule) == severity, f"expected [{severity} {rule}] in {problems}"
    unexpected = set(found) - {rule, *also}
    assert not unexpected, f"unexpected rules {sorted(unexpected)} in {problems}"


# ---------------------------------------------------------------------------
# Good feeds
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("check, document", [(check_rss, GOOD_RSS), (check_atom, GOOD_ATOM),
                                             (check_jsonfeed, GOOD_JSON)], ids=["rss", "atom", "jsonfeed"])
def test_good_feed_has_no_problems(check, document):
    """The hand-written feeds are valid and draw no warning."""
    assert check(document.encode("utf-8")) == []


def test_problem_line_names_path_rule_and_severity():
    """A problem reads 'path: message [severity Rule]', quoting the bad value."""
    problems = check_rss(mutate(GOOD_RSS, "<pubDate>Sun, 03 Mar 2024 09:00:00 GMT",
                                "<pubDate>Sun, 3 March 2024"))
    assert problems == ["item[2]/pubDate: not an RFC 822 date-time: 'Sun, 3 March 2024' "
                        "[error InvalidRFC2822Date]"]


# ---------------------------------------------------------------------------
# RSS 2.0
# ---------------------------------------------------------------------------

MEDIA_CONTENT = ('<media:content url="https://example.com/a.jpg" medium="image" width="2100" height="1182"'
                 ' type="image/jpeg"/>')

RSS_CASES = [
    # Document level
    case("SAXError", "<title>Example News</title>\n    <link>", "<title>Example News</titel>\n    <link>"),
    case("UndefinedNamedEntity", "Plain text summary.", "Plain&nbsp;text summary."),
    case("BadXmlVersion", '<?xml version="1.0"', '<?xml version="1.1"'),
    case("mkfeeds:UTF8", 'encoding="UTF-8"', 'encoding="ISO-8859-1"'),
    case("BadCharacters", "Plain text summary.", "Plain text\u0085summary.", "warning"),
    case("BadCharacters", "Second article", "Caf\u00c3\u00a9 article", "warning", id="BadCharacters-mojibake"),
    case("SAXError", "Plain text summary.", "Plain text&#1;summary.", id="SAXError-control-character"),
    case("MediaRssNamespace", 'xmlns:media="http://search.yahoo.com/mrss/"',
         'xmlns:media="http://search.yahoo.com/mrss"'),
    case("ReservedPrefix", 'xmlns:dc="http://purl.org/dc/elements/1.1/"', 'xmlns:dc="http://example.com/dc"',
         "warning", also=("UnknownNamespace",)),
    case("UnknownNamespace", '<rss version="2.0" ', '<rss version="2.0" xmlns:x="https://example.com/ns" ',
         "warning"),
    case("InvalidLanguage", "<rss version", '<rss xml:lang="english" version', id="InvalidLanguage-xml:lang"),
    # rss and channel structure
    case("InvalidRSSVersion", 'version="2.0"', 'version="3.0"'),
    case("MissingAttribute", '<rss version="2.0" ', "<rss ", id="MissingAttribute-version"),
    case("MissingTitle", "\n    <title>Example News</title>", "", also=("ImageTitleDoesntMatch",)),
    case("MissingLink", "\n    <link>https://example.com/</link>", "", also=("ImageLinkDoesntMatch",)),
    case("MissingDescription", "\n    <description>Articles from Example News.</description>", ""),
    case("DuplicateElement", "<ttl>60</ttl>", "<ttl>60</ttl><ttl>60</ttl>"),
    case("UndefinedElement", "<ttl>60</ttl>", "<ttl>60</ttl><updated>now</updated>"),
    case("UndefinedElement", "<ttl>60</ttl>", "<ttl><b>60</b></ttl>", id="UndefinedElement-markup-in-text"),
    case("NoBlink", "<ttl>60</ttl>", "<ttl>60</ttl><blink>yes</blink>"),
    case("UnexpectedAttribute", "<ttl>60</ttl>", '<ttl unit="minutes">60</ttl>'),
    case("UnexpectedText", "<ttl>60</ttl>", "<ttl>60</ttl> stray text"),
    case("MisplacedItem", "      <pubDate>Sun, 03 Mar 2024 09:00:00 GMT</pubDate>\n    </item>",
         "      <pubDate>Sun, 03 Mar 2024 09:00:00 GMT</pubDate>\n    </item>\n    <copyright>me</copyright>",
         "warning"),
    case("ContainsHTML", "<title>Example News</title>\n    <link>", "<title>Example &lt;b&gt;News&lt;/b&gt;</title>\n    <link>",
         "warning", also=("ImageTitleDoesntMatch",)),
    case("NotBlank", "<title>Second article</title>", "<title> </title>", "warning"),
    case("InvalidFullLink", "<link>https://example.com/2024/03/03/second</link>", "<link>/2024/03/03/second</link>"),
    case("InvalidUriChar", "<link>https://example.com/2024/03/03/second</link>",
         "<link>https://example.com/2024/03/03/second article</link>"),
    case("UriNotIri", "<link>https://example.com/2024/03/03/second</link>",
         "<link>https://example.com/2024/03/03/zweiter-Übersicht</link>"),
    case("mkfeeds:AbsoluteHttpURL", "<link>https://example.com/2024/03/03/second</link>",
         "<link>ftp://example.com/2024/03/03/second</link>"),
    case("InvalidLanguage", "<language>en-us</language>", "<language>english</language>"),
    case("InvalidPositiveInteger", "<ttl>60</ttl>", "<ttl>an hour</ttl>"),
    case("InvalidContact", "editor@example.com (Jane Editor)", "Jane Editor"),
    case("MissingRealName", "editor@example.com (Jane Editor)", "editor@example.com", "warning"),
    case("EmailFormat", "editor@example.com (Jane Editor)", "Jane Editor &lt;editor@example.com&gt;", "warning"),
    case("DuplicateSemantics", "<language>en-us</language>", "<language>en-us</language><dc:language>en</dc:language>",
         "warning"),
    case("AvoidTextInput", "<ttl>60</ttl>",
         "<ttl>60</ttl><textInput><title>t</title><description>d</description><name>q</name>"
         "<link>https://example.com/s</link></textInput>", "warning"),
    case("InvalidHour", "<ttl>60</ttl>", "<ttl>60</ttl><skipHours><hour>24</hour></skipHours>"),
    case("InvalidDay", "<ttl>60</ttl>", "<ttl>60</ttl><skipDays><day>Mon</day></skipDays>"),
    case("NotEnoughHoursInTheDay", "<ttl>60</ttl>", "<ttl>60</ttl><skipHours>" + "<hour>1</hour>" * 25 + "</skipHours>"),
    case("EightDaysAWeek", "<ttl>60</ttl>", "<ttl>60</ttl><skipDays>" + "<day>Monday</day>" * 8 + "</skipDays>"),
    case("mkfeeds:Rss20", 'version="2.0"', 'version="0.92"'),
    case("mkfeeds:Doctype", '<?xml version="1.0" encoding="UTF-8"?>\n',
         '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE rss>\n', "warning"),
    # atom:link rel="self"
    case("MissingAtomSelfLink",
         '\n    <atom:link href="https://example.com/feed.rss" rel="self" type="application/rss+xml"/>', "", "warning"),
    case("mkfeeds:SelfLinkType", ' rel="self" type="application/rss+xml"', ' rel="self"'),
    case("SelfNotAtom", ' rel="self" type="application/rss+xml"', ' rel="self" type="text/html"', "warning",
         also=("mkfeeds:SelfLinkType",)),
    case("RelativeSelf", 'href="https://example.com/feed.rss"', 'href="/feed.rss"', "warning",
         also=("mkfeeds:AbsoluteHttpURL",)),
    case("MissingHref", '<atom:link href="https://example.com/feed.rss" rel="self"', '<atom:link rel="self"'),
    case("UnregisteredAtomLinkRel", "<ttl>60</ttl>",
         '<ttl>60</ttl><atom:link href="https://example.com/x" rel="sidebar"/>', "warning"),
    # Dates
    case("InvalidRFC2822Date", "<pubDate>Sun, 03 Mar 2024 09:00:00 GMT", "<pubDate>2024-03-03T09:00:00Z"),
    case("InvalidRFC2822Date", "<pubDate>Sun, 03 Mar 2024 09:00:00 GMT", "<pubDate>Sun, 03 Mar 2024 09:00:00",
         id="InvalidRFC2822Date-no-zone"),
    case("InvalidRFC2822Date", "<pubDate>Sun, 03 Mar 2024 09:00:00 GMT", "<pubDate>30 Feb 2024 09:00:00 GMT",
         id="InvalidRFC2822Date-impossible-day"),
    case("ProblematicalRFC822Date", "<pubDate>Sun, 03 Mar 2024 09:00:00 GMT", "<pubDate>Sun, 03 Mar 24 09:00:00 GMT",
         "warning"),
    case("ProblematicalRFC822Date", "<pubDate>Sun, 03 Mar 2024 09:00:00 GMT",
         "<pubDate>Sun, 03 Mar 2024 15:45:00 +0545", "warning", id="ProblematicalRFC822Date-zone-minutes"),
    case("IncorrectDOW", "<pubDate>Sun, 03 Mar 2024", "<pubDate>Mon, 03 Mar 2024"),
    case("ImplausibleDate", "<pubDate>Sun, 03 Mar 2024", "<pubDate>Sun, 03 Mar 1985", "warning"),
    case("InvalidW3CDTFDate", "<dc:creator>", "<dc:date>4 March 2024</dc:date><dc:creator>",
         also=("DuplicateItemSemantics",)),
    # Items
    case("ItemMustContainTitleOrDescription",
         "      <title>Second article</title>\n      <link>https://example.com/2024/03/03/second</link>\n"
         "      <description>Plain text summary.</description>\n",
         "      <link>https://example.com/2024/03/03/second</link>\n"),
    case("MissingGuid", '\n      <guid isPermaLink="false">tag:example.com,2024:second</guid>', "", "warning"),
    case("DuplicateValue", "tag:example.com,2024:second", "https://example.com/2024/03/04/llms"),
    case("InvalidHttpGUID", '<guid isPermaLink="true">https://example.com/2024/03/04/llms',
         '<guid isPermaLink="true">/2024/03/04/llms'),
    case("InvalidPermalink", '<guid isPermaLink="false">', "<guid>"),
    case("InvalidBooleanAttribute", 'isPermaLink="false"', 'isPermaLink="no"'),
    case("NotSufficientlyUnique", "tag:example.com,2024:second", "2", "warning"),
    case("NotBlank", "<category>AI</category>", "<category> </category>", "warning", id="NotBlank-category"),
    case("DuplicateEnclosure", 'type="audio/mpeg"/>', 'type="audio/mpeg"/><enclosure url="https://example.com/b.mp3"'
         ' length="1" type="audio/mpeg"/>', "warning"),
    case("MissingAttribute", ' length="12345"', "", id="MissingAttribute-enclosure-length"),
    case("InvalidIntegerAttribute", 'length="12345"', 'length="12 kB"'),
    case("UseZeroForUnknown", 'length="12345"', 'length="-1"'),
    case("InvalidMIMEAttribute", 'type="audio/mpeg"', 'type="mp3"'),
    case("InvalidURLAttribute", 'url="https://example.com/a.mp3"', 'url="a.mp3"'),
    case("DuplicateItemSemantics", "<author>editor@example.com (Jane Editor)</author>",
         "<author>editor@example.com (Jane Editor)</author><dc:creator>Jane Editor</dc:creator>", "warning"),
    case("NeedDescriptionBeforeContent",
         "      <description>Plain text summary.</description>\n",
         "      <content:encoded>Body</content:encoded>\n      <description>Plain text summary.</description>\n",
         "warning"),
    # HTML in description and content:encoded
    case("SecurityRisk", "image.</p>", "image.</p><script>alert(1)</script>", "warning"),
    case("SecurityRisk", "image.</p>", 'image.</p><iframe src="https://example.com/v"></iframe>', "warning",
         id="SecurityRisk-iframe"),
    case("SecurityRiskAttr", 'alt="chart"', 'alt="chart" onload="steal()"', "warning"),
    case("SecurityRiskAttr", 'alt="chart"', 'alt="chart" aria-label="chart"', "warning",
         id="SecurityRiskAttr-aria-not-on-the-list"),
    case("DangerousStyleAttr", 'alt="chart"', 'alt="chart" style="background: url(https://x.test/a.png)"', "warning"),
    case("NotHtml", "image.</p>", "image.</p><b>unclosed", "warning"),
    case("NotHtml", "image.</p>", "image.</p><blink>old</blink>", "warning", id="NotHtml-unknown-element"),
    case("NotHtml", "image.</p>", "image.</p></div>", "warning", id="NotHtml-stray-end-tag"),
    case("ContainsRelRef", 'src="https://example.com/a.jpg" alt', 'src="/a.jpg" alt', "warning"),
    case("ContainsRelRef", "Plain text summary.", "See &lt;a href=\"#notes\"&gt;notes&lt;/a&gt;.", "warning",
         id="ContainsRelRef-fragment"),
    case("InvalidUriChar", 'src="https://example.com/a.jpg" alt', 'src="my chart.jpg" alt', id="InvalidUriChar-html"),
    case("mkfeeds:UnsafeURL", "image.</p>", 'image.</p><a href="javascript:alert(1)">x</a>'),
    # Media RSS
    case("MediaGroupWithoutAlternatives", MEDIA_CONTENT, f"<media:group>{MEDIA_CONTENT}</media:group>"),
    case("InvalidPositiveInteger", 'width="2100"', 'width="2100px"', id="InvalidPositiveInteger-media-width"),
    case("MissingAttribute", '<media:thumbnail url="https://example.com/a-thumb.jpg"', "<media:thumbnail",
         id="MissingAttribute-media-thumbnail-url"),
    case("mkfeeds:AbsoluteHttpURL", 'media:content url="https://example.com/a.jpg"',
         'media:content url="file:///tmp/a.jpg"', id="mkfeeds:AbsoluteHttpURL-media"),
    case("InvalidMediaMedium", 'medium="image"', 'medium="picture"'),
    case("InvalidMediaExpression", 'medium="image"', 'medium="image" expression="partial"'),
    case("InvalidTrueFalse", 'medium="image"', 'medium="image" isDefault="yes"'),
    case("InvalidFloat", 'medium="image"', 'medium="image" duration="long"'),
    case("InvalidNPTTime", 'width="210" height="118"', 'width="210" height="118" time="1 min"'),
    case("InvalidMediaTextType", "<dc:creator>", '<media:title type="rich">Chart</media:title><dc:creator>'),
    case("UnexpectedAttribute", 'medium="image"', 'medium="image" alt="chart"', id="UnexpectedAttribute-media"),
    # image
    case("MissingElement", "\n      <url>https://example.com/logo.png</url>", "", id="MissingElement-image-url"),
    case("InvalidWidth", "<width>144</width>", "<width>200</width>"),
    case("InvalidHeight", "<height>40</height>", "<height>401</height>"),
    case("ImageUrlFormat", "logo.png", "logo.svg", "warning"),
    case("ImageLinkDoesntMatch", "\n      <link>https://example.com/</link>", "\n      <link>https://example.com/x</link>",
         "warning"),
    case("ImageTitleDoesntMatch", "\n      <title>Example News</title>", "\n      <title>Logo</title>", "warning"),
]


@pytest.mark.parametrize("old, new, rule, severity, also", RSS_CASES)
def test_rss_rule(old, new, rule, severity, also):
    """Each RSS rule fires on its one-change mutation of GOOD_RSS, and only it."""
    assert_flags(check_rss(mutate(GOOD_RSS, old, new)), rule, severity, also)


def test_rss_MediaGroupWithoutAlternatives_allows_two_alternatives():
    """A media:group with two media:content children is what groups are for."""
    group = ('<media:group><media:content url="https://example.com/a.jpg" type="image/jpeg"/>'
             '<media:content url="https://example.com/a.webp" type="image/webp"/></media:group>')
    assert check_rss(mutate(GOOD_RSS, "<dc:creator>", group + "<dc:creator>")) == []


def test_rss_mkfeeds_UTF8_undecodable_bytes():
    """Bytes that are not UTF-8 are rejected before parsing."""
    assert_flags(check_rss(GOOD_RSS.encode("utf-8").replace(b"Plain", b"Pl\xe9in")), "mkfeeds:UTF8", "error")


def test_rss_mkfeeds_UTF8_utf16():
    """A UTF-16 document is rejected: our feeds are UTF-8."""
    assert_flags(check_rss(GOOD_RSS.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")),
                 "mkfeeds:UTF8", "error")


def test_rss_mkfeeds_NotRss():
    """An Atom document handed to check_rss is not RSS."""
    assert_flags(check_rss(GOOD_ATOM.encode()), "mkfeeds:NotRss", "error")


@pytest.mark.parametrize("check", [check_rss, check_atom, check_jsonfeed])
def test_mkfeeds_Bytes(check):
    """The checkers take bytes, as written to disk; text is a caller error reported as a problem."""
    assert_flags(check(GOOD_RSS), "mkfeeds:Bytes", "error")


def test_rss_MissingElement_channel():
    """rss must contain a channel."""
    assert_flags(check_rss(b'<rss version="2.0"/>'), "MissingElement", "error")


def test_rss_DuplicateElement_channel():
    """rss contains exactly one channel."""
    channel = "<channel><title>t</title><link>https://example.com/</link><description>d</description>" \
              '<atom:link href="https://example.com/f" rel="self" type="application/rss+xml"/></channel>'
    data = f'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">{channel}{channel}</rss>'
    assert_flags(check_rss(data.encode()), "DuplicateElement", "error")


def test_rss_UseOfExtensionAttr_unless_docs_point_at_the_rss_board():
    """Foreign attributes on core elements warn, except in a feed whose docs is the RSS Board spec."""
    extended = GOOD_RSS.replace('<rss version="2.0" ', '<rss version="2.0" xmlns:x="https://example.com/ns" ') \
                       .replace("<ttl>60</ttl>", '<ttl x:unit="minutes">60</ttl>')
    assert rules_of(check_rss(extended.encode())) == {"UnknownNamespace": "warning"}
    without_docs = extended.replace("\n    <docs>http://www.rssboard.org/rss-specification</docs>", "")
    assert_flags(check_rss(without_docs.encode()), "UseOfExtensionAttr", "warning", also=("UnknownNamespace",))


def test_rss_ImplausibleDate_in_the_future_only_with_now():
    """Future dates are judged only against an explicit now, so results stay repeatable."""
    data = GOOD_RSS.encode()
    assert check_rss(data) == []
    now = dt.datetime(2024, 3, 4, 11, 0, tzinfo=dt.timezone.utc)
    assert_flags(check_rss(data, now=now), "ImplausibleDate", "warning")
    later = dt.datetime(2024, 3, 4, 12, 0, tzinfo=dt.timezone.utc)
    assert check_rss(data, now=later) == []


def test_rss_ContainsRelRef_silent_for_absolute_and_mailto_links():
    """Absolute URLs of any scheme are fine in HTML."""
    html = "&lt;a href=\"mailto:jane@example.com\"&gt;mail&lt;/a&gt; &lt;a href=\"https://example.com/x\"&gt;x&lt;/a&gt;"
    assert check_rss(mutate(GOOD_RSS, "Plain text summary.", html)) == []


def test_rss_html_with_optional_end_tags_is_fine():
    """HTML that omits optional end tags (li, p, td) is still valid HTML."""
    html = "<ul><li>one<li>two</ul><p>para<p>another<table><tr><td>1<td>2</table>"
    assert check_rss(mutate(GOOD_RSS, "image.</p>", "image.</p>" + html)) == []


# ---------------------------------------------------------------------------
# Atom 1.0
# ---------------------------------------------------------------------------

SELF_LINK = '\n  <link href="https://example.com/feed.atom" rel="self" type="application/atom+xml"/>'
FEED_AUTHOR = "\n  <author>\n    <name>Example News</name>\n    <uri>https://example.com/about</uri>\n  </author>"

XHTML_CONTENT = ('<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <em>world</em>.</p>'
                 '</div></content>')

ATOM_CASES = [
    # Schema (RFC 4287 Appendix B) and document level
    case("RelaxNG", "<category term=\"AI\"/>", "<category/>"),
    case("RelaxNG", "<icon>https://example.com/icon.png</icon>",
         "<icon>https://example.com/icon.png</icon><icon>https://example.com/2.png</icon>",
         id="RelaxNG-duplicate-icon"),
    case("MissingElement", "\n  <id>https://example.com/</id>", "", also=("RelaxNG",)),
    case("MissingElement", "\n    <updated>2024-03-03T09:00:00.5-05:00</updated>", "", also=("RelaxNG",),
         id="MissingElement-entry-updated"),
    case("AvoidNamespacePrefix", "\n  <icon>https://example.com/icon.png</icon>",
         '\n  <a:icon xmlns:a="http://www.w3.org/2005/Atom">https://example.com/icon.png</a:icon>', "warning"),
    case("BadCharacters", "Second article", "Second\u009carticle", "warning"),
    case("InvalidLanguage", 'xml:lang="en"', 'xml:lang="english"'),
    # Rules the schema cannot express
    case("MissingElement", FEED_AUTHOR, "", id="MissingElement-author-feed-or-every-entry"),
    case("MissingContentOrAlternate",
         '\n    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <em>world</em>.</p></div>'
         '</content>', "\n    <summary>Hello.</summary>"),
    case("MissingTextualContent",
         '\n    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <em>world</em>.</p></div>'
         '</content>', '\n    <link href="https://example.com/second"/>', "warning"),
    case("MissingSummary",
         '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <em>world</em>.</p></div>'
         '</content>', '<content type="video/mp4" src="https://example.com/v.mp4"/>'),
    case("DuplicateAtomLink", 'rel="enclosure" type="audio/mpeg" length="12345"', 'type="text/html"'),
    case("DuplicateAtomLink", '<link href="https://example.com/" rel="alternate" type="text/html"/>',
         '<link href="https://example.com/" rel="alternate" type="text/html"/>'
         '<link href="https://example.com/index" type="text/html"/>', id="DuplicateAtomLink-feed"),
    case("DuplicateEntries", "<id>tag:example.com,2024:second</id>", "<id>https://example.com/2024/03/04/llms</id>",
         "warning"),
    case("DuplicateUpdated", "<updated>2024-03-03T09:00:00.5-05:00</updated>", "<updated>2024-03-04T11:32:00Z</updated>",
         "warning"),
    case("NonCanonicalURI", "<id>https://example.com/2024/03/04/llms</id>",
         "<id>https://Example.com:443/2024/03/04/llms</id>", "warning"),
    case("NonCanonicalURI", "<id>https://example.com/</id>", "<id>https://example.com</id>", "warning",
         id="NonCanonicalURI-empty-path"),
    case("InvalidFullLink", "<id>tag:example.com,2024:second</id>", "<id>/2024/second</id>"),
    case("InvalidTAG", "<id>tag:example.com,2024:second</id>", "<id>tag:example.com:second</id>"),
    case("InvalidUUID", "<id>tag:example.com,2024:second</id>", "<id>urn:uuid:1234</id>"),
    case("InvalidURN", "<id>tag:example.com,2024:second</id>", "<id>urn:isbn</id>"),
    case("UnexpectedWhitespace", "<id>tag:example.com,2024:second</id>", "<id> tag:example.com,2024:second </id>"),
    case("InvalidRFC3339Date", "<updated>2024-03-03T09:00:00.5-05:00</updated>",
         "<updated>2024-03-03T09:00:00</updated>"),
    case("InvalidRFC3339Date", "<updated>2024-03-03T09:00:00.5-05:00</updated>",
         "<updated>2024-03-03 09:00:00Z</updated>", also=("RelaxNG",), id="InvalidRFC3339Date-no-T"),
    case("InvalidRFC3339Date", "<updated>2024-03-03T09:00:00.5-05:00</updated>",
         "<updated>2024-03-03T09:00-05:00</updated>", also=("RelaxNG",), id="InvalidRFC3339Date-no-seconds"),
    case("InvalidRFC3339Date", "<updated>2024-03-03T09:00:00.5-05:00</updated>",
         "<updated>2024-02-30T09:00:00Z</updated>", also=("RelaxNG",), id="InvalidRFC3339Date-impossible"),
    case("ImplausibleDate", "<published>2024-03-04T11:32:00+00:00</published>",
         "<published>1985-03-04T11:32:00+00:00</published>", "warning"),
    case("MissingSelf", SELF_LINK, "", "warning"),
    case("MisplacedMetadata", "</entry>\n</feed>", "</entry>\n  <rights>CC BY</rights>\n</feed>",
         also=("RelaxNG",)),
    # Text constructs and content
    case("InvalidTextType", '<title type="text">Second article</title>', '<title type="text/plain">Second article</title>',
         also=("RelaxNG",)),
    case("InvalidMIMEType", '<content type="html">', '<content type="CDATA">', also=("RelaxNG",)),
    case("ContainsUndeclaredHTML", "<subtitle>Articles from Example News.</subtitle>",
         "<subtitle>Articles from &lt;b&gt;Example&lt;/b&gt; News.</subtitle>", "warning"),
    case("SecurityRisk", "a relative link&lt;/a&gt;.", "a relative link&lt;/a&gt;.&lt;script&gt;x()&lt;/script&gt;",
         "warning"),
    case("NotHtml", "a relative link&lt;/a&gt;.&lt;/p&gt;", "a relative link.&lt;/p&gt;", "warning"),
    case("MissingXhtmlDiv",
         '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <em>world</em>.</p></div>',
         '<content type="xhtml"><p xmlns="http://www.w3.org/1999/xhtml">Hello <em>world</em>.</p>',
         also=("RelaxNG",)),
    case("SecurityRiskAttr", "<p>Hello <em>world</em>.</p>", '<p onclick="x()">Hello <em>world</em>.</p>', "warning"),
    case("NotBlank", '<title type="text">Second article</title>', '<title type="text"></title>', "warning"),
    case("MissingTypeAttr", XHTML_CONTENT, '<summary>s</summary><content src="https://example.com/v.mp4"/>', "warning"),
    case("InvalidURIAttribute", XHTML_CONTENT,
         '<summary>s</summary><content type="video/mp4" src="https://example.com/my video.mp4"/>'),
    case("NotBase64", '<content type="html">&lt;p&gt;Full text with &lt;a href="/why"&gt;a relative link&lt;/a&gt;.'
         '&lt;/p&gt;</content>', '<content type="application/pdf">not base64!</content>'),
    # People
    case("NotBlank", "<name>Jane Editor</name>", "<name> </name>", "warning", id="NotBlank-author-name"),
    case("ContainsEmail", "<name>Jane Editor</name>", "<name>Jane &lt;editor@example.com&gt;</name>", "warning"),
    case("InvalidAddrSpec", "<email>editor@example.com</email>", "<email>editor at example.com</email>",
         also=("RelaxNG",)),
    case("mkfeeds:AbsoluteHttpURL", "<uri>https://example.com/about</uri>", "<uri>ftp://example.com/about</uri>",
         id="mkfeeds:AbsoluteHttpURL-author-uri"),
    # Links
    case("mkfeeds:AbsoluteHttpURL", 'href="https://example.com/2024/03/04/llms" rel="alternate"',
         'href="/2024/03/04/llms" rel="alternate"'),
    case("UnregisteredAtomLinkRel", 'rel="enclosure" type="audio/mpeg"', 'rel="podcast" type="audio/mpeg"', "warning"),
    case("InvalidMIMEType", 'type="audio/mpeg" length', 'type="mp3" length', also=("RelaxNG",),
         id="InvalidMIMEType-link"),
    case("InvalidNonNegativeInteger", 'length="12345"', 'length="big"'),
    case("AttrNotBlank", 'type="audio/mpeg" length="12345"', 'type="audio/mpeg" length="12345" title=""', "warning"),
    case("InvalidIRI", 'href="https://example.com/a.mp3"', 'href="https:example.com/a.mp3"'),
    case("FeedHistoryRelInEntry", 'rel="enclosure" type="audio/mpeg"', 'rel="next" type="audio/mpeg"', "warning"),
    case("AtomLinkNotEmpty", 'type="audio/mpeg" length="12345"/>', 'type="audio/mpeg" length="12345">text</link>',
         "warning", also=("RelaxNG",)),
    case("RelativeSelf", 'href="https://example.com/feed.atom"', 'href="/feed.atom"', "warning",
         also=("mkfeeds:AbsoluteHttpURL",)),
    case("SelfNotAtom", 'rel="self" type="application/atom+xml"', 'rel="self" type="text/html"', "warning",
         also=("mkfeeds:SelfLinkType",)),
    case("mkfeeds:SelfLinkType", 'rel="self" type="application/atom+xml"', 'rel="self" type="application/rss+xml"'),
    case("InvalidUriChar", 'href="https://example.com/2024/03/04/llms" rel="alternate"',
         'href="https://example.com/2024/03/04/llms now" rel="alternate"'),
]


@pytest.mark.parametrize("old, new, rule, severity, also", ATOM_CASES)
def test_atom_rule(old, new, rule, severity, also):
    """Each Atom rule fires on its one-change mutation of GOOD_ATOM, and only it."""
    assert_flags(check_atom(mutate(GOOD_ATOM, old, new)), rule, severity, also)


def test_atom_author_on_every_entry_is_enough():
    """No feed author is fine when each entry has its own (RFC 4287 4.1.1)."""
    data = mutate(GOOD_ATOM, FEED_AUTHOR, "").replace(
        b"<title>Large language models", b"<author><name>Example News</name></author><title>Large language models")
    assert check_atom(data) == []


def test_atom_link_without_rel_counts_as_alternate():
    """An entry with no content is fine when it has a link without rel (an alternate)."""
    content = ('\n    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <em>world</em>.</p>'
               '</div></content>')
    data = mutate(GOOD_ATOM, content, '\n    <summary>Hello.</summary>\n    <link href="https://example.com/second"/>')
    assert check_atom(data) == []


def test_atom_DuplicateAtomLink_allows_other_languages():
    """Two alternates that differ in hreflang are fine."""
    links = ('<link href="https://example.com/" rel="alternate" type="text/html" hreflang="en"/>'
             '<link href="https://example.com/de/" rel="alternate" type="text/html" hreflang="de"/>')
    data = mutate(GOOD_ATOM, '<link href="https://example.com/" rel="alternate" type="text/html"/>', links)
    assert check_atom(data) == []


def test_atom_html_content_may_hold_relative_links():
    """Atom resolves relative references against xml:base: no ContainsRelRef there (GOOD_ATOM has one)."""
    assert 'href="/why"' in GOOD_ATOM and check_atom(GOOD_ATOM.encode()) == []


def test_atom_DuplicateIds_when_all_ten_entries_share_an_id():
    """Ten or more entries all with one id is an error rather than ten warnings."""
    entry = ("<entry><id>https://example.com/same</id><title>t</title><updated>2024-03-0{n}T00:00:00Z</updated>"
             "<content>c</content></entry>")
    entries = "".join(entry.format(n=n) for n in range(10)).replace("2024-03-00", "2024-02-29")
    data = mutate(GOOD_ATOM, GOOD_ATOM[GOOD_ATOM.index("  <entry>"):GOOD_ATOM.index("</feed>")], entries)
    assert_flags(check_atom(data), "DuplicateIds", "error")


def test_atom_mkfeeds_NotAtomFeed():
    """An entry document (or RSS) is not an Atom feed."""
    assert_flags(check_atom(GOOD_RSS.encode()), "mkfeeds:NotAtomFeed", "error")


def test_atom_schema_file_is_found():
    """The RFC 4287 schema loads (from shared/data beside the repository)."""
    assert feedcheck._atom_schema_path().name == "atom-rfc4287.rng"


# ---------------------------------------------------------------------------
# JSON Feed 1.1
# ---------------------------------------------------------------------------

JSON_CASES = [
    case("JSONFeed:Syntax", '"title": "Example News",', '"title": "Example News"'),
    case("JSONFeed:Syntax", '"size_in_bytes": 12345', '"size_in_bytes": NaN', id="JSONFeed:Syntax-NaN"),
    case("JSONFeed:Syntax", '"content_text": "Plain text."', '"content_text": "Plain \\ud800 text."',
         id="JSONFeed:Syntax-lone-surrogate"),
    case("JSONFeed:DuplicateKey", '"title": "Example News",', '"title": "Example News", "title": "Again",'),
    case("JSONFeed:Version", "https://jsonfeed.org/version/1.1", "https://jsonfeed.org/version/1"),
    case("JSONFeed:VersionFirst", '  "version": "https://jsonfeed.org/version/1.1",\n  "title": "Example News",',
         '  "title": "Example News",\n  "version": "https://jsonfeed.org/version/1.1",', "warning"),
    case("JSONFeed:Missing", '  "title": "Example News",\n', ""),
    case("JSONFeed:Missing", '"id": "tag:example.com,2024:second",', "", id="JSONFeed:Missing-item-id"),
    case("JSONFeed:Type", '"title": "Example News"', '"title": 42'),
    case("JSONFeed:Type", '"id": "tag:example.com,2024:second"', '"id": 2', id="JSONFeed:Type-numeric-id"),
    case("JSONFeed:Type", '"tags": ["AI", "Natural Language Processing"]', '"tags": ["AI", 7]', id="JSONFeed:Type-tag"),
    case("JSONFeed:Type", '"tags": ["AI", "Natural Language Processing"]', '"tags": "AI"', id="JSONFeed:Type-tags"),
    case("JSONFeed:Null", '"image": "https://example.com/a.jpg"', '"image": null'),
    case("JSONFeed:UnknownKey", '"summary": "Nobody knows why."', '"summary": "Nobody knows why.", "subtitle": "x"'),
    case("JSONFeed:Extension", '"_mkfeeds"', '"_mk.feeds"'),
    case("mkfeeds:Deprecated10", '"authors": [{"name": "Example News", "url": "https://example.com/about"}]',
         '"author": {"name": "Example News"}'),
    case("mkfeeds:AbsoluteHttpURL", '"home_page_url": "https://example.com/"', '"home_page_url": "ftp://example.com/"'),
    case("InvalidFullLink", '"url": "https://example.com/2024/03/04/llms"', '"url": "/2024/03/04/llms"'),
    case("InvalidUriChar", '"image": "https://example.com/a.jpg"', '"image": "https://example.com/a b.jpg"'),
    case("JSONFeed:EmptyAuthor", '[{"name": "MIT Technology Review"}]', "[{}]"),
    case("JSONFeed:Language", '"language": "en-US"', '"language": "English"'),
    case("JSONFeed:EmptyId", '"id": "tag:example.com,2024:second"', '"id": ""'),
    case("JSONFeed:DuplicateId", '"id": "tag:example.com,2024:second"', '"id": "https://example.com/2024/03/04/llms"'),
    case("JSONFeed:NoContent", '"content_text": "Plain text.",', '"summary": "Plain text.",'),
    case("JSONFeed:Date", '"date_published": "2024-03-03T09:00:00-05:00"', '"date_published": "2024-03-03"'),
    case("JSONFeed:Date", '"date_published": "2024-03-03T09:00:00-05:00"', '"date_published": "2024-03-03T09:00:00"',
         id="JSONFeed:Date-no-offset"),
    case("JSONFeed:Date", '"date_published": "2024-03-03T09:00:00-05:00"',
         '"date_published": "Sun, 03 Mar 2024 09:00:00 -0500"', id="JSONFeed:Date-rfc822"),
    case("JSONFeed:Missing", '"mime_type": "audio/mpeg", ', "", id="JSONFeed:Missing-attachment-mime_type"),
    case("JSONFeed:MimeType", '"mime_type": "audio/mpeg"', '"mime_type": "mp3"'),
    case("JSONFeed:NextUrl", '"feed_url": "https://example.com/feed.json",',
         '"feed_url": "https://example.com/feed.json", "next_url": "https://example.com/feed.json",'),
    case("JSONFeed:Missing", '"_mkfeeds"', '"hubs": [{"type": "WebSub"}], "_mkfeeds"', id="JSONFeed:Missing-hub-url"),
    case("SecurityRisk", "why</a>.</p>", "why</a>.</p><script>x()</script>", "warning"),
    case("ContainsRelRef", 'href=\\"https://example.com/why\\"', 'href=\\"/why\\"', "warning"),
    case("ContainsHTML", '"summary": "Nobody knows why."', '"summary": "Nobody knows <b>why</b>."', "warning"),
]


@pytest.mark.parametrize("old, new, rule, severity, also", JSON_CASES)
def test_jsonfeed_rule(old, new, rule, severity, also):
    """Each JSON Feed rule fires on its one-change mutation of GOOD_JSON, and only it."""
    assert_flags(check_jsonfeed(mutate(GOOD_JSON, old, new)), rule, severity, also)


def test_jsonfeed_Encoding_byte_order_mark():
    """RFC 8259: no byte-order mark before JSON text."""
    assert_flags(check_jsonfeed(b"\xef\xbb\xbf" + GOOD_JSON.encode()), "JSONFeed:Encoding", "error")


def test_jsonfeed_Type_top_level_must_be_an_object():
    """A JSON Feed is an object."""
    assert_flags(check_jsonfeed(b"[]"), "JSONFeed:Type", "error")


def test_jsonfeed_author_url_may_be_mailto():
    """The spec allows a mailto: author url."""
    data = mutate(GOOD_JSON, '"url": "https://example.com/about"', '"url": "mailto:news@example.com"')
    assert check_jsonfeed(data) == []


def test_jsonfeed_extensions_may_appear_in_items_and_authors():
    """Custom objects ('_' + letter) are allowed anywhere."""
    data = mutate(GOOD_JSON, '{"name": "MIT Technology Review"}', '{"name": "MIT Technology Review", "_x": {"a": 1}}')
    assert check_jsonfeed(data) == []


# ---------------------------------------------------------------------------
# feedgen 1.0.0: what it writes by default, and a configuration that passes
# ---------------------------------------------------------------------------

feedgen_feed = pytest.importorskip("feedgen.feed")
NOW = dt.datetime(2024, 3, 4, 11, 32, tzinfo=dt.timezone.utc)


def feedgen_feed_for(fmt: str, **entry_options):
    """A two-entry feed built the careful way (see shared/guides/feeds.md), for one format."""
    fg = feedgen_feed.FeedGenerator()
    fg.load_extension("media")
    fg.load_extension("dc")
    fg.id("https://example.com/")
    fg.title("Example News")
    fg.author(name="Example News")
    fg.description("Articles from Example News.")
    fg.language("en")
    fg.generator("mkfeeds")
    fg.link(href=f"https://example.com/feed.{fmt}", rel="self", type=f"application/{fmt}+xml")
    fg.link(href="https://example.com/", rel="alternate")  # last: feedgen's RSS channel <link>
    fg.updated(NOW)
    fg.lastBuildDate(NOW)
    for n in range(2):
        url = f"https://example.com/posts/{n}"
        fe = fg.add_entry(order="append")
        fe.id(url)
        fe.guid(url, permalink=True)
        fe.title(f"Post {n} <3 & more")
        fe.link(href=url)
        fe.summary("A summary.")
        fe.content("<p>Body</p>", type="html")
        fe.dc.dc_creator("MIT Technology Review")
        fe.media.content(url=f"https://example.com/{n}.jpg", medium="image", width="800", height="421",
                         group=entry_options.get("group"))
        fe.pubDate(NOW - dt.timedelta(days=n))
        fe.updated(NOW - dt.timedelta(days=n))
        for link in entry_options.get("links", []):
            fe.link(**link)
    return fg


def test_feedgen_careful_configuration_passes():
    """feedgen output passes when every pitfall of the feeds guide is avoided."""
    assert check_rss(feedgen_feed_for("rss").rss_str(), now=NOW) == []
    assert check_atom(feedgen_feed_for("atom").atom_str(), now=NOW) == []


def test_feedgen_media_group_default_is_MediaGroupWithoutAlternatives():
    """feedgen's media extension wraps each media:content in a media:group unless group=None."""
    problems = check_rss(feedgen_feed_for("rss", group="default").rss_str())
    assert_flags(problems, "MediaGroupWithoutAlternatives", "error")


def test_feedgen_entry_links_lose_rel_so_enclosures_become_DuplicateAtomLink():
    """feedgen drops rel/type from Atom entry links: an enclosure becomes a second alternate."""
    enclosure = {"href": "https://example.com/a.mp3", "rel": "enclosure", "type": "audio/mpeg", "length": "1"}
    problems = check_atom(feedgen_feed_for("atom", links=[enclosure]).atom_str())
    assert_flags(problems, "DuplicateAtomLink", "error")


def test_feedgen_shared_self_link_is_mkfeeds_SelfLinkType():
    """One FeedGenerator serves both formats with one self link: the Atom feed then claims to be RSS."""
    assert_flags(check_atom(feedgen_feed_for("rss").atom_str()), "mkfeeds:SelfLinkType", "error")


def test_feedgen_cdata_content_is_InvalidMIMEType():
    """content(type='CDATA') writes Atom type="CDATA"."""
    fg = feedgen_feed_for("atom")
    fg.entry()[0].content("<p>Body</p>", type="CDATA")
    assert_flags(check_atom(fg.atom_str()), "InvalidMIMEType", "error", also=("RelaxNG",))


def test_feedgen_two_rss_authors_are_DuplicateElement():
    """Each e-mail author becomes an RSS <author>; RSS allows one."""
    fg = feedgen_feed_for("rss")
    fg.entry()[0].author([{"name": "A", "email": "a@example.com"}, {"name": "B", "email": "b@example.com"}])
    assert_flags(check_rss(fg.rss_str()), "DuplicateElement", "error", also=("DuplicateItemSemantics",))


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

# Text a generator may legitimately put in a title: no control or surrogate
# characters, no U+FFFD/U+FFFE/U+FFFF, no "<" (HTML end tags draw ContainsHTML by
# design) and no Latin-1 letters that look like double-encoded UTF-8.
TITLE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<\ufffd\ufffe\uffff\u00c2\u00c3"),
    min_size=1, max_size=40,
).filter(lambda s: s.strip() == s and s != "")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_checkers_never_raise(data):
    """Arbitrary bytes produce problems, never an exception."""
    for check in (check_rss, check_atom, check_jsonfeed):
        assert isinstance(check(data), list)


@settings(max_examples=100, deadline=None)
@given(TITLE_TEXT)
def test_any_properly_escaped_title_passes(title):
    """Whatever a title says, once escaped for its format it is valid in all three."""
    from xml.sax.saxutils import escape

    rss = mutate(GOOD_RSS, "<title>Second article</title>", f"<title>{escape(title)}</title>")
    atom = mutate(GOOD_ATOM, '<title type="text">Second article</title>', f'<title type="text">{escape(title)}</title>')
    jsonfeed = mutate(GOOD_JSON, '"title": "Large language models & why they work"', f'"title": {json.dumps(title)}')
    assert check_rss(rss) == []
    assert check_atom(atom) == []
    assert check_jsonfeed(jsonfeed) == []
