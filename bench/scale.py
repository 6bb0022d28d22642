"""How photofinder holds up with 10k, 100k and a million photos (issue 9). A benchmark, not a test.

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--dir /tmp/pf-scale] [--keep]

For each size it builds a synthetic library through the project's own API: real 1-byte files (`.jpg`, 500 to a
folder) found by the real scanner, and catalog rows with clustered random 512-d unit vectors (a mean direction
shared by all, 300 topics x 30 sub-topics, noise; about the 0.15-0.35 mean cosine of real CLIP embeddings),
70 % of them with an EXIF date; then the index as the indexer saves it. Then a fresh process (as the app or
`photofinder search` starts) measures: opening the library (summary + the first browse page, with the existence
check the grid makes), the first search (the index file read), vector search p50/p95 (index + exact rescoring),
end-to-end in-process search p50 (`Searcher.by_vector`, top 50, paths checked on disk), recall@10 against an
exact flat search over every stored vector (200 queries), RSS, the first search after a commit (32 photos added
and 8 deleted by another connection, as the indexer does), and a rescan of the unchanged library
(`Indexer.run`: walk, compare, check the index file), and the candidate search for duplicates (the neighbour
pairs of `find_duplicates`; the pixel check that confirms them needs real images, so it is not timed). One photo
in PLANT_EVERY is planted as a near-copy of the one before it (its vector moved by 1 %), so the candidates are not
empty and their recall can be told. No model is loaded (the query vectors are given), so RSS
is the library's, not the model's.

The last line sums up the largest size:
scale: n=1000000 search_p50_ms=X recall@10=Y open_s=Z rescan_s=W rss_mb=V

`--gui` adds a third process: the real MainWindow, offscreen, on the library, with a stub embedder (no model), and
a 10 ms QTimer on the GUI thread recording the longest gap between its ticks (issue 9: no GUI-thread stall over
50 ms) while (a) the library opens (summary, first grid page, filter counts), (b) a text search runs (the stub
gives a vector) and its results show, (c) 64 new photos (small real JPEGs) are indexed. It prints
gui: open_max_stall_ms=.. search_max_stall_ms=.. index_max_stall_ms=.. and the facets read time.
`--reuse` keeps a library already built under --dir (with --keep) instead of building it again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # this checkout's photofinder, not an installed one

DIM = int(os.environ.get("PF_SCALE_DIM", "512"))  # --dim, passed on to the probe processes
# How much of a text-like query is its topic (hard_text_like): 0.35 puts its best photo at ~0.29, as a CLIP
# caption's; --text-topic 0.2 at ~0.2, as SigLIP's lower text-image scores.
TEXT_TOPIC = float(os.environ.get("PF_SCALE_TEXT_TOPIC", "0.35"))
# --tune-on-photos: the library records no text vectors (as one indexed before they were), so its index is tuned
# on photo vectors pulled to the model's closeness instead of the model's own text vectors of everyday captions.
TUNE_ON_PHOTOS = bool(os.environ.get("PF_SCALE_TUNE_ON_PHOTOS"))


def stub_sigmoid() -> tuple[float, float] | None:
    """SigLIP-like text queries (TEXT_TOPIC below 0.35) come with SigLIP's own score scale: a match from cosine
    0.2, about where their best photo scores (the index is tuned at that closeness: encode's text_closeness)."""
    return (10.0, -2.0) if TEXT_TOPIC < 0.35 else None


PER_FOLDER = 500
QUERIES = 200
FILTER_QUERIES = 50  # text-like queries per filter
NAME = "Scale"
PLANT_EVERY = 1000  # one photo in this many is a near-copy of the photo before it (a resized copy, say)


NOISE = float(os.environ.get("PF_SCALE_NOISE", "1.0"))  # --noise, passed on to the probe process
TEXT_SHARE = 0.05  # photos with words read in them (issue 22)
GEO_SHARE = 0.6  # photos with GPS


def clustered(n: int, seed: int, noise: float | None = None) -> np.ndarray:
    """n unit vectors: a shared mean direction, 300 topics x 30 sub-topics, Gaussian noise (float32)."""
    g = np.random.default_rng(1234)
    mean = g.standard_normal(DIM).astype(np.float32)
    mean /= np.linalg.norm(mean)
    topics = g.standard_normal((300, DIM)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    subs = topics[np.arange(9000) // 30] + 0.6 * g.standard_normal((9000, DIM)).astype(np.float32) / np.sqrt(
        DIM
    )
    subs = subs / np.linalg.norm(subs, axis=1, keepdims=True) + mean
    subs /= np.linalg.norm(subs, axis=1, keepdims=True)
    noise = NOISE if noise is None else noise
    r = np.random.default_rng(seed)
    x = subs[r.integers(0, len(subs), n)] + noise * r.standard_normal((n, DIM)).astype(np.float32) / np.sqrt(
        DIM
    )
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def queries() -> np.ndarray:
    if HARD:
        return hard_photo_like(QUERIES)
    return clustered(QUERIES, seed=987654)


# -- the harder distribution (issue 18) --------------------------------------------------------------------------
HARD = os.environ.get("PF_SCALE_HARD") == "1"  # --hard, passed on to the probe processes
HARD_CLUSTERS = 2000
_HARD: dict = {}


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def hard_centres() -> np.ndarray:
    """2,000 overlapping cluster centres: 200 themes x 10 clusters around each, all sharing a mean direction."""
    if "c" not in _HARD:
        g = np.random.default_rng(4321)
        mean = _unit(g.standard_normal(DIM))
        themes = _unit(g.standard_normal((HARD_CLUSTERS // 10, DIM)))
        c = _unit(
            themes[np.arange(HARD_CLUSTERS) // 10] + 0.9 * _unit(g.standard_normal((HARD_CLUSTERS, DIM)))
        )
        _HARD["c"] = _unit(c + 0.8 * mean)
    return _HARD["c"]


def hard_photos(start: int, n: int) -> np.ndarray:
    """Photos start..start+n-1 of a folder-ordered library: folder by folder (PER_FOLDER a folder, one event
    each), every folder's photos drawn from 3 clusters of its own, so neighbouring ids are alike, as in a
    library indexed folder by folder. Same photo, same vector, whatever the batch."""
    c = hard_centres()
    idx = np.arange(start, start + n)
    folders = idx // PER_FOLDER
    own = {
        int(f): np.random.default_rng(int(f)).choice(HARD_CLUSTERS, 3, replace=False)
        for f in np.unique(folders)
    }
    r = np.random.default_rng(start + 17)
    pick = np.array([own[int(f)][k] for f, k in zip(folders, r.integers(0, 3, n))])
    return _unit(c[pick] + r.standard_normal((n, DIM)).astype(np.float32) / np.sqrt(DIM))


def hard_photo_like(count: int) -> np.ndarray:
    """Queries from the library's own distribution (photo-like: "find similar")."""
    c = hard_centres()
    r = np.random.default_rng(987654)
    return _unit(
        c[r.integers(0, HARD_CLUSTERS, count)]
        + r.standard_normal((count, DIM)).astype(np.float32) / np.sqrt(DIM)
    )


def hard_text_like(count: int, seed: int = 555) -> np.ndarray:
    """Text-like queries, unlike any library vector: a mix of two cluster centres, a direction shared by every
    text query and no photo (CLIP's gap between text and image vectors), and noise. Their best photo scores
    ~0.29 (photos score ~0.6 with their cluster's), as a CLIP caption's does."""
    c = hard_centres()
    g = np.random.default_rng(seed)
    gap = _unit(np.random.default_rng(99).standard_normal(DIM))
    a, b = g.integers(0, HARD_CLUSTERS, count), g.integers(0, HARD_CLUSTERS, count)
    topic = _unit(c[a] + 0.5 * c[b])
    return _unit(TEXT_TOPIC * topic + 0.75 * gap + 0.5 * _unit(g.standard_normal((count, DIM))))


class StubEmbedder:
    """Enough of an Embedder for a library whose vectors were made up: no model is ever loaded."""

    model_id = f"synthetic-{DIM}"
    fingerprint = f"sha256:synthetic-{DIM}"
    device = "cpu"
    dim = DIM
    sigmoid = stub_sigmoid()

    def load(self) -> None:
        pass

    def unload(self) -> None:
        pass

    @property
    def spec(self):
        from photofinder.core.encode.preprocess import PreprocessSpec

        return PreprocessSpec(224, 224, 224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))

    _tokenizer = None

    def encode_text(self, texts: list[str]) -> np.ndarray:
        folder = os.environ.get("PF_SCALE_TOKENIZER")
        if folder:  # the GUI probe: the first query loads a CLIP-sized tokenizer as the ONNX encoder does
            if self._tokenizer is None:
                from photofinder.core.encode.onnx_run import fast_tokenizer as _tokenizer

                self._tokenizer = _tokenizer(Path(folder), {"max_length": 77, "pad_id": 0, "pad_token": "!"})
            self._tokenizer.encode_batch(texts)
        if HARD:  # new draws of the same distribution as the measured queries (seeds 555 and 777), never them
            return hard_text_like(len(texts), seed=zlib.crc32("\n".join(texts).encode()))
        return queries()[: len(texts)]

    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        return clustered(len(pixels), seed=len(pixels))


def clip_sized_tokenizer(folder: Path) -> Path:
    """A tokenizer.json of CLIP ViT-B/32's size (49,408 tokens, 48,894 merges), grown from the test model's
    (same normaliser, pre-tokeniser and BPE settings): what loading the real one costs, without a download."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "tokenizer.json"
    if out.exists():
        return folder
    src = Path(__file__).resolve().parents[1] / "tests" / "models" / "tiny-clip" / "tokenizer.json"
    tok = json.loads(src.read_text(encoding="utf-8"))
    vocab, merges = tok["model"]["vocab"], tok["model"]["merges"]
    k = 0
    while len(vocab) < 49408:
        a, b = f"q{k:x}", f"z{k:x}</w>"
        for t in (a, b, a + b):
            vocab.setdefault(t, len(vocab))
        if len(merges) < 48894:
            merges.append([a, b] if isinstance(merges[0], list) else f"{a} {b}")
        k += 1
    out.write_text(json.dumps(tok), encoding="utf-8")
    return folder


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def planted(start: int, n: int) -> list[int]:
    """Offsets, in a batch of n photos starting at photo `start`, of the planted near-copies."""
    return [i for i in range(1, n) if (start + i) % PLANT_EVERY == 1]


# -- building ----------------------------------------------------------------------------------------------
def make_files(folder: Path, n: int) -> None:
    for d in range((n + PER_FOLDER - 1) // PER_FOLDER):
        sub = folder / f"{d // 100:03d}" / f"{d:05d}"
        sub.mkdir(parents=True, exist_ok=True)
        for i in range(d * PER_FOLDER, min(n, (d + 1) * PER_FOLDER)):
            fd = os.open(sub / f"IMG_{i:07d}.jpg", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, b"x")
            os.close(fd)


def build(root: Path, n: int) -> dict:
    from photofinder.core.encode.models import text_closeness, text_probes
    from photofinder.core.photos.scanner import scan
    from photofinder.core.store.catalog import INDEXED, PhotoRecord
    from photofinder.core.store.library import LibraryStore

    folder = root / "photos"
    out: dict = {}
    t = time.perf_counter()
    make_files(folder, n)
    out["files_s"] = time.perf_counter() - t
    t = time.perf_counter()
    lib = LibraryStore(root / "data").create(NAME)
    rng = np.random.default_rng(7)
    with lib.open_catalog() as c:
        c.add_folder(str(folder))
        c.bind_model(StubEmbedder.model_id, DIM, StubEmbedder.fingerprint)
        c.record_text_cosine(text_closeness(StubEmbedder()))  # as the indexer records them
        probes = text_probes(StubEmbedder())
        if probes is not None and not TUNE_ON_PHOTOS:
            c.record_text_queries(probes)
        batch: list = []
        copies: list[tuple[str, str]] = []  # (photo, its planted near-copy)
        done = 0

        folders = -(-n // PER_FOLDER)

        def flush() -> None:
            nonlocal batch, done
            vecs = hard_photos(done, len(batch)) if HARD else clustered(len(batch), seed=done)
            for i in planted(done, len(batch)):
                v = vecs[i - 1] + 0.01 * rng.standard_normal(DIM).astype(np.float32) / np.sqrt(DIM)
                vecs[i] = v / np.linalg.norm(v)
                copies.append((batch[i - 1].path, batch[i].path))
            if HARD:  # in date order, folder by folder: a folder is a few days of one event
                f = (done + np.arange(len(batch))) // PER_FOLDER
                dates = (f * (20 * 365) // folders + rng.integers(0, 3, len(batch))).astype(np.int64)
            else:
                dates = rng.integers(0, 20 * 365, len(batch))
            records = [
                PhotoRecord(
                    info.path,
                    info.folder,
                    info.size,
                    info.mtime_ns,
                    hashlib.sha256(info.path.encode()).hexdigest(),
                    INDEXED,
                    4000,
                    3000,
                    time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1.0e9 + 86400 * int(day)))
                    if day % 10 < 7
                    else None,
                    embedding=v,
                )
                for info, v, day in zip(batch, vecs, dates)
            ]
            for r in records:  # GEO_SHARE of the photos geotagged, in one of 2,000 places of 40 countries
                if rng.random() < GEO_SHARE:
                    k = int(rng.zipf(1.3)) % 2000
                    r.lat, r.lon, r.geo = 10.0 + k / 100, 20.0 + k / 100, 1
                    r.place = f"Country {k % 40}\x1fRegion {k % 300}\x1fCity {k}"
                else:
                    r.geo = 0
            ids = c.upsert(records)
            words(c, [(ids[r.path], r.hash) for r in records if rng.random() < TEXT_SHARE], rng)
            done += len(batch)
            batch = []

        for info in scan(str(folder)):
            batch.append(info)
            if len(batch) == 5000:
                flush()
        if batch:
            flush()
        c._exec("UPDATE photos SET ocr = 0 WHERE ocr IS NULL")  # the rest: passed over by the words gate
        out["catalog_s"] = time.perf_counter() - t
        t = time.perf_counter()
        lib.load_vectors(c, save=True)  # what the indexer leaves: the index of the library's size, saved
        out["index_s"] = time.perf_counter() - t
        c.set_meta("last_indexed", str(time.time()))
        c.set_meta("bench_planted", json.dumps(copies))
    out["catalog_mb"] = du(lib.catalog_path) / 2**20
    out["index_mb"] = du(lib.index_path) / 2**20
    out["build_peak_mb"] = peak_mb()
    return out


VOCABULARY = [f"word{i}" for i in range(5000)]


def words(c, photos: list[tuple[int, str]], rng) -> None:
    """Words read in these photos (TEXT_SHARE of the library), as the words pass stores them: 5-40 words each
    from a 5,000-word vocabulary, Zipf-distributed like real text."""
    from photofinder.core.store.catalog import WordsDone

    done = []
    for pid, h in photos:
        n = int(rng.integers(5, 40))
        text = " ".join(VOCABULARY[int(rng.zipf(1.2)) % len(VOCABULARY)] for _ in range(n))
        done.append(WordsDone(pid, h, ocr=1, text=text))
    c.save_words(done)


# -- measuring, in a fresh process ---------------------------------------------------------------------------
def probe(root: Path) -> dict:
    from photofinder.core.find.search import Searcher
    from photofinder.core.ingest.indexer import Indexer
    from photofinder.core.store.catalog import INDEXED, PhotoRecord
    from photofinder.core.store.library import LibraryStore

    out: dict = {"rss_start_mb": rss_mb()}
    qs = queries()
    t = time.perf_counter()
    lib = LibraryStore(root / "data").get(NAME)
    summary = lib.summary()
    out["summary_s"] = time.perf_counter() - t
    with lib.open_catalog() as c:
        rows, _ = c.recent_page(None, 500)
        shown = [r for r in rows if os.path.exists(r[1])]
        rows2, _ = c.recent_page(_, 500)  # the next page, as the grid scrolls
    out["open_s"] = time.perf_counter() - t
    out["photos"] = summary.photos
    assert len(shown) == 500 and len(rows2) == 500

    with Searcher(lib, StubEmbedder()) as s:  # type: ignore[arg-type]
        t = time.perf_counter()
        s.by_vector(qs[0], 50)
        out["first_search_s"] = time.perf_counter() - t
        index = s._index()
        out["index_kind"] = (
            f"IVF{index._index.nlist},SQ8 nprobe={index._index.nprobe}" if index.approximate else "Flat"
        )
        exact = s._catalog.vectors_for
        times, found = [], []
        for q in qs:
            t = time.perf_counter()
            ids, _scores = index.search(q, 10, exact=exact)
            times.append(time.perf_counter() - t)
            found.append(ids)
        out["search_p50_ms"] = float(np.median(times) * 1e3)
        out["search_p95_ms"] = float(np.percentile(times, 95) * 1e3)
        times = []
        for q in qs:
            t = time.perf_counter()
            s.by_vector(q, 50)
            times.append(time.perf_counter() - t)
        out["e2e_p50_ms"] = float(np.median(times) * 1e3)
        out.update(words_probe(s, qs))
        out["rss_mb"] = rss_mb()
        out["peak_mb"] = peak_mb()

        # recall@10 against an exact search over every stored vector, streamed from the catalog
        best = np.full((len(qs), 10), -np.inf, np.float32)
        best_ids = np.full((len(qs), 10), -1, np.int64)
        for ids, vecs in s._catalog.iter_embeddings():
            sc = qs @ vecs.T
            allsc = np.concatenate([best, sc], axis=1)
            allid = np.concatenate([best_ids, np.broadcast_to(ids, sc.shape)], axis=1)
            top = np.argpartition(-allsc, 9, axis=1)[:, :10]
            best = np.take_along_axis(allsc, top, 1)
            best_ids = np.take_along_axis(allid, top, 1)
        out["recall@10"] = float(
            np.mean([len(set(f.tolist()) & set(b.tolist())) / 10 for f, b in zip(found, best_ids)])
        )

        # a commit beside the searcher, as the indexer makes one per batch: 32 photos in, 8 out
        new_dir = root / "photos" / "new"
        new_dir.mkdir(exist_ok=True)
        vecs = clustered(32, seed=424242)
        with lib.open_catalog() as w:
            records = []
            for i, v in enumerate(vecs):
                p = new_dir / f"NEW_{i:03d}.jpg"
                p.write_bytes(b"y")
                st = p.stat()
                records.append(
                    PhotoRecord(
                        str(p),
                        str(root / "photos"),
                        st.st_size,
                        st.st_mtime_ns,
                        hashlib.sha256(str(p).encode()).hexdigest(),
                        INDEXED,
                        embedding=v,
                    )
                )
            new_ids = w.upsert(records)
            gone = [r[0] for r in w.recent_page(None, 8)[0]]
            for _pid, path, _h in w.recent_page(None, 8)[0]:
                os.remove(path)
            w.delete(gone)
            expect = w.count()
        t = time.perf_counter()
        hits = s.by_vector(vecs[5], 10)
        out["after_commit_s"] = time.perf_counter() - t
        assert hits and hits[0].id == new_ids[str(new_dir / "NEW_005.jpg")], (
            "the new photo is not found first"
        )
        assert not set(gone) & {h.id for h in s.by_vector(qs[1], 200)}
        out["after_commit_next_s"] = _timed(lambda: s.by_vector(qs[2], 50))
        s._vectors = index = None  # the rescan below reads its own copy, as `photofinder index` would

    t = time.perf_counter()
    report = Indexer(lib, StubEmbedder()).run()  # type: ignore[arg-type]
    out["rescan_s"] = time.perf_counter() - t
    assert report.unchanged == expect and report.indexed == report.removed == 0, report
    out["peak_after_rescan_mb"] = peak_mb()
    out.update(duplicate_candidates(lib))
    return out


def hard_filters(root: Path) -> list:
    """Filters a user sets, on the folder-ordered library: single years (~5 % each, one stretch of folders),
    date ranges from a week to half the library, one top folder (100 subfolders), and the lot after a date."""
    from datetime import date

    from photofinder.core.find.query import Filters

    return [
        ("year 2003", Filters(after=date(2003, 1, 1), before=date(2003, 12, 31))),
        ("year 2010", Filters(after=date(2010, 1, 1), before=date(2010, 12, 31))),
        ("year 2019", Filters(after=date(2019, 1, 1), before=date(2019, 12, 31))),
        ("a week", Filters(after=date(2012, 3, 1), before=date(2012, 3, 7))),
        ("3 months", Filters(after=date(2006, 4, 1), before=date(2006, 6, 30))),
        ("5 years", Filters(after=date(2004, 1, 1), before=date(2008, 12, 31))),
        ("after 2011", Filters(after=date(2011, 1, 1))),
        ("one top folder", Filters(folder=str(root / "photos" / "000"))),
    ]


def hard_probe(root: Path) -> dict:
    """Text-like recall@10 and speed, filtered recall@50 and speed, on the harder distribution."""
    from photofinder.core.find.search import Searcher
    from photofinder.core.store.library import LibraryStore

    out: dict = {}
    lib = LibraryStore(root / "data").get(NAME)
    tq = hard_text_like(QUERIES)
    fq = hard_text_like(FILTER_QUERIES, seed=777)
    with Searcher(lib, StubEmbedder()) as s:  # type: ignore[arg-type]
        s.by_vector(tq[0], 50)
        index = s._index()
        exact = s._catalog.vectors_for
        out["nprobe"] = index.nprobe
        out["nlist"] = index._index.nlist if index.approximate else 0
        times, found = [], []
        for q in tq:
            t = time.perf_counter()
            ids, _ = index.search(q, 10, exact=exact)
            times.append(time.perf_counter() - t)
            found.append(ids)
        out["text_p50_ms"] = float(np.median(times) * 1e3)
        out["text_p95_ms"] = float(np.percentile(times, 95) * 1e3)
        filters = hard_filters(root)
        per: list[dict] = []
        allowed_sets = []
        for name, f in filters:
            allowed = s.allowed_ids(f)
            allowed_sets.append(allowed)
            ftimes, ffound = [], []
            for q in fq:
                t = time.perf_counter()
                res = s.by_vector(q, 50, allowed=allowed)
                ftimes.append(time.perf_counter() - t)
                ffound.append([r.id for r in res])
            per.append(
                {
                    "name": name,
                    "allowed": int(len(allowed)),
                    "p50_ms": float(np.median(ftimes[1:]) * 1e3),
                    "found": ffound,
                }
            )
        # the exact answers, in one pass over every stored vector
        best = np.full((len(tq), 10), -np.inf, np.float32)
        best_ids = np.full((len(tq), 10), -1, np.int64)
        fbest = [np.full((len(fq), 50), -np.inf, np.float32) for _ in filters]
        fbest_ids = [np.full((len(fq), 50), -1, np.int64) for _ in filters]
        top_cos = np.full(len(tq), -1.0, np.float32)

        def merge(sc, ids, b, bi, k):
            allsc = np.concatenate([b, sc], axis=1)
            allid = np.concatenate([bi, np.broadcast_to(ids, sc.shape)], axis=1)
            top = np.argpartition(-allsc, k - 1, axis=1)[:, :k]
            return np.take_along_axis(allsc, top, 1), np.take_along_axis(allid, top, 1)

        for ids, vecs in s._catalog.iter_embeddings():
            sc = tq @ vecs.T
            top_cos = np.maximum(top_cos, sc.max(1))
            best, best_ids = merge(sc, ids, best, best_ids, 10)
            fsc = fq @ vecs.T
            for k, allowed in enumerate(allowed_sets):
                m = np.isin(ids, allowed)
                if m.any():
                    fbest[k], fbest_ids[k] = merge(fsc[:, m], ids[m], fbest[k], fbest_ids[k], 50)
        out["text_recall@10"] = float(
            np.mean([len(set(f.tolist()) & set(b.tolist())) / 10 for f, b in zip(found, best_ids)])
        )
        out["text_recall_worst"] = float(
            min(len(set(f.tolist()) & set(b.tolist())) / 10 for f, b in zip(found, best_ids))
        )
        out["text_top_cosine"] = float(np.mean(top_cos))
        for k, p in enumerate(per):
            recalls = []
            for got, truth in zip(p.pop("found"), fbest_ids[k]):
                t = set(truth[truth >= 0].tolist())
                recalls.append(len(set(got) & t) / max(1, len(t)))
            p["recall@50"] = float(np.mean(recalls))
            p["worst"] = float(np.min(recalls))
        out["filters"] = per
        out["filtered_recall@50"] = min(p["recall@50"] for p in per)
        out["filtered_p50_ms"] = max(p["p50_ms"] for p in per)
        out["rss_mb"] = rss_mb()
        out["peak_mb"] = peak_mb()
    return out


def words_probe(s, qs) -> dict:
    """Text and place searches at this size: the first time (FTS and the place index read) and again."""
    from photofinder.core.find.query import Filters, Query

    if not s._catalog.words_stamp()[0]:
        return {}
    out = {}
    for key, filters in (
        ("text", lambda k: Filters(text=VOCABULARY[3 + k])),
        ("place", lambda k: Filters(place=f"Country {k}")),
    ):
        first, again, combined, found = [], [], [], []
        for k in range(10):
            f = filters(k)
            t = time.perf_counter()
            r = s.run(Query((), f), 50)
            first.append(time.perf_counter() - t)
            found.append(len(s.allowed_ids(f)))
            t = time.perf_counter()
            s.run(Query((), f), 50)
            again.append(time.perf_counter() - t)
            t = time.perf_counter()
            s.by_vector(qs[k], 50, allowed=s.allowed_ids(f))
            combined.append(time.perf_counter() - t)
            assert r.results, (key, k)
        out[f"{key}_first_ms"] = float(np.median(first) * 1e3)
        out[f"{key}_again_ms"] = float(np.median(again) * 1e3)
        out[f"{key}_with_vector_ms"] = float(np.median(combined) * 1e3)
        out[f"{key}_matches"] = int(np.median(found))
    t = time.perf_counter()
    out["places"] = len(s._catalog.facets().places)
    out["facets_ms"] = (time.perf_counter() - t) * 1e3
    return out


def gui_probe(root: Path) -> dict:
    """The app's window on the library: the longest GUI-thread stalls while opening, searching and indexing."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from photofinder.gui.controllers import AppController
    from photofinder.gui.settings import AppSettings
    from photofinder.gui.window.main_window import MainWindow
    from photofinder.gui.workers.model_pool import EmbedderPool
    from photofinder.gui.workers.threads import keep_the_window_responsive

    os.environ["PF_SCALE_TOKENIZER"] = str(clip_sized_tokenizer(root / "tokenizer"))
    if not os.environ.get("PF_DEFAULT_SWITCH"):  # what the app does at start-up (set it to compare)
        keep_the_window_responsive()
    data = root / "data"
    _qapp = QApplication.instance() or QApplication([])  # noqa: F841 - held: the app lives as long as the probe
    gaps: list[tuple[float, float]] = []  # (when, gap) of every tick
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now, now - last[0]))
        last[0] = now

    probe_timer = QTimer()
    probe_timer.setInterval(10)
    probe_timer.timeout.connect(tick)
    traces: list[str] = []
    if os.environ.get("PF_STALL_TRACE"):  # where every thread is when the GUI thread is 40 ms late
        import threading
        import traceback

        def watch() -> None:
            reported = 0.0
            while True:
                time.sleep(0.005)
                late = time.perf_counter() - last[0]
                if late > 0.04 and last[0] != reported:
                    reported = last[0]
                    me = threading.get_ident()
                    names = {t.ident: t.name for t in threading.enumerate()}
                    stacks = [
                        f"[{names.get(i, i)}] "
                        + " <- ".join(
                            f"{os.path.basename(f.filename)}:{f.lineno} {f.name}"
                            for f in reversed(traceback.extract_stack(fr)[-6:])
                        )
                        for i, fr in sys._current_frames().items()
                        if i != me
                    ]
                    traces.append(f"{late * 1e3:.0f} ms late: " + " || ".join(stacks))

        threading.Thread(target=watch, daemon=True).start()

    def spin(cond, timeout: float) -> float:
        """Run the event loop until cond() (an event loop, not processEvents: PySide 6.12's processEvents leaks
        a reference to None per call, and tens of thousands of calls abort the process, "none_dealloc")."""
        t0 = time.perf_counter()
        loop = QEventLoop()
        poll = QTimer()
        poll.setInterval(2)

        def check() -> (
            None
        ):  # a slot returning nothing: one returning a bool trips another PySide refcount bug
            if cond() or time.perf_counter() - t0 > timeout:
                loop.quit()

        poll.timeout.connect(check)
        if not cond():
            poll.start()
            loop.exec()
            poll.stop()
        if not cond():
            raise TimeoutError("the window did not get there in time")
        return time.perf_counter() - t0

    def worst(since: float) -> float:
        """The longest gap that began at `since` or later (one that began before is the phase before's)."""
        return max((g for t, g in gaps if t - g >= since - 0.001), default=0.0) * 1e3

    out: dict = {}
    settings = AppSettings(data)
    settings.model = StubEmbedder.model_id
    settings.last_library = NAME
    settings.watch = False  # turned on below, measured on its own
    pool = EmbedderPool("cpu", factory=lambda *a, **k: StubEmbedder())
    last[0] = start = time.perf_counter()
    probe_timer.start()
    t = time.perf_counter()
    app = AppController(data, settings, pool)
    window = MainWindow(data, settings, app)
    window.show()
    out["construct_ms"] = (time.perf_counter() - t) * 1e3
    panel = window.filters.panel
    out["open_summary_s"] = spin(lambda: app.summary is not None, 120) + out["construct_ms"] / 1e3
    out["open_grid_s"] = spin(lambda: window.results.rowCount() > 0, 120) + out["open_summary_s"]
    out["open_facets_s"] = spin(lambda: bool(panel.years.years), 120) + out["open_grid_s"]
    spin(lambda: False if time.perf_counter() - start < out["open_facets_s"] + 1.0 else True, 10)  # settle
    out["open_max_stall_ms"] = worst(start)
    out["open_max_stall_after_window_ms"] = worst(start + out["construct_ms"] / 1e3 + 0.001)

    got = []
    app.searches.resultsReady.connect(lambda *a: got.append(1))
    t = time.perf_counter()
    app.query.search_text("a photo of something")
    out["search_s"] = spin(lambda: bool(got), 120)
    spin(lambda: time.perf_counter() - t > out["search_s"] + 1.0, 10)  # results drawn, thumbnails asked for
    out["search_max_stall_ms"] = worst(t)

    # (c) watching turned on: the watcher's thread walks every folder (an inotify watch each) and catches up
    started = []
    app.watch.batch.connect(lambda b: started.append(b))
    t = time.perf_counter()
    settings.watch = True
    app.watch.setting_changed()
    out["watch_start_s"] = spin(lambda: bool(started), 600)
    spin(lambda: time.perf_counter() - t > out["watch_start_s"] + 0.5, 10)
    out["watch_max_stall_ms"] = worst(t)
    settings.watch = False
    app.watch.setting_changed()

    new = root / "photos" / "gui-new"
    new.mkdir(exist_ok=True)
    rng = np.random.default_rng(5)
    for i in range(64):
        Image.fromarray(rng.integers(0, 255, (96, 128, 3), np.uint8)).save(
            new / f"NEW_{i:03d}.jpg", quality=80
        )
    done = []
    app.indexing.finished.connect(lambda *a: done.append(a))
    t = time.perf_counter()
    app.indexing.start([])
    out["index_s"] = spin(lambda: bool(done), 600)
    spin(lambda: time.perf_counter() - t > out["index_s"] + 1.5, 10)  # summary and facets refreshed
    out["index_max_stall_ms"] = worst(t)
    out["index_report"] = str(done[0][0]) if done and done[0] else ""
    probe_timer.stop()

    lib = app.libraries.library
    from photofinder.gui.filters.facet_feed import count_facets

    times = []
    for _ in range(5):
        t = time.perf_counter()
        f = count_facets(lib)
        times.append(time.perf_counter() - t)
    out["facets_read_ms"] = float(np.median(times) * 1e3)
    out["facets_keys"] = len(f.folders) + len(f.months) + len(f.types)
    out["long_gaps"] = [(round(t - start, 3), round(g * 1e3)) for t, g in gaps if g > 0.05][:40]
    out["traces"] = traces[:30]
    window.close()
    return out


def duplicate_candidates(lib) -> dict:
    """The neighbour-pairs stage of find_duplicates on the library's vectors: its time, its pairs, and how many
    of the planted near-copies it found."""
    from photofinder.core.duplicates.finder import _neighbour_pairs

    before = peak_mb()
    with lib.open_catalog() as c:
        t = time.perf_counter()
        pairs = _neighbour_pairs(lib, c, lambda phase, done, total: None)
        took = time.perf_counter() - t
        planted_pairs = []
        for a, b in json.loads(c.get_meta("bench_planted") or "[]"):
            ra, rb = c.embedding_for_path(a), c.embedding_for_path(b)
            if ra and rb:  # neither deleted by the commit above
                planted_pairs.append((min(ra[0], rb[0]), max(ra[0], rb[0])))
    found = set(pairs)
    hit = sum(1 for p in planted_pairs if p in found)
    return {
        "dup_candidates_s": took,
        "dup_pairs": len(pairs),
        "dup_planted": len(planted_pairs),
        "dup_planted_found": hit,
        "dup_peak_mb": max(before, peak_mb()),
    }


def explore_probe(root: Path, strategy: str) -> dict:
    """Explore at this size, in a fresh process: group the library from scratch (the stored vectors; names from a
    random vocabulary of the shipped size, as the synthetic vectors mean nothing), then open it as the Explore
    view does (a new connection reads the stored groups and their covers' paths)."""
    from photofinder.core.explore import groups
    from photofinder.core.explore.naming import Vocabulary, vocabulary
    from photofinder.core.find.calibration import calibrate
    from photofinder.core.store.library import LibraryStore

    lib = LibraryStore(root / "data").get(NAME)
    phrases = vocabulary()
    words = np.random.default_rng(5).normal(size=(len(phrases), DIM)).astype(np.float32)
    vocab = Vocabulary(phrases, words / np.linalg.norm(words, axis=1, keepdims=True))
    with lib.open_catalog() as c:
        cut = calibrate(StubEmbedder(), c.sample_embeddings(2000), c.count())
        t = time.perf_counter()
        grouping = groups.regroup(lib, c, vocab, cut, strategy=strategy)
        group_s = time.perf_counter() - t
    peak = peak_mb()
    t = time.perf_counter()
    with lib.open_catalog() as c:
        shown = groups.read(c)
        c.photos(i for g in shown.groups for k in (g, *g.children) for i in k.cover)
    open_ms = (time.perf_counter() - t) * 1e3
    subs = sum(len(g.children) for g in grouping.groups)
    return {
        "group_s": group_s,
        "open_ms": open_ms,
        "rss_mb": peak,
        "groups": len(grouping.groups),
        "subgroups": subs,
    }


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _run_probe(flag: str, root: Path, n: int, *more: str) -> dict:
    r = subprocess.run(
        [sys.executable, __file__, flag, str(root), *more], capture_output=True, text=True, check=False
    )
    if r.returncode:
        sys.exit(f"{flag} at n={n} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--dir", default=None, help="where to build (default: a new folder under the temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the libraries and files afterwards")
    ap.add_argument(
        "--noise",
        type=float,
        default=None,
        help="spread of the vectors around their sub-topic (default 1.0; 1.5: harder for the index)",
    )
    ap.add_argument(
        "--hard",
        action="store_true",
        help="the harder distribution (2,000 overlapping clusters, folder-ordered ids in date order, text-like "
        "queries): also measures text recall, filter recall and the first search's GUI stall",
    )
    ap.add_argument("--gui", action="store_true", help="also measure GUI-thread stalls in the real window")
    ap.add_argument(
        "--dim",
        type=int,
        default=None,
        help="vector dimension (default 512, ViT-B/32; 768: the SigLIP 2 models)",
    )
    ap.add_argument(
        "--text-topic",
        type=float,
        default=None,
        help="with --hard: how much of a text-like query is its topic (default 0.35, CLIP-like scores; "
        "0.2: SigLIP-like, its best photo ~0.2)",
    )
    ap.add_argument(
        "--tune-on-photos",
        action="store_true",
        help="record no text vectors: the index is tuned on photo vectors pulled to the model's closeness "
        "(as a library indexed before text vectors were recorded)",
    )
    ap.add_argument("--reuse", action="store_true", help="measure a library kept under --dir, don't build")
    ap.add_argument(
        "--no-words", action="store_true", help="no words read and no GPS (the library as before schema 8)"
    )
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--gui-probe", help=argparse.SUPPRESS)
    ap.add_argument("--hard-probe", help=argparse.SUPPRESS)
    ap.add_argument(
        "--explore",
        action="store_true",
        help="also time Explore's grouping (from the index's lists, and by k-means) and opening its view",
    )
    ap.add_argument("--only-explore", action="store_true", help="build, then time Explore alone")
    ap.add_argument("--explore-probe", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.explore_probe:
        print(json.dumps(explore_probe(Path(args.explore_probe[0]), args.explore_probe[1])))
        return
    global DIM, TEXT_TOPIC, TUNE_ON_PHOTOS
    if args.tune_on_photos:
        TUNE_ON_PHOTOS = True
        os.environ["PF_SCALE_TUNE_ON_PHOTOS"] = "1"
    if args.dim is not None:  # (read at import by the probe processes, from the environment)
        DIM = args.dim
        os.environ["PF_SCALE_DIM"] = str(DIM)
        StubEmbedder.dim, StubEmbedder.model_id = DIM, f"synthetic-{DIM}"
        StubEmbedder.fingerprint = f"sha256:synthetic-{DIM}"
    if args.text_topic is not None:
        TEXT_TOPIC = args.text_topic
        os.environ["PF_SCALE_TEXT_TOPIC"] = str(TEXT_TOPIC)
        StubEmbedder.sigmoid = stub_sigmoid()
    if args.hard:
        global HARD
        HARD = True
        os.environ["PF_SCALE_HARD"] = "1"
        args.gui = True  # the first search's stall is part of its summary
    global TEXT_SHARE, GEO_SHARE
    if args.no_words or os.environ.get("PF_SCALE_NO_WORDS"):
        TEXT_SHARE = GEO_SHARE = 0.0
        os.environ["PF_SCALE_NO_WORDS"] = "1"
    if args.noise is not None:
        global NOISE
        NOISE = args.noise
        os.environ["PF_SCALE_NOISE"] = str(args.noise)
    if args.probe:
        print(json.dumps(probe(Path(args.probe))))
        return
    if args.gui_probe:
        print(json.dumps(gui_probe(Path(args.gui_probe))))
        return
    if args.hard_probe:
        print(json.dumps(hard_probe(Path(args.hard_probe))))
        return
    base = Path(args.dir or tempfile.mkdtemp(prefix="pf-scale-"))
    base.mkdir(parents=True, exist_ok=True)
    last: dict = {}
    for n in (int(x) for x in args.sizes.split(",")):
        root = base / f"n{n}"
        reuse = args.reuse and (root / "data").is_dir()
        if not reuse:
            shutil.rmtree(root, ignore_errors=True)
        try:
            b = {} if reuse else build(root, n)
            m = {} if reuse or args.only_explore else _run_probe("--probe", root, n)
            h = _run_probe("--hard-probe", root, n) if args.hard else {}
            if h:
                print(
                    f"n={n} hard: text recall@10 {h['text_recall@10']:.4f} (worst {h['text_recall_worst']:.1f}; "
                    f"best photo cosine {h['text_top_cosine']:.2f}) p50 {h['text_p50_ms']:.2f} ms p95 "
                    f"{h['text_p95_ms']:.2f} ms with nprobe {h['nprobe']} of {h['nlist']}; RSS {h['rss_mb']:.0f} MB",
                    flush=True,
                )
                for p in h["filters"]:
                    print(
                        f"  filter {p['name']!r}: {p['allowed']} allowed, recall@50 {p['recall@50']:.4f} (worst "
                        f"{p['worst']:.2f}), p50 {p['p50_ms']:.1f} ms",
                        flush=True,
                    )
            g: dict = {}
            if args.explore or args.only_explore:
                for strategy in ("auto", "kmeans"):
                    e = _run_probe("--explore-probe", root, n, strategy)
                    print(
                        f"explore: n={n} group_s={e['group_s']:.1f} open_ms={e['open_ms']:.1f} "
                        f"rss_mb={e['rss_mb']:.0f} ({strategy}: {e['groups']} groups, {e['subgroups']} sub-groups)",
                        flush=True,
                    )
            if args.gui:
                g = _run_probe("--gui-probe", root, n)
                print(
                    f"n={n} gui: open_max_stall_ms={g['open_max_stall_ms']:.0f} "
                    f"search_max_stall_ms={g['search_max_stall_ms']:.0f} "
                    f"index_max_stall_ms={g['index_max_stall_ms']:.0f} "
                    f"watch_start_max_stall_ms={g['watch_max_stall_ms']:.0f} (watcher started and caught up in "
                    f"{g['watch_start_s']:.1f}s) (window built in {g['construct_ms']:.0f} ms; "
                    f"longest stall after it {g['open_max_stall_after_window_ms']:.0f} ms); open: summary "
                    f"{g['open_summary_s']:.2f}s, grid {g['open_grid_s']:.2f}s, filter counts {g['open_facets_s']:.2f}s; "
                    f"search {g['search_s']:.2f}s; index 64 new {g['index_s']:.1f}s; facets read "
                    f"{g['facets_read_ms']:.1f} ms ({g['facets_keys']} keys); stalls > 50 ms at (s, ms): "
                    f"{g['long_gaps']}; index report: {g['index_report']}",
                    flush=True,
                )
                for line in g.get("traces", []):
                    print("  stall:", line, flush=True)
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)
        if reuse or args.only_explore:
            last = {"n": n, **{f"hard_{k}": v for k, v in h.items()}, **{f"gui_{k}": v for k, v in g.items()}}
            continue
        print(
            f"n={n}: build {b['files_s']:.1f}s files + {b['catalog_s']:.1f}s catalog + {b['index_s']:.1f}s index "
            f"({m['index_kind']}); catalog {b['catalog_mb']:.0f} MB, index {b['index_mb']:.0f} MB"
        )
        print(
            f"  open {m['open_s']:.3f}s (summary {m['summary_s']:.3f}s); first search {m['first_search_s']:.2f}s; "
            f"search p50 {m['search_p50_ms']:.2f} ms p95 {m['search_p95_ms']:.2f} ms; end-to-end p50 "
            f"{m['e2e_p50_ms']:.1f} ms; recall@10 {m['recall@10']:.3f}"
        )
        print(
            f"  RSS {m['rss_mb']:.0f} MB (peak {m['peak_mb']:.0f} MB, {m['peak_after_rescan_mb']:.0f} MB after "
            f"the rescan); first search after a commit {m['after_commit_s'] * 1e3:.1f} ms (next "
            f"{m['after_commit_next_s'] * 1e3:.1f} ms); rescan {m['rescan_s']:.2f}s",
            flush=True,
        )
        if "text_first_ms" in m:
            print(
                f"  words ({TEXT_SHARE:.0%} with text) and places ({GEO_SHARE:.0%} geotagged, {m['places']} places): "
                f"text search first {m['text_first_ms']:.1f} ms / again {m['text_again_ms']:.1f} ms "
                f"({m['text_matches']} matches), with a vector {m['text_with_vector_ms']:.1f} ms; place filter first "
                f"{m['place_first_ms']:.1f} ms / again {m['place_again_ms']:.1f} ms ({m['place_matches']} photos), "
                f"with a vector {m['place_with_vector_ms']:.1f} ms; facet counts {m['facets_ms']:.1f} ms",
                flush=True,
            )
        print(
            f"  duplicates: candidates_s={m['dup_candidates_s']:.1f} pairs={m['dup_pairs']} planted "
            f"{m['dup_planted_found']}/{m['dup_planted']} found (peak {m['dup_peak_mb']:.0f} MB)",
            flush=True,
        )
        last = {
            "n": n,
            **b,
            **m,
            **{f"hard_{k}": v for k, v in h.items()},
            **{f"gui_{k}": v for k, v in g.items()},
        }
    if not args.keep and args.dir is None:
        shutil.rmtree(base, ignore_errors=True)
    if not last:
        return
    if "hard_text_recall@10" in last:
        print(
            f"hard: n={last['n']} text_recall@10={last['hard_text_recall@10']:.4f} "
            f"filtered_recall@50={last['hard_filtered_recall@50']:.4f} "
            f"filtered_p50_ms={last['hard_filtered_p50_ms']:.1f} "
            f"first_search_stall_ms={last.get('gui_search_max_stall_ms', float('nan')):.0f} "
            f"watch_start_stall_ms={last.get('gui_watch_max_stall_ms', float('nan')):.0f}"
        )
    if "search_p50_ms" not in last:
        return
    print(
        f"scale: n={last['n']} search_p50_ms={last['search_p50_ms']:.2f} recall@10={last['recall@10']:.3f} "
        f"open_s={last['open_s']:.3f} rescan_s={last['rescan_s']:.2f} rss_mb={last['rss_mb']:.0f}"
    )


if __name__ == "__main__":
    main()
