"""A child process for the fault tests: indexes one library and says what it is doing, line by line.

usage: index_child.py LIBRARY MODEL BATCH [slow-save]
Prints "E n" after each model call (images encoded so far), "P done/total" for progress, and "DONE json" at
the end. With slow-save the real vector index save stalls after writing its first block to its temporary
file and prints "SAVING", so the parent can kill it inside the save.
"""

from __future__ import annotations

import json
import sys
import time

from photofinder.core.encode.runtime import tune_process
from photofinder.core.encode.torch_encoder import ClipEmbedder
from photofinder.core.ingest.indexer import Indexer
from photofinder.core.paths import data_dir
from photofinder.core.store import vector_index as vectors
from photofinder.core.store.library import LibraryStore


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
    if slow_save:
        # The real save runs; once it has written its first block to its temporary file it stalls there, so
        # the parent's kill -9 lands inside the real write (the half-written file is the save's own).
        real_writer = vectors.faiss.PyCallbackIOWriter

        def stalling_writer(write, block):
            def first_block_then_stall(chunk):
                n = write(chunk)
                print("SAVING", flush=True)
                time.sleep(60)
                return n

            return real_writer(first_block_then_stall, block)

        vectors.faiss.PyCallbackIOWriter = stalling_writer

    report = Indexer(lib, embedder, batch_size=batch, torch_threads=1).run(
        lambda p: print(f"P {p.phase} {p.done}/{p.total}", flush=True) if p.phase == "indexing" else None
    )
    print("DONE " + json.dumps(report.as_json()), flush=True)


if __name__ == "__main__":
    main()
