"""The vector index's file: a header naming the catalog it was built from, then the FAISS data.

Header: magic, catalog generation, vector count, CRC-32 of the FAISS data, the owning catalog's uuid, the
library size the index was trained at (0: flat), and (version 4) the tuned nprobe (0: not tuned). It is written
atomically and checked whole before it is used (VectorIndex.save and VectorIndex.load wrap these).
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from pathlib import Path

import faiss
import numpy as np

_MAGIC = b"PFVIDX4\0"
_FIELDS = struct.Struct("<qqI32sqq")
_HEADER = len(_MAGIC) + _FIELDS.size
_OLD_MAGIC = b"PFVIDX3\0"  # read as before, with the old fixed nprobe (tuned at its next retrain)
_OLD_FIELDS = struct.Struct("<qqI32sq")
_IO_BLOCK = 1 << 22


def write_index_file(
    path: Path, index: faiss.Index, generation: int, owner: str, trained_size: int, tuned: int
) -> None:
    """Write atomically: a temp file beside the target, fsync, rename. A crash leaves the old file or none.

    The header names the catalog (its uuid) and the generation it was built from, and carries a checksum
    of the data, so a file can never be taken for another library's, for a newer catalog state, or be
    used after bytes in it were damaged. The data is streamed (no second copy of a 0.5 GB index in memory).
    """
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(b"\0" * _HEADER)
            crc = 0

            def write(chunk: bytes) -> int:
                nonlocal crc
                crc = zlib.crc32(chunk, crc)
                f.write(chunk)
                return len(chunk)

            faiss.write_index(index, faiss.PyCallbackIOWriter(write, _IO_BLOCK))
            f.seek(0)
            f.write(
                _MAGIC
                + _FIELDS.pack(generation, int(index.ntotal), crc, owner.encode()[:32], trained_size, tuned)
            )
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_header(path: Path) -> tuple[int, int, int, str, int, int, int]:
    """(generation, vector count, crc, owner, trained size, tuned nprobe, header length) of a saved file,
    reading its header alone."""
    with open(path, "rb") as f:
        raw = f.read(_HEADER)
    magic = raw[: len(_MAGIC)]
    if magic == _MAGIC and len(raw) >= _HEADER:
        generation, ntotal, crc, who, trained, tuned = _FIELDS.unpack(raw[len(_MAGIC) : _HEADER])
        size = _HEADER
    elif magic == _OLD_MAGIC and len(raw) >= len(_OLD_MAGIC) + _OLD_FIELDS.size:
        size = len(_OLD_MAGIC) + _OLD_FIELDS.size
        generation, ntotal, crc, who, trained = _OLD_FIELDS.unpack(raw[len(_MAGIC) : size])
        tuned = 0
    else:
        raise ValueError("not a photofinder index file (or one from an older version)")
    return generation, ntotal, crc, who.rstrip(b"\0").decode(errors="replace"), trained, tuned, size


def read_index_file(path: Path, dim: int, owner: str) -> tuple[faiss.Index, int, int, int]:
    """(FAISS index, catalog generation, trained size, tuned nprobe) from a saved file; ValueError when damaged,
    foreign or of another size."""
    generation, ntotal, crc, who, trained, tuned, header = read_header(path)
    if who != owner:
        raise ValueError("it belongs to another library")
    with open(path, "rb") as f:
        f.seek(header)
        if trained == 0:  # flat: small, read whole
            data = np.frombuffer(f.read(), dtype=np.uint8)
            if zlib.crc32(data) != crc:
                raise ValueError("its checksum does not match (damaged bytes)")
            reader = None
        else:  # IVF: checked in a first pass, then streamed into FAISS (no second copy of 0.5 GB)
            got = 0
            while block := f.read(_IO_BLOCK):
                got = zlib.crc32(block, got)
            if got != crc:
                raise ValueError("its checksum does not match (damaged bytes)")
            f.seek(header)
            reader = faiss.PyCallbackIOReader(f.read, _IO_BLOCK)
        try:
            index = faiss.deserialize_index(data) if reader is None else faiss.read_index(reader)
        except RuntimeError as e:
            raise ValueError(f"corrupt index file: {str(e).splitlines()[0][:120]}") from e
    if index.d != dim:
        raise ValueError(f"index has dimension {index.d}, the library {dim}")
    if index.ntotal != ntotal:
        raise ValueError(f"it holds {index.ntotal} vectors, its header says {ntotal}")
    return index, generation, trained, tuned
