"""``python -m mkfeeds``."""

from mkfeeds.cli import main

main()
