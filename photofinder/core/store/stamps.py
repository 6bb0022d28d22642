"""What a rescan compares the disk with: {path as stored: (size, mtime_ns, retry, id)}, in 256 small dicts.

At a million photos one dict was the window's longest stall (55-130 ms): growing a dict of a million entries
rehashes all of them, and freeing it drops each, in one C call that holds the interpreter lock however busy the
window's thread is. A shard holds ~4k entries, so each of those steps is 256 times shorter; a lookup costs one
extra hash of the path (measured on 1M synthetic stamps: worst stall of a ticking thread 56 -> 15 ms, the build
0.65 -> 1.0 s on a worker).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

Stamp = tuple[int, int, int, int]  # size, mtime_ns, retry (1: index it again), catalog id

_SHARDS = 256


class Stamps:
    def __init__(self, rows: Iterable[tuple[bytes, int, int, int, int]] = ()) -> None:
        self._shards: list[dict[bytes, Stamp]] = [{} for _ in range(_SHARDS)]
        shards = self._shards
        for r in rows:
            k = r[0]
            shards[hash(k) & (_SHARDS - 1)][k] = r[1:]

    def pop(self, path: bytes, default: Stamp | None = None) -> Stamp | None:
        return self._shards[hash(path) & (_SHARDS - 1)].pop(path, default)

    def __len__(self) -> int:
        return sum(len(s) for s in self._shards)

    def __iter__(self) -> Iterator[bytes]:
        for s in self._shards:
            yield from s

    def items(self) -> Iterator[tuple[bytes, Stamp]]:
        for s in self._shards:
            yield from s.items()

    def values(self) -> Iterator[Stamp]:
        for s in self._shards:
            yield from s.values()
