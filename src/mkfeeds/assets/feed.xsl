<?xml version="1.0" encoding="UTF-8"?>
<!--
  mkfeeds browser view: renders an RSS 2.0 or Atom 1.0 feed as a readable HTML page when
  the feed is opened in a browser (via <?xml-stylesheet type="text/xsl" href="feed.xsl"?>).
  Feed readers ignore the processing instruction, so the feeds stay valid and unchanged.

  Serving: browsers apply the stylesheet only to feeds served with an XML media type
  (application/xml or text/xml, what most static hosts send for .xml). Served as
  application/rss+xml or application/atom+xml, Chromium shows the source as text and
  Firefox offers a download. Chromium runs no XSLT for file:// pages: preview over http.

  Rules this file keeps:
  - XSLT 1.0 only, no extension functions: it runs in libxslt (Chromium, lxml) and in
    Firefox's TransforMiiX alike.
  - No disable-output-escaping anywhere: Firefox ignores it, and it would turn an escaped
    title or description into live markup (an XSS path). Every feed string is written as
    text; HTML carried in a feed (RSS description, Atom type="html") is reduced to plain
    text by the "plain" template below.
  - Links are written only for http(s) URLs, so a javascript: link in a feed stays inert.
  - No scripts, no external fetches (no images, fonts or CSS files): inline CSS only.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:content="http://purl.org/rss/1.0/modules/content/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:media="http://search.yahoo.com/mrss/"
    exclude-result-prefixes="atom content dc media">

  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>

  <!-- Longest summary shown per entry, in characters; and a bound on the steps the
       plain-text template takes (browsers cap template recursion near 3000). -->
  <xsl:variable name="summary-limit" select="320"/>
  <xsl:variable name="step-limit" select="400"/>

  <!-- ============================== entry points ============================== -->

  <xsl:template match="/">
    <xsl:choose>
      <xsl:when test="rss/channel"><xsl:apply-templates select="rss/channel"/></xsl:when>
      <xsl:when test="atom:feed"><xsl:apply-templates select="atom:feed"/></xsl:when>
      <xsl:otherwise>
        <html lang="en"><head><meta charset="utf-8"/><title>Not a feed</title></head>
          <body><p>This document is neither an RSS 2.0 nor an Atom 1.0 feed.</p></body></html>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template match="channel">
    <xsl:call-template name="page">
      <xsl:with-param name="format" select="'RSS'"/>
      <xsl:with-param name="title" select="normalize-space(title)"/>
      <xsl:with-param name="description" select="normalize-space(description)"/>
      <xsl:with-param name="lang" select="normalize-space(language)"/>
      <xsl:with-param name="self" select="atom:link[@rel = 'self'][1]/@href"/>
      <xsl:with-param name="site" select="normalize-space(link)"/>
      <xsl:with-param name="count" select="count(item)"/>
      <xsl:with-param name="entries"><xsl:apply-templates select="item"/></xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="atom:feed">
    <xsl:call-template name="page">
      <xsl:with-param name="format" select="'Atom'"/>
      <xsl:with-param name="title"><xsl:apply-templates select="atom:title" mode="text"/></xsl:with-param>
      <xsl:with-param name="description"><xsl:apply-templates select="atom:subtitle" mode="text"/></xsl:with-param>
      <xsl:with-param name="lang" select="normalize-space(@xml:lang)"/>
      <xsl:with-param name="self" select="atom:link[@rel = 'self'][1]/@href"/>
      <xsl:with-param name="site" select="atom:link[not(@rel) or @rel = 'alternate'][1]/@href"/>
      <xsl:with-param name="count" select="count(atom:entry)"/>
      <xsl:with-param name="entries"><xsl:apply-templates select="atom:entry"/></xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <!-- ================================ entries ================================ -->

  <xsl:template match="item">
    <xsl:variable name="guid-link">
      <xsl:if test="guid and not(guid/@isPermaLink = 'false')"><xsl:value-of select="normalize-space(guid)"/></xsl:if>
    </xsl:variable>
    <xsl:call-template name="entry">
      <xsl:with-param name="title" select="normalize-space(title)"/>
      <xsl:with-param name="link">
        <xsl:choose>
          <xsl:when test="normalize-space(link)"><xsl:value-of select="normalize-space(link)"/></xsl:when>
          <xsl:otherwise><xsl:value-of select="$guid-link"/></xsl:otherwise>
        </xsl:choose>
      </xsl:with-param>
      <xsl:with-param name="date" select="normalize-space(pubDate)"/>
      <xsl:with-param name="iso">
        <xsl:call-template name="rfc822-to-iso"><xsl:with-param name="d" select="normalize-space(pubDate)"/></xsl:call-template>
      </xsl:with-param>
      <xsl:with-param name="author" select="normalize-space(dc:creator[1])"/>
      <xsl:with-param name="summary">
        <!-- RSS description is HTML by convention: reduce it to text, never render it. -->
        <xsl:call-template name="plain"><xsl:with-param name="s" select="description"/></xsl:call-template>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <xsl:template match="atom:entry">
    <xsl:variable name="date">
      <xsl:choose>
        <xsl:when test="atom:published"><xsl:value-of select="normalize-space(atom:published)"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="normalize-space(atom:updated)"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:call-template name="entry">
      <xsl:with-param name="title"><xsl:apply-templates select="atom:title" mode="text"/></xsl:with-param>
      <xsl:with-param name="link" select="atom:link[not(@rel) or @rel = 'alternate'][1]/@href"/>
      <xsl:with-param name="date" select="$date"/>
      <xsl:with-param name="iso" select="$date"/>
      <xsl:with-param name="updated-only" select="not(atom:published) and atom:updated"/>
      <xsl:with-param name="lang" select="normalize-space(@xml:lang)"/>
      <xsl:with-param name="author" select="normalize-space(atom:author[1]/atom:name)"/>
      <xsl:with-param name="summary">
        <xsl:choose>
          <xsl:when test="atom:summary"><xsl:apply-templates select="atom:summary" mode="text"/></xsl:when>
          <xsl:otherwise><xsl:apply-templates select="atom:content[not(@src)]" mode="text"/></xsl:otherwise>
        </xsl:choose>
      </xsl:with-param>
    </xsl:call-template>
  </xsl:template>

  <!-- An Atom text construct as plain text: type="html" is reduced to text, type="text"
       and type="xhtml" are their string value. Long values are cut to summary-limit. -->
  <xsl:template match="*" mode="text">
    <xsl:choose>
      <xsl:when test="@type = 'html'">
        <xsl:call-template name="plain"><xsl:with-param name="s" select="string(.)"/></xsl:call-template>
      </xsl:when>
      <xsl:otherwise>
        <xsl:call-template name="cut"><xsl:with-param name="s" select="string(.)"/></xsl:call-template>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="entry">
    <xsl:param name="title"/>
    <xsl:param name="link"/>
    <xsl:param name="date"/>
    <xsl:param name="iso"/>
    <xsl:param name="updated-only" select="false()"/>
    <xsl:param name="lang"/>
    <xsl:param name="author"/>
    <xsl:param name="summary"/>
    <li>
      <article>
        <xsl:if test="$lang"><xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute></xsl:if>
        <h3>
          <xsl:choose>
            <xsl:when test="starts-with(translate(substring($link, 1, 8), 'HPST', 'hpst'), 'https://')
                            or starts-with(translate(substring($link, 1, 7), 'HPT', 'hpt'), 'http://')">
              <a href="{$link}"><xsl:call-template name="or-untitled"><xsl:with-param name="s" select="$title"/></xsl:call-template></a>
            </xsl:when>
            <xsl:otherwise><xsl:call-template name="or-untitled"><xsl:with-param name="s" select="$title"/></xsl:call-template></xsl:otherwise>
          </xsl:choose>
        </h3>
        <xsl:if test="string($date) or string($author)">
          <p class="meta">
            <xsl:if test="string($date)">
              <xsl:if test="$updated-only">Updated </xsl:if>
              <time>
                <xsl:if test="string($iso)"><xsl:attribute name="datetime"><xsl:value-of select="$iso"/></xsl:attribute></xsl:if>
                <xsl:value-of select="$date"/>
              </time>
            </xsl:if>
            <xsl:if test="string($date) and string($author)"><span aria-hidden="true"> · </span></xsl:if>
            <xsl:if test="string($author)"><span class="author">by <xsl:value-of select="$author"/></span></xsl:if>
          </p>
        </xsl:if>
        <xsl:if test="normalize-space($summary)">
          <p class="summary"><xsl:value-of select="$summary"/></p>
        </xsl:if>
      </article>
    </li>
  </xsl:template>

  <xsl:template name="or-untitled">
    <xsl:param name="s"/>
    <xsl:choose>
      <xsl:when test="normalize-space($s)"><xsl:value-of select="normalize-space($s)"/></xsl:when>
      <xsl:otherwise>(untitled)</xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- ================================== page ================================== -->

  <xsl:template name="page">
    <xsl:param name="format"/>
    <xsl:param name="title"/>
    <xsl:param name="description"/>
    <xsl:param name="lang"/>
    <xsl:param name="self"/>
    <xsl:param name="site"/>
    <xsl:param name="count"/>
    <xsl:param name="entries"/>
    <xsl:variable name="name">
      <xsl:call-template name="or-untitled"><xsl:with-param name="s" select="$title"/></xsl:call-template>
    </xsl:variable>
    <html lang="en">
      <head>
        <!-- No <meta charset>: libxslt writes its own Content-Type meta, and two clash. -->
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <meta name="color-scheme" content="light dark"/>
        <meta name="robots" content="noindex"/>
        <title><xsl:value-of select="$name"/> (<xsl:value-of select="$format"/> feed)</title>
        <style><xsl:call-template name="css"/></style>
      </head>
      <body>
        <a class="skip" href="#entries">Skip to entries</a>
        <header>
          <div class="wrap">
            <xsl:if test="$lang"><xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute></xsl:if>
            <p class="badge"><xsl:value-of select="$format"/> feed</p>
            <h1><xsl:value-of select="$name"/></h1>
            <xsl:if test="string($description)"><p class="lede"><xsl:value-of select="$description"/></p></xsl:if>
            <xsl:if test="starts-with(translate(substring($site, 1, 8), 'HPST', 'hpst'), 'https://')
                          or starts-with(translate(substring($site, 1, 7), 'HPT', 'hpt'), 'http://')">
              <p><a class="site" href="{$site}">Visit the website<span aria-hidden="true"> →</span></a></p>
            </xsl:if>
            <!-- page-link -->
            <p><a class="site" href="index.html">Open this feed as a web page<span aria-hidden="true"> →</span></a></p>
            <!-- /page-link -->
          </div>
        </header>
        <main class="wrap">
          <section class="about" aria-labelledby="about-heading">
            <h2 id="about-heading">This is a web feed</h2>
            <p>A feed delivers new articles from this site to your feed reader app as soon as
              they are published: no account, no algorithm, no inbox. You are seeing a preview
              of it in your browser.</p>
            <xsl:choose>
              <xsl:when test="string($self)">
                <p>To subscribe, copy this URL into your feed reader:</p>
                <p class="url"><code><xsl:value-of select="$self"/></code></p>
              </xsl:when>
              <xsl:otherwise>
                <p>To subscribe, copy the URL from your browser's address bar into your feed reader.</p>
              </xsl:otherwise>
            </xsl:choose>
          </section>
          <section aria-labelledby="entries">
            <h2 id="entries">
              <xsl:text>Latest entries</xsl:text>
              <span class="count"> (<xsl:value-of select="$count"/>)</span>
            </h2>
            <xsl:choose>
              <xsl:when test="$count &gt; 0">
                <ol class="entries">
                  <xsl:if test="$lang"><xsl:attribute name="lang"><xsl:value-of select="$lang"/></xsl:attribute></xsl:if>
                  <xsl:copy-of select="$entries"/>
                </ol>
              </xsl:when>
              <xsl:otherwise><p>This feed has no entries yet.</p></xsl:otherwise>
            </xsl:choose>
          </section>
        </main>
        <footer class="wrap">
          <p>Feed readers read the same file you are looking at; this page is only its
            browser view.</p>
        </footer>
      </body>
    </html>
  </xsl:template>

  <xsl:template name="css">
:root {
  --bg: #ffffff; --fg: #1b1b1f; --muted: #4f4f58; --line: #dcdce3;
  --accent: #0b57d0; --accent-fg: #ffffff; --panel: #f3f6fc; --panel-line: #0b57d0;
  --head-bg: #102a56; --head-fg: #ffffff; --head-muted: #d5deee;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #131316; --fg: #ececf1; --muted: #b7b7c2; --line: #34343c;
    --accent: #9cc0ff; --accent-fg: #131316; --panel: #1c2230; --panel-line: #9cc0ff;
    --head-bg: #0c1a33; --head-fg: #ffffff; --head-muted: #c9d4ea;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 1.0625rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif;
  overflow-wrap: break-word;
}
.wrap { max-width: 44rem; margin: 0 auto; padding: 0 1.25rem; }
a { color: var(--accent); text-underline-offset: 0.15em; }
a:hover { text-decoration-thickness: 2px; }
a:focus-visible { outline: 3px solid currentColor; outline-offset: 3px; border-radius: 2px; }
.skip { position: absolute; left: 0.5rem; top: -3rem; padding: 0.5rem 0.75rem; background: var(--accent); color: var(--accent-fg); z-index: 1; }
.skip:focus { top: 0.5rem; }
header { background: var(--head-bg); color: var(--head-fg); padding: 2rem 0 1.75rem; }
header a { color: var(--head-fg); }
.badge { display: inline-block; margin: 0 0 0.5rem; padding: 0.1rem 0.6rem; border: 1px solid var(--head-muted); border-radius: 999px; color: var(--head-muted); font-size: 0.8125rem; letter-spacing: 0.04em; text-transform: uppercase; }
h1 { margin: 0 0 0.5rem; font-size: clamp(1.6rem, 5vw, 2.25rem); line-height: 1.2; }
.lede { margin: 0 0 0.75rem; color: var(--head-muted); }
header p:last-child { margin-bottom: 0; }
.site { font-weight: 600; }
main { padding-top: 1.5rem; padding-bottom: 1rem; }
h2 { font-size: 1.25rem; line-height: 1.3; margin: 0 0 0.5rem; }
.about { background: var(--panel); border-left: 4px solid var(--panel-line); border-radius: 4px; padding: 1rem 1.25rem; margin: 0 0 2rem; }
.about p { margin: 0.5rem 0; }
.url { margin: 0.5rem 0 0.25rem; }
.url code { display: block; padding: 0.5rem 0.75rem; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; font: 0.9375rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; overflow-wrap: anywhere; -webkit-user-select: all; user-select: all; }
.count { color: var(--muted); font-weight: normal; }
.entries { list-style: none; margin: 0; padding: 0; }
.entries li { border-top: 1px solid var(--line); padding: 1.1rem 0; }
.entries li:last-child { border-bottom: 1px solid var(--line); }
h3 { font-size: 1.125rem; line-height: 1.35; margin: 0 0 0.25rem; }
h3 a { text-decoration: none; }
h3 a:hover, h3 a:focus-visible { text-decoration: underline; }
.meta { margin: 0 0 0.4rem; color: var(--muted); font-size: 0.9375rem; }
.summary { margin: 0; white-space: pre-line; }
footer { color: var(--muted); font-size: 0.9375rem; padding-bottom: 2rem; }
  </xsl:template>

  <!-- ============================ text utilities ============================ -->

  <!-- HTML (as carried in RSS description or Atom type="html") to plain text: tags are
       dropped, the common entities decoded, everything written as text (so the output
       serializer escapes it again), cut to summary-limit characters. One step per tag or
       entity, bounded by step-limit. -->
  <xsl:template name="plain">
    <xsl:param name="s"/>
    <xsl:param name="budget" select="$summary-limit"/>
    <xsl:param name="steps" select="$step-limit"/>
    <!-- '<' mapped to '&' so one substring-before finds the first tag or entity. -->
    <xsl:variable name="marked" select="translate($s, '&lt;', '&amp;')"/>
    <xsl:choose>
      <xsl:when test="$budget &lt;= 0 or $steps &lt;= 0"><xsl:if test="normalize-space($s)">…</xsl:if></xsl:when>
      <xsl:when test="not(contains($marked, '&amp;'))">
        <xsl:call-template name="cut">
          <xsl:with-param name="s" select="$s"/>
          <xsl:with-param name="limit" select="$budget"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise>
        <xsl:variable name="head" select="substring-before($marked, '&amp;')"/>
        <xsl:variable name="rest" select="substring($s, string-length($head) + 1)"/>
        <xsl:choose>
          <xsl:when test="string-length($head) &gt; $budget">
            <xsl:call-template name="cut">
              <xsl:with-param name="s" select="$head"/>
              <xsl:with-param name="limit" select="$budget"/>
            </xsl:call-template>
          </xsl:when>
          <xsl:otherwise>
            <xsl:value-of select="$head"/>
            <xsl:variable name="left" select="$budget - string-length($head)"/>
            <xsl:choose>
              <xsl:when test="starts-with($rest, '&lt;')">
                <!-- A tag (or comment): dropped. Unterminated: the rest is dropped. -->
                <xsl:if test="contains($rest, '&gt;')">
                  <xsl:call-template name="plain">
                    <xsl:with-param name="s" select="substring-after($rest, '&gt;')"/>
                    <xsl:with-param name="budget" select="$left"/>
                    <xsl:with-param name="steps" select="$steps - 1"/>
                  </xsl:call-template>
                </xsl:if>
              </xsl:when>
              <xsl:otherwise>
                <xsl:variable name="name" select="substring-before(substring($rest, 2, 9), ';')"/>
                <xsl:variable name="char">
                  <xsl:choose>
                    <xsl:when test="$name = 'amp' or $name = '#38' or $name = '#x26'">&amp;</xsl:when>
                    <xsl:when test="$name = 'lt' or $name = '#60' or $name = '#x3C' or $name = '#x3c'">&lt;</xsl:when>
                    <xsl:when test="$name = 'gt' or $name = '#62' or $name = '#x3E' or $name = '#x3e'">&gt;</xsl:when>
                    <xsl:when test="$name = 'quot' or $name = '#34' or $name = '#x22'">"</xsl:when>
                    <xsl:when test="$name = 'apos' or $name = '#39' or $name = '#x27'">'</xsl:when>
                    <xsl:when test="$name = 'nbsp' or $name = '#160' or $name = '#xA0' or $name = '#xa0'">&#160;</xsl:when>
                  </xsl:choose>
                </xsl:variable>
                <xsl:choose>
                  <xsl:when test="string($char)">
                    <xsl:value-of select="$char"/>
                    <xsl:call-template name="plain">
                      <xsl:with-param name="s" select="substring($rest, string-length($name) + 3)"/>
                      <xsl:with-param name="budget" select="$left - 1"/>
                      <xsl:with-param name="steps" select="$steps - 1"/>
                    </xsl:call-template>
                  </xsl:when>
                  <xsl:otherwise>
                    <!-- Not an entity this template knows: the '&' stays as written. -->
                    <xsl:text>&amp;</xsl:text>
                    <xsl:call-template name="plain">
                      <xsl:with-param name="s" select="substring($rest, 2)"/>
                      <xsl:with-param name="budget" select="$left - 1"/>
                      <xsl:with-param name="steps" select="$steps - 1"/>
                    </xsl:call-template>
                  </xsl:otherwise>
                </xsl:choose>
              </xsl:otherwise>
            </xsl:choose>
          </xsl:otherwise>
        </xsl:choose>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- At most $limit characters of $s, ending on a word boundary when one is near, with
       an ellipsis when cut. -->
  <xsl:template name="cut">
    <xsl:param name="s"/>
    <xsl:param name="limit" select="$summary-limit"/>
    <xsl:choose>
      <xsl:when test="string-length($s) &lt;= $limit"><xsl:value-of select="$s"/></xsl:when>
      <xsl:otherwise>
        <xsl:variable name="part" select="substring($s, 1, $limit)"/>
        <xsl:call-template name="before-last-space">
          <xsl:with-param name="s" select="$part"/>
          <xsl:with-param name="min" select="floor($limit * 0.8)"/>
        </xsl:call-template>
        <xsl:text>…</xsl:text>
      </xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <!-- $s up to its last space, if that leaves at least $min characters; else all of $s.
       Walks forward space by space (few steps: only the tail past $min is searched). -->
  <xsl:template name="before-last-space">
    <xsl:param name="s"/>
    <xsl:param name="min"/>
    <xsl:variable name="tail" select="substring($s, $min + 1)"/>
    <xsl:choose>
      <xsl:when test="contains($tail, ' ')">
        <xsl:value-of select="substring($s, 1, $min)"/>
        <xsl:call-template name="up-to-last-space">
          <xsl:with-param name="s" select="$tail"/>
        </xsl:call-template>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$s"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="up-to-last-space">
    <xsl:param name="s"/>
    <xsl:if test="contains($s, ' ')">
      <xsl:value-of select="substring-before($s, ' ')"/>
      <xsl:if test="contains(substring-after($s, ' '), ' ')"><xsl:text> </xsl:text></xsl:if>
      <xsl:call-template name="up-to-last-space">
        <xsl:with-param name="s" select="substring-after($s, ' ')"/>
      </xsl:call-template>
    </xsl:if>
  </xsl:template>

  <!-- RFC 822 date ("Tue, 27 Oct 2026 07:00:00 +0000") to ISO 8601 for <time datetime>;
       empty when the date is not in that shape (the date is shown as written anyway). -->
  <xsl:template name="rfc822-to-iso">
    <xsl:param name="d"/>
    <xsl:variable name="v">
      <xsl:choose>
        <xsl:when test="contains($d, ',')"><xsl:value-of select="normalize-space(substring-after($d, ','))"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="$d"/></xsl:otherwise>
      </xsl:choose>
    </xsl:variable>
    <xsl:variable name="day" select="substring-before($v, ' ')"/>
    <xsl:variable name="r1" select="substring-after($v, ' ')"/>
    <xsl:variable name="mon" select="substring-before($r1, ' ')"/>
    <xsl:variable name="r2" select="substring-after($r1, ' ')"/>
    <xsl:variable name="year" select="substring-before($r2, ' ')"/>
    <xsl:variable name="r3" select="substring-after($r2, ' ')"/>
    <xsl:variable name="time" select="substring-before($r3, ' ')"/>
    <xsl:variable name="zone" select="substring-after($r3, ' ')"/>
    <xsl:variable name="months" select="'JanFebMarAprMayJunJulAugSepOctNovDec'"/>
    <xsl:variable name="offset">
      <xsl:choose>
        <xsl:when test="$zone = 'GMT' or $zone = 'UT' or $zone = 'Z'">Z</xsl:when>
        <xsl:when test="string-length($zone) = 5 and (starts-with($zone, '+') or starts-with($zone, '-'))
                        and string(number(substring($zone, 2))) != 'NaN'">
          <xsl:value-of select="concat(substring($zone, 1, 3), ':', substring($zone, 4, 2))"/>
        </xsl:when>
      </xsl:choose>
    </xsl:variable>
    <xsl:if test="string-length($mon) = 3 and contains($months, $mon)
                  and string(number($day)) != 'NaN' and string-length($year) = 4
                  and string(number($year)) != 'NaN'
                  and (string-length($time) = 8 or string-length($time) = 5)
                  and string($offset)">
      <xsl:value-of select="concat($year, '-',
          format-number(string-length(substring-before($months, $mon)) div 3 + 1, '00'), '-',
          format-number($day, '00'), 'T', $time, substring(':00', 1, 8 - string-length($time)),
          $offset)"/>
    </xsl:if>
  </xsl:template>

</xsl:stylesheet>
