"""The photofinder engine: scan, decode, embed, catalog, vector index, search. Imports no Qt."""
