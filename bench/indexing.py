"""Indexing speed: the seed tutorial's loops, the model alone, and photofinder's indexer, in one run.

    python bench/indexing.py                      # generated 12 MP camera-like JPEGs with EXIF
    python bench/indexing.py /usr/share/backgrounds/mate/nature --count 128   # your own photos

Uses a random-initialised CLIP with exactly the openai/clip-vit-base-patch32 architecture (same compute as the
real checkpoint). Prints images/s for
  (1) the seed's naive loop (one image at a time, CLIPProcessor on the full-size image),
  (2) the seed's batched loop (batch 64),
  (3) the model alone on pre-made tensors, with the indexer's own batch size and thread settings,
  (4) photofinder's indexer end to end (scan, hash, decode, thumbnail, encode, commit to SQLite, save FAISS),
then the ratios (4)/(3) (the median of back-to-back pairs: these machines drift) and (4)/(2), and peak
memory. The last line is machine-readable:
  ratios: indexer/model=X.XX indexer/seed_batched=Y.YY
Photos are copied to a temp folder, cycled up to --count, each copy made unique (a few bytes after the image
data) so the indexer's rename/copy detection can't skip any of them.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def camera_photos(folder: Path, count: int, size=(4032, 3024), distinct: int = 16) -> list[Path]:
    """Smooth, noisy, camera-like JPEGs with EXIF (orientation, date taken), `distinct` different scenes."""
    from PIL import Image

    rng = np.random.default_rng(0)
    w, h = size
    sources = []
    y, x = np.mgrid[0:h:4, 0:w:4].astype(np.float32)  # built at 1/4 size, upscaled: fast and smooth
    for i in range(distinct):
        img = np.zeros(x.shape + (3,), np.float32)
        for c in range(3):
            a, b, f = rng.uniform(-1, 1, 3)
            img[..., c] = 120 + 70 * np.sin((a * x / w + b * y / h) * 5 + f * 3)
        small = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).resize(size, Image.Resampling.BILINEAR)
        arr = np.asarray(small).astype(np.int16) + rng.integers(-12, 13, (h, w, 3), dtype=np.int16)
        exif = Image.Exif()
        exif[0x0112] = 1 if i % 4 else 6
        exif[0x010F] = "Bench Camera"
        exif.get_ifd(0x8769)[0x9003] = f"2024:06:{1 + i % 28:02d} 12:00:00"
        p = folder / f"src{i}.jpg"
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(p, quality=90, exif=exif)
        sources.append(p)
    return unique_copies(sources, folder / "photos", count, remove_sources=True)


def unique_copies(sources: list[Path], dest: Path, count: int, remove_sources: bool = False) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        src = sources[i % len(sources)]
        p = dest / f"IMG_{i:05d}{src.suffix.lower()}"
        shutil.copyfile(src, p)
        with open(p, "ab") as f:  # after the end of the image data: decoders ignore it, the hash sees it
            f.write(f"photofinder-bench-{i}".encode())
        out.append(p)
    if remove_sources:
        for s in sources:
            s.unlink()
    return out


def seed_naive(paths: list[Path], model, processor) -> None:
    import torch
    from PIL import Image

    for path in paths:
        image = Image.open(path).convert("RGB")
        inputs = processor(images=image, return_tensors="pt")
        with torch.no_grad():
            features = _features(model.get_image_features(**inputs))
        features = features / features.norm(dim=-1, keepdim=True)
        features.squeeze(0).numpy()


def seed_batched(paths: list[Path], model, processor, batch_size: int = 64) -> None:
    import torch
    from PIL import Image

    for i in range(0, len(paths), batch_size):
        images = []
        for path in paths[i : i + batch_size]:
            try:
                images.append(Image.open(path).convert("RGB"))
            except Exception as e:  # noqa: BLE001 - as the seed does
                print(f"Skipping {path}: {e}")
        inputs = processor(images=images, return_tensors="pt")
        with torch.no_grad():
            features = _features(model.get_image_features(**inputs))
        (features / features.norm(dim=-1, keepdim=True)).cpu().numpy()


def _features(out):
    import torch

    return out if isinstance(out, torch.Tensor) else out.pooler_output


def rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, help="photos to use (default: generated 12 MP JPEGs)")
    ap.add_argument("--count", type=int, default=128, help="photos per measurement (default 128)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    ap.add_argument("--repeat", type=int, default=7, help="alternating runs of (3) and (4) (default 7)")
    ap.add_argument("--skip-seed", action="store_true", help="only (3) and (4)")
    args = ap.parse_args()

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # photofinder first: it sets the OpenMP policy the app runs with, before torch loads (same settings for all)
    from photofinder.core.decode import is_photo_name
    from photofinder.core.embedder import ClipEmbedder
    from photofinder.core.indexer import Indexer
    from photofinder.core.library import LibraryStore

    import torch
    from transformers.utils import logging as hf_logging
    from vitb32 import make_vitb32

    hf_logging.disable_progress_bar()
    work = Path(tempfile.mkdtemp(prefix="pf-bench-"))
    try:
        model_dir = make_vitb32(work / "model")
        if args.folder:
            sources = sorted(p for p in args.folder.rglob("*") if p.is_file() and is_photo_name(p.name))
            if not sources:
                sys.exit(f"no photos in {args.folder}")
            paths = unique_copies(sources, work / "photos", args.count)
            what = f"{len(sources)} photos from {args.folder}, cycled to {args.count}"
        else:
            paths = camera_photos(work, args.count)
            what = f"{args.count} generated 4032x3024 JPEGs (12 MP, EXIF)"
        mp = np.mean([_megapixels(p) for p in paths[:32]])
        print(f"photos: {what}; mean {mp:.1f} MP", flush=True)

        embedder = ClipEmbedder(str(model_dir), device=args.device)
        embedder.load()
        indexer = Indexer(LibraryStore(work / "data").create("settings"), embedder)
        batch = indexer.effective_batch_size()
        print(f"device: {embedder.device}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
              f"indexer batch {batch}, {indexer.effective_decode_threads()} decode threads", flush=True)
        rng = np.random.default_rng(0)
        tensors = rng.standard_normal((len(paths), 3, 224, 224)).astype(np.float32)
        embedder.encode_pixels(tensors[:batch])  # warm-up: allocator, kernels

        # (3) and (4) alternate, `--repeat` times each: shared machines drift +-10 % from minute to minute, so
        # each indexer run is compared with the model run just before it, and the medians are reported.
        model_rates, indexer_rates, pair_ratios = [], [], []
        rss_before = rss_mb()
        for rep in range(args.repeat):
            t = time.perf_counter()
            for i in range(0, len(tensors), batch):
                embedder.encode_pixels(tensors[i : i + batch])
            model_rates.append(len(tensors) / (time.perf_counter() - t))

            lib = LibraryStore(work / "data").create(f"bench{rep}")
            with lib.open_catalog() as c:
                c.add_folder(str(paths[0].parent))
            t = time.perf_counter()
            report = Indexer(lib, embedder).run()
            indexer_rates.append(report.indexed / (time.perf_counter() - t))
            assert report.indexed == len(paths) and not report.skipped, report
            pair_ratios.append(indexer_rates[-1] / model_rates[-1])
            print(f"    run {rep + 1}: model {model_rates[-1]:6.2f}, indexer {indexer_rates[-1]:6.2f} images/s "
                  f"({pair_ratios[-1]:.2f})", flush=True)
        rss_indexer = rss_mb()
        results: dict[str, float] = {"model": float(np.median(model_rates)),
                                     "indexer": float(np.median(indexer_rates))}
        print(f"(3) model alone:         {results['model']:6.2f} images/s (median of {args.repeat})")
        print(f"(4) photofinder indexer: {results['indexer']:6.2f} images/s (median of {args.repeat}; "
              f"peak RSS {rss_indexer:.0f} MB, +{rss_indexer - rss_before:.0f} MB while indexing)", flush=True)

        if not args.skip_seed:
            from transformers import CLIPModel

            try:
                from transformers import CLIPImageProcessorPil as Processor
            except ImportError:
                from transformers import CLIPImageProcessor as Processor
            processor = Processor.from_pretrained(str(model_dir))  # what CLIPProcessor runs on images
            model = CLIPModel.from_pretrained(str(model_dir)).eval()
            n = min(len(paths), 64)
            t = time.perf_counter()
            seed_naive(paths[:n], model, processor)
            results["seed_naive"] = n / (time.perf_counter() - t)
            print(f"(1) seed, naive loop:   {results['seed_naive']:6.2f} images/s", flush=True)
            t = time.perf_counter()
            seed_batched(paths, model, processor)
            results["seed_batched"] = len(paths) / (time.perf_counter() - t)
            print(f"(2) seed, batched 64:   {results['seed_batched']:6.2f} images/s", flush=True)

        print("summary (images/s):")
        for key, label in (("seed_naive", "(1) seed, naive loop"), ("seed_batched", "(2) seed, batched 64"),
                           ("model", "(3) model alone"), ("indexer", "(4) photofinder indexer")):
            if key in results:
                print(f"  {label:26s} {results[key]:6.2f}")
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}; "
              f"peak RSS overall {rss_mb():.0f} MB (the seed's batched loop holds 64 full-size frames)")
        ratio_model = float(np.median(pair_ratios))
        ratio_seed = results["indexer"] / results["seed_batched"] if "seed_batched" in results else float("nan")
        print(f"ratios: indexer/model={ratio_model:.2f} indexer/seed_batched={ratio_seed:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _megapixels(p: Path) -> float:
    from PIL import Image

    with Image.open(p) as im:
        return im.size[0] * im.size[1] / 1e6


if __name__ == "__main__":
    main()
