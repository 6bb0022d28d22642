"""The words pass measured (issue 22): the gate's recall on generated text photos and how many ordinary photos
it lets through, the pass's photos/s, and a text search's time. Called by bench/indexing.py (its last line:
`ocr: gate_recall=... ocr_photos_per_s=... text_search_ms=...`), or alone:

    python bench/words.py [--text 32] [--plain 32] [--model tests/models/tiny-clip]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

WORDS = (
    "OPEN 24 HOURS|HARDWARE STORE|Platform 3|EXIT|Pharmacy|Bakery|Total 12.50|Wifi password|Gate B12|"
    "No parking|Fresh fish|Museum|Hotel Central|Ticket office|Invoice 2231|Station Road|Library|Sale 50%"
).split("|")


def text_images(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """`n` photos with words: signs, receipts and screenshot-like layouts, various sizes, colours, turned a little."""
    from words_images import receipt, screenshot, sign

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        w = [WORDS[j] for j in rng.choice(len(WORDS), 4, replace=False)]
        angle = float(rng.uniform(-6, 6))
        kind = i % 3
        if kind == 0:
            bg = tuple(int(v) for v in rng.integers(0, 200, 3))
            size = (int(rng.integers(560, 1280)), int(rng.integers(420, 900)))
            img = sign(
                w[0], size=size, bg=bg, fg=(255, 255, 255) if sum(bg) < 360 else (0, 0, 0), angle=angle
            )
        elif kind == 1:
            img = receipt([w[0].upper(), f"{w[1]} 3.20", f"{w[2]} 1.10", "TOTAL 4.30"], angle=angle)
        else:
            img = screenshot(w[0], w[1:])
        p = folder / f"text-{i:03d}.jpg"
        img.save(p, quality=90)
        out.append(p)
    return out


def plain_images(folder: Path, n: int, seed: int = 1) -> list[Path]:
    """`n` photos without words: the tests' shapes on plain and textured backgrounds, and smooth camera-like scenes."""
    from PIL import Image
    from shapes import all_kinds, draw

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    kinds = all_kinds()
    out = []
    for i in range(n):
        size = (int(rng.integers(480, 1024)), int(rng.integers(360, 768)))
        if i % 2:
            img = draw(kinds[int(rng.integers(len(kinds)))], size, rng, centred=False)
        else:
            y, x = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32)
            a, b, f = rng.uniform(-1, 1, 3)
            base = 120 + 70 * np.sin((a * x / size[0] + b * y / size[1]) * 5 + f * 3)
            arr = np.stack([base, base * 0.8 + 30, 255 - base], -1) + rng.normal(0, 10, (size[1], size[0], 3))
            img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
        p = folder / f"plain-{i:03d}.jpg"
        img.save(p, quality=90)
        out.append(p)
    return out


def measure(work: Path, embedder, n_text: int = 32, n_plain: int = 32, repeat: int = 20) -> dict[str, float]:
    """Index generated text and plain photos with `embedder`, run the words pass, and time text searches."""
    from PIL import Image

    from photofinder.core.find.query import Filters, Query
    from photofinder.core.find.search import Searcher
    from photofinder.core.ingest.indexer import Indexer
    from photofinder.core.ingest.ocr import TextReader
    from photofinder.core.ingest.wordpass import ClipGate, WordsPass
    from photofinder.core.photos.decode import decode
    from photofinder.core.photos.scanner import normalise_folder
    from photofinder.core.store.library import LibraryStore

    folder = work / "words-photos"
    texts = set(text_images(folder / "text", n_text))
    plains = set(plain_images(folder / "plain", n_plain))
    lib = LibraryStore(work / "words-data").get_or_create("Words")
    with lib.open_catalog() as c:
        c.add_folder(normalise_folder(folder))
    Indexer(lib, embedder, thumbnails=False).run()
    reader = TextReader()
    reader.has_text(Image.new("RGB", (64, 64)))  # the engine loads once, untimed
    t = time.perf_counter()
    report = WordsPass(lib, embedder, mode="auto", reader=reader).run()
    seconds = time.perf_counter() - t
    with lib.open_catalog() as c:
        verdict = {Path(os.fsdecode(p)): v for p, v in c._all("SELECT path, ocr FROM photos")}
    gate = ClipGate(embedder)
    with lib.open_catalog() as c:
        emb = {
            Path(os.fsdecode(p)): np.frombuffer(e, np.float32)
            for p, e in c._all("SELECT path, embedding FROM photos")
        }
    clip_says = {p: gate.says_text(v) for p, v in emb.items()}
    det_says = {p: reader.has_text(decode(str(p), 240).image) for p in emb}
    recall = np.mean([verdict.get(p) == 1 for p in texts])
    passed = np.mean([verdict.get(p) == 1 for p in plains])
    with Searcher(lib, embedder) as s:
        times = []
        for k in range(repeat):
            word = WORDS[k % len(WORDS)].split()[0]
            t0 = time.perf_counter()
            s.run(Query((), Filters(text=word)))
            times.append((time.perf_counter() - t0) * 1000)
    return {
        "gate_recall": float(recall),
        "gate_plain_pass": float(passed),
        "clip_recall": float(np.mean([clip_says[p] for p in texts])),
        "clip_plain_pass": float(np.mean([clip_says[p] for p in plains])),
        "detector_recall": float(np.mean([det_says[p] for p in texts])),
        "detector_plain_pass": float(np.mean([det_says[p] for p in plains])),
        "ocr_photos_per_s": report.looked_at / seconds,
        "read_photos_per_s": report.read / max(1e-9, seconds),
        "words_found": report.with_text,
        "text_search_ms": statistics.median(times),
        "photos": len(emb),
    }


def report_lines(m: dict[str, float]) -> list[str]:
    return [
        f"words pass: {m['photos']:.0f} photos ({m['photos'] / 2:.0f} with words), gate: text photos read "
        f"{m['gate_recall']:.0%}, plain photos read {m['gate_plain_pass']:.0%} (embedding alone: "
        f"{m['clip_recall']:.0%} / {m['clip_plain_pass']:.0%}; detector alone: {m['detector_recall']:.0%} / "
        f"{m['detector_plain_pass']:.0%}); {m['words_found']:.0f} photos with words found",
        f"ocr: gate_recall={m['gate_recall']:.2f} ocr_photos_per_s={m['ocr_photos_per_s']:.1f} "
        f"text_search_ms={m['text_search_ms']:.2f}",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--text", type=int, default=32)
    ap.add_argument("--plain", type=int, default=32)
    ap.add_argument("--model", default=str(ROOT / "tests" / "models" / "tiny-clip"))
    args = ap.parse_args()
    from photofinder.core.encode.torch_encoder import ClipEmbedder

    work = Path(tempfile.mkdtemp(prefix="pf-words-"))
    try:
        e = ClipEmbedder(args.model, device="cpu")
        e.load()
        for line in report_lines(measure(work, e, args.text, args.plain)):
            print(line, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
