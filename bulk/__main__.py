"""`python -m bulk`: the same as the `bulk` command."""

from bulk.cli import main

main()
