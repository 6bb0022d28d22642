"""Indexing speed: the seed tutorial's loops, the model alone, and photofinder's indexer, in one run.

    python bench/indexing.py                      # generated 12 MP camera-like JPEGs with EXIF
    python bench/indexing.py /usr/share/backgrounds/mate/nature --count 128   # your own photos

Uses a random-initialised CLIP with exactly the openai/clip-vit-base-patch32 architecture (same compute as the
real checkpoint). Prints images/s for
  (1) the seed's naive loop (one image at a time, CLIPProcessor on the full-size image),
  (2) the seed's batched loop (batch 64),
  (3) the model alone on pre-made tensors, with the indexer's own batch size and thread settings,
  (4) photofinder's indexer end to end (scan, hash, decode, thumbnail, encode, commit to SQLite, save FAISS),
(3) and (4) for each runtime: torch fp32, ONNX Runtime fp32 (the CPU default) and ONNX Runtime int8, then the
ratios (4)/(3) of the default runtime (the median of back-to-back pairs: these machines drift) and (4)/(2), peak
memory, and the cold start of a fresh `photofinder search "x"` process against `python -c "import torch"`.
The last two lines are machine-readable:
  ratios: indexer/model=X.XX indexer/seed_batched=Y.YY
  runtime: onnx/torch=A.AA int8/torch=B.BB search_cold/import_torch=C.CC
  ocr: gate_recall=R.RR ocr_photos_per_s=P.P text_search_ms=T.TT   (bench/words.py; --ocr-only runs it alone)
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
    ap.add_argument(
        "--runtimes", default="", help="comma-separated subset of torch,onnx,onnx-int8 (default all)"
    )
    ap.add_argument("--repeat-cold", type=int, default=5, help="fresh processes timed for the cold start")
    ap.add_argument(
        "--ocr-only",
        action="store_true",
        help="only the words pass (bench/words.py: gate recall, OCR photos/s, text search), with the tests' tiny CLIP",
    )
    args = ap.parse_args()
    if args.ocr_only:
        import words

        sys.argv = [sys.argv[0]]
        words.main()
        return

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from photofinder.core.encode.runtime import tune_process

    tune_process()  # what the CLI and the app do first: the same settings for every loop measured here
    import torch
    from transformers.utils import logging as hf_logging
    from vitb32 import make_vitb32

    from photofinder.core.encode.onnx_encoder import OnnxEmbedder
    from photofinder.core.encode.torch_encoder import ClipEmbedder
    from photofinder.core.ingest.indexer import Indexer
    from photofinder.core.photos.decode import is_photo_name
    from photofinder.core.store.library import LibraryStore

    hf_logging.disable_progress_bar()
    work = Path(tempfile.mkdtemp(prefix="pf-bench-"))
    os.environ["PHOTOFINDER_MODEL_CACHE"] = str(work / "models")
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

        t = time.perf_counter()
        runtimes = {
            "torch": ClipEmbedder(str(model_dir), device=args.device),
            "onnx": OnnxEmbedder(str(model_dir)),
            "onnx-int8": OnnxEmbedder(str(model_dir), int8=True),
        }
        if args.runtimes:
            runtimes = {k: v for k, v in runtimes.items() if k in args.runtimes.split(",")}
        for e in runtimes.values():
            e.load()
        print(f"models loaded (ONNX exported and int8 quantised once) in {time.perf_counter() - t:.0f} s")
        default = (
            "onnx"
            if "onnx" in runtimes and (args.device == "cpu" or not torch.cuda.is_available())
            else next(iter(runtimes))
        )
        indexer = Indexer(LibraryStore(work / "data").create("settings"), runtimes[default])
        batch = indexer.effective_batch_size()
        print(
            f"device: {runtimes[default].device}; torch {torch.__version__}, {torch.get_num_threads()} threads; "
            f"indexer batch {batch}, {indexer.effective_decode_threads()} decode threads; default runtime "
            f"{default}",
            flush=True,
        )
        rng = np.random.default_rng(0)
        tensors = rng.standard_normal((len(paths), 3, 224, 224)).astype(np.float32)
        for e in runtimes.values():
            e.encode_pixels(tensors[:batch])  # warm-up: allocator, kernels

        # (3) and (4) alternate, `--repeat` times each, runtime after runtime: shared machines drift +-10 % from
        # minute to minute, so each indexer run is compared with the model run just before it, and the medians
        # are reported.
        rates: dict[str, dict[str, list[float]]] = {
            r: {"model": [], "indexer": [], "pairs": []} for r in runtimes
        }
        rss_before = rss_mb()
        for rep in range(args.repeat):
            for name, embedder in runtimes.items():
                t = time.perf_counter()
                for i in range(0, len(tensors), batch):
                    embedder.encode_pixels(tensors[i : i + batch])
                r = rates[name]
                r["model"].append(len(tensors) / (time.perf_counter() - t))
                lib = LibraryStore(work / "data").create(f"bench-{name}-{rep}")
                with lib.open_catalog() as c:
                    c.add_folder(str(paths[0].parent))
                t = time.perf_counter()
                report = Indexer(lib, embedder).run()
                r["indexer"].append(report.indexed / (time.perf_counter() - t))
                assert report.indexed == len(paths) and not report.skipped, report
                r["pairs"].append(r["indexer"][-1] / r["model"][-1])
                print(
                    f"    run {rep + 1} {name:9s}: model {r['model'][-1]:6.2f}, indexer {r['indexer'][-1]:6.2f} "
                    f"images/s ({r['pairs'][-1]:.2f})",
                    flush=True,
                )
        rss_indexer = rss_mb()
        med = {name: {k: float(np.median(v)) for k, v in r.items()} for name, r in rates.items()}
        results: dict[str, float] = {"model": med[default]["model"], "indexer": med[default]["indexer"]}
        for name in runtimes:
            print(
                f"(3) model alone, {name:9s}:   {med[name]['model']:6.2f} images/s (median of {args.repeat})"
            )
            print(
                f"(4) indexer, {name:9s}:       {med[name]['indexer']:6.2f} images/s; (4)/(3) "
                f"{med[name]['pairs']:.2f}",
                flush=True,
            )
        print(
            f"peak RSS {rss_indexer:.0f} MB, +{rss_indexer - rss_before:.0f} MB while indexing (three runtimes "
            "loaded)"
        )
        cold = cold_start(work, paths, runtimes.get("onnx"), args.repeat_cold) if "onnx" in runtimes else {}

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
        for key, label in (
            ("seed_naive", "(1) seed, naive loop"),
            ("seed_batched", "(2) seed, batched 64"),
            ("model", "(3) model alone"),
            ("indexer", "(4) photofinder indexer"),
        ):
            if key in results:
                print(f"  {label:26s} {results[key]:6.2f}")
        print(
            f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}; "
            f"peak RSS overall {rss_mb():.0f} MB (the seed's batched loop holds 64 full-size frames)"
        )
        ratio_model = med[default]["pairs"]
        ratio_seed = (
            results["indexer"] / results["seed_batched"] if "seed_batched" in results else float("nan")
        )
        nan = float("nan")
        torch_ix = med.get("torch", {}).get("indexer", nan)
        if cold:
            print(
                f"cold start: fresh `photofinder search` {cold['search']:.2f} s, fresh `import torch` "
                f"{cold['torch']:.2f} s (medians of {args.repeat_cold}, alternating)"
            )
        print(f"ratios: indexer/model={ratio_model:.2f} indexer/seed_batched={ratio_seed:.2f}")
        print(
            f"runtime: onnx/torch={med.get('onnx', {}).get('indexer', nan) / torch_ix:.2f} "
            f"int8/torch={med.get('onnx-int8', {}).get('indexer', nan) / torch_ix:.2f} "
            f"search_cold/import_torch={cold.get('search', nan) / cold.get('torch', nan):.2f}"
        )
        import words  # the words pass last, with the default runtime's (random-weight) model for its gate

        for line in words.report_lines(words.measure(work, runtimes[default])):
            print(line, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cold_start(work: Path, paths: list[Path], embedder, repeat: int) -> dict[str, float]:
    """Wall time of a fresh `photofinder search "x"` on a small library, and of a fresh `import torch`."""
    import subprocess

    from photofinder.core.ingest.indexer import Indexer
    from photofinder.core.store.library import LibraryStore

    lib = LibraryStore(work / "data").create("Photos")
    small = work / "small"
    small.mkdir()
    for p in paths[:16]:
        shutil.copy(p, small / p.name)
    with lib.open_catalog() as c:
        c.add_folder(str(small))
    Indexer(lib, embedder).run()
    env = dict(os.environ, PHOTOFINDER_DATA_DIR=str(work / "data"))
    search = [sys.executable, "-m", "photofinder", "search", "x", "-n", "5"]
    torch_only = [sys.executable, "-c", "import torch"]
    times: dict[str, list[float]] = {"search": [], "torch": []}
    for _ in range(repeat):
        for key, cmd in (("search", search), ("torch", torch_only)):
            t = time.perf_counter()
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
            times[key].append(time.perf_counter() - t)
            assert r.returncode == 0, r.stderr
    return {k: float(np.median(v)) for k, v in times.items()}


def _megapixels(p: Path) -> float:
    from PIL import Image

    with Image.open(p) as im:
        return im.size[0] * im.size[1] / 1e6


if __name__ == "__main__":
    main()
