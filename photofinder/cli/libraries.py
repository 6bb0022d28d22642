"""photofinder libraries and folders: list, rename, remove or repair libraries; list or remove folders."""

from __future__ import annotations

import argparse
import json
import os
import sys

from photofinder.core.errors import PhotofinderError

from .common import UsageError, library_store, shown_path


def cmd_libraries(args: argparse.Namespace) -> int:
    store = library_store()
    action = getattr(args, "action", None) or "list"
    if action == "remove":
        lib = store.get(args.name)
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(f"removing {args.name!r} deletes its index; add --yes to confirm")
            answer = input(
                f"Delete the library {args.name!r} (its index and thumbnails; the photos are kept)? [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing removed")
                return 1
        store.remove(lib.name)
        print(f"removed the library {lib.name!r} (the photos were not touched)")
        return 0
    if action == "rename":
        store.rename(args.name, args.new_name)
        print(f"renamed {args.name!r} to {args.new_name!r}")
        return 0
    if action == "repair":
        lib = store.get(args.name)
        damage = lib.damage()
        if damage is None:  # a sound catalog is never thrown away: every photo would be encoded again
            print(f"{lib.name!r} is healthy: its catalog passed the check, nothing was changed")
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(
                    f"the catalog of {lib.name!r} is damaged; repairing sets it aside and indexes the "
                    f"library's folders again: add --yes to confirm"
                )
            print(damage, file=sys.stderr)
            answer = input(
                f"Set the damaged catalog of {lib.name!r} aside (it is kept) and start the library again "
                "from its folders? [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing changed")
                return 1
        aside = lib.repair()
        where = f"the damaged catalog was kept as {aside}; " if aside else ""
        print(
            f"repaired {lib.name!r}: {where}run `photofinder index --library {lib.name}` to index its "
            "folders again"
        )
        return 0
    rows = []
    for name in store.names():
        try:
            rows.append((name, store.get(name).summary(), None))
        except PhotofinderError as e:  # one damaged library must not hide the others
            rows.append((name, None, str(e)))
    if args.json:
        print(
            json.dumps(
                {
                    "libraries": [
                        {
                            "name": n,
                            "photos": s.photos,
                            "skipped": s.skipped,
                            "folders": [shown_path(f) for f in s.folders],
                            "model": s.model_id,
                        }
                        if s
                        else {"name": n, "error": err}
                        for n, s, err in rows
                    ]
                },
                ensure_ascii=False,
            )
        )
        return 0
    if not rows:
        print("No libraries yet. Create one with: photofinder index FOLDER")
    for name, s, err in rows:
        if s is None:
            print(f"{name}: can't be opened: {err}")
            continue
        print(
            f"{s.name}: {s.photos} photos ({s.skipped} skipped) in {len(s.folders)} folder(s); model {s.model_id}"
        )
        for f in s.folders:
            print(f"    {shown_path(f)}")
    return 0


def cmd_folders(args: argparse.Namespace) -> int:
    from photofinder.core.photos.scanner import normalise_folder

    lib = library_store().get(args.library)
    if (getattr(args, "action", None) or "list") == "remove":
        with lib.open_catalog() as c:
            folders = c.folders()
        wanted = normalise_folder(args.path)
        match = next((f for f in folders if f in (wanted, os.path.abspath(args.path), args.path)), None)
        if match is None:
            listed = ", ".join(shown_path(f) for f in folders) or "none"
            raise UsageError(
                f"{shown_path(args.path)} is not a folder of the library {lib.name!r} (folders: {listed})"
            )
        n = lib.remove_folder(match)
        print(
            f"removed {shown_path(match)} from {lib.name!r}: {n} photos forgotten (the photos were not touched)"
        )
        return 0
    with lib.open_catalog() as c:
        for f in c.folders():
            print(f)
    return 0
