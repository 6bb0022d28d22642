"""Indexing: scan -> hash and decode on worker threads, a few batches ahead -> encode in batches -> commit.

Each batch is committed to the catalog as soon as it is encoded, so a run killed at any moment loses at most
one batch, and the next run picks up where it stopped.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .catalog import INDEXED, SKIPPED, Catalog, PhotoRecord
from .decode import UnreadableImage, decode
from .embedder import Embedder
from .library import Library, check_model
from .preprocess import PreprocessSpec, to_pixels
from .scanner import FileInfo, content_hash, scan
from .thumbnails import THUMB_MIN, thumb_path, write_thumbnail

log = logging.getLogger(__name__)

FIRST_BATCH = 16  # photos in the first model call of a run; later ones double up to the batch size


class CancelToken:
    """Set from any thread; the indexer stops at the next photo."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True)
class Progress:
    phase: str  # "scanning", "indexing" or "done"
    done: int
    total: int
    rate: float  # photos per second
    eta: float | None  # seconds
    current: str  # the photo last finished


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class IndexReport:
    indexed: int = 0  # encoded by the model this run
    reused: int = 0  # renamed, copied or touched files whose stored vector was reused
    unchanged: int = 0
    removed: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    missing_folders: list[SkippedFile] = field(default_factory=list)
    cancelled: bool = False
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {
            "indexed": self.indexed + self.reused,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "reused": self.reused,
            "missing_folders": [{"path": s.path, "reason": s.reason} for s in self.missing_folders],
            "cancelled": self.cancelled,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class _Prepared:
    info: FileInfo
    hash: str | None = None
    pixels: np.ndarray | None = None
    width: int | None = None
    height: int | None = None
    taken: str | None = None
    reason: str | None = None  # set when the file is skipped
    reuse: bool = False


ProgressCallback = Callable[[Progress], None]


class Indexer:
    """Brings a library's catalog and vector index up to date with its folders."""

    def __init__(self, library: Library, embedder: Embedder, *, batch_size: int | None = None,
                 decode_threads: int | None = None, torch_threads: int | None = None, thumbnails: bool = True):
        self.library = library
        self.embedder = embedder
        self.batch_size = batch_size
        self.decode_threads = decode_threads
        self.torch_threads = torch_threads
        self.thumbnails = thumbnails

    def effective_batch_size(self) -> int:
        """Images per model call: large on a GPU (it needs the parallelism), modest on a CPU (latency, memory)."""
        return self.batch_size or (128 if self.embedder.device == "cuda" else 32)

    def effective_decode_threads(self) -> int:
        """Decoding threads: a GPU encodes faster than a few cores decode, so then use them all."""
        cores = os.cpu_count() or 2
        return self.decode_threads or (min(16, cores) if self.embedder.device == "cuda" else min(4, cores))

    def run(self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> IndexReport:
        started = time.monotonic()
        cancel = cancel or CancelToken()
        report = IndexReport()
        notify = progress or (lambda p: None)
        with self.library.open_catalog() as catalog:
            work, changed = self._plan(catalog, report, notify, cancel)
            if work and not cancel.cancelled:
                self._index(catalog, work, changed, report, notify, cancel)
            if not cancel.cancelled:
                catalog.set_meta("last_indexed", str(time.time()))
        report.cancelled = cancel.cancelled
        report.seconds = time.monotonic() - started
        notify(Progress("done", report.indexed + report.reused + len(report.skipped),
                        report.indexed + report.reused + len(report.skipped), 0.0, 0.0, ""))
        log.info("indexed %s in %.1fs: %d new, %d reused, %d unchanged, %d removed, %d skipped",
                 self.library.name, report.seconds, report.indexed, report.reused, report.unchanged,
                 report.removed, len(report.skipped))
        return report

    # -- planning ------------------------------------------------------------------------------------------
    def _plan(self, catalog: Catalog, report: IndexReport, notify: ProgressCallback,
              cancel: CancelToken) -> tuple[list[FileInfo], set[str]]:
        """Scan every folder; forget deleted files; return the new and changed ones (and which were changed)."""
        work: list[FileInfo] = []
        removed: list[int] = []
        changed: set[str] = set()
        for folder in catalog.folders():
            if not os.path.isdir(folder) or not os.access(folder, os.R_OK | os.X_OK):
                # An unplugged drive is not a deletion: keep its photos until it comes back.
                reason = "not found" if not os.path.exists(folder) else "can't be read"
                report.missing_folders.append(SkippedFile(folder, reason))
                continue
            known = catalog.known_files(folder)
            errors: list[SkippedFile] = []
            found = set()
            on_error = lambda p, r, errors=errors: errors.append(SkippedFile(p, r))  # noqa: E731
            for info in scan(folder, on_error, lambda: cancel.cancelled):
                found.add(info.path)
                k = known.get(info.path)
                if k is not None and k.size == info.size and k.mtime_ns == info.mtime_ns:
                    report.unchanged += 1
                else:
                    work.append(info)
                    if k is not None:
                        changed.add(info.path)
                if len(found) % 500 == 0:
                    notify(Progress("scanning", len(found), 0, 0.0, None, info.path))
            if cancel.cancelled:
                return [], set()
            report.skipped.extend(errors)
            unreadable = {e.path for e in errors}
            # Files under an unreadable subfolder are not known to be gone: keep them.
            removed += [k.id for p, k in known.items() if p not in found
                        and not any(p.startswith(u + os.sep) for u in unreadable)]
        if removed:
            # Take the index while it still matches the catalog (a file read), then drop the same ids from both:
            # no rebuild from every stored vector just because a few photos were deleted.
            index = self.library.load_vectors(catalog, save=False) if catalog.dim is not None else None
            report.removed = catalog.delete(removed)
            if index is not None:
                index.remove(np.array(removed, np.int64))
                self.library.save_vectors(index, catalog.generation)
        return work, changed

    # -- the pipeline --------------------------------------------------------------------------------------
    def _index(self, catalog: Catalog, work: list[FileInfo], changed: set[str], report: IndexReport,
               notify: ProgressCallback, cancel: CancelToken) -> None:
        import torch

        if self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        check_model(catalog, self.embedder.model_id, self.library.name)
        spec = self.embedder.spec  # loads the model: a missing model fails here, before any work
        if catalog.model_id is None:
            catalog.bind_model(self.embedder.model_id, self.embedder.dim)
        vectors = self.library.load_vectors(catalog, save=False)
        batch_size = self.effective_batch_size()
        threads = self.effective_decode_threads()
        known_hashes = catalog.indexed_hashes()
        thumbs = self.library.thumbs_dir if self.thumbnails else None

        total, done, started = len(work), 0, time.monotonic()
        records: list[PhotoRecord] = []
        pixels: list[np.ndarray] = []
        pixel_records: list[PhotoRecord] = []

        def flush(encode: bool) -> None:
            nonlocal records, pixels, pixel_records
            if encode and pixels:
                vecs = self.embedder.encode_pixels(np.stack(pixels))
                for r, v in zip(pixel_records, vecs):
                    r.embedding = v
                records += pixel_records
                report.indexed += len(pixel_records)
            if records:
                ids = catalog.upsert(records)
                # Only a changed file can already have a vector (ids are kept on update); removing from a flat
                # index scans all of it, so new photos, nearly all of them, skip that.
                vectors.remove(np.array([ids[r.path] for r in records if r.path in changed], np.int64))
                ok = [r for r in records if r.status == INDEXED]
                if ok:
                    vectors.add(np.array([ids[r.path] for r in ok], np.int64), np.stack([r.embedding for r in ok]))
            records, pixels, pixel_records = [], [], []

        # On a CPU the model and the decoders share the cores. Decoders in the idle scheduling class run in the
        # cycles the model leaves (OpenMP barriers, Python between batches) and, when the model waits for
        # photos, on every core; they never preempt a model thread mid-step, which stalls its partner thread.
        # Measured on 2 cores: indexer/model 0.84-0.86 -> 0.89-0.91 (bench/indexing.py). On a GPU the
        # decoders are the bottleneck and keep normal priority.
        idle = self.embedder.device == "cpu"
        with ThreadPoolExecutor(threads, thread_name_prefix="decode", initializer=_decode_thread_setup,
                                initargs=(idle,)) as pool:
            pending: deque[Future[_Prepared]] = deque()
            ahead = batch_size * 3  # decode up to three batches ahead of the model, no more (memory stays flat)
            it = iter(work)
            try:
                while True:
                    while len(pending) < ahead and not cancel.cancelled:
                        info = next(it, None)
                        if info is None:
                            break
                        pending.append(pool.submit(_prepare, info, spec, known_hashes, thumbs))
                    if not pending or cancel.cancelled:
                        break
                    p = pending.popleft().result()
                    record = PhotoRecord(p.info.path, p.info.folder, p.info.size, p.info.mtime_ns, p.hash,
                                         INDEXED, p.width, p.height, p.taken)
                    if p.reason is not None:
                        record.status, record.reason = SKIPPED, p.reason
                        report.skipped.append(SkippedFile(p.info.path, p.reason))
                        records.append(record)
                    elif p.reuse and (stored := catalog.find_by_hash(p.hash or "", p.info.size)) is not None:
                        record.embedding = stored.embedding
                        record.width, record.height, record.taken = stored.width, stored.height, stored.taken
                        report.reused += 1
                        records.append(record)
                    elif p.pixels is None:  # the stored twin vanished between planning and now: decode it
                        pending.appendleft(pool.submit(_prepare, p.info, spec, {}, thumbs))
                        continue
                    else:
                        pixels.append(p.pixels)
                        pixel_records.append(record)
                    done += 1
                    # Batches start at 16 and double up to batch_size: the model starts after a few photos instead
                    # of idling while a whole GPU batch decodes, and on a CPU no batch is so small that it runs
                    # slower per photo (4 photos cost 20-30 % more each than 16; 16 as little as 32).
                    if len(pixels) >= min(batch_size, max(FIRST_BATCH, report.indexed)) or len(records) >= 4 * batch_size:
                        flush(encode=True)
                    elapsed = time.monotonic() - started
                    rate = done / elapsed if elapsed > 0 else 0.0
                    eta = (total - done) / rate if rate > 0 else None
                    notify(Progress("indexing", done, total, rate, eta, p.info.path))
                if not cancel.cancelled:
                    flush(encode=True)
            finally:
                for f in pending:
                    f.cancel()
                flush(encode=False)  # what is already decided (skips, reuses) is kept even on cancel or error
                self.library.save_vectors(vectors, catalog.generation)


def _decode_thread_setup(idle: bool) -> None:
    if idle and hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
        except OSError as e:  # a sandbox may forbid it: then decoders simply share the CPU as equals
            log.debug("decode threads keep normal scheduling: %s", e)


def _prepare(info: FileInfo, spec: PreprocessSpec, known_hashes: dict[str, int],
             thumbs_dir: os.PathLike[str] | None) -> _Prepared:
    """Worker thread: hash; then reuse a stored vector, or decode small, make the thumbnail, preprocess."""
    p = _Prepared(info)
    try:
        p.hash = content_hash(info.path, info.size)
    except OSError as e:
        p.reason = "permission denied" if isinstance(e, PermissionError) else "file vanished" \
            if isinstance(e, FileNotFoundError) else f"unreadable: {e.strerror or e}"
        return p
    if known_hashes.get(p.hash) == info.size:
        p.reuse = True
        return p
    try:
        d = decode(info.path, max(spec.decode_side, THUMB_MIN) if thumbs_dir is not None else spec.decode_side)
    except UnreadableImage as e:
        p.reason = str(e)
        return p
    p.width, p.height, p.taken = d.width, d.height, d.taken
    p.pixels = to_pixels(d.image, spec)
    if thumbs_dir is not None:
        # The grid thumbnail comes from this same small decode: the app never decodes this photo again just to
        # show it.
        path = thumb_path(thumbs_dir, p.hash)  # type: ignore[arg-type]
        if not path.exists():
            try:
                write_thumbnail(d.image, path)
            except OSError as e:  # a full disk costs thumbnails, not the index
                log.warning("could not write thumbnail %s: %s", path, e)
    return p
