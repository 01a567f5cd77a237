"""The ``mkfeeds`` command's entry point. It imports nothing before it can catch Ctrl-C,
so an interrupt while the command starts (importing click and the CLI) exits with 130,
quietly, instead of printing a traceback of the import machinery."""

from __future__ import annotations

import os

EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it


def main() -> None:
    try:
        from mkfeeds.cli import main as run
    except KeyboardInterrupt:
        os._exit(EXIT_INTERRUPTED)
    run()
