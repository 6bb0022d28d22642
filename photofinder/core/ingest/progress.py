"""What an ingest run tells its caller as it goes and when it ends, and how the caller asks it to stop.

The indexer and the words pass share these; the CLI prints them, the GUI shows them (a worker emits each
Progress as a plain event).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from photofinder.core.ingest.planner import SkippedFile


class CancelToken:
    """Set from any thread; the indexer stops at the next photo."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True)
class Progress:
    phase: str  # "scanning", "indexing" or "done"
    done: int
    total: int
    rate: float  # photos per second
    eta: float | None  # seconds
    current: str  # the photo last finished


@dataclass
class IndexReport:
    indexed: int = 0  # encoded by the model this run
    reused: int = 0  # renamed, copied, duplicate or touched files whose stored vector was reused
    unchanged: int = 0
    removed: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    missing_folders: list[SkippedFile] = field(default_factory=list)
    cancelled: bool = False
    rebuilt: bool = False  # a rebuild completed and the library now uses the new model
    seconds: float = 0.0

    def as_json(self) -> dict:
        from photofinder.core.paths import display_path

        return {
            "indexed": self.indexed,
            "reused": self.reused,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"path": display_path(s.path), "reason": s.reason} for s in self.skipped],
            "missing_folders": [
                {"path": display_path(s.path), "reason": s.reason} for s in self.missing_folders
            ],
            "cancelled": self.cancelled,
            "rebuilt": self.rebuilt,
            "seconds": round(self.seconds, 2),
        }


ProgressCallback = Callable[[Progress], None]
