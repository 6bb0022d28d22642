"""Indexing: plan -> hash and decode on worker threads, a few batches ahead -> encode in batches -> commit.

Each batch is committed to the catalog as soon as it is encoded, so a run killed at any moment loses at most
one batch, and the next run picks up where it stopped. One run at a time holds the library's lock. Content
that is already in the library (a renamed, moved or copied photo; a second copy in the same run) reaches the
model once. A rebuild with another model fills the catalog's staging table beside the live vectors and
switches to it only when it completes: searches keep working meanwhile and a failed rebuild changes nothing.

This module runs the pipeline; prepare.py is what a decode thread does with one photo, progress.py what a run
reports and how it is stopped.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from photofinder.core.encode.torch_encoder import Embedder
from photofinder.core.ingest.planner import Plan, SkippedFile, plan, plan_paths
from photofinder.core.ingest.prepare import Prepared, decode_thread_setup, new_run, prepare
from photofinder.core.ingest.progress import CancelToken, IndexReport, Progress, ProgressCallback
from photofinder.core.photos.places import release as release_places
from photofinder.core.photos.scanner import TRANSIENT_REASONS, FileInfo
from photofinder.core.store.catalog import INDEXED, SKIPPED, Catalog, PhotoRecord
from photofinder.core.store.library import Library, check_model
from photofinder.core.store.vector_index import VectorIndex

# CancelToken, IndexReport and Progress live in progress.py; callers have always found them here
__all__ = ["CancelToken", "IndexReport", "Indexer", "Progress", "SkippedFile"]

log = logging.getLogger(__name__)

FIRST_BATCH = 16  # photos in the first model call of a run; later ones double up to the batch size


class Indexer:
    """Brings a library's catalog and vector index up to date with its folders.

    With `rebuild=True`, every photo is encoded again with `embedder` into the staging area, and the library
    switches to the new vectors (and model) only when the whole run completes.
    """

    def __init__(
        self,
        library: Library,
        embedder: Embedder,
        *,
        batch_size: int | None = None,
        decode_threads: int | None = None,
        torch_threads: int | None = None,
        thumbnails: bool = True,
        rebuild: bool = False,
    ):
        self.library = library
        self.embedder = embedder
        self.batch_size = batch_size
        self.decode_threads = decode_threads
        self.torch_threads = torch_threads
        self.thumbnails = thumbnails
        self.rebuild = rebuild

    def effective_batch_size(self) -> int:
        """Images per model call: large on a GPU (it needs the parallelism), modest on a CPU (latency, memory)."""
        return self.batch_size or (128 if self.embedder.device == "cuda" else 32)

    def effective_decode_threads(self) -> int:
        """Decoding threads: a GPU encodes faster than a few cores decode, so then use them all."""
        cores = os.cpu_count() or 2
        return self.decode_threads or (min(16, cores) if self.embedder.device == "cuda" else min(4, cores))

    def run(
        self,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        paths: Iterable[str] | None = None,
    ) -> IndexReport:
        """Index (or rebuild) under the library's lock; LibraryBusyError if another run holds it.

        `paths`: only these files and folders changed (a watcher's events): only they are looked at, unless a
        library folder itself is among them (then, as with None, every folder is scanned).
        """
        started = time.monotonic()
        new_run()
        cancel = cancel or CancelToken()
        notify = progress or (lambda p: None)
        with self.library.lock():
            self.library.clean_leftovers()
            if self.thumbnails and self.library.thumbs_dir.is_dir():
                from photofinder.core.paths import make_private_dir

                try:  # made 0755 by earlier versions: private now, like the rest of the data dir
                    make_private_dir(self.library.thumbs_dir)
                except OSError as e:
                    log.info("could not make %s private: %s", self.library.thumbs_dir, e)
            if self.rebuild:
                report = self._rebuild(notify, cancel)
            else:
                report = self._run(self.library, notify, cancel, paths)
        release_places()
        report.cancelled = cancel.cancelled
        report.seconds = time.monotonic() - started
        finished = report.indexed + report.reused + len(report.skipped)
        notify(Progress("done", finished, finished, 0.0, 0.0, ""))
        log.info(
            "indexed %s in %.1fs: %d new, %d reused, %d unchanged, %d removed, %d skipped",
            self.library.name,
            report.seconds,
            report.indexed,
            report.reused,
            report.unchanged,
            report.removed,
            len(report.skipped),
        )
        return report

    def _rebuild(self, notify: ProgressCallback, cancel: CancelToken) -> IndexReport:
        staging = self.library.staging()
        with staging.open_catalog() as staged:
            # A rebuild cancelled earlier with this same model resumes; one with another model starts over.
            if staged.model_id is not None and staged.model_fingerprint != self.embedder.fingerprint:
                staged.clear_staged()
        self.embedder.spec  # noqa: B018 - loads the model: a missing model fails here, before any work
        report = self._run(staging, notify, cancel)
        if cancel.cancelled:
            return report
        with self.library.open_catalog() as catalog, staging.open_catalog() as staged:
            if staged.model_id is None:  # nothing to encode at all (empty folders): bind the model anyway
                staged.bind_model(self.embedder.model_id, self.embedder.dim, self.embedder.fingerprint)
            index = staging.load_vectors(staged, save=False)
            catalog.finish_rebuild()
            self.library.save_vectors(index, catalog)
            self.library.write_info(catalog)
        staging.index_path.unlink(missing_ok=True)
        report.rebuilt = True
        return report

    def _run(
        self,
        library: Library,
        notify: ProgressCallback,
        cancel: CancelToken,
        paths: Iterable[str] | None = None,
    ) -> IndexReport:
        report = IndexReport()
        with library.open_catalog() as catalog:
            self.library.restore_lost_folders(catalog)
            if not library.staged and catalog.legacy_hashes:  # an upgraded library: whole-file hashes first
                from photofinder.core.ingest.rehash import rehash_legacy

                rehash_legacy(
                    catalog,
                    library.thumbs_dir if self.thumbnails else None,
                    lambda n, total, p: notify(Progress("scanning", n, total, 0.0, None, p)),
                    lambda: cancel.cancelled,
                )
            the_plan = None if paths is None else plan_paths(catalog, paths, lambda: cancel.cancelled)
            scoped = the_plan is not None
            if the_plan is None:
                the_plan = plan(
                    catalog,
                    lambda n, p: notify(Progress("scanning", n, 0, 0.0, None, p)),
                    lambda: cancel.cancelled,
                )
            report.unchanged = the_plan.unchanged
            report.skipped += the_plan.scan_errors
            report.missing_folders += the_plan.missing_folders
            if cancel.cancelled:
                return report
            vectors = None
            try:
                if the_plan.work:
                    vectors = self._index(library, catalog, the_plan, report, notify, cancel)
                if not cancel.cancelled:
                    vectors = self._forget_removed(library, catalog, the_plan, report, vectors)
            finally:
                if vectors is not None:
                    library.save_vectors(vectors, catalog)
            if not cancel.cancelled:
                if vectors is None and not scoped:  # nothing changed: still check the index file (repair it)
                    library.load_vectors(catalog, save=True)
                if not library.staged:
                    catalog.set_meta("last_indexed", str(time.time()))
                    self.library.write_info(catalog)
        return report

    def _forget_removed(
        self,
        library: Library,
        catalog: Catalog,
        the_plan: Plan,
        report: IndexReport,
        vectors: VectorIndex | None,
    ) -> VectorIndex | None:
        """Forget photos that are gone, after the run (their vectors served renamed copies meanwhile)."""
        dropped = [h for h in the_plan.changed.values() if h]
        if the_plan.removed:
            if vectors is None:
                vectors = library.load_vectors(catalog, save=False)
            dropped += catalog.delete(the_plan.removed)
            vectors.remove(np.array(the_plan.removed, np.int64))
            report.removed = len(the_plan.removed)
        if dropped and self.thumbnails:
            library.drop_thumbnails(catalog, dropped)
        return vectors

    # -- the pipeline --------------------------------------------------------------------------------------
    def _index(
        self,
        library: Library,
        catalog: Catalog,
        the_plan: Plan,
        report: IndexReport,
        notify: ProgressCallback,
        cancel: CancelToken,
    ) -> VectorIndex:
        if self.torch_threads and "torch" in sys.modules:  # the torch runtime (ONNX Runtime sets its own)
            sys.modules["torch"].set_num_threads(self.torch_threads)
        check_model(catalog, self.embedder, self.library.name)
        spec = self.embedder.spec  # loads the model: a missing model fails here, before any work
        if catalog.model_id is None:
            catalog.bind_model(
                self.embedder.model_id, self.embedder.dim, getattr(self.embedder, "fingerprint", None)
            )
            if not library.staged:
                self.library.write_info(catalog)  # the model is on record before the first vector
        vectors = library.load_vectors(catalog, save=False)
        batch_size = self.effective_batch_size()
        threads = self.effective_decode_threads()
        known_hashes = catalog.indexed_hashes()
        legacy = catalog.legacy_hashes
        thumbs = library.thumbs_dir if self.thumbnails else None
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
                vecs = self.embedder.encode_pixels(np.stack(pixels))
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
            initargs=(self.embedder.device == "cpu",),
        ) as pool:
            pending: deque[Future[Prepared]] = deque()
            ahead = (
                batch_size * 3
            )  # decode up to three batches ahead of the model, no more (memory stays flat)
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
                            pending.appendleft(submit(_info_of(twin), claim=False))
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
                            pending.extend(submit(_info_of(t), claim=False) for t in twins)
                        waiting.clear()
                if not cancel.cancelled:
                    flush(encode=True)
            finally:
                for f in pending:
                    f.cancel()
                flush(encode=False)  # what is already decided (skips, reuses) is kept even on cancel or error
        return vectors


def _info_of(record: PhotoRecord) -> FileInfo:
    return FileInfo(record.path, record.folder, record.size, record.mtime_ns)
