"""Search a library: by text, by an image, or by a photo already in it ("find similar")."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .decode import decode
from .embedder import Embedder
from .library import Library, check_model
from .preprocess import to_pixels
from .vectors import VectorIndex

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchResult:
    id: int
    path: str
    score: float | None  # None when browsing (no query to match)
    hash: str | None = None


class Searcher:
    """Queries one library. Opens its own catalog connection: use it from one thread."""

    def __init__(self, library: Library, embedder: Embedder):
        self.library = library
        self.embedder = embedder
        self._catalog = library.open_catalog()
        self._vectors: VectorIndex | None = None
        self._loading: Future[VectorIndex] | None = None

    def preload(self) -> None:
        """Start reading the vector index on a thread of its own, so the first search need not wait for it.

        The CLI calls it before the model loads (the two overlap: a million-photo index costs about a second to
        read and check); an app can call it when a library is opened.
        """
        if self._vectors is not None or self._loading is not None:
            return
        future: Future[VectorIndex] = Future()

        def load() -> None:
            try:
                with self.library.open_catalog() as catalog:  # a connection of this thread's own
                    future.set_result(self.library.load_vectors(catalog, save=False))
            except BaseException as e:  # noqa: BLE001 - handed to the search that waits for it
                future.set_exception(e)

        threading.Thread(target=load, name="index-preload", daemon=True).start()
        self._loading = future

    def close(self) -> None:
        if self._loading is not None:  # never leave the thread behind
            self._loading.exception()
            self._loading = None
        self._catalog.close()

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _index(self) -> VectorIndex:
        """The vector index, kept up to date with the catalog (indexing may be running beside us).

        When the catalog moved on, only what changed is read and applied: a search while a library is being
        indexed costs what one after it does. The index is read again only when the indexer saved one trained
        anew (the library outgrew the old one) or the changes can't be followed (a rebuild switched in).
        Only the indexer writes the index file; a reader rebuilding in memory can't race it.
        """
        if self._loading is not None:
            loading, self._loading = self._loading, None
            try:
                self._vectors = loading.result()
            except Exception as e:  # noqa: BLE001 - read again below, where its error reaches the caller
                log.debug("preloading the vector index failed: %s", e)
        v = self._vectors
        if v is not None and self._catalog.generation == v.generation:
            return v
        if v is None or self.library.file_retrained(v) or not self.library.catch_up(v, self._catalog, v.generation):
            self._vectors = None  # let the old one go before its successor is read
            self._vectors = self.library.load_vectors(self._catalog, save=False)
        return self._vectors  # type: ignore[return-value]

    @property
    def size(self) -> int:
        return len(self._index()) if self._catalog.dim else 0

    # -- queries -------------------------------------------------------------------------------------------
    def by_text(self, text: str, top: int = 50) -> list[SearchResult]:
        if not text.strip() or not self._ready():
            return []
        return self.by_vector(self.embedder.encode_text([text.strip()])[0], top)

    def by_image(self, image: str | Path | bytes | Image.Image, top: int = 50) -> list[SearchResult]:
        """Photos that look like an image file, encoded image bytes, or an in-memory image.

        Raises decode.UnreadableImage for a file that is not an image.
        """
        if not self._ready():
            return []
        spec = self.embedder.spec
        if isinstance(image, Image.Image):
            pil = image.convert("RGB") if image.mode != "RGB" else image
        else:
            pil = decode(image if isinstance(image, bytes) else str(image), spec.decode_side).image
        return self.by_vector(self.embedder.encode_pixels(to_pixels(pil, spec)[None])[0], top)

    def similar(self, photo: str | int, top: int = 50) -> list[SearchResult]:
        """Photos like one already indexed (its stored vector is reused: no decoding, no model). Excludes itself."""
        if isinstance(photo, int):
            vec, pid = self._catalog.embedding_for_id(photo), photo
        else:
            found = self._catalog.embedding_for_path(os.path.abspath(photo)) or \
                self._catalog.embedding_for_path(os.path.realpath(photo))
            vec, pid = (found[1], found[0]) if found else (None, -1)
        if vec is None:
            if isinstance(photo, int):
                return []
            return self.by_image(photo, top)  # not in the library: search by its pixels instead
        return self.by_vector(vec, top, exclude={pid})

    def browse(self, top: int = 500) -> list[SearchResult]:
        """The library's photos with no query, newest first (what the grid shows before a search)."""
        rows = self._catalog.recent_page(None, top)[0]
        return [SearchResult(i, p, None, h) for i, p, h in rows if os.path.exists(p)]

    def by_vector(self, vector: np.ndarray, top: int = 50, exclude: set[int] = frozenset()) -> list[SearchResult]:
        index = self._index()
        want = top + len(exclude)
        results: list[SearchResult] = []
        while True:
            ids, scores = index.search(vector, want * 2, exact=self._catalog.vectors_for)
            info = self._catalog.photos(int(i) for i in ids)
            results = []
            for i, s in zip(ids.tolist(), scores.tolist()):
                if i in exclude or i not in info:
                    continue
                path, h = info[i]
                if not os.path.exists(path):  # deleted since it was indexed: never show a dead tile
                    continue
                results.append(SearchResult(i, path, float(s), h))
                if len(results) == top:
                    return results
            if len(ids) < want * 2:  # the whole index was looked at
                return results
            want *= 4

    def _ready(self) -> bool:
        if self._catalog.model_id is None:  # nothing indexed yet
            return False
        check_model(self._catalog, self.embedder, self.library.name)
        return True
