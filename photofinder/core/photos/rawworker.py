"""One RAW decoder worker process (`python -m photofinder.core.photos.rawworker`): the other end of rawdecode's pipe."""

from __future__ import annotations

import json
import os
import sys
from typing import BinaryIO

from photofinder.core.photos.rawdecode import _receive, _send


# -- the worker -------------------------------------------------------------------------------------------
def serve(inp: BinaryIO, out: BinaryIO) -> None:
    """Answer decode requests until the input ends."""
    from photofinder.core.errors import first_line
    from photofinder.core.photos.decode import UnreadableImage, decode_raw_here

    while True:
        try:
            head, raw_path = _receive(inp)
        except EOFError:
            return
        path = os.fsdecode(raw_path)
        min_side = int(json.loads(head)["min_side"])
        try:
            d = decode_raw_here(path, min_side)
            img = d.image if d.image.mode == "RGB" else d.image.convert("RGB")
            answer = {"w": img.width, "h": img.height, "width": d.width, "height": d.height, "taken": d.taken}
            pixels = img.tobytes()
        except UnreadableImage as e:
            answer, pixels = {"reason": str(e)}, b""
        except Exception as e:  # noqa: BLE001 - whatever LibRaw or Pillow raise: this file's reason
            msg = first_line(e) or type(e).__name__
            answer, pixels = {"reason": f"unreadable RAW: {msg}"[:200]}, b""
        _send(out, json.dumps(answer).encode(), pixels)


def main() -> None:
    # The answers get a descriptor of their own; anything a library prints to stdout goes to stderr instead
    # (discarded), so it can never corrupt a message.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, out)


if __name__ == "__main__":
    main()
