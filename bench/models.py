"""Every model of the menu in one run: speed of each architecture, and how well the good-match rule marks right
answers with each model family.

    python bench/models.py                 # speeds (random weights, exact configurations) + good-match quality
    python bench/models.py --index 32      # also build a library of 32 photos with each menu model, end to end

(1) For each menu choice, a model of its exact published configuration with random weights (the hub is not
    needed; compute does not depend on the weights): its vision tower's images/s with torch fp32 (what
    `photofinder models` shows), and with `--index N` a whole library built with it through the real path
    (the model saved in HF format, loaded by transformers, exported to ONNX and checked against torch, N
    generated photos indexed, a text query run).
(2) The good-match rule's recall and precision on held-out queries (bench/goodmatch.py) with the tiny test
    CLIP and the tiny bilingual SigLIP.
Machine-readable lines:
  models: <id>=<images/s> ...
  goodmatch: <model>=recall R precision P present-recall R present-precision P combined-recall R combined-precision P absent A ...
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def index_with(choice, work: Path, count: int) -> dict[str, float]:
    """A new library of `count` generated photos built with a random-weight model of `choice` (ONNX, CPU)."""
    from goodmatch import held_out_set

    from photofinder.core.encode import architectures
    from photofinder.core.encode.choose import open_embedder
    from photofinder.core.find.query import Query, Term
    from photofinder.core.find.search import Searcher
    from photofinder.core.ingest.indexer import Indexer
    from photofinder.core.store.library import LibraryStore

    sys.path.insert(0, str(ROOT / "tests"))
    from helpers import make_photos, new_library

    folder = work / choice.id.replace("/", "--")
    t = time.perf_counter()
    tiny_clip = ROOT / "tests" / "models" / "tiny-clip"  # a real CLIP BPE (CLIPTokenizer needs one)
    architectures.random_model(
        choice, folder / "model", tokenizer_from=tiny_clip if choice.family == "clip" else None
    )
    made = time.perf_counter() - t
    kinds, _ = held_out_set()
    make_photos(folder / "photos", kinds[: max(1, count // 2)], 2)
    lib = new_library(LibraryStore(folder / "data"), folder / "photos")
    embedder = open_embedder(str(folder / "model"), runtime="onnx", device="cpu")
    t = time.perf_counter()
    embedder.load()  # the ONNX export and its check against torch, once per model
    exported = time.perf_counter() - t
    t = time.perf_counter()
    report = Indexer(lib, embedder).run()
    rate = report.indexed / (time.perf_counter() - t)
    with Searcher(lib, embedder) as s:
        found = s.run(Query((Term("text", "a red circle"),)), top=5)
    shutil.rmtree(folder, ignore_errors=True)
    return {
        "made": made,
        "exported": exported,
        "indexed": report.indexed,
        "rate": rate,
        "dim": embedder.dim,
        "results": len(found.results),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--index", type=int, default=0, metavar="N", help="also index N photos with each menu model"
    )
    ap.add_argument("--skip-goodmatch", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from photofinder.core.encode.runtime import tune_process

    tune_process()
    import torch

    from photofinder.core.encode import menu, speed

    work = Path(tempfile.mkdtemp(prefix="pf-bench-models-"))
    os.environ["PHOTOFINDER_MODEL_CACHE"] = str(work / "cache")
    try:
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads)",
            flush=True,
        )
        rates = {}
        for c in menu.choices():
            rates[c.id] = speed.measure_speed(c, seconds=4.0)
            print(f"  {c.id:34s} vision tower, torch fp32, batch 8: {rates[c.id]:6.2f} images/s", flush=True)
        cost = speed.relative_cost(rates)
        for k, v in cost.items():
            print(f"  {k:34s} {v:.2f}x the cost of ViT-B/32")
        if args.index:
            for c in menu.choices():
                r = index_with(c, work, args.index)
                print(
                    f"  {c.id:34s} library of {r['indexed']} photos built end to end: random model made in "
                    f"{r['made']:.0f} s, ONNX export + check {r['exported']:.0f} s, indexed at {r['rate']:.2f} "
                    f"images/s (ONNX fp32), {r['dim']}-d vectors, a text query answered ({r['results']} results)",
                    flush=True,
                )
        lines = []
        if not args.skip_goodmatch:
            from goodmatch import evaluate, summary

            for m in ("tiny-clip", "tiny-siglip"):
                r = evaluate(str(ROOT / "tests" / "models" / m))
                lines.append(
                    f"{m}=recall {r['recall']:.2f} precision {r['precision']:.2f} "
                    f"present-recall {r['present_recall']:.2f} present-precision {r['present_precision']:.2f} "
                    f"combined-recall {r['combined_recall']:.2f} combined-precision {r['combined_precision']:.2f} "
                    f"absent {r['absent_with_good']:.2f}"
                )
                print(f"  good matches with {m} ({r['queries']} held-out queries): {summary(r)}", flush=True)
        print("models: " + " ".join(f"{k}={v:.2f}" for k, v in rates.items()))
        if lines:
            print("goodmatch: " + " ".join(lines))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
