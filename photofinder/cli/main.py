"""Running a command: dispatch, and one line on stderr for every failure a user can cause."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from collections.abc import Sequence

from photofinder.core.errors import PhotofinderError

from .common import UsageError, stdout_to_devnull
from .index import cmd_index
from .libraries import cmd_folders, cmd_libraries
from .models import cmd_models
from .parser import build_parser
from .search import cmd_search
from .upkeep import cmd_duplicates, cmd_explore, cmd_install_desktop, cmd_watch


def main(argv: Sequence[str] | None = None) -> int:
    from photofinder.core.encode.runtime import tune_process

    tune_process()
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:  # the app's log file may lower the root level later
        handler.setLevel(level)
    if not args.verbose:
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if args.command in (None, "gui"):
        from ..gui.app import run_app

        return run_app(args if args.command else None)
    # Paths are written as the bytes the file system holds, so a name that is not UTF-8 still opens the file.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    try:
        status = {
            "index": cmd_index,
            "search": cmd_search,
            "similar": cmd_search,
            "libraries": cmd_libraries,
            "folders": cmd_folders,
            "duplicates": cmd_duplicates,
            "explore": cmd_explore,
            "watch": cmd_watch,
            "install-desktop": cmd_install_desktop,
            "models": cmd_models,
        }[args.command](args)
        sys.stdout.flush()  # a reader that went away is found here, not at exit
        return status
    except BrokenPipeError:  # `photofinder search cat | head -3`: the reader has all it wanted
        stdout_to_devnull()
        return 0
    except UsageError as e:
        print(f"photofinder {args.command}: {e}", file=sys.stderr)
        return 2
    except PhotofinderError as e:
        print(f"photofinder: {e}", file=sys.stderr)
        return 1
    except sqlite3.Error as e:  # the core translates these; one that slips through still gets one line
        print(f"photofinder: the library catalog failed: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        where = f" ({e.filename})" if getattr(e, "filename", None) else ""
        print(f"photofinder: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("photofinder: interrupted (what was indexed so far is kept)", file=sys.stderr)
        return 130
