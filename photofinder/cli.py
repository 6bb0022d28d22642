"""The photofinder command line: argparse over the core, with the same library files as the app."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from .core.errors import PhotofinderError

log = logging.getLogger("photofinder")


def build_parser() -> argparse.ArgumentParser:
    from .core.embedder import DEFAULT_MODEL
    from .core.library import DEFAULT_LIBRARY

    p = argparse.ArgumentParser(
        prog="photofinder",
        description="Find photos by what is in them. With no command, opens the app.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def lib_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--library", "-l", default=DEFAULT_LIBRARY, help=f"library name (default: {DEFAULT_LIBRARY})")

    ix = sub.add_parser("index", help="add folders to a library and index new or changed photos")
    ix.add_argument("folders", nargs="*", metavar="FOLDER",
                    help="photo folders to add; with none, re-index the library's folders")
    lib_opt(ix)
    ix.add_argument("--model", help=f"hub id or local folder of a CLIP model (default: the library's, "
                                    f"or {DEFAULT_MODEL} for a new library)")
    ix.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    ix.add_argument("--batch-size", type=int, default=None, help="images per model batch")
    ix.add_argument("--rebuild", action="store_true",
                    help="forget every stored vector and re-index (needed to switch a library's model)")
    ix.add_argument("--json", action="store_true", help="print one JSON report instead of text")

    se = sub.add_parser("search", help="search a library by text or by an image")
    se.add_argument("text", nargs="?", help="what to look for, e.g. 'dog on a beach at sunset'")
    se.add_argument("--image", metavar="PATH", help="search by an image file instead of text")
    for sp in (se, sub.add_parser("similar", help="photos that look like one (in the library or not)")):
        if sp is not se:
            sp.add_argument("path", metavar="PATH", help="a photo file")
        lib_opt(sp)
        sp.add_argument("--top", "-n", type=int, default=20, help="how many results (default 20)")
        sp.add_argument("--model", help="use this model instead of the one the library was indexed with")
        sp.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
        sp.add_argument("--json", action="store_true", help="print one JSON document")

    li = sub.add_parser("libraries", help="list libraries")
    li.add_argument("--json", action="store_true")

    gu = sub.add_parser("gui", help="open the app (the default with no command)")
    gu.add_argument("--library", help="library to open")
    gu.add_argument("--query", help="run this text search once the window is up")
    gu.add_argument("--screenshot", metavar="FILE", help="render the window to a PNG file and exit")
    gu.add_argument("--size", default="1200x800", help="window size for --screenshot (default 1200x800)")

    sub.add_parser("install-desktop", help="add photofinder to the desktop menu for this user")
    return p


def main(argv: Sequence[str] | None = None) -> int:
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
    try:
        return {"index": cmd_index, "search": cmd_search, "similar": cmd_search,
                "libraries": cmd_libraries, "install-desktop": cmd_install_desktop}[args.command](args, parser)
    except PhotofinderError as e:
        print(f"photofinder: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("photofinder: interrupted", file=sys.stderr)
        return 130


def _store() -> Any:
    from .core.library import LibraryStore
    from .core.paths import data_dir

    return LibraryStore(data_dir())


def cmd_index(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .core.embedder import DEFAULT_MODEL, ClipEmbedder
    from .core.indexer import Indexer
    from .core.scanner import normalise_folder

    folders = [normalise_folder(f) for f in args.folders]
    for given, f in zip(args.folders, folders):
        if not os.path.isdir(f):
            parser.error(f"folder not found: {given}")
    store = _store()
    if not folders and not store.exists(args.library):
        parser.error(f"library {args.library!r} does not exist: give a folder to index")
    lib = store.get_or_create(args.library)
    with lib.open_catalog() as catalog:
        if args.rebuild:
            catalog.clear_embeddings()
        model = args.model or catalog.model_id or DEFAULT_MODEL
        embedder = ClipEmbedder(model, device=args.device)
        from .core.library import check_model

        check_model(catalog, embedder.model_id, lib.name)
        for f in folders:
            catalog.add_folder(f)
    report = Indexer(lib, embedder, batch_size=args.batch_size).run(progress=_progress_bar(args.json))
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
        return 0
    print(f"{lib.name}: {report.indexed} indexed, {report.reused} reused (renamed/copied), "
          f"{report.unchanged} unchanged, {report.removed} removed, {len(report.skipped)} skipped "
          f"in {report.seconds:.1f}s")
    for s in report.skipped:
        print(f"  skipped {s.path}: {s.reason}")
    for s in report.missing_folders:
        print(f"  folder {s.path}: {s.reason} (its photos are kept until it is back)")
    return 0


def _progress_bar(quiet: bool) -> Any:
    """A tqdm bar on a terminal: a transient count while scanning, then photos indexed with rate and ETA."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(p: Any) -> None:
        if p.phase == "scanning":
            bar = bars.get("scan") or bars.setdefault(
                "scan", tqdm(desc="looking for photos", unit=" found", leave=False, file=sys.stderr))
            bar.n = p.done
            bar.refresh()
            return
        if "scan" in bars:
            bars.pop("scan").close()
        if p.phase == "indexing":
            bar = bars.get("index") or bars.setdefault(
                "index", tqdm(total=p.total, unit="photo", dynamic_ncols=True, file=sys.stderr))
            bar.n = p.done
            bar.set_postfix_str(os.path.basename(p.current)[-30:], refresh=False)
            bar.refresh()
        elif p.phase == "done" and "index" in bars:
            bars.pop("index").close()

    return update


def cmd_search(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .core.decode import UnreadableImage
    from .core.embedder import ClipEmbedder
    from .core.search import Searcher

    if args.command == "search" and bool(args.text) == bool(args.image):
        parser.error("give either TEXT or --image PATH")
    if args.top < 1:
        parser.error("--top must be at least 1")
    image = args.image if args.command == "search" else args.path
    if image and not os.path.isfile(image):
        parser.error(f"file not found: {image}")
    lib = _store().get(args.library)
    with lib.open_catalog() as c:
        model = args.model or c.model_id
    if model is None:
        print(f"photofinder: library {lib.name!r} has nothing indexed yet", file=sys.stderr)
        return 1
    with Searcher(lib, ClipEmbedder(model, device=args.device)) as s:
        try:
            if args.command == "similar":
                results = s.similar(args.path, args.top)
            elif args.image:
                results = s.by_image(args.image, args.top)
            else:
                results = s.by_text(args.text, args.top)
        except UnreadableImage as e:
            print(f"photofinder: can't read {image}: {e}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps({"results": [{"path": r.path, "score": round(r.score, 4)} for r in results]},
                         ensure_ascii=False))
    else:
        for r in results:
            print(f"{r.score:.3f}  {r.path}")
    return 0


def cmd_libraries(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    store = _store()
    summaries = [store.get(n).summary() for n in store.names()]
    if args.json:
        print(json.dumps({"libraries": [
            {"name": s.name, "photos": s.photos, "skipped": s.skipped, "folders": s.folders, "model": s.model_id}
            for s in summaries]}, ensure_ascii=False))
        return 0
    if not summaries:
        print("No libraries yet. Create one with: photofinder index FOLDER")
    for s in summaries:
        print(f"{s.name}: {s.photos} photos ({s.skipped} skipped) in {len(s.folders)} folder(s); model {s.model_id}")
        for f in s.folders:
            print(f"    {f}")
    return 0


def cmd_install_desktop(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .desktop import install_desktop_entry

    for path in install_desktop_entry():
        print(f"installed {path}")
    return 0
