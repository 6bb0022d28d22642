"""The photofinder command line: argparse over the core, with the same library files as the app.

Every failure a user can cause ends with one line on stderr and a non-zero exit: 2 for a command line that
can't work as typed, 1 for anything else (a missing library, an unavailable model, a full disk, a busy or
damaged library). A traceback is a bug.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from typing import Any

from .core.errors import PhotofinderError

log = logging.getLogger("photofinder")


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("photofinder")
    except Exception:  # noqa: BLE001 - running from a checkout that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    from .core.library import DEFAULT_LIBRARY

    p = argparse.ArgumentParser(
        prog="photofinder", description="Find photos by what is in them. With no command, opens the app."
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    p.add_argument("--version", action="version", version=f"photofinder {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def lib_opt(sp: argparse.ArgumentParser, default: Any = DEFAULT_LIBRARY) -> None:
        sp.add_argument("--library", "-l", default=default, help=f"library name (default: {DEFAULT_LIBRARY})")

    ix = sub.add_parser("index", help="add folders to a library and index new or changed photos")
    ix.add_argument(
        "folders",
        nargs="*",
        metavar="FOLDER",
        help="photo folders to add; with none, re-index the library's folders",
    )
    lib_opt(ix)
    ix.add_argument(
        "--model",
        help="hub id or local folder of a CLIP or SigLIP model (default: the library's, or the "
        "recommended one of `photofinder models` for a new library)",
    )
    ix.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    ix.add_argument(
        "--runtime",
        default="auto",
        choices=["auto", "torch", "onnx"],
        help="torch, or ONNX Runtime (the default on a CPU: faster, and no torch for text queries)",
    )
    ix.add_argument(
        "--fast",
        action="store_true",
        help="index with the int8 vision tower (about 1.6x faster on a CPU) if a check on your own "
        "photos shows it finds the same neighbours as fp32; otherwise fp32",
    )
    ix.add_argument("--batch-size", type=int, default=None, help="images per model batch")
    ix.add_argument(
        "--rebuild",
        action="store_true",
        help="encode every photo again (to switch a library's model); the old vectors keep serving "
        "searches until the rebuild completes, and a failed or cancelled one changes nothing",
    )
    ix.add_argument("--json", action="store_true", help="print one JSON report instead of text")

    se = sub.add_parser(
        "search",
        help="search a library by text, images, or both; with exclusions and filters",
        description="Terms combine: the query is the weighted sum of what to look for minus what to avoid. "
        'Inline syntax (rclip\'s): "2:golden retriever + ./pool.jpg - fruit" - a term that names an '
        "existing image file is an image, N: weights a term.",
    )
    se.add_argument("text", nargs="?", help="what to look for, e.g. 'dog on a beach at sunset'")
    se.add_argument("--image", metavar="PATH", action="append", default=[], help="look for photos like this")
    se.add_argument(
        "--not",
        dest="not_text",
        metavar="TEXT",
        action="append",
        default=[],
        help="push away from this (e.g. --not people)",
    )
    se.add_argument(
        "--not-image", metavar="PATH", action="append", default=[], help="push away from this image"
    )
    for sp in (se, sub.add_parser("similar", help="photos that look like one (in the library or not)")):
        if sp is not se:
            sp.add_argument("path", metavar="PATH", help="a photo file")
        lib_opt(sp)
        sp.add_argument("--top", "-n", type=int, default=20, help="how many results (default 20)")
        sp.add_argument(
            "--all",
            action="store_true",
            help="show the top results even below the library's good-match cut-off",
        )
        sp.add_argument("--folder", metavar="FOLDER", help="only photos in this folder (and below)")
        sp.add_argument(
            "--after", metavar="DATE", help="only photos taken on or after: 2024, 2024-06, 2024-06-15"
        )
        sp.add_argument("--before", metavar="DATE", help="only photos taken on or before this date")
        sp.add_argument(
            "--type",
            dest="types",
            metavar="EXT",
            action="append",
            default=[],
            help="only these file types: --type jpg --type heic (or jpg,heic)",
        )
        sp.add_argument("--orientation", choices=["landscape", "portrait", "square"])
        sp.add_argument(
            "--min-size", type=int, metavar="PIXELS", help="only photos at least this big (shorter side)"
        )
        sp.add_argument(
            "--sort", choices=["match", "date"], default="match", help="best match first, or newest"
        )
        sp.add_argument(
            "--hide-duplicates",
            action="store_true",
            help="one result per group of copies among the results (identical, resized, RAW + JPEG), so "
            'fewer than -n may print; --json lists each result\'s hidden copies under "duplicates"',
        )
        sp.add_argument("--model", help="use this model instead of the one the library was indexed with")
        sp.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
        sp.add_argument("--runtime", default="auto", choices=["auto", "torch", "onnx"])
        sp.add_argument("--json", action="store_true", help="print one JSON document")

    li = sub.add_parser("libraries", help="list, rename, remove or repair libraries")
    li.add_argument("--json", action="store_true")
    lsub = li.add_subparsers(dest="action", metavar="ACTION")
    lsub.add_parser("list", help="list libraries (the default)").add_argument("--json", action="store_true")
    lr = lsub.add_parser("remove", help="delete a library's catalog, index and thumbnails (never the photos)")
    lr.add_argument("name")
    lr.add_argument("--yes", "-y", action="store_true", help="don't ask for confirmation")
    ln = lsub.add_parser("rename", help="rename a library")
    ln.add_argument("name")
    ln.add_argument("new_name")
    lp = lsub.add_parser(
        "repair", help="set a damaged catalog aside and start the library again from its folders"
    )
    lp.add_argument("name")

    fo = sub.add_parser("folders", help="list or remove a library's folders")
    lib_opt(fo)
    fsub = fo.add_subparsers(dest="action", metavar="ACTION")
    lib_opt(fsub.add_parser("list", help="list the library's folders (the default)"), argparse.SUPPRESS)
    fr = fsub.add_parser("remove", help="forget a folder's photos (the photos themselves are not touched)")
    fr.add_argument("path")
    lib_opt(fr, argparse.SUPPRESS)

    wa = sub.add_parser("watch", help="keep a library current as photos are added, changed, moved or deleted")
    lib_opt(wa)
    wa.add_argument(
        "--rescan",
        type=float,
        default=600,
        metavar="SECONDS",
        help="full rescan interval, the safety net for network drives (default 600)",
    )
    wa.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    wa.add_argument("--runtime", default="auto", choices=["auto", "torch", "onnx"])

    du = sub.add_parser("duplicates", help="find duplicate photos (copies, resized, re-saved, RAW + JPEG)")
    lib_opt(du)
    du.add_argument("--prefer", metavar="FOLDER", help="keep the copy in this folder when sizes are equal")
    du.add_argument(
        "--trash",
        action="store_true",
        help="move every copy but the suggested keeper to the system trash (asks first)",
    )
    du.add_argument("--yes", "-y", action="store_true", help="with --trash: don't ask")
    du.add_argument("--json", action="store_true", help="print one JSON document")

    gu = sub.add_parser("gui", help="open the app (the default with no command)")
    gu.add_argument("--library", help="library to open")
    gu.add_argument("--query", help="run this text search once the window is up")
    gu.add_argument("--screenshot", metavar="FILE", help="render the window to a PNG file and exit")
    gu.add_argument("--size", default="1200x800", help="window size for --screenshot (default 1200x800)")

    mo = sub.add_parser(
        "models",
        help="the model menu: what each model is good at, its languages, size, licence and speed here",
    )
    mo.add_argument("--json", action="store_true", help="print one JSON document")
    mo.add_argument(
        "--no-measure", action="store_true", help="don't run the self-benchmark (speeds measured before only)"
    )
    sub.add_parser("install-desktop", help="add photofinder to the desktop menu for this user")
    return p


class UsageError(PhotofinderError):
    """A command line that can't work as typed (exit status 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    from .core.tuning import tune_process

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
        from .gui.app import run_app

        return run_app(args if args.command else None)
    # Paths are written as the bytes the file system holds, so a name that is not UTF-8 still opens the file.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="surrogateescape")
    try:
        return {
            "index": cmd_index,
            "search": cmd_search,
            "similar": cmd_search,
            "libraries": cmd_libraries,
            "folders": cmd_folders,
            "duplicates": cmd_duplicates,
            "watch": cmd_watch,
            "install-desktop": cmd_install_desktop,
            "models": cmd_models,
        }[args.command](args)
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


def _store() -> Any:
    from .core.library import LibraryStore
    from .core.paths import data_dir

    try:
        return LibraryStore(data_dir())
    except OSError as e:
        from .core.errors import LibraryError

        raise LibraryError(
            f"The data folder can't be used ({e.strerror or e}). Check that it is writable, "
            "or set PHOTOFINDER_DATA_DIR to another folder."
        ) from e


def _show(path: str) -> str:
    from .core.paths import display_path

    return display_path(path)


def cmd_index(args: argparse.Namespace) -> int:
    from .core.encoders import open_embedder
    from .core.indexer import Indexer
    from .core.library import check_model
    from .core.modelmenu import recommended
    from .core.models import DEFAULT_MODEL
    from .core.planner import nested_folders
    from .core.scanner import normalise_folder

    folders = [normalise_folder(f) for f in args.folders]
    for given, f in zip(args.folders, folders):
        if not os.path.isdir(f):
            raise UsageError(f"folder not found: {_show(given)}")
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    store = _store()
    if not folders and not store.exists(args.library):
        from .core.errors import LibraryError

        known = ", ".join(store.names()) or "none yet"
        raise LibraryError(
            f"There is no library named {args.library!r} (libraries: {known}); give a folder to "
            f"create it: photofinder index FOLDER --library {args.library}"
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
                embedder, probe, fast_note = _fast_embedder(catalog, model, embedder)
            if not args.rebuild:
                check_model(catalog, embedder, lib.name)  # before any change: a wrong model changes nothing
            existing = catalog.folders()
            for f in folders:
                inside = nested_folders([*existing, f]).get(f)
                if inside is not None:
                    print(
                        f"{_show(f)} is already part of the library (inside {_show(inside)})", file=sys.stderr
                    )
                    continue
                catalog.add_folder(f)
            lib.write_info(catalog, model=embedder.model_id)
        report = Indexer(lib, embedder, batch_size=args.batch_size, rebuild=args.rebuild).run(
            progress=_progress_bar(args.json)
        )
        if probe is not None:
            fast_note = _fast_verdict(lib, probe)
    except BaseException:
        if created:  # a first run that failed (no model, offline) leaves no empty library behind
            _remove_quietly(store, lib.name)
        raise
    if args.json:
        out = report.as_json()
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
        print(f"  skipped {_show(s.path)}: {s.reason}")
    for s in report.missing_folders:
        print(f"  folder {_show(s.path)}: {s.reason} (its photos are kept until it is back)")
    return 0


def _fast_embedder(catalog: Any, model: str, embedder: Any) -> tuple[Any, Any, tuple[bool, str] | None]:
    """`--fast`: the int8 vision tower where it proved itself before on this library, else a probe that
    decides on the first photos this run encodes (a library's first index included)."""
    from .core.encoders import CpuEmbedder, Int8Probe, open_embedder, stored_int8_verdict
    from .core.onnx_encoder import OnnxEmbedder

    if not isinstance(embedder, CpuEmbedder):
        return embedder, None, (False, "int8 runs on ONNX Runtime on the CPU; this index runs on torch")
    verdict = stored_int8_verdict(catalog, embedder.fingerprint)
    if verdict is not None:
        ok, agreement = verdict
        why = (
            f"it agreed with fp32 on {agreement:.0%} of the nearest neighbours of your photos, checked before"
        )
        if ok:
            return open_embedder(model, runtime="onnx", fast=True), None, (True, why)
        return embedder, None, (False, why + "; 90 % needed")
    try:
        embedder.load()
    except Exception:  # noqa: BLE001 - the indexer reports an unusable model in its own words
        return embedder, None, None
    if embedder.runtime != "onnx":
        return embedder, None, (False, "ONNX Runtime can't be used for this model here")
    probe = Int8Probe(embedder.onnx, OnnxEmbedder(model, int8=True))
    return probe, probe, None


def _fast_verdict(lib: Any, probe: Any) -> tuple[bool, str]:
    from .core.encoders import PROBE_MIN, store_int8_verdict

    ok, agreement, photos = probe.finish()
    if photos < PROBE_MIN:
        return False, f"only {photos} photos to index, {PROBE_MIN} needed to check int8 on"
    with lib.open_catalog() as c:
        store_int8_verdict(c, probe.fingerprint, ok, agreement, photos)
    how = (
        f"checked on the first {photos} photos: int8 agreed with fp32 on {agreement:.0%} of the nearest "
        f"neighbours{'' if ok else ', 90 % needed'}; the check took {probe.probe_seconds:.1f} s"
    )
    return ok, how


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
        if p.phase == "indexing":
            bar = bars.get("index") or bars.setdefault(
                "index", tqdm(total=p.total, unit="photo", dynamic_ncols=True, file=sys.stderr)
            )
            bar.n = p.done
            bar.set_postfix_str(_show(os.path.basename(p.current))[-30:], refresh=False)
            bar.refresh()
        elif p.phase == "done" and "index" in bars:
            bars.pop("index").close()

    return update


def cmd_search(args: argparse.Namespace) -> int:
    from .core.decode import UnreadableImage
    from .core.encoders import open_embedder
    from .core.errors import LibraryError
    from .core.query import IMAGE, PHOTO, TEXT, Query, QueryError, Term, parse_query
    from .core.search import Searcher

    if args.top < 1:
        raise UsageError("--top must be at least 1")
    filters = _filters(args)
    terms: list[Term] = []
    try:
        if args.command == "similar":
            if not os.path.isfile(args.path):
                raise UsageError(f"file not found: {_show(args.path)}")
        else:
            if args.text is not None and not args.text.strip() and not args.image:
                raise UsageError("the query is empty: give words to search for, or --image PATH")
            terms += parse_query(args.text or "")
            for path in args.image + args.not_image:
                if not os.path.isfile(path):
                    raise UsageError(f"file not found: {_show(path)}")
            terms += [Term(IMAGE, os.path.abspath(p), label=os.path.basename(p)) for p in args.image]
            terms += [Term(TEXT, t, negative=True, label=t) for t in args.not_text if t.strip()]
            terms += [
                Term(IMAGE, os.path.abspath(p), negative=True, label=os.path.basename(p))
                for p in args.not_image
            ]
            if not terms and not filters:
                raise UsageError("give TEXT, --image PATH, or a filter (--folder, --after, ...)")
    except QueryError as e:
        raise UsageError(str(e)) from e
    lib = _store().get(args.library)
    with lib.open_catalog() as c:
        model = args.model or lib.model_ref(c)
        photos = c.count()
        own = c.embedding_for_path(os.path.abspath(args.path)) if args.command == "similar" else None
    if model is None or photos == 0:
        raise LibraryError(
            f"The library {lib.name!r} has no photos indexed yet: run photofinder index FOLDER "
            f"--library {lib.name}"
        )
    if args.command == "similar":  # a photo of the library is a term by its stored vector, else by its pixels
        terms = [Term(PHOTO, own[0]) if own else Term(IMAGE, os.path.abspath(args.path))]
    with Searcher(lib, open_embedder(model, device=args.device, runtime=args.runtime, purpose="search")) as s:
        s.preload()  # the index is read while the model loads
        try:
            found = s.run(Query(tuple(terms), filters, args.sort), args.top)
        except UnreadableImage as e:
            raise LibraryError(f"can't read an image of the query: {e}") from e
        except QueryError as e:
            raise UsageError(str(e)) from e
    hidden = 0
    if args.hide_duplicates:
        from .core.collapse import hide_duplicates
        from .core.search import QueryResults

        with lib.open_catalog() as c:
            page = hide_duplicates(lib, c, found.results)
        hidden = page.hidden
        good = sum(1 for r in page.results if r.good)
        found = QueryResults(page.results, good, found.threshold, found.judged)
    results = found.results
    if args.json:
        print(
            json.dumps(
                {
                    "results": [_result_json(r, args.hide_duplicates) for r in results],
                    "good": found.good,
                    **({"hidden": hidden} if args.hide_duplicates else {}),
                    "threshold": None if found.threshold is None else round(found.threshold, 4),
                },
                ensure_ascii=False,
            )
        )
        return 0
    shown = results if args.all or not found.judged or not found.good else found.good_only()
    if not results:
        print(
            "no matches (the photos found may have been moved or deleted since they were indexed; "
            "run photofinder index)",
            file=sys.stderr,
        )
    elif found.judged and not found.good and not args.all:
        print("no good matches in this library; the closest ones:", file=sys.stderr)
    for r in shown:
        print(f"{r.score:.3f}  {r.path}" if r.score is not None else f"{r.taken or '':19s}  {r.path}")
    if len(shown) < len(results):
        print(
            f"{len(shown)} good matches; {len(results) - len(shown)} weaker ones not shown (--all shows them)",
            file=sys.stderr,
        )
    if hidden:
        print(f"{hidden} duplicate{'s' if hidden != 1 else ''} hidden (--json lists them)", file=sys.stderr)
    return 0


def _filters(args: argparse.Namespace) -> Any:
    from .core.query import Filters, QueryError, parse_date
    from .core.scanner import normalise_folder

    try:
        types = tuple(t.strip().lstrip(".") for arg in args.types for t in arg.split(",") if t.strip())
        if args.min_size is not None and args.min_size < 1:
            raise UsageError("--min-size must be at least 1")
        return Filters(
            folder=normalise_folder(args.folder) if args.folder else None,
            after=parse_date(args.after) if args.after else None,
            before=parse_date(args.before, end=True) if args.before else None,
            types=types,
            orientation=args.orientation,
            min_size=args.min_size,
        )
    except QueryError as e:
        raise UsageError(str(e)) from e


def _result_json(r: Any, duplicates: bool = False) -> dict[str, Any]:
    from .core.paths import is_printable

    out: dict[str, Any] = {
        "path": _show(r.path),
        "score": None if r.score is None else round(r.score, 4),
        "good": r.good,
        "date": r.taken,
        "folder": _show(r.folder),
        "width": r.width,
        "height": r.height,
        "bytes": r.size,
    }
    if not is_printable(r.path):  # the exact name, for scripts: base64 of the file system's bytes
        out["path_bytes"] = base64.b64encode(os.fsencode(r.path)).decode("ascii")
    if duplicates:  # the copies this result stands for (hiding duplicates)
        out["duplicates"] = [_show(d.path) for d in r.duplicates]
    return out


def cmd_libraries(args: argparse.Namespace) -> int:
    store = _store()
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
                            "folders": [_show(f) for f in s.folders],
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
            print(f"    {_show(f)}")
    return 0


def cmd_folders(args: argparse.Namespace) -> int:
    from .core.scanner import normalise_folder

    lib = _store().get(args.library)
    if (getattr(args, "action", None) or "list") == "remove":
        with lib.open_catalog() as c:
            folders = c.folders()
        wanted = normalise_folder(args.path)
        match = next((f for f in folders if f in (wanted, os.path.abspath(args.path), args.path)), None)
        if match is None:
            listed = ", ".join(_show(f) for f in folders) or "none"
            raise UsageError(
                f"{_show(args.path)} is not a folder of the library {lib.name!r} (folders: {listed})"
            )
        n = lib.remove_folder(match)
        print(f"removed {_show(match)} from {lib.name!r}: {n} photos forgotten (the photos were not touched)")
        return 0
    with lib.open_catalog() as c:
        for f in c.folders():
            print(f)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """The curated model menu, with each model's speed measured on this machine (a few seconds each, once)."""
    from .core.modelmenu import menu

    if not args.no_measure and not args.json and sys.stderr.isatty():
        print("measuring each model's speed on this machine (once, a few seconds each) ...", file=sys.stderr)
    rows = menu(measure=not args.no_measure)
    if args.json:
        print(json.dumps({"models": rows}, ensure_ascii=False))
        return 0
    for r in rows:
        speed = f"{r['images_per_s']:.1f} images/s here" if r["images_per_s"] else "speed not measured"
        mark = "  (recommended for new libraries)" if r["recommended"] else ""
        if r["existing_default"]:
            mark = "  (libraries made before the menu)"
        print(f"{r['id']}{mark}")
        print(f"    {r['name']}: {r['good_at']}")
        print(
            f"    languages: {r['languages']}; download about {r['download_mb']:,} MB; {r['licence']}; {speed}"
        )
        if r["quality"]:
            print(f"    quality: {r['quality']}")
    print("speed: the vision tower alone, torch fp32 on this machine's CPU (ONNX Runtime indexes faster)")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    import signal
    import threading
    import time

    from .core.encoders import open_embedder
    from .core.models import DEFAULT_MODEL
    from .core.watcher import LibraryWatcher

    lib = _store().get(args.library)
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
    while not stop.wait(1.0):
        if not watcher.running:
            break
    watcher.stop()
    print("stopped", file=sys.stderr)
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from .core.duplicates import find_duplicates, trash
    from .core.scanner import normalise_folder

    lib = _store().get(args.library)
    prefer = normalise_folder(args.prefer) if args.prefer else None
    with lib.open_catalog() as c:
        groups = find_duplicates(lib, c, preferred_folder=prefer)
    if args.json:
        print(
            json.dumps(
                {
                    "groups": [
                        {
                            "keep": g.keep.as_json(),
                            "others": [m.as_json() for m in g.others],
                            "identical": g.exact,
                        }
                        for g in groups
                    ]
                },
                ensure_ascii=False,
            )
        )
    else:
        if not groups:
            print(f"{lib.name}: no duplicates")
        for g in groups:
            print(f"keep  {_size(g.keep)}  {g.keep.path}")
            for m in g.others:
                print(f"  dup {_size(m)}  {m.path}")
        extra = sum(len(g.others) for g in groups)
        if groups:
            print(
                f"{len(groups)} groups, {extra} copies ({sum(m.bytes for g in groups for m in g.others) / 1e6:.1f} MB)",
                file=sys.stderr,
            )
    if args.trash and groups:
        victims = [m.path for g in groups for m in g.others]
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError("moving photos to the trash needs a confirmation: add --yes")
            answer = input(f"Move {len(victims)} copies to the trash (the suggested keepers stay)? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("nothing moved", file=sys.stderr)
                return 1
        done = trash(lib, victims)
        print(f"moved {len(done)} of {len(victims)} copies to the trash", file=sys.stderr)
        return 0 if len(done) == len(victims) else 1
    return 0


def _size(m: Any) -> str:
    dims = f"{m.width}x{m.height}" if m.width else "?"
    return f"{dims:>11} {m.bytes / 1e6:6.1f} MB"


def cmd_install_desktop(args: argparse.Namespace) -> int:
    from .desktop import install_desktop_entry

    for path in install_desktop_entry():
        print(f"installed {path}")
    return 0
