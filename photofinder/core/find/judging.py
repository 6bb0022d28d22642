"""Which results of a query are good matches in one library: its calibration for the model (measured once on a
sample of the library's own photos, kept in its catalog), each wanted text term's own cut-off, and the judging
of each result term by term (see calibration.Calibration)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from photofinder.core.find.calibration import (
    CALIBRATION_SAMPLE,
    Calibration,
    calibrate,
    calibration_json,
    stored_calibration,
)
from photofinder.core.find.query import TEXT
from photofinder.core.find.results import QueryTerms, SearchResult

log = logging.getLogger(__name__)


class GoodMatches:
    """The good-match judge of one Searcher (its catalog connection, its thread)."""

    def __init__(self, catalog: Any, embedder: Any):
        self._catalog = catalog
        self.embedder = embedder
        self._cut: tuple[int, Calibration] | None = None
        self._sample: tuple[int, np.ndarray] | None = None  # (photos then, vectors): see library_sample

    def calibration(self) -> Calibration:
        """The library's good-match cut-off for this model, measured once (and again when the library
        doubles or halves) on a sample of its own photos."""
        if self._cut is not None and self._cut[0] == self._catalog.generation:
            return self._cut[1]
        fingerprint = getattr(self.embedder, "fingerprint", self.embedder.model_id)
        count = self._catalog.count()
        cut = stored_calibration(self._catalog.get_meta("calibration"), fingerprint, count)
        if cut is None:
            cut = calibrate(self.embedder, self.library_sample(), count)
            try:
                self._catalog.set_meta("calibration", calibration_json(cut, fingerprint))
            except Exception as e:  # noqa: BLE001 - a read-only library measures again next time
                log.debug("calibration not stored: %s", e)
        self._cut = (self._catalog.generation, cut)
        return cut

    def text_cuts(self, terms: QueryTerms, cut: Calibration) -> list[float | None]:
        """Each wanted text term's own cut-off (Calibration.text_cut), from its scores on the library sample."""
        if not any(k == TEXT and w > 0 for k, w in terms.kinds):
            return [None] * len(terms.kinds)
        sample = self.library_sample()
        several = sum(w > 0 for _, w in terms.kinds) > 1
        return [
            cut.text_cut(sample @ v, several) if k == TEXT and w > 0 else None
            for v, (k, w) in zip(terms.vectors, terms.kinds)
        ]

    def judge(
        self,
        results: list[SearchResult],
        terms: QueryTerms,
        cut: Calibration,
        cuts: list[float | None] | None = None,
    ) -> np.ndarray:
        """Which results are good matches (see Calibration.judge), from each result's score on each term."""
        if not results:
            return np.zeros(0, bool)
        several = len(terms.kinds) > 1
        typical = [self.typical(v) if several else None for v in terms.vectors]
        if len(terms.kinds) == 1:  # one term: its score is the combined score
            scores = np.array([[r.score if r.score is not None else -1.0] for r in results], np.float32)
            return cut.judge(scores, terms.kinds, typical, cuts)
        ids, vectors = self._catalog.vectors_for(r.id for r in results)
        row = {int(i): k for k, i in enumerate(ids)}
        scores = np.full((len(results), len(terms.kinds)), -1.0, np.float32)
        for k, r in enumerate(results):
            if r.id in row:  # (a photo deleted meanwhile is no good match)
                scores[k] = terms.vectors @ vectors[row[r.id]]
        return cut.judge(scores, terms.kinds, typical, cuts)

    def library_sample(self) -> np.ndarray:
        """A sample of the library's vectors (CALIBRATION_SAMPLE), read again when the library doubles or
        halves: what a term scores on the typical photo is measured on it."""
        count = self._catalog.count()
        if self._sample is None or not (self._sample[0] / 2 <= count <= self._sample[0] * 2 + 100):
            self._sample = (count, self._catalog.sample_embeddings(CALIBRATION_SAMPLE))
        return self._sample[1]

    def typical(self, vector: np.ndarray) -> float | None:
        """What a term scores on the library's typical photo: its median over the sample (the term itself and
        identical copies left out: a photo term is in it). None for an empty sample."""
        scores = self.library_sample() @ vector
        scores = scores[scores < 0.999]
        return float(np.median(scores)) if len(scores) else None
