"""``python -m stockbrief``."""

from stockbrief.cli import main

main()
