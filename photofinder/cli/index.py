"""photofinder index: add folders to a library and index what is new or changed, with a progress bar."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from photofinder.core.errors import PhotofinderError

from .common import UsageError, library_store, log, shown_path
from .fast import fast_embedder, fast_verdict


def cmd_index(args: argparse.Namespace) -> int:
    from photofinder.core.encode.choose import open_embedder
    from photofinder.core.encode.menu import recommended
    from photofinder.core.encode.models import DEFAULT_MODEL
    from photofinder.core.ingest.indexer import Indexer
    from photofinder.core.ingest.planner import nested_folders
    from photofinder.core.photos.scanner import normalise_folder
    from photofinder.core.store.library import check_model

    folders = [normalise_folder(f) for f in args.folders]
    for given, f in zip(args.folders, folders):
        if not os.path.isdir(f):
            raise UsageError(f"folder not found: {shown_path(given)}")
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    store = library_store()
    if not folders and not store.exists(args.library):
        from photofinder.core.errors import LibraryError

        known = ", ".join(store.names()) or "none yet"
        raise LibraryError(
            f"There is no library named {args.library!r} (libraries: {known}); give a folder to "
            f"create it: photofinder index FOLDER --library {args.library}"
        )
    if folders and not args.new and not store.exists(args.library):
        others = store.names()
        if others:  # a second library is asked for by name: a typo must not start one silently
            raise UsageError(
                f"there is no library named {args.library!r} (libraries: {', '.join(others)}); to create it, "
                "add --new"
            )
    lib, created = store.ensure(args.library)
    try:
        with lib.open_catalog() as catalog:
            lib.restore_lost_folders(catalog)
            # a library made before the menu keeps its model; a new one gets the recommended choice
            model = args.model or lib.model_ref(catalog) or (recommended().id if created else DEFAULT_MODEL)
            embedder = open_embedder(model, device=args.device, runtime=args.runtime)
            probe, fast_note = None, None
            if args.fast:
                embedder, probe, fast_note = fast_embedder(catalog, model, embedder)
            if not args.rebuild:
                check_model(catalog, embedder, lib.name)  # before any change: a wrong model changes nothing
            existing = catalog.folders()
            for f in folders:
                inside = nested_folders([*existing, f]).get(f)
                if inside is not None:
                    print(
                        f"{shown_path(f)} is already part of the library (inside {shown_path(inside)})",
                        file=sys.stderr,
                    )
                    continue
                catalog.add_folder(f)
            lib.write_info(catalog, model=embedder.model_id)
        report = Indexer(lib, embedder, batch_size=args.batch_size, rebuild=args.rebuild).run(
            progress=_progress_bar(args.json)
        )
        if probe is not None:
            fast_note = fast_verdict(lib, probe)
    except BaseException:
        if created:  # a first run that failed (no model, offline) leaves no empty library behind
            _remove_quietly(store, lib.name)
        raise
    words = None
    if not report.cancelled:
        from photofinder.core.ingest.wordpass import WordsPass

        words = WordsPass(lib, embedder, mode=args.ocr).run(progress=_progress_bar(args.json))
    if args.json:
        out = report.as_json()
        if words is not None:
            out["words"] = words.as_json()
        if args.fast:
            out["fast"] = {"int8": bool(fast_note and fast_note[0]), "why": fast_note[1] if fast_note else ""}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if fast_note:
        print(f"fast indexing: {'int8 used' if fast_note[0] else 'not used, fp32'} ({fast_note[1]})")
    rebuilt = " (rebuilt with the new model)" if report.rebuilt else ""
    print(
        f"{lib.name}: {report.indexed} indexed, {report.reused} reused (renamed/copied/duplicate), "
        f"{report.unchanged} unchanged, {report.removed} removed, {len(report.skipped)} skipped "
        f"in {report.seconds:.1f}s{rebuilt}"
    )
    if report.cancelled:
        print("  interrupted: run it again to finish (nothing done so far is lost)")
    for s in report.skipped:
        print(f"  skipped {shown_path(s.path)}: {s.reason}")
    for s in report.missing_folders:
        print(f"  folder {shown_path(s.path)}: {s.reason} (its photos are kept until it is back)")
    if words is not None and words.looked_at:
        print(
            f"  words: {words.read} photos read ({words.with_text} with words), {words.gated_out} passed over "
            f"as holding no text; places: {words.placed} photos placed, in {words.seconds:.1f}s"
            + ("; interrupted: run it again to finish" if words.cancelled else "")
        )
    return 0


def _remove_quietly(store: Any, name: str) -> None:
    try:
        store.remove(name, only_if_empty=True)
    except PhotofinderError as e:
        log.warning("could not remove the empty library %s: %s", name, e)


def _progress_bar(quiet: bool) -> Any:
    """A tqdm bar on a terminal: a transient count while scanning, then photos indexed with rate and ETA."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(p: Any) -> None:
        if p.phase == "scanning":
            bar = bars.get("scan") or bars.setdefault(
                "scan", tqdm(desc="looking for photos", unit=" found", leave=False, file=sys.stderr)
            )
            bar.n = p.done
            bar.refresh()
            return
        if "scan" in bars:
            bars.pop("scan").close()
        if p.phase in ("indexing", "reading words"):
            bar = bars.get("index") or bars.setdefault(
                "index",
                tqdm(
                    total=p.total,
                    unit="photo",
                    dynamic_ncols=True,
                    file=sys.stderr,
                    desc="reading words" if p.phase != "indexing" else None,
                ),
            )
            bar.n = p.done
            bar.set_postfix_str(shown_path(os.path.basename(p.current))[-30:], refresh=False)
            bar.refresh()
        elif p.phase == "done" and "index" in bars:
            bars.pop("index").close()

    return update
