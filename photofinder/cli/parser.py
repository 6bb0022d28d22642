"""The command line's grammar: every command, its options and its help."""

from __future__ import annotations

import argparse
from typing import Any

from .common import version_text


def build_parser() -> argparse.ArgumentParser:
    from photofinder.core.store.library import DEFAULT_LIBRARY

    p = argparse.ArgumentParser(
        prog="photofinder", description="Find photos by what is in them. With no command, opens the app."
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens to stderr")
    p.add_argument("--version", action="version", version=f"photofinder {version_text()}")
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
        help="hub id or local folder of a CLIP or SigLIP model (default: the library's, or the recommended "
        "one of `photofinder models` for a new library)",
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
    ix.add_argument(
        "--new",
        action="store_true",
        help="create the library named by --library (needed once another library exists, so a mistyped "
        "name is refused instead of starting a library of its own)",
    )
    ix.add_argument(
        "--ocr",
        default="auto",
        choices=["auto", "all", "off"],
        help="read the words in photos after indexing (a second pass, resumable): auto - the photos that "
        "look like text, a sign, a document, a screenshot (the default); all - every photo; off - none",
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
            "--text",
            dest="words",
            metavar="WORDS",
            help="only photos with these words in them (read by OCR; every word, any order, case and "
            'accents aside), e.g. --text "open 24 hours"; alone, the best text matches first',
        )
        sp.add_argument(
            "--place",
            metavar="NAME",
            help="only photos taken there: a country, region or city (from their GPS; case and accents aside)",
        )
        sp.add_argument(
            "--min-size", type=int, metavar="PIXELS", help="only photos at least this big (shorter side)"
        )
        sp.add_argument(
            "--sort", choices=["match", "date"], default="match", help="best match first, or newest"
        )
        sp.add_argument(
            "--group", type=int, metavar="ID", help="only photos of this group (see photofinder explore)"
        )
        sp.add_argument(
            "--hide-duplicates",
            action="store_true",
            help="one result per group of copies among the results (identical, resized, RAW + JPEG), so "
            'fewer than -n may print; --json lists each result\'s hidden copies under "duplicates"',
        )
        sp.add_argument(
            "--model",
            help="where the library's own model is now, if its folder moved (the same model: a different one "
            "is refused; switch models with photofinder index --rebuild --model MODEL)",
        )
        sp.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
        sp.add_argument("--runtime", default="auto", choices=["auto", "torch", "onnx"])
        out = sp.add_mutually_exclusive_group()
        out.add_argument("--json", action="store_true", help="print one JSON document")
        out.add_argument(
            "--paths", action="store_true", help="print only the paths, one a line (no scores; for scripts)"
        )
        out.add_argument(
            "-0",
            "--null",
            action="store_true",
            help="print only the paths, each ended by a NUL byte (for xargs -0: any file name is safe)",
        )

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
        "repair",
        help="check a library's catalog; if it is damaged, set it aside (kept) and start the library again "
        "from its folders (asks first)",
    )
    lp.add_argument("name")
    lp.add_argument("--yes", "-y", action="store_true", help="set a damaged catalog aside without asking")

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

    du = sub.add_parser(
        "duplicates", help="find duplicate photos (copies: resized, re-saved, cropped a little, RAW + JPEG)"
    )
    lib_opt(du)
    du.add_argument(
        "--prefer", metavar="FOLDER", help="keep the copy in this folder when the copies have the same pixels"
    )
    du.add_argument(
        "--trash",
        action="store_true",
        help="move every copy but the suggested keeper to the system trash (asks first; each file is checked "
        "on disk right before, and one that changed stays)",
    )
    du.add_argument(
        "--similar",
        action="store_true",
        help="also list similar shots (bursts, brackets): never moved by --trash",
    )
    du.add_argument("--yes", "-y", action="store_true", help="with --trash: don't ask")
    du.add_argument("--json", action="store_true", help="print one JSON document")

    ex = sub.add_parser(
        "explore",
        help="the library at a glance: groups of alike photos, named (grouped in the background in the app)",
    )
    lib_opt(ex)
    ex.add_argument("--json", action="store_true", help="print one JSON document")
    ex.add_argument("--model", help="name the groups with this model instead of the library's")
    ex.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    ex.add_argument("--runtime", default="auto", choices=["auto", "torch", "onnx"])

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
    _verbose_everywhere(p)
    return p


def _verbose_everywhere(parser: argparse.ArgumentParser) -> None:
    """-v also after a command (`photofinder index -v`), as before it; SUPPRESS keeps an earlier -v."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sp in action.choices.values():
                sp.add_argument(
                    "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
                )
                _verbose_everywhere(sp)
