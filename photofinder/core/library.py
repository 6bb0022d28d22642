"""Libraries: named sets of photo folders, each with its own catalog and vector index in the data directory."""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .catalog import Catalog
from .errors import LibraryError, ModelMismatchError
from .vectors import VectorIndex

log = logging.getLogger(__name__)

DEFAULT_LIBRARY = "Photos"
_BAD_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


@dataclass(frozen=True)
class LibrarySummary:
    name: str
    folders: list[str]
    photos: int
    skipped: int
    model_id: str | None
    last_indexed: float | None


class Library:
    """A library's folder in the data directory. Cheap to make; opens nothing until asked."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite3"

    @property
    def index_path(self) -> Path:
        return self.root / "index.faiss"

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    def open_catalog(self) -> Catalog:
        """A new connection for the calling thread."""
        return Catalog(self.catalog_path)

    def load_vectors(self, catalog: Catalog, save: bool = True) -> VectorIndex:
        """The vector index, from its file when that matches the catalog, else rebuilt from the catalog."""
        dim = catalog.dim
        if dim is None:
            return VectorIndex(1)
        generation = catalog.generation
        if self.index_path.exists():
            try:
                index, saved = VectorIndex.load(self.index_path, dim)
                if saved == generation and len(index) == catalog.count():
                    return index
                log.info("vector index %s is stale (generation %d, catalog %d): rebuilding",
                         self.index_path, saved, generation)
            except (OSError, ValueError) as e:
                log.warning("vector index %s unreadable (%s): rebuilding from the catalog", self.index_path, e)
        ids, vecs = catalog.embeddings()
        index = VectorIndex(dim)
        index.add(ids, vecs)
        if save:
            self.save_vectors(index, generation)
        return index

    def save_vectors(self, index: VectorIndex, generation: int) -> None:
        try:
            index.save(self.index_path, generation)
        except OSError as e:  # a cache: failing to write it costs a rebuild next time, nothing more
            log.warning("could not save vector index %s: %s", self.index_path, e)

    def summary(self) -> LibrarySummary:
        with self.open_catalog() as c:
            return LibrarySummary(self.name, c.folders(), c.count(), c.count("skipped"), c.model_id,
                                  c.last_indexed())


class LibraryStore:
    """All libraries under one data directory; listed, created, renamed and removed by name."""

    def __init__(self, data_dir: Path):
        self.root = data_dir / "libraries"
        self.root.mkdir(parents=True, exist_ok=True)

    def names(self) -> list[str]:
        return sorted((p.name for p in self.root.iterdir() if (p / "catalog.sqlite3").exists()), key=str.lower)

    def exists(self, name: str) -> bool:
        return (self.root / name / "catalog.sqlite3").exists() if _valid(name) else False

    def get(self, name: str) -> Library:
        if not self.exists(name):
            known = ", ".join(self.names()) or "none yet"
            raise LibraryError(f"There is no library named {name!r} (libraries: {known}).")
        return Library(self.root / name)

    def create(self, name: str) -> Library:
        _check_name(name)
        if self.exists(name):
            raise LibraryError(f"A library named {name!r} already exists.")
        lib = Library(self.root / name)
        lib.root.mkdir(parents=True, exist_ok=True)
        lib.open_catalog().close()
        return lib

    def get_or_create(self, name: str) -> Library:
        return self.get(name) if self.exists(name) else self.create(name)

    def rename(self, old: str, new: str) -> Library:
        lib = self.get(old)
        _check_name(new)
        if self.exists(new) or (self.root / new).exists():
            raise LibraryError(f"A library named {new!r} already exists.")
        lib.root.rename(self.root / new)
        return Library(self.root / new)

    def remove(self, name: str) -> None:
        """Delete the library's own files (catalog, index, thumbnails). The photos are never touched."""
        lib = self.get(name)
        shutil.rmtree(lib.root)


def _valid(name: str) -> bool:
    return bool(name.strip()) and not _BAD_NAME.search(name) and not name.startswith(".") and len(name) <= 100


def _check_name(name: str) -> None:
    if not _valid(name):
        raise LibraryError(
            f"{name!r} can't be a library name: use 1-100 characters, no slashes or :*?\"<>|, not starting with '.'.")


def check_model(catalog: Catalog, model_id: str, library: str = "") -> None:
    """Refuse to mix vectors of two models in one library."""
    bound = catalog.model_id
    if bound is not None and bound != model_id:
        raise ModelMismatchError(
            f"The library {library!r} was indexed with the model {bound!r}, not {model_id!r}. Search it with "
            "that model, or re-index it with the new one (photofinder index --rebuild, or Settings in the app).")
