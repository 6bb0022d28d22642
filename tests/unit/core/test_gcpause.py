"""The collector held off while a worker builds many small objects, and back on after (issue 18's stalls)."""

from __future__ import annotations

import gc
import threading

from photofinder.core.gcpause import collector_paused


def test_pauses_nest_across_threads_and_the_collector_comes_back():
    assert gc.isenabled()
    inside = threading.Event()
    release = threading.Event()

    def worker():
        with collector_paused():
            inside.set()
            release.wait(5)

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the worker's pause still holds
    release.set()
    t.join(5)
    assert gc.isenabled()


def test_what_is_kept_is_never_walked_again():
    """A tokenizer's vocabulary lives as long as the app: frozen, the collector's full passes skip it."""
    before = gc.get_freeze_count()
    try:
        with collector_paused(keep=True):
            vocab = {f"token{i}": [i] for i in range(10_000)}
        assert gc.get_freeze_count() >= before + len(vocab)
        assert gc.isenabled()
    finally:
        gc.unfreeze()
