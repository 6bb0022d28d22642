"""The FAISS vector index: a cache derived from the catalog, rebuilt whenever it is missing, corrupt or stale.

Its kind follows the library's size. Up to FLAT_MAX vectors the search is exact (flat): small libraries rank and
score exactly as they always did. Above, it is an inverted file (IVF) of 8-bit scalar-quantised vectors, trained
on the library's own vectors: a quarter of the memory of float32 (0.52 GB for a million 512-d vectors) and a few
milliseconds a query, where a flat scan of a million takes half a second. Its candidates are rescored with the
exact float32 vectors from the catalog (`search(..., exact=...)`), so the scores shown are exact.

How many lists a query scans (nprobe) is tuned to each library when the index is trained (`tune`): text queries
sit far from every photo (cosine ~0.3) and their neighbours spread over many lists, so recall@10 is measured on
text-like queries (library photos pulled to that distance) against an exact search, and nprobe raised until it
is >= 0.99; the value is saved in the file's header. A filtered search scans more lists, in proportion to how
few photos the filter allows (every list below a quarter of the library), so the filtered top k is found.
The training sample is uniform over the library (a folder-ordered library's consecutive rows are one event's
photos: lists trained on runs of them come out unbalanced). It is retrained (and tuned again) when the library
has grown to four times the size it was trained at (`needs_retrain`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

from photofinder.core.store.index_file import read_header, read_index_file, write_index_file

log = logging.getLogger(__name__)

FLAT_MAX = 50_000  # exact search up to this many vectors (a flat query over 50k costs ~3 ms on one core)
TRAIN_PER_LIST = 40  # training vectors per inverted list (FAISS warns below 39)
RERANK = 4  # an approximate search fetches this many candidates per result wanted, then rescores exactly
TUNE_TARGET = 0.99  # recall@10 on text-like queries the tuned nprobe reaches
# ...on the model's own text vectors, a hundred of them: a sample, so tuned with a margin that keeps queries
# from the same model at 0.99 (bench/scale.py: 0.9895 on 200 fresh queries when tuned to 0.99 on the sample)
TEXT_TUNE_TARGET = 0.995
TUNE_QUERIES = 100  # text-like queries measured (their exact top 10 is found while the index is filled)
TEXT_COSINE = 0.3  # how close a text query is to the photo it describes best (CLIP: ~0.3; photos ~0.5-0.9)
# (a model whose text queries sit farther from their photos, SigLIP's, records its own: see text_closeness)
FULL_SCAN_BELOW = 0.25  # a filter allowing less than this share of the library scans every list

ExactVectors = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # ids -> (ids found, their vectors)


def lists_for(n: int) -> int:
    """Inverted lists for n vectors: a power of two near 2 * sqrt(n) (512 at 50k, 2048 at 1M)."""
    return int(min(16384, max(256, 2 ** round(math.log2(2 * math.sqrt(max(n, 1)))))))


class IdSet:
    """The photo ids a filter allows, sorted, with a FAISS selector over them: built once per filter and reused
    by every search under it.

    The selector is a bitmap (a bit per id up to the largest): some 10 ms to build for a million ids, and a
    bit test per candidate. FAISS's IDSelectorBatch (a hash set of the ids) took 50-60 ms to build for a
    million, paid by every query.
    """

    def __init__(self, ids: np.ndarray):
        ids = np.asarray(ids, np.int64)
        mask = np.zeros(int(ids.max()) + 1 if len(ids) else 0, bool)
        mask[ids] = True
        self.ids = np.flatnonzero(mask).astype(np.int64, copy=False)  # sorted, once each
        # FAISS reads the bits in place: they live as long as the selector does
        self._bits = np.packbits(mask, bitorder="little")
        self.selector = faiss.IDSelectorBitmap(len(self._bits), faiss.swig_ptr(self._bits))

    def __len__(self) -> int:
        return len(self.ids)


class VectorIndex:
    """Inner-product search over L2-normalised vectors, keyed by catalog photo ids."""

    def __init__(self, dim: int, index: faiss.Index | None = None, trained_size: int = 0):
        self.dim = dim
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.trained_size = trained_size  # the library's size when the IVF was trained; 0 for flat
        self._max_id = -1
        self.generation = -1  # the catalog generation the index reflects (-1: unknown)
        self.file_stamp: tuple[int, int, int] | None = None  # the file it was read from or saved to
        self.tuned = 0  # the nprobe `tune` chose (0: not tuned, the fixed default below)
        self.tuning_queries: np.ndarray | None = None  # text-like queries `tune` measures (from for_size)
        self.tuned_recall: float | None = None  # recall@10 the tuned nprobe reached on them
        self.tuning_target = TUNE_TARGET  # the recall@10 `tune` raises nprobe until it reaches
        if isinstance(self._index, faiss.IndexIVF):
            self._index.nprobe = max(32, self._index.nlist // 32)  # until tuned

    @classmethod
    def for_size(
        cls,
        dim: int,
        n: int,
        sample: Callable[[int], np.ndarray],
        text_cosine: float = TEXT_COSINE,
        text_queries: np.ndarray | None = None,
    ) -> VectorIndex:
        """An empty index of the kind that suits n vectors; an IVF is trained on `sample(k)` (k of the vectors)
        and tuned on `text_queries`, the model's own vectors of everyday captions, or where a library has none
        recorded (indexed before they were), on photo vectors pulled `text_cosine` from their photo (the model's
        text-to-photo closeness)."""
        if n < FLAT_MAX:
            return cls(dim)
        nlist = lists_for(n)
        train = np.ascontiguousarray(sample(nlist * TRAIN_PER_LIST), dtype=np.float32)
        nlist = min(nlist, max(1, len(train) // TRAIN_PER_LIST))
        quantizer = faiss.IndexFlatIP(dim)
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        quantizer.this.disown()  # the IVF owns (and frees) its quantizer
        ivf.own_fields = True
        ivf.train(train)
        log.info("trained an IVF-SQ8 index of %d lists on %d vectors (library of %d)", nlist, len(train), n)
        index = cls(dim, ivf, trained_size=n)
        if text_queries is not None and text_queries.ndim == 2 and text_queries.shape[1] == dim:
            index.tuning_queries = np.ascontiguousarray(text_queries[:TUNE_QUERIES], dtype=np.float32)
            index.tuning_target = TEXT_TUNE_TARGET
        else:
            index.tuning_queries = text_like(train, TUNE_QUERIES, cosine=text_cosine)
        return index

    @property
    def nprobe(self) -> int:
        return int(self._index.nprobe) if isinstance(self._index, faiss.IndexIVF) else 0

    def set_nprobe(self, nprobe: int) -> None:
        if isinstance(self._index, faiss.IndexIVF):
            self._index.nprobe = int(min(max(1, nprobe), self._index.nlist))
            self.tuned = self.nprobe

    def tune(self, queries: np.ndarray, truth: np.ndarray, target: float | None = None) -> float:
        """Raise nprobe until recall@10 of `queries` against their exact top 10 (`truth`, ids) reaches `target`
        (default: the index's tuning_target); returns the recall reached. Call with every vector added.

        Recall is what a search sees: the true top 10 among the RERANK * 10 candidates (rescoring exactly puts
        every true top-10 candidate first). Starts from nlist / 64 and steps by ~1.2x (a coarser step overshoots: each probe costs time).
        """
        if not isinstance(self._index, faiss.IndexIVF) or not len(queries):
            self.tuned = self.nprobe
            return 1.0
        target = self.tuning_target if target is None else target
        nlist = self._index.nlist
        q = np.ascontiguousarray(queries, dtype=np.float32)
        fetch = min(len(self), 10 * RERANK)
        nprobe, recall = max(8, nlist // 64), 0.0
        while True:
            _, ids = self._index.search(q, fetch, params=faiss.SearchParametersIVF(nprobe=nprobe))
            recall = float(
                np.mean(
                    [
                        len(np.intersect1d(f, t[t >= 0])) / max(1, min(10, (t >= 0).sum()))
                        for f, t in zip(ids, truth)
                    ]
                )
            )
            if recall >= target or nprobe >= nlist:
                break
            nprobe = min(nlist, int(nprobe * 1.2) + 1)
        self.set_nprobe(nprobe)
        self.tuned_recall = recall
        log.info("tuned nprobe to %d of %d lists: recall@10 %.4f on text-like queries", nprobe, nlist, recall)
        return recall

    def probes_for(self, allowed: int) -> int:
        """Lists to scan for a search among `allowed` photos: the tuned nprobe, widened in proportion to how
        few photos the filter allows (their top k lies deeper in the list ranking), every list below
        FULL_SCAN_BELOW (a filtered set can sit in lists far from the query: a year's photos, one trip)."""
        nlist, share = self._index.nlist, allowed / max(1, len(self))
        if share < FULL_SCAN_BELOW:
            return nlist
        return min(nlist, math.ceil(self.nprobe / share))

    @property
    def approximate(self) -> bool:
        return self.trained_size > 0

    def needs_retrain(self, n: int) -> bool:
        """Whether an index for n vectors should be of another kind or trained afresh (n grew 4x, or shrank, or
        its nprobe was never tuned: a file from before tuning)."""
        if not self.approximate:
            return n >= FLAT_MAX
        return n > 4 * self.trained_size or n < FLAT_MAX // 2 or not self.tuned

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under new ids (an id already present must be removed first, or it is found twice)."""
        if len(ids):
            ids = np.asarray(ids, np.int64)
            self._index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), -1), ids
            )
            self._max_id = max(self._max_id, int(ids.max()))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    @property
    def max_id(self) -> int:
        """The largest id ever added (-1 when none): a catalog row with a larger id can't be in the index."""
        if self._max_id < 0 and len(self):
            self._max_id = int(self.ids().max())
        return self._max_id

    def search(
        self,
        query: np.ndarray,
        k: int,
        exact: ExactVectors | None = None,
        allowed: IdSet | np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the k best matches, best first; fewer when the index holds fewer.

        For an approximate index, `exact(ids)` gives the stored float32 vectors of candidates: RERANK * k of
        them are rescored, so the scores are exact and near-ties come out in the right order. `allowed`
        restricts the matches to those ids (pass an IdSet to reuse its selector across searches).
        """
        k = min(k, len(self))
        if k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        fetch = min(len(self), k * RERANK) if self.approximate and exact is not None else k
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # this thread only (an OpenMP setting is per thread)
        try:  # one query: a second thread saves nothing and, on a busy CPU, waits 20 ms for its partner
            if allowed is not None:  # a filter inside the search: k results that pass it, if there are
                if not isinstance(allowed, IdSet):
                    allowed = IdSet(allowed)
                selector = allowed.selector
                if isinstance(self._index, faiss.IndexIVF):
                    nprobe = self.probes_for(len(allowed))
                    while True:  # fewer than `fetch` back from some lists: widen to all before giving up
                        params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
                        scores, ids = self._index.search(q, fetch, params=params)
                        if nprobe >= self._index.nlist or (ids[0] >= 0).sum() >= min(fetch, len(allowed)):
                            break
                        nprobe = self._index.nlist
                else:
                    scores, ids = self._index.search(q, fetch, params=faiss.SearchParameters(sel=selector))
            else:
                scores, ids = self._index.search(q, fetch)
        finally:
            faiss.omp_set_num_threads(threads)
        keep = ids[0] >= 0
        ids, scores = ids[0][keep], scores[0][keep]
        if fetch > k:
            found, vecs = exact(ids)
            scores = vecs @ q[0]
            order = np.argsort(-scores, kind="stable")[:k]
            ids, scores = np.asarray(found, np.int64)[order], scores[order]
        return ids, scores

    def neighbours(self, vectors: np.ndarray, k: int, lists: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of the k nearest of each of a batch of vectors (-1 where fewer), on every core.

        Approximate for an IVF, which scans `lists` inverted lists a query (fewer than a search: a near-copy
        is in its photo's list); the scores are those of the 8-bit codes.
        """
        q = np.ascontiguousarray(vectors, dtype=np.float32)
        if isinstance(self._index, faiss.IndexIVF):
            return self._index.search(q, k, params=faiss.SearchParametersIVF(nprobe=lists))
        return self._index.search(q, k)

    def ids(self) -> np.ndarray:
        """Every id in the index, for checking it against the catalog."""
        if isinstance(self._index, faiss.IndexIVF):
            inv = self._index.invlists
            parts = [
                faiss.rev_swig_ptr(inv.get_ids(i), inv.list_size(i)).copy()
                for i in range(inv.nlist)
                if inv.list_size(i)
            ]
            return np.concatenate(parts).astype(np.int64, copy=False) if parts else np.empty(0, np.int64)
        return faiss.vector_to_array(self._index.id_map).astype(np.int64, copy=False)

    def save(self, path: Path, generation: int, owner: str) -> None:
        """Write atomically, under a header naming the catalog and generation (see index_file)."""
        write_index_file(path, self._index, generation, owner, self.trained_size, self.tuned)

    @staticmethod
    def read_header(path: Path) -> tuple[int, int, int, str, int, int, int]:
        """(generation, vector count, crc, owner, trained size, tuned nprobe, header length) of a saved file."""
        return read_header(path)

    @classmethod
    def load(cls, path: Path, dim: int, owner: str) -> tuple[VectorIndex, int]:
        """(index, catalog generation) from a saved file; ValueError when damaged, foreign or of another size."""
        index, generation, trained, tuned = read_index_file(path, dim, owner)
        vectors = cls(dim, index, trained_size=trained)
        if tuned:
            vectors.set_nprobe(tuned)
        return vectors, generation


def text_like(photos: np.ndarray, count: int, seed: int = 0, cosine: float = TEXT_COSINE) -> np.ndarray:
    """`count` unit vectors as far from the library as text queries are: photo vectors pulled to `cosine` of
    their photo by a random direction orthogonal to it (their neighbours, like a text query's, spread over many
    inverted lists)."""
    if not len(photos):
        return np.empty((0, photos.shape[1] if photos.ndim == 2 else 0), np.float32)
    rng = np.random.default_rng(seed)
    base = photos[rng.choice(len(photos), min(count, len(photos)), replace=False)].astype(np.float32)
    base /= np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-12)
    r = rng.standard_normal(base.shape).astype(np.float32)
    r -= (r * base).sum(1, keepdims=True) * base
    r /= np.maximum(np.linalg.norm(r, axis=1, keepdims=True), 1e-12)
    return (cosine * base + math.sqrt(1 - cosine**2) * r).astype(np.float32)


class TopK:
    """The exact top k ids of a few queries, kept up to date as vectors stream past (for `VectorIndex.tune`)."""

    def __init__(self, queries: np.ndarray, k: int = 10):
        self.queries = queries
        self.k = k
        self.scores = np.full((len(queries), k), -np.inf, np.float32)
        self.ids = np.full((len(queries), k), -1, np.int64)

    def update(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if not len(ids) or not len(self.queries):
            return
        sc = self.queries @ np.asarray(vectors, np.float32).T
        both = np.concatenate([self.scores, sc], axis=1)
        both_ids = np.concatenate([self.ids, np.broadcast_to(np.asarray(ids, np.int64), sc.shape)], axis=1)
        k = min(self.k, both.shape[1])
        top = np.argpartition(-both, k - 1, axis=1)[:, :k]
        self.scores = np.take_along_axis(both, top, 1)
        self.ids = np.take_along_axis(both_ids, top, 1)
