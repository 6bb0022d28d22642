"""Libraries: named sets of photo folders, each with its own catalog and vector index in the data directory.

A library's folder is private to the user (0700, files 0600). Beside the catalog, `library.json` records its
folders and model, so a damaged catalog never loses the user's list of folders. One writer at a time holds the
library's lock file (`index.lock`); readers (search) never need it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from photofinder.core.errors import LibraryError, ModelMismatchError
from photofinder.core.paths import make_private_dir
from photofinder.core.photos.thumbnails import thumb_path
from photofinder.core.store.catalog import Catalog
from photofinder.core.store.library_vectors import VectorFile
from photofinder.core.store.locks import FileLock

log = logging.getLogger(__name__)

DEFAULT_LIBRARY = "Photos"
_BAD_CHARS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
# Names Windows reserves for devices, with or without an extension ("CON", "nul.txt", "COM1").
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)
_MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; keep room for suffixes such as ".damaged-..."


@dataclass(frozen=True)
class LibrarySummary:
    name: str
    folders: list[str]
    photos: int
    skipped: int
    model_id: str | None
    last_indexed: float | None


class Library(VectorFile):
    """A library's folder in the data directory. Cheap to make; opens nothing until asked.

    `staged=True` is the same library seen through its staging area: the catalog's staging table and a vector
    index file of its own, filled by a rebuild with another model until it completes.
    """

    def __init__(self, root: Path, staged: bool = False):
        self.root = root
        self.staged = staged

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def catalog_path(self) -> Path:
        return self.root / "catalog.sqlite3"

    @property
    def thumbs_dir(self) -> Path:
        return self.root / "thumbs"

    @property
    def info_path(self) -> Path:
        return self.root / "library.json"

    def staging(self) -> Library:
        return Library(self.root, staged=True)

    def open_catalog(self) -> Catalog:
        """A new connection for the calling thread."""
        return Catalog(self.catalog_path, staged=self.staged)

    def lock(self) -> FileLock:
        """The writer's lock: `with library.lock(): ...` or LibraryBusyError naming the process that has it."""
        return FileLock(self.root / "index.lock", f"library {self.name!r}")

    # -- upkeep -------------------------------------------------------------------------------------------
    def clean_leftovers(self) -> None:
        """Remove temp files a killed process left behind. Call with the lock held (no writer is running)."""
        for pattern in ("index*.faiss.*.tmp", "library.json.*.tmp"):
            for tmp in self.root.glob(pattern):
                tmp.unlink(missing_ok=True)
        if self.thumbs_dir.is_dir():
            for tmp in self.thumbs_dir.glob("*/*.tmp"):
                tmp.unlink(missing_ok=True)

    def drop_thumbnails(self, catalog: Catalog, hashes: list[str]) -> int:
        """Delete the thumbnails of content no photo has any more (deleted or edited photos)."""
        unused = set(hashes) - catalog.hashes_in_use(hashes)
        for h in unused:
            thumb_path(self.thumbs_dir, h).unlink(missing_ok=True)
        return len(unused)

    def remove_folder(self, folder: str) -> int:
        """Forget a folder's photos (catalog, vector index, thumbnails); returns how many. Photos are not touched."""
        with self.lock(), self.open_catalog() as catalog:
            index = self.load_vectors(catalog, save=False)
            hashes = [h for _, (_, h) in catalog.photos(_folder_ids(catalog, folder)).items() if h]
            ids = catalog.remove_folder(folder)
            index.remove(np.array(ids, np.int64))
            self.save_vectors(index, catalog)
            self.drop_thumbnails(catalog, hashes)
            self.write_info(catalog)
        return len(ids)

    # -- library.json: what is needed to rebuild the library if its catalog is lost -----------------------
    def write_info(self, catalog: Catalog, model: str | None = None) -> None:
        """Record the folders and the model (`model`: the one chosen before anything is indexed with it)."""
        info = {
            "folders": catalog.folders(),
            "model": catalog.model_id or model or self.read_info().get("model"),
            "model_fingerprint": catalog.model_fingerprint,
        }
        try:
            tmp = self.info_path.with_name(f"library.json.{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # private: it lists the folders
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(json.dumps(info, indent=1))  # surrogates escaped as \udcXX
            os.replace(tmp, self.info_path)
        except OSError as e:  # a backup of what the catalog holds: the next write tries again
            log.info("could not write %s: %s", self.info_path, e)

    def model_ref(self, catalog: Catalog) -> str | None:
        """The model the library was indexed with, even when its catalog lost the record (repair, lost -wal)."""
        return catalog.model_id or catalog.get_meta("repaired_model") or self.read_info().get("model") or None

    def read_info(self) -> dict[str, Any]:
        try:
            info = json.loads(self.info_path.read_text(encoding="utf-8"))
            return info if isinstance(info, dict) else {}
        except (OSError, ValueError):
            return {}

    def damage(self) -> str | None:
        """Why the catalog can't be used (missing, empty, not a catalog, failing SQLite's check), or None when
        it is sound. Other failures (busy, written by a newer version) raise: repairing would not help."""
        from photofinder.core.errors import CatalogDamagedError

        try:
            with self.open_catalog() as catalog:
                rows = catalog._all("PRAGMA quick_check")
        except CatalogDamagedError as e:
            return str(e)
        problems = [str(r[0]) for r in rows if r and r[0] != "ok"]
        return f"SQLite's check failed: {problems[0]}" if problems else None

    def repair(self) -> Path | None:
        """Set a damaged catalog aside (never deleted) and start a new one with the library's folders and model.

        Returns where the damaged file went. Vectors that can still be read from it are carried over.
        """
        with self.lock():
            info = self.read_info()
            aside = None
            if self.catalog_path.exists():
                stamp = time.strftime("%Y%m%d-%H%M%S")
                aside = self.catalog_path.with_name(f"catalog.sqlite3.damaged-{stamp}")
                for suffix in ("", "-wal", "-shm"):
                    src = Path(str(self.catalog_path) + suffix)
                    if src.exists():
                        os.replace(src, Path(str(aside) + suffix))
            for f in (self.index_path, self.staging().index_path):
                f.unlink(missing_ok=True)
            with Catalog(self.catalog_path, create=True) as catalog:
                for folder in info.get("folders", []):
                    catalog.add_folder(folder)
                if info.get("model"):
                    catalog.set_meta("repaired_model", info["model"])
                self.write_info(catalog)
        return aside

    def restore_lost_folders(self, catalog: Catalog) -> list[str]:
        """Folders library.json knows and the catalog lost (a -wal file lost before a crash): added back."""
        lost = [f for f in self.read_info().get("folders", []) if f not in set(catalog.folders())]
        for f in lost:
            catalog.add_folder(f)
        if lost:
            log.warning(
                "library %s: its catalog had lost %d folder(s); restored from %s",
                self.name,
                len(lost),
                self.info_path,
            )
        return lost

    def summary(self) -> LibrarySummary:
        with self.open_catalog() as c:
            self.restore_lost_folders(c)
            return LibrarySummary(
                self.name, c.folders(), c.count(), c.count("skipped"), c.model_id, c.last_indexed()
            )


def _folder_ids(catalog: Catalog, folder: str) -> list[int]:
    return [k[3] for k in catalog.file_stamps(folder).values()]


class LibraryStore:
    """All libraries under one data directory; listed, created, renamed and removed by name."""

    def __init__(self, data_dir: Path):
        self.root = data_dir / "libraries"
        try:
            make_private_dir(data_dir)
            make_private_dir(self.root)
        except OSError as e:
            raise LibraryError(
                f"The data folder {data_dir} can't be used ({e.strerror or e}). Check that it "
                "exists and is writable, or set PHOTOFINDER_DATA_DIR to another folder."
            ) from e

    def names(self) -> list[str]:
        try:
            entries = list(self.root.iterdir())
        except OSError as e:
            raise LibraryError(f"The data folder {self.root} can't be read ({e.strerror or e}).") from e
        return sorted((p.name for p in entries if _is_library(p)), key=str.lower)

    def exists(self, name: str) -> bool:
        return _is_library(self.root / name) if _valid(name) else False

    def get(self, name: str) -> Library:
        if not self.exists(name):
            known = ", ".join(self.names()) or "none yet"
            raise LibraryError(f"There is no library named {name!r} (libraries: {known}).")
        return Library(self.root / name)

    def create(self, name: str) -> Library:
        return self._create(name, exist_ok=False)[0]

    def get_or_create(self, name: str) -> Library:
        return self._create(name, exist_ok=True)[0]

    def ensure(self, name: str) -> tuple[Library, bool]:
        """(the library, whether this call created it); safe when another process creates it at the same time."""
        return self._create(name, exist_ok=True)

    def _create(self, name: str, exist_ok: bool) -> tuple[Library, bool]:
        _check_name(name)
        # The common case needs no lock (and works on a read-only disk). library.json is written last, once the
        # catalog is complete: a library another process is creating right now is waited for below.
        if exist_ok and (self.root / name / "library.json").exists() and self.exists(name):
            return Library(self.root / name), False
        # Two processes creating the same library must not both build its schema.
        with FileLock(self.root / ".create.lock", "list of libraries").acquire(wait=30):
            if self.exists(name):
                if exist_ok:
                    return Library(self.root / name), False
                raise LibraryError(f"A library named {name!r} already exists.")
            lib = Library(self.root / name)
            try:
                make_private_dir(lib.root)
            except OSError as e:
                raise LibraryError(
                    f"The library {name!r} can't be created in {self.root} "
                    f"({e.strerror or e}). Check that the data folder is writable."
                ) from e
            with Catalog(lib.catalog_path, create=True) as c:
                lib.write_info(c)
        return lib, True

    def rename(self, old: str, new: str) -> Library:
        lib = self.get(old)
        _check_name(new)
        if self.exists(new) or (self.root / new).exists():
            raise LibraryError(f"A library named {new!r} already exists.")
        with lib.lock():
            lib.root.rename(self.root / new)
        return Library(self.root / new)

    def remove(self, name: str, only_if_empty: bool = False) -> bool:
        """Delete the library's own files (catalog, index, thumbnails). The photos are never touched.

        `only_if_empty`: only while nothing was ever indexed in it (undoing a first run that failed).
        """
        lib = self.get(name)
        with lib.lock():
            if only_if_empty:
                with lib.open_catalog() as c:
                    if c.model_id is not None or c.count() or c.count("skipped"):
                        return False
            shutil.rmtree(lib.root)
        return True


def _is_library(folder: Path) -> bool:
    return (folder / "catalog.sqlite3").exists() or (folder / "library.json").exists()


def _valid(name: str) -> bool:
    return not name_problem(name)


def name_problem(name: str) -> str | None:
    """Why `name` can't name a library on every platform, or None."""
    if not name.strip():
        return "it is empty"
    if name != name.strip() or name.endswith("."):
        return "it starts or ends with a space or ends with a dot"
    if name.startswith("."):
        return "it starts with '.'"
    if _BAD_CHARS.search(name):
        return 'it contains one of \\ / : * ? " < > | or a control character'
    if _WINDOWS_RESERVED.match(name):
        return "Windows reserves it for a device"
    if len(name) > 100 or len(unicodedata.normalize("NFC", name).encode("utf-8")) > _MAX_NAME_BYTES:
        return "it is too long"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "it is not valid text"
    return None


def _check_name(name: str) -> None:
    problem = name_problem(name)
    if problem:
        raise LibraryError(
            f"{name!r} can't be a library name: {problem}. Use up to 100 characters, no "
            "slashes or :*?\"<>|, not starting with '.'."
        )


def check_model(catalog: Catalog, embedder: Any, library: str = "") -> None:
    """Refuse to mix vectors of two models in one library.

    A model is recognised by what it is (its fingerprint: config and weights), not by where it lies: a model
    folder that moved is the same model, and the library remembers the new place. Libraries from before
    fingerprints are matched by name once, then get one.
    """
    bound_fp = catalog.model_fingerprint
    bound_id = catalog.model_id
    if bound_id is None and bound_fp is None:
        return
    fingerprint = getattr(embedder, "fingerprint", None)
    if bound_fp is not None and fingerprint is not None:
        if fingerprint == bound_fp:
            if embedder.model_id != bound_id:
                catalog.remember_model_location(embedder.model_id, fingerprint)
            return
    elif bound_id == embedder.model_id:
        if fingerprint is not None:
            catalog.remember_model_location(embedder.model_id, fingerprint)
        return
    raise ModelMismatchError(
        f"The library {library!r} was indexed with the model {bound_id!r}, not {embedder.model_id!r}. Search it "
        "with that model, or re-index it with the new one (photofinder index --rebuild --model ..., or Settings "
        "in the app)."
    )
