"""Process-wide settings for a fast, well-behaved model on a CPU: made once, explicitly, by the CLI and the app.

Nothing here happens at import time: a library that imports photofinder's core keeps its process as it was.
"""

from __future__ import annotations

import logging
import os
import sys

log = logging.getLogger(__name__)

_DONE = False


def tune_process() -> None:
    """Call once at start-up, before torch or faiss are imported. Safe to call again."""
    global _DONE
    if _DONE:
        return
    _DONE = True
    # Idle OpenMP threads sleep instead of spinning: on a small CPU the decode threads need those cycles, and
    # the model loses nothing measurable (bench/indexing.py). Read by libgomp when torch loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    no_telemetry()
    if sys.platform == "darwin":
        # faiss-cpu and torch wheels each bundle their own libomp; loading both aborts the process with
        # "OMP: Error #15" unless the runtime is told that a second copy is expected.
        os.environ.setdefault("KMP_DUPLICATE_LIB_OK", "TRUE")
    keep_freed_memory()


def no_telemetry() -> None:
    """Nothing leaves the machine: the libraries' own telemetry is off before any of them is imported.

    ONNX Runtime's 1DS telemetry (a device id and an event queue under ~/.cache/Microsoft) is off only when
    ORT_DISABLE_TELEMETRY is set before onnxruntime loads; huggingface_hub's honours HF_HUB_DISABLE_TELEMETRY
    (and DO_NOT_TRACK). A hub download (a model named by its hub id, not yet in the
    cache) is then the only connection photofinder makes.
    """
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("DO_NOT_TRACK", "1")


def keep_freed_memory() -> bool:
    """Let glibc keep freed memory for reuse instead of handing it back to the kernel after every tensor.

    torch's CPU allocator mallocs and frees each activation (up to 20 MB at batch 32); with glibc's default
    thresholds every one of them is fresh memory from the kernel, zero-filled page by page: 7,000 page faults
    and 10 ms of kernel time per image, 11 % of the model's CPU. Served from the heap instead, the model alone
    runs 15 % faster (bench/indexing.py, 2 cores). The process keeps up to 256 MB of freed memory around.
    glibc only (elsewhere nothing happens).
    """
    import ctypes

    try:  # glibc says so itself, also inside a frozen app (platform.libc_ver reads the executable)
        glibc = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        glibc = ""
    if not glibc.startswith("glibc"):
        return False
    try:
        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 32 << 20) == 1  # glibc's largest: bigger blocks are still mmapped
        ok = libc.mallopt(m_trim_threshold, 256 << 20) == 1 and ok
    except (OSError, AttributeError) as e:
        log.debug("malloc thresholds unchanged: %s", e)
        return False
    return ok
