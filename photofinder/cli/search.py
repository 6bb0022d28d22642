"""photofinder search and similar: the query, its filters, and the results as lines, paths or JSON."""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from typing import Any

from .common import UsageError, library_store, shown_path


def cmd_search(args: argparse.Namespace) -> int:
    from photofinder.core.encode.choose import open_embedder
    from photofinder.core.errors import LibraryError
    from photofinder.core.find.query import IMAGE, PHOTO, TEXT, Query, QueryError, Term, parse_query
    from photofinder.core.find.search import Searcher
    from photofinder.core.photos.decode import UnreadableImage

    if args.top < 1:
        raise UsageError("--top must be at least 1")
    filters = _filters(args)
    terms: list[Term] = []
    try:
        if args.command == "similar":
            if not os.path.isfile(args.path):
                raise UsageError(f"file not found: {shown_path(args.path)}")
        else:
            if args.text is not None and not args.text.strip() and not args.image:
                raise UsageError("the query is empty: give words to search for, or --image PATH")
            terms += parse_query(args.text or "")
            for path in args.image + args.not_image:
                if not os.path.isfile(path):
                    raise UsageError(f"file not found: {shown_path(path)}")
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
    lib = library_store().get(args.library)
    with lib.open_catalog() as c:
        model = args.model or lib.model_ref(c)
        photos = c.count()
        own = c.embedding_for_path(os.path.abspath(args.path)) if args.command == "similar" else None
    if model is None or photos == 0:
        raise LibraryError(
            f"The library {lib.name!r} has no photos indexed yet: run photofinder index FOLDER "
            f"--library {lib.name}"
        )
    if filters.group is not None:
        _check_group(lib, filters.group)
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
        filtered_out = bool(filters) and not found.results and len(s.allowed_ids(filters)) == 0
    hidden = 0
    if args.hide_duplicates:
        from photofinder.core.duplicates.hide import hide_duplicates
        from photofinder.core.find.search import QueryResults

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
    if args.paths or args.null:
        end = "\0" if args.null else "\n"
        sys.stdout.write("".join(r.path + end for r in shown))
    if not results and filtered_out:
        print(f"no photos match these filters (the library has {photos})", file=sys.stderr)
    elif not results:
        print(
            "no matches (the photos found may have been moved or deleted since they were indexed; "
            "run photofinder index)",
            file=sys.stderr,
        )
    elif found.judged and not found.good and not args.all:
        print("no good matches in this library; the closest ones:", file=sys.stderr)
    for r in () if args.paths or args.null else shown:
        score = _group_score(r)
        print(f"{score:.3f}  {r.path}" if score is not None else f"{r.taken or '':19s}  {r.path}")
    if len(shown) < len(results):
        print(
            f"{len(shown)} good match{'es' if len(shown) != 1 else ''}; {len(results) - len(shown)} weaker "
            f"one{'s' if len(results) - len(shown) != 1 else ''} not shown (--all shows them)",
            file=sys.stderr,
        )
    if hidden:
        print(f"{hidden} duplicate{'s' if hidden != 1 else ''} hidden (--json lists them)", file=sys.stderr)
    return 0


def _group_score(r: Any) -> float | None:
    """A result's score; for one standing for its copies (--hide-duplicates), the best of the group: the
    result is where that copy ranked, and its own score (the copy kept, the biggest) may be lower."""
    scores = [x.score for x in (r, *r.duplicates) if x.score is not None]
    return max(scores) if scores else None


def _filters(args: argparse.Namespace) -> Any:
    from photofinder.core.find.query import MAX_SIDE, Filters, QueryError, parse_date
    from photofinder.core.photos.scanner import normalise_folder

    try:
        types = tuple(t.strip().lstrip(".") for arg in args.types for t in arg.split(",") if t.strip())
        if args.min_size is not None and args.min_size < 1:
            raise UsageError("--min-size must be at least 1")
        if args.min_size is not None and args.min_size > MAX_SIDE:
            raise UsageError(
                f"--min-size is the shorter side in pixels: {args.min_size} is more than any photo has "
                f"(at most {MAX_SIDE})"
            )
        return Filters(
            folder=normalise_folder(args.folder) if args.folder else None,
            after=parse_date(args.after) if args.after else None,
            before=parse_date(args.before, end=True) if args.before else None,
            types=types,
            orientation=args.orientation,
            min_size=args.min_size,
            text=args.words.strip() if getattr(args, "words", None) and args.words.strip() else None,
            place=args.place.strip() if getattr(args, "place", None) and args.place.strip() else None,
            group=getattr(args, "group", None),
        )
    except QueryError as e:
        raise UsageError(str(e)) from e


def _result_json(r: Any, duplicates: bool = False) -> dict[str, Any]:
    from photofinder.core.paths import is_printable

    out: dict[str, Any] = {
        "path": shown_path(r.path),
        "score": None if _group_score(r) is None else round(_group_score(r), 4),
        "good": r.good,
        "date": r.taken,
        "folder": shown_path(r.folder),
        "width": r.width,
        "height": r.height,
        "bytes": r.size,
    }
    if not is_printable(r.path):  # the exact name, for scripts: base64 of the file system's bytes
        out["path_bytes"] = base64.b64encode(os.fsencode(r.path)).decode("ascii")
    if r.words:
        out["words"] = r.words
    if getattr(r, "matched", None):
        out["matched"] = list(r.matched)
    if r.place:
        from photofinder.core.photos.places import Place

        p = Place.from_key(r.place)
        out["place"] = {"country": p.country, "region": p.region, "city": p.city}
    if r.gps:
        out["gps"] = [r.gps[0], r.gps[1]]
    if duplicates:  # the copies this result stands for (hiding duplicates)
        out["duplicates"] = [shown_path(d.path) for d in r.duplicates]
    return out


def _check_group(lib: Any, group: int) -> None:
    """A group that exists, its new photos placed in it (cheap: no model); else a one-line error."""
    from photofinder.core.errors import LibraryError
    from photofinder.core.explore import groups

    with lib.open_catalog() as c:
        if not groups.needs_regroup(c):
            groups.update(c)
        if groups.read(c).find(group) is None:
            raise LibraryError(
                f"the library {lib.name!r} has no group {group}: photofinder explore --library {lib.name} "
                "lists them"
            )
