"""A child process for the fault tests: indexes one library and says what it is doing, line by line.

usage: index_child.py LIBRARY MODEL BATCH [slow-save]
Prints "E n" after each model call (images encoded so far), "P done/total" for progress, "SAVING" when the
vector index save starts (with slow-save it then stalls half-written, so the parent can kill it there), and
"DONE json" at the end.
"""

from __future__ import annotations

import json
import sys
import time

from photofinder.core import vectors
from photofinder.core.embedder import ClipEmbedder
from photofinder.core.indexer import Indexer
from photofinder.core.library import LibraryStore
from photofinder.core.paths import data_dir
from photofinder.core.tuning import tune_process


def main() -> None:
    tune_process()
    name, model, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    slow_save = "slow-save" in sys.argv[4:]
    lib = LibraryStore(data_dir()).get(name)
    embedder = ClipEmbedder(model, device="cpu")
    encoded = [0]
    real_encode = embedder.encode_pixels

    def encode(pixels):
        out = real_encode(pixels)
        encoded[0] += len(pixels)
        print(f"E {encoded[0]}", flush=True)
        return out

    embedder.encode_pixels = encode  # type: ignore[method-assign]
    real_save = vectors.VectorIndex.save

    def save(self, path, generation, owner):
        if slow_save:
            tmp = path.with_name(path.name + ".999.tmp")
            tmp.write_bytes(b"half of an index file")  # what a kill during the write leaves behind
            print("SAVING", flush=True)
            time.sleep(60)
        print("SAVING", flush=True)
        return real_save(self, path, generation, owner)

    vectors.VectorIndex.save = save  # type: ignore[method-assign]
    report = Indexer(lib, embedder, batch_size=batch, torch_threads=1).run(
        lambda p: print(f"P {p.phase} {p.done}/{p.total}", flush=True) if p.phase == "indexing" else None
    )
    print("DONE " + json.dumps(report.as_json()), flush=True)


if __name__ == "__main__":
    main()
