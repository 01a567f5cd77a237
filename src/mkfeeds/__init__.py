"""mkfeeds: publish a folder of articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1."""

__version__ = "0.1.0"

from mkfeeds.errors import ArticleError, ConfigError, MkfeedsError, OutputError  # noqa: E402

__all__ = ["__version__", "ArticleError", "ConfigError", "MkfeedsError", "OutputError"]
