"""The second pass after indexing: the words in photos (OCR) and the places they were taken (GPS).

OCR costs ten times what CLIP does, so in the default mode ('auto') a gate decides which photos are read:
the OCR's text detector alone takes a quick look and must find a line-shaped box. How closely it looks is
the library's own embedding's call, zero-shot: a photo nearer one of TEXT_PROMPTS (a document, a screenshot,
a sign, a receipt, a label...) than any of the 250 everyday scenes of encode.captions.CALIBRATION_CAPTIONS is looked at
at 640 px (small words seen), any other at 320 px. Measured (bench/words.py, docs/words-and-places.md): the
embedding alone as the gate let through as many plain photos as text ones with the tiny test CLIP, where
the detector alone read 97 % of the text photos and 0 % of the plain ones; so the embedding never decides
alone, and a wrong guess of it costs a closer look, not a read. 'all' reads every photo, 'off' none.

The pass is resumable (each photo's verdict is stored as it goes: `ocr` and `geo` in the catalog, words.py),
cancellable between photos, and takes no lock: it only writes a photo's words and place, and a write for a
photo whose content changed meanwhile is dropped (Catalog.save_words). Searches work while it runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from photofinder.core.encode.captions import CALIBRATION_CAPTIONS
from photofinder.core.ingest.indexer import CancelToken, Progress
from photofinder.core.ingest.ocr import GATE_SIDE_CLOSER, TextReader
from photofinder.core.photos.decode import UnreadableImage, decode
from photofinder.core.photos.places import gps_of, place_of
from photofinder.core.photos.places import release as release_places
from photofinder.core.store.catalog import Catalog, WordsDone, WordsTodo
from photofinder.core.store.library import Library
from photofinder.core.store.words import GATED_OUT, READ

log = logging.getLogger(__name__)

OCR_MODES = ("auto", "all", "off")
PHASE = "reading words"
BATCH = 8  # photos per transaction
TEXT_PROMPTS = [
    "a photo of text",
    "a document",
    "a scanned page",
    "a screenshot",
    "a screenshot of a phone",
    "a sign with words on it",
    "a street sign",
    "a shop sign",
    "a receipt",
    "a label with printed text",
    "a page of a book",
    "a poster with words",
    "a restaurant menu",
    "a whiteboard with writing",
    "a handwritten note",
    "a ticket",
]


@dataclass
class WordsReport:
    looked_at: int = 0  # photos the pass handled
    read: int = 0  # photos the OCR read
    with_text: int = 0  # of those, photos in which it found words
    gated_out: int = 0  # photos the gate passed over
    placed: int = 0  # photos given a place from their GPS
    failed: int = 0  # photos that could not be opened (left for the next pass)
    cancelled: bool = False
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {
            "looked_at": self.looked_at,
            "read": self.read,
            "with_text": self.with_text,
            "gated_out": self.gated_out,
            "placed": self.placed,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "seconds": round(self.seconds, 2),
        }


class ClipGate:
    """The embedding's half of the gate: is a photo nearer a picture of text than any everyday scene?"""

    def __init__(self, embedder):
        texts = embedder.encode_text(TEXT_PROMPTS)
        scenes = embedder.encode_text(CALIBRATION_CAPTIONS)
        self._text = np.asarray(texts, np.float32)
        self._scenes = np.asarray(scenes, np.float32)

    def says_text(self, embedding: np.ndarray) -> bool:
        v = np.asarray(embedding, np.float32)
        return float((self._text @ v).max()) > float((self._scenes @ v).max())


class WordsPass:
    """Reads words and places for a library's photos that have not had them yet (see the module's note)."""

    def __init__(self, library: Library, embedder=None, mode: str = "auto", reader: TextReader | None = None):
        if mode not in OCR_MODES:
            raise ValueError(f"OCR mode must be one of {', '.join(OCR_MODES)}")
        self.library = library
        self.embedder = embedder
        self.mode = mode
        self.reader = reader
        self._gate: ClipGate | None = None

    def run(
        self, progress: Callable[[Progress], None] | None = None, cancel: CancelToken | None = None
    ) -> WordsReport:
        started = time.monotonic()
        cancel = cancel or CancelToken()
        notify = progress or (lambda p: None)
        report = WordsReport()
        ocr, gated = self.mode != "off", self.mode == "all"
        with self.library.open_catalog() as catalog:
            if self.library.staged or catalog.model_id is None:
                return report
            total = catalog.words_todo_count(ocr=ocr, gated=gated)
            after = -1
            while not cancel.cancelled:
                todo = catalog.words_todo(after, BATCH, ocr=ocr, gated=gated)
                if not todo:
                    break
                done = []
                for photo in todo:
                    if cancel.cancelled:
                        break
                    done.append(self._look(photo, catalog, report))
                    after = photo.id
                    report.looked_at += 1
                    elapsed = time.monotonic() - started
                    rate = report.looked_at / elapsed if elapsed > 0 else 0.0
                    eta = (total - report.looked_at) / rate if rate > 0 else None
                    notify(Progress(PHASE, min(report.looked_at, total), total, rate, eta, photo.path))
                catalog.save_words([d for d in done if d is not None])
        release_places()
        report.cancelled = cancel.cancelled
        report.seconds = time.monotonic() - started
        notify(Progress("done", report.looked_at, report.looked_at, 0.0, 0.0, ""))
        log.info(
            "words pass of %s in %.1fs: %d read (%d with words), %d passed over, %d placed",
            self.library.name,
            report.seconds,
            report.read,
            report.with_text,
            report.gated_out,
            report.placed,
        )
        return report

    def _look(self, photo: WordsTodo, catalog: Catalog, report: WordsReport) -> WordsDone | None:
        out = WordsDone(photo.id, photo.hash)
        if photo.geo is None:
            gps = _read_gps(photo.path)
            out.geo = 0 if gps is None else 1
            if gps is not None:
                out.lat, out.lon = gps
                place = place_of(*gps)
                out.place = place.key if place else None
                report.placed += place is not None
        wants_ocr = (self.mode == "all" and photo.ocr != READ) or (self.mode == "auto" and photo.ocr is None)
        if not wants_ocr or photo.hash is None:
            return out
        try:
            if self.mode == "auto" and not self._gate_says_text(photo):
                out.ocr = GATED_OUT
                report.gated_out += 1
                return out
            image = decode(photo.path, READ_SIDE_DECODE).image
        except UnreadableImage as e:  # gone or changed since indexing: the next index run sorts it out
            log.debug("words pass: %s: %s", photo.path, e)
            report.failed += 1
            return out if out.geo is not None else None
        lines = self._reader().read(image)
        out.ocr = READ
        out.text = "\n".join(line.text for line in lines)
        out.boxes = json.dumps([[*line.box, line.text] for line in lines], ensure_ascii=False)
        report.read += 1
        report.with_text += bool(lines)
        return out

    def _reader(self) -> TextReader:
        if self.reader is None:
            self.reader = TextReader()
        return self.reader

    def gate(self, photo: WordsTodo) -> bool:
        """Whether the gate would have the OCR read this photo (bench/indexing.py measures it)."""
        return self._gate_says_text(photo)

    def _gate_says_text(self, photo: WordsTodo) -> bool:
        """The detector decides; the embedding decides how closely it looks (see the module's note)."""
        closer = False
        if self.embedder is not None and photo.embedding is not None:
            if self._gate is None:
                self._gate = ClipGate(self.embedder)
            closer = self._gate.says_text(photo.embedding)
        if closer:
            image = decode(photo.path, GATE_SIDE_CLOSER * 3 // 4).image
            return self._reader().has_text(image, GATE_SIDE_CLOSER)
        return self._reader().has_text(decode(photo.path, GATE_SIDE_DECODE).image)


READ_SIDE_DECODE = 960  # decode's shorter side for reading (JPEG DCT scaling keeps it at least this)
GATE_SIDE_DECODE = 240


def _read_gps(path: str) -> tuple[float, float] | None:
    """A photo's GPS from its EXIF (JPEG, HEIC, TIFF-based RAW), without decoding its pixels."""
    from photofinder.core.photos.scanner import open_photo

    try:
        fd = open_photo(path)
    except OSError:
        return None
    try:
        import os

        with os.fdopen(fd, "rb") as f, Image.open(f) as im:
            return gps_of(im.getexif())
    except Exception:  # noqa: BLE001 - an unreadable header has no GPS to give; the photo stays as it is
        return None
