"""Search a library: by text, by an image, or by a photo already in it ("find similar")."""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from photofinder.core.encode.torch_encoder import Embedder
from photofinder.core.find.calibration import Calibration
from photofinder.core.find.judging import GoodMatches
from photofinder.core.find.listing import browse_filtered, by_words, with_details, word_boxes
from photofinder.core.find.query import Filters, Query, QueryError
from photofinder.core.find.results import QueryResults, QueryTerms, SearchResult
from photofinder.core.find.selection import FilterSelection
from photofinder.core.find.terms import image_pixels, query_terms
from photofinder.core.store.library import Library, check_model
from photofinder.core.store.vector_index import VectorIndex
from photofinder.core.store.words import matched_lines

log = logging.getLogger(__name__)


class Searcher:
    """Queries one library. Opens its own catalog connection: use it from one thread."""

    def __init__(self, library: Library, embedder: Embedder):
        self.library = library
        self.embedder = embedder
        self._catalog = library.open_catalog()
        self._vectors: VectorIndex | None = None
        self._loading: Future[VectorIndex] | None = None
        self._selection = FilterSelection(self._catalog)
        self._goodness = GoodMatches(self._catalog, embedder)

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
        if (
            v is None
            or self.library.file_retrained(v)
            or not self.library.catch_up(v, self._catalog, v.generation)
        ):
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
        pixels = image_pixels(image, self.embedder.spec)
        return self.by_vector(self.embedder.encode_pixels(pixels[None])[0], top)

    def similar(self, photo: str | int, top: int = 50) -> list[SearchResult]:
        """Photos like one already indexed (its stored vector is reused: no decoding, no model). Excludes itself."""
        if isinstance(photo, int):
            vec, pid = self._catalog.embedding_for_id(photo), photo
        else:
            found = self._catalog.embedding_for_path(
                os.path.abspath(photo)
            ) or self._catalog.embedding_for_path(os.path.realpath(photo))
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

    # -- combined queries, filters, good matches (what the app's query bar and `photofinder search` run) --------
    def run(self, query: Query, top: int = 50) -> QueryResults:
        """A query of weighted positive and negative terms, filtered, sorted, each result judged good or not.

        With no terms it browses (newest first) within the filters. Raises QueryError for a query that can't
        run (terms that cancel out, nothing positive) and decode.UnreadableImage for an image term that is not
        an image.
        """
        query = query.words_as_filter()
        found = self._run(query, top)
        if query.filters.text:
            for k, r in enumerate(found.results):
                matched = tuple(matched_lines(r.words, query.filters.text))
                found.results[k] = replace(
                    r, matched=matched, highlights=word_boxes(self._catalog, r.hash, matched)
                )
        return found

    def _run(self, query: Query, top: int) -> QueryResults:
        allowed = self.allowed_ids(query.filters)
        if not query.terms and query.filters.text:
            return self._by_words(query.filters, allowed, top)
        if not query.terms:
            return self._browse_filtered(allowed, top)
        if not self._ready():
            return QueryResults([], 0, None)
        if not query.positive:
            raise QueryError("only negative terms: add something to look for")
        terms = self.query_vector(query)
        results = self.by_vector(terms.vector, top, exclude=terms.exclude, allowed=allowed)
        if not results:  # (also a library whose photos were all removed: nothing to calibrate on)
            return QueryResults([], 0, None)
        cut = self._goodness.calibration()
        cuts = self._goodness.text_cuts(terms, cut)
        good = self._goodness.judge(results, terms, cut, cuts)
        results = self._with_details([replace(r, good=bool(g)) for r, g in zip(results, good)])
        if query.sort == "date":
            results.sort(key=lambda r: r.taken or "", reverse=True)
        negative = any(w < 0 for _, w in terms.kinds)
        return QueryResults(
            results, int(good.sum()), None if negative else cut.cut_for(terms.kinds, terms.norm, cuts)
        )

    def query_vector(self, query: Query) -> QueryTerms:
        """The combined query vector, with what judging its results needs."""
        return query_terms(query, self.embedder, self._catalog)

    def allowed_ids(self, filters: Filters) -> np.ndarray | None:
        """The ids a filter allows, sorted (None: no filter). Cached until the catalog changes."""
        return self._selection.allowed_ids(filters)

    def calibration(self) -> Calibration:
        """The library's good-match cut-off for this model (see GoodMatches.calibration)."""
        return self._goodness.calibration()

    def _by_words(self, filters: Filters, allowed: np.ndarray | None, top: int) -> QueryResults:
        """Photos whose words match, best match first (FTS5's bm25), within the other filters."""
        keep = None if allowed is None else set(allowed.tolist())
        ranked = [i for i, _ in self._selection.text_matches(filters.text or "") if keep is None or i in keep]
        return by_words(self._catalog, ranked, top)

    def _browse_filtered(self, allowed: np.ndarray | None, top: int) -> QueryResults:
        if allowed is None:
            return QueryResults(self._with_details(self.browse(top)), 0, None, judged=False)
        return browse_filtered(self._catalog, allowed, top)

    def _with_details(self, results: list[SearchResult]) -> list[SearchResult]:
        return with_details(self._catalog, results)

    def by_vector(
        self,
        vector: np.ndarray,
        top: int = 50,
        exclude: set[int] = frozenset(),
        allowed: np.ndarray | None = None,
    ) -> list[SearchResult]:
        """The `top` photos nearest `vector`, best first; only `allowed` ids when given (a filter).

        A filter is applied inside the index's own search (a selector), never by reading the allowed photos'
        vectors from the catalog: a small filter scans every list of an approximate index, so every allowed
        photo is scored (its 8-bit code) and the best are rescored exactly ("top 50 in this folder" finds all
        50 there are); a large one scans more lists the fewer it allows (VectorIndex.probes_for).
        """
        index = self._index()
        selection = None if allowed is None else self._selection.id_set(allowed)
        want = top + len(exclude)
        results: list[SearchResult] = []
        while True:
            ids, scores = index.search(vector, want * 2, exact=self._catalog.vectors_for, allowed=selection)
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
