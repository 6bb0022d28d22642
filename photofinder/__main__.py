"""Entry points: `photofinder` (CLI; the app with no command) and `photofinder-gui` (the app, no console)."""

from __future__ import annotations

import sys


def main() -> None:
    from .cli import main as cli_main

    sys.exit(cli_main())


def gui_main() -> None:
    from .cli import main as cli_main

    sys.exit(cli_main(["gui", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
