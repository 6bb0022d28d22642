"""Keeping a library: watch, explore, duplicates, and the desktop entry."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .common import UsageError, library_store, shown_path, size_text


def cmd_watch(args: argparse.Namespace) -> int:
    import signal
    import threading
    import time

    from photofinder.core.encode.choose import open_embedder
    from photofinder.core.encode.models import DEFAULT_MODEL
    from photofinder.core.ingest.watcher import LibraryWatcher

    lib = library_store().get(args.library)
    with lib.open_catalog() as c:
        model = lib.model_ref(c) or DEFAULT_MODEL
        folders = c.folders()
    embedder = open_embedder(model, device=args.device, runtime=args.runtime)
    stop = threading.Event()

    def report(batch: Any) -> None:
        stamp = time.strftime("%H:%M:%S")
        if batch.error:
            print(f"{stamp} {lib.name}: {batch.error}", flush=True)
        elif batch.report and (
            batch.report.indexed or batch.report.reused or batch.report.removed or batch.report.skipped
        ):
            r = batch.report
            print(
                f"{stamp} {lib.name}: {r.indexed} indexed, {r.reused} reused, {r.removed} removed, "
                f"{len(r.skipped)} skipped",
                flush=True,
            )

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    watcher = LibraryWatcher(lib, embedder, on_batch=report, rescan_every=args.rescan)
    watcher.start()
    print(f"watching {len(folders)} folder(s) of {lib.name!r}; Ctrl+C stops", file=sys.stderr, flush=True)
    while not stop.wait(0.25):  # a watcher stopped by an error is noticed within a quarter of a second
        if not watcher.running:
            break
    watcher.stop()
    if watcher.fatal:  # a service manager restarts it (Restart=on-failure): say why, and fail
        print(f"photofinder watch: stopped by an error: {watcher.fatal}", file=sys.stderr)
        return 1
    print("stopped", file=sys.stderr)
    return 0


def cmd_explore(args: argparse.Namespace) -> int:
    from photofinder.core.encode.choose import open_embedder
    from photofinder.core.errors import LibraryError
    from photofinder.core.explore import groups

    lib = library_store().get(args.library)
    with lib.open_catalog() as c:
        model = args.model or lib.model_ref(c)
        if model is None or c.count() == 0:
            raise LibraryError(
                f"The library {lib.name!r} has no photos indexed yet: run photofinder index FOLDER "
                f"--library {lib.name}"
            )

        def say(text: str) -> None:
            if not args.json and sys.stderr.isatty():
                print(text, file=sys.stderr)

        grouping = groups.current(
            lib,
            c,
            lambda: open_embedder(model, device=args.device, runtime=args.runtime, purpose="search"),
            say,
        )
        shown = [g for top in grouping.groups for g in (top, *top.children)]
        paths = c.photos(i for g in shown for i in g.cover)

    def examples(g: Any) -> list[str]:
        return [shown_path(paths[i][0]) for i in g.cover if i in paths]

    def as_json(g: Any) -> dict[str, Any]:
        out = {"id": g.id, "name": g.name, "count": g.count, "newest": g.newest, "examples": examples(g)}
        if g.children:
            out["subgroups"] = [as_json(k) for k in g.children]
        return out

    if args.json:
        print(json.dumps({"groups": [as_json(g) for g in grouping.groups]}, ensure_ascii=False))
        return 0
    for g in grouping.groups:
        print(f"{g.id:>6}  {g.count:>8,}  {g.name}")
        for k in g.children:
            print(f"{k.id:>6}  {k.count:>8,}    · {k.name}")
    print(
        f"{len(grouping.groups)} groups of {grouping.photos:,} photos; photofinder search --group ID lists one",
        file=sys.stderr,
    )
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from photofinder.core.duplicates.finder import find_groups, trash
    from photofinder.core.photos.scanner import normalise_folder

    lib = library_store().get(args.library)
    prefer = normalise_folder(args.prefer) if args.prefer else None
    with lib.open_catalog() as c:
        found = find_groups(lib, c, preferred_folder=prefer)
    groups = found.duplicates
    # What --trash would move: every copy but the keeper, never a link (it frees nothing, and its target may be
    # the keeper itself).
    plan = [(g, [m for m in g.others if not m.link]) for g in groups]
    if args.json:
        print(
            json.dumps(
                {
                    "groups": [
                        {
                            "keep": g.keep.as_json(),
                            "others": [m.as_json() for m in g.others],
                            "identical": g.exact,
                            "reclaimable": g.reclaimable,
                        }
                        for g in groups
                    ],
                    "similar": [{"photos": [m.as_json() for m in g.members]} for g in found.similar]
                    if args.similar
                    else [],
                },
                ensure_ascii=False,
            )
        )
    else:
        if not groups:
            print(f"{lib.name}: no duplicates")
        for g in groups:
            print(f"keep  {size_text(g.keep)}  {g.keep.path}")
            for m in g.others:
                label = "link" if m.link else ("move" if args.trash else " dup")
                print(f"{label}  {size_text(m)}  {m.path}")
        if args.similar:
            for g in found.similar:
                print("similar shots (pick yourself; none is suggested for the trash):")
                for m in g.members:
                    print(f"shot  {size_text(m)}  {m.path}")
        extra = sum(len(moves) for _, moves in plan)
        if groups:
            print(
                f"{len(groups)} groups, {extra} copies, {sum(g.reclaimable for g in groups) / 1e6:.1f} MB to "
                "reclaim"
                + (
                    ""
                    if args.similar or not found.similar
                    else f"; {len(found.similar)} sets of similar shots (--similar lists them)"
                ),
                file=sys.stderr,
            )
    if args.trash and groups:
        victims = [m.path for _, moves in plan for m in moves]
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("moving photos to the trash needs a confirmation: add --yes")
            answer = input(
                f"Move the {len(victims)} copies marked 'move' above to the trash (each group's 'keep' stays)? [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing moved", file=sys.stderr)
                return 1
        report = trash(lib, plan)
        for path, why in report.left:
            print(f"left  {path}: {why}", file=sys.stderr)
        print(f"moved {len(report.moved)} of {len(victims)} copies to the trash", file=sys.stderr)
        return 0 if len(report.moved) == len(victims) else 1
    return 0


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from ..desktop import install_desktop_entry

    for path in install_desktop_entry():
        print(f"installed {path}")
    return 0
