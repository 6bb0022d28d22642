"""RAW files are decoded in helper processes: LibRaw is C, and a crash in it costs that one file, not the run.

A few long-lived workers (`python -m photofinder.core.photos.rawworker`), started on the first RAW file and reused,
each decode one file at a time: the parent sends the path, the worker answers with the small decoded image
(or a reason). The messages are length-prefixed bytes and JSON, never pickle. A worker that dies mid-file
(a segfault in LibRaw, killed for memory) is replaced, and that file alone is skipped with a reason. Workers
read their requests from a pipe, so they end with the process that started them.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

MAX_WORKERS = 2  # RAW files decoding at once (each worker holds one file's decode, ~100 MB at most)
CRASHED = "the RAW decoder crashed on this file"
_HEAD = struct.Struct(">I")


def worker_command() -> list[str]:
    """How a worker is started (tests replace it with one that crashes on purpose)."""
    return [sys.executable, "-m", "photofinder.core.photos.rawworker"]


class _Worker:
    def __init__(self) -> None:
        env = os.environ.copy()
        root = str(Path(__file__).resolve().parents[3])  # photofinder importable however the parent found it
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
        self.proc = subprocess.Popen(
            worker_command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            close_fds=True,
        )

    def decode(self, path: str, min_side: int) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        _send(self.proc.stdin, json.dumps({"min_side": min_side}).encode(), os.fsencode(path))
        head, pixels = _receive(self.proc.stdout)
        answer = json.loads(head)
        answer["pixels"] = pixels
        return answer

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()  # the worker ends at the end of its input
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()


class RawDecoders:
    """The pool of RAW workers: `decode(path, min_side)` from any thread."""

    def __init__(self, workers: int = MAX_WORKERS) -> None:
        self._slots = threading.BoundedSemaphore(workers)
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []

    def decode(self, path: str, min_side: int) -> Any:
        from photofinder.core.photos.formats import DecodedImage, UnreadableImage

        with self._slots:
            with self._lock:
                worker = self._idle.pop() if self._idle else None
            if worker is None:
                try:
                    worker = _Worker()
                except OSError as e:
                    raise UnreadableImage(f"a RAW file (the RAW decoder could not start: {e})") from e
            try:
                answer = worker.decode(path, min_side)
            except (OSError, EOFError, ValueError) as e:  # it died mid-file: this file alone is lost
                worker.kill()
                code = worker.proc.returncode
                log.warning("RAW decoder crashed on %s (exit %s): skipped", path, code)
                raise UnreadableImage(CRASHED) from e
            with self._lock:
                self._idle.append(worker)
        if answer.get("reason") is not None:
            raise UnreadableImage(str(answer["reason"]))
        from PIL import Image

        image = Image.frombytes("RGB", (answer["w"], answer["h"]), answer["pixels"])
        return DecodedImage(image, answer["width"], answer["height"], answer.get("taken"))

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for w in idle:
            w.close()


_POOL: RawDecoders | None = None
_POOL_LOCK = threading.Lock()


def pool() -> RawDecoders:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            import atexit

            _POOL = RawDecoders()
            atexit.register(_POOL.close)
        return _POOL


# -- framing ----------------------------------------------------------------------------------------------
def _send(out: BinaryIO, head: bytes, body: bytes) -> None:
    out.write(_HEAD.pack(len(head)) + head + _HEAD.pack(len(body)) + body)
    out.flush()


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise EOFError("the other end closed")
    return data


def _receive(f: BinaryIO) -> tuple[bytes, bytes]:
    head = _read(f, _read_len(f))
    body = _read(f, _read_len(f))
    return head, body


def _read_len(f: BinaryIO) -> int:
    return int(_HEAD.unpack(_read(f, _HEAD.size))[0])
