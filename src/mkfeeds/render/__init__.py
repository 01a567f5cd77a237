"""Renderers: ``Feed -> bytes``, one module per format, pure (no I/O, no clock)."""

from mkfeeds.render.atom import render_atom
from mkfeeds.render.jsonfeed import render_json
from mkfeeds.render.memo import EntryMemo, KeptRenderings
from mkfeeds.render.rss import render_rss

__all__ = ["EntryMemo", "KeptRenderings", "render_atom", "render_json", "render_rss"]
