"""A library's vector index file: a cache of its catalog, checked before use, caught up with what changed,
rebuilt or retrained when it must be, and saved by the writer. Library (library.py) is built on it."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from photofinder.core.store.catalog import Catalog
from photofinder.core.store.vector_index import TEXT_COSINE, TopK, VectorIndex

log = logging.getLogger(__name__)


class VectorFile:
    """The vector index of a library's folder (`root`; `staged`: the rebuild's own file)."""

    root: Path
    staged: bool

    @property
    def index_path(self) -> Path:
        return self.root / ("index.rebuild.faiss" if self.staged else "index.faiss")

    def load_vectors(self, catalog: Catalog, save: bool = True) -> VectorIndex:
        """The vector index: its file brought up to date with the catalog, else rebuilt from the catalog.

        The file is checked before use: its checksum, the catalog it was written for, and the vector count once
        it has caught up with what changed since it was saved (Catalog.changes_since: rows read, not the whole
        catalog). A damaged, foreign or unusable file is rebuilt from the catalog. With `save` (the writer), the
        file is saved again when it was out of date, or retrained when the library outgrew it.
        """
        dim = catalog.dim
        if dim is None:
            return VectorIndex(1)
        index, saved = self._from_file(catalog, dim)
        if index is None:
            index = self.rebuild_vectors(catalog)
        if save and (saved != index.generation or index.needs_retrain(len(index))):
            index = self.save_vectors(index, catalog)
        return index

    def _from_file(self, catalog: Catalog, dim: int) -> tuple[VectorIndex | None, int]:
        if not self.index_path.exists():
            return None, -1
        try:
            stamp = _stamp(self.index_path)
            index, saved = VectorIndex.load(self.index_path, dim, catalog.uuid)
        except (OSError, ValueError) as e:
            log.warning(
                "vector index %s can't be used (%s): rebuilding it from the catalog", self.index_path, e
            )
            return None, -1
        index.file_stamp = stamp
        if not self.catch_up(index, catalog, saved):
            log.info(
                "vector index %s is stale (generation %d, catalog %d): rebuilding",
                self.index_path,
                saved,
                catalog.generation,
            )
            return None, -1
        return index, saved

    def catch_up(self, index: VectorIndex, catalog: Catalog, generation: int) -> bool:
        """Apply what changed in the catalog since `generation` to the index; False when it can't (reload it)."""
        changes = catalog.changes_since(generation)
        if changes is None:
            return False
        # Rewritten rows the index may hold go first; ids above its largest are new (no costly remove for them).
        stale = np.union1d(changes.removed, changes.changed[changes.changed <= index.max_id])
        index.remove(stale)
        index.add(changes.ids, changes.vectors)
        index.generation = changes.generation
        if len(index) != changes.indexed:
            log.warning(
                "vector index of %s holds %d vectors, the catalog %d",
                self.root.name,
                len(index),
                changes.indexed,
            )
            return False
        return True

    def rebuild_vectors(self, catalog: Catalog) -> VectorIndex:
        """A new index of every stored vector (streamed: memory is the index's own), of the kind its size wants."""
        with catalog.snapshot():
            generation, n = catalog.generation, catalog.count()
            index = VectorIndex.for_size(
                catalog.dim or 1,
                n,
                catalog.sample_embeddings,
                catalog.text_cosine or TEXT_COSINE,
                catalog.text_queries,
            )
            # an IVF's text-like tuning queries get their exact top 10 from the same pass that fills it
            truth = TopK(index.tuning_queries) if index.tuning_queries is not None else None
            for ids, vecs in catalog.iter_embeddings():
                index.add(ids, vecs)
                if truth is not None:
                    truth.update(ids, vecs)
        if truth is not None:
            index.tune(truth.queries, truth.ids)
        index.generation = generation
        return index

    def outgrown(self, index: VectorIndex, catalog: Catalog) -> VectorIndex:
        """The index retrained from the catalog (and saved) when the library outgrew its kind, else itself.

        The indexer calls it as it adds: a first run of a million photos never holds a million flat vectors.
        """
        if not index.needs_retrain(len(index)):
            return index
        return self.save_vectors(index, catalog)

    def save_vectors(self, index: VectorIndex, catalog: Catalog) -> VectorIndex:
        """Save the index (retrained first when the library outgrew it); returns the index saved."""
        if index.needs_retrain(len(index)):
            log.info("library %s: %d photos, retraining its vector index", self.root.name, len(index))
            index = self.rebuild_vectors(catalog)
        try:
            index.save(self.index_path, catalog.generation, catalog.uuid)
            index.generation = catalog.generation
            index.file_stamp = _stamp(self.index_path)
            catalog.prune_log(index.generation)
        except OSError as e:  # a cache: failing to write it costs a rebuild next time, nothing more
            log.warning("could not save vector index %s: %s", self.index_path, e)
        return index

    def file_retrained(self, index: VectorIndex) -> bool:
        """Whether the index file was rewritten, trained otherwise than `index`, since `index` was read (a reader
        then reloads it rather than keep a flat index growing or an outgrown IVF)."""
        try:
            stamp = _stamp(self.index_path)
            if stamp == index.file_stamp:
                return False
            index.file_stamp = stamp
            return VectorIndex.read_header(self.index_path)[4] != index.trained_size
        except (OSError, ValueError):
            return False


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns
