"""Rebuilding with another model: a staging table filled beside the live photos, then swapped in at once."""

from __future__ import annotations

from photofinder.core.errors import LibraryError
from photofinder.core.store import facet_counts as _facets
from photofinder.core.store import words as _words
from photofinder.core.store.catalog.connection import CatalogConnection
from photofinder.core.store.catalog.schema import COLUMN_NAMES, statements

# A rebuild's own records, all but the counters that must only ever grow (readers compare against them).
_DROP_STAGED_META = (
    "DELETE FROM meta WHERE key LIKE 'staged\\_%' ESCAPE '\\' "
    "AND key NOT IN ('staged_generation', 'staged_log_floor')"
)


class Rebuild(CatalogConnection):
    """Clearing the staged photos, and switching a completed rebuild in (Catalog.staging() opens the stage)."""

    def clear_staged(self) -> None:
        with self._transaction():
            self._exec("DELETE FROM staged")
            self._exec(_DROP_STAGED_META)
            self._restart_log("staged_")

    def finish_rebuild(self) -> int:
        """Swap the staged photos in for the live ones, in one transaction; returns the new generation."""
        assert not self.staged
        with self._transaction():
            staged_model = self.get_meta("staged_model_id")
            if staged_model is None:
                raise LibraryError("There is no completed rebuild to switch to.")
            # The staged facets become the live ones as they are: their triggers would compute the keys of every
            # row three times over (out, in, out of staging), minutes at a million photos. DDL is transactional.
            for statement in statements(
                _facets.drop_triggers("photos")
                + _facets.drop_triggers("staged")
                + _words.drop_place_triggers("photos")
                + _words.drop_place_triggers("staged")
                + _words.DROP_FORGET_TRIGGERS
            ):
                self._exec(statement)
            self._exec("DELETE FROM photos")
            self._exec(f"INSERT INTO photos ({COLUMN_NAMES}) SELECT {COLUMN_NAMES} FROM staged")
            self._exec("DELETE FROM staged")
            self._exec("DELETE FROM facet_counts WHERE tbl = 'photos'")
            self._exec("UPDATE facet_counts SET tbl = 'photos' WHERE tbl = 'staged'")
            for statement in statements(
                _facets.triggers("photos")
                + _facets.triggers("staged")
                + _words.place_triggers("photos")
                + _words.place_triggers("staged")
                + _words.FORGET_TRIGGERS
            ):
                self._exec(statement)
            self._restart_log("")
            self._restart_log("staged_")
            for key in ("model_id", "dim", "model_fingerprint", "text_cosine", "text_queries"):
                value = self.get_meta("staged_" + key)
                if value is None:
                    self._exec("DELETE FROM meta WHERE key = ?", (key,))
                else:
                    self.set_meta(key, value)
            self._exec(_DROP_STAGED_META)
            self._exec("DELETE FROM meta WHERE key = 'legacy_hashes'")
        return self.generation
