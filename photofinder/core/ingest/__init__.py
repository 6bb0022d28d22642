"""Photos in: scan folders, plan what changed, decode (RAW in helper processes), thumbnails, the indexer and the folder watcher, and the words-and-places pass."""
