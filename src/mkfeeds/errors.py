"""One exception tree. ``str()`` of each is a single line a user can act on.

Messages never quote input values that the mapping does not name: an error about a
field says what is wrong with it, not what it contained, so private values (``secured``,
unknown keys) cannot leak through an error message.
"""

from __future__ import annotations


class MkfeedsError(Exception):
    """Base of every error mkfeeds raises on purpose (user mistakes, not bugs). ``hint``,
    when set, says how to fix it; the CLI prints it on a line of its own."""

    hint: str | None = None


class ConfigError(MkfeedsError):
    """The configuration (file or options) cannot be used; nothing is built."""

    def __init__(self, message: str, source: str | None = None) -> None:
        self.message = message
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class ArticleError(MkfeedsError):
    """One article file cannot be published. The rest of the build goes on."""

    def __init__(
        self, path: str, message: str, field: str | None = None, line: int | None = None
    ) -> None:
        self.path = path
        self.message = message
        self.field = field
        self.line = line
        super().__init__(self.location() + message)

    def location(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        return f"{where}: " + (f"{self.field}: " if self.field else "")


class OutputError(MkfeedsError):
    """Feeds could not be written; the previous feeds are left as they were."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a build, saying what is on disk: ``published`` when the new feeds
    were already in place (the commit had ended), else the previous feeds are as they
    were. The commit itself is never cut short (``output`` holds the signal for it)."""

    def __init__(self, published: bool) -> None:
        self.published = published
        super().__init__("the new feeds are in place" if published else "the previous feeds are as they were")
