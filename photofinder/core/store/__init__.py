"""The library on disk: the SQLite catalog (schema, photos, facets, words and places), the vector index that is a rebuildable cache of it, locks, and where files live."""
