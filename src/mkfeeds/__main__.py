"""``python -m mkfeeds``."""

from mkfeeds.launch import main

main()
