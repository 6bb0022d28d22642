"""Entry point of the standalone build: the app, or the CLI when given a command."""

import sys

from photofinder.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
