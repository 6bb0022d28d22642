"""What View → Hide duplicates costs a query on a library of look-alike photos (issue 20, item 3).

    python bench/hide_duplicates.py [--per-kind 60] [--model tests/models/tiny-clip]

Generates 8 kinds of shape photos, `--per-kind` each (every photo of a kind looks like the others: the case
where the pixel check runs most), indexes them, then times 5 text queries (top 500) with and without grouping
duplicates: the first run of each query (cold: thumbnail signatures read) and again (warm: verdicts kept).
Prints the median milliseconds of each and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from helpers import QUERY_KINDS, make_photos, new_library  # noqa: E402

from photofinder.core.duplicates.hide import DuplicateCollapser  # noqa: E402
from photofinder.core.encode.torch_encoder import ClipEmbedder  # noqa: E402
from photofinder.core.find.query import TEXT, Query, Term  # noqa: E402
from photofinder.core.find.search import Searcher  # noqa: E402
from photofinder.core.ingest.indexer import Indexer  # noqa: E402
from photofinder.core.store.library import LibraryStore  # noqa: E402

QUERIES = ["a red circle", "a blue circle", "a yellow star", "a green triangle", "a purple square"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-kind", type=int, default=60)
    ap.add_argument("--model", default=str(ROOT / "tests" / "models" / "tiny-clip"))
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    make_photos(tmp / "photos", QUERY_KINDS, args.per_kind)
    emb = ClipEmbedder(args.model, device="cpu")
    emb.load()
    lib = new_library(LibraryStore(tmp / "data"), tmp / "photos")
    Indexer(lib, emb).run()
    searcher = Searcher(lib, emb)
    times: dict[str, list[float]] = {"plain": [], "hide cold": [], "hide warm": []}
    with lib.open_catalog() as catalog:
        hider = DuplicateCollapser(lib, catalog)
        hidden = 0
        for q in QUERIES:
            query = Query((Term(TEXT, q, label=q),))
            t0 = time.perf_counter()
            found = searcher.run(query, 500)
            times["plain"].append(time.perf_counter() - t0)
            for label in ("hide cold", "hide warm"):
                t0 = time.perf_counter()
                found = searcher.run(query, 500)
                page = hider.collapse(found.results)
                times[label].append(time.perf_counter() - t0)
            hidden += page.hidden
    photos = len(QUERY_KINDS) * args.per_kind
    med = {k: 1000 * statistics.median(v) for k, v in times.items()}
    print(f"{photos} look-alike photos, {len(QUERIES)} queries (top 500), {hidden} results hidden in all")
    for k, v in med.items():
        print(f"  {k:10s} {v:8.1f} ms  ({v / med['plain']:.1f}x plain)")


if __name__ == "__main__":
    main()
