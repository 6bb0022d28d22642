"""Indexing: plan -> hash and decode on worker threads, a few batches ahead -> encode in batches -> commit.

Each batch is committed to the catalog as soon as it is encoded, so a run killed at any moment loses at most
one batch, and the next run picks up where it stopped. One run at a time holds the library's lock. Content
that is already in the library (a renamed, moved or copied photo; a second copy in the same run) reaches the
model once. A rebuild with another model fills the catalog's staging table beside the live vectors and
switches to it only when it completes: searches keep working meanwhile and a failed rebuild changes nothing.

This module runs a whole run under the lock (a rebuild included); pipeline.py is its pipeline, prepare.py what a
decode thread does with one photo, progress.py what a run reports and how it is stopped.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable

import numpy as np

from photofinder.core.encode.torch_encoder import Embedder
from photofinder.core.ingest.pipeline import index_work
from photofinder.core.ingest.planner import Plan, SkippedFile, plan, plan_paths
from photofinder.core.ingest.prepare import new_run
from photofinder.core.ingest.progress import CancelToken, IndexReport, Progress, ProgressCallback
from photofinder.core.photos.places import release as release_places
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.library import Library
from photofinder.core.store.vector_index import VectorIndex

# CancelToken, IndexReport and Progress live in progress.py; callers have always found them here
__all__ = ["CancelToken", "IndexReport", "Indexer", "Progress", "SkippedFile"]

log = logging.getLogger(__name__)


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
                    vectors = index_work(self, library, catalog, the_plan, report, notify, cancel)
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
