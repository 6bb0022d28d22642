"""How well the good-match cut-off marks right answers: recall and precision per model, on held-out queries.

    python bench/goodmatch.py [MODEL_FOLDER ...]      # default: the tiny test CLIP and the tiny SigLIP

A library of generated shape photos (tests/shapes.py) is indexed with the model through the real indexer, and
queries of three kinds are run through the real search (Searcher.run, the rule the app and the CLI use):
  present concepts  ("a star", "a blue shape", "a red circle", full captions of kinds in the library),
  absent ones       (kinds the library lacks, and things no shape photo shows: "a dog"),
  broad ones        ("a shape": every photo is right),
  combined ones     ("a circle + something yellow", 'a star - "a white background"', a photo of the library
                    + "a gray background": the same shape and colour on gray; the photo itself left out).
A photo is a right answer when its kind has every attribute the query names (and none a negative term names). Over all queries of a set:
  recall    = right answers marked good / right answers in the library,
  precision = right answers marked good / photos marked good,
  absent    = absent queries with any good match / absent queries (and the photos they marked good).
Printed for the whole set (combined queries aside) and for each kind of query alone: a broad query has every photo
of the library as a right answer, so its recall outweighs all the others in the whole set's. For combined queries
the share of right answers among each query's top R results (R: its number of right answers) is printed too:
what the model's ranking allows any cut-off.
Two sets, each with its own library (other kinds, other seed): TUNING (what the rule's constants were chosen on)
and HELD_OUT (what the bench reports).
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from shapes import Kind, all_kinds  # noqa: E402


@dataclass(frozen=True)
class Case:
    text: str
    kind: str  # "present", "absent", "broad" or "combined"
    right: Callable[[Kind], bool]
    terms: tuple = ()  # a combined query's (kind, value, negative) terms; a "photo" term's value is a Kind


def _combined(text: str, right: Callable[[Kind], bool]) -> Case:
    """'a circle + something yellow', 'a star - a white background'; a leading Kind: that kind's first photo."""
    terms, sign = [], False
    for part in re.split(r"\s+([+-])\s+", text):
        if part in "+-":
            sign = part == "-"
        else:
            terms.append(("text", part, sign))
    return Case(text, "combined", right, tuple(terms))


def _photo_and(kind: Kind, background: str) -> Case:
    """A photo of `kind` + "a <background> background": right are photos of its shape and colour there."""
    return Case(
        f"[{kind.slug}] + a {background} background",
        "combined",
        _is(kind.shape, kind.colour, background),
        (("photo", kind, False), ("text", f"a {background} background", False)),
    )


def _is(shape: str | None = None, colour: str | None = None, background: str | None = None):
    return lambda k: (
        (shape is None or k.shape == shape)
        and (colour is None or k.colour == colour)
        and (background is None or k.background == background)
    )


def _set(
    seed: int,
    words: list[tuple[str, dict]],
    outside: list[str],
    broad: list[str],
    n_captions: int,
    combined: list[tuple[str, Callable[[Kind], bool]]] = (),
    backgrounds: tuple[str, ...] = (),
):
    """(library kinds, cases): half the kinds, and queries about them, about kinds outside it, broad ones and
    combined ones (each `backgrounds` with a photo of every fourth kind whose background differs)."""
    rng = np.random.default_rng(seed)
    kinds = all_kinds()
    chosen = [kinds[i] for i in sorted(rng.choice(len(kinds), len(kinds) // 2, replace=False))]
    absent = [k for k in kinds if k not in chosen]
    cases = [Case(t, "present", _is(**attrs)) for t, attrs in words]
    cases += [
        Case(k.caption, "present", _is(k.shape, k.colour, k.background))
        for k in chosen[:: len(chosen) // n_captions][:n_captions]
    ]
    cases += [
        Case(k.caption, "absent", _is(k.shape, k.colour, k.background))
        for k in absent[:: len(absent) // n_captions][:n_captions]
    ]
    cases += [Case(t, "absent", lambda k: False) for t in outside]
    cases += [Case(t, "broad", lambda k: True) for t in broad]
    cases += [_combined(t, right) for t, right in combined]
    cases += [_photo_and(k, b) for k in chosen[::4] for b in backgrounds if b != k.background][
        : 2 * len(combined)
    ]
    return chosen, cases


def tuning_set():
    return _set(
        1,
        [
            ("a star", dict(shape="star")),
            ("a blue shape", dict(colour="blue")),
            ("a red circle", dict(shape="circle", colour="red")),
            ("something green", dict(colour="green")),
            ("a triangle on a black background", dict(shape="triangle", background="black")),
        ],
        ["a dog", "a car at night"],
        ["a shape"],
        6,
        [
            ("a star + something blue", _is("star", "blue")),
            ("a red shape + a black background", _is(None, "red", "black")),
            ("a circle - a white background", lambda k: k.shape == "circle" and k.background != "white"),
            ("a square + something purple", _is("square", "purple")),
            ("a green star + a gray background", _is("star", "green", "gray")),
        ],
        ("white", "gray"),
    )


def held_out_set():
    return _set(
        2,
        [
            ("a circle", dict(shape="circle")),
            ("a yellow shape", dict(colour="yellow")),
            ("a purple square", dict(shape="square", colour="purple")),
            ("something orange", dict(colour="orange")),
            ("a photo of a triangle", dict(shape="triangle")),
            ("a star on a white background", dict(shape="star", background="white")),
        ],
        ["a cat", "a bicycle in the rain", "a birthday cake"],
        ["a picture", "a coloured shape"],
        8,
        [
            ("a circle + something yellow", _is("circle", "yellow")),
            ("a star + a white background", _is("star", None, "white")),
            ("a triangle - a black background", lambda k: k.shape == "triangle" and k.background != "black"),
            ("an orange shape + a gray background", _is(None, "orange", "gray")),
            ("a yellow shape + a brown background", _is(None, "yellow", "brown")),
            ("a square + something purple", _is("square", "purple")),
        ],
        ("black", "brown"),
    )


def build(model: str, which: str = "held-out", per_kind: int = 3, runtime: str = "onnx"):
    """(library, embedder, photos, cases): the set's library indexed with `model`."""
    from helpers import make_photos, new_library

    from photofinder.core.encode.choose import open_embedder
    from photofinder.core.ingest.indexer import Indexer
    from photofinder.core.store.library import LibraryStore

    chosen, cases = tuning_set() if which == "tuning" else held_out_set()
    work = Path(tempfile.mkdtemp(prefix="pf-goodmatch-"))
    photos = make_photos(work / "photos", chosen, per_kind, seed=7 if which == "tuning" else 11)
    lib = new_library(LibraryStore(work / "data"), work / "photos")
    embedder = open_embedder(model, runtime=runtime, device="cpu")
    Indexer(lib, embedder).run()
    return lib, embedder, photos, cases


def judge(lib, embedder, photos, cases) -> dict:
    """Run every case through Searcher.run (calibrating anew) and count."""
    from photofinder.core.find.query import Query, Term
    from photofinder.core.find.search import Searcher

    with lib.open_catalog() as c:
        c.set_meta("calibration", "")
    counts = {
        kind: {"right": 0, "right_good": 0, "good": 0} for kind in ("present", "absent", "broad", "combined")
    }
    absent = absent_with_good = 0
    per: dict[str, dict[str, int]] = {}
    with Searcher(lib, embedder) as s:
        for case in cases:
            terms, left_out = (Term("text", case.text),), set()
            if case.terms:
                terms = tuple(_term(lib, photos, t, left_out) for t in case.terms)
            results = s.run(Query(terms), top=len(photos)).results
            right = {str(p) for p, k in photos.items() if case.right(k)} - left_out
            good = {r.path for r in results if r.good}
            c = counts[case.kind]
            c["right"] += len(right)
            c["right_good"] += len(good & right)
            c["good"] += len(good)
            c["ranked"] = c.get("ranked", 0) + len(right & {r.path for r in results[: len(right)]})
            if case.kind == "absent" and not right:
                absent += 1
                absent_with_good += bool(good)
            per[case.text] = {"right": len(right), "good": len(good), "right_good": len(good & right)}
    every = {
        k: sum(c[k] for n, c in counts.items() if n != "combined") for k in ("right", "right_good", "good")
    }
    present, combined = counts["present"], counts["combined"]
    return {
        "recall": every["right_good"] / max(every["right"], 1),
        "precision": every["right_good"] / max(every["good"], 1),
        "present_recall": present["right_good"] / max(present["right"], 1),
        "present_precision": present["right_good"] / max(present["good"], 1),
        "broad_recall": counts["broad"]["right_good"] / max(counts["broad"]["right"], 1),
        "combined_recall": combined["right_good"] / max(combined["right"], 1),
        "combined_precision": combined["right_good"] / max(combined["good"], 1),
        "combined_ranked": combined.get("ranked", 0) / max(combined["right"], 1),
        "absent_with_good": absent_with_good / max(absent, 1),
        "absent_photos_good": counts["absent"]["good"],
        "queries": len(cases),
        "per_query": per,
    }


def _term(lib, photos, term, left_out: set):
    """A Query Term for a combined case's (kind, value, negative); a photo term's photo is left out of the
    right answers (a search never returns its own query photo)."""
    from photofinder.core.find.query import Term

    kind, value, negative = term
    if kind != "photo":
        return Term(kind, value, negative=negative)
    path = str(next(p for p, k in sorted(photos.items()) if k == value))
    left_out.add(path)
    with lib.open_catalog() as c:
        return Term("photo", c.embedding_for_path(path)[0], negative=negative)


def evaluate(model: str, which: str = "held-out", per_kind: int = 3, runtime: str = "onnx") -> dict:
    """Index the set's library with `model` and run its queries: recall, precision and the absent rate."""
    return judge(*build(model, which, per_kind, runtime))


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "models",
        nargs="*",
        default=[str(ROOT / "tests/models/tiny-clip"), str(ROOT / "tests/models/tiny-siglip")],
    )
    ap.add_argument("--set", default="held-out", choices=["held-out", "tuning"])
    ap.add_argument("--verbose", action="store_true", help="per query: right answers, marked good, both")
    args = ap.parse_args()
    for m in args.models:
        r = evaluate(m, args.set)
        if args.verbose:
            for q, c in r["per_query"].items():  # type: ignore[union-attr]
                print(
                    f"    {q:45s} right {c['right']:3d} good {c['good']:3d} right&good {c['right_good']:3d}"
                )
        print(f"good matches, {Path(m).name} ({args.set}, {r['queries']} queries): {summary(r)}", flush=True)


def summary(r: dict) -> str:
    """One line: the whole set, then each kind of query."""
    return (
        f"recall {r['recall']:.0%} precision {r['precision']:.0%}; present concepts recall "
        f"{r['present_recall']:.0%} precision {r['present_precision']:.0%}; broad recall {r['broad_recall']:.0%}; "
        f"combined recall {r['combined_recall']:.0%} precision {r['combined_precision']:.0%} "
        f"(right answers in their top R: {r['combined_ranked']:.0%}); "
        f"absent queries with a good match {r['absent_with_good']:.0%} ({r['absent_photos_good']} photos)"
    )


if __name__ == "__main__":
    main()
