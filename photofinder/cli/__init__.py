"""The photofinder command line: argparse over the core, with the same library files as the app.

Every failure a user can cause ends with one line on stderr and a non-zero exit: 2 for a command line that
can't work as typed, 1 for anything else (a missing library, an unavailable model, a full disk, a busy or
damaged library). A traceback is a bug. One module per command group; `main` runs one.
"""

from .index import cmd_index
from .libraries import cmd_folders, cmd_libraries
from .main import main
from .parser import build_parser
from .search import cmd_search
from .upkeep import cmd_duplicates, cmd_explore, cmd_install_desktop, cmd_watch

__all__ = [
    "build_parser",
    "cmd_duplicates",
    "cmd_explore",
    "cmd_folders",
    "cmd_index",
    "cmd_install_desktop",
    "cmd_libraries",
    "cmd_search",
    "cmd_watch",
    "main",
]
