"""The pipeline of one indexing run: files prepared on decode threads a few batches ahead (prepare.py), the new
pictures encoded in batches, and each batch committed to the catalog and the vector index as it is done.

Content already stored (a renamed, moved or copied photo) takes its stored vector; a second file of this run
with the same content waits for the first one's vector. One bad file is skipped with its reason.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import numpy as np

from photofinder.core.encode.models import text_closeness, text_probes
from photofinder.core.encode.torch_encoder import Embedder
from photofinder.core.ingest.planner import Plan, SkippedFile
from photofinder.core.ingest.prepare import Prepared, decode_thread_setup, prepare
from photofinder.core.ingest.progress import CancelToken, IndexReport, Progress, ProgressCallback
from photofinder.core.photos.scanner import TRANSIENT_REASONS, FileInfo
from photofinder.core.store.catalog import INDEXED, SKIPPED, Catalog, PhotoRecord
from photofinder.core.store.library import Library, check_model
from photofinder.core.store.vector_index import VectorIndex

FIRST_BATCH = 16  # photos in the first model call of a run; later ones double up to the batch size


class RunSettings(Protocol):
    """What the pipeline reads of its Indexer (indexer.py)."""

    library: Library  # the live library (a rebuild writes to its staging area, `library` below)
    embedder: Embedder
    torch_threads: int | None
    thumbnails: bool

    def effective_batch_size(self) -> int: ...

    def effective_decode_threads(self) -> int: ...


def index_work(
    indexer: RunSettings,
    library: Library,
    catalog: Catalog,
    the_plan: Plan,
    report: IndexReport,
    notify: ProgressCallback,
    cancel: CancelToken,
) -> VectorIndex:
    """Index the plan's work into `library` (the live one or its staging area); returns the vector index."""
    if indexer.torch_threads and "torch" in sys.modules:  # the torch runtime (ONNX Runtime sets its own)
        sys.modules["torch"].set_num_threads(indexer.torch_threads)
    check_model(catalog, indexer.embedder, indexer.library.name)
    spec = indexer.embedder.spec  # loads the model: a missing model fails here, before any work
    if catalog.model_id is None:
        catalog.bind_model(
            indexer.embedder.model_id, indexer.embedder.dim, getattr(indexer.embedder, "fingerprint", None)
        )
        if not library.staged:
            indexer.library.write_info(catalog)  # the model is on record before the first vector
    if catalog.text_cosine is None:  # what the vector index is tuned for (a library from before: from now on)
        catalog.record_text_cosine(text_closeness(indexer.embedder))
    if (
        catalog.text_queries is None
    ):  # and tuned on: the model's own text vectors (a hundred, ~0.1 s on a CPU)
        probes = text_probes(indexer.embedder)
        if probes is not None:
            catalog.record_text_queries(probes)
    vectors = library.load_vectors(catalog, save=False)
    batch_size = indexer.effective_batch_size()
    threads = indexer.effective_decode_threads()
    known_hashes = catalog.indexed_hashes()
    legacy = catalog.legacy_hashes
    thumbs = library.thumbs_dir if indexer.thumbnails else None
    changed = the_plan.changed
    claims: dict[str, str] = {}  # content hash -> the file of this run that is decoded for it
    claims_lock = threading.Lock()

    work = the_plan.work
    total, done, started = len(work), 0, time.monotonic()
    records: list[PhotoRecord] = []
    pixels: list[np.ndarray] = []
    pixel_records: list[PhotoRecord] = []
    waiting: dict[str, list[PhotoRecord]] = {}  # followers, by the hash whose vector they wait for

    def flush(encode: bool) -> None:
        nonlocal records, pixels, pixel_records, vectors
        if encode and pixels:
            vecs = indexer.embedder.encode_pixels(np.stack(pixels))
            for r, v in zip(pixel_records, vecs):
                r.embedding = v
                for twin in waiting.pop(r.hash or "", []):
                    twin.embedding, twin.width, twin.height, twin.taken = v, r.width, r.height, r.taken
                    twin.lat, twin.lon, twin.place, twin.geo = r.lat, r.lon, r.place, r.geo
                    records.append(twin)
                    report.reused += 1
            records += pixel_records
            report.indexed += len(pixel_records)
        if records:
            ids = catalog.upsert(records)
            # Only a changed file can already have a vector (ids are kept on update); removing from a flat
            # index scans all of it, so new photos, nearly all of them, skip that.
            vectors.remove(np.array([ids[r.path] for r in records if r.path in changed], np.int64))
            ok = [r for r in records if r.status == INDEXED]
            if ok:
                vectors.add(
                    np.array([ids[r.path] for r in ok], np.int64), np.stack([r.embedding for r in ok])
                )
                vectors = library.outgrown(vectors, catalog)  # past its size: retrained and saved
        records, pixels, pixel_records = [], [], []

    def submit(info: FileInfo, claim: bool = True, reuse: bool = True) -> Future[Prepared]:
        return pool.submit(
            prepare,
            info,
            spec,
            known_hashes if reuse else (),
            thumbs,
            claims if claim else None,
            claims_lock,
            legacy and info.path not in changed,
        )

    with ThreadPoolExecutor(
        threads,
        thread_name_prefix="decode",
        initializer=decode_thread_setup,
        initargs=(indexer.embedder.device == "cpu",),
    ) as pool:
        pending: deque[Future[Prepared]] = deque()
        ahead = batch_size * 3  # decode up to three batches ahead of the model, no more (memory stays flat)
        it = iter(work)
        try:
            while True:
                while len(pending) < ahead and not cancel.cancelled:
                    info = next(it, None)
                    if info is None:
                        break
                    pending.append(submit(info))
                if not pending or cancel.cancelled:
                    break
                p = pending.popleft().result()
                record = PhotoRecord(
                    p.info.path,
                    p.info.folder,
                    p.info.size,
                    p.info.mtime_ns,
                    p.hash,
                    INDEXED,
                    p.width,
                    p.height,
                    p.taken,
                    lat=p.lat,
                    lon=p.lon,
                    place=p.place,
                    geo=p.geo,
                )
                if p.reason is not None:
                    record.status, record.reason = SKIPPED, p.reason
                    record.retry = p.reason in TRANSIENT_REASONS
                    report.skipped.append(SkippedFile(p.info.path, p.reason))
                    records.append(record)
                    # Files that waited for this one's vector decode for themselves.
                    for twin in waiting.pop(p.hash or "", []):
                        pending.appendleft(submit(info_of(twin), claim=False))
                elif p.reuse or p.follow:
                    stored = catalog.find_by_hash(p.hash or "") or (
                        catalog.find_by_hash(p.legacy) if p.legacy else None
                    )
                    if stored is not None:
                        record.embedding = stored.embedding
                        record.width, record.height, record.taken = (
                            stored.width,
                            stored.height,
                            stored.taken,
                        )
                        record.lat, record.lon, record.place, record.geo = (
                            stored.lat,
                            stored.lon,
                            stored.place,
                            stored.geo,
                        )
                        report.reused += 1
                        records.append(record)
                    elif p.follow:  # its twin is still on its way to the model
                        waiting.setdefault(p.hash or "", []).append(record)
                    else:  # the stored twin vanished between planning and now: decode it (looking
                        # it up again would find the same hash "known" and loop)
                        pending.appendleft(submit(p.info, claim=False, reuse=False))
                        continue
                else:
                    pixels.append(p.pixels)
                    pixel_records.append(record)
                done += 1
                # Batches start at 16 and double up to batch_size: the model starts after a few photos instead
                # of idling while a whole GPU batch decodes, and on a CPU no batch is so small that it runs
                # slower per photo (4 photos cost 20-30 % more each than 16; 16 as little as 32).
                if (
                    len(pixels) >= min(batch_size, max(FIRST_BATCH, report.indexed))
                    or len(records) >= 4 * batch_size
                ):
                    flush(encode=True)
                elapsed = time.monotonic() - started
                rate = done / elapsed if elapsed > 0 else 0.0
                eta = (total - done) / rate if rate > 0 else None
                notify(Progress("indexing", done, total, rate, eta, p.info.path))
                if not pending and waiting and not cancel.cancelled:
                    flush(encode=True)  # the last twins wait for the batch in hand
                    for twins in waiting.values():  # their twin failed to decode after all
                        pending.extend(submit(info_of(t), claim=False) for t in twins)
                    waiting.clear()
            if not cancel.cancelled:
                flush(encode=True)
        finally:
            for f in pending:
                f.cancel()
            flush(encode=False)  # what is already decided (skips, reuses) is kept even on cancel or error
    return vectors


def info_of(record: PhotoRecord) -> FileInfo:
    return FileInfo(record.path, record.folder, record.size, record.mtime_ns)
