"""The FAISS vector index: a cache derived from the catalog, rebuilt whenever it is missing, corrupt or stale."""

from __future__ import annotations

import logging
import os
import struct
import tempfile
from pathlib import Path

import zlib

import faiss
import numpy as np

log = logging.getLogger(__name__)

# Header: magic, catalog generation, vector count, CRC-32 of the FAISS data, the owning catalog's uuid.
_MAGIC = b"PFVIDX2\0"
_FIELDS = struct.Struct("<qqI32s")
_HEADER = len(_MAGIC) + _FIELDS.size


class VectorIndex:
    """Inner-product search over L2-normalised vectors, keyed by catalog photo ids.

    Exact (flat) for now; `_make` is the seam where an approximate index (IVF, HNSW) would go.
    """

    def __init__(self, dim: int, index: faiss.Index | None = None):
        self.dim = dim
        self._index = index if index is not None else self._make(dim)

    @staticmethod
    def _make(dim: int) -> faiss.Index:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under new ids (an id already present must be removed first, or it is found twice)."""
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids, scores) of the k best matches, best first; fewer when the index holds fewer."""
        k = min(k, len(self))
        if k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def ids(self) -> np.ndarray:
        """Every id in the index (its id map), for checking it against the catalog."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64, copy=False)

    def save(self, path: Path, generation: int, owner: str) -> None:
        """Write atomically: a temp file beside the target, fsync, rename. A crash leaves the old file or none.

        The header names the catalog (its uuid) and the generation it was built from, and carries a checksum
        of the data, so a file can never be taken for another library's, for a newer catalog state, or be
        used after bytes in it were damaged.
        """
        data = faiss.serialize_index(self._index)
        header = _MAGIC + _FIELDS.pack(generation, len(self), zlib.crc32(data), owner.encode()[:32])
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(header)
                f.write(data.tobytes())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path, dim: int, owner: str) -> tuple[VectorIndex, int]:
        """(index, catalog generation) from a saved file; ValueError when damaged, foreign or of another size."""
        raw = path.read_bytes()
        if len(raw) < _HEADER or raw[: len(_MAGIC)] != _MAGIC:
            raise ValueError("not a photofinder index file (or one from an older version)")
        generation, ntotal, crc, who = _FIELDS.unpack(raw[len(_MAGIC) : _HEADER])
        if who.rstrip(b"\0").decode(errors="replace") != owner:
            raise ValueError("it belongs to another library")
        data = np.frombuffer(raw, dtype=np.uint8, offset=_HEADER)
        if zlib.crc32(data) != crc:
            raise ValueError("its checksum does not match (damaged bytes)")
        try:
            index = faiss.deserialize_index(data)
        except RuntimeError as e:
            raise ValueError(f"corrupt index file: {str(e).splitlines()[0][:120]}") from e
        if index.d != dim:
            raise ValueError(f"index has dimension {index.d}, the library {dim}")
        if index.ntotal != ntotal:
            raise ValueError(f"it holds {index.ntotal} vectors, its header says {ntotal}")
        return cls(dim, index), generation
