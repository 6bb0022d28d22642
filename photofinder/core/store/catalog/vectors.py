"""The catalog's vectors: which model made them, reading them at any library size, and the change log by
which a vector index built at an older generation catches up instead of reloading."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from photofinder.core.paths import to_db
from photofinder.core.store.catalog.connection import CatalogConnection, chunks
from photofinder.core.store.catalog.schema import INDEXED


@dataclass(frozen=True)
class Changes:
    """What changed in the catalog after a generation (Catalog.changes_since)."""

    generation: int  # the generation these changes bring a reader to
    indexed: int  # indexed photos at that generation
    removed: np.ndarray  # ids of indexed photos deleted since
    changed: np.ndarray  # ids of photos written since (new, updated, now skipped)
    ids: np.ndarray  # of those, the ones indexed now, with their vectors
    vectors: np.ndarray


@dataclass(frozen=True)
class StoredEmbedding:
    embedding: np.ndarray
    width: int | None
    height: int | None
    taken: str | None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None
    geo: int | None = None


class Vectors(CatalogConnection):
    """The embeddings stored with the photos, and the model they come from."""

    @property
    def model_id(self) -> str | None:
        """How the model was named when the library was indexed (a hub id or a folder): shown, and used to load it."""
        return self.get_meta(self._k + "model_id")

    @property
    def model_fingerprint(self) -> str | None:
        """What the model is (its config and weights), whatever folder it lies in."""
        return self.get_meta(self._k + "model_fingerprint")

    @property
    def dim(self) -> int | None:
        d = self.get_meta(self._k + "dim")
        return int(d) if d else None

    def bind_model(self, model_id: str, dim: int, fingerprint: str | None) -> None:
        """Record which model the vectors come from; called before the first vector is stored."""
        with self._transaction():
            self.set_meta(self._k + "model_id", model_id)
            self.set_meta(self._k + "dim", str(dim))
            if fingerprint:
                self.set_meta(self._k + "model_fingerprint", fingerprint)

    @property
    def text_cosine(self) -> float | None:
        """How close the model's text queries come to the photos they describe (see encode's text_closeness):
        what the vector index is tuned for. None: not recorded (a library from before it was)."""
        v = self.get_meta(self._k + "text_cosine")
        try:
            return float(v) if v else None
        except ValueError:  # damaged: tune as for CLIP
            return None

    def record_text_cosine(self, cosine: float) -> None:
        self.set_meta(self._k + "text_cosine", repr(float(cosine)))

    @property
    def text_queries(self) -> np.ndarray | None:
        """The model's own text vectors of a hundred everyday captions (encode's text_probes), raw float32: what
        the vector index is tuned on. None: not recorded, or not of this library's dimension."""
        v = self.get_meta(self._k + "text_queries")
        dim = self.dim
        if not isinstance(v, bytes) or not dim or len(v) % (4 * dim):
            return None
        return np.frombuffer(v, np.float32).reshape(-1, dim).copy()

    def record_text_queries(self, vectors: np.ndarray) -> None:
        self.set_meta(self._k + "text_queries", np.ascontiguousarray(vectors, np.float32).tobytes())  # type: ignore[arg-type]

    def remember_model_location(self, model_id: str, fingerprint: str) -> None:
        """The same model found elsewhere (a moved folder): load it from there from now on."""
        with self._transaction():
            self.set_meta(self._k + "model_id", model_id)
            self.set_meta(self._k + "model_fingerprint", fingerprint)

    def changes_since(self, generation: int) -> Changes | None:
        """What changed after `generation`, for a vector index built at it to catch up; None: reload it whole.

        One read transaction, so the rows and the generation they bring the reader to agree. Costs what changed,
        not the library's size (rows by their generation index, deletions from the log).
        """
        with self.snapshot():
            now = self.generation
            floor = int(self.get_meta(self._k + "log_floor") or 0)
            if generation < floor or generation > now:
                return None
            if generation == now:
                return Changes(
                    now,
                    self.count(),
                    np.empty(0, np.int64),
                    np.empty(0, np.int64),
                    np.empty(0, np.int64),
                    np.empty((0, self.dim or 0), np.float32),
                )
            removed = np.array(
                [r[0] for r in self._all(f"SELECT id FROM {self._t}_deleted WHERE gen > ?", (generation,))],
                np.int64,
            )
            rows = self._all(f"SELECT id, status, embedding FROM {self._t} WHERE gen > ?", (generation,))
            changed = np.array([r[0] for r in rows], np.int64)
            good = [r for r in rows if r[1] == INDEXED and r[2] is not None]
            ids, vecs = _unpack(good, self.dim or 0)
            return Changes(now, self.count(), removed, changed, ids, vecs)

    def prune_log(self, generation: int, keep: int = 50_000) -> None:
        """Drop deletion-log entries up to `generation` once there are more than `keep` (an index was saved)."""
        if self._one(f"SELECT count(*) FROM {self._t}_deleted")[0] > keep:  # type: ignore[index]
            with self._transaction():
                self._exec(f"DELETE FROM {self._t}_deleted WHERE gen <= ?", (generation,))
                floor = int(self.get_meta(self._k + "log_floor") or 0)
                self.set_meta(self._k + "log_floor", str(max(floor, generation)))

    def find_by_hash(self, content_hash: str) -> StoredEmbedding | None:
        """A stored vector for identical content (a renamed, moved or copied file), if there is one."""
        row = self._one(
            f"SELECT embedding, width, height, taken, lat, lon, place, geo FROM {self._t} "
            "WHERE hash = ? AND status = 'indexed' AND embedding IS NOT NULL LIMIT 1",
            (content_hash,),
        )
        if row is None:
            return None
        return StoredEmbedding(np.frombuffer(row[0], dtype=np.float32).copy(), *row[1:])

    def embeddings(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of every indexed photo (small libraries and tests; else iter_embeddings)."""
        parts = list(self.iter_embeddings())
        if not parts:
            return np.empty(0, np.int64), np.empty((0, self.dim or 0), np.float32)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def iter_embeddings(self, chunk: int = 20_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(ids, vectors) of the indexed photos, `chunk` at a time in id order: memory stays flat at any size."""
        after = -1
        while True:
            rows = self._all(
                f"SELECT id, embedding FROM {self._t} WHERE id > ? AND status = 'indexed' "
                "AND embedding IS NOT NULL ORDER BY id LIMIT ?",
                (after, chunk),
            )
            if not rows:
                return
            after = rows[-1][0]
            yield _unpack(rows, self.dim or 0)

    def sample_embeddings(self, k: int, seed: int = 0) -> np.ndarray:
        """About k vectors drawn uniformly at random from the indexed photos (to train an approximate index on,
        to calibrate on).

        Uniform, not runs of consecutive rows: a library indexed folder by folder stores one event's photos
        side by side, and an index trained on runs of them has lists of very unequal sizes. Random ids are read
        in id order (the table's own order), 500 a statement.
        """
        lo, hi = self._one(f"SELECT min(id), max(id) FROM {self._t}")  # type: ignore[misc]
        if lo is None:
            return np.empty((0, self.dim or 0), np.float32)
        span = hi - lo + 1
        rng = np.random.default_rng(seed)
        if span <= 2 * k:
            vecs = self.embeddings()[1]
            return vecs[np.sort(rng.choice(len(vecs), k, replace=False))] if len(vecs) > k else vecs
        count = max(1, self.count())
        want = min(span, int(k * span / count * 1.1) + 16)  # ids are dense but for deletions and skips
        ids = np.sort(rng.choice(span, want, replace=False) + lo)
        _, vecs = self.vectors_for(ids.tolist())
        if len(vecs) > k:
            vecs = vecs[np.sort(rng.choice(len(vecs), k, replace=False))]
        return vecs

    def vectors_for(self, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of those of `ids` that are indexed photos (in no particular order)."""
        rows: list[tuple] = []
        for chunk in chunks([int(i) for i in ids], 500):
            rows += self._all(
                f"SELECT id, embedding FROM {self._t} WHERE id IN ({','.join('?' * len(chunk))}) "
                "AND status = 'indexed' AND embedding IS NOT NULL",
                chunk,
            )
        return _unpack(rows, self.dim or 0)

    def embedding_for_path(self, path: str) -> tuple[int, np.ndarray] | None:
        row = self._one(
            f"SELECT id, embedding FROM {self._t} WHERE path = ? AND status = 'indexed'", (to_db(path),)
        )
        if row is None or row[1] is None:
            return None
        return row[0], np.frombuffer(row[1], dtype=np.float32).copy()

    def embedding_for_id(self, photo_id: int) -> np.ndarray | None:
        row = self._one(f"SELECT embedding FROM {self._t} WHERE id = ?", (photo_id,))
        return None if row is None or row[0] is None else np.frombuffer(row[0], dtype=np.float32).copy()


def _unpack(rows: list[tuple], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, vectors) from (id, embedding blob) rows, in one copy."""
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vecs = np.frombuffer(b"".join(r[-1] for r in rows), dtype=np.float32).reshape(len(rows), dim)
    return ids, vecs
