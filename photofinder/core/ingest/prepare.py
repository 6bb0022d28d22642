"""One photo on a decode thread: hash it, then reuse a stored vector or decode it small, write its grid
thumbnail and preprocess it for the model. A file that can't be read comes back with the reason it is skipped,
never as an exception: one bad file never stops a run."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Container
from dataclasses import dataclass

import numpy as np

from photofinder.core.encode.preprocess import PreprocessSpec, to_pixels
from photofinder.core.errors import first_line
from photofinder.core.photos.decode import UnreadableImage, decode
from photofinder.core.photos.places import place_of
from photofinder.core.photos.scanner import FileInfo, content_hash, legacy_hash, os_reason
from photofinder.core.photos.thumbnails import THUMB_MIN, thumb_path, write_thumbnail

log = logging.getLogger(__name__)

_THUMB_WARNED = threading.Event()  # a full disk is reported once a run, not once a photo


def new_run() -> None:
    """A run starts: a thumbnail that can't be written is reported again."""
    _THUMB_WARNED.clear()


@dataclass
class Prepared:
    info: FileInfo
    hash: str | None = None
    legacy: str | None = None  # the schema-1 fingerprint, where the catalog still has such rows
    pixels: np.ndarray | None = None
    width: int | None = None
    height: int | None = None
    taken: str | None = None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None
    geo: int | None = None
    reason: str | None = None  # set when the file is skipped
    reuse: bool = False  # the content is in the catalog already
    follow: bool = False  # another file of this run has the same content and is being decoded


def decode_thread_setup(on_cpu: bool) -> None:
    """Decoders on a CPU run in the batch scheduling class.

    SCHED_BATCH threads never preempt a running thread on wakeup, so a decoder does not stall a model thread
    mid-step (and its partner waiting at the barrier), yet they keep their full share of the CPU. The idle class
    used before starved them behind any other busy process: with a compile running beside it (load 12) the
    indexer fell from 20.8 to 1.1 photos/s.
    """
    if on_cpu and hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_BATCH"):
        try:
            os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        except OSError as e:  # a sandbox may forbid it: then decoders simply share the CPU as equals
            log.debug("decode threads keep normal scheduling: %s", e)


def prepare(
    info: FileInfo,
    spec: PreprocessSpec,
    known_hashes: Container[str],
    thumbs_dir: os.PathLike[str] | None,
    claims: dict[str, str] | None,
    claims_lock: threading.Lock,
    legacy: bool,
) -> Prepared:
    """Worker thread: hash; then reuse a stored vector, or decode small, make the thumbnail, preprocess."""
    p = Prepared(info)
    try:
        p.hash = content_hash(info.path)
        if legacy:
            p.legacy = legacy_hash(info.path, info.size)
        st = os.stat(info.path)
        if (st.st_size, st.st_mtime_ns) != (info.size, info.mtime_ns):
            p.reason = "changed while reading"  # still being copied or saved: next run takes it whole
            return p
    except OSError as e:
        p.reason = os_reason(e)
        return p
    if p.hash in known_hashes or (p.legacy is not None and p.legacy in known_hashes):
        p.reuse = True
        return p
    if claims is not None:
        with claims_lock:
            if claims.setdefault(p.hash, info.path) != info.path:
                p.follow = True  # an identical file of this run is decoded instead
                return p
    try:
        d = decode(
            info.path, max(spec.decode_side, THUMB_MIN) if thumbs_dir is not None else spec.decode_side
        )
        p.pixels = to_pixels(d.image, spec)
    except UnreadableImage as e:
        p.reason = str(e)
        return p
    except Exception as e:  # noqa: BLE001 - no decoder's failure stops the run: this photo is skipped
        log.warning("could not read %s: %r", info.path, e)
        p.reason = f"unreadable: {type(e).__name__}: {first_line(e)}"[:200]
        return p
    p.width, p.height, p.taken = d.width, d.height, d.taken
    p.geo = 0 if d.gps is None else 1
    if d.gps is not None:
        p.lat, p.lon = d.gps
        place = place_of(*d.gps)
        p.place = place.key if place else None
    if thumbs_dir is not None:
        # The grid thumbnail comes from this same small decode: the app never decodes this photo again just to
        # show it.
        path = thumb_path(thumbs_dir, p.hash)  # type: ignore[arg-type]
        if not path.exists():
            try:
                write_thumbnail(d.image, path)
            except OSError as e:  # a full disk costs thumbnails (the grid makes them again), not the index
                if not _THUMB_WARNED.is_set():
                    _THUMB_WARNED.set()
                    log.info("could not write thumbnails to %s: %s", thumbs_dir, e.strerror or e)
    return p
