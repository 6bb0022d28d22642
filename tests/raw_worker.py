"""A RAW decoder worker for the tests: the real one, except that it crashes (SIGSEGV, as a LibRaw bug would)
on a file whose name contains "crash", and LibRaw hands back a 1-channel bitmap for a file whose name
contains "mono" (what some malformed DNGs give)."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from photofinder.core.photos import decode, rawworker

real_here, real_raw = decode.decode_raw_here, decode._decode_raw


def one_channel_bitmap(f, min_side):
    import numpy as np
    from PIL import Image

    return Image.fromarray(np.zeros((48, 64, 1), np.uint8))  # LibRaw's 1-channel bitmap: TypeError


def faulty(path: str, min_side: int):
    name = os.path.basename(path)
    if "crash" in name:
        os.kill(os.getpid(), signal.SIGSEGV)
    decode._decode_raw = one_channel_bitmap if "mono" in name else real_raw
    return real_here(path, min_side)


decode.decode_raw_here = faulty
rawworker.main()
